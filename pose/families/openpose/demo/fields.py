"""Render the network output a well-trained OpenPose net approximates, from keypoints.

The maps follow OpenPose's training targets (shared/docs/openpose-reference.md):
- heatmap of part j: max over people of a Gaussian (sigma 7 input px) centred on the
  keypoint, evaluated at each grid point's input pixel 8*g + 3.5, scaled by `peak`
  (a trained net's peaks stay below 1); background = 1 - max over parts;
- PAF of a limb a->b: the unit vector (b - a)/|b - a| on every grid point within one
  grid cell of the line through a and b, inside the segment's bounding box grown by one
  cell (rounded, upper bound exclusive), in grid units from keypoint/8; averaged where
  limbs of the same type overlap; then blurred by `paf_blur` grid cells, as a trained
  net's are. The box rather than "projection within the segment" is what OpenPose's
  training code (putVecMaps) does; it matters for limbs shorter than a grid cell.

Used by the decoding tests and as the "oracle" network of end-to-end tests.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import cv2
import numpy as np

from pose.families.openpose.demo.inverses import image_to_input
from pose.families.openpose.preprocess import Geometry
from pose.families.openpose.spec import STRIDE, ModelSpec

HEATMAP_SIGMA = 7.0  # input pixels, OpenPose's training target
PAF_HALF_WIDTH = 1.0  # grid cells either side of the limb, OpenPose's training target
GRID_OFFSET = (STRIDE - 1) / 2  # grid point g stands for input pixel STRIDE*g + 3.5


def render_output(people: Sequence[np.ndarray], spec: ModelSpec, geometry: Geometry, *,
                  peak: float = 0.9, paf_blur: float = 0.6,
                  drop_limbs: Optional[Iterable[tuple[int, int]]] = None) -> np.ndarray:
    """The (1, C, H/8, W/8) float32 blob a trained net would output for `people`.

    `people`: (N, 3) arrays in the spec's layout, x, y in original-image pixels and a
    third column > 0 where the part is visible. `peak` scales the heatmap peaks,
    `paf_blur` is the Gaussian sigma (grid cells) applied to the PAFs (0 = none).
    `drop_limbs`: (person index, pair index) whose PAF is left out, to mimic a net
    that missed a limb.
    """
    w, h = geometry.output_size
    gx = np.arange(w, dtype=np.float64)
    gy = np.arange(h, dtype=np.float64)
    scaled = [np.column_stack([image_to_input(geometry, np.asarray(p, float)[:, :2]),
                               np.asarray(p, float)[:, 2] > 0]) for p in people]
    heat = _heatmaps(scaled, spec.n_keypoints, gx, gy) * peak
    background = 1.0 - heat.max(axis=0, initial=0.0)
    pafs = _pafs(scaled, spec, gx, gy, set(drop_limbs or ()))
    if paf_blur > 0:
        pafs = np.stack([cv2.GaussianBlur(c, (0, 0), paf_blur, borderType=cv2.BORDER_CONSTANT)
                         for c in pafs])
    out = np.concatenate([heat, np.clip(background, 0, 1)[None], pafs])
    return out[None].astype(np.float32)


def _heatmaps(people: Sequence[np.ndarray], n_parts: int, gx: np.ndarray,
              gy: np.ndarray) -> np.ndarray:
    px = STRIDE * gx + GRID_OFFSET
    py = STRIDE * gy + GRID_OFFSET
    heat = np.zeros((n_parts, gy.size, gx.size))
    for person in people:
        for j in np.flatnonzero(person[:, 2]):
            # Separable Gaussian: the outer product of its x and y profiles.
            ex = np.exp(-(px - person[j, 0]) ** 2 / (2 * HEATMAP_SIGMA ** 2))
            ey = np.exp(-(py - person[j, 1]) ** 2 / (2 * HEATMAP_SIGMA ** 2))
            np.maximum(heat[j], np.outer(ey, ex), out=heat[j])
    return heat


def _pafs(people: Sequence[np.ndarray], spec: ModelSpec, gx: np.ndarray, gy: np.ndarray,
          dropped: set) -> np.ndarray:
    pafs = np.zeros((spec.n_pafs, gy.size, gx.size))
    X, Y = np.meshgrid(gx, gy)
    for k, ((a, b), (cx, cy)) in enumerate(zip(spec.pairs, spec.paf_channels)):
        total = np.zeros((2, gy.size, gx.size))
        count = np.zeros((gy.size, gx.size))
        for i, person in enumerate(people):
            if (i, k) in dropped or not (person[a, 2] and person[b, 2]):
                continue
            pa, pb = person[a, :2] / STRIDE, person[b, :2] / STRIDE
            length = np.hypot(*(pb - pa))
            if length < 1e-9:
                continue
            u = (pb - pa) / length
            lo = np.round(np.minimum(pa, pb) - PAF_HALF_WIDTH)
            hi = np.round(np.maximum(pa, pb) + PAF_HALF_WIDTH)
            across = np.abs((X - pa[0]) * u[1] - (Y - pa[1]) * u[0])
            on = ((X >= lo[0]) & (X < hi[0]) & (Y >= lo[1]) & (Y < hi[1])
                  & (across <= PAF_HALF_WIDTH))
            total[0][on] += u[0]
            total[1][on] += u[1]
            count[on] += 1
        covered = count > 0
        pafs[cx][covered] = total[0][covered] / count[covered]
        pafs[cy][covered] = total[1][covered] / count[covered]
    return pafs
