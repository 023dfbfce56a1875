"""Hands and faces in the outputs: OpenPose's JSON fields and OpenPose-style drawing."""
import numpy as np

from pose.core.person import Person
from pose.families.openpose.spec import MODELS, PARTS
from pose.io import render
from pose.io.formats import EMPTY_FIELDS, PART_FIELDS, person_json, result_json
from tests.support import hands, skeletons

COCO = MODELS["COCO"]


def _person_with_parts():
    person = skeletons.make(COCO, at=(200, 100), scale=1.0)
    person.hand_right_keypoints = hands.make((150, 300), 90, scale=2.0, side="R")
    person.hand_left_keypoints = np.zeros((21, 3))  # estimated, nothing found
    face = np.zeros((70, 3))
    face[:68] = np.column_stack([200 + 40 * np.cos(np.linspace(0, 6, 68)), 60 + 40 * np.sin(np.linspace(0, 6, 68)),
                                 np.full(68, 0.61234)])
    person.face_keypoints = face
    return person


def test_json_fills_openposes_hand_and_face_fields():
    person = _person_with_parts()
    out = person_json(person)
    assert len(out["hand_right_keypoints_2d"]) == 63 and len(out["hand_left_keypoints_2d"]) == 63
    assert len(out["face_keypoints_2d"]) == 210
    assert out["hand_left_keypoints_2d"] == [0.0] * 63  # OpenPose writes zeros for a hand not found
    assert out["hand_right_keypoints_2d"][:3] == [150.0, 300.0, 0.8]
    assert out["face_keypoints_2d"][2] == 0.6123 and out["face_keypoints_2d"][-3:] == [0.0, 0.0, 0.0]
    # the 3-D fields stay empty; a body-only person keeps every field empty, as before
    assert all(out[f] == [] for f in EMPTY_FIELDS if f.endswith("_3d"))
    plain = person_json(Person(person.keypoints, 0.5))
    assert all(plain[name] == [] for name, _ in PART_FIELDS)
    frame = result_json([person], COCO, (400, 400), tracked=True, frame=3)
    assert frame["people"][0]["hand_right_keypoints_2d"] == out["hand_right_keypoints_2d"]


def test_hand_and_face_fields_follow_keypoint_scale_and_stay_in_openposes_own_files():
    person = _person_with_parts()
    scaled = person_json(person, image_size=(401, 401), keypoint_scale=3, extras=False)  # the --write_json files
    assert "score" not in scaled
    xy = np.asarray(scaled["hand_right_keypoints_2d"]).reshape(21, 3)[:, :2]
    np.testing.assert_allclose(xy, person.hand_right_keypoints[:, :2] / 400, atol=1e-6)
    assert scaled["hand_left_keypoints_2d"] == [0.0] * 63  # not found stays 0, 0, 0 at any scale


def test_hands_are_drawn_in_openposes_finger_colours_and_faces_in_white():
    person = _person_with_parts()
    image = render.draw_hands_and_faces(np.zeros((400, 400, 3), np.uint8), [person])
    kp = person.hand_right_keypoints
    spec = PARTS["HAND"]
    for a, b in ((9, 10), (13, 14), (1, 2)):  # middle, ring, thumb: a bone takes its end's colour
        x, y = np.rint((kp[a, :2] + kp[b, :2]) / 2).astype(int)
        near = image[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3)
        assert any(tuple(c) == tuple(spec.colors_rgb[b][::-1]) for c in near), (a, b, near)
    x, y = np.rint(person.face_keypoints[10, :2]).astype(int)
    assert tuple(image[y, x]) == (255, 255, 255)
    # nothing where no keypoint is: the left hand was all zeros
    assert not image[:5, :5].any()


def test_skeleton_view_adds_hands_and_faces_only_when_estimated():
    person = _person_with_parts()
    body_only = Person(person.keypoints.copy(), person.score)
    plain = render.skeleton_view(np.zeros((400, 400, 3), np.uint8), [body_only], COCO)
    with_parts = render.skeleton_view(np.zeros((400, 400, 3), np.uint8), [person], COCO)
    differ = np.any(plain != with_parts, axis=2)
    ys, xs = np.nonzero(differ)
    hand = person.hand_right_keypoints[:, :2]
    assert differ.sum() > 200
    # the changes sit on the hand and the face, nowhere else
    near_hand = (xs >= hand[:, 0].min() - 6) & (xs <= hand[:, 0].max() + 6) & (ys >= hand[:, 1].min() - 6)
    near_face = (np.hypot(xs - 200, ys - 60) < 47)
    assert (near_hand | near_face).all()
