"""Real keypoint annotations from ../shared/annotations, in OpenPose's layouts.

Sources (MMPose test data, Apache-2.0): COCO-17 (`coco/test_coco.json`; the feet of the
same people from `coco/test_coco_wholebody.json`), MPII-16 (`mpii/test_mpii.json`) and
Human3.6M-17 (`h36m/h36m_coco.json`, whose category lists the H36M joint order). Each
person is converted to OpenPose's COCO-18, MPI-15 and BODY_25 layouts, and to COCO-17
(pose.layouts.COCO17), as an (N, 3) array of x, y, visible (1.0) / missing (0.0).

Conversions (stated because OpenPose's layouts have parts the datasets lack):
- COCO-18 and BODY_25 Neck = midpoint of the two shoulders, BODY_25 MidHip = midpoint of
  the two hips (OpenPose's own training convention).
- BODY_25 feet: COCO-WholeBody's six foot points (left big toe, left small toe, left
  heel, right big toe, right small toe, right heel: BODY_25's order) where the
  whole-body file annotates them; MPII and Human3.6M have no feet.
- MPI-15 from MPII: Head = head top, Neck = upper neck, Chest = midpoint of thorax and
  pelvis (the part the MPI net links to both hips).
- MPI-15 from COCO: Head = nose (COCO has no head top), Neck = mid-shoulders,
  Chest = midpoint of Neck and mid-hips.
- Human3.6M: thorax = Neck, neck_base ("nose" in several H36M tools) = COCO Nose,
  head = MPI Head, Chest = midpoint of thorax and pelvis; no eyes or ears.
A derived part is present only when every part it is made from is.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
ANNOTATIONS = ROOT.parent / "shared" / "annotations"

# A part is a source index or ("mid", a, b) for the midpoint of two parts.
Part = Union[int, Tuple[str, object, object], None]

_COCO17 = {  # COCO-17 index by name
    "nose": 0, "leye": 1, "reye": 2, "lear": 3, "rear": 4, "lsho": 5, "rsho": 6,
    "lelb": 7, "relb": 8, "lwri": 9, "rwri": 10, "lhip": 11, "rhip": 12, "lkne": 13,
    "rkne": 14, "lank": 15, "rank": 16,
}
_c = _COCO17
_COCO_NECK = ("mid", _c["lsho"], _c["rsho"])
_COCO_MIDHIP = ("mid", _c["lhip"], _c["rhip"])
FOOT = 17  # the first COCO-WholeBody foot point, appended after COCO-17's
COCO17_TO = {
    "COCO": [_c["nose"], _COCO_NECK, _c["rsho"], _c["relb"], _c["rwri"], _c["lsho"], _c["lelb"],
             _c["lwri"], _c["rhip"], _c["rkne"], _c["rank"], _c["lhip"], _c["lkne"], _c["lank"],
             _c["reye"], _c["leye"], _c["rear"], _c["lear"]],
    "MPI": [_c["nose"], _COCO_NECK, _c["rsho"], _c["relb"], _c["rwri"], _c["lsho"], _c["lelb"],
            _c["lwri"], _c["rhip"], _c["rkne"], _c["rank"], _c["lhip"], _c["lkne"], _c["lank"],
            ("mid", _COCO_NECK, _COCO_MIDHIP)],
    "COCO17": list(range(17)),
    "BODY_25": [_c["nose"], _COCO_NECK, _c["rsho"], _c["relb"], _c["rwri"], _c["lsho"], _c["lelb"],
                _c["lwri"], _COCO_MIDHIP, _c["rhip"], _c["rkne"], _c["rank"], _c["lhip"], _c["lkne"],
                _c["lank"], _c["reye"], _c["leye"], _c["rear"], _c["lear"], *range(FOOT, FOOT + 6)],
}
# MPII: 0 rank 1 rkne 2 rhip 3 lhip 4 lkne 5 lank 6 pelvis 7 thorax 8 upper neck
#       9 head top 10 rwri 11 relb 12 rsho 13 lsho 14 lelb 15 lwri
MPII16_TO = {
    "COCO": [None, 8, 12, 11, 10, 13, 14, 15, 2, 1, 0, 3, 4, 5, None, None, None, None],
    "MPI": [9, 8, 12, 11, 10, 13, 14, 15, 2, 1, 0, 3, 4, 5, ("mid", 7, 6)],
    "BODY_25": [None, 8, 12, 11, 10, 13, 14, 15, 6, 2, 1, 0, 3, 4, 5] + [None] * 10,
    "COCO17": [None, None, None, None, None, 13, 12, 14, 11, 15, 10, 3, 2, 4, 1, 5, 0],
}
# H36M in its standard order: 0 pelvis 1 rhip 2 rknee 3 rfoot 4 lhip 5 lknee 6 lfoot
#   7 spine 8 thorax 9 neck_base 10 head 11 lsho 12 lelb 13 lwri 14 rsho 15 relb 16 rwri.
# (The file's category list names index 1 left_hip, but the frames show the standard
# order: with it, legs and arms of each person fall on the same side.)
H36M17_TO = {
    "COCO": [9, 8, 14, 15, 16, 11, 12, 13, 1, 2, 3, 4, 5, 6, None, None, None, None],
    "MPI": [10, 8, 14, 15, 16, 11, 12, 13, 1, 2, 3, 4, 5, 6, ("mid", 8, 0)],
    "BODY_25": [9, 8, 14, 15, 16, 11, 12, 13, 0, 1, 2, 3, 4, 5, 6] + [None] * 10,
    "COCO17": [9, None, None, None, None, 11, 14, 12, 15, 13, 16, 4, 1, 5, 2, 6, 3],
}


@dataclass
class AnnotatedImage:
    source: str  # coco | mpii | h36m
    image_path: Path
    image_size: Tuple[int, int]  # width, height
    # layout name ("COCO" / "MPI") -> list of (N, 3) arrays, one per person
    people: Dict[str, List[np.ndarray]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.source}/{self.image_path.name}"


def _resolve(part: Part, xy: np.ndarray, vis: np.ndarray) -> Tuple[float, float, float]:
    if part is None:
        return 0.0, 0.0, 0.0
    if isinstance(part, int):
        return (float(xy[part, 0]), float(xy[part, 1]), 1.0) if vis[part] else (0.0, 0.0, 0.0)
    _, a, b = part
    pa, pb = _resolve(a, xy, vis), _resolve(b, xy, vis)
    if pa[2] and pb[2]:
        return (pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2, 1.0
    return 0.0, 0.0, 0.0


def convert(xy: np.ndarray, vis: np.ndarray, table: Sequence[Part]) -> np.ndarray:
    """One person's source joints -> OpenPose layout (N, 3)."""
    return np.array([_resolve(p, xy, vis) for p in table], dtype=np.float64)


def _feet(path: Path) -> Dict[int, np.ndarray]:
    """COCO-WholeBody's (6, 3) foot points by annotation id; {} without the file."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {ann["id"]: np.asarray(ann["foot_kpts"], dtype=np.float64).reshape(6, 3)
            for ann in data["annotations"] if ann.get("foot_kpts")}


def _coco_like(path: Path, source: str, tables: dict, min_visible: int,
               feet: Optional[Dict[int, np.ndarray]] = None) -> List[AnnotatedImage]:
    data = json.loads(path.read_text())
    by_id = {im["id"]: im for im in data["images"]}
    out: Dict[int, AnnotatedImage] = {}
    for ann in data["annotations"]:
        kp = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
        vis = kp[:, 2] > 0
        if vis.sum() < min_visible:  # counted on the body's 17 points, as before the feet
            continue
        if feet is not None:
            kp = np.vstack([kp, feet.get(ann["id"], np.zeros((6, 3)))])
            vis = kp[:, 2] > 0
        im = by_id[ann["image_id"]]
        rec = out.setdefault(ann["image_id"], AnnotatedImage(
            source, path.parent / _image_file(path.parent, im["file_name"]),
            (im["width"], im["height"]), {k: [] for k in tables}))
        for layout, table in tables.items():
            rec.people[layout].append(convert(kp[:, :2], vis, table))
    return list(out.values())


def _image_file(folder: Path, name: str) -> str:
    if (folder / name).exists():
        return name
    hits = list(folder.rglob(name))
    return str(hits[0].relative_to(folder)) if hits else name


def _mpii(path: Path) -> List[AnnotatedImage]:
    import cv2  # only for image sizes, which MPII's json does not carry

    out = []
    for ann in json.loads(path.read_text()):
        xy = np.asarray(ann["joints"], dtype=np.float64)
        vis = np.asarray(ann["joints_vis"], dtype=bool) & (xy[:, 0] >= 0)
        img_path = path.parent / ann["image"]
        h, w = cv2.imread(str(img_path)).shape[:2]
        out.append(AnnotatedImage("mpii", img_path, (w, h),
                                  {k: [convert(xy, vis, t)] for k, t in MPII16_TO.items()}))
    return out


def load_all(root: Optional[Path] = None, min_visible: int = 5) -> List[AnnotatedImage]:
    """Every annotated image, people with at least `min_visible` labelled joints."""
    root = root or ANNOTATIONS
    feet = _feet(root / "coco" / "test_coco_wholebody.json")
    return (_coco_like(root / "coco" / "test_coco.json", "coco", COCO17_TO, min_visible, feet)
            + _mpii(root / "mpii" / "test_mpii.json")
            + _coco_like(root / "h36m" / "h36m_coco.json", "h36m", H36M17_TO, min_visible))
