"""Devices: what --device accepts, what this OpenCV build can reach (CUDA, OpenCL), and
cv2.dnn's backend/target pairs. The choice itself is made once, in pose.runtime.select."""
from __future__ import annotations

from dataclasses import dataclass

import cv2

from pose.core.errors import UsageError

DEVICES = ("cpu", "gpu", "opencl", "auto")


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
