"""The RTMPose family through the real tools, end to end: the oracle detector and the
oracle pose network (tests/support/rtmpose_oracle.py) in place of the published files, on
the annotated COCO people of ../shared/annotations/coco.

- get_hpe_image.py --model rtmpose-s --weights ORACLE.onnx --detector ORACLE_DET.onnx on the
  four images: every output format, classification, and the COCO results scored by
  pycocotools against the annotations;
- get_hpe_video.py on a short clip with --detect_every: the detector on every Nth frame
  only (frames between have no one the detector could find: only boxes carried from the
  last keypoints find them), tracking, the timeline, COCO results per frame;
- a batch of two clips;
- the family's usage lines: missing weights, options of the wrong kind of model.
"""
import json
import shutil

import cv2
import numpy as np
import pytest

from pose.cli import image_main, parse_args, video_main
from pose.families import family_of_model
from tests.conftest import SHARED
from tests.support import rtmpose_oracle as oracle

COCO_ROOT = SHARED / "annotations" / "coco"
CLIP_IMAGE = 785  # one person, large: the clip's frame
CLIP_FRAMES, DETECT_EVERY = 8, 4


def _json(path):
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """The four annotated images painted for the oracles, as PNG files named by their COCO
    id (the COCO results' image_id), and the two oracle files."""
    if not COCO_ROOT.is_dir():
        pytest.skip("../shared is not present")
    folder = tmp_path_factory.mktemp("rtmpose_tools")
    gt, frames, det, pose = oracle.annotated_set(COCO_ROOT, folder)
    (folder / "in").mkdir()
    for image_id, frame in frames.items():
        cv2.imwrite(str(folder / "in" / f"{image_id:012d}.png"), frame)
    return gt, folder, det, pose


def test_the_image_tool_runs_rtmpose_into_every_format_and_scores_full_ap(images):
    gt, folder, det, pose = images
    out, coco, per_image = folder / "out", folder / "coco.json", folder / "openpose"
    assert image_main(["--model", "rtmpose-s", "--weights", str(pose), "--detector", str(det), "--image_file",
                       str(folder / "in"), "--output_dir", str(out), "--write_coco_json", str(coco),
                       "--write_json", str(per_image), "--quiet"]) == 0
    results = _json(coco)
    assert len(results) == 14 and {r["image_id"] for r in results} == set(gt.getImgIds())
    assert all(len(r["keypoints"]) == 17 * 3 for r in results)  # COCO's 17, in COCO's order: no mapping
    ap = oracle.coco_ap(gt.path, coco)
    assert ap is None or ap > 0.99, ap  # measured 1.000
    frame = _json(out / "images" / "rtmpose-s" / "000000197388-rtmpose-s.json")
    assert frame["model"] == "rtmpose-s" and len(frame["people"]) == 5
    person = frame["people"][0]
    assert len(person["pose_keypoints_2d"]) == 17 * 3 and len(person["box"]) == 4
    assert person["box_score"] == pytest.approx(0.9, abs=0.01)  # bf16 where OpenVINO picks it
    assert frame["layout"] == "COCO-17"
    # classification reads COCO-17 by its joint names (a neck derived from the shoulders)
    assert {p["pose_class"]["posture"] for p in frame["people"]} == {"standing"}
    assert len(_json(per_image / "000000197388_keypoints.json")["people"][0]["pose_keypoints_2d"]) == 51
    assert (out / "images" / "rtmpose-s" / "000000197388-Skeleton-rtmpose-s.jpg").is_file()


def _clip(path, frame_with_number, frame_without, every):
    """A lossless clip: the detector oracle finds the person only on frames 0, every, 2 every...
    (image number 1 painted there); on the others it finds nobody (number 0)."""
    h, w = frame_with_number.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 10, (w, h))
    if not writer.isOpened():
        pytest.skip("this OpenCV cannot write FFV1 (a lossless codec the oracle needs)")
    for k in range(CLIP_FRAMES):
        writer.write(frame_with_number if k % every == 0 else frame_without)
    writer.release()
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    if not COCO_ROOT.is_dir():
        pytest.skip("../shared is not present")
    folder = tmp_path_factory.mktemp("rtmpose_clip")
    # The detector's box is the one video mode carries from the keypoints, so that the
    # oracle's crops are the same on every frame (up to the SimCC steps).
    gt, frames, det, pose = oracle.annotated_set(COCO_ROOT, folder, [CLIP_IMAGE], half=0.05, tracked_boxes=True)
    found = frames[CLIP_IMAGE]
    hidden = found.copy()
    oracle.paint_image_number(hidden, 0)
    (folder / "in").mkdir()
    path = _clip(folder / "in" / "clip.avi", found, hidden, DETECT_EVERY)
    # The annotation of every frame, image_id = frame index (the video's COCO results).
    truth = gt.data
    anns = [a for a in truth["annotations"] if a["image_id"] == CLIP_IMAGE]
    image = next(i for i in truth["images"] if i["id"] == CLIP_IMAGE)
    frames_gt = dict(truth, images=[dict(image, id=k) for k in range(CLIP_FRAMES)],
                     annotations=[dict(a, image_id=k, id=1000 * k + j + 1) for k in range(CLIP_FRAMES)
                                  for j, a in enumerate(anns)])
    (folder / "truth.json").write_text(json.dumps(frames_gt))
    return folder, path, det, pose


def test_the_video_tool_detects_every_nth_frame_and_carries_the_boxes_between(clip):
    folder, path, det, pose = clip
    out, coco = folder / "out", folder / "coco.json"
    args = ["--model", "rtmpose-s", "--weights", str(pose), "--detector", str(det), "--video_file", str(path),
            "--output_dir", str(out), "--quiet"]
    assert video_main(args + ["--detect_every", str(DETECT_EVERY), "--write_coco_json", str(coco)]) == 0
    lines = [json.loads(line) for line in (out / "videos" / "rtmpose-s" / "clip_rtmpose-s.jsonl").read_text().splitlines()]
    # Frames 1-3 and 5-7 hide the person from the detector: only the carried boxes find them.
    assert [len(f["people"]) for f in lines] == [1] * CLIP_FRAMES
    assert len({f["people"][0]["person_id"][0] for f in lines}) == 1  # one track throughout
    assert lines[0]["people"][0]["pose_class"]["posture"] in ("standing", "sitting", "unknown")
    ap = oracle.coco_ap(folder / "truth.json", coco)
    assert ap is None or ap > 0.99, ap  # every frame's keypoints where annotated
    assert (out / "videos" / "rtmpose-s" / "clip_timeline_rtmpose-s.png").is_file()
    # Detecting on every frame: the frames that hide the person from the detector have nobody.
    assert video_main(args + ["--detect_every", "1"]) == 0
    lines = (out / "videos" / "rtmpose-s" / "clip_rtmpose-s.jsonl").read_text().splitlines()
    assert [len(json.loads(line)["people"]) for line in lines] == [1, 0, 0, 0, 1, 0, 0, 0]


def test_a_batch_runs_rtmpose(clip):
    folder, path, det, pose = clip
    videos = folder / "batch_in"
    videos.mkdir()
    for name in ("a.avi", "b.avi"):
        shutil.copy(path, videos / name)
    out = folder / "batch_out"
    assert video_main(["--model", "rtmpose-s", "--weights", str(pose), "--detector", str(det), "--video_file",
                       str(videos), "--workers", "1", "--detect_every", str(DETECT_EVERY), "--output_dir", str(out),
                       "--quiet"]) == 0
    records = [json.loads(line) for line in (out / "videos" / "rtmpose-s" / "manifest.jsonl").read_text().splitlines()]
    assert sorted((r["status"], r["frames"], r["detections"]) for r in records) == [("done", 8, 8), ("done", 8, 8)]
    assert records[0]["model"]["name"] == "rtmpose-s" and records[0]["options"]["detect_every"] == DETECT_EVERY
    assert records[0]["model"]["detector_sha256"] and records[0]["model"]["weights_sha256"]


def test_model_alone_picks_the_family_and_one_stage_models_take_no_detector(capsys):
    assert family_of_model("human") == family_of_model("RTMO-s") == family_of_model("body-with-feet") == "rtmpose"
    args = parse_args("image", ["--model", "Body-With-Feet"])
    assert args.family == "rtmpose" and args.mode == "body_with_feet"
    with pytest.raises(SystemExit) as stop:
        parse_args("video", ["--model", "rtmo-s", "--detect_every", "3"])
    assert stop.value.code == 2 and "one stage" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args("image", ["--model", "human", "--detector", "yolox-huge"])
    assert "yolox-nano, yolox-tiny" in capsys.readouterr().err


def test_missing_weights_say_in_one_line_how_to_get_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENCV_HPE_HOME", str(tmp_path / "models"))
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), np.zeros((40, 60, 3), np.uint8))
    assert image_main(["--model", "human", "--image_file", str(image), "--output_dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "human weights missing" in err[0] and "getModels.sh human" in err[0]
