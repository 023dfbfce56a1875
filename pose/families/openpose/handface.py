"""OpenPose's --hand and --face: keypoints of each person's hands (21 each) and face (70),
from two more networks run on crops the body keypoints locate.

    est = pose.PoseEstimator("COCO", hand=True, face=True)   # loads all three networks
    people = est(image)
    people[0].hand_right_keypoints                             # (21, 3) in image pixels

or, beside an existing body estimator:

    parts = pose.HandFaceEstimator(est.spec, plan=est.plan)   # the body's engine, device, precision
    parts(image, people)                                       # fills the people in place

For every person: a square box per hand and for the face (pose.families.openpose.crops, OpenPose's
rules), the left hand mirrored for the net, each crop resized to the net's square input;
all crops of one kind in a frame go through their network in batches of up to
`max_batch` (every engine here takes a batch); each heatmap's strongest peak above the
model's threshold becomes a keypoint (pose.families.openpose.parts). A person whose body gives no
box gets all-zero keypoints for that part, as OpenPose writes them.

Inside PoseEstimator the networks follow the body's plan (engine, device, precision:
pose.runtime.plan), so a run never mixes engines or precisions.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np

from pose import runtime
from pose.core.errors import EXIT_USAGE, NetworkError, UsageError
from pose.core.image import check_image
from pose.core.paths import models_command
from pose.core.person import Person
from pose.families.openpose.crops import crop_affines, crop_batch, face_boxes, hand_boxes, parse_crop_resolution
from pose.families.openpose.net.load import open_plan
from pose.families.openpose.parts import keypoints_from_maps
from pose.families.openpose.spec import PARTS, STRIDE, ModelSpec, PartSpec
from pose.runtime import Plan
from pose.runtime.caffe_files import check_weights, warn_if_not_published

# Crops per forward pass. A 368x368 crop's widest activations take ~35 MB each, so 8
# crops stay well under half a gigabyte; benchmarks/bench_handface.py measures what
# batching gains per crop on each engine.
MAX_BATCH = 8


def _side(value: Union[int, str]) -> int:
    if isinstance(value, bool):
        raise UsageError(f"bad crop resolution {value!r}")
    try:
        return parse_crop_resolution(str(value))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _hint(spec: PartSpec) -> str:
    return f"{models_command()} {spec.name.lower()}"


def check_downloaded(hand: bool, face: bool) -> None:
    """Fail at once, before any network loads, when the downloaded weights a run needs are
    missing or broken (NetworkError with the getModels command)."""
    for name, wanted in (("HAND", hand), ("FACE", face)):
        if wanted:
            check_weights(PARTS[name].weights.path, _hint(PARTS[name]))


class PartNetwork:
    """One of the two networks (hand or face), loaded once, with its crop size and threshold."""

    def __init__(self, spec: PartSpec, side: int, plan: Optional[Plan] = None,
                 weights: Optional[Union[str, Path]] = None, proto: Optional[Union[str, Path]] = None,
                 threshold: Optional[float] = None, max_batch: int = MAX_BATCH, threads: Optional[int] = None):
        if not isinstance(max_batch, int) or max_batch < 1:
            raise UsageError(f"max_batch must be a whole number of at least 1, got {max_batch!r}")
        self.spec, self.side, self.max_batch = spec, side, max_batch
        self.threshold = spec.thresholds.peak if threshold is None else float(threshold)
        if not 0 <= self.threshold < 1:
            raise UsageError(f"{spec.name.lower()} threshold must be in [0, 1), got {threshold}")
        path = Path(weights) if weights else spec.weights.path
        hint = _hint(spec) if path == spec.weights.path else None
        check_weights(path, hint)
        if path == spec.weights.path:  # as the body's: someone else's file under the official name is said
            warn_if_not_published(path, spec.weights.size, models_command(), spec.weights.approx_size)
        # Both definitions convert to ONNX, so the plan's engine always runs them (no Caffe fallback).
        self.net = open_plan(plan or runtime.plan(), spec, spec.stages, path,
                                           Path(proto) if proto else None, hint, threads)
        self._probe(path)
        self.crops = 0  # crops run so far, and the seconds they took (crop, net, peaks)
        self.seconds = 0.0

    def _probe(self, weights: Path) -> None:
        """A tiny forward pass: files that do not fit fail here, with a clear message."""
        cells = 4
        try:
            out = self.net.forward(np.zeros((1, 3, cells * STRIDE, cells * STRIDE), np.float32))
        except NetworkError as exc:
            raise NetworkError(f"the weights {weights.name} do not fit the {self.spec.name.lower()} network "
                               f"({exc})", EXIT_USAGE) from None
        if out.ndim != 4 or out.shape[1] != self.spec.n_channels or out.shape[2:] != (cells, cells):
            raise NetworkError(
                f"{weights.name} is not OpenPose's {self.spec.name.lower()} network: it maps a "
                f"{cells * STRIDE}x{cells * STRIDE} input to {tuple(out.shape[1:])}, the "
                f"{self.spec.name.lower()} model to ({self.spec.n_channels}, {cells}, {cells})", EXIT_USAGE)

    def keypoints(self, image: np.ndarray, boxes: np.ndarray, mirror: Optional[np.ndarray] = None) -> np.ndarray:
        """(B, K, 3) keypoints in image pixels for (B, 3) boxes; zeros for boxes of side 0."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 3)
        out = np.zeros((len(boxes), self.spec.n_keypoints, 3))
        todo = np.flatnonzero(boxes[:, 2] > 0)
        if len(todo) == 0:
            return out
        t0 = time.perf_counter()
        affines = crop_affines(boxes[todo], self.side, None if mirror is None else np.asarray(mirror)[todo])
        for start in range(0, len(todo), self.max_batch):
            batch = slice(start, start + self.max_batch)
            maps = self.net.forward(crop_batch(image, affines[batch], self.side))
            out[todo[batch]] = keypoints_from_maps(maps, affines[batch], self.threshold)
        self.crops += len(todo)
        self.seconds += time.perf_counter() - t0
        return out


class HandFaceEstimator:
    """Hand and face keypoints for people found by a body model (OpenPose's --hand, --face).

    body_spec: the body model whose keypoints locate the crops (any of pose.MODELS).
    hand / face: which networks to load. hand_net_resolution / face_net_resolution:
    the square crop size ("368x368", OpenPose's default; a multiple of 8, smaller is
    faster and coarser). plan: where and how they run (pose.runtime.plan; normally the
    body estimator's `plan`), or engine / device / precision to plan it here.
    hand_weights / face_weights (and _proto): other files than the downloaded ones. Bad
    values raise ValueError (pose.UsageError); unusable model files pose.NetworkError.
    """

    def __init__(self, body_spec: ModelSpec, *, hand: bool = True, face: bool = True,
                 hand_net_resolution: Union[int, str] = "368x368", face_net_resolution: Union[int, str] = "368x368",
                 plan: Optional[Plan] = None, engine: str = "auto", device: str = "cpu", precision: str = "auto",
                 hand_weights: Optional[Union[str, Path]] = None, hand_proto: Optional[Union[str, Path]] = None,
                 face_weights: Optional[Union[str, Path]] = None, face_proto: Optional[Union[str, Path]] = None,
                 max_batch: int = MAX_BATCH, threads: Optional[int] = None):
        if not (hand or face):
            raise UsageError("HandFaceEstimator needs hand=True, face=True or both")
        self.body_spec = body_spec
        hand_side, face_side = _side(hand_net_resolution), _side(face_net_resolution)
        self.plan = plan or runtime.plan(engine, device, precision)
        self.hand = (PartNetwork(PARTS["HAND"], hand_side, self.plan, hand_weights, hand_proto,
                                 max_batch=max_batch, threads=threads) if hand else None)
        self.face = (PartNetwork(PARTS["FACE"], face_side, self.plan, face_weights, face_proto,
                                 max_batch=max_batch, threads=threads) if face else None)

    @property
    def networks(self) -> List[PartNetwork]:
        return [n for n in (self.hand, self.face) if n is not None]

    def label(self) -> str:
        """What runs, for the tools' first line, e.g. "hands 368x368 + face 368x368"."""
        parts = [(n, "hands" if n is self.hand else "face") for n in self.networks]
        return " + ".join(f"{name} {n.side}x{n.side}" for n, name in parts)

    def __call__(self, image: np.ndarray, people: Sequence[Person]) -> Sequence[Person]:
        """Set each person's hand_left/hand_right/face keypoints (the loaded ones) from
        `image`, the frame the body keypoints were found in (gray, BGRA and 16-bit images
        are converted as the body's are); returns `people`."""
        image = check_image(image)
        body = np.array([p.keypoints for p in people], dtype=np.float64).reshape(
            len(people), self.body_spec.n_keypoints, 3)
        if self.hand is not None:
            boxes = hand_boxes(body, self.body_spec)  # (P, 2, 3): left, right
            mirror = np.tile([True, False], len(people))  # the net knows right hands only
            found = self.hand.keypoints(image, boxes.reshape(-1, 3), mirror).reshape(
                len(people), 2, self.hand.spec.n_keypoints, 3)
            for person, (left, right) in zip(people, found):
                person.hand_left_keypoints, person.hand_right_keypoints = left, right
        if self.face is not None:
            found = self.face.keypoints(image, face_boxes(body, self.body_spec))
            for person, face in zip(people, found):
                person.face_keypoints = face
        return people
