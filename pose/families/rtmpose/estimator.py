"""RTMPose with a person detector, as one estimator:

    est = RTMPose("rtmpose-m.onnx", "yolox-tiny.onnx", engine="onnxruntime")
    people = est.estimate(frame_bgr)            # [TopDownPerson], keypoints (17|26, 3) in frame pixels
    for frame in video:                         # video: the detector every 5th frame,
        people = est.track(frame)               # boxes from the last keypoints between

Any end2end.onnx of the published interface runs: the pose file's input size and keypoint
count are read from it, the detector's input size too.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np

from pose.core.person import Person
from pose.families.rtmpose.detector import Detector
from pose.families.rtmpose.facts import POSE_OUTPUTS
from pose.families.rtmpose.layouts import Layout, layout_for
from pose.families.rtmpose.processing import boxes_from_keypoints, decode_simcc, keypoints_in_frame, pose_blob, rois_from_boxes
from pose.families.rtmpose.runtime import Runner

# mmpose's CocoMetric rescoring: a person's score is its box score times the mean of its
# keypoint scores above this bound.
KEYPOINT_SCORE_BOUND = 0.2
# Keypoints that count for the next frame's box in video mode.
TRACK_KEYPOINT_BOUND = 0.3
# rtmlib's PoseTracker: detect every `det_frequency` frames; MMPose's README times the
# pipeline with detection every 5th frame.
DETECT_EVERY = 5


@dataclass
class TopDownPerson(Person):
    """A Person (keypoints (K, 3) x, y, score in frame pixels; `score`) with the box it was
    estimated in (x1, y1, x2, y2, frame pixels) and that box's detector score."""

    box: Optional[np.ndarray] = None
    box_score: float = 0.0


def person_score(keypoint_scores: np.ndarray, box_score: float) -> float:
    """mmpose's COCO rescoring: box score x mean keypoint score above 0.2 (0 when none is)."""
    good = keypoint_scores[keypoint_scores > KEYPOINT_SCORE_BOUND]
    return float(box_score * good.mean()) if good.size else 0.0


class RTMPose:
    """Top-down RTMPose: a person detector, then one crop per person, all crops of a frame
    in one batch."""

    def __init__(self, pose_onnx: Union[str, Path], detector_onnx: Union[str, Path, None] = None,
                 engine: str = "auto", detector_kind: Optional[str] = None, detect_every: int = DETECT_EVERY,
                 threads: Optional[int] = None, rgb: bool = True):
        self.pose = Runner(pose_onnx, engine, threads)
        h, w = self.pose.input_hw or (256, 192)
        self.input_size = (int(w), int(h))
        self.n_keypoints = self._keypoint_count(pose_onnx)
        self.layout: Layout = layout_for(self.n_keypoints)
        self.detector = Detector(detector_onnx, engine, detector_kind, threads=threads) if detector_onnx else None
        if detect_every < 1:
            raise ValueError("detect_every must be 1 or more")
        self.detect_every = detect_every
        self.rgb = rgb
        self.reset()

    @staticmethod
    def _keypoint_count(path: Union[str, Path]) -> int:
        import onnx
        graph = onnx.load(str(path), load_external_data=False).graph
        outputs = {o.name: o for o in graph.output}
        first = outputs.get(POSE_OUTPUTS[0], graph.output[0])
        k = first.type.tensor_type.shape.dim[1]
        return k.dim_value if k.HasField("dim_value") else 17

    # ---- one image

    def estimate(self, frame_bgr: np.ndarray, boxes: Optional[np.ndarray] = None,
                 box_scores: Optional[Sequence[float]] = None) -> List[TopDownPerson]:
        """People in one image: in `boxes` (N, 4) when given, else in the detector's boxes,
        else (no detector) in the whole frame, as rtmlib does."""
        if boxes is None:
            if self.detector is not None:
                boxes, box_scores = self.detector.detect(frame_bgr)
            else:
                boxes = np.array([[0, 0, frame_bgr.shape[1], frame_bgr.shape[0]]], np.float64)
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        scores = np.ones(len(boxes)) if box_scores is None else np.asarray(box_scores, np.float64)
        if not len(boxes):
            return []
        rois = rois_from_boxes(boxes, self.input_size)
        simcc_x, simcc_y = self.pose.run(pose_blob(frame_bgr, rois, self.input_size, self.rgb))[:2]
        locs, kp_scores = decode_simcc(simcc_x, simcc_y)
        keypoints = keypoints_in_frame(locs, kp_scores, rois, self.input_size)
        people = [TopDownPerson(keypoints[i], person_score(keypoints[i, :, 2], scores[i]), box=boxes[i],
                                box_score=float(scores[i])) for i in range(len(boxes))]
        return sorted(people, key=lambda p: -p.score)

    # ---- video

    def reset(self) -> None:
        """Forget the previous frames (a new video)."""
        self.frame_index = 0
        self._boxes = np.zeros((0, 4))
        self._box_scores = np.zeros(0)
        self.detections = 0  # detector runs since reset, for tests and benchmarks

    def track(self, frame_bgr: np.ndarray) -> List[TopDownPerson]:
        """Video mode (rtmlib's PoseTracker): the detector on every `detect_every`-th frame,
        and on any frame after one where nobody was left; in between, each person's box is
        the extent of their keypoints on the previous frame grown by 1.25. A person whose
        keypoints faded keeps their previous box until the next detection."""
        if self.detector is not None and (self.frame_index % self.detect_every == 0 or not len(self._boxes)):
            boxes, scores = self.detector.detect(frame_bgr)
            self.detections += 1
        elif len(self._boxes):
            boxes, scores = self._boxes, self._box_scores
        else:  # no detector, nobody yet: the whole frame
            boxes, scores = None, None
        people = self.estimate(frame_bgr, boxes, scores)
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
