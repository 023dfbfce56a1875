"""Network output -> people: OpenPose's bottom-up decoding (heatmap peaks + PAFs).

1. Peaks: local maxima of the cubic-upsampled heatmaps (pose.families.openpose.peaks).
2. Limbs: every candidate pair of peaks of a limb is scored by the part-affinity field
   sampled at spec.paf_samples points (or OpenPose's adaptive count) along the segment (alignment with the unit vector,
   plus a prior against limbs longer than half the image height); a pair is a limb when
   enough samples pass the model's inter threshold and the score is positive. Pairs
   are taken greedily by falling score, each peak once per limb type.
3. People: limbs are chained into skeletons in the model's pair order; two partial
   skeletons joined by a limb merge when they hold no part in common. Skeletons with
   too few parts or too low a mean score are dropped.

The PAF is sampled by bilinear interpolation on the stride-8 grid rather than on a
cubic-upsampled copy (tests/test_decode.py checks the decoded people do not change),
at the grid position OpenPose's training targets use (see paf_grid).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Sequence

import cv2
import numpy as np

from pose.core.person import Person
from pose.families.openpose.peaks import Peaks, cubic_matrix, find_peaks, grid_to_input, input_to_grid
from pose.families.openpose.preprocess import Geometry
from pose.families.openpose.spec import LIMB_LENGTH_PRIOR, SINGLE_PERSON_THRESHOLD, STRIDE, ModelSpec


class NetOutput(NamedTuple):
    """One network run on one image: the (1, C, h, w) maps and how the image became the
    net input (needed to map peaks back to image pixels)."""

    maps: np.ndarray
    geometry: Geometry


@dataclass(frozen=True)
class DecodeOptions:
    threshold: Optional[float] = None  # peak threshold; None = spec.thresholds.peak (single-person: 0.1)
    max_people: Optional[int] = None  # keep the best N people
    single_person: bool = False  # the seed's method: global maximum of each heatmap

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0 <= self.threshold < 1:
            raise ValueError(f"peak threshold must be in [0, 1), got {self.threshold}")
        if self.max_people is not None and self.max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {self.max_people}")


def decode(output: np.ndarray, geometry: Geometry, spec: ModelSpec,
           options: Optional[DecodeOptions] = None) -> List[Person]:
    """People in one network output, keypoints in original-image pixels, best first.

    `output`: the (1, C, h, w) or (C, h, w) blob, C == spec.n_channels (heatmaps,
    background, then PAFs), h, w == geometry.output_size. ValueError when it is not.
    """
    options = options or DecodeOptions()
    maps = _check_output(output, geometry, spec)
    if options.single_person:
        people = _single_person(maps, geometry, spec, options)
    else:
        people = _multi_person(maps, geometry, spec, options)
    return people[:options.max_people] if options.max_people is not None else people


def decode_multiscale(outputs: Sequence[NetOutput], spec: ModelSpec,
                      options: Optional[DecodeOptions] = None) -> List[Person]:
    """Decode the average of several runs of one image at different scales.

    Each output is resampled (cubic) onto the stride-8 grid of the first entry's
    geometry, then the maps are averaged and decoded there. Put the largest scale first:
    smaller scales are interpolated up to it, never the other way round.
    """
    if not outputs:
        raise ValueError("decode_multiscale needs at least one (output, geometry) pair")
    return decode(average_outputs(outputs, spec), outputs[0][1], spec, options)


def average_outputs(outputs: Sequence[NetOutput], spec: ModelSpec) -> np.ndarray:
    """The (1, C, h, w) average of several runs' maps on the first run's grid."""
    ref = outputs[0][1]
    w_ref, h_ref = ref.output_size
    total = np.zeros((spec.n_channels, h_ref, w_ref))
    for output, geometry in outputs:
        maps = _check_output(output, geometry, spec).astype(np.float64)
        if geometry.image_size != ref.image_size:
            raise ValueError(f"multi-scale runs must share one image: {geometry.image_size} "
                             f"!= {ref.image_size}")
        if geometry.input_size == ref.input_size and geometry.scale == ref.scale:
            total += maps
            continue
        # Reference grid point -> its input pixel -> image -> this run's grid, with the
        # heatmaps' and the PAFs' own grid conventions.
        ratio = geometry.scale / ref.scale
        h, w = maps.shape[1:]
        heat = slice(0, spec.n_heatmaps)
        pafs = slice(spec.n_heatmaps, spec.n_channels)
        ys, xs = np.arange(h_ref), np.arange(w_ref)
        my = cubic_matrix(input_to_grid(grid_to_input(ys) * ratio), h)
        mx = cubic_matrix(input_to_grid(grid_to_input(xs) * ratio), w)
        total[heat] += my @ maps[heat] @ mx.T
        my = cubic_matrix(paf_grid(STRIDE * ys * ratio), h)
        mx = cubic_matrix(paf_grid(STRIDE * xs * ratio), w)
        total[pafs] += my @ maps[pafs] @ mx.T
    return (total / len(outputs))[None].astype(np.float32)


def _check_output(output: np.ndarray, geometry: Geometry, spec: ModelSpec) -> np.ndarray:
    maps = np.asarray(output)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"network output must be (1, C, h, w) or (C, h, w), got shape {np.shape(output)}")
    if maps.shape[0] != spec.n_channels:
        raise ValueError(f"network output has {maps.shape[0]} channels, model {spec.name} "
                         f"has {spec.n_channels}")
    w, h = geometry.output_size
    if maps.shape[1:] != (h, w):
        raise ValueError(f"network output is {maps.shape[2]}x{maps.shape[1]}, the geometry "
                         f"expects {w}x{h}")
    # float32: the network's own precision, which peaks and PAF sampling compute in.
    return maps.astype(np.float32, copy=False)


def _single_person(maps: np.ndarray, geometry: Geometry, spec: ModelSpec,
                   options: DecodeOptions) -> List[Person]:
    """The seed's method: each part at the global maximum of its stride-8 heatmap.

    The maximum is taken (with cv2.minMaxLoc, as the seed did) over the grid cells that
    cover the image, and reported at the cell's centre.
    """
    threshold = SINGLE_PERSON_THRESHOLD if options.threshold is None else options.threshold
    rw, rh = geometry.resized_size
    cols, rows = -(-rw // STRIDE), -(-rh // STRIDE)
    keypoints = np.zeros((spec.n_keypoints, 3))
    for j in range(spec.n_keypoints):
        _, value, _, (gx, gy) = cv2.minMaxLoc(np.ascontiguousarray(maps[j, :rows, :cols]))
        if value > threshold:
            keypoints[j, :2] = geometry.input_to_image(grid_to_input(np.array([gx, gy], float)))
            keypoints[j, 2] = value
    found = keypoints[:, 2] > 0
    if not found.any():
        return []
    return [Person(keypoints=keypoints, score=float(keypoints[found, 2].mean()))]


def _multi_person(maps: np.ndarray, geometry: Geometry, spec: ModelSpec,
                  options: DecodeOptions) -> List[Person]:
    threshold = spec.thresholds.peak if options.threshold is None else options.threshold
    peaks = find_peaks(maps[:spec.n_keypoints], geometry, threshold)
    limbs = connect_limbs(peaks, maps, geometry.resized_size[1], spec)
    return assemble_people(peaks, limbs, geometry, spec)


def connect_limbs(peaks: Peaks, maps: np.ndarray, image_height: float,
                  spec: ModelSpec) -> List[np.ndarray]:
    """Limbs of every type of spec.pairs: (m, 3) rows of peak index a, peak index b, score.

    `maps` is the (C, h, w) network output, `image_height` the resized image's height
    in net-input pixels. Every candidate pair of every limb type is scored at once, each
    at its own number of PAF samples (spec.paf_sample_counts); the greedy pass then
    keeps each peak once per limb type.
    """
    th = spec.thresholds
    maps = np.ascontiguousarray(maps)  # flat-indexed by every stage of the sampling
    limb, ia, ib = _candidate_pairs(peaks, spec)
    channels = np.array(spec.paf_channels_absolute(), dtype=int).reshape(-1, 2)[limb]
    # Each candidate's segment, once: every stage reads a subset of them.
    start_xy = peaks.xy[ia]
    vec = peaks.xy[ib] - start_xy
    length = np.hypot(vec[:, 0], vec[:, 1])
    unit = vec / np.maximum(length, 1e-9)[:, None]
    counts = np.maximum(spec.paf_sample_counts(vec[:, 0], vec[:, 1]), 2)
    # A pair may fail at most `spare` of its samples. Samples are read in stages, the
    # ones nearest the middle first, and a pair is out as soon as it has failed more:
    # the same limbs as reading all of them at once, but a pair that fails near its
    # middle (most pairs of a crowd, all of them on noise) costs a few samples, not all.
    spare = counts - np.ceil(th.inter_min_above * counts - 1e-9).astype(int)
    near_middle = _near_middle(int(counts.max(initial=2)))
    keep = np.flatnonzero(length > 1e-9)
    failed = np.zeros(len(limb), dtype=int)
    total = np.zeros(len(limb))  # the sum of the samples read, for the score
    for start, stop in _stages(near_middle.shape[1]):
        if not keep.size:
            break
        n = counts[keep]
        along = _along(maps, channels[keep], start_xy[keep], vec[keep], unit[keep], near_middle[n, start:stop])
        # (the table pads a row past its own count; those columns do not count)
        own = np.arange(start, stop)[None, :] < n[:, None]
        failed[keep] += ((along <= th.inter) & own).sum(axis=1)
        total[keep] += np.where(own, along, 0.0).sum(axis=1)
        keep = keep[failed[keep] <= spare[keep]]
    # The survivors have had every sample read: the score is OpenPose's mean along the
    # limb plus the length prior.
    n = counts[keep]
    prior = np.minimum(LIMB_LENGTH_PRIOR * image_height / np.maximum(length[keep], 1e-9) - 1, 0)
    score = total[keep] / n + prior
    ok = score > 0
    keep, score = keep[ok], score[ok]
    chosen: List[list] = [[] for _ in spec.pairs]
    used = set()  # (limb type, peak): peak indices are global, so a and b never clash
    order = np.lexsort((-score, limb[keep]))
    # Python ints and floats: indexing numpy arrays per candidate costs more than the loop.
    for k, a, b, value in zip(limb[keep][order].tolist(), ia[keep][order].tolist(), ib[keep][order].tolist(),
                              score[order].tolist()):
        if (k, a) in used or (k, b) in used:
            continue
        used.update(((k, a), (k, b)))
        chosen[k].append((a, b, value))
    return [np.array(rows, dtype=np.float64).reshape(-1, 3) for rows in chosen]


def _stages(most: int):
    """Column ranges of the staged reading: 2, 4, 8, ... samples, then the rest."""
    start, size = 0, 2
    while start < most:
        yield start, min(start + size, most)
        start, size = start + size, 2 * size


def _along(maps: np.ndarray, channels: np.ndarray, start: np.ndarray, vec: np.ndarray, unit: np.ndarray,
           samples: np.ndarray) -> np.ndarray:
    """(m, S) PAF component along each candidate segment (`start`, `vec`, `unit` (m, 2),
    its (x, y) PAF `channels` (m, 2)) at its positions `samples` (0..1)."""
    points = start[:, None, :] + samples[:, :, None] * vec[:, None, :]  # (m, S, 2)
    fx, fy = _sample_paf(maps, channels[:, 0], channels[:, 1], points)
    return fx * unit[:, None, 0] + fy * unit[:, None, 1]


@functools.lru_cache(maxsize=8)
def _near_middle(most: int) -> np.ndarray:
    """Row n: the n sample positions linspace(0, 1, n) along a limb, those nearest the
    middle first (stable order), padded with 0.5 to `most` columns."""
    table = np.full((most + 1, most), 0.5)
    for n in range(1, most + 1):
        t = np.linspace(0.0, 1.0, n)
        table[n, :n] = t[np.argsort(np.abs(t - 0.5), kind="stable")]
    table.setflags(write=False)
    return table


def _candidate_pairs(peaks: Peaks, spec: ModelSpec):
    """(limb type, peak a, peak b) of every pair of peaks a limb could join."""
    limb, ia, ib = [np.zeros(0, dtype=int)], [np.zeros(0, dtype=int)], [np.zeros(0, dtype=int)]
    for k, (part_a, part_b) in enumerate(spec.pairs):
        sa, sb = peaks.of_part(part_a), peaks.of_part(part_b)
        na, nb = sa.stop - sa.start, sb.stop - sb.start
        limb.append(np.full(na * nb, k))
        ia.append(np.repeat(np.arange(sa.start, sa.stop), nb))
        ib.append(np.tile(np.arange(sb.start, sb.stop), na))
    return np.concatenate(limb), np.concatenate(ia), np.concatenate(ib)


def paf_grid(points: np.ndarray) -> np.ndarray:
    """Stride-8 PAF grid coordinates of net-input pixels.

    OpenPose drew its PAF targets from keypoint / 8, without the half-cell offset of
    its heatmaps (grid point g = input pixel 8g + 3.5), so a trained net's PAF grid
    point g stands for input pixel 8g. OpenPose's own decoder samples the PAF half a
    cell off; in crowds that joins fewer people right (benchmarks/eval_decode.py).
    """
    return np.asarray(points) / STRIDE


def _sample_paf(maps: np.ndarray, chan_x: np.ndarray, chan_y: np.ndarray, points: np.ndarray):
    """PAF components at net-input pixels `points` (m, S, 2), candidate i reading
    channels chan_x[i], chan_y[i] of `maps` (C, h, w); bilinear on the stride-8 grid,
    edges clamped."""
    grid = paf_grid(points)
    h, w = maps.shape[1:]
    gx = np.clip(grid[..., 0], 0, w - 1)
    gy = np.clip(grid[..., 1], 0, h - 1)
    x0 = np.minimum(gx.astype(np.intp), max(w - 2, 0))  # floor: gx, gy >= 0
    y0 = np.minimum(gy.astype(np.intp), max(h - 2, 0))
    ax, ay = gx - x0, gy - y0
    # Flat indices of the top-left corners, shared by both channels: four gathers per
    # channel from the flat maps instead of fancy indexing a 3-d array eight times.
    flat = maps.reshape(-1)
    right, down = (1 if w > 1 else 0), (w if h > 1 else 0)
    corner = y0 * w + x0

    def sample(chan: np.ndarray) -> np.ndarray:
        at = corner + (chan * (h * w))[:, None]
        top = flat[at] * (1 - ax) + flat[at + right] * ax
        bottom = flat[at + down] * (1 - ax) + flat[at + down + right] * ax
        return top * (1 - ay) + bottom * ay

    return sample(chan_x), sample(chan_y)


def assemble_people(peaks: Peaks, limbs: Sequence[np.ndarray], geometry: Geometry,
                    spec: ModelSpec) -> List[Person]:
    """Chain the limbs (one array per pair of spec.pairs) into people, best first.

    A person's score is OpenPose's: the sum of its peak and limb scores over the number
    of parts plus limbs of the layout.
    """
    # Python lists and numbers: this loop visits every limb found, and numpy scalars
    # cost more than the work.
    owner = [-1] * len(peaks.score)  # person holding each peak
    peak_score = peaks.score.tolist()
    grouping_only = set(spec.grouping_only)
    members: List[dict] = []  # person -> {part: peak index}
    totals: List[float] = []
    for k, ((part_a, part_b), found) in enumerate(zip(spec.pairs, limbs)):
        for a, b, score in found.tolist():
            a, b = int(a), int(b)
            pa, pb = owner[a], owner[b]
            if pa < 0 and pb < 0:
                if k in grouping_only:  # grouping-only limbs extend people, never start one
                    continue
                owner[a] = owner[b] = len(members)
                members.append({part_a: a, part_b: b})
                totals.append(peak_score[a] + peak_score[b] + score)
            elif pb < 0 or pa < 0:
                person, part, peak = (pa, part_b, b) if pb < 0 else (pb, part_a, a)
                if part not in members[person]:  # a different peak there is a conflict
                    members[person][part] = peak
                    owner[peak] = person
                    totals[person] += peak_score[peak] + score
            elif pa != pb and not members[pa].keys() & members[pb].keys():
                for peak in members[pb].values():
                    owner[peak] = pa
                members[pa].update(members[pb])
                members[pb] = {}
                totals[pa] += totals[pb] + score
                totals[pb] = 0.0
    th = spec.thresholds
    people = []
    for parts, total in zip(members, totals):
        if len(parts) < th.min_parts or total / len(parts) < th.min_score:
            continue
        keypoints = np.zeros((spec.n_keypoints, 3))
        idx = np.fromiter(parts.values(), dtype=int)
        part_ids = np.fromiter(parts.keys(), dtype=int)
        keypoints[part_ids, :2] = geometry.input_to_image(peaks.xy[idx])
        keypoints[part_ids, 2] = peaks.score[idx]
        people.append(Person(keypoints=keypoints,
                             score=float(total / (spec.n_keypoints + len(spec.pairs)))))
    people.sort(key=lambda p: -p.score)
    return people
