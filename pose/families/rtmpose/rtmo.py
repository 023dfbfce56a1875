"""RTMO, MMPose's one-stage multi-person model (no detector), as an estimator of the
tools (pose.core.estimator.Estimator): see `RTMO`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Union

import numpy as np

from pose.core.estimator import Model
from pose.core.image import check_image
from pose.core.person import Person
from pose.families.rtmpose.detector import letterbox, planar
from pose.families.rtmpose.estimator import FrameByFrame, _plan, layout_for, person_score
from pose.families.rtmpose.facts import RTMO_NMS, RTMO_OUTPUTS, RTMO_SCORE
from pose.families.rtmpose.network import open_file, run_batched, signature
from pose.runtime import Plan

RTMO_INPUT_HW = (640, 640)


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
                nms_threshold: float = RTMO_NMS) -> List[Person]:
    """End2end outputs (1, N, 5) and (1, N, K, 3) -> people in frame pixels, best first."""
    dets = np.asarray(dets, np.float64).reshape(-1, 5)
    kps = np.asarray(keypoints, np.float64).reshape(len(dets), -1, 3).copy()
    good = np.flatnonzero(dets[:, 4] > score_threshold)
    keep = good[nms(dets[good, :4], dets[good, 4], nms_threshold)]
    boxes = dets[keep, :4] / ratio
    kps = kps[keep]
    kps[..., :2] /= ratio
    people = [Person(kps[i], person_score(kps[i, :, 2], dets[k, 4]), box=boxes[i], box_score=float(dets[k, 4]))
              for i, k in enumerate(keep)]
    return sorted(people, key=lambda p: -p.score)


class RTMO(FrameByFrame):
    """MMPose's one-stage RTMO (no detector) through its end2end.onnx: input "input"
    (1, 3, 640, 640), outputs "dets" (1, N, 5: x1, y1, x2, y2, score) and "keypoints"
    (1, N, 17, 3: x, y, score), in input pixels.

    As rtmlib runs it (tools/pose_estimation/rtmo.py): the frame letterboxed to the top-left
    on grey 114, raw BGR pixels (mean 0, std 1); boxes and keypoints divided by the resize
    ratio; then an NMS over the boxes (IoU 0.45) keeping scores above 0.7. mmpose's own
    test_cfg keeps more (score 0.1, NMS 0.65): both are parameters. An engine that cannot
    run the graph (cv2.dnn 4.11 on its TopK: rtmo-ort issue #1) is refused at load."""

    def __init__(self, path: Union[str, Path], engine: Union[Plan, str, None] = "auto", *, device: str = "cpu",
                 precision: str = "auto", spec: Optional[object] = None, score_threshold: float = RTMO_SCORE,
                 nms_threshold: float = RTMO_NMS, threads: Optional[int] = None):
        super().__init__()
        self.chosen = _plan(engine, device, precision)
        self.path = Path(path)
        self.signature = signature(self.path)
        self.input_hw = self.signature.input_hw or RTMO_INPUT_HW
        k = self.signature.output_dim(RTMO_OUTPUTS[1], 2) or 17
        self.layout = layout_for(k)
        self.spec = spec if spec is not None else Model(self.path.stem, self.layout)
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold
        probe = np.full((1, 3) + tuple(self.input_hw), 114, np.float32)
        self.runner = open_file(self.chosen, self.path, self.signature, threads, probe, "RTMO network")
        self.engine, self.precision = self.runner.name, self.runner.precision
        self.device, self.engine_label = self.chosen.device, self.runner.label

    def describe(self) -> str:
        h, w = self.input_hw
        return f"{self.spec.name}, {self.path.name} ({w}x{h}, one stage), on {self.device} with {self.engine_label}"

    def estimate(self, image: np.ndarray) -> List[Person]:
        canvas, ratio = letterbox(check_image(image), self.input_hw)
        blob = planar(canvas)
        dets, keypoints = run_batched(self.runner, self.signature.input, blob, RTMO_OUTPUTS, None)
        return rtmo_people(dets, keypoints, ratio, self.score_threshold, self.nms_threshold)

    __call__ = estimate


__all__ = ["RTMO", "nms", "rtmo_people"]
