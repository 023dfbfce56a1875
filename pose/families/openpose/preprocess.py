"""OpenPose's input preprocessing: aspect-preserving resize, pad to the stride, normalize.

The geometry of that transform travels with the network output so decoding can map
coordinates back to the original image.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

from pose.families.openpose.spec import STRIDE

DEFAULT_NET_RESOLUTION = "-1x368"
PAD_VALUE = 128  # OpenPose pads with mid-grey, which normalizes to 0


@dataclass(frozen=True)
class NetResolution:
    """A net input size; -1 on one side means "follow the image's aspect ratio"."""

    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def parse_net_resolution(text: str) -> NetResolution:
    """Parse 'WxH' (either side may be -1, not both; sides multiples of 8)."""
    m = re.fullmatch(r"\s*(-1|\d+)\s*[xX]\s*(-1|\d+)\s*", str(text))
    if not m:
        raise ValueError(f"bad net resolution {text!r}: expected WxH such as -1x368 or 656x368")
    w, h = int(m.group(1)), int(m.group(2))
    if w == -1 and h == -1:
        raise ValueError(f"bad net resolution {text!r}: only one side may be -1")
    for side in (w, h):
        if side != -1 and (side < STRIDE or side % STRIDE):
            raise ValueError(f"bad net resolution {text!r}: sides must be positive multiples of {STRIDE}")
    return NetResolution(w, h)


MAX_SCALE = 4.0
# The most pixels a network input may have: 2048x2048 or 2720x1536, 4x OpenPose's
# largest usual setting (1312x736). The network's first layers alone hold 64 float32
# channels (256 bytes) per input pixel: past this, memory runs out, not patience.
MAX_NET_PIXELS = 1 << 22


def scaled_side(side: int, scale: float) -> int:
    """A net input side at one of the --scales (-1 stays -1): rounded to the stride."""
    return -1 if side == -1 else max(STRIDE, int(round(side * scale / STRIDE)) * STRIDE)


def check_net_size(resolution: NetResolution, scales: Tuple[float, ...]) -> None:
    """ValueError when the largest scale would make a network input of more than
    MAX_NET_PIXELS (with a -1 side: for a square image; other aspect ratios are capped
    by compute_geometry)."""
    top = max(scales)
    w, h = scaled_side(resolution.width, top), scaled_side(resolution.height, top)
    w, h = (h if w == -1 else w), (w if h == -1 else h)
    if w * h > MAX_NET_PIXELS:
        at = f" at scale {top:g}" if top != 1 else ""
        at += " for a square image" if -1 in (resolution.width, resolution.height) else ""
        raise ValueError(f"net resolution {resolution}{at} asks for a {w}x{h} network input "
                         f"({w * h:,} pixels); at most {MAX_NET_PIXELS:,} (e.g. 2048x2048)")


def parse_scales(value) -> Tuple[float, ...]:
    """Multi-scale factors from "1.0,0.75,0.5" or a sequence, largest first (multi-scale
    decoding maps every run onto the first run's geometry). ValueError when one is not
    a finite number in (0, MAX_SCALE]."""
    try:
        items = value.split(",") if isinstance(value, str) else list(value)
        scales = tuple(float(v) for v in items if str(v).strip())
    except (TypeError, ValueError):
        raise ValueError(f"scales must be comma-separated numbers such as 1.0,0.75,0.5, got {value!r}") from None
    if not scales or any(not 0 < s <= MAX_SCALE for s in scales):  # NaN fails this too
        raise ValueError(f"scales must be numbers in (0, {MAX_SCALE:g}], got {value!r}")
    return tuple(sorted(scales, reverse=True))


@dataclass(frozen=True)
class Geometry:
    """How an image of `image_size` became a net input of `input_size`.

    The image was scaled by `scale` to `resized_size` and padded right/bottom to
    `input_size`. Sizes are (width, height).
    """

    image_size: Tuple[int, int]
    resized_size: Tuple[int, int]
    input_size: Tuple[int, int]
    scale: float

    @property
    def output_size(self) -> Tuple[int, int]:
        """Size of the network's output maps."""
        return self.input_size[0] // STRIDE, self.input_size[1] // STRIDE

    @property
    def ratio(self) -> Tuple[float, float]:
        """Image pixels per net-input pixel on each axis (the sizes were rounded)."""
        return self.image_size[0] / self.resized_size[0], self.image_size[1] / self.resized_size[1]

    def input_to_image(self, xy: np.ndarray) -> np.ndarray:
        """Map net-input pixel coordinates (..., 2) to original-image pixels.

        cv2.resize aligns pixel centres, so the half-pixel shifts matter: without them
        a 4K frame's keypoints would drift ~2 px toward the top-left.
        """
        return (np.asarray(xy, dtype=np.float64) + 0.5) * self.ratio - 0.5


def _round_up(value: float, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)


def compute_geometry(image_size: Tuple[int, int], resolution: NetResolution) -> Geometry:
    """Where an image of `image_size` lands inside the net input."""
    w, h = image_size
    if w <= 0 or h <= 0:
        raise ValueError(f"empty image ({w}x{h})")
    if resolution.width == -1:
        scale = resolution.height / h
    elif resolution.height == -1:
        scale = resolution.width / w
    else:
        scale = min(resolution.width / w, resolution.height / h)
    if -1 in (resolution.width, resolution.height):
        # The free side follows the aspect ratio: a 100:1 panorama at -1x368 would ask for
        # a 36800-pixel-wide input. Past MAX_NET_PIXELS the image is scaled down further
        # and padded instead.
        fixed, free = (resolution.height, w) if resolution.width == -1 else (resolution.width, h)
        longest = max(STRIDE, MAX_NET_PIXELS // fixed // STRIDE * STRIDE)
        if free * scale > longest:
            scale = longest / free
    rw, rh = max(1, round(w * scale)), max(1, round(h * scale))
    if resolution.width == -1:
        input_size = (_round_up(rw, STRIDE), resolution.height)
    elif resolution.height == -1:
        input_size = (resolution.width, _round_up(rh, STRIDE))
    else:
        input_size = (resolution.width, resolution.height)
    return Geometry(image_size=(w, h), resized_size=(rw, rh), input_size=input_size, scale=scale)


def prepare_input(image: np.ndarray, resolution: NetResolution,
                  geometry: Optional[Geometry] = None, out: Optional[np.ndarray] = None) -> Tuple[np.ndarray, Geometry]:
    """Turn a BGR image into an NCHW float32 blob the way OpenPose does.

    Returns the blob and its geometry. `geometry` may be passed to reuse one computed
    for a previous frame of the same size; `out`, a float32 blob of the right shape from
    a previous frame, is filled in place instead of allocating a new one.
    """
    h, w = image.shape[:2]
    if geometry is None or geometry.image_size != (w, h):
        geometry = compute_geometry((w, h), resolution)
    rw, rh = geometry.resized_size
    if (rw, rh) != (w, h):
        interp = cv2.INTER_AREA if geometry.scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, (rw, rh), interpolation=interp)
    iw, ih = geometry.input_size
    if (iw, ih) != (rw, rh):
        image = cv2.copyMakeBorder(image, 0, ih - rh, 0, iw - rw, cv2.BORDER_CONSTANT,
                                   value=(PAD_VALUE,) * 3)
    # (pixel - 128) / 256 == pixel / 256 - 0.5, OpenPose's normalization.
    if (out is not None and out.shape == (1, 3, ih, iw) and out.dtype == np.float32
            and _BLOB_PARAMS is not None):
        return cv2.dnn.blobFromImageWithParams(image, out, _BLOB_PARAMS), geometry
    blob = cv2.dnn.blobFromImage(image, scalefactor=1.0 / 256, mean=(PAD_VALUE,) * 3,
                                 swapRB=False, crop=False)
    return blob, geometry


def _blob_params():
    if not hasattr(cv2.dnn, "Image2BlobParams"):  # OpenCV < 4.9
        return None
    params = cv2.dnn.Image2BlobParams()
    params.scalefactor = (1.0 / 256,) * 3
    params.mean = (PAD_VALUE,) * 3
    params.swapRB = False
    return params


_BLOB_PARAMS = _blob_params()
