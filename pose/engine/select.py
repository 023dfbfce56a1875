"""Choosing and opening the engine: --engine resolved once, `auto` = the fastest this
install can run on the device, with the rule written down in `available`."""
from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import List, Optional

import cv2

from pose.engine.backends import (
    Engine,
    OnnxRuntimeEngine,
    OpenCVEngine,
    has_caffe_importer,
    load_caffe_cut,
    load_onnx_cv2,
    require_caffe_importer,
    set_opencv_threads,
)
from pose.engine.device import CPU, Placement
from pose.errors import EXIT_USAGE, NetworkError, UsageError
from pose.model.convert import UnsupportedDefinition, converted
from pose.spec import ModelSpec

# Inference engines; "auto" picks the fastest one available on this install.
ENGINES = ("auto", "caffe", "onnx", "onnxruntime")
log = logging.getLogger("pose")


def has_module(name: str) -> bool:
    """Installed, without the cost of importing it."""
    return importlib.util.find_spec(name) is not None


def parse_engine(text: str) -> str:
    """--engine's value, checked: one of ENGINES, any case."""
    name = str(text).strip().lower()
    if name not in ENGINES:
        raise UsageError(f"unknown engine {text!r}: choose one of {', '.join(ENGINES)}")
    return name


def available(placement: Placement = CPU) -> List[str]:
    """Engines this install can run on `placement`, fastest first.

    The order is measured (benchmarks/RESULTS.md, 2-core machine): onnxruntime beats
    cv2.dnn; OpenCV 5's new engine on ONNX beats OpenCV 4; on OpenCV 4 the Caffe files
    run as fast as their ONNX and need no conversion. onnxruntime (pip's CPU build) is
    only a choice for the CPU.
    """
    onnx_ok = has_module("onnx")
    names = ["onnxruntime"] if placement == CPU and onnx_ok and has_module("onnxruntime") else []
    if has_caffe_importer():
        names.append("caffe")
    if onnx_ok:
        names.append("onnx")
    return names


def choose(requested: str, placement: Placement = CPU) -> str:
    """Resolve --engine: check that an explicit choice can run, pick the fastest for `auto`."""
    requested = parse_engine(requested)
    if requested == "auto":
        names = available(placement)
        if not names:
            raise NetworkError(
                f"OpenCV {cv2.__version__} has no Caffe importer and the onnx package that converts the "
                "weights is missing: pip install -r requirements-opencv5.txt (or OpenCV 4: "
                "pip install -r requirements.txt)", EXIT_USAGE)
        return names[0]
    if requested == "caffe":
        require_caffe_importer()
        return requested
    if not has_module("onnx"):
        raise NetworkError(f"--engine {requested} converts the Caffe weights with the onnx package, "
                           "which is not installed: pip install -r requirements-onnx.txt", EXIT_USAGE)
    if requested == "onnxruntime":
        if not has_module("onnxruntime"):
            raise NetworkError("--engine onnxruntime: onnxruntime is not installed "
                               "(pip install -r requirements-onnx.txt)", EXIT_USAGE)
        if placement != CPU:
            log.warning(f"--engine onnxruntime runs on the CPU here; use --engine onnx or caffe for "
                        f"{placement.label}")
    return requested


def open_engine(name: str, spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
                placement: Placement = CPU, hint: Optional[str] = None,
                threads: Optional[int] = None) -> Engine:
    """Load the network for engine `name` (one that `choose` accepted).

    The network is `spec`'s cut after `stages`, or the Caffe deploy file `proto`.
    """
    threads = set_opencv_threads(threads)
    if name == "caffe":
        net = load_caffe_cut(spec, stages, Path(weights), proto, placement, hint)
        return OpenCVEngine(net, "caffe", f"OpenCV {cv2.__version__} dnn, Caffe files ({placement.label})")
    path = converted(spec, stages, Path(weights), proto, hint)
    if name == "onnxruntime":
        return OnnxRuntimeEngine(path, threads)
    return OpenCVEngine(load_onnx_cv2(path, placement), "onnx",
                        f"OpenCV {cv2.__version__} dnn, ONNX ({placement.label})")


def load(requested: str, spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
         placement: Placement = CPU, hint: Optional[str] = None, threads: Optional[int] = None) -> Engine:
    """`choose` then `open_engine`; `auto` falls back to Caffe for a definition the converter
    cannot express."""
    name = choose(requested, placement)
    try:
        return open_engine(name, spec, stages, weights, proto, placement, hint, threads)
    except UnsupportedDefinition as exc:
        if parse_engine(requested) != "auto" or not has_caffe_importer():
            raise
        log.warning(f"{exc}; running the Caffe files instead")
        return open_engine("caffe", spec, stages, weights, proto, placement, hint, threads)
