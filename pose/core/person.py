"""The record every stage after decoding passes along: one detected person."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class PoseClass:
    """Gesture and posture labels of one person (see pose.classify)."""

    gesture: str = "unknown"  # hello | stop | none | unknown
    gesture_confidence: float = 0.0
    posture: str = "unknown"  # sitting | standing | lying | unknown
    posture_confidence: float = 0.0
    # Which gesture rule decided, where hand keypoints were estimated: "hands" (open hand,
    # palm) or "arms" (the hands told nothing); None without --hand.
    gesture_rule: Optional[str] = None


@dataclass
class Person:
    """One person: keypoints in original-image pixels.

    `keypoints` is (N, 3) float: x, y, confidence per part of the model's layout,
    with (0, 0, 0) for a part that was not found (OpenPose's convention).
    """

    keypoints: np.ndarray
    score: float
    track_id: int = -1
    pose_class: Optional[PoseClass] = None
    # OpenPose's --hand / --face results (pose.families.openpose.handface): (21, 3) per hand and (70, 3) for
    # the face, image pixels, (0, 0, 0) where not found (all zeros when the body gave no
    # box); None when not estimated at all.
    hand_left_keypoints: Optional[np.ndarray] = None
    hand_right_keypoints: Optional[np.ndarray] = None
    face_keypoints: Optional[np.ndarray] = None

    def visible(self, min_confidence: float = 0.0) -> np.ndarray:
        """Boolean mask of the parts that were found (confidence above the bound)."""
        return self.keypoints[:, 2] > min_confidence
