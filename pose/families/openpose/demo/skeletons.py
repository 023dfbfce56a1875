"""Canonical skeletons built in code, in any layout, for the classify and track tests.

A body facing the camera (its right side on the image's left), neck at `at`, limbs
given as directions in degrees above the image horizontal (y down): -90 = straight
down, 90 = straight up, 0 = toward the image's right. Segment lengths are in pixels
for scale 1 (torso, neck -> mid-hip, is 100). BODY_25's MidHip is the mid-hip; its feet
(heel, big toe, small toe) sit below each ankle, toes toward the camera: the big toe
toward the body's middle, the small toe outward.
"""
from __future__ import annotations

from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from pose.core.person import Person
from pose.families.openpose.spec import ModelSpec

TORSO, SHOULDER, HIP, UPPER_ARM, FOREARM, THIGH, SHIN, HEAD = 100, 30, 18, 55, 50, 85, 85, 35
DOWN, UP = -90.0, 90.0
# Foot points from the ankle (x outward from the body's middle, y down), scale 1.
HEEL, BIG_TOE, SMALL_TOE = (0.0, 12.0), (8.0, 26.0), (10.0, 24.0)


def _step(start: np.ndarray, angle_deg: float, length: float) -> np.ndarray:
    a = np.radians(angle_deg)
    return start + length * np.array([np.cos(a), -np.sin(a)])


def joints(at: Tuple[float, float] = (300.0, 150.0), scale: float = 1.0, *,
           upper_arm: Tuple[float, float] = (DOWN, DOWN),
           forearm: Tuple[float, float] = (DOWN, DOWN),
           thigh: Tuple[float, float] = (DOWN, DOWN),
           shin: Tuple[float, float] = (DOWN, DOWN),
           thigh_length: Tuple[float, float] = (1.0, 1.0),
           rotate: float = 0.0) -> Dict[str, np.ndarray]:
    """Named joint positions. (right, left) pairs per limb; `thigh_length` scales the
    thigh (foreshortening); `rotate` turns the whole body about the mid-hip, degrees
    counter-clockwise on screen (90 = lying with the head to the left)."""
    neck = np.asarray(at, dtype=np.float64)
    s = scale
    mid_hip = neck + [0, TORSO * s]
    j = {"Neck": neck, "Nose": neck - [0, HEAD * s * 0.6], "Head": neck - [0, HEAD * s],
         "REye": neck + [-6 * s, -HEAD * s * 0.75], "LEye": neck + [6 * s, -HEAD * s * 0.75],
         "REar": neck + [-12 * s, -HEAD * s * 0.65], "LEar": neck + [12 * s, -HEAD * s * 0.65],
         "Chest": (neck + mid_hip) / 2, "MidHip": mid_hip}
    for k, side, sign in ((0, "R", -1), (1, "L", 1)):
        sh = neck + [sign * SHOULDER * s, 0]
        el = _step(sh, upper_arm[k], UPPER_ARM * s)
        hip = mid_hip + [sign * HIP * s, 0]
        knee = _step(hip, thigh[k], THIGH * s * thigh_length[k])
        ankle = _step(knee, shin[k], SHIN * s)
        j.update({side + "Shoulder": sh, side + "Elbow": el,
                  side + "Wrist": _step(el, forearm[k], FOREARM * s),
                  side + "Hip": hip, side + "Knee": knee, side + "Ankle": ankle,
                  side + "Heel": ankle + np.array(HEEL) * s,
                  side + "BigToe": ankle + np.array([-sign * BIG_TOE[0], BIG_TOE[1]]) * s,
                  side + "SmallToe": ankle + np.array([sign * SMALL_TOE[0], SMALL_TOE[1]]) * s})
    if rotate:
        a = np.radians(-rotate)  # counter-clockwise on screen, where y points down
        r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        j = {n: mid_hip + r @ (p - mid_hip) for n, p in j.items()}
    return j


def person(spec: ModelSpec, named: Dict[str, np.ndarray], confidence: float = 0.9,
           missing: Iterable[str] = (), low: Optional[Dict[str, float]] = None) -> Person:
    """A Person in `spec`'s layout; `missing` joints get OpenPose's (0, 0, 0) and `low`
    sets individual confidences."""
    kp = np.zeros((spec.n_keypoints, 3))
    for i, name in enumerate(spec.keypoints):
        if name in named and name not in missing:
            kp[i] = (*named[name], confidence)
    for name, c in (low or {}).items():
        kp[spec.index(name), 2] = c
    return Person(kp, score=confidence)


def make(spec: ModelSpec, confidence: float = 0.9, missing: Iterable[str] = (),
         low: Optional[Dict[str, float]] = None, **pose) -> Person:
    """Shorthand: person(spec, joints(**pose), ...)."""
    return person(spec, joints(**pose), confidence, missing, low)


# Canonical poses (keyword arguments of joints()).
STANDING = {}
HELLO_RIGHT = {"upper_arm": (180.0, DOWN), "forearm": (UP, DOWN)}  # elbow out, hand up
HELLO_LEFT = {"upper_arm": (DOWN, 0.0), "forearm": (DOWN, UP)}
STOP = {"upper_arm": (180.0, 0.0), "forearm": (UP, UP)}
SITTING_SIDE = {"thigh": (0.0, 0.0), "shin": (DOWN, DOWN)}  # thighs level, shins down
SITTING_FRONT = {"thigh": (DOWN, DOWN), "thigh_length": (0.3, 0.3)}  # thighs toward camera
SQUAT = {"thigh": (20.0, 20.0), "shin": (-135.0, -135.0)}  # knees above hips, folded to 25 deg
LYING = {"rotate": 90.0}
