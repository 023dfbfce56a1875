"""RTMPose with a person detector as an estimator of the tools
(pose.core.estimator.Estimator):

    est = RTMPose("rtmpose-m.onnx", "yolox-tiny.onnx", engine="onnxruntime")
    people = est.estimate(frame_bgr)            # [Person], keypoints (17|26, 3) in frame pixels, box, box_score
    for frame in video:                         # video: the detector every `detect_every` frames,
        people = est.track(frame)               # boxes from the last keypoints between

The video and batch runs call submit / collect / people_from, which run `track`: one frame
at a time, in order (each frame's boxes come from the one before). A frame with nobody
costs only the detector. Any end2end.onnx of the published interface runs: the pose file's
input size and keypoint count are read from it, the detector's input size too.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from pose.core.errors import EXIT_USAGE, NetworkError
from pose.core.estimator import Model
from pose.core.image import check_image
from pose.core.layout import Layout
from pose.core.person import Person
from pose.families.rtmpose.detector import Detector
from pose.families.rtmpose.facts import DEFAULT_DETECT_EVERY, POSE_OUTPUTS
from pose.families.rtmpose.network import open_file, plan, run_batched, signature
from pose.families.rtmpose.processing import boxes_from_keypoints, decode_simcc, keypoints_in_frame, pose_blob, rois_from_boxes
from pose.layouts import COCO17, HALPE26
from pose.runtime import Plan

log = logging.getLogger("pose")
# mmpose's CocoMetric rescoring: a person's score is its box score times the mean of its
# keypoint scores above this bound.
KEYPOINT_SCORE_BOUND = 0.2
# Keypoints that count for the next frame's box in video mode.
TRACK_KEYPOINT_BOUND = 0.3
DEFAULT_POSE_SIZE = (192, 256)  # (width, height) where a file leaves it free
LAYOUTS = {COCO17.n_keypoints: COCO17, HALPE26.n_keypoints: HALPE26}


def layout_for(n_keypoints: int) -> Layout:
    """The layout of a network with `n_keypoints` outputs (17 COCO, 26 Halpe)."""
    try:
        return LAYOUTS[n_keypoints]
    except KeyError:
        raise NetworkError(f"no body layout with {n_keypoints} keypoints (known: 17 COCO, 26 Halpe)",
                           EXIT_USAGE) from None


def person_score(keypoint_scores: np.ndarray, box_score: float) -> float:
    """mmpose's COCO rescoring: box score x mean keypoint score above 0.2 (0 when none is)."""
    good = keypoint_scores[keypoint_scores > KEYPOINT_SCORE_BOUND]
    return float(box_score * good.mean()) if good.size else 0.0


def _plan(chosen: Union[Plan, str, None], device: str, precision: str) -> Plan:
    if isinstance(chosen, Plan):
        return chosen
    return plan(chosen or "auto", device, precision)


class FrameByFrame:
    """The estimator protocol's pipeline for a family that runs each frame when it is
    submitted: `outputs` are the frame's people, decoded already (the next frame's boxes
    need them), so `people_from` only hands them on."""

    in_flight = 1

    def __init__(self) -> None:
        self._done: List[Tuple[Any, List[Person]]] = []

    def estimate(self, image: np.ndarray) -> List[Person]:
        raise NotImplementedError

    def track(self, image: np.ndarray) -> List[Person]:
        return self.estimate(image)

    def reset(self) -> None:
        """Forget the previous frames (a new video starts)."""

    def __call__(self, image: np.ndarray) -> List[Person]:
        return self.estimate(image)

    def submit(self, image: np.ndarray, tag: Any) -> None:
        self._done.append((tag, self.track(image)))

    def collect(self, wait: bool = False) -> List[Tuple[Any, List[Person]]]:
        done, self._done = self._done, []
        return done

    def abandon(self) -> None:
        self._done = []
        self.reset()

    def people_from(self, outputs: List[Person], image: Optional[np.ndarray] = None) -> List[Person]:
        return list(outputs)


class RTMPose(FrameByFrame):
    """Top-down RTMPose: a person detector, then one crop per person, all crops of a frame
    in one batch. `pose_onnx`, `detector_onnx`: end2end.onnx files (no detector: the whole
    frame is one person's box, as rtmlib does). `chosen`: a pose.runtime Plan, or an engine
    name (with `device` and `precision`). `spec`: the model as the outputs name it (default:
    the file's stem and the layout of its keypoint count). `rgb=False` feeds BGR, as rtmlib
    does (comparison runs only)."""

    def __init__(self, pose_onnx: Union[str, Path], detector_onnx: Union[str, Path, None] = None,
                 engine: Union[Plan, str, None] = "auto", *, device: str = "cpu", precision: str = "auto",
                 spec: Optional[object] = None, detector_kind: Optional[str] = None,
                 detect_every: int = DEFAULT_DETECT_EVERY, threads: Optional[int] = None, rgb: bool = True):
        super().__init__()
        if int(detect_every) < 1:
            raise ValueError("detect_every must be 1 or more")
        self.chosen = _plan(engine, device, precision)
        self.pose_path = Path(pose_onnx)
        self.signature = signature(self.pose_path)
        h, w = self.signature.input_hw or DEFAULT_POSE_SIZE[::-1]
        self.input_size = (int(w), int(h))
        self.n_keypoints = self.signature.output_dim(POSE_OUTPUTS[0], 1) or 17
        self.layout = layout_for(self.n_keypoints)
        self.spec = spec if spec is not None else Model(self.pose_path.stem, self.layout)
        if self.spec.layout.n_keypoints != self.n_keypoints:
            raise NetworkError(f"{self.pose_path.name} gives {self.n_keypoints} keypoints, {self.spec.name} needs "
                               f"{self.spec.layout.n_keypoints} ({self.spec.layout.name}): wrong --weights for "
                               "this --model?", EXIT_USAGE)
        probe = np.zeros((1, 3, h, w), np.float32)
        self.pose = open_file(self.chosen, self.pose_path, self.signature, threads, probe, "pose network")
        self.detector = (Detector(detector_onnx, self.chosen, detector_kind, threads=threads)
                         if detector_onnx else None)
        self.detect_every = int(detect_every)
        self.rgb = rgb
        self.engine, self.precision = self.pose.name, self.pose.precision
        self.device, self.engine_label = self.chosen.device, self.pose.label
        self.reset()

    def describe(self) -> str:
        w, h = self.input_size
        detector = (f" + detector {self.detector.path.name} ({self.detector.input_hw[1]}x{self.detector.input_hw[0]}; "
                    f"video: every {self.detect_every} frame{'s' if self.detect_every > 1 else ''})"
                    if self.detector else " (no detector: the whole image is one person)")
        return (f"{self.spec.name}, {self.pose_path.name} ({w}x{h}, {self.layout.name}){detector}, "
                f"on {self.device} with {self.engine_label}")

    # ---- one image

    def estimate(self, image: np.ndarray, boxes: Optional[np.ndarray] = None,
                 box_scores: Optional[Sequence[float]] = None) -> List[Person]:
        """People in one image, best first: in `boxes` (N, 4) x1, y1, x2, y2 when given, else
        in the detector's boxes, else (no detector) in the whole image, as rtmlib does."""
        frame = check_image(image)
        if boxes is None:
            if self.detector is not None:
                boxes, box_scores = self.detector.detect(frame)
            else:
                boxes = np.array([[0, 0, frame.shape[1], frame.shape[0]]], np.float64)
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        scores = np.ones(len(boxes)) if box_scores is None else np.asarray(box_scores, np.float64).reshape(-1)
        if not len(boxes):
            return []
        rois = rois_from_boxes(boxes, self.input_size)
        simcc_x, simcc_y = run_batched(self.pose, self.signature.input, pose_blob(frame, rois, self.input_size, self.rgb),
                                       POSE_OUTPUTS, self.signature.fixed_batch)
        locs, kp_scores = decode_simcc(simcc_x, simcc_y)
        keypoints = keypoints_in_frame(locs, kp_scores, rois, self.input_size)
        people = [Person(keypoints[i], person_score(keypoints[i, :, 2], scores[i]), box=boxes[i],
                         box_score=float(scores[i])) for i in range(len(boxes))]
        return sorted(people, key=lambda p: -p.score)

    __call__ = estimate

    # ---- video

    def reset(self) -> None:
        """Forget the previous frames (a new video)."""
        self.frame_index = 0
        self._boxes = np.zeros((0, 4))
        self._box_scores = np.zeros(0)
        self.detections = 0  # detector runs since reset, for tests and benchmarks

    def track(self, image: np.ndarray) -> List[Person]:
        """Video mode (rtmlib's PoseTracker): the detector on every `detect_every`-th frame,
        and on any frame after one where nobody was left; in between, each person's box is
        the extent of their keypoints on the previous frame grown by 1.25. A person whose
        keypoints faded keeps their previous box until the next detection."""
        frame = check_image(image)
        if self.detector is not None and (self.frame_index % self.detect_every == 0 or not len(self._boxes)):
            boxes, scores = self.detector.detect(frame)
            self.detections += 1
        elif len(self._boxes):
            boxes, scores = self._boxes, self._box_scores
        else:  # no detector, nobody yet: the whole frame
            boxes, scores = None, None
        people = self.estimate(frame, boxes, scores)
        self.frame_index += 1
        if people:
            previous = np.stack([p.box for p in people])
            carried = boxes_from_keypoints(np.stack([p.keypoints for p in people]), TRACK_KEYPOINT_BOUND)
            lost = np.isnan(carried).any(-1)
            carried[lost] = previous[lost]
            self._boxes, self._box_scores = carried, np.array([p.box_score for p in people])
        else:
            self._boxes, self._box_scores = np.zeros((0, 4)), np.zeros(0)
        return people


__all__ = ["RTMPose", "layout_for", "person_score"]
