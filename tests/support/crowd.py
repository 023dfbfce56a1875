"""Synthetic crowds: real annotated skeletons, scaled and shifted into one frame."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from tests.support.annotations import AnnotatedImage


def people_pool(images: Sequence[AnnotatedImage], layout: str, min_parts: int = 10) -> List[np.ndarray]:
    """Every annotated person of `layout` with at least `min_parts` visible parts."""
    return [p for im in images for p in im.people[layout] if (p[:, 2] > 0).sum() >= min_parts]


def compose_crowd(pool: Sequence[np.ndarray], n_people: int, frame_size: Tuple[int, int],
                  rng: np.random.Generator, height_range: Tuple[float, float] = (0.3, 0.6),
                  margin: float = 0.02) -> List[np.ndarray]:
    """`n_people` skeletons drawn from `pool`, each scaled so its box is a random
    fraction `height_range` of the frame height and shifted to a random place inside
    the frame, `margin` (a fraction of the frame height) away from its edges; people
    may overlap. Returns (N, 3) arrays in frame pixels."""
    w, h = frame_size
    border = margin * h
    crowd = []
    for i in rng.choice(len(pool), size=n_people, replace=len(pool) < n_people):
        person = np.array(pool[i], dtype=np.float64)
        vis = person[:, 2] > 0
        lo, hi = person[vis, :2].min(axis=0), person[vis, :2].max(axis=0)
        scale = rng.uniform(*height_range) * h / max(hi[1] - lo[1], 1.0)
        size = (hi - lo) * scale
        offset = border + rng.uniform([0.0, 0.0], np.maximum([w, h] - size - 2 * border, 1.0))
        person[vis, :2] = (person[vis, :2] - lo) * scale + offset
        person[~vis] = 0.0
        crowd.append(person)
    return crowd
