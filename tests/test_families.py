"""A second family is one module and one registry entry: the toy family
(tests/support/toy_family.py: COCO-17 people, fixed) runs through the image tool, the
video tool, a batch and every output format without a line of the runs knowing it."""
import json

import numpy as np
import pytest

from pose.cli import image_main, video_main
from pose.core.estimator import Estimator
from pose.families import FAMILIES, FamilyEntry, family_of_model, get_family, register
from pose.families.openpose.estimator import PoseEstimator
from pose.families.openpose.spec import MODELS
from pose.io.formats import coco_results, openpose_frame_json, result_json
from tests.support import toy_family
from tests.support.cli_tools import make_image, make_video
from tests.support.nets import write_model


@pytest.fixture
def toy():
    register(FamilyEntry("toy", "tests.support.toy_family", "fixed COCO-17 people", ("TOY",)))
    yield toy_family
    FAMILIES.pop("toy")


def _json(path):
    return json.loads(path.read_text())


def test_the_toy_family_is_found_by_name_and_keeps_the_estimator_protocol(toy):
    assert get_family("TOY") is toy_family
    assert isinstance(toy_family.ToyEstimator(1), Estimator)
    with pytest.raises(ValueError, match="unknown family"):
        get_family("nope")


def test_openpose_keeps_the_estimator_protocol(model_dir):
    proto, weights = write_model(model_dir, MODELS["COCO"])
    estimator = PoseEstimator("COCO", proto=proto, weights=weights, engine="onnx")
    assert isinstance(estimator, Estimator) and estimator.describe().startswith("COCO, definition ")
    assert get_family("openpose").parse_model("coco") is estimator.spec


def test_the_image_tool_runs_the_toy_family(toy, tmp_path):
    image = make_image(tmp_path / "a.png", size=(120, 100))
    code = image_main(["--family", "toy", "--people", "2", "--image_file", str(image), "--output_dir",
                       str(tmp_path / "out"), "--write_json", str(tmp_path / "op"), "--write_coco_json",
                       str(tmp_path / "coco.json"), "--quiet"])
    assert code == 0
    result = _json(tmp_path / "out" / "images" / "TOY" / "a-TOY.json")
    assert result["model"] == "TOY" and len(result["people"]) == 2
    first = result["people"][0]
    assert len(first["pose_keypoints_2d"]) == 17 * 3 and first["box"] == [36.0, 5.0, 84.0, 95.0]
    assert first["box_score"] == 0.8
    assert first["pose_class"]["gesture"] == "hello" and first["pose_class"]["posture"] == "standing"
    assert (tmp_path / "out" / "images" / "TOY" / "a-Skeleton-TOY.jpg").is_file()
    assert len(_json(tmp_path / "op" / "a_keypoints.json")["people"]) == 2
    assert [len(r["keypoints"]) for r in _json(tmp_path / "coco.json")] == [51, 51]


def test_the_video_tool_and_a_batch_run_the_toy_family(toy, tmp_path):
    (tmp_path / "in").mkdir()
    clip = make_video(tmp_path / "in" / "clip.mp4", frames=5)
    make_video(tmp_path / "in" / "other.mp4", frames=3)
    out = tmp_path / "out"
    assert video_main(["--family", "toy", "--video_file", str(clip), "--output_dir", str(out), "--quiet",
                       "--write_json", str(tmp_path / "frames")]) == 0
    lines = (out / "videos" / "TOY" / "clip_TOY.jsonl").read_text().splitlines()
    assert len(lines) == 5 and len({tuple(json.loads(line)["people"][0]["person_id"]) for line in lines}) == 1  # tracked
    assert len(list((tmp_path / "frames").glob("clip_*_keypoints.json"))) == 5
    assert (out / "videos" / "TOY" / "clip_timeline_TOY.png").is_file()

    batch = tmp_path / "batch"
    assert video_main(["--family", "toy", "--video_file", str(tmp_path / "in"), "--output_dir", str(batch),
                       "--workers", "1", "--quiet"]) == 0
    records = [json.loads(line) for line in (batch / "videos" / "TOY" / "manifest.jsonl").read_text().splitlines()]
    assert sorted((r["status"], r["frames"]) for r in records) == [("done", 3), ("done", 5)]
    assert records[0]["model"] == {"name": "TOY"} and records[0]["options"]["people"] == 1


def test_the_formats_write_any_family_s_people(toy):
    people = toy_family.ToyEstimator(1).estimate(np.zeros((50, 80, 3), np.uint8))
    frame = result_json(people, toy_family.MODELS["TOY"], (80, 50))
    assert frame["model"] == "TOY" and len(frame["people"][0]["pose_keypoints_2d"]) == 51
    assert len(openpose_frame_json(people, (80, 50))["people"][0]["pose_keypoints_2d"]) == 51
    # COCO-17 people export as themselves: keypoint k of the COCO results is keypoint k
    coco = coco_results(people, toy_family.MODELS["TOY"], 7)[0]
    np.testing.assert_allclose(np.reshape(coco["keypoints"], (17, 3))[:, :2], people[0].keypoints[:, :2], atol=0.01)


def test_every_family_lists_its_models_in_the_registry_and_model_alone_picks_the_family(toy, tmp_path):
    for entry in FAMILIES.values():
        assert sorted(entry.models) == sorted(get_family(entry.name).MODELS), entry.name
    assert family_of_model("toy") == "toy" and family_of_model("body-25") == "openpose" and family_of_model("x") is None
    image = make_image(tmp_path / "p.png")
    # --model TOY without --family: the toy family's options (--people) are known.
    assert image_main(["--model", "toy", "--people", "1", "--image_file", str(image), "--output_dir",
                       str(tmp_path / "o"), "--quiet"]) == 0
    assert len(json.loads(next((tmp_path / "o").rglob("*.json")).read_text())["people"]) == 1
