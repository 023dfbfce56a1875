"""BlazePose on a frame: the detector, one rotated ROI per person, the landmark model on
each ROI; and in video the ROI carried from the last frame's landmarks, the detector run
only when no one is tracked (MediaPipe's PoseLandmarkCpu with use_prev_landmarks).

`BlazePose` keeps the estimator protocol (pose.core.estimator), so the image tool, the
video tool, a batch and Ray run it as they run OpenPose: `estimate` (and the image tool)
runs the detector on every image; `submit` (the video tool) tracks, frame after frame, and
`reset` (called by the video loop when a new video starts) forgets who was tracked.

Engines, through pose.runtime (select.plan, select.open_tflite): OpenVINO reads both
.tflite files; cv2.dnn (--engine onnx, the project's name for OpenCV's DNN module) reads
the landmark model only (its TFLite importer has no DENSIFY, which the detector's sparse
weights use), so with it the detector stays on OpenVINO; onnxruntime and caffe read no
TFLite and are refused in one line. Precision "auto" is f32 here, whatever it means for
OpenPose: OpenVINO's bf16 (its choice on CPUs with AMX) moved the landmarks 2.05 px
(median, 17.9 px at the 90th percentile) from MediaPipe's float32 pipeline and lost a
detection, against 0.15 px in f32 (benchmarks/RESULTS_blazepose.md).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, Union

import cv2
import numpy as np

from pose.core.errors import InputError, NetworkError, UsageError
from pose.core.estimator import Model
from pose.core.paths import models_command
from pose.core.person import Person
from pose.families.topdown import Roi
from pose.layouts.blazepose33 import BLAZEPOSE33
from pose.runtime import Engine, open_tflite, parse_engine, parse_precision, plan

from . import pipeline, weights

MODEL = Model("BlazePose", BLAZEPOSE33)
# --engine values BlazePose takes: openvino runs both models; onnx (cv2.dnn) the landmark model.
ENGINES = ("auto", "openvino", "onnx")
# "auto" precision: f32 (see the module's docstring for the measurement).
AUTO_PRECISION = "f32"
# Landmarks at or above this visibility make the person's box (MediaPipe draws no others).
BOX_VISIBILITY = 0.5


@dataclass
class BlazePerson(Person):
    """One person (pose.core.person.Person) with BlazePose's own outputs besides.

    keypoints (33, 3): x, y in frame pixels and confidence = visibility (the landmark
    model's, after its sigmoid: in frame and not occluded); `visibility` the same (33,);
    `presence` (33,) that the landmark is in the frame; `z` (33,) depth relative to the
    hips, in the x pixel scale; `score`: the landmark model's pose flag (a person is in
    the ROI); `box`: the landmarks of visibility >= 0.5, clipped to the frame; `box_score`:
    the detector's score when it found the person this frame, else the pose flag;
    `detection`: the detector's box (of the face: BlazePose's detector finds faces and
    predicts the body's centre and size from them) when it ran for this person; `roi`:
    the crop the landmarks came from; `next_roi`: the next frame's (video)."""

    z: Optional[np.ndarray] = None
    presence: Optional[np.ndarray] = None
    detection: Optional[np.ndarray] = None
    roi: Optional[Roi] = None
    next_roi: Optional[Roi] = field(default=None, repr=False)

    @property
    def pose_score(self) -> float:
        return float(self.score)

    def coco17(self) -> np.ndarray:
        """(17, 3) in COCO's keypoint order (x, y, visibility)."""
        return self.keypoints[list(BLAZEPOSE33.coco17)]


def _pick(outputs: Dict[str, np.ndarray], want: Dict[str, Callable[[Tuple[int, ...]], bool]]) -> Dict[str, np.ndarray]:
    """Outputs by shape, not by name: TFLite's tensor names (Identity, Identity_1...) are
    what converters rename first."""
    found = {}
    for key, test in want.items():
        hits = [o for o in outputs.values() if test(tuple(np.shape(o)))]
        if len(hits) != 1:
            raise NetworkError(f"BlazePose: expected one {key} output, got shapes {[np.shape(o) for o in outputs.values()]}")
        found[key] = hits[0]
    return found


_DETECTOR_OUTPUTS = {
    "boxes": lambda s: s[-1] == 4 + 2 * pipeline.DETECTOR.num_keypoints,
    "scores": lambda s: len(s) == 3 and s[-1] == 1,
}
_LANDMARK_OUTPUTS = {
    "landmarks": lambda s: len(s) == 2 and s[-1] == 5 * pipeline.NUM_MODEL_POINTS,
    "flag": lambda s: len(s) == 2 and s[-1] == 1,
    "heatmap": lambda s: len(s) == 4 and s[-1] == pipeline.NUM_MODEL_POINTS,
}


def _rgb(frame: np.ndarray) -> np.ndarray:
    """8-bit BGR, BGRA or gray -> RGB, the models' channel order."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim not in (2, 3) or frame.size == 0:
        raise InputError(f"BlazePose takes an 8-bit gray, BGR or BGRA image, got {type(frame).__name__} "
                         f"{getattr(frame, 'dtype', '')} {getattr(frame, 'shape', '')}")
    channels = 1 if frame.ndim == 2 else frame.shape[2]
    codes = {1: cv2.COLOR_GRAY2RGB, 3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}
    if channels not in codes:
        raise InputError(f"BlazePose takes 1, 3 or 4 channels, got {channels}")
    return cv2.cvtColor(frame, codes[channels])


def check_engine(engine: str) -> str:
    """--engine for BlazePose: auto, openvino or onnx (cv2.dnn); the others in one line."""
    name = parse_engine(engine)
    if name not in ENGINES:
        raise UsageError(f"BlazePose runs on openvino (both models) or onnx (cv2.dnn, the landmark model; the "
                         f"detector stays on OpenVINO); --engine {name} cannot read TFLite files")
    return name


def _run(engine: Engine, tensor: np.ndarray) -> Dict[str, np.ndarray]:
    return engine.run({engine.inputs[0] if engine.inputs else "input": tensor})


class BlazePose:
    """MediaPipe's BlazePose (full) with its real weights, as an estimator.

    estimate(frame): every person the detector finds (after NMS), each through the
    landmark model; track(frame): video mode, the ROIs carried between frames
    (static_image_mode=True: the detector on every frame, as estimate). `model_dir` holds
    pose_detection.tflite and pose_landmark_full.tflite (weights.default_dir() when None;
    fetch=True fetches them when missing). engine, device and precision as the tools'
    --engine, --device, --precision (auto: OpenVINO, f32).
    min_detection_confidence and min_tracking_confidence are MediaPipe's: the detector's
    score and the landmark model's pose flag a person needs; max_people keeps the best
    detections (MediaPipe's pose solution keeps 1; None: all).
    """

    spec = MODEL

    def __init__(self, model_dir: Optional[Union[str, Path]] = None, engine: str = "auto", device: str = "cpu",
                 precision: str = "auto", *, max_people: Optional[int] = None,
                 min_detection_confidence: float = pipeline.DETECTOR.min_score,
                 min_tracking_confidence: float = pipeline.LANDMARKS.presence_threshold,
                 static_image_mode: bool = False, threads: Optional[int] = None, fetch: bool = False) -> None:
        engine = check_engine(engine)
        precision = parse_precision(precision)
        for name, value in (("min_detection_confidence", min_detection_confidence),
                            ("min_tracking_confidence", min_tracking_confidence)):
            if not 0.0 <= float(value) <= 1.0:
                raise UsageError(f"BlazePose {name} must lie in [0, 1], got {value}")
        if max_people is not None and int(max_people) < 1:
            raise UsageError(f"BlazePose max_people must be at least 1, got {max_people}")
        files = weights.ensure(model_dir) if fetch else weights.paths(model_dir)
        for role, path in files.items():
            if not path.is_file():
                raise NetworkError(f"BlazePose {role} weights missing: {path} (run {models_command()} blazepose to "
                                   "download them)", exit_code=2)
        self.max_people = None if max_people is None else int(max_people)
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_tracking_confidence = float(min_tracking_confidence)
        self.static_image_mode = bool(static_image_mode)
        asked = AUTO_PRECISION if precision == "auto" else precision
        detector_plan = plan("openvino", device, asked)
        landmark_plan = detector_plan if engine in ("auto", "openvino") else plan(engine, device, asked)
        self._detector = open_tflite(detector_plan, files["detector"], threads)
        self._landmarker = open_tflite(landmark_plan, files["landmarks"], threads)
        self.files = files
        self.engine = landmark_plan.engine
        self.device = landmark_plan.device
        self.precision = self._landmarker.precision
        if self._landmarker.label == self._detector.label:
            self.engine_label = self._landmarker.label
        else:
            self.engine_label = f"{self._landmarker.label} (landmarks), {self._detector.label} (detector)"
        self.detector_calls = 0  # how often the detector ran: video mode should rarely need it
        self._tracked: List[Roi] = []
        self._done: Deque[Tuple[Any, List[BlazePerson]]] = deque()

    # -- the estimator protocol ----------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return 1  # each frame's ROIs come from the last one's landmarks: one at a time

    def describe(self) -> str:
        """The tools' first line: model, device, engine, and the video rule."""
        video = "detector on every frame" if self.static_image_mode else "video: ROI carried between frames"
        return f"{self.spec.name} (full), on {self.device} with {self.engine_label}; {video}"

    def __call__(self, image: np.ndarray) -> List[BlazePerson]:
        return self.estimate(image)

    def submit(self, image: np.ndarray, tag: Any) -> None:
        """Video: one frame tracked now (the next frame needs this one's landmarks)."""
        self._done.append((tag, self.estimate(image) if self.static_image_mode else self.track(image)))

    def collect(self, wait: bool = False) -> List[Tuple[Any, List[BlazePerson]]]:
        done = list(self._done)
        self._done.clear()
        return done

    def abandon(self) -> None:
        """Drop the frames not collected and forget who was tracked."""
        self._done.clear()
        self.reset()

    def people_from(self, outputs: List[BlazePerson], image: Optional[np.ndarray] = None) -> List[BlazePerson]:
        return list(outputs)

    def reset(self) -> None:
        """Forget the tracked people: the next track() runs the detector (a new video)."""
        self._tracked = []

    # -- the two stages ---------------------------------------------------------------
    def detect(self, frame_bgr: np.ndarray) -> pipeline.Detections:
        """The detector's people after NMS, best first, in frame pixels."""
        return self._detect(_rgb(frame_bgr))

    def _detect(self, rgb: np.ndarray) -> pipeline.Detections:
        tensor, letterbox = pipeline.detector_input(rgb)
        out = _pick(_run(self._detector, tensor), _DETECTOR_OUTPUTS)
        self.detector_calls += 1
        found = pipeline.decode_detections(out["boxes"], out["scores"], letterbox, min_score=self.min_detection_confidence)
        if self.max_people is not None:
            found = pipeline.Detections(found.boxes[:self.max_people], found.keypoints[:self.max_people],
                                        found.scores[:self.max_people])
        return found

    def landmarks(self, frame_bgr: np.ndarray, roi: Roi) -> Optional[BlazePerson]:
        """The landmark model on one ROI; None when its pose flag is under min_tracking_confidence."""
        rgb = _rgb(frame_bgr)
        return self._landmarks(rgb, roi)

    def _landmarks(self, rgb: np.ndarray, roi: Roi, detection: Optional[np.ndarray] = None,
                   detection_score: Optional[float] = None) -> Optional[BlazePerson]:
        if not (roi.width > 1 and roi.height > 1 and np.isfinite([roi.cx, roi.cy, roi.width, roi.angle]).all()):
            return None
        out = _pick(_run(self._landmarker, pipeline.landmark_input(rgb, roi)), _LANDMARK_OUTPUTS)
        raw = pipeline.decode_landmarks(out["landmarks"], out["flag"], out["heatmap"], roi)
        if raw.flag < self.min_tracking_confidence:
            return None
        n = pipeline.NUM_LANDMARKS
        xy, visibility = raw.xy[:n], raw.visibility[:n]
        return BlazePerson(np.column_stack([xy, visibility]), raw.flag, box=_box(xy, visibility, rgb.shape),
                           box_score=float(raw.flag if detection_score is None else detection_score),
                           visibility=visibility, z=raw.z[:n], presence=raw.presence[:n],
                           detection=None if detection is None else np.asarray(detection, np.float64),
                           roi=roi, next_roi=pipeline.next_roi(raw))

    # -- images and video ------------------------------------------------------------
    def estimate(self, frame_bgr: np.ndarray) -> List[BlazePerson]:
        """Every detected person (detector, ROI, landmarks), best detection first."""
        rgb = _rgb(frame_bgr)
        return self._from_detections(rgb, self._detect(rgb))

    def _from_detections(self, rgb: np.ndarray, found: pipeline.Detections) -> List[BlazePerson]:
        people = (self._landmarks(rgb, pipeline.roi_from_points(k[0], k[1]), b, s)
                  for b, k, s in zip(found.boxes, found.keypoints, found.scores))
        return [p for p in people if p is not None]

    def track(self, frame_bgr: np.ndarray) -> List[BlazePerson]:
        """Video mode: the people of the last frame through ROIs from their landmarks; the
        detector runs only when nobody is tracked (MediaPipe's rule; someone who enters
        while others are tracked is found once they are all lost, or after reset())."""
        rgb = _rgb(frame_bgr)
        people = [p for p in (self._landmarks(rgb, roi) for roi in self._tracked) if p is not None]
        if not people:
            people = self._from_detections(rgb, self._detect(rgb))
        people = _distinct(people)
        self._tracked = [p.next_roi for p in people]
        return people


def _box(xy: np.ndarray, visibility: np.ndarray, shape: Tuple[int, ...]) -> np.ndarray:
    """The person's box: the landmarks of visibility >= BOX_VISIBILITY (all of them when
    fewer than two are), clipped to the frame."""
    seen = visibility >= BOX_VISIBILITY
    points = xy[seen] if seen.sum() >= 2 else xy
    h, w = shape[:2]
    lo = np.clip(points.min(0), 0, (w, h))
    hi = np.clip(points.max(0), 0, (w, h))
    return np.concatenate([lo, hi]).astype(np.float64)


def _distinct(people: List[BlazePerson], threshold: float = 0.5) -> List[BlazePerson]:
    """Two ROIs that drifted onto one person give two copies: keep the surer one (by the
    overlap of the landmarks' extents)."""
    people = sorted(people, key=lambda p: -p.score)
    kept: List[BlazePerson] = []
    for person in people:
        extent = np.concatenate([person.keypoints[:, :2].min(0), person.keypoints[:, :2].max(0)])
        others = np.array([np.concatenate([k.keypoints[:, :2].min(0), k.keypoints[:, :2].max(0)]) for k in kept]).reshape(-1, 4)
        if not len(others) or pipeline.iou(extent, others).max() <= threshold:
            kept.append(person)
    return kept


__all__ = ["AUTO_PRECISION", "BlazePerson", "BlazePose", "ENGINES", "MODEL", "check_engine"]
