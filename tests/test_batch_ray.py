"""get_hpe_video.py --ray on a local Ray with 2 CPUs: the same outputs as a serial run,
the same manifest and resume. One Ray start for the module (it takes seconds)."""
import logging

import pytest

from pose.app.batch.manifest import MANIFEST_NAME
from pose.cli import video_main
from pose.families.openpose.spec import MODELS
from tests.support.cli_tools import FAST, make_video, model_args, photo_clip, read_jsonl
from tests.support.nets import write_model

ray = pytest.importorskip("ray", reason="Ray is optional: pip install -r requirements-ray.txt")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def tool(capsys):
    """video_main in this process (so it finds the Ray session above); the "pose" logger
    is put back as the tool found it."""
    logger = logging.getLogger("pose")
    saved = list(logger.handlers), logger.level, logger.propagate

    def run(*args):
        code = video_main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    yield run
    logger.handlers[:], logger.level, logger.propagate = saved


def _skips(stdout: str) -> int:
    return sum(line.startswith("skipped ") for line in stdout.splitlines())


def _keypoints(folder, mode: str = "COCO"):
    """{JSON Lines file name: each frame's people's pose keypoints} of a run's `mode` folder."""
    return {p.name: [[person["pose_keypoints_2d"] for person in frame["people"]] for frame in read_jsonl(p)]
            for p in sorted(folder.glob(f"*_{mode}.jsonl"))}


def test_ray_actors_write_what_a_serial_run_writes_and_resume_alike(tmp_path, model_dir, local_ray, tool):
    coco = [*model_args(*write_model(model_dir, MODELS["COCO"])), *FAST]
    clips = [make_video(tmp_path / f"clip{k}.mp4", frames=3 + 2 * k) for k in range(3)]
    code, out, err = tool("--video_file", *clips, "--output_dir", tmp_path / "serial", "--quiet", *coco)
    assert code == 0, err
    code, out, err = tool("--video_file", *clips, "--output_dir", tmp_path / "ray", "--ray", "--workers", 2, *coco)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "batch: 3 videos to run on 2 Ray actors, 1 CPU each"
    assert lines[-1].startswith("done: 3 of 3 videos processed; 15 frames, ")
    serial, distributed = _keypoints(tmp_path / "serial" / "videos" / "COCO"), _keypoints(tmp_path / "ray" / "videos" / "COCO")
    assert sorted(distributed) == ["clip0_COCO.jsonl", "clip1_COCO.jsonl", "clip2_COCO.jsonl"]
    assert distributed == serial  # keypoint for keypoint
    records = read_jsonl(tmp_path / "ray" / "videos" / "COCO" / MANIFEST_NAME)
    assert sorted((r["status"], r["frames"], len(r["outputs"])) for r in records) == [
        ("done", 3, 3), ("done", 5, 3), ("done", 7, 3)]
    assert {r["key"] for r in records} == {r["key"] for r in read_jsonl(tmp_path / "serial" / "videos" / "COCO" / MANIFEST_NAME)}

    # resumed on Ray, or locally, the work done on the other is kept
    code, out, err = tool("--video_file", *clips, "--output_dir", tmp_path / "serial", "--ray", *coco)
    assert code == 0 and _skips(out) == 3 and "0 of 3 videos processed, 3 skipped" in out


def test_more_actors_than_the_cluster_has_cpus_is_a_usage_error(tmp_path, model_dir, local_ray, tool):
    coco = [*model_args(*write_model(model_dir, MODELS["COCO"])), *FAST]
    clip = make_video(tmp_path / "clip.mp4", frames=2)
    code, out, err = tool("--video_file", clip, "--output_dir", tmp_path, "--ray", "--workers", 3, *coco)
    assert code == 2 and err.strip().splitlines()[-1] == (
        "get_hpe_video.py: error: --workers 3: the Ray cluster has 2 CPUs, so at most 2 actors can run")


def test_ray_actors_run_blazepose_as_a_serial_run_does(tmp_path, blazepose_models, local_ray, tool):
    """BlazePose's real weights on Ray actors: each actor makes its estimator from the
    options (the family's make_estimator, pickled), each video starts with the detector."""
    clips = [photo_clip(tmp_path / f"walk{k}.mp4", frames=3 + k) for k in range(2)]
    blaze = ["--model", "blazepose", "--model_dir", blazepose_models, "--quiet"]
    assert tool("--video_file", *clips, "--output_dir", tmp_path / "serial", *blaze)[0] == 0
    code, out, err = tool("--video_file", *clips, "--output_dir", tmp_path / "ray", "--ray", "--workers", 2, *blaze)
    assert code == 0, err

    serial = _keypoints(tmp_path / "serial" / "videos" / "BlazePose", "BlazePose")
    distributed = _keypoints(tmp_path / "ray" / "videos" / "BlazePose", "BlazePose")
    assert sorted(distributed) == ["walk0_BlazePose.jsonl", "walk1_BlazePose.jsonl"]
    assert distributed == serial and all(len(frame) == 1 for frames in serial.values() for frame in frames)


def test_ray_actors_run_rtmpose_as_local_workers_do(tmp_path, local_ray, tool):
    """The RTMPose family (two stages: a detector, then the pose network on each box) on Ray
    actors, with the oracle networks of tests/support/rtmpose_oracle.py in place of the
    published files: the same people and keypoints as local workers find."""
    import cv2
    import numpy as np

    from tests.conftest import SHARED
    from tests.support import rtmpose_oracle as oracle

    coco_root = SHARED / "annotations" / "coco"
    if not coco_root.is_dir():
        pytest.skip("../shared is not present")
    _, frames, det, pose = oracle.annotated_set(coco_root, tmp_path, [785], half=0.05, tracked_boxes=True)
    frame = frames[785]  # one large person
    clips = []
    for name in ("a.avi", "b.avi"):  # lossless: the oracles read numbers painted in the pixels
        writer = cv2.VideoWriter(str(tmp_path / name), cv2.VideoWriter_fourcc(*"FFV1"), 10, frame.shape[1::-1])
        if not writer.isOpened():
            pytest.skip("this OpenCV cannot write FFV1 (a lossless codec the oracle needs)")
        for _ in range(3):
            writer.write(frame)
        writer.release()
        clips.append(tmp_path / name)
    rtm = ["--model", "rtmpose-s", "--weights", pose, "--detector", det, "--quiet"]
    code, out, err = tool("--video_file", *clips, "--output_dir", tmp_path / "local", "--workers", 1, *rtm)
    assert code == 0, err
    code, out, err = tool("--video_file", *clips, "--output_dir", tmp_path / "ray", "--ray", "--workers", 2, *rtm)
    assert code == 0, err

    local = _keypoints(tmp_path / "local" / "videos" / "rtmpose-s", "rtmpose-s")
    distributed = _keypoints(tmp_path / "ray" / "videos" / "rtmpose-s", "rtmpose-s")
    assert sorted(distributed) == ["a_rtmpose-s.jsonl", "b_rtmpose-s.jsonl"]
    assert all([len(f) for f in seen] == [1, 1, 1] for seen in local.values())
    for name, seen in local.items():
        for mine, theirs in zip(seen, distributed[name], strict=True):
            assert len(mine) == len(theirs)
            assert np.allclose(mine, theirs, atol=1e-3), name
    records = read_jsonl(tmp_path / "ray" / "videos" / "rtmpose-s" / MANIFEST_NAME)
    assert sorted((r["status"], r["frames"], r["detections"]) for r in records) == [("done", 3, 3), ("done", 3, 3)]
