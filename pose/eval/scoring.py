"""Scoring COCO keypoint results against a COCO keypoint annotation file: OKS AP and AR
(pycocotools' COCOeval, the COCO challenge's own numbers) and per-joint PCK (the share of
annotated joints within alpha times the annotated box's longer side, a person not found
missing all of its joints), with the people matched greedily by OKS per image.

Results are the tools' COCO results (pose.io.formats.coco_results: any layout through its
`coco17` mapping), so every family is scored alike.
"""
from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from pose.core.errors import InputError, UsageError
from pose.core.layout import COCO17_NAMES

# COCO's per-keypoint OKS sigmas (pycocotools' COCOeval.kpt_oks_sigmas), COCO-17 order.
COCO_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0
# pycocotools' COCOeval stats for keypoints, in its order.
AP_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
PCK_ALPHAS = (0.05, 0.1)


def load_annotations(path: Path) -> dict:
    """A COCO keypoint annotation file, checked: images, annotations with 17 keypoints
    each, in COCO-17's order where the category names them. One line for what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such annotation file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(data.get("annotations"), list):
        raise InputError(f"{path}: not a COCO annotation file (it needs \"images\" and \"annotations\" lists)")
    for category in data.get("categories") or []:
        names = category.get("keypoints")
        if names is not None and tuple(names) != COCO17_NAMES:
            raise InputError(f"{path}: category {category.get('name', category.get('id'))!r} has keypoints "
                             f"{', '.join(map(str, names[:5]))}{', ...' if len(names) > 5 else ''} ({len(names)}), "
                             "not COCO-17's (nose, left_eye, ...): only COCO-17 annotations are scored")
    for ann in data["annotations"]:
        if len(ann.get("keypoints") or []) != 51:
            raise InputError(f"{path}: annotation {ann.get('id')} has {len(ann.get('keypoints') or []) // 3} keypoints, "
                             "not COCO-17's 17")
    data.setdefault("categories", [{"id": 1, "name": "person", "keypoints": list(COCO17_NAMES)}])
    return data


def oks(truth: np.ndarray, area: float, found: np.ndarray) -> float:
    """Object keypoint similarity of one found person (17, 3) with one annotated (17, 3)."""
    labelled = truth[:, 2] > 0
    if not labelled.any():
        return 0.0
    d2 = ((truth[:, :2] - found[:, :2]) ** 2).sum(1)
    e = d2 / (2 * (2 * COCO_SIGMAS) ** 2 * (area + np.spacing(1)))
    return float(np.exp(-e)[labelled].mean())


def match(annotations: Sequence[dict], results: Sequence[dict]) -> List[Tuple[dict, Optional[np.ndarray]]]:
    """Each annotated person (crowds left out) with the found one it best overlaps, greedily
    by OKS per image: [(annotation, found (17, 3) or None)]."""
    by_image: Dict[int, List[np.ndarray]] = {}
    for r in results:
        by_image.setdefault(r["image_id"], []).append(np.asarray(r["keypoints"], np.float64).reshape(17, 3))
    people: Dict[int, List[dict]] = {}
    for ann in annotations:
        if not ann.get("iscrowd"):
            people.setdefault(ann["image_id"], []).append(ann)
    pairs: List[Tuple[dict, Optional[np.ndarray]]] = []
    for image_id, anns in people.items():
        found = by_image.get(image_id, [])
        scores = np.array([[oks(np.asarray(a["keypoints"], np.float64).reshape(17, 3), a.get("area") or _box_area(a), f)
                            for f in found] for a in anns]).reshape(len(anns), len(found))
        used_a, used_f = set(), set()
        for flat in np.argsort(-scores, axis=None, kind="stable"):
            i, j = np.unravel_index(flat, scores.shape)
            if i in used_a or j in used_f or scores[i, j] <= 0:
                continue
            used_a.add(i)
            used_f.add(j)
            pairs.append((anns[i], found[j]))
        pairs += [(anns[i], None) for i in range(len(anns)) if i not in used_a]
    return pairs


def _box_area(ann: dict) -> float:
    box = ann.get("bbox") or [0, 0, 0, 0]
    return float(box[2] * box[3])


@dataclass
class Pck:
    """Per COCO-17 joint: annotated joints (`labelled`) and those found within alpha x the
    box's longer side (`hits[alpha]`)."""

    labelled: np.ndarray
    hits: Dict[float, np.ndarray]

    def rate(self, alpha: float) -> np.ndarray:
        """Per joint, NaN where no annotation has the joint."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.hits[alpha] / self.labelled

    def overall(self, alpha: float) -> float:
        total = self.labelled.sum()
        return float(self.hits[alpha].sum() / total) if total else float("nan")


def pck(pairs: Sequence[Tuple[dict, Optional[np.ndarray]]], alphas: Sequence[float] = PCK_ALPHAS) -> Pck:
    """PCK of matched pairs: a joint counts where annotated (v > 0); a found keypoint with
    v = 0 (not found) or a person not found misses."""
    labelled = np.zeros(17)
    hits = {a: np.zeros(17) for a in alphas}
    for ann, found in pairs:
        truth = np.asarray(ann["keypoints"], np.float64).reshape(17, 3)
        seen = truth[:, 2] > 0
        labelled += seen
        if found is None:
            continue
        side = max(float(v) for v in (ann.get("bbox") or [0, 0, 1, 1])[2:4])
        dist = np.hypot(*(truth[:, :2] - found[:, :2]).T)
        for a in alphas:
            hits[a] += seen & (found[:, 2] > 0) & (dist <= a * side)
    return Pck(labelled, hits)


def pycocotools_problem() -> Optional[str]:
    """Why AP cannot be computed here (pycocotools missing or broken), None if it can."""
    try:
        from pycocotools.coco import COCO  # noqa: F401
        from pycocotools.cocoeval import COCOeval  # noqa: F401
    except ImportError as exc:
        if getattr(exc, "name", None) == "pycocotools":
            return "pycocotools is not installed (pip install pycocotools)"
        return f"pycocotools fails to import ({exc})"
    return None


def coco_ap(ground: dict, results: Sequence[dict], image_ids: Sequence[int]) -> Dict[str, float]:
    """pycocotools' keypoint AP and AR (AP_NAMES) over `image_ids`, quietly."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not results:
        return {name: 0.0 for name in AP_NAMES}
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = dict(ground)
        truth.createIndex()
        found = truth.loadRes([dict(r) for r in results])
        ev = COCOeval(truth, found, "keypoints")
        ev.params.imgIds = sorted(set(int(i) for i in image_ids))
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {name: float(v) for name, v in zip(AP_NAMES, ev.stats)}


def check_ids(data: dict) -> None:
    """Image ids unique, every annotation's image known: pycocotools would fail obscurely."""
    ids = [im.get("id") for im in data["images"]]
    if len(set(ids)) != len(ids):
        raise UsageError("the annotation file repeats an image id")
    known = set(ids)
    stray = [a.get("id") for a in data["annotations"] if a.get("image_id") not in known]
    if stray:
        raise InputError(f"annotation {stray[0]} names an image the file does not list ({len(stray)} such)")


__all__ = ["AP_NAMES", "COCO_SIGMAS", "PCK_ALPHAS", "Pck", "check_ids", "coco_ap", "load_annotations", "match", "oks",
           "pck", "pycocotools_problem"]
