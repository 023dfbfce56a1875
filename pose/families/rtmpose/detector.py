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

from pose.core.errors import EXIT_USAGE, NetworkError
from pose.families.rtmpose.facts import DETECTOR_OUTPUTS, DETECTOR_SCORE, LETTERBOX_PAD, RTMDET_MEAN_BGR, RTMDET_STD_BGR
from pose.families.rtmpose.network import open_file, pick, plan, signature
from pose.runtime import Plan

KINDS = ("yolox", "rtmdet")
DEFAULT_INPUT_HW = (640, 640)  # where the file leaves its input size free


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


def planar(canvas: np.ndarray, mean: Optional[np.ndarray] = None, inv_std: Optional[np.ndarray] = None) -> np.ndarray:
    """(1, 3, H, W) float32 of an (H, W, 3) uint8 image, channels kept in their order,
    normalised where `mean` is given: channel by channel, without float temporaries."""
    h, w = canvas.shape[:2]
    blob = np.empty((1, 3, h, w), np.float32)
    for c in range(3):
        if mean is None:
            blob[0, c] = canvas[..., c]
        else:
            np.subtract(canvas[..., c], mean[c], out=blob[0, c], dtype=np.float32)
            blob[0, c] *= inv_std[c]
    return blob


def guess_kind(path: Union[str, Path]) -> str:
    """rtmdet when the file's name says so (rtmlib names them rtmdet_*), else yolox."""
    return "rtmdet" if "rtmdet" in Path(path).name.lower() else "yolox"


class Detector:
    """A person detector end2end.onnx on the planned engine:
    `detect(frame) -> (boxes (M, 4) x1, y1, x2, y2 in frame pixels, scores (M,))`.
    `chosen`: a pose.runtime Plan, or an engine name (the CPU, auto precision)."""

    def __init__(self, path: Union[str, Path], chosen: Union[Plan, str] = "auto", kind: Optional[str] = None,
                 score_threshold: float = DETECTOR_SCORE, threads: Optional[int] = None):
        self.path = Path(path)
        self.signature = signature(self.path)
        self.kind = kind or guess_kind(self.path)
        if self.kind not in KINDS:
            raise ValueError(f"unknown detector kind {self.kind!r}; known: {', '.join(KINDS)}")
        last = self.signature.output_dims[0][-1:] if self.signature.output_dims[0] else ()
        if len(self.signature.outputs) < 1 or (last and isinstance(last[0], int) and last[0] != 5):
            raise NetworkError(f"{self.path.name}: its first output is {self.signature.output_dims[0]}, "
                               "expected dets (1, N, 5): only detectors exported with their NMS (mmdeploy's "
                               "end2end.onnx) are supported", EXIT_USAGE)
        self.input_hw = self.signature.input_hw or DEFAULT_INPUT_HW
        self.score_threshold = score_threshold
        if self.kind == "rtmdet":
            self._mean = np.array(RTMDET_MEAN_BGR, np.float32)
            self._inv_std = 1 / np.array(RTMDET_STD_BGR, np.float32)
        else:
            self._mean, self._inv_std = None, None
        chosen = plan(chosen) if isinstance(chosen, str) else chosen
        probe = np.full((1, 3) + tuple(self.input_hw), LETTERBOX_PAD, np.float32)
        self.engine = open_file(chosen, self.path, self.signature, threads, probe, "detector")
        self._names = DETECTOR_OUTPUTS if len(self.signature.outputs) > 1 else DETECTOR_OUTPUTS[:1]

    def blob(self, frame_bgr: np.ndarray) -> Tuple[np.ndarray, float]:
        canvas, ratio = letterbox(frame_bgr, self.input_hw)
        return planar(canvas, self._mean, self._inv_std), ratio

    def detect(self, frame_bgr: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        blob, ratio = self.blob(frame_bgr)
        outputs = pick(self.engine.run({self.signature.input: blob}), self._names)
        dets = np.asarray(outputs[0], np.float64)
        if dets.shape[-1] != 5:
            raise NetworkError(f"{self.path.name}: dets of shape {outputs[0].shape}, expected (1, N, 5): only "
                               "detectors exported with their NMS (mmdeploy's end2end.onnx) are supported", EXIT_USAGE)
        dets = dets.reshape(-1, 5)
        labels = np.asarray(outputs[1]).reshape(-1) if len(outputs) > 1 else np.zeros(len(dets), np.int64)
        keep = (dets[:, 4] > self.score_threshold) & (labels == 0)
        return dets[keep, :4] / ratio, dets[keep, 4]
