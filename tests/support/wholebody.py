"""Annotated hands and faces: ../shared/annotations/coco/test_coco_wholebody.json
(COCO-WholeBody, MMPose test data, Apache-2.0) with each person's body converted to
OpenPose's layouts (tests/support/annotations.py's conversions; BODY_25 adds MidHip, the
midpoint of the hips, and has no feet here).

COCO-WholeBody's "lefthand" is the person's left hand, OpenPose's "hand_left". Its face
has the 68 landmarks of OpenPose's face model, without the two pupils.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from pose.families.openpose.spec import MODELS
from tests.support.annotations import ANNOTATIONS, COCO17_TO, _c, convert

FILE = Path("coco") / "test_coco_wholebody.json"
_HIPS = ("mid", _c["lhip"], _c["rhip"])
LAYOUTS: Dict[str, list] = {
    **{name: table for name, table in COCO17_TO.items() if name in MODELS},
    "BODY_25": [_c["nose"], COCO17_TO["COCO"][1], _c["rsho"], _c["relb"], _c["rwri"], _c["lsho"], _c["lelb"],
                _c["lwri"], _HIPS, _c["rhip"], _c["rkne"], _c["rank"], _c["lhip"], _c["lkne"], _c["lank"],
                _c["reye"], _c["leye"], _c["rear"], _c["lear"]] + [None] * 6,
}
assert all(len(t) == MODELS[n].n_keypoints for n, t in LAYOUTS.items())


@dataclass
class WholeBodyPerson:
    image_path: Path
    image_size: Tuple[int, int]  # width, height
    body: Dict[str, np.ndarray]  # layout name -> (N, 3): x, y, 1 visible / 0 missing
    # Annotated part keypoints (K, 3), third column > 0 where labelled, and the annotated
    # box (x, y, w, h); None where the annotation marks the part invalid.
    left_hand: Optional[np.ndarray]
    right_hand: Optional[np.ndarray]
    face: Optional[np.ndarray]
    boxes: Dict[str, np.ndarray]  # "left_hand" | "right_hand" | "face" -> (4,)


def load(root: Optional[Path] = None) -> List[WholeBodyPerson]:
    """Every annotated person of the file (those without any body keypoint left out)."""
    path = (root or ANNOTATIONS) / FILE
    data = json.loads(path.read_text())
    images = {im["id"]: im for im in data["images"]}
    out = []
    for ann in data["annotations"]:
        kp = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
        vis = kp[:, 2] > 0
        if not vis.any():
            continue
        im = images[ann["image_id"]]

        def part(key: str, valid: str, n: int) -> Optional[np.ndarray]:
            if not ann[valid]:
                return None
            points = np.asarray(ann[key], dtype=np.float64).reshape(n, 3)
            return np.column_stack([points[:, :2], points[:, 2] > 0]).astype(np.float64)

        out.append(WholeBodyPerson(
            image_path=path.parent / im["file_name"], image_size=(im["width"], im["height"]),
            body={name: convert(kp[:, :2], vis, table) for name, table in LAYOUTS.items()},
            left_hand=part("lefthand_kpts", "lefthand_valid", 21),
            right_hand=part("righthand_kpts", "righthand_valid", 21),
            face=part("face_kpts", "face_valid", 68),
            boxes={"left_hand": np.asarray(ann["lefthand_box"], float),
                   "right_hand": np.asarray(ann["righthand_box"], float),
                   "face": np.asarray(ann["face_box"], float)}))
    return out


def iou(square: np.ndarray, box: np.ndarray) -> float:
    """IoU of a square (x, y, side) and a box (x, y, w, h)."""
    ax0, ay0, s = square
    bx0, by0, bw, bh = box
    w = max(0.0, min(ax0 + s, bx0 + bw) - max(ax0, bx0))
    h = max(0.0, min(ay0 + s, by0 + bh) - max(ay0, by0))
    inter = w * h
    union = s * s + bw * bh - inter
    return inter / union if union > 0 else 0.0


def inside(square: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Which labelled points (K, 3) lie inside the square (x, y, side)."""
    x0, y0, s = square
    xy = points[points[:, 2] > 0, :2]
    return (xy[:, 0] >= x0) & (xy[:, 0] <= x0 + s) & (xy[:, 1] >= y0) & (xy[:, 1] <= y0 + s)
