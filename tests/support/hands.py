"""Hands built in code, in OpenPose's 21-keypoint layout, for the classify and render tests.

A hand is laid out in its own frame: u along the fingers (from the wrist), v across,
toward the thumb; it is then placed at `wrist`, pointing `direction` degrees above the
image horizontal (90 = fingers up), with the thumb on the side a palm facing the camera
puts it for that hand (the person's right hand: on the image's right when fingers point
up), or the other side when the back of the hand faces the camera.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

SIZE = 60.0  # wrist to middle fingertip of an open hand, pixels at scale 1
# (u, v) of each finger's base, in hand sizes; v > 0 toward the thumb.
_BASES = {"thumb": (0.10, 0.14), "index": (0.45, 0.16), "middle": (0.47, 0.05),
          "ring": (0.45, -0.06), "pinky": (0.40, -0.16)}
_OPEN = {"thumb": ((0.12, 0.10), (0.10, 0.08), (0.08, 0.06)),  # segment steps base -> tip
         "index": ((0.2, 0.02), (0.13, 0.01), (0.1, 0.0)),
         "middle": ((0.22, 0.0), (0.14, 0.0), (0.11, 0.0)),
         "ring": ((0.2, -0.01), (0.13, -0.01), (0.1, 0.0)),
         "pinky": ((0.16, -0.03), (0.1, -0.02), (0.08, 0.0))}
# A fist: the fingers fold back over the palm (the thumb across the index).
_CLOSED = {"thumb": ((0.1, 0.02), (0.06, -0.06), (0.02, -0.08)),
           **{f: ((0.08, 0.0), (-0.07, 0.0), (-0.06, 0.0)) for f in ("index", "middle", "ring", "pinky")}}


def make(wrist: Tuple[float, float] = (0.0, 0.0), direction: float = 90.0, scale: float = 1.0, *,
         side: str = "R", palm: bool = True, open_hand: bool = True, confidence: float = 0.8) -> np.ndarray:
    """(21, 3) keypoints: wrist, then thumb, index, middle, ring, little finger, base to tip."""
    a = np.radians(direction)
    along = np.array([np.cos(a), -np.sin(a)])  # image y points down
    across = np.array([-along[1], along[0]])  # 90 degrees clockwise on screen from `along`
    # A right palm facing the camera has its thumb clockwise of the fingers (see palm_facing).
    sign = 1.0 if (side == "R") == palm else -1.0
    steps = _OPEN if open_hand else _CLOSED
    local = [(0.0, 0.0)]
    for finger in ("thumb", "index", "middle", "ring", "pinky"):
        u, v = _BASES[finger]
        local.append((u, v))
        for du, dv in steps[finger]:
            u, v = u + du, v + dv
            local.append((u, v))
    uv = np.array(local) * SIZE * scale
    xy = np.asarray(wrist, float) + uv[:, :1] * along + sign * uv[:, 1:] * across
    return np.column_stack([xy, np.full(len(xy), confidence)])
