"""--write_heatmaps DIR (OpenPose's flag): the network's maps, one .npy per image and per
inferred frame, named as OpenPose names them, equal to PoseEstimator.infer's."""
from __future__ import annotations

import cv2
import numpy as np

from pose.cli import image_main, video_main
from pose.core.errors import EXIT_USAGE
from pose.families.openpose.estimator import PoseEstimator
from pose.io.inputs import read_image
from tests.support.cli_tools import FAST, leftovers, make_image, make_video

QUIET = ("--no_render", "--no_json", "--quiet", *FAST)


def _estimator(coco):
    proto, weights = coco[1], coco[3]
    return PoseEstimator("COCO", proto=proto, weights=weights, net_resolution=FAST[1])


def test_image_tool_writes_each_images_maps(tmp_path, coco):
    images = [make_image(tmp_path / "in" / f"{name}.png", seed=k) for k, name in enumerate(("a", "b"))]
    maps = tmp_path / "maps"
    assert image_main(["--image_file", str(tmp_path / "in"), "--write_heatmaps", str(maps),
                       "--output_dir", str(tmp_path / "out"), *QUIET, *coco]) == 0
    assert sorted(p.name for p in maps.iterdir()) == ["a_pose_heatmaps.npy", "b_pose_heatmaps.npy"]
    est = _estimator(coco)
    for path in images:
        got = np.load(maps / f"{path.stem}_pose_heatmaps.npy")
        want = est.infer(read_image(path))[0].maps
        assert got.dtype == np.float32 and got.shape == want.shape == (1, 57, 96 // 8, want.shape[3])
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_video_tool_writes_every_inferred_frames_maps(tmp_path, coco):
    clip = make_video(tmp_path / "clip.mp4", frames=5)
    maps = tmp_path / "maps"
    assert video_main(["--video_file", str(clip), "--every", "2", "--write_heatmaps", str(maps),
                       "--output_dir", str(tmp_path / "out"), *QUIET, *coco]) == 0
    # --every 2: frames 0, 2 and 4 went through the network, the others reused their people
    assert sorted(p.name for p in maps.iterdir()) == [f"clip_{k:012d}_pose_heatmaps.npy" for k in (0, 2, 4)]
    capture = cv2.VideoCapture(str(clip))
    ok, first = capture.read()
    capture.release()
    assert ok
    got = np.load(maps / "clip_000000000000_pose_heatmaps.npy")
    want = _estimator(coco).infer(first)[0].maps
    assert got.dtype == np.float32 and got.shape == want.shape and got.shape[1] == 57
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert not leftovers(maps)


def test_other_families_refuse_it_in_one_line(tmp_path, capsys):
    image = make_image(tmp_path / "a.png")
    code = image_main(["--family", "rtmpose", "--image_file", str(image), "--write_heatmaps", str(tmp_path / "maps"),
                       "--output_dir", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_USAGE and "only OpenPose's networks output heatmaps" in err and "\n" not in err
    assert not (tmp_path / "maps").exists()


def test_a_batch_redone_with_heatmaps_or_without_pictures_is_not_skipped_as_done(tmp_path):
    """The batch's resume identity holds --write_heatmaps and --no_render (issue 24's class
    4: a rerun that asks for more must not be 'done before'), and stays what it was when
    neither is given, so older manifests keep resuming."""
    from pose.app.batch.manifest import run_identity
    from pose.cli import parse_args
    clip = tmp_path / "clip.mp4"
    plain = parse_args("video", ["--video_file", str(clip), "--recursive"])
    key = run_identity(plain)[0]
    assert "write_heatmaps" not in run_identity(plain)[2] and "render" not in run_identity(plain)[2]
    assert run_identity(parse_args("video", ["--video_file", str(clip), "--recursive", "--write_heatmaps",
                                             str(tmp_path / "maps")]))[0] != key
    assert run_identity(parse_args("video", ["--video_file", str(clip), "--recursive", "--no_render"]))[0] != key
