"""Gestures with hand keypoints (--hand): open hands, palms, and which rule decided."""
import numpy as np
import pytest

from pose.analysis.classify import (
    DEFAULT_THRESHOLDS,
    ClassifyThresholds,
    Decision,
    classify,
    finger_extended,
    hand_open,
    palm_facing,
    pose_class_json,
)
from pose.analysis.track import Tracker
from pose.families.openpose.spec import MODELS
from tests.support import hands, skeletons

COCO = MODELS["COCO"]
TH = DEFAULT_THRESHOLDS


@pytest.mark.parametrize("direction", [90, 60, 0, -45, -90, 170])
@pytest.mark.parametrize("side", "RL")
def test_open_hands_fists_and_palms_in_any_rotation(direction, side):
    for palm in (True, False):
        open_palm = hands.make((200, 200), direction, side=side, palm=palm)
        fist = hands.make((200, 200), direction, side=side, palm=palm, open_hand=False)
        assert hand_open(open_palm, TH) == Decision(True, 0.8)  # as sure as the keypoints
        assert hand_open(fist, TH).value is False
        assert palm_facing(open_palm, side, TH).value is palm
        assert palm_facing(fist, side, TH).value is palm
        # The other hand's rule reads the same picture the other way round.
        assert palm_facing(open_palm, "L" if side == "R" else "R", TH).value is (not palm)


def test_finger_measures_have_real_thresholds():
    h = hands.make(side="R")
    assert all(finger_extended(h, f, TH).value for f in range(5))
    bent = h.copy()
    bent[8, :2] = bent[6, :2] + (bent[5, :2] - bent[6, :2]) * 0.5  # index tip folded back to its base
    assert finger_extended(bent, 1, TH).value is False
    assert hand_open(bent, TH).value is True  # four fingers still out
    bent[12, :2] = bent[10, :2] + (bent[9, :2] - bent[10, :2]) * 0.5
    assert hand_open(bent, TH).value is False
    assert hand_open(bent, ClassifyThresholds(open_fingers=3)).value is True


def test_unseen_hands_are_unknown_not_closed():
    h = hands.make(side="R")
    assert hand_open(None, TH).value is None
    few = h.copy()
    few[[4, 8, 12], 2] = 0  # three fingertips not found: only 2 fingers known
    assert hand_open(few, TH).value is None
    edge_on = h.copy()
    edge_on[17, :2] = edge_on[5, :2] + (edge_on[5, :2] - edge_on[0, :2]) * 0.01  # little base in line with index
    assert palm_facing(edge_on, "R", TH).value is None
    low = h.copy()
    low[:, 2] = 0.05  # below min_keypoint_confidence
    assert hand_open(low, TH).value is None and palm_facing(low, "R", TH).value is None


def _person(pose, right=None, left=None, scale=1.0):
    p = skeletons.make(COCO, at=(300, 150), scale=scale, **pose)
    kp = {n: p.keypoints[COCO.index(n), :2] for n in ("RWrist", "LWrist", "RElbow", "LElbow")}
    for side, hand in (("R", right), ("L", left)):
        if hand is not None:
            direction = np.degrees(np.arctan2(-(kp[side + "Wrist"][1] - kp[side + "Elbow"][1]),
                                              kp[side + "Wrist"][0] - kp[side + "Elbow"][0]))
            made = hand(tuple(kp[side + "Wrist"]), direction, side)
            setattr(p, "hand_right_keypoints" if side == "R" else "hand_left_keypoints", made)
    return p


OPEN = lambda wrist, d, side: hands.make(wrist, d, side=side)  # noqa: E731
BACK = lambda wrist, d, side: hands.make(wrist, d, side=side, palm=False)  # noqa: E731
FIST = lambda wrist, d, side: hands.make(wrist, d, side=side, open_hand=False)  # noqa: E731
UNSEEN = lambda wrist, d, side: np.zeros((21, 3))  # noqa: E731


@pytest.mark.parametrize("pose, right, left, gesture, rule", [
    (skeletons.STOP, OPEN, OPEN, "stop", "hands"),  # both up, palms out
    (skeletons.STOP, OPEN, BACK, "stop", "hands"),  # one palm out is enough
    (skeletons.STOP, BACK, BACK, "hello", "hands"),  # waving both hands, backs to the camera
    (skeletons.STOP, FIST, FIST, "none", "hands"),  # fists up: neither greeting nor stop
    (skeletons.STOP, FIST, OPEN, "stop", "hands"),
    (skeletons.STOP, UNSEEN, OPEN, "stop", "arms"),  # a raised hand unseen: the arms decide
    (skeletons.HELLO_RIGHT, OPEN, FIST, "hello", "hands"),  # the lowered left fist does not matter
    (skeletons.HELLO_RIGHT, BACK, None, "hello", "hands"),
    (skeletons.HELLO_RIGHT, FIST, OPEN, "none", "hands"),  # the raised hand is a fist
    (skeletons.HELLO_LEFT, UNSEEN, OPEN, "hello", "hands"),
    (skeletons.STANDING, OPEN, OPEN, "none", "arms"),  # nothing raised: the hands add nothing
])
def test_gesture_with_hands(pose, right, left, gesture, rule):
    person = _person(pose, right, left)
    pc = classify(person, COCO)
    assert (pc.gesture, pc.gesture_rule) == (gesture, rule)
    assert 0.5 <= pc.gesture_confidence <= 0.9
    assert pose_class_json(pc)["gesture_rule"] == rule


def test_without_hands_nothing_changes():
    person = _person(skeletons.STOP)
    pc = classify(person, COCO)
    assert (pc.gesture, pc.gesture_rule) == ("stop", None)
    assert "gesture_rule" not in pose_class_json(pc)


def test_tracking_keeps_the_rule():
    person = _person(skeletons.HELLO_RIGHT, OPEN, FIST)
    Tracker(COCO).update([person], 0.0)
    assert (person.pose_class.gesture, person.pose_class.gesture_rule) == ("hello", "hands")
