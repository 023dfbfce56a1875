"""Ways a real network's output falls short of the rendered ideal (for robustness tests)."""
from __future__ import annotations

from typing import List, Tuple

import cv2
import numpy as np

from pose.families.openpose.spec import ModelSpec


def blur(output: np.ndarray, sigma: float) -> np.ndarray:
    """Every channel blurred by a Gaussian of `sigma` grid cells (0 = unchanged)."""
    if sigma <= 0:
        return output
    maps = [cv2.GaussianBlur(c, (0, 0), sigma) for c in output[0]]
    return np.stack(maps)[None].astype(np.float32)


def add_noise(output: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """Independent Gaussian noise of `std` on every value of every channel."""
    if std <= 0:
        return output
    return (output + rng.normal(0.0, std, output.shape)).astype(np.float32)


def random_dropped_limbs(n_people: int, spec: ModelSpec, fraction: float,
                         rng: np.random.Generator) -> List[Tuple[int, int]]:
    """(person, pair) limbs to leave out of the PAFs, each with probability `fraction`."""
    drop = rng.random((n_people, len(spec.pairs))) < fraction
    return [(int(i), int(k)) for i, k in zip(*np.nonzero(drop))]
