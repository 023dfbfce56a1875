"""What the runs (image, video, batch, Ray) need of an estimator, whatever its family.

    people = estimator(image)                      # or estimator.estimate(image)

and, for video and batches, a pipeline that keeps several frames in flight:

    estimator.submit(frame, tag)                   # start one frame
    for tag, outputs in estimator.collect(wait):   # finished frames, in submission order
        people = estimator.people_from(outputs, frame)
    estimator.abandon()                            # drop what is in flight (a run that stops)

An estimator that keeps something of one frame for the next (BlazePose carries each
person's region from frame to frame) also has `reset()`, which the video loop calls before
a video's first frame; the protocol does not require it.

`outputs` are the family's own (OpenPose: the network's maps at every scale); only
`people_from` reads them, so a family may decode off the inference thread. A family whose
network outputs maps worth keeping also has `maps(outputs)`, the array --write_heatmaps
writes (OpenPose: heatmaps and PAFs, (1, C, H, W)); the protocol does not require it. A family
without asynchronous inference runs each frame in `submit` (see pose.runtime.Engine).

An estimator that carries state from one frame to the next (a top-down tracker: RTMPose
takes a frame's boxes from the frame before) also has `reset()`: the video run calls it
before a video's first frame, so that one video's people never seed the next one's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Protocol, Tuple, runtime_checkable

import numpy as np

from pose.core.layout import Layout
from pose.core.person import Person


@runtime_checkable
class ModelInfo(Protocol):
    """The model as the outputs name it: `name` (the JSON's "model", the output folder)
    and the `layout` of its people. OpenPose's ModelSpec is one; `Model` the least one."""

    name: str
    layout: Layout


def keypoint_threshold(spec: object) -> float:
    """The score under which a model's keypoints are placed but not to be trusted: drawing
    and classification leave them out, the outputs (JSON, COCO results) keep them with their
    score. A model spec may say so in `keypoint_threshold` (RTMPose places every keypoint
    and scores it); 0 for the others (OpenPose marks a keypoint it did not find with
    confidence 0)."""
    return float(getattr(spec, "keypoint_threshold", 0.0) or 0.0)


@dataclass(frozen=True)
class Model:
    """A ModelInfo and nothing more, for families that keep their other facts elsewhere."""

    name: str
    layout: Layout


@runtime_checkable
class Estimator(Protocol):
    """The estimator protocol. `spec`: the model (ModelInfo). `engine`, `precision`,
    `device` and `engine_label` say what runs, for the outputs' run info and the tools'
    first line. `in_flight`: frames `submit` keeps in the network at once (1: none ahead)."""

    spec: ModelInfo
    engine: str
    precision: str
    device: str
    engine_label: str

    @property
    def in_flight(self) -> int: ...

    def estimate(self, image: np.ndarray) -> List[Person]: ...

    def __call__(self, image: np.ndarray) -> List[Person]: ...

    def submit(self, image: np.ndarray, tag: Any) -> None: ...

    def collect(self, wait: bool = False) -> List[Tuple[Any, Any]]: ...

    def abandon(self) -> None: ...

    def people_from(self, outputs: Any, image: Optional[np.ndarray] = None) -> List[Person]: ...

    def describe(self) -> str:
        """What runs, for the tools' first line (e.g. "COCO, 6 stages, on cpu with ...")."""

