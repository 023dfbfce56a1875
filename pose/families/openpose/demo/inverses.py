"""The inverses of the package's one-way transforms, which only the tests and benchmarks
need (they put known points where the network would see them)."""
from __future__ import annotations

import numpy as np

from pose.families.openpose.preprocess import Geometry


def image_to_input(geometry: Geometry, xy: np.ndarray) -> np.ndarray:
    """The inverse of `Geometry.input_to_image`: image pixels -> net-input pixels."""
    return (np.asarray(xy, dtype=np.float64) + 0.5) / geometry.ratio - 0.5


def to_crop(xy: np.ndarray, affines: np.ndarray) -> np.ndarray:
    """The inverse of pose.families.openpose.crops.to_image: image pixels -> crop pixels."""
    inverse = np.linalg.inv(affines[:, :, :2])
    return np.einsum("bij,bkj->bki", inverse, np.asarray(xy, dtype=np.float64) - affines[:, None, :, 2])

