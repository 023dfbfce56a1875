"""Atomic writers and the OpenPose JSON layout."""
import json

import cv2
import numpy as np
import pytest

from pose.core.person import Person, PoseClass
from pose.families.openpose.spec import MODELS
from pose.io import writers as output
from pose.io.formats import frame_json, person_json
from tests.support.cli_tools import read_jsonl


def test_temp_names_keep_the_extension_and_are_unique(tmp_path):
    a, b = output.temp_path(tmp_path / "clip_COCO.mp4"), output.temp_path(tmp_path / "clip_COCO.mp4")
    assert a != b and a.parent == tmp_path  # two runs or workers never share one
    assert a.name.startswith("clip_COCO.tmp-") and a.suffix == ".mp4"
    assert output.temp_path(tmp_path / "a-COCO.json").name.startswith("a-COCO.tmp-")


def test_image_and_json_are_written_whole(tmp_path):
    image = np.full((30, 40, 3), 77, np.uint8)
    path = output.write_image(tmp_path / "a.jpg", image)
    assert cv2.imread(str(path)).shape == (30, 40, 3)
    output.write_json(tmp_path / "a.json", {"people": []})
    assert json.loads((tmp_path / "a.json").read_text()) == {"people": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "a.json"]


def test_an_interrupted_write_leaves_neither_file(tmp_path, monkeypatch):
    def boom(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(output.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        output.write_json(tmp_path / "a.json", {"x": 1})
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_place_is_an_output_error(tmp_path):
    (tmp_path / "f").write_text("file")
    with pytest.raises(output.OutputError, match="cannot write .*f/a.json"):
        output.write_json(tmp_path / "f" / "a.json", {})
    with pytest.raises(output.OutputError, match="a file of that name exists"):
        output.ensure_output_dir(tmp_path / "f")


def test_jsonl_commit_and_discard(tmp_path):
    with output.JsonLinesWriter(tmp_path / "ok.jsonl") as w:
        w.write({"frame": 0})
        w.write({"frame": 1})
        assert w.tmp.exists() and w.tmp.name.startswith("ok.tmp-") and not (tmp_path / "ok.jsonl").exists()
    assert read_jsonl(tmp_path / "ok.jsonl") == [{"frame": 0}, {"frame": 1}]
    with pytest.raises(RuntimeError):
        with output.JsonLinesWriter(tmp_path / "bad.jsonl") as w:
            w.write({"frame": 0})
            raise RuntimeError("network failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.jsonl"]


def test_video_writer_renames_a_readable_file(tmp_path):
    w = output.VideoFileWriter(tmp_path / "v.mp4", 10, (48, 32))
    for k in range(5):
        w.write(np.full((32, 48, 3), 40 * k, np.uint8))
    w.write(np.zeros((64, 96, 3), np.uint8))  # another size is resized, not dropped
    assert not (tmp_path / "v.mp4").exists()
    w.commit()
    cap = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    assert (cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FPS)) == (6, 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_person_json_is_openposes_layout_plus_ours():
    kp = np.zeros((18, 3))
    kp[1] = (10.123, 20.456, 0.87654)
    person = Person(kp, score=0.5, pose_class=PoseClass("hello", 0.9, "standing", 0.8))
    out = person_json(person, 3, pose_class_json=lambda pc: {"gesture": pc.gesture})
    assert out == {
        "person_id": [3],
        "pose_keypoints_2d": [0.0, 0.0, 0.0, 10.12, 20.46, 0.8765] + [0.0] * 48,
        "face_keypoints_2d": [], "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": [],
        "pose_keypoints_3d": [], "face_keypoints_3d": [], "hand_left_keypoints_3d": [],
        "hand_right_keypoints_3d": [],
        "score": 0.5, "pose_class": {"gesture": "hello"},
    }


def test_frame_json_defaults_to_untracked_ids():
    people = [Person(np.zeros((15, 3)), 0.3), Person(np.zeros((15, 3)), 0.2)]
    out = frame_json(people, MODELS["MPI"], (640, 480), image="a.png")
    assert list(out) == ["version", "model", "layout", "image_size", "image", "people"]
    assert out["layout"] == "MPI-15"
    assert out["version"] == 1.3 and out["model"] == "MPI" and out["image_size"] == [640, 480]
    assert [p["person_id"] for p in out["people"]] == [[-1], [-1]]
    assert all("pose_class" not in p for p in out["people"])
