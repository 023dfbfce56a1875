"""OpenPose's per-frame JSON, COCO results and keypoint scales (pose.io.formats) and the
writers that put them on disk (pose.io.writers)."""
import json

import numpy as np
import pytest

from pose.core.layout import COCO17_NAMES
from pose.core.person import Person
from pose.families.openpose.spec import MODELS
from pose.io import writers
from pose.io.formats import (
    coco_image_ids,
    coco_results,
    openpose_frame_json,
    openpose_frame_name,
    parse_keypoint_scale,
    result_json,
    scale_keypoints,
)
from tests.support import skeletons
from tests.support.cli_tools import leftovers


def _person(spec, **kw):
    return skeletons.make(spec, 0.9, at=(200, 80), **kw)


def test_file_names_are_openposes():
    assert openpose_frame_name("photo") == "photo_keypoints.json"
    assert openpose_frame_name("clip", 42) == "clip_000000000042_keypoints.json"
    assert openpose_frame_name("clip", 0) == "clip_000000000000_keypoints.json"


def test_per_frame_json_holds_openposes_fields_only():
    spec = MODELS["BODY_25"]
    person = _person(spec)
    person.track_id = 3
    data = openpose_frame_json([person], (640, 480), tracked=True)
    assert list(data) == ["version", "people"] and data["version"] == 1.3
    [p] = data["people"]
    assert list(p) == ["person_id", "pose_keypoints_2d", "face_keypoints_2d", "hand_left_keypoints_2d",
                       "hand_right_keypoints_2d", "pose_keypoints_3d", "face_keypoints_3d",
                       "hand_left_keypoints_3d", "hand_right_keypoints_3d"]
    assert p["person_id"] == [3] and len(p["pose_keypoints_2d"]) == 75
    assert openpose_frame_json([person], (640, 480))["people"][0]["person_id"] == [-1]


def test_keypoint_scales_are_openposes():
    kp = np.array([[0.0, 0.0, 0.5], [639.0, 479.0, 0.9], [319.5, 239.5, 0.7], [0.0, 0.0, 0.0]])
    assert np.array_equal(scale_keypoints(kp, (640, 480), 0), kp)
    unit = scale_keypoints(kp, (640, 480), 3)
    assert np.allclose(unit[:3, :2], [[0, 0], [1, 1], [0.5, 0.5]]) and np.array_equal(unit[:, 2], kp[:, 2])
    signed = scale_keypoints(kp, (640, 480), 4)
    assert np.allclose(signed[:3, :2], [[-1, -1], [1, 1], [0, 0]])
    assert (unit[3] == 0).all() and (signed[3] == 0).all()  # not found stays 0, 0, 0
    for good in ("0", "3", " 4 ", 4):
        assert parse_keypoint_scale(good) == int(str(good).strip())
    for bad in ("1", "2", "5", "x", "-1"):
        with pytest.raises(ValueError, match="0 source-image pixels"):
            parse_keypoint_scale(bad)


def test_scaled_json_says_its_scale_and_pixels_stay_default():
    spec = MODELS["COCO"]
    person = _person(spec)
    plain = result_json([person], spec, (400, 300))
    assert "keypoint_scale" not in plain
    assert plain["people"][0]["pose_keypoints_2d"][:2] == [round(v, 2) for v in person.keypoints[0, :2]]
    scaled = result_json([person], spec, (400, 300), keypoint_scale=3)
    assert scaled["keypoint_scale"] == 3
    x, y = scaled["people"][0]["pose_keypoints_2d"][:2]
    assert (x, y) == pytest.approx((person.keypoints[0, 0] / 399, person.keypoints[0, 1] / 299), abs=1e-6)


@pytest.mark.parametrize("mode", ["COCO", "BODY_25"])
def test_coco_results_map_keypoints_as_openpose_does(mode):
    spec = MODELS[mode]
    person = _person(spec, missing=("LEar",))
    [entry] = coco_results([person], spec, 785)
    assert list(entry) == ["image_id", "category_id", "keypoints", "score"]
    assert entry["image_id"] == 785 and entry["category_id"] == 1 and entry["score"] == 0.9
    kp = np.asarray(entry["keypoints"], float).reshape(17, 3)
    named = {"nose": "Nose", "left_eye": "LEye", "right_eye": "REye", "left_ear": "LEar", "right_ear": "REar"}
    for side, word in (("left", "L"), ("right", "R")):
        for part, name in (("shoulder", "Shoulder"), ("elbow", "Elbow"), ("wrist", "Wrist"), ("hip", "Hip"),
                           ("knee", "Knee"), ("ankle", "Ankle")):
            named[f"{side}_{part}"] = word + name
    for k, coco_name in enumerate(COCO17_NAMES):
        j = spec.index(named[coco_name])
        if coco_name == "left_ear":
            assert list(kp[k]) == [0, 0, 0]
        else:
            assert kp[k, 2] == 1 and np.allclose(kp[k, :2], person.keypoints[j, :2], atol=0.01)


def test_coco_results_need_cocos_keypoints():
    with pytest.raises(ValueError, match="COCO or BODY_25"):
        coco_results([_person(MODELS["MPI"])], MODELS["MPI"], 0)


def test_coco_image_ids_from_names_else_positions():
    assert coco_image_ids(["000000000785.jpg", "000000040083.png"]) == [785, 40083]
    assert coco_image_ids(["000000000785.jpg", "photo.jpg"]) == [0, 1]  # all or none
    assert coco_image_ids(["7.jpg", "007.png"]) == [0, 1]  # equal numbers would collide
    assert coco_image_ids([]) == []


def test_json_folder_writer_keeps_files_temporary_until_commit_and_discards_only_its_own(tmp_path):
    old = tmp_path / "a_keypoints.json"
    old.write_text("{}")  # another run's file of the same name
    folder = writers.JsonFolderWriter(tmp_path)
    a = folder.write("a_keypoints.json", {"people": []})
    folder.write("b_keypoints.json", {"people": []})
    assert old.read_text() == "{}" and len(leftovers(tmp_path)) == 2  # whole, under temporary names
    folder.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_keypoints.json"] and old.read_text() == "{}"
    kept = writers.JsonFolderWriter(tmp_path)
    kept.write("a_keypoints.json", {"people": []})
    kept.write("c_keypoints.json", {})
    assert kept.commit() == tmp_path
    kept.discard()  # after commit: nothing happens
    assert json.loads(a.read_text()) == {"people": []} and (tmp_path / "c_keypoints.json").exists()
    assert not leftovers(tmp_path)


def test_coco_writer_writes_only_at_commit(tmp_path):
    path = tmp_path / "results.json"
    coco = writers.CocoResultsWriter(path, {"model": "COCO"})
    coco.add(coco_results([_person(MODELS["COCO"])], MODELS["COCO"], 5), {"id": 5, "file_name": "5.png"})
    assert not path.exists()
    assert coco.commit() == path
    assert [r["image_id"] for r in json.loads(path.read_text())] == [5]
    mapping = json.loads((tmp_path / "results.image_ids.json").read_text())
    assert mapping == {"model": "COCO", "images": [{"id": 5, "file_name": "5.png"}]}
    gone = writers.CocoResultsWriter(tmp_path / "other.json")
    gone.add([], {"id": 0})
    gone.discard()
    assert not (tmp_path / "other.json").exists() and not leftovers(tmp_path)
    assert writers.coco_mapping_path(tmp_path / "res") == tmp_path / "res.image_ids.json"


def test_person_with_no_parts_found_is_all_zeros():
    person = Person(np.zeros((25, 3)), 0.0)
    assert openpose_frame_json([person], (10, 10), keypoint_scale=4)["people"][0]["pose_keypoints_2d"] == [0] * 75
