"""BlazePose on a frame: the detector, one rotated ROI per person, the landmark model on
each ROI; and in video the ROI carried from the last frame's landmarks, the detector run
only when no one is tracked (MediaPipe's PoseLandmarkCpu with use_prev_landmarks).

Engines: OpenVINO reads both .tflite files; cv2.dnn reads the landmark model only (its
TFLite importer has no DENSIFY, which the detector's sparse weights use), so asking it for
the detector is refused in one line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import cv2
import numpy as np

from pose.core.errors import InputError, NetworkError, UsageError
from pose.families.topdown import Roi

from . import layout, pipeline, weights

ENGINES = ("openvino", "opencv")
PRECISIONS = {"f32": "f32", "bf16": "bf16", "f16": "f16"}  # OpenVINO's INFERENCE_PRECISION_HINT
_Runner = Callable[[np.ndarray], Tuple[np.ndarray, ...]]


@dataclass
class BlazePerson:
    """One person: keypoints (33, 3) x, y in frame pixels and score (= visibility);
    z (33,) depth relative to the hips in the same pixel scale; visibility and presence
    (33,) in [0, 1]; box (x1, y1, x2, y2) and box_score: the detector's when it found the
    person this frame, else the landmarks' extent and the pose flag; pose_score: the
    landmark model's flag that a person is in the ROI; roi: the crop it came from."""

    keypoints: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    box: np.ndarray
    box_score: float
    pose_score: float
    roi: Roi
    next_roi: Roi = field(repr=False, default=None)

    @property
    def score(self) -> float:
        return self.pose_score

    def coco17(self) -> np.ndarray:
        """(17, 3) in COCO's keypoint order."""
        return self.keypoints[list(layout.COCO17)]

    def coco18(self) -> np.ndarray:
        """(18, 3) in OpenPose's COCO order; Neck = middle of the shoulders, scored by the lower."""
        rows = []
        for part in layout.COCO18:
            if isinstance(part, tuple):
                a, b = self.keypoints[list(part)]
                rows.append([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, min(a[2], b[2])])
            else:
                rows.append(self.keypoints[part])
        return np.asarray(rows, np.float64)


def _openvino(path: Path, device: str, precision: str) -> Tuple[_Runner, List[Tuple[int, ...]]]:
    try:
        import openvino as ov
    except ImportError:
        raise NetworkError("BlazePose with engine 'openvino' needs the openvino package (pip install openvino)") from None
    try:
        compiled = ov.Core().compile_model(str(path), device.upper(), {
            "PERFORMANCE_HINT": "LATENCY",
            # OpenVINO computes in bf16 on CPUs with AMX / AVX512-BF16 unless told otherwise:
            # that moved the detector's scores by up to 0.04 against MediaPipe's float32.
            "INFERENCE_PRECISION_HINT": PRECISIONS[precision]})
    except RuntimeError as exc:
        raise NetworkError(f"OpenVINO cannot load {path.name} on {device}: {str(exc).strip().splitlines()[0]}") from None
    request = compiled.create_infer_request()
    outputs = list(compiled.outputs)

    def run(tensor: np.ndarray) -> Tuple[np.ndarray, ...]:
        result = request.infer({0: tensor})
        return tuple(np.asarray(result[o]) for o in outputs)

    return run, [tuple(o.get_partial_shape().to_shape()) for o in outputs]


def _opencv(path: Path, role: str) -> Tuple[_Runner, List[Tuple[int, ...]]]:
    if role == "detector":
        raise UsageError(f"cv2.dnn {cv2.__version__} cannot read {path.name} (TFLite operator DENSIFY); "
                         "run the BlazePose detector with engine 'openvino'")
    try:
        net = cv2.dnn.readNet(str(path))
    except cv2.error as exc:
        raise NetworkError(f"cv2.dnn cannot read {path.name}: {str(exc).strip().splitlines()[-1]}") from None
    names = list(net.getUnconnectedOutLayersNames())

    def run(tensor: np.ndarray) -> Tuple[np.ndarray, ...]:
        net.setInput(np.ascontiguousarray(tensor.transpose(0, 3, 1, 2)))  # its TFLite importer takes NCHW
        outs = net.forward(names)
        # back to the TFLite (NHWC) shapes, so both engines give the same arrays
        return tuple(o.transpose(0, 2, 3, 1) if o.ndim == 4 else o for o in outs)

    shapes = [(1, 195), (1, 1), (1, 256, 256, 1), (1, 64, 64, 39), (1, 117)]  # fixed by the model; see _pick
    return run, shapes


def _pick(outputs: Tuple[np.ndarray, ...], want: Dict[str, Callable[[Tuple[int, ...]], bool]]) -> Dict[str, np.ndarray]:
    """Outputs by shape, not by name: TFLite's tensor names (Identity, Identity_1...) are
    what converters rename first."""
    found = {}
    for key, test in want.items():
        hits = [o for o in outputs if test(tuple(o.shape))]
        if len(hits) != 1:
            raise NetworkError(f"BlazePose: expected one {key} output, got shapes {[o.shape for o in outputs]}")
        found[key] = hits[0]
    return found


_DETECTOR_OUTPUTS = {
    "boxes": lambda s: s[-1] == 4 + 2 * pipeline.DETECTOR.num_keypoints,
    "scores": lambda s: len(s) == 3 and s[-1] == 1,
}
_LANDMARK_OUTPUTS = {
    "landmarks": lambda s: len(s) == 2 and s[-1] == 5 * layout.NUM_MODEL_POINTS,
    "flag": lambda s: len(s) == 2 and s[-1] == 1,
    "heatmap": lambda s: len(s) == 4 and s[-1] == layout.NUM_MODEL_POINTS,
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


class BlazePose:
    """MediaPipe's BlazePose (full) with real weights.

    estimate(frame): every person the detector finds (after NMS), each through the
    landmark model; track(frame): video mode, the ROIs carried between frames.
    `model_dir` holds pose_detection.tflite and pose_landmark_full.tflite
    (weights.default_dir() when None; fetch=True downloads them when missing).
    """

    def __init__(self, model_dir: Optional[Union[str, Path]] = None, engine: str = "openvino",
                 detector_engine: str = "openvino", device: str = "CPU", precision: str = "f32", max_people: Optional[int] = None,
                 min_detection_score: float = pipeline.DETECTOR.min_score,
                 min_presence: float = pipeline.LANDMARKS.presence_threshold, fetch: bool = False) -> None:
        for name, value in (("engine", engine), ("detector_engine", detector_engine)):
            if value not in ENGINES:
                raise UsageError(f"BlazePose {name} must be one of {', '.join(ENGINES)}, got {value!r}")
        if precision not in PRECISIONS:
            raise UsageError(f"BlazePose precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        files = weights.ensure(model_dir) if fetch else weights.paths(model_dir)
        for role, path in files.items():
            if not path.is_file():
                raise NetworkError(f"BlazePose {role} weights missing: {path} "
                                   "(pose.families.blazepose.weights.ensure() fetches them)", exit_code=2)
        self.engine, self.detector_engine = engine, detector_engine
        self.max_people, self.min_detection_score, self.min_presence = max_people, min_detection_score, min_presence
        self._detector, _ = (_openvino(files["detector"], device, precision) if detector_engine == "openvino"
                             else _opencv(files["detector"], "detector"))
        self._landmarker, _ = (_openvino(files["landmarks"], device, precision) if engine == "openvino"
                               else _opencv(files["landmarks"], "landmarks"))
        self.detector_calls = 0  # how often the detector ran: video mode should rarely need it
        self._tracked: List[Roi] = []

    # -- the two stages ---------------------------------------------------------------
    def detect(self, frame_bgr: np.ndarray) -> pipeline.Detections:
        """The detector's people after NMS, best first, in frame pixels."""
        return self._detect(_rgb(frame_bgr))

    def _detect(self, rgb: np.ndarray) -> pipeline.Detections:
        tensor, letterbox = pipeline.detector_input(rgb)
        out = _pick(self._detector(tensor), _DETECTOR_OUTPUTS)
        self.detector_calls += 1
        found = pipeline.decode_detections(out["boxes"], out["scores"], letterbox, min_score=self.min_detection_score)
        if self.max_people is not None:
            found = pipeline.Detections(found.boxes[:self.max_people], found.keypoints[:self.max_people],
                                        found.scores[:self.max_people])
        return found

    def landmarks(self, frame_bgr: np.ndarray, roi: Roi) -> Optional[BlazePerson]:
        """The landmark model on one ROI; None when its pose flag is under min_presence."""
        return self._landmarks(_rgb(frame_bgr), roi)

    def _landmarks(self, rgb: np.ndarray, roi: Roi, box: Optional[np.ndarray] = None,
                   box_score: Optional[float] = None) -> Optional[BlazePerson]:
        if not (roi.width > 1 and roi.height > 1 and np.isfinite([roi.cx, roi.cy, roi.width, roi.angle]).all()):
            return None
        out = _pick(self._landmarker(pipeline.landmark_input(rgb, roi)), _LANDMARK_OUTPUTS)
        raw = pipeline.decode_landmarks(out["landmarks"], out["flag"], out["heatmap"], roi)
        if raw.flag < self.min_presence:
            return None
        n = layout.NUM_LANDMARKS
        xy = raw.xy[:n]
        if box is None:
            box, box_score = np.concatenate([xy.min(0), xy.max(0)]), raw.flag
        return BlazePerson(np.column_stack([xy, raw.visibility[:n]]), raw.z[:n], raw.visibility[:n], raw.presence[:n],
                           np.asarray(box, np.float64), float(box_score), raw.flag, roi, pipeline.next_roi(raw))

    # -- images and video ------------------------------------------------------------
    def estimate(self, frame_bgr: np.ndarray) -> List[BlazePerson]:
        """Every detected person (detector, ROI, landmarks), best detection first."""
        rgb = _rgb(frame_bgr)
        found = self._detect(rgb)
        people = []
        for box, kps, score in zip(found.boxes, found.keypoints, found.scores):
            person = self._landmarks(rgb, pipeline.roi_from_points(kps[0], kps[1]), box, score)
            if person is not None:
                people.append(person)
        return people

    def track(self, frame_bgr: np.ndarray) -> List[BlazePerson]:
        """Video mode: the people of the last frame through ROIs from their landmarks; the
        detector runs only when nobody is tracked (MediaPipe's rule; someone who enters
        while others are tracked is found once they are all lost, or after reset())."""
        rgb = _rgb(frame_bgr)
        if self._tracked:
            people = [p for p in (self._landmarks(rgb, roi) for roi in self._tracked) if p is not None]
        else:
            people = []
        if not people:
            found = self._detect(rgb)
            people = [p for p in (self._landmarks(rgb, pipeline.roi_from_points(k[0], k[1]), b, s)
                                  for b, k, s in zip(found.boxes, found.keypoints, found.scores)) if p is not None]
        people = _distinct(people)
        self._tracked = [p.next_roi for p in people]
        return people

    def reset(self) -> None:
        """Forget the tracked people: the next track() runs the detector."""
        self._tracked = []


def _distinct(people: List[BlazePerson], threshold: float = 0.5) -> List[BlazePerson]:
    """Two ROIs that drifted onto one person give two copies: keep the surer one (by the
    overlap of the landmarks' extents)."""
    people = sorted(people, key=lambda p: -p.pose_score)
    kept: List[BlazePerson] = []
    for person in people:
        extent = np.concatenate([person.keypoints[:, :2].min(0), person.keypoints[:, :2].max(0)])
        others = np.array([np.concatenate([k.keypoints[:, :2].min(0), k.keypoints[:, :2].max(0)]) for k in kept]).reshape(-1, 4)
        if not len(others) or pipeline.iou(extent, others).max() <= threshold:
            kept.append(person)
    return kept


__all__ = ["BlazePerson", "BlazePose", "ENGINES"]
