"""Keypoint layouts of MMPose's body models, as data: COCO-17 (`human`, RTMPose, RTMO) and
Halpe-26 (`body_with_feet`: COCO-17 plus head, neck, hip and six foot points).

Names, bones and colours are MMPose's (configs/_base_/datasets/coco.py and halpe26.py);
the colours there are RGB, `bgr()` gives them in OpenCV's order. Kept apart from the
family's code so that the restructure can move this module to pose/layouts unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

Color = Tuple[int, int, int]

# MMPose's three colours: blue for the middle, green for the left side, orange for the right.
_MID: Color = (51, 153, 255)
_LEFT: Color = (0, 255, 0)
_RIGHT: Color = (255, 128, 0)


@dataclass(frozen=True)
class Layout:
    name: str
    keypoints: Tuple[str, ...]
    bones: Tuple[Tuple[int, int], ...]   # index pairs into `keypoints`
    keypoint_colors: Tuple[Color, ...]   # RGB, one per keypoint
    bone_colors: Tuple[Color, ...]       # RGB, one per bone
    sigmas: Tuple[float, ...]            # COCO OKS sigmas (MMPose's dataset files)

    @property
    def n_keypoints(self) -> int:
        return len(self.keypoints)

    def index(self, name: str) -> int:
        return self.keypoints.index(name)

    def bgr(self, color: Color) -> Color:
        return color[2], color[1], color[0]


def _layout(name: str, points: Tuple[Tuple[str, Color], ...], links: Tuple[Tuple[str, str, Color], ...],
            sigmas: Tuple[float, ...]) -> Layout:
    names = tuple(p for p, _ in points)
    return Layout(name, names, tuple((names.index(a), names.index(b)) for a, b, _ in links),
                  tuple(c for _, c in points), tuple(c for _, _, c in links), sigmas)


_COCO_POINTS = (
    ("nose", _MID), ("left_eye", _MID), ("right_eye", _MID), ("left_ear", _MID), ("right_ear", _MID),
    ("left_shoulder", _LEFT), ("right_shoulder", _RIGHT), ("left_elbow", _LEFT), ("right_elbow", _RIGHT),
    ("left_wrist", _LEFT), ("right_wrist", _RIGHT), ("left_hip", _LEFT), ("right_hip", _RIGHT),
    ("left_knee", _LEFT), ("right_knee", _RIGHT), ("left_ankle", _LEFT), ("right_ankle", _RIGHT),
)
_FACE_LINKS = (
    ("left_eye", "right_eye", _MID), ("nose", "left_eye", _MID), ("nose", "right_eye", _MID),
    ("left_eye", "left_ear", _MID), ("right_eye", "right_ear", _MID),
    ("left_ear", "left_shoulder", _MID), ("right_ear", "right_shoulder", _MID),
)
_COCO_SIGMAS = (0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
                0.107, 0.107, 0.087, 0.087, 0.089, 0.089)

COCO17 = _layout("coco17", _COCO_POINTS, (
    ("left_ankle", "left_knee", _LEFT), ("left_knee", "left_hip", _LEFT),
    ("right_ankle", "right_knee", _RIGHT), ("right_knee", "right_hip", _RIGHT),
    ("left_hip", "right_hip", _MID), ("left_shoulder", "left_hip", _MID), ("right_shoulder", "right_hip", _MID),
    ("left_shoulder", "right_shoulder", _MID), ("left_shoulder", "left_elbow", _LEFT),
    ("right_shoulder", "right_elbow", _RIGHT), ("left_elbow", "left_wrist", _LEFT),
    ("right_elbow", "right_wrist", _RIGHT),
) + _FACE_LINKS, _COCO_SIGMAS)

# MMPose colours all of Halpe's extra points orange, the left foot's bones green.
HALPE26 = _layout("halpe26", _COCO_POINTS + (
    ("head", _RIGHT), ("neck", _RIGHT), ("hip", _RIGHT), ("left_big_toe", _RIGHT), ("right_big_toe", _RIGHT),
    ("left_small_toe", _RIGHT), ("right_small_toe", _RIGHT), ("left_heel", _RIGHT), ("right_heel", _RIGHT),
), (
    ("left_ankle", "left_knee", _LEFT), ("left_knee", "left_hip", _LEFT), ("left_hip", "hip", _LEFT),
    ("right_ankle", "right_knee", _RIGHT), ("right_knee", "right_hip", _RIGHT), ("right_hip", "hip", _RIGHT),
    ("head", "neck", _MID), ("neck", "hip", _MID), ("neck", "left_shoulder", _LEFT),
    ("left_shoulder", "left_elbow", _LEFT), ("left_elbow", "left_wrist", _LEFT), ("neck", "right_shoulder", _RIGHT),
    ("right_shoulder", "right_elbow", _RIGHT), ("right_elbow", "right_wrist", _RIGHT),
) + _FACE_LINKS + (
    ("left_ankle", "left_big_toe", _LEFT), ("left_ankle", "left_small_toe", _LEFT), ("left_ankle", "left_heel", _LEFT),
    ("right_ankle", "right_big_toe", _RIGHT), ("right_ankle", "right_small_toe", _RIGHT),
    ("right_ankle", "right_heel", _RIGHT),
), _COCO_SIGMAS + (0.026, 0.026, 0.066, 0.079, 0.079, 0.079, 0.079, 0.079, 0.079))

LAYOUTS: Dict[int, Layout] = {COCO17.n_keypoints: COCO17, HALPE26.n_keypoints: HALPE26}


def layout_for(n_keypoints: int) -> Layout:
    """The layout of a network with `n_keypoints` outputs (17 or 26)."""
    try:
        return LAYOUTS[n_keypoints]
    except KeyError:
        raise ValueError(f"no body layout with {n_keypoints} keypoints (known: 17 COCO, 26 Halpe)") from None


__all__ = ["COCO17", "HALPE26", "LAYOUTS", "Layout", "layout_for"]
