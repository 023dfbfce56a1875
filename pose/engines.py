"""Inference engines behind one interface: `Engine.forward(blob) -> output`.

    caffe        cv2.dnn on the Caffe files (OpenCV 4 only: OpenCV 5 has no Caffe importer)
    onnx         cv2.dnn on the ONNX converted from the Caffe weights (OpenCV 4 or 5)
    onnxruntime  onnxruntime on the same ONNX (optional: pip install -r requirements-onnx.txt)
    auto         the fastest of these this install can run (see `available`)

Every engine runs the same weights and agrees with the Caffe route to float32 rounding
(tests/test_engines.py; benchmarks/bench_speed.py reports the full-size figure).
"""
from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

from . import network
from .architecture import INPUT_NAME, deploy_text
from .spec import ModelSpec


def cpu_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def set_opencv_threads(threads: Optional[int] = None) -> int:
    threads = threads or cpu_cores()
    cv2.setNumThreads(threads)
    return threads


def has_caffe_importer() -> bool:
    return hasattr(cv2.dnn, "readNetFromCaffe")


def has_module(name: str) -> bool:
    """Installed, without the cost of importing it."""
    return importlib.util.find_spec(name) is not None


def available(placement: network.Placement = network.CPU) -> List[str]:
    """Engines this install can run on `placement`, fastest first.

    The order is measured (benchmarks/RESULTS.md, 2-core machine): onnxruntime beats
    cv2.dnn; OpenCV 5's new engine on ONNX beats OpenCV 4; on OpenCV 4 the Caffe files
    run as fast as their ONNX and need no conversion. onnxruntime (pip's CPU build) is
    only a choice for the CPU.
    """
    onnx_ok = has_module("onnx")
    names = ["onnxruntime"] if placement == network.CPU and onnx_ok and has_module("onnxruntime") else []
    if has_caffe_importer():
        names.append("caffe")
    if onnx_ok:
        names.append("onnx")
    return names


def choose(requested: str, placement: network.Placement = network.CPU,
           warn: network.Warn = network.warn_stderr) -> str:
    """Resolve --engine: check that an explicit choice can run, pick the fastest for `auto`."""
    requested = requested.lower()
    if requested not in network.ENGINES:
        raise network.NetworkError(f"unknown engine {requested!r}: choose one of {', '.join(network.ENGINES)}", 2)
    if requested == "auto":
        names = available(placement)
        if not names:
            raise network.NetworkError(
                f"OpenCV {cv2.__version__} has no Caffe importer and the onnx package that converts the "
                "weights is missing: pip install -r requirements-opencv5.txt (or OpenCV 4: "
                "pip install -r requirements.txt)", 2)
        return names[0]
    if requested == "caffe":
        network.require_caffe_importer()
        return requested
    if not has_module("onnx"):
        raise network.NetworkError(f"--engine {requested} converts the Caffe weights with the onnx package, "
                                   "which is not installed: pip install -r requirements-onnx.txt", 2)
    if requested == "onnxruntime":
        if not has_module("onnxruntime"):
            raise network.NetworkError("--engine onnxruntime: onnxruntime is not installed "
                                       "(pip install -r requirements-onnx.txt)", 2)
        if placement != network.CPU:
            warn(f"--engine onnxruntime runs on the CPU here; use --engine onnx or caffe for {placement.label}")
    return requested


# ---------------------------------------------------------------- engines

class Engine:
    """One loaded network. `name` is the engine's --engine name, `label` says what runs it."""

    name = ""
    label = ""

    def forward(self, blob: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"


class OpenCVEngine(Engine):
    def __init__(self, net: cv2.dnn.Net, name: str, label: str):
        self.net, self.name, self.label = net, name, label

    def forward(self, blob: np.ndarray) -> np.ndarray:
        return network.forward(self.net, blob)


class OnnxRuntimeEngine(Engine):
    name = "onnxruntime"

    def __init__(self, path: Path, threads: Optional[int] = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or cpu_cores()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle workers would otherwise spin between frames and steal the cores that the
        # video pipeline's reading, decoding and writing threads need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise network.NetworkError(f"onnxruntime could not load {network.display_path(path)}: "
                                       f"{network._first_line(exc)}", 2) from None
        self.output = self.session.get_outputs()[0].name
        self.label = f"onnxruntime {ort.__version__} (CPU, {options.intra_op_num_threads} threads)"

    def forward(self, blob: np.ndarray) -> np.ndarray:
        try:
            return self.session.run([self.output], {INPUT_NAME: blob})[0]
        except Exception as exc:
            raise network.NetworkError(f"network forward pass failed: {network._first_line(exc)}") from None


def converted(spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
              hint: Optional[str] = None) -> Path:
    """The cached ONNX of `weights` (converted on first use); errors become NetworkError."""
    from .onnx_export import ConversionError, WeightsMismatch, onnx_for

    network.check_weights(weights, hint)
    if proto is not None:
        network.check_prototxt(proto)
    try:
        return onnx_for(weights, spec, stages, proto)
    except WeightsMismatch as exc:
        raise network.NetworkError(f"the weights {Path(weights).name} do not fit the network definition "
                                   f"({exc})", 2) from None
    except ConversionError as exc:
        raise UnsupportedDefinition(f"cannot convert to ONNX: {exc}") from None
    except OSError as exc:
        raise network.NetworkError(f"cannot write the ONNX converted from {network.display_path(weights)}: "
                                   f"{exc.strerror or exc}", 2) from None


class UnsupportedDefinition(network.NetworkError):
    """The ONNX converter cannot express this network (only the Caffe route can run it)."""

    def __init__(self, message: str):
        super().__init__(message, 2)


def load_onnx_cv2(path: Path, placement: network.Placement = network.CPU) -> cv2.dnn.Net:
    """cv2.dnn network from an ONNX file; on OpenCV 5 the classic engine for non-CPU targets."""
    args = [str(path)]
    if placement != network.CPU and hasattr(cv2.dnn, "ENGINE_CLASSIC"):
        args.append(cv2.dnn.ENGINE_CLASSIC)  # OpenCV 5's new engine runs on the CPU only
    try:
        net = cv2.dnn.readNetFromONNX(*args)
    except cv2.error as exc:
        raise network.NetworkError(f"OpenCV could not load {network.display_path(path)}: "
                                   f"{network._first_line(exc)}", 2) from None
    if placement != network.CPU:  # the CPU is the default; OpenCV 5's new engine warns on any set
        net.setPreferableBackend(placement.backend)
        net.setPreferableTarget(placement.target)
    return net


def _load_caffe(spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path],
                placement: network.Placement, hint: Optional[str]) -> cv2.dnn.Net:
    if proto is not None or stages == spec.stages:
        return network.load_caffe(proto or spec.prototxt, weights, placement, hint)
    # A stage cut is generated on the fly; cv2.dnn wants a file path.
    fd, tmp = tempfile.mkstemp(suffix=".prototxt")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(deploy_text(spec, stages))
        return network.load_caffe(tmp, weights, placement, hint)
    finally:
        os.unlink(tmp)


def open_engine(name: str, spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
                placement: network.Placement = network.CPU, hint: Optional[str] = None,
                threads: Optional[int] = None) -> Engine:
    """Load the network for engine `name` (one that `choose` accepted).

    The network is `spec`'s cut after `stages`, or the Caffe deploy file `proto`.
    """
    threads = set_opencv_threads(threads)
    if name == "caffe":
        net = _load_caffe(spec, stages, Path(weights), proto, placement, hint)
        return OpenCVEngine(net, "caffe", f"OpenCV {cv2.__version__} dnn, Caffe files ({placement.label})")
    path = converted(spec, stages, Path(weights), proto, hint)
    if name == "onnxruntime":
        return OnnxRuntimeEngine(path, threads)
    return OpenCVEngine(load_onnx_cv2(path, placement), "onnx",
                        f"OpenCV {cv2.__version__} dnn, ONNX ({placement.label})")


def load(requested: str, spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
         placement: network.Placement = network.CPU, hint: Optional[str] = None,
         warn: network.Warn = network.warn_stderr, threads: Optional[int] = None) -> Engine:
    """`choose` then `open_engine`; `auto` falls back to Caffe for a definition the converter
    cannot express."""
    name = choose(requested, placement, warn)
    try:
        return open_engine(name, spec, stages, weights, proto, placement, hint, threads)
    except UnsupportedDefinition as exc:
        if requested.lower() != "auto" or not has_caffe_importer():
            raise
        warn(f"{exc}; running the Caffe files instead")
        return open_engine("caffe", spec, stages, weights, proto, placement, hint, threads)
