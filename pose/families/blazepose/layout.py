"""BlazePose's 33 landmarks as data: names, bones, drawing colours and the mappings onto
COCO-17 (for COCO results and OKS) and OpenPose's COCO-18 (for the classification rules).

Names and bones follow MediaPipe (`mediapipe/python/solutions/pose_connections.py`,
`PoseLandmark`); the model's 34th and 35th points (hip centre and a point on the circle
that bounds the body) are auxiliary: the pipeline uses them for the next ROI and never
reports them.
"""
from __future__ import annotations

from typing import Dict, Tuple, Union

NAMES: Tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
INDEX: Dict[str, int] = {name: i for i, name in enumerate(NAMES)}
NUM_LANDMARKS = len(NAMES)  # 33
NUM_MODEL_POINTS = 39  # the landmark model's rows: 33 + 2 auxiliary (ROI) + 4 unused
AUX_HIP_CENTRE, AUX_SCALE = 33, 34

# MediaPipe's POSE_CONNECTIONS, in its order.
BONES: Tuple[Tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)


def side(index: int) -> str:
    """'left', 'right' or 'centre' from the landmark's name (the person's own side)."""
    name = NAMES[index]
    return "left" if name.startswith("left") else "right" if name.startswith("right") else "centre"


# BGR, by the person's side, as MediaPipe's default pose style colours them.
SIDE_COLOURS: Dict[str, Tuple[int, int, int]] = {"left": (0, 138, 255), "right": (231, 217, 0), "centre": (224, 224, 224)}
POINT_COLOURS: Tuple[Tuple[int, int, int], ...] = tuple(SIDE_COLOURS[side(i)] for i in range(NUM_LANDMARKS))
BONE_COLOURS: Tuple[Tuple[int, int, int], ...] = tuple(
    SIDE_COLOURS[side(a)] if side(a) == side(b) else SIDE_COLOURS["centre"] for a, b in BONES)

# COCO-17 keypoint i is BlazePose landmark COCO17[i] (nose, l/r eye, l/r ear, shoulders,
# elbows, wrists, hips, knees, ankles): every COCO body joint has a BlazePose twin.
COCO17_NAMES: Tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)
COCO17: Tuple[int, ...] = tuple(INDEX[n] for n in COCO17_NAMES)

# OpenPose COCO-18 (Nose, Neck, RShoulder, ..., LEar): a landmark index, or a pair whose
# midpoint it is (OpenPose's Neck is the middle of the shoulders).
Part = Union[int, Tuple[int, int]]
COCO18: Tuple[Part, ...] = (
    INDEX["nose"], (INDEX["left_shoulder"], INDEX["right_shoulder"]),
    INDEX["right_shoulder"], INDEX["right_elbow"], INDEX["right_wrist"],
    INDEX["left_shoulder"], INDEX["left_elbow"], INDEX["left_wrist"],
    INDEX["right_hip"], INDEX["right_knee"], INDEX["right_ankle"],
    INDEX["left_hip"], INDEX["left_knee"], INDEX["left_ankle"],
    INDEX["right_eye"], INDEX["left_eye"], INDEX["right_ear"], INDEX["left_ear"],
)

__all__ = ["AUX_HIP_CENTRE", "AUX_SCALE", "BONES", "BONE_COLOURS", "COCO17", "COCO17_NAMES", "COCO18", "INDEX", "NAMES",
           "NUM_LANDMARKS", "NUM_MODEL_POINTS", "POINT_COLOURS", "SIDE_COLOURS", "side"]
