"""Test networks: OpenPose's exact topology and layer names with seeded random weights.

Narrow variants (channel width scaled down) load and run in milliseconds; the branch
outputs keep their full channel counts, so every consumer sees the real layout.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import pytest

from pose.families.openpose.net.architecture import Layer, build_layers, deploy_text
from pose.families.openpose.spec import ModelSpec
from tests.support.random_weights import random_weights, write_random_caffemodel

NARROW = 0.125  # ~3-5 MB of weights instead of ~200 MB

# Tests of the Caffe route itself; OpenCV 5 (no Caffe importer) runs the ONNX route instead.
requires_caffe = pytest.mark.skipif(not hasattr(cv2.dnn, "readNetFromCaffe"),
                                    reason="this OpenCV has no Caffe importer (OpenCV 5)")


def write_model(folder: Path, spec: ModelSpec, stages: Optional[int] = None, width: float = NARROW,
                seed: int = 0) -> Tuple[Path, Path]:
    """Write a deploy file and matching random weights; returns (prototxt, caffemodel)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{spec.name}_s{stages or spec.stages}_w{width:g}_seed{seed}"
    proto, weights = folder / f"{stem}.prototxt", folder / f"{stem}.caffemodel"
    if not weights.exists():
        proto.write_text(deploy_text(spec, stages, width))
        write_random_caffemodel(weights, build_layers(spec, stages, width), seed)
    return proto, weights


def _conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    k = w.shape[-1]
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))  # C, H, W, k, k
    return np.einsum("chwij,ocij->ohw", win, w, optimize=True) + b[:, None, None]


def reference_forward(layers: List[Layer], weights: Dict[str, List[np.ndarray]], blob: np.ndarray) -> np.ndarray:
    """The network computed with NumPy in float64: an independent check of cv2.dnn."""
    blobs = {"image": blob[0].astype(np.float64)}
    for layer in layers:
        src = [blobs[b] for b in layer.bottoms]
        if layer.type == "Convolution":
            w, b = weights[layer.name]
            out = _conv2d(src[0], w.astype(np.float64), b.astype(np.float64), layer.pad)
        elif layer.type == "ReLU":
            out = np.maximum(src[0], 0)
        elif layer.type == "PReLU":
            slope = weights[layer.name][0].astype(np.float64).reshape(-1, 1, 1)  # [C] or shared [1]
            out = np.where(src[0] > 0, src[0], slope * src[0])
        elif layer.type == "Pooling":
            c, h, w_ = src[0].shape
            out = src[0][:, :h // 2 * 2, :w_ // 2 * 2].reshape(c, h // 2, 2, w_ // 2, 2).max(axis=(2, 4))
        else:
            out = np.concatenate(src, axis=0)
        blobs[layer.top] = out
    return blobs[layers[-1].top][None]


def reference_weights(spec: ModelSpec, stages: Optional[int], width: float, seed: int):
    return random_weights(build_layers(spec, stages, width), seed)
