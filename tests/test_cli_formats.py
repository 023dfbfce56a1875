"""BODY_25 and the outputs OpenPose users' tools read, through the real tools with the
oracle net (tests/support/oracle.py): --mode BODY_25 end to end, --write_json DIR read back
with pose-format's OpenPose loader, --write_coco_json FILE scored with pycocotools'
COCOeval, --keypoint_scale."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose.families.openpose.spec import MODELS
from tests.support import skeletons
from tests.support.annotations import COCO17_TO, FOOT, convert
from tests.support.cli_tools import (
    FAST,
    ROOT,
    SCRIPTS,
    assert_one_line_error,
    leftovers,
    load_json,
    make_video,
    model_args,
    read_jsonl,
    run_tool,
)
from tests.support.nets import write_model
from tests.test_cli_oracle import NET, SIZE, TOLERANCE_PX, body, errors, match, oracle_image, walk_video

BODY_25 = MODELS["BODY_25"]


@pytest.fixture(scope="module")
def oracles(tmp_path_factory):
    from tests.support.oracle import write_oracle_model

    folder = tmp_path_factory.mktemp("oracle")
    return {name: model_args(*write_oracle_model(folder, MODELS[name])) for name in ("COCO", "BODY_25")}


def _scene(spec):
    return [body(spec, (110, 60), 0.95, **skeletons.HELLO_RIGHT), body(spec, (260, 110), 0.8)]


def test_body25_image_end_to_end(tmp_path, oracles):
    """Two people, every one of their 25 points back within a few pixels, labelled."""
    people = _scene(BODY_25)
    path = tmp_path / "scene.png"
    assert cv2.imwrite(str(path), oracle_image(people, BODY_25))
    r = run_tool("image", "--image_file", path, "--model", "BODY_25", "--output_dir", tmp_path, *NET,
                 *oracles["BODY_25"], "--write_json", tmp_path / "json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("BODY_25, definition oracle_BODY_25.prototxt")
    data = load_json(tmp_path / "images" / "BODY_25" / "scene-BODY_25.json")
    assert data["model"] == "BODY_25" and len(data["people"]) == 2
    for want, got in zip(people, match(people, data["people"], 25)):
        dist, n_expected, n_found = errors(want, got)
        assert n_found == n_expected == 25 and dist.max() < TOLERANCE_PX
    classes = sorted((p["pose_class"]["gesture"], p["pose_class"]["posture"]) for p in data["people"])
    assert classes == [("hello", "standing"), ("none", "standing")]
    # OpenPose's own file: the same keypoints, OpenPose's fields only.
    own = load_json(tmp_path / "json" / "scene_keypoints.json")
    assert [p["pose_keypoints_2d"] for p in own["people"]] == [p["pose_keypoints_2d"] for p in data["people"]]
    assert set(own) == {"version", "people"} and "score" not in own["people"][0]
    assert "1 OpenPose JSON to" in r.stdout
    for name in ("Skeleton", "Keypoints"):
        assert cv2.imread(str(tmp_path / "images" / "BODY_25" / f"scene-{name}-BODY_25.jpg")) is not None


def test_video_frame_folder_reads_with_pose_format(tmp_path, oracles):
    """--write_json DIR writes every frame's file (also those --every reuses); pose-format's
    OpenPose loader reads the folder: frames, people and their 25 body points."""
    openpose = pytest.importorskip("pose_format.utils.openpose")
    frames = 6
    clip, walker, still = walk_video(tmp_path, BODY_25, frames)
    folder = tmp_path / "frames"
    r = run_tool("video", "--video_file", clip, "--mode", "BODY_25", "--output_dir", tmp_path, "--quiet",
                 "--every", "2", "--write_json", folder, *NET, *oracles["BODY_25"])
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in folder.iterdir()) == [f"walk_{k:012d}_keypoints.json" for k in range(frames)]
    assert str(folder) in r.stdout and not leftovers(tmp_path)
    pose = openpose.load_openpose_directory(str(folder), fps=10, width=SIZE, height=SIZE)
    data = pose.body.data  # (frames, people, points, 2), masked where confidence is 0
    assert data.shape[:3] == (frames, 2, 25 + 70 + 21 + 21)
    lines = read_jsonl(tmp_path / "videos" / "BODY_25" / "walk_BODY_25.jsonl")
    for k in range(frames):
        shown = walker[k - k % 2]  # --every 2: odd frames reuse the frame before
        points = [np.column_stack([data[k, i, :25].filled(0), pose.body.confidence[k, i, :25]]) for i in range(2)]
        found = match([shown, still], [{"pose_keypoints_2d": p.ravel().tolist()} for p in points], 25)
        for want, got in zip([shown, still], found):
            dist, n_expected, n_found = errors(want, got)
            assert n_found == n_expected == 25 and dist.max() < TOLERANCE_PX
        assert data[k, :, 25:].mask.all()  # no face, no hands
        # The folder's file and the JSON Lines agree, person ids included.
        own = load_json(folder / f"walk_{k:012d}_keypoints.json")
        assert [(p["person_id"], p["pose_keypoints_2d"]) for p in own["people"]] == \
               [(p["person_id"], p["pose_keypoints_2d"]) for p in lines[k]["people"]]


def test_keypoint_scale_reaches_every_json_but_coco(tmp_path, oracles):
    clip, walker, still = walk_video(tmp_path, BODY_25, 2)
    r = run_tool("video", "--video_file", clip, "--mode", "BODY_25", "--output_dir", tmp_path, "--quiet",
                 "--write_json", tmp_path / "frames", "--write_coco_json", tmp_path / "coco.json",
                 "--keypoint_scale", "4", *NET, *oracles["BODY_25"])
    assert r.returncode == 0, r.stderr
    lines = read_jsonl(tmp_path / "videos" / "BODY_25" / "walk_BODY_25.jsonl")
    own = load_json(tmp_path / "frames" / "walk_000000000001_keypoints.json")
    coco = json.loads((tmp_path / "coco.json").read_text())
    assert lines[1]["keypoint_scale"] == 4
    scaled = [np.asarray(p["pose_keypoints_2d"]).reshape(25, 3) for p in own["people"]]
    assert [s.tolist() for s in scaled] == [np.asarray(p["pose_keypoints_2d"]).reshape(25, 3).tolist()
                                            for p in lines[1]["people"]]
    assert all(np.abs(s[:, :2]).max() <= 1 for s in scaled)
    # Back to pixels, they are the walker's and the standing person's points.
    pixels = [np.column_stack([(s[:, :2] + 1) / 2 * (SIZE - 1), s[:, 2]]) for s in scaled]
    found = match([walker[1], still], [{"pose_keypoints_2d": p.ravel().tolist()} for p in pixels], 25)
    for want, got in zip([walker[1], still], found):
        assert errors(want, got)[0].max() < TOLERANCE_PX
    # COCO results stay in pixels, image_id = frame index.
    assert sorted({e["image_id"] for e in coco}) == [0, 1]
    assert max(max(e["keypoints"][0::3]) for e in coco) > 100
    mapping = load_json(tmp_path / "coco.image_ids.json")
    assert [im["id"] for im in mapping["images"]] == [0, 1] and mapping["model"] == "BODY_25"


def _coco_ground_truth(shared_dir, folder: Path, spec):
    """Every COCO annotation (test_coco_wholebody.json, feet included) scaled into a
    368x368 oracle image named like COCO's (000000000785.png), and the matching ground
    truth in the same coordinates."""
    data = json.loads((shared_dir / "annotations" / "coco" / "test_coco_wholebody.json").read_text())
    sizes = {im["id"]: (im["width"], im["height"]) for im in data["images"]}
    people = {i: [] for i in sizes}
    gt = {"images": [{"id": i, "width": SIZE, "height": SIZE, "file_name": f"{i:012d}.png"} for i in sizes],
          "categories": [{"id": 1, "name": "person"}], "annotations": []}
    for ann in data["annotations"]:
        scale = SIZE / max(sizes[ann["image_id"]])
        kp = np.asarray(ann["keypoints"], float).reshape(17, 3)
        feet = np.asarray(ann.get("foot_kpts") or [0] * 18, float).reshape(6, 3)
        full = np.vstack([kp, feet])
        assert FOOT == 17
        person = convert(full[:, :2] * scale, full[:, 2] > 0, COCO17_TO[spec.name])
        if (person[:, 2] > 0).any():
            people[ann["image_id"]].append(person)
        kp[:, :2] *= scale
        gt["annotations"].append({
            "id": ann["id"], "image_id": ann["image_id"], "category_id": 1, "iscrowd": ann["iscrowd"],
            "keypoints": kp.ravel().tolist(), "num_keypoints": int((kp[:, 2] > 0).sum()),
            "area": ann["area"] * scale ** 2, "bbox": [v * scale for v in ann["bbox"]]})
    for image_id, found in people.items():
        assert cv2.imwrite(str(folder / f"{image_id:012d}.png"), oracle_image(found, spec))
    return gt


@pytest.mark.parametrize("mode", ["COCO", "BODY_25"])
def test_coco_results_score_with_cocoeval(tmp_path, shared_dir, oracles, mode, capsys):
    """The image tool's --write_coco_json on oracle images of the annotated COCO people,
    scored against those annotations by pycocotools: AP printed (and in the README)."""
    cocoeval = pytest.importorskip("pycocotools.cocoeval")
    from pycocotools.coco import COCO

    spec = MODELS[mode]
    images = tmp_path / "images"
    images.mkdir()
    gt = _coco_ground_truth(shared_dir, images, spec)
    results = tmp_path / "results" / "coco.json"
    results.parent.mkdir()
    r = run_tool("image", "--image_file", images, "--mode", mode, "--output_dir", tmp_path / "out", "--quiet",
                 "--no_classify", "--write_coco_json", results, *NET, *oracles[mode])
    assert r.returncode == 0, r.stderr
    entries = json.loads(results.read_text())
    assert {e["image_id"] for e in entries} == {im["id"] for im in gt["images"]}  # 000000000785.png -> 785
    assert all(e["category_id"] == 1 and len(e["keypoints"]) == 51 and set(e["keypoints"][2::3]) <= {0, 1}
               for e in entries)
    mapping = load_json(results.with_name("coco.image_ids.json"))
    assert sorted((im["id"], im["file_name"]) for im in mapping["images"]) == \
        sorted((im["id"], im["file_name"]) for im in gt["images"])
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    truth = COCO(str(tmp_path / "gt.json"))
    evaluation = cocoeval.COCOeval(truth, truth.loadRes(str(results)), "keypoints")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()  # its table goes to the captured output (pytest -rP shows it)
    ap, ap50 = evaluation.stats[0], evaluation.stats[1]
    with capsys.disabled():
        print(f"\n{mode} oracle output, COCOeval keypoints: AP {ap:.3f}, AP50 {ap50:.3f} "
              f"({len(entries)} people found, {len(gt['annotations'])} annotated)")
    assert ap > 0.9 and ap50 > 0.95


def test_bad_format_options_are_one_line_errors(tmp_path, oracles):
    image = tmp_path / "a.png"
    assert cv2.imwrite(str(image), np.full((64, 64, 3), 128, np.uint8))
    r = run_tool("image", "--image_file", image, "--keypoint_scale", "2")
    assert_one_line_error(r, 2, "--keypoint_scale", "0 source-image pixels")
    r = run_tool("video", "--keypoint_scale", "x")
    assert_one_line_error(r, 2, "--keypoint_scale")
    r = run_tool("image", "--image_file", image, "--mode", "MPI", "--write_coco_json", tmp_path / "c.json")
    assert_one_line_error(r, 2, "--write_coco_json", "COCO or BODY_25")
    r = run_tool("image", "--image_file", image, "--write_coco_json", tmp_path)
    assert_one_line_error(r, 1, "it is a folder")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_tool("video", "--write_json", blocker)
    assert_one_line_error(r, 1, "a file of that name exists")
    assert not (tmp_path / "images").exists()


def test_help_lists_the_new_options():
    for tool in ("image", "video"):
        r = run_tool(tool, "--help")
        assert r.returncode == 0
        for option in ("--write_json DIR", "--write_coco_json FILE", "--keypoint_scale", "BODY_25"):
            assert option in r.stdout, (tool, option)


def test_ctrl_c_keeps_whole_frame_files_and_writes_the_coco_file(tmp_path, model_dir):
    """Interrupted, the run still ends with one whole per-frame file per frame written
    (the JSONL's frames) and a complete COCO results file; no temporary file is left."""
    net = model_args(*write_model(model_dir, BODY_25))
    clip = make_video(tmp_path / "clip.mp4", frames=400, size=(64, 48))
    out, frames = tmp_path / "out", tmp_path / "frames"
    proc = subprocess.Popen([sys.executable, str(ROOT / SCRIPTS["video"]), "--video_file", str(clip),
                             "--mode", "BODY_25", "--output_dir", str(out), "--quiet", "--write_json", str(frames),
                             "--write_coco_json", str(tmp_path / "coco.json"), *FAST, *net],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        # the frames' files wait under temporary names until the run commits its outputs
        if frames.is_dir() and len(list(frames.glob("*_keypoints.tmp-*.json"))) >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    lines = read_jsonl(out / "videos" / "BODY_25" / "clip_BODY_25.jsonl")
    assert 3 <= len(lines) < 400
    names = sorted(p.name for p in frames.iterdir())
    assert names == [f"clip_{k:012d}_keypoints.json" for k in range(len(lines))]
    for name in names:
        assert load_json(frames / name)["version"] == 1.3
    assert isinstance(json.loads((tmp_path / "coco.json").read_text()), list)
    assert len(load_json(tmp_path / "coco.image_ids.json")["images"]) == len(lines)
    assert leftovers(tmp_path) == []
