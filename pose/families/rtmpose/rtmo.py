"""RTMO, MMPose's one-stage multi-person model (no detector), through its end2end.onnx:
input "input" (1, 3, 640, 640), outputs "dets" (1, N, 5: x1, y1, x2, y2, score) and
"keypoints" (1, N, 17, 3: x, y, score), in input pixels.

As rtmlib runs it (tools/pose_estimation/rtmo.py): the frame letterboxed to the top-left
on grey 114, raw BGR pixels (mean 0, std 1); boxes and keypoints divided by the resize
ratio; then an NMS over the boxes (IoU 0.45) keeping scores above 0.7. mmpose's own
test_cfg keeps more (score 0.1, NMS 0.65): both are parameters.

cv2.dnn 4.11 fails on the real graph's TopK ("K is out of range", rtmo-ort issue #1); the
runner refuses it in one line when it cannot load or run the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

from pose.families.rtmpose.detector import letterbox
from pose.families.rtmpose.estimator import TopDownPerson, person_score
from pose.families.rtmpose.facts import RTMO_NMS, RTMO_SCORE
from pose.families.rtmpose.runtime import Runner


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by a greedy single-class NMS, best first. IoU without the +1 of
    rtmlib's copy (mmcv's nms uses offset 0 for these models)."""
    order = np.argsort(-scores, kind="stable")
    boxes = boxes[order]
    area = np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    # all pairwise IoUs at once: N is a few hundred at most
    lo = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), -1)
    iou = inter / np.maximum(area[:, None] + area[None] - inter, 1e-9)
    keep = np.ones(len(boxes), bool)
    for i in range(len(boxes)):
        if keep[i]:
            keep[i + 1:] &= iou[i, i + 1:] <= iou_threshold
    return order[keep]


def rtmo_people(dets: np.ndarray, keypoints: np.ndarray, ratio: float, score_threshold: float = RTMO_SCORE,
                nms_threshold: float = RTMO_NMS) -> List[TopDownPerson]:
    """End2end outputs (1, N, 5) and (1, N, K, 3) -> people in frame pixels, best first."""
    dets = np.asarray(dets, np.float64).reshape(-1, 5)
    kps = np.asarray(keypoints, np.float64).reshape(len(dets), -1, 3).copy()
    good = np.flatnonzero(dets[:, 4] > score_threshold)
    keep = good[nms(dets[good, :4], dets[good, 4], nms_threshold)]
    boxes = dets[keep, :4] / ratio
    kps = kps[keep]
    kps[..., :2] /= ratio
    return [TopDownPerson(kps[i], person_score(kps[i, :, 2], dets[k, 4]), box=boxes[i], box_score=float(dets[k, 4]))
            for i, k in enumerate(keep)]


class RTMO:
    """`RTMO(path, engine).estimate(frame_bgr) -> [TopDownPerson]`."""

    def __init__(self, path: Union[str, Path], engine: str = "auto", score_threshold: float = RTMO_SCORE,
                 nms_threshold: float = RTMO_NMS, input_hw: Tuple[int, int] = (640, 640), threads: Optional[int] = None):
        self.runner = Runner(path, engine, threads)
        self.input_hw = self.runner.input_hw or input_hw
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold

    def estimate(self, frame_bgr: np.ndarray) -> List[TopDownPerson]:
        canvas, ratio = letterbox(frame_bgr, self.input_hw)
        blob = np.ascontiguousarray(canvas.astype(np.float32).transpose(2, 0, 1)[None])
        dets, keypoints = self.runner.run(blob)[:2]
        people = rtmo_people(dets, keypoints, ratio, self.score_threshold, self.nms_threshold)
        return sorted(people, key=lambda p: -p.score)
