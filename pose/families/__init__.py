"""Model families: each a folder that turns frames into people with its own networks,
pre- and post-processing (OpenPose, RTMPose/RTMO, BlazePose). Shared machinery of the
top-down families (one crop per person) is in `pose.families.topdown`.

The registry: `FAMILIES` maps a family's name (the tools' --family) to the module that
serves it, imported only when asked for (so `import pose` and the tools' import guard
stay light). A family module provides:

    MODELS: Dict[str, ModelInfo]   # model name -> its spec (pose.core.estimator.ModelInfo:
                                   # name, layout; anything else the family needs)
    DEFAULT_MODEL: str             # the tools' --mode default
    MODEL_HELP: str                # --mode's help
    PRECISION_HELP, ENGINE_HELP: str  # (optional) --precision's and --engine's help, where
                                   # they mean something else for this family (BlazePose)
    add_options(parser)            # its own options and help text, in its own groups
    check_options(parser, args)    # values valid alone but not together (parser.error)
    make_estimator(args, say, throughput, threads, device) -> Estimator
                                   # pose.core.estimator's protocol; module-level, so a
                                   # batch can pickle it to its worker processes and actors
    parse_model(text) -> ModelInfo # --mode's value (ValueError: one line naming the choices)
    identity(args) -> (model, options)
                                   # what makes two runs' outputs equal (batch resume):
                                   # the model files by content, the options that matter
    NEGATIVE_OPTIONS: Tuple[str, ...]  # options whose values may start with "-"

Its weights files are listed where pose.download finds them (OpenPose: spec.DOWNLOADS;
BlazePose: blazepose.weights.downloads()). An estimator that keeps state between the frames
of a video (BlazePose's tracked ROIs) has `reset()`, which the video loop calls first.

A second family is one new folder (pose/families/<name>/) and one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class FamilyEntry:
    name: str  # --family's value
    module: str  # the module that provides the interface above
    summary: str  # one line for --help
    # Its MODELS' names (tests/test_families.py holds them equal), so that --model alone
    # finds the family without importing every family.
    models: Tuple[str, ...] = ()
    # Names it knows but refuses (BlazePose's lite and heavy), so that --model alone takes
    # them to the family that says why, in one line.
    refused: Tuple[str, ...] = ()


FAMILIES: Dict[str, FamilyEntry] = {
    "openpose": FamilyEntry("openpose", "pose.families.openpose.family",
                            "OpenPose's body networks (COCO, MPI, MPI_4, BODY_25), with its hand and face networks",
                            ("COCO", "MPI", "MPI_4", "BODY_25")),
    "blazepose": FamilyEntry("blazepose", "pose.families.blazepose.family",
                             "MediaPipe's BlazePose (full), 33 landmarks, real trained weights (Apache-2.0)",
                             ("BlazePose",), ("blazepose_lite", "blazepose_heavy")),
    "rtmpose": FamilyEntry("rtmpose", "pose.families.rtmpose.family",
                           "MMPose's RTMPose with a person detector (human, rtmpose-t|s|m|l, body_with_feet) "
                           "and the one-stage RTMO (rtmo-s|m|l): COCO-17 or Halpe-26, ONNX on every engine",
                           ("human", "rtmpose-t", "rtmpose-s", "rtmpose-m", "rtmpose-l", "rtmpose-m-384x288",
                            "rtmpose-l-384x288", "rtmo-s", "rtmo-m", "rtmo-l", "body_with_feet")),
}
DEFAULT_FAMILY = "openpose"


def family_of_model(model: str) -> Optional[str]:
    """The family that has a model of this name (case-insensitive, - and _ alike), None if none has."""
    key = _model_key(model)
    return next((e.name for e in FAMILIES.values() if any(_model_key(m) == key for m in e.models + e.refused)), None)


def _model_key(name: str) -> str:
    return str(name).strip().lower().replace("-", "_")


def register(entry: FamilyEntry) -> None:
    """Add (or replace) a family, for families that live outside the package (and tests)."""
    FAMILIES[entry.name] = entry


def get_family(name: str) -> ModuleType:
    """The family module by name, case-insensitively; ValueError names the choices."""
    key = str(name).strip().lower()
    if key not in FAMILIES:
        raise ValueError(f"unknown family {name!r}: choose one of {', '.join(FAMILIES)}")
    return import_module(FAMILIES[key].module)
