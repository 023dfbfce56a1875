"""The crop machinery every top-down family shares: a region of interest (a box, or a
rotated rectangle), the affine warp that cuts it out at the network's input size, and the
way back from the crop's pixels to the frame's.

Conventions follow the two families that use it, so that their published pre- and
post-processing hold unchanged:
- MMPose (RTMPose): a box becomes a centre and a size padded by 1.25 and widened or
  heightened to the input's aspect (`roi_from_box`); the warp maps the centre to the middle
  of the input and the size to its width and height, with no half-pixel shift
  (mmpose's `get_warp_matrix`, rtmlib's `top_down_affine`).
- MediaPipe (BlazePose): a rotated rectangle, rotation in radians clockwise on screen
  (image y points down), as in its NormalizedRect and LandmarkProjectionCalculator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

import cv2
import numpy as np


@dataclass(frozen=True)
class Roi:
    """A rectangle in frame pixels: centre, size (width, height) and a clockwise rotation
    in radians about the centre."""

    cx: float
    cy: float
    width: float
    height: float
    angle: float = 0.0

    def corners(self) -> np.ndarray:
        """The 4 corners (top-left, top-right, bottom-right, bottom-left of the crop) in frame pixels."""
        unit = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
        return _to_frame(unit * (self.width, self.height), self)


def roi_from_box(box: Sequence[float], aspect: float, padding: float = 1.25) -> Roi:
    """MMPose's box -> (centre, scale): the box (x1, y1, x2, y2) grown by `padding`, then
    widened or heightened (never shrunk) to width / height = `aspect`."""
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    w, h = (x2 - x1) * padding, (y2 - y1) * padding
    if w > h * aspect:
        h = w / aspect
    else:
        w = h * aspect
    return Roi((x1 + x2) / 2, (y1 + y2) / 2, w, h)


def warp_matrix(roi: Roi, size: Tuple[int, int]) -> np.ndarray:
    """The 2x3 affine that takes frame pixels to crop pixels: the ROI's centre to the
    middle of a crop of `size` (width, height), its width and height to the crop's."""
    out_w, out_h = size
    c, s = np.cos(roi.angle), np.sin(roi.angle)
    sx, sy = out_w / roi.width, out_h / roi.height
    # crop = S @ R(-angle) @ (frame - centre) + middle
    linear = np.array([[sx * c, sx * s], [-sy * s, sy * c]])
    shift = np.array([out_w / 2, out_h / 2]) - linear @ (roi.cx, roi.cy)
    return np.hstack([linear, shift[:, None]])


def crop(image: np.ndarray, roi: Roi, size: Tuple[int, int], border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """The ROI cut out of `image` at `size` (width, height), bilinear; outside the frame is
    black (MMPose and MediaPipe both pad with zeros)."""
    return cv2.warpAffine(image, warp_matrix(roi, size), tuple(int(v) for v in size), flags=cv2.INTER_LINEAR,
                          borderMode=border, borderValue=0)


def crops(image: np.ndarray, rois: Iterable[Roi], size: Tuple[int, int]) -> np.ndarray:
    """Every ROI of a frame cut out at `size`, stacked (N, height, width, channels): one
    batch for the network."""
    out_w, out_h = size
    patches: List[np.ndarray] = [crop(image, roi, size) for roi in rois]
    if not patches:
        return np.zeros((0, out_h, out_w) + image.shape[2:], image.dtype)
    return np.stack(patches)


def to_frame(points: np.ndarray, roi: Roi, size: Tuple[int, int]) -> np.ndarray:
    """Crop pixels (..., 2) of a crop of `size` back to frame pixels: the inverse of
    `warp_matrix` (MMPose's `keypoints / input_size * scale + centre - scale / 2` when the
    ROI is not rotated)."""
    out_w, out_h = size
    local = (np.asarray(points, np.float64)[..., :2] / (out_w, out_h) - 0.5) * (roi.width, roi.height)
    return _to_frame(local, roi)


def _to_frame(local: np.ndarray, roi: Roi) -> np.ndarray:
    """Offsets from the ROI's centre along its own axes -> frame pixels."""
    c, s = np.cos(roi.angle), np.sin(roi.angle)
    x, y = local[..., 0], local[..., 1]
    return np.stack([roi.cx + c * x - s * y, roi.cy + s * x + c * y], axis=-1)


__all__ = ["Roi", "crop", "crops", "roi_from_box", "to_frame", "warp_matrix"]
