"""Loading the network and choosing where it runs.

Everything that can go wrong before the first frame (missing or broken weights, an
OpenCV without the Caffe importer, a device this build cannot use) becomes a
`NetworkError` with a one-line message, so the tools can print it and exit cleanly.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

import cv2
import numpy as np

from .caffemodel import looks_like_caffemodel
from .spec import PACKAGE_DIR

DEVICES = ("cpu", "gpu", "opencl", "auto")
# Inference engines (pose.engines); "auto" picks the fastest one available on this install.
ENGINES = ("auto", "caffe", "onnx", "onnxruntime")
Warn = Callable[[str], None]


class NetworkError(RuntimeError):
    """A problem loading or placing the network; `exit_code` is what the tools exit with."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def warn_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def display_path(path: Path) -> str:
    """A path as the user should see it: relative to the project when inside it."""
    try:
        return str(Path(path).resolve().relative_to(PACKAGE_DIR.parent))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- devices

@dataclass(frozen=True)
class Placement:
    """Where the network runs: a cv2.dnn backend and target, and a name for users."""

    backend: int
    target: int
    label: str


CPU = Placement(cv2.dnn.DNN_BACKEND_OPENCV, cv2.dnn.DNN_TARGET_CPU, "cpu")


def cuda_available() -> bool:
    """True when this OpenCV build has the CUDA DNN backend and sees a CUDA device."""
    try:
        if cv2.cuda.getCudaEnabledDeviceCount() < 1:
            return False
        return cv2.dnn.DNN_TARGET_CUDA in cv2.dnn.getAvailableTargets(cv2.dnn.DNN_BACKEND_CUDA)
    except (AttributeError, cv2.error):
        return False


def opencl_available() -> bool:
    try:
        return bool(cv2.ocl.haveOpenCL()) and cv2.dnn.DNN_TARGET_OPENCL in cv2.dnn.getAvailableTargets(
            cv2.dnn.DNN_BACKEND_OPENCV)
    except (AttributeError, cv2.error):
        return False


def select_placement(device: str = "cpu", fp16: bool = False, warn: Warn = warn_stderr) -> Placement:
    """Map --device to a backend and target; fall back to CPU with one warning line."""
    device = device.lower()
    if device not in DEVICES:
        raise NetworkError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}", 2)
    if device in ("gpu", "auto") and cuda_available():
        target = cv2.dnn.DNN_TARGET_CUDA_FP16 if fp16 else cv2.dnn.DNN_TARGET_CUDA
        return Placement(cv2.dnn.DNN_BACKEND_CUDA, target, "cuda-fp16" if fp16 else "cuda")
    if device == "gpu":
        warn("--device gpu: this OpenCV build has no CUDA support or sees no CUDA device "
             "(pip's opencv-python never has CUDA); running on the CPU")
        return CPU
    if device == "opencl":
        if opencl_available():
            target = cv2.dnn.DNN_TARGET_OPENCL_FP16 if fp16 else cv2.dnn.DNN_TARGET_OPENCL
            return Placement(cv2.dnn.DNN_BACKEND_OPENCV, target, "opencl-fp16" if fp16 else "opencl")
        warn("--device opencl: no OpenCL device is available to OpenCV; running on the CPU")
    return CPU


# ---------------------------------------------------------------- loading

def require_caffe_importer() -> None:
    """OpenCV 5 removed readNetFromCaffe: say so instead of failing with AttributeError."""
    if not hasattr(cv2.dnn, "readNetFromCaffe"):
        raise NetworkError(
            f"OpenCV {cv2.__version__} has no Caffe importer (removed in OpenCV 5); "
            "install OpenCV 4: pip install 'opencv-python>=4.8,<5'", 2)


def check_weights(weights: Path, hint: Optional[str] = None) -> None:
    """Fail early and clearly on weights that are missing or not a Caffe model.

    `hint` is the command that fetches the file (for the official weights), if any.
    """
    weights = Path(weights)
    if not weights.is_file():
        fix = f" (run {hint} to download them)" if hint else ""
        raise NetworkError(f"weights not found: {display_path(weights)}{fix}", 2)
    try:
        looks_right = weights.stat().st_size > 0 and looks_like_caffemodel(weights)
    except OSError as exc:
        raise NetworkError(f"cannot read {display_path(weights)}: {exc.strerror or exc}", 2) from None
    if not looks_right:
        fix = f"; run {hint} --force" if hint else ""
        raise NetworkError(f"{display_path(weights)} is not a Caffe .caffemodel file (an HTML page or a "
                           f"broken download?){fix}", 2)


def check_prototxt(prototxt: Path) -> None:
    if not Path(prototxt).is_file():
        raise NetworkError(f"network definition not found: {display_path(prototxt)}", 2)


def load_caffe(prototxt: Union[str, Path], weights: Union[str, Path], placement: Placement = CPU,
               hint: Optional[str] = None) -> cv2.dnn.Net:
    """A cv2.dnn network from Caffe files, placed on `placement`.

    `hint` is the command that fetches official weights (see check_weights).
    """
    require_caffe_importer()
    prototxt, weights = Path(prototxt), Path(weights)
    check_prototxt(prototxt)
    check_weights(weights, hint)
    try:
        net = cv2.dnn.readNetFromCaffe(str(prototxt), str(weights))
    except cv2.error as exc:
        fix = f"; run {hint} --verify" if hint else ""
        raise NetworkError(f"OpenCV could not load {display_path(weights)} with {display_path(prototxt)}: "
                           f"{_first_line(exc)} (weights that do not match this definition, or a "
                           f"truncated file){fix}", 2) from None
    if net.empty():
        raise NetworkError(f"OpenCV loaded an empty network from {display_path(prototxt)}", 2)
    net.setPreferableBackend(placement.backend)
    net.setPreferableTarget(placement.target)
    return net


def _first_line(exc: BaseException) -> str:
    lines = [l.strip() for l in str(exc).splitlines() if l.strip()]
    # cv2.error's useful part is the "error: (-N:...) message" line
    for line in lines:
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    return lines[0] if lines else type(exc).__name__


def forward(net: cv2.dnn.Net, blob: np.ndarray) -> np.ndarray:
    """Run one blob through the network; errors become NetworkError."""
    net.setInput(blob)
    try:
        return net.forward()
    except cv2.error as exc:
        raise NetworkError(f"network forward pass failed: {_first_line(exc)}") from None
