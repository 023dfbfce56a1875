"""An "oracle" Caffe network for end-to-end tests: it outputs exactly the maps we choose.

The net is one convolution (kernel 8, stride 8, no padding, C outputs). Its input image
carries the wanted (C, H/8, W/8) output encoded in its pixels: the 8x8 block of output
cell (gy, gx) holds one byte per channel (64 pixels x 3 colours = 192 slots, enough for
COCO's 57 channels), and channel c's filter picks its slot and undoes both the byte
quantisation and OpenPose's input normalisation (pixel / 256 - 0.5). Fed through the
real tools, such an image makes the real decoder see the maps rendered from known
keypoints, so the tools' JSON can be checked against those keypoints.

The image must reach the network unscaled: the tools must run with --net_resolution
equal to the image size, and the image must be stored losslessly (PNG, FFV1).
"""
from __future__ import annotations

from pathlib import Path
from typing import Tuple

import numpy as np

from pose.families.openpose.net.architecture import INPUT_NAME, Layer, to_prototxt
from pose.families.openpose.spec import STRIDE, ModelSpec
from pose.runtime.caffemodel import write_caffemodel

SLOTS = STRIDE * STRIDE * 3
# Value range of each kind of channel: heatmaps and background in [0, 1], PAFs in [-1, 1].
HEATMAP_RANGE = (0.0, 1.0)
PAF_RANGE = (-1.0, 1.0)
LEVELS = 255
PIXEL_MEAN, PIXEL_SCALE = 128.0, 1 / 256  # OpenPose's normalization (pose.preprocess)


def _slot(channel: int) -> Tuple[int, int, int]:
    """(colour, row, column) inside an 8x8 block where `channel` is stored."""
    colour, pos = channel % 3, channel // 3
    return colour, pos // STRIDE, pos % STRIDE


def channel_ranges(spec: ModelSpec) -> np.ndarray:
    """(C, 2) low/high value of every output channel."""
    return np.array([HEATMAP_RANGE] * spec.n_heatmaps + [PAF_RANGE] * spec.n_pafs)


def encode(blob: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """The BGR uint8 image (8h, 8w, 3) that makes the oracle net output `blob` (1, C, h, w)
    up to quantisation (1/255 of each channel's range)."""
    maps = np.asarray(blob, dtype=np.float64).reshape(blob.shape[-3:])
    c, h, w = maps.shape
    if c != spec.n_channels or c > SLOTS:
        raise ValueError(f"{c} channels cannot be encoded for {spec.name}")
    ranges = channel_ranges(spec)
    lo, hi = ranges[:, 0, None, None], ranges[:, 1, None, None]
    q = np.rint((np.clip(maps, lo, hi) - lo) / (hi - lo) * LEVELS).astype(np.uint8)
    image = np.full((h * STRIDE, w * STRIDE, 3), int(PIXEL_MEAN), np.uint8)
    for ch in range(c):
        colour, i, j = _slot(ch)
        image[i::STRIDE, j::STRIDE, colour] = q[ch]
    return image


def write_oracle_model(folder: Path, spec: ModelSpec) -> Tuple[Path, Path]:
    """Deploy file and weights of the oracle net for `spec`; returns (prototxt, caffemodel)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    proto, weights = folder / f"oracle_{spec.name}.prototxt", folder / f"oracle_{spec.name}.caffemodel"
    c = spec.n_channels
    layer = Layer("oracle", "Convolution", (INPUT_NAME,), spec.output_name, c, STRIDE, 0, STRIDE)
    proto.write_text(to_prototxt([layer], f"oracle-{spec.name}"))
    ranges = channel_ranges(spec)
    step = (ranges[:, 1] - ranges[:, 0]) / LEVELS
    w = np.zeros((c, 3, STRIDE, STRIDE), np.float32)
    for ch in range(c):
        colour, i, j = _slot(ch)
        w[ch, colour, i, j] = step[ch] / PIXEL_SCALE
    # output = w * (q - mean) * scale + b = lo + q * step  =>  b = lo + mean * step
    b = (ranges[:, 0] + PIXEL_MEAN * step).astype(np.float32)
    write_caffemodel(weights, [(layer.name, layer.type, layer.bottoms, (layer.top,), [w, b])])
    return proto, weights
