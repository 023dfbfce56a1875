"""Person detectors with mmdeploy's end2end interface, as rtmlib runs them: input
"input" (1, 3, H, W), outputs "dets" (1, N, 5: x1, y1, x2, y2, score) and "labels"
(1, N), the NMS inside the graph.

Pre-processing (rtmlib's YOLOX and RTMDet classes, mmdet's test pipelines): the frame is
resized keeping its aspect to fit the input and put in the top-left corner of a canvas of
grey 114; pixels stay BGR; YOLOX takes them raw (mean 0, std 1), RTMDet normalised by its
BGR mean and std. Boxes come back divided by the resize ratio. Kept: class 0 (person; the
HumanArt YOLOX files have no other) with score above 0.3 (rtmlib's bound for these files).
Graphs without the NMS (raw YOLOX heads) are refused: every published end2end.onnx has it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple, Union

import cv2
import numpy as np

from pose.families.rtmpose.facts import DETECTOR_SCORE, LETTERBOX_PAD, RTMDET_MEAN_BGR, RTMDET_STD_BGR
from pose.families.rtmpose.runtime import Runner

KINDS = ("yolox", "rtmdet")


def letterbox(frame: np.ndarray, input_hw: Tuple[int, int]) -> Tuple[np.ndarray, float]:
    """(canvas (H, W, 3) uint8, ratio): the frame resized by `ratio` into the top-left corner."""
    h, w = input_hw
    if frame.shape[:2] == (h, w):
        return frame, 1.0
    ratio = min(h / frame.shape[0], w / frame.shape[1])
    size = (int(frame.shape[1] * ratio), int(frame.shape[0] * ratio))
    canvas = np.full((h, w, 3), LETTERBOX_PAD, np.uint8)
    canvas[:size[1], :size[0]] = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
    return canvas, ratio


def guess_kind(path: Union[str, Path]) -> str:
    """rtmdet when the file's name says so (rtmlib names them rtmdet_*), else yolox."""
    return "rtmdet" if "rtmdet" in Path(path).name.lower() else "yolox"


class Detector:
    """A person detector end2end.onnx on one engine: `detect(frame) -> (boxes (M, 4), scores (M,))`."""

    def __init__(self, path: Union[str, Path], engine: str = "auto", kind: Optional[str] = None,
                 score_threshold: float = DETECTOR_SCORE, input_hw: Tuple[int, int] = (640, 640),
                 threads: Optional[int] = None):
        self.runner = Runner(path, engine, threads)
        self.kind = kind or guess_kind(path)
        if self.kind not in KINDS:
            raise ValueError(f"unknown detector kind {self.kind!r}; known: {', '.join(KINDS)}")
        self.input_hw = self.runner.input_hw or input_hw
        self.score_threshold = score_threshold
        if self.kind == "rtmdet":
            self._mean = np.array(RTMDET_MEAN_BGR, np.float32)
            self._inv_std = 1 / np.array(RTMDET_STD_BGR, np.float32)
        else:
            self._mean, self._inv_std = None, None

    def blob(self, frame_bgr: np.ndarray) -> Tuple[np.ndarray, float]:
        canvas, ratio = letterbox(frame_bgr, self.input_hw)
        x = canvas.astype(np.float32)
        if self._mean is not None:
            x = (x - self._mean) * self._inv_std
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None]), ratio

    def detect(self, frame_bgr: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        blob, ratio = self.blob(frame_bgr)
        outputs = self.runner.run(blob)
        dets = np.asarray(outputs[0], np.float64).reshape(-1, outputs[0].shape[-1])
        if dets.shape[-1] != 5:
            raise ValueError(f"{self.runner.path.name}: dets of shape {outputs[0].shape}, expected (1, N, 5): "
                             "only detectors exported with their NMS (mmdeploy end2end.onnx) are supported")
        labels = np.asarray(outputs[1]).reshape(-1) if len(outputs) > 1 else np.zeros(len(dets), np.int64)
        keep = (dets[:, 4] > self.score_threshold) & (labels == 0)
        return dets[keep, :4] / ratio, dets[keep, 4]
