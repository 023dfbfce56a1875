"""Heatmap peaks as OpenPose finds them: cubic upsampling to the net input, NMS, sub-pixel.

OpenPose upsamples every heatmap (cubic) to the padded net input, crops the padding,
keeps the pixels above the threshold that beat their 8 neighbours, and refines each
to the weighted centroid of its 7x7 neighbourhood. Upsampling 18 maps of a 656x368
input costs more than the whole decoding budget, so this module computes the very same
upsampled values only where a peak can be: in a patch around each local maximum of the
stride-8 map, with the weights cv2.resize(INTER_CUBIC) uses. The peaks are OpenPose's
to float precision; only on noisy maps does it miss some faint ripples the cubic kernel
makes between grid points with no grid maximum nearby (tests/test_decode.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pose.families.openpose.preprocess import Geometry
from pose.families.openpose.spec import STRIDE

CUBIC_A = -0.75  # OpenCV's bicubic kernel (Keys, a = -0.75)
# Coarse cells searched around a coarse maximum: an upsampled peak lies within one cell
# of the grid point that holds the coarse maximum.
SEARCH_CELLS = 1
REFINE_RADIUS = 3  # OpenPose's sub-pixel step: weighted centroid of a 7x7 window
# A peak between grid points can rise above its coarse samples; coarse maxima down to
# this fraction of the threshold are refined so none is missed.
CANDIDATE_FRACTION = 0.5
# At most this many peaks per part, the strongest (OpenPose caps them too): a noisy
# map must not make limb scoring quadratic in its noise.
MAX_PEAKS_PER_PART = 96


@dataclass(frozen=True)
class Peaks:
    """Heatmap peaks of every part, sorted by part then by falling score.

    `xy` is in net-input pixels, sub-pixel. `start[j]:start[j + 1]` indexes part j.
    """

    part: np.ndarray  # (n,) int
    xy: np.ndarray  # (n, 2) float64
    score: np.ndarray  # (n,) float64
    start: np.ndarray  # (n_parts + 1,) int

    def of_part(self, j: int) -> slice:
        return slice(int(self.start[j]), int(self.start[j + 1]))


def cubic_weights(frac: np.ndarray) -> np.ndarray:
    """(..., 4) weights of taps floor-1 .. floor+2 for fractional offsets `frac`."""
    a, x = CUBIC_A, np.asarray(frac, dtype=np.float64)[..., None]
    d = np.abs(np.array([-1.0, 0.0, 1.0, 2.0]) - x)
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, far)


def cubic_matrix(src: np.ndarray, n_src: int) -> np.ndarray:
    """(len(src), n_src) matrix sampling a signal at coordinates `src` by cubic
    interpolation, edges replicated (as cv2.resize and cv2.remap with BORDER_REPLICATE)."""
    src = np.asarray(src, dtype=np.float64)
    base = np.floor(src).astype(int)
    taps = np.clip(base[:, None] + np.arange(-1, 3), 0, n_src - 1)
    m = np.zeros((src.size, n_src))
    np.add.at(m, (np.repeat(np.arange(src.size), 4), taps.ravel()),
              cubic_weights(src - base).ravel())
    return m


def grid_to_input(g: np.ndarray) -> np.ndarray:
    """Net-input pixel of stride-8 grid coordinate `g` (cv2.resize's pixel centres)."""
    return STRIDE * np.asarray(g) + (STRIDE - 1) / 2


def input_to_grid(p: np.ndarray) -> np.ndarray:
    return (np.asarray(p) - (STRIDE - 1) / 2) / STRIDE


# The patch: SEARCH_CELLS cells each side of the coarse maximum, upsampled, plus a
# margin of fine pixels for the NMS neighbours (1) and the centroid window.
_MARGIN = 1 + REFINE_RADIUS
_FINE = np.arange(-SEARCH_CELLS * STRIDE - _MARGIN, (SEARCH_CELLS + 1) * STRIDE + _MARGIN)
_REACH = math.ceil(-input_to_grid(_FINE[0])) + 1  # coarse taps each side the patch needs
_PATCH = cubic_matrix(input_to_grid(_FINE) + _REACH, 2 * _REACH + 1)  # (n_fine, window)
_PATCH_T = np.ascontiguousarray(_PATCH.T)  # contiguous: numpy's batched products run 2x faster
_CORE32 = np.ascontiguousarray(_PATCH[_MARGIN:_PATCH.shape[0] - _MARGIN], dtype=np.float32)  # the pruning pass
_CORE32_T = np.ascontiguousarray(_CORE32.T)
# Relative to a window's largest value: float32's error in a 7x7 cubic sum is ~1e-6 of it.
_ROUNDING = 1e-4


def find_peaks(heatmaps: np.ndarray, geometry: Geometry, threshold: float,
               max_peaks: int = MAX_PEAKS_PER_PART) -> Peaks:
    """Peaks of the stride-8 `heatmaps` (K, h, w) as OpenPose finds them on the cubic
    upsampling cropped to the resized image: above `threshold`, NMS, 7x7 centroid; at
    most `max_peaks` per part (a caller wanting one peak per map need not refine many)."""
    heat = np.asarray(heatmaps, dtype=np.float64)
    n_parts = heat.shape[0]
    # Twice the cap: some candidates end below the threshold or share a fine peak.
    part, cy, cx = _strongest(heat, *_coarse_maxima(heat, threshold * CANDIDATE_FRACTION),
                              2 * max_peaks)
    padded = np.pad(heat, ((0, 0), (_REACH, _REACH), (_REACH, _REACH)), mode="edge")
    window = np.arange(2 * _REACH + 1)
    coarse = padded[part[:, None, None], (cy[:, None] + window)[:, :, None],
                    (cx[:, None] + window)[:, None, :]]
    # Most candidates of a noisy map (coarse maxima below the threshold) have no fine
    # pixel above it in their core: a float32 pass finds them (with a margin for its
    # rounding), and only the others are upsampled in float64, where equal inputs give
    # equal values, so that plateaus and flat directions keep OpenPose's tie rule.
    rough = _CORE32 @ coarse.astype(np.float32) @ _CORE32_T
    scale = 1.0 + np.abs(coarse).max(axis=(1, 2), initial=0.0)
    live = rough.max(axis=(1, 2), initial=-np.inf) > threshold - _ROUNDING * scale
    part, cy, cx = part[live], cy[live], cx[live]
    patch = _PATCH @ coarse[live] @ _PATCH_T  # (n, n_fine, n_fine): the upsampled values
    # Fine pixel (i, j) of candidate n sits at input pixel (y0[n] + i, x0[n] + j).
    y0, x0 = STRIDE * cy + _FINE[0], STRIDE * cx + _FINE[0]
    rw, rh = geometry.resized_size
    rows = y0[:, None] + np.arange(_FINE.size)
    cols = x0[:, None] + np.arange(_FINE.size)
    inside_y, inside_x = (rows >= 0) & (rows < rh), (cols >= 0) & (cols < rw)
    # Padding is cropped before NMS in OpenPose: outside pixels neither peak nor block
    # (only patches at the image's edge have any).
    edge = ~(inside_y.all(axis=1) & inside_x.all(axis=1))
    patch[edge] = np.where(inside_y[edge, :, None] & inside_x[edge, None, :], patch[edge], -np.inf)
    # Nor do the image's own border pixels peak (as in OpenPose's NMS kernel): the
    # replicated edge of the cubic upsampling makes spurious maxima there.
    interior = (((rows > 0) & (rows < rh - 1))[:, :, None]
                & ((cols > 0) & (cols < rw - 1))[:, None, :])
    n, i, j = _nms(patch, interior, threshold)
    score = patch[n, i, j]
    dy, dx = _centroid_offsets(patch, n, i, j)
    fy, fx = y0[n] + i, x0[n] + j
    # Neighbouring coarse maxima share fine pixels: keep each fine peak once.
    key = (part[n].astype(np.int64) * (rh + 1) + fy) * (rw + 1) + fx
    _, first = np.unique(key, return_index=True)
    order = first[np.lexsort((-score[first], part[n][first]))]
    order = order[_rank_in_part(part[n][order], n_parts) < max_peaks]
    parts = part[n][order]
    xy = np.column_stack([fx[order] + dx[order], fy[order] + dy[order]]).astype(np.float64)
    start = np.searchsorted(parts, np.arange(n_parts + 1))
    return Peaks(part=parts, xy=xy, score=score[order], start=start)


def _coarse_maxima(heat: np.ndarray, floor: float):
    """(part, y, x) of grid points above `floor` not beaten by any of their 8 neighbours."""
    padded = np.pad(heat, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    h, w = heat.shape[1:]
    best = np.full(heat.shape, -np.inf, dtype=heat.dtype)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy != 1 or dx != 1:
                np.maximum(best, padded[:, dy:dy + h, dx:dx + w], out=best)
    return np.nonzero((heat > floor) & (heat >= best))


def _strongest(heat: np.ndarray, part: np.ndarray, y: np.ndarray, x: np.ndarray, limit: int):
    """The `limit` highest of the given grid points of each part."""
    order = np.lexsort((-heat[part, y, x], part))
    order = order[_rank_in_part(part[order], heat.shape[0]) < limit]
    return part[order], y[order], x[order]


def _rank_in_part(sorted_parts: np.ndarray, n_parts: int) -> np.ndarray:
    """Position of each entry within its part's run of a part-sorted array."""
    start = np.searchsorted(sorted_parts, np.arange(n_parts))
    return np.arange(sorted_parts.size) - start[sorted_parts]


def _nms(patch: np.ndarray, eligible: np.ndarray, threshold: float):
    """Eligible pixels of the patch core above `threshold` that beat their 8 neighbours.

    A plateau must give one peak, not several: a pixel must strictly beat the
    neighbours before it in raster order and at least equal those after it.
    """
    m = _MARGIN
    n, fine = patch.shape[:2]
    size = fine - 2 * m
    if n == 0:
        none = np.zeros(0, dtype=np.intp)
        return none, none, none
    # The 3x3 maximum around each core pixel, separably (a NaN neighbour makes it NaN,
    # so no peak there, as comparing with it directly would).
    rows = patch[:, m - 1:m + size + 1, :]
    across = np.maximum(np.maximum(rows[:, :, m - 1:m + size - 1], rows[:, :, m:m + size]), rows[:, :, m + 1:m + size + 1])
    best = np.maximum(np.maximum(across[:, :-2], across[:, 1:-1]), across[:, 2:])
    core = patch[:, m:m + size, m:m + size]
    n, i, j = np.nonzero((core > threshold) & (core >= best) & eligible[:, m:m + size, m:m + size])
    i, j = i + m, j + m
    # Ties: equal to an earlier neighbour is not a peak (one per plateau).
    value = patch[n, i, j]
    tied = np.zeros(len(n), dtype=bool)
    for dy, dx in ((-1, -1), (-1, 0), (-1, 1), (0, -1)):
        tied |= patch[n, i + dy, j + dx] == value
    keep = ~tied
    return n[keep], i[keep], j[keep]


def _centroid_offsets(patch: np.ndarray, n: np.ndarray, i: np.ndarray, j: np.ndarray):
    """Offset of the value-weighted centroid of each peak's 7x7 window (OpenPose's
    sub-pixel refinement), pixels outside the image left out."""
    r = np.arange(-REFINE_RADIUS, REFINE_RADIUS + 1)
    win = patch[n[:, None, None], (i[:, None] + r)[:, :, None], (j[:, None] + r)[:, None, :]]
    weight = np.where(np.isfinite(win), np.maximum(win, 0.0), 0.0)
    total = weight.sum(axis=(1, 2))
    dy = (weight.sum(axis=2) * r).sum(axis=1) / total
    dx = (weight.sum(axis=1) * r).sum(axis=1) / total
    return dy, dx
