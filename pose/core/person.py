"""The record every stage after decoding passes along: one detected person."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np


@dataclass
class PoseClass:
    """Gesture and posture labels of one person (see pose.analysis.classify)."""

    gesture: str = "unknown"  # hello | stop | none | unknown
    gesture_confidence: float = 0.0
    posture: str = "unknown"  # sitting | standing | lying | unknown
    posture_confidence: float = 0.0
    # Which gesture rule decided, where hand keypoints were estimated: "hands" (open hand,
    # palm) or "arms" (the hands told nothing); None without --hand.
    gesture_rule: Optional[str] = None


# The extra keypoint sets a person may carry, by name: Person attribute <name>_keypoints.
EXTRA_KEYPOINTS = ("hand_left", "hand_right", "face")


@dataclass
class Person:
    """One person, as every family reports it: keypoints in original-image pixels.

    `keypoints` is (N, 3) float: x, y, confidence per keypoint of the model's layout
    (pose.core.layout), with (0, 0, 0) for a keypoint that was not found (OpenPose's
    convention). `score` is the person's. Where the family gives them: `box` (x0, y0, x1,
    y1) in image pixels and its `box_score` (top-down families' person detector), and
    `visibility` (N,) in [0, 1] (BlazePose's: in frame and not occluded, apart from the
    confidence). The runs set `track_id` (video) and `pose_class`.
    """

    keypoints: np.ndarray
    score: float
    track_id: int = -1
    pose_class: Optional[PoseClass] = None
    # The hands (21, 3) each and the face (70, 3), image pixels, (0, 0, 0) where not found
    # (all zeros when the body gave no box to look in); None when not estimated at all
    # (OpenPose: pose.families.openpose.handface).
    hand_left_keypoints: Optional[np.ndarray] = None
    hand_right_keypoints: Optional[np.ndarray] = None
    face_keypoints: Optional[np.ndarray] = None
    box: Optional[np.ndarray] = None
    box_score: Optional[float] = None
    visibility: Optional[np.ndarray] = None

    def visible(self, min_confidence: float = 0.0) -> np.ndarray:
        """Boolean mask of the keypoints that were found (confidence above the bound)."""
        return self.keypoints[:, 2] > min_confidence

    def extra_keypoints(self) -> Dict[str, np.ndarray]:
        """The extra keypoint sets estimated (EXTRA_KEYPOINTS' names), by name."""
        sets = ((name, getattr(self, f"{name}_keypoints")) for name in EXTRA_KEYPOINTS)
        return {name: keypoints for name, keypoints in sets if keypoints is not None}
