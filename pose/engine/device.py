"""Where the network runs: --device mapped to a cv2.dnn backend and target, with one
warning (through `logging`) when the device asked for is not there and the CPU runs."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2

from pose.errors import UsageError

DEVICES = ("cpu", "gpu", "opencl", "auto")
log = logging.getLogger("pose")


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


def parse_device(text: str) -> str:
    """--device's value, checked: one of DEVICES, any case."""
    device = str(text).strip().lower()
    if device not in DEVICES:
        raise UsageError(f"unknown device {text!r}: choose one of {', '.join(DEVICES)}")
    return device


def select_placement(device: str = "cpu", fp16: bool = False) -> Placement:
    """Map --device to a backend and target; fall back to CPU with one warning line."""
    device = parse_device(device)
    if device in ("gpu", "auto") and cuda_available():
        target = cv2.dnn.DNN_TARGET_CUDA_FP16 if fp16 else cv2.dnn.DNN_TARGET_CUDA
        return Placement(cv2.dnn.DNN_BACKEND_CUDA, target, "cuda-fp16" if fp16 else "cuda")
    if device == "gpu":
        log.warning("--device gpu: this OpenCV build has no CUDA support or sees no CUDA device "
                    "(pip's opencv-python never has CUDA); running on the CPU")
        return CPU
    if device == "opencl":
        if opencl_available():
            target = cv2.dnn.DNN_TARGET_OPENCL_FP16 if fp16 else cv2.dnn.DNN_TARGET_OPENCL
            return Placement(cv2.dnn.DNN_BACKEND_OPENCV, target, "opencl-fp16" if fp16 else "opencl")
        log.warning("--device opencl: no OpenCL device is available to OpenCV; running on the CPU")
    return CPU
