"""Decoding: rendered fields of real annotations -> people (pose.families.openpose: peaks, people)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pose.families.openpose import people as decode_module
from pose.families.openpose.peaks import Peaks, cubic_matrix, cubic_weights, find_peaks, input_to_grid
from pose.families.openpose.people import DecodeOptions, average_outputs, connect_limbs, decode, decode_multiscale
from pose.families.openpose.preprocess import NetResolution, compute_geometry, parse_net_resolution
from pose.families.openpose.spec import SINGLE_PERSON_THRESHOLD, get_spec
from tests.support.degrade import add_noise, blur
from tests.support.render_fields import render_output
from tests.support.scoring import TOLERANCE, match_people, score_crowds, score_samples

LAYOUTS = ("COCO", "MPI")
DEFAULT_RESOLUTION = parse_net_resolution("-1x368")


def _decode_sample(image, spec, **render):
    geometry = compute_geometry(image.image_size, DEFAULT_RESOLUTION)
    truth = image.people[spec.name]
    people = decode(render_output(truth, spec, geometry, **render), geometry, spec)
    return truth, people, geometry


# --- the pieces -------------------------------------------------------------------

def test_cubic_matrix_reproduces_cv2_resize():
    rng = np.random.default_rng(1)
    coarse = rng.random((13, 21)).astype(np.float32)
    fine = cv2.resize(coarse, (21 * 8, 13 * 8), interpolation=cv2.INTER_CUBIC)
    my = cubic_matrix(input_to_grid(np.arange(13 * 8)), 13)
    mx = cubic_matrix(input_to_grid(np.arange(21 * 8)), 21)
    assert np.abs(my @ coarse @ mx.T - fine).max() < 1e-5


def _reference_peaks(heat, geometry, threshold):
    """OpenPose's way, in full: upsample every map, crop, NMS, 7x7 centroid."""
    rw, rh = geometry.resized_size
    up = cv2.resize(np.ascontiguousarray(heat.transpose(1, 2, 0)), geometry.input_size,
                    interpolation=cv2.INTER_CUBIC).reshape(*geometry.input_size[::-1], -1)
    up = up.transpose(2, 0, 1)[:, :rh, :rw].astype(np.float64)
    padded = np.pad(up, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    keep = up > threshold
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                other = padded[:, 1 + dy:1 + dy + rh, 1 + dx:1 + dx + rw]
                keep &= (up > other) if (dy < 0 or (dy == 0 and dx < 0)) else (up >= other)
    keep[:, [0, -1], :] = keep[:, :, [0, -1]] = False
    peaks = []
    for j, y, x in zip(*np.nonzero(keep)):
        y0, x0 = max(y - 3, 0), max(x - 3, 0)
        win = np.maximum(up[j, y0:y + 4, x0:x + 4], 0)
        yy, xx = np.mgrid[y0:y0 + win.shape[0], x0:x0 + win.shape[1]]
        peaks.append((j, (win * xx).sum() / win.sum(), (win * yy).sum() / win.sum(), up[j, y, x]))
    return np.array(sorted(peaks))


@pytest.mark.parametrize("noise", [0.0, 0.02])
def test_peaks_equal_full_cubic_upsampling(samples, noise):
    spec = get_spec("COCO")
    image = max(samples, key=lambda im: len(im.people["COCO"]))
    geometry = compute_geometry(image.image_size, parse_net_resolution("-1x368"))
    out = add_noise(render_output(image.people["COCO"], spec, geometry), noise,
                    np.random.default_rng(3))[0]
    heat = out[:spec.n_keypoints]
    peaks = find_peaks(heat, geometry, spec.thresholds.peak)
    mine = np.array(sorted(zip(peaks.part, peaks.xy[:, 0], peaks.xy[:, 1], peaks.score)))
    reference = _reference_peaks(heat, geometry, spec.thresholds.peak)
    assert len(mine) >= sum((p[:, 2] > 0).sum() for p in image.people["COCO"])
    # Each peak found is one of OpenPose's, to float precision...
    distance = np.abs(mine[:, None, :] - reference[None, :, :]).max(axis=2)
    assert distance.min(axis=1).max() < 1e-4
    # ...and every one of OpenPose's is found, but for faint ripples of noise that the
    # cubic kernel makes between grid points with no grid maximum nearby (measured:
    # 13 of 635 peaks, none above 0.074, with this noise).
    missed = reference[distance.min(axis=0) >= 1e-4]
    if noise == 0:
        assert len(missed) == 0
    else:
        assert len(missed) <= 0.05 * len(reference)
        assert missed[:, 3].max() < 2 * spec.thresholds.peak


def test_bilinear_paf_sampling_decodes_like_cubic(samples, monkeypatch):
    spec = get_spec("COCO")
    image = max(samples, key=lambda im: len(im.people["COCO"]))
    truth, bilinear, geometry = _decode_sample(image, spec)

    def cubic(maps, chan_x, chan_y, points):
        """Cubic interpolation (OpenPose's upsampling) at each point: 4x4 taps."""
        grid = decode_module.paf_grid(points)
        h, w = maps.shape[1:]
        bx, by = np.floor(grid[..., 0]).astype(int), np.floor(grid[..., 1]).astype(int)
        wx = cubic_weights(grid[..., 0] - bx)  # (m, S, 4)
        wy = cubic_weights(grid[..., 1] - by)
        tx = np.clip(bx[..., None] + np.arange(-1, 3), 0, w - 1)
        ty = np.clip(by[..., None] + np.arange(-1, 3), 0, h - 1)

        def sample(chan):
            taps = maps[chan[:, None, None, None], ty[..., :, None], tx[..., None, :]]
            return np.einsum("msij,msi,msj->ms", taps, wy, wx)

        return sample(chan_x), sample(chan_y)

    monkeypatch.setattr(decode_module, "_sample_paf", cubic)
    cubic_people = decode(render_output(truth, spec, geometry), geometry, spec)
    assert len(cubic_people) == len(bilinear) == len(truth)
    # The same people with the same parts; cubic samples of the narrow PAF band read
    # a little higher (measured: person scores up to 6% apart).
    for a, b in zip(bilinear, cubic_people):
        assert np.array_equal(a.keypoints, b.keypoints)
        assert b.score == pytest.approx(a.score, rel=0.1)


def _peaks(spec, parts_xy):
    """A Peaks record from {part: [(x, y), ...]} (net-input pixels), scores 0.9."""
    part = np.array([j for j in sorted(parts_xy) for _ in parts_xy[j]], dtype=int)
    xy = np.array([p for j in sorted(parts_xy) for p in parts_xy[j]], dtype=float).reshape(-1, 2)
    start = np.searchsorted(part, np.arange(spec.n_keypoints + 1))
    return Peaks(part=part, xy=xy, score=np.full(len(part), 0.9), start=start)


def _limb_maps(spec, pair, value=(1.0, 0.0), size=(82, 46)):
    """Output maps with PAF `value` everywhere in the channels of pair `pair`."""
    maps = np.zeros((spec.n_channels, size[1], size[0]))
    cx, cy = spec.paf_channels_absolute()[pair]
    maps[cx], maps[cy] = value
    return maps, cx


def test_limbs_need_every_sample_aligned():
    spec = get_spec("MPI")  # pair 2 = RShoulder(2) -> RElbow(3)
    peaks = _peaks(spec, {2: [(100.0, 200.0)], 3: [(172.0, 200.0)]})
    maps, cx = _limb_maps(spec, 2)
    (limb,) = [l for l in connect_limbs(peaks, maps, 368, spec) if len(l)]
    assert limb.tolist() == [[0, 1, pytest.approx(1.0)]]
    # Samples fall every 8 px, on grid columns 12.5, 13.5, ...: clearing columns 16
    # and 17 zeroes the fifth of them only, and 9 of 10 is under 95%.
    maps[cx][:, 16:18] = 0
    assert all(len(l) == 0 for l in connect_limbs(peaks, maps, 368, spec))


def test_limbs_pay_the_distance_prior():
    spec = get_spec("MPI")
    maps, _ = _limb_maps(spec, 2, value=(0.3, 0.0))
    for length, expected in [(200.0, 0.3 + 0.5 * 368 / 200 - 1), (150.0, 0.3)]:
        peaks = _peaks(spec, {2: [(100.0, 200.0)], 3: [(100.0 + length, 200.0)]})
        limbs = connect_limbs(peaks, maps, 368, spec)
        assert limbs[2][:, 2] == pytest.approx([expected])
    # Longer than 0.5 * 368 / 0.7 = 263 px the prior outweighs the PAF: no limb.
    peaks = _peaks(spec, {2: [(100.0, 200.0)], 3: [(380.0, 200.0)]})
    assert len(connect_limbs(peaks, maps, 368, spec)[2]) == 0


def test_limbs_take_the_best_pairs_each_peak_once():
    spec = get_spec("MPI")
    # Two forearms pointing right, one above the other; the PAF is right-pointing
    # everywhere, so crossing pairs are aligned too but score lower (the slant).
    peaks = _peaks(spec, {2: [(100.0, 100.0), (100.0, 140.0)],
                          3: [(180.0, 102.0), (180.0, 142.0)]})
    maps, _ = _limb_maps(spec, 2)
    limbs = connect_limbs(peaks, maps, 368, spec)[2]
    assert sorted(map(tuple, limbs[:, :2].astype(int))) == [(0, 2), (1, 3)]


# --- recall on real annotations ---------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_annotated_person_is_recovered(samples, layout):
    spec = get_spec(layout)
    tally = score_samples(samples, spec)
    # Nobody split in two, nobody invented, no part given to the wrong person.
    assert tally.decoded == len(tally.matches) and tally.extra == 0 and tally.wrong == 0
    for image in samples:
        if len(image.people[layout]) == 1:
            (match,) = score_samples([image], spec).matches
            assert match.found == match.visible, image.name
    # Measured: 309/310 (COCO), 300/301 (MPI); the miss is a wrist annotated without
    # its elbow, which no limb reaches.
    assert tally.recall >= 0.98


def test_keypoints_are_in_original_image_pixels_with_sub_pixel_precision(samples):
    spec = get_spec("MPI")
    image = next(im for im in samples if im.image_size == (1280, 720))
    truth, people, geometry = _decode_sample(image, spec)
    assert geometry.scale < 0.6  # far from 1, so a missing mapping would show
    vis = truth[0][:, 2] > 0
    error = np.hypot(*(people[0].keypoints[vis, :2] - truth[0][vis, :2]).T) * geometry.scale
    # Away from the image's edge (where the maps are cut off) within 1.5 net-input
    # pixels, well inside one 8-pixel cell; everywhere within the tolerance.
    xy = truth[0][vis, :2] * geometry.scale
    inner = np.all((xy > 8) & (xy < np.array(geometry.resized_size) - 8), axis=1)
    assert inner.sum() >= 10
    assert error[inner].max() < 1.5
    assert error.max() < TOLERANCE
    assert not np.allclose(people[0].keypoints[vis, :2] % 1, 0)


def test_person_records(samples):
    spec = get_spec("COCO")
    image = max(samples, key=lambda im: len(im.people["COCO"]))
    truth, people, _ = _decode_sample(image, spec)
    assert [p.score for p in people] == sorted((p.score for p in people), reverse=True)
    for person in people:
        assert person.keypoints.shape == (spec.n_keypoints, 3)
        missing = person.keypoints[:, 2] == 0
        assert np.all(person.keypoints[missing] == 0)
        assert np.all((person.keypoints[~missing, 2] > spec.thresholds.peak)
                      & (person.keypoints[~missing, 2] <= 1))
        assert 0 < person.score <= 1


# --- crowds and degraded fields ---------------------------------------------------

@pytest.mark.parametrize("layout, floor", [("COCO", 0.85), ("MPI", 0.8)])
def test_crowds_of_three_are_assembled(samples, layout, floor):
    # Measured with this seed: COCO 54/60, MPI 50/60 people assembled exactly (every
    # reachable part, no part of anyone else); the misses are overlapping limbs.
    tally = score_crowds(samples, get_spec(layout), n_people=3, frames=20, seed=0)
    assert tally.assembled >= floor
    assert tally.recall >= 0.95


@pytest.mark.parametrize("layout", LAYOUTS)
def test_degraded_fields_keep_a_floor(samples, layout):
    """Floors a little under what these samples measure (benchmarks/eval_decode.py
    prints the whole curves)."""
    spec = get_spec(layout)
    rng = np.random.default_rng(0)
    assert score_samples(samples, spec, paf_blur=1.5).recall >= 0.97
    assert score_samples(samples, spec, degrade=lambda out: blur(out, 0.5)).recall >= 0.97
    assert score_samples(samples, spec, degrade=lambda out: add_noise(out, 0.02, rng)).recall >= 0.95
    assert score_samples(samples, spec, peak=0.7).recall >= 0.98
    assert score_samples(samples, spec, drop_fraction=0.1, rng=rng).recall >= 0.75


# --- options ----------------------------------------------------------------------

def _seed_single_person(output, frame_size, n_parts, threshold):
    """The seed's loop, verbatim in spirit: global max per heatmap, scaled by frame/W."""
    frame_width, frame_height = frame_size
    H, W = output.shape[2], output.shape[3]
    points = []
    for i in range(n_parts):
        prob_map = output[0, i]
        _, prob, _, point = cv2.minMaxLoc(prob_map)
        x = (frame_width * point[0]) / W
        y = (frame_height * point[1]) / H
        points.append((x, y, prob) if prob > threshold else None)
    return points


@pytest.mark.parametrize("layout", LAYOUTS)
def test_single_person_mode_reproduces_the_seeds_argmax(samples, layout):
    spec = get_spec(layout)
    rng = np.random.default_rng(5)
    # An unpadded square frame: the seed's frame/W mapping and the geometry agree.
    geometry = compute_geometry((736, 736), NetResolution(-1, 368))
    assert geometry.input_size == geometry.resized_size
    person = samples[0].people[layout][0].copy()
    person[:, :2] *= 736 / max(samples[0].image_size)
    outputs = [render_output([person], spec, geometry),
               rng.random((1, spec.n_channels, 46, 46)).astype(np.float32) * 0.2]
    for output in outputs:
        seed = _seed_single_person(output, (736, 736), spec.n_keypoints, SINGLE_PERSON_THRESHOLD)
        people = decode(output, geometry, spec, DecodeOptions(single_person=True))
        assert len(people) == 1
        keypoints = people[0].keypoints
        for j, point in enumerate(seed):
            if point is None:
                assert np.all(keypoints[j] == 0)
            else:
                # Same cell, same confidence; reported at the cell's centre (net-input
                # pixel 8g + 3.5), where the seed reported its corner (8g).
                corner = np.array(point[:2]) * geometry.scale
                assert keypoints[j, 2] == pytest.approx(point[2])
                assert keypoints[j, :2] == pytest.approx(geometry.input_to_image(corner + 3.5))
        assert (keypoints[:, 2] > 0).sum() == sum(p is not None for p in seed)


def test_single_person_mode_finds_the_rendered_person(samples):
    spec = get_spec("COCO")
    image = next(im for im in samples if im.source == "mpii")
    truth, _, geometry = _decode_sample(image, spec)
    output = render_output(truth, spec, geometry)
    (person,) = decode(output, geometry, spec, DecodeOptions(single_person=True))
    vis = truth[0][:, 2] > 0
    assert np.array_equal(person.keypoints[:, 2] > 0, vis)
    # Cell centres only: within half a cell's diagonal plus the rendering's rounding.
    assert np.hypot(*(person.keypoints[vis, :2] - truth[0][vis, :2]).T).max() * geometry.scale < 6


def test_max_people_and_threshold(samples):
    spec = get_spec("COCO")
    image = max(samples, key=lambda im: len(im.people["COCO"]))
    geometry = compute_geometry(image.image_size, DEFAULT_RESOLUTION)
    output = render_output(image.people["COCO"], spec, geometry, peak=0.5)
    everyone = decode(output, geometry, spec)
    assert len(everyone) == 5
    best = decode(output, geometry, spec, DecodeOptions(max_people=2))
    assert [p.score for p in best] == [p.score for p in everyone[:2]]
    assert decode(output, geometry, spec, DecodeOptions(threshold=0.6)) == []
    assert decode(output, geometry, spec, DecodeOptions(threshold=0.6, single_person=True)) == []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_multiscale_average_decodes_every_person(samples, layout):
    spec = get_spec(layout)
    image = max(samples, key=lambda im: len(im.people[layout]))
    truth = image.people[layout]
    runs = []
    for height in (368, 280, 184):  # scales 1, 0.75, 0.5 rounded to the stride
        geometry = compute_geometry(image.image_size, NetResolution(-1, height))
        runs.append((render_output(truth, spec, geometry), geometry))
    people = decode_multiscale(runs, spec)
    matches = match_people(truth, people, runs[0][1].scale, spec, TOLERANCE)
    assert len(people) == len(truth)
    found = sum(m.found for m in matches) / sum(m.visible for m in matches)
    assert found >= 0.97
    # One run, or the same run twice, is exactly the single-scale decoding.
    single = decode(*runs[0], spec)
    twice = decode_multiscale([runs[0], runs[0]], spec)
    assert [p.score for p in twice] == pytest.approx([p.score for p in single])
    assert np.allclose(average_outputs(runs[:1], spec), runs[0][0])


def test_multiscale_needs_one_image():
    spec = get_spec("MPI")
    a = compute_geometry((640, 480), DEFAULT_RESOLUTION)
    b = compute_geometry((480, 640), DEFAULT_RESOLUTION)
    blob = lambda g: np.zeros((1, spec.n_channels, g.output_size[1], g.output_size[0]), np.float32)
    with pytest.raises(ValueError, match="one image"):
        decode_multiscale([(blob(a), a), (blob(b), b)], spec)
    with pytest.raises(ValueError, match="at least one"):
        decode_multiscale([], spec)


@pytest.mark.parametrize("shape, message", [
    ((1, 10, 46, 62), "channels"),
    ((1, 44, 46, 60), "expects"),
    ((2, 44, 46, 62), "must be"),
    ((46, 62), "must be"),
])
def test_bad_output_is_a_clear_error(shape, message):
    spec = get_spec("MPI")
    geometry = compute_geometry((640, 480), DEFAULT_RESOLUTION)
    assert geometry.output_size == (62, 46)
    with pytest.raises(ValueError, match=message):
        decode(np.zeros(shape, np.float32), geometry, spec)


@pytest.mark.parametrize("options", [dict(threshold=-0.1), dict(threshold=1.0),
                                     dict(max_people=0)])
def test_bad_options_are_a_clear_error(options):
    with pytest.raises(ValueError, match="threshold|max_people"):
        DecodeOptions(**options)


def test_empty_maps_give_nobody():
    spec = get_spec("COCO")
    geometry = compute_geometry((640, 480), DEFAULT_RESOLUTION)
    blob = np.zeros((spec.n_channels, 46, 62), np.float32)
    assert decode(blob, geometry, spec) == []
    assert decode(blob, geometry, spec, DecodeOptions(single_person=True)) == []
