"""--hand and --face through both tools (subprocesses), end to end.

The body comes from the oracle net (tests/support/oracle.py), so the people, and with
them the hand and face boxes, are known; the hand and face networks are narrow random
nets of the exact architecture, placed where the downloaded weights go in a sandbox copy
of the project (their deploy files narrowed alike, so the Caffe route runs them too).
"""
import shutil

import cv2
import numpy as np
import pytest

from pose.families.openpose.crops import face_boxes, hand_boxes
from pose.families.openpose.handface import HandFaceEstimator
from pose.families.openpose.spec import MODELS, PARTS
from tests.support import skeletons
from tests.support.cli_tools import assert_one_line_error, load_json, model_args, read_jsonl, run_tool, sandbox_project
from tests.support.nets import write_model
from tests.support.oracle import write_oracle_model
from tests.test_cli_oracle import NET, oracle_image

COCO = MODELS["COCO"]
CROPS = ("--hand_net_resolution", "64x64", "--face_net_resolution", "64")
FIELDS = (("hand_left_keypoints_2d", 21), ("hand_right_keypoints_2d", 21), ("face_keypoints_2d", 70))


@pytest.fixture(scope="module")
def project(tmp_path_factory, model_dir):
    """A sandbox whose pose/hand and pose/face hold narrow random nets, and the oracle body."""
    root = sandbox_project(tmp_path_factory.mktemp("project"))
    for name in ("HAND", "FACE"):
        spec = PARTS[name]
        proto, weights = write_model(model_dir, spec)
        folder = root / "pose" / spec.weights.relpath.split("/")[0]
        shutil.copy(proto, folder / spec.prototxt.name)
        shutil.copy(weights, root / "pose" / spec.weights.relpath)
    return root, model_args(*write_oracle_model(tmp_path_factory.mktemp("oracle"), COCO))


def _scene(tmp_path):
    """Two people big enough for face boxes (over 40 px): one raising both arms, one waving."""
    people = [skeletons.make(COCO, 1.0, at=(110, 80), scale=1.3, **skeletons.STOP).keypoints,
              skeletons.make(COCO, 1.0, at=(270, 110), scale=1.2, **skeletons.HELLO_RIGHT).keypoints]
    image = oracle_image(people, COCO)
    path = tmp_path / "scene.png"
    assert cv2.imwrite(str(path), image)
    return path, image


def _parts(person: dict) -> dict:
    return {f: np.asarray(person[f], float).reshape(n, 3) for f, n in FIELDS}


def test_image_tool_fills_hands_and_faces_as_the_api_does(tmp_path, project):
    root, oracle = project
    path, image = _scene(tmp_path)
    r = run_tool("image", "--image_file", path, "--output_dir", tmp_path / "out", "--hand", "--face",
                 *CROPS, *NET, *oracle, cwd=root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("COCO + hands 64x64 + face 64x64, definition ")
    # The sandbox's narrow nets lie where the downloads go: said, as for the body's weights.
    for name in ("HAND", "FACE"):
        assert f"warning: {PARTS[name].weights.path.name} is " in r.stderr and "not the official weights" in r.stderr
    data = load_json(tmp_path / "out" / "images" / "COCO" / "scene-COCO.json")
    assert len(data["people"]) == 2
    body = np.array([np.reshape(p["pose_keypoints_2d"], (-1, 3)) for p in data["people"]])
    assert (hand_boxes(body, COCO)[:, :, 2] > 0).all() and (face_boxes(body, COCO)[:, 2] > 0).all()
    # The same networks through the API, on the same image and the JSON's bodies.
    api = HandFaceEstimator(COCO, hand_net_resolution=64, face_net_resolution=64,
                            hand_weights=root / "pose" / PARTS["HAND"].weights.relpath,
                            hand_proto=root / "pose" / "hand" / "pose_deploy.prototxt",
                            face_weights=root / "pose" / PARTS["FACE"].weights.relpath,
                            face_proto=root / "pose" / "face" / "pose_deploy.prototxt")
    from pose.core.person import Person
    people = api(image, [Person(kp, 0.0) for kp in body])
    found = 0
    for person, mine in zip(data["people"], people):
        assert person["pose_class"]["gesture_rule"] in ("hands", "arms")
        got = _parts(person)
        for field, want in (("hand_left_keypoints_2d", mine.hand_left_keypoints),
                            ("hand_right_keypoints_2d", mine.hand_right_keypoints),
                            ("face_keypoints_2d", mine.face_keypoints)):
            np.testing.assert_allclose(got[field][:, :2], want[:, :2], atol=0.06)
            np.testing.assert_allclose(got[field][:, 2], want[:, 2], atol=2e-3)
            found += int((got[field][:, 2] > 0).sum())
    assert found > 0  # the random nets do find points; all of them match


def test_video_tool_gives_the_same_hands_and_faces(tmp_path, project):
    """A lossless 3-frame video of the same scene, through cv2.dnn this time (the Caffe
    files on OpenCV 4, the ONNX on OpenCV 5)."""
    root, oracle = project
    path, image = _scene(tmp_path)
    still = run_tool("image", "--image_file", path, "--output_dir", tmp_path / "img", "--hand", "--face",
                     "--quiet", "--precision", "f32", *CROPS, *NET, *oracle, cwd=root)  # as the Caffe route computes
    assert still.returncode == 0, still.stderr
    expected = load_json(tmp_path / "img" / "images" / "COCO" / "scene-COCO.json")["people"]
    clip = tmp_path / "scene.mkv"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"FFV1"), 10, image.shape[1::-1])
    for _ in range(3):
        writer.write(image)
    writer.release()
    r = run_tool("video", "--video_file", clip, "--output_dir", tmp_path / "vid", "--hand", "--face",
                 "--engine", "caffe" if hasattr(cv2.dnn, "readNetFromCaffe") else "onnx", *CROPS, *NET, *oracle,
                 cwd=root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("COCO + hands 64x64 + face 64x64, definition ")
    assert ("Caffe files" if hasattr(cv2.dnn, "readNetFromCaffe") else "ONNX") in r.stdout.splitlines()[0]
    lines = read_jsonl(tmp_path / "vid" / "videos" / "COCO" / "scene_COCO.jsonl")
    assert len(lines) == 3
    by_x = lambda people: sorted(people, key=lambda p: p["pose_keypoints_2d"][3])  # noqa: E731
    for frame in lines:
        for got, want in zip(by_x(frame["people"]), by_x(expected)):
            for field, parts in _parts(got).items():
                np.testing.assert_allclose(parts, _parts(want)[field], atol=2e-3)
    assert (tmp_path / "vid" / "videos" / "COCO" / "scene_skeleton_COCO.mp4").is_file()


def test_missing_part_weights_and_bad_crop_sizes_are_one_line(tmp_path, project):
    root, oracle = project
    path, _ = _scene(tmp_path)
    r = run_tool("image", "--image_file", path, "--output_dir", tmp_path, "--face", *NET, *oracle, cwd=root,
                 env={"OPENCV_HPE_HOME": str(tmp_path / "empty")})
    assert_one_line_error(r, 2, "weights not found:", "face/pose_iter_116000.caffemodel",
                          "(run ./getModels.sh face to download them)")
    r = run_tool("video", "--video_file", path, "--hand", "--hand_net_resolution", "368x296", cwd=root)
    assert_one_line_error(r, 2, "--hand_net_resolution", "square crops")
    r = run_tool("image", "--image_file", path, "--face_net_resolution", "100", cwd=root)
    assert_one_line_error(r, 2, "bad crop resolution '100x100': sides must be positive multiples of 8")
