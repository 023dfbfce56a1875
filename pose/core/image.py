"""The images every family takes: 8-bit BGR, whatever the caller or the file gave."""
from __future__ import annotations

import cv2
import numpy as np

from pose.core.errors import UsageError


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Coerce a decoded image (gray, BGRA, 16-bit, float) to 8-bit BGR."""
    if image.dtype == np.uint16:
        image = (image / 257.0 + 0.5).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


_IMAGE_DTYPES = (np.uint8, np.uint16)
_IMAGE_CHANNELS = (1, 3, 4)


def check_image(image: object) -> np.ndarray:
    """An image as the API accepts it, converted to 8-bit BGR as the tools convert a
    decoded file (to_bgr): 8- or 16-bit, gray (H, W) or (H, W, 1), BGR (H, W, 3) or BGRA
    (H, W, 4). Anything else is a UsageError (a ValueError) saying what was passed."""
    if not isinstance(image, np.ndarray):
        wrong = f"is a {type(image).__name__}, not a numpy array"
    elif image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in _IMAGE_CHANNELS):
        wrong = f"has shape {image.shape}"
    elif image.dtype not in _IMAGE_DTYPES:
        wrong = f"has dtype {image.dtype}"
        if image.dtype.kind == "f":
            wrong += " (for floats in [0, 1] pass (image * 255).astype(np.uint8))"
    elif image.shape[0] == 0 or image.shape[1] == 0:
        wrong = f"is empty (shape {image.shape})"
    else:
        return to_bgr(image)
    raise UsageError(f"image {wrong}; expected a uint8 or uint16 array of shape (H, W), (H, W, 1), "
                     "(H, W, 3) BGR or (H, W, 4) BGRA")
