"""BODY_25 through decoding, drawing, classification and tracking."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pose.analysis.classify import classify
from pose.analysis.track import Tracker
from pose.families.openpose.peaks import find_peaks
from pose.families.openpose.people import connect_limbs, decode
from pose.families.openpose.preprocess import compute_geometry, parse_net_resolution
from pose.families.openpose.spec import ADAPTIVE, MODELS
from pose.io import render
from tests.support import skeletons
from tests.support.render_fields import render_output
from tests.support.scoring import PAF_SAMPLES, match_people, reachable_parts, score_samples

BODY_25 = MODELS["BODY_25"]
FEET = tuple(range(19, 25))  # LBigToe .. RHeel


# --- decoding -------------------------------------------------------------------------

def test_wholebody_feet_are_loaded(samples):
    coco = [im for im in samples if im.source == "coco"]
    feet = sum(int((p[list(FEET), 2] > 0).sum()) for im in coco for p in im.people["BODY_25"])
    assert feet >= 30  # the whole-body file's feet of the 10 people kept
    for im in samples:
        for body, coco18 in zip(im.people["BODY_25"], im.people["COCO"]):
            # The body's 18 shared parts are the COCO layout's, MidHip the hips' midpoint.
            shared = [BODY_25.index(name) for name in MODELS["COCO"].keypoints]
            assert np.array_equal(body[shared], coco18)


def test_rendered_wholebody_people_decode_to_all_their_points(samples):
    """Maps rendered from the annotations, feet included: every part that limbs join is
    found by the right person; the feet's recall is reported on its own."""
    tally = score_samples(samples, BODY_25)
    assert tally.extra == 0 and tally.wrong == 0
    assert all(m.assembled for m in tally.matches)
    found, annotated = tally.counts_of(FEET)
    reachable_feet = sum(int(reachable_parts(p, BODY_25)[list(FEET)].sum())
                         for im in samples for p in im.people["BODY_25"])
    print(f"\nBODY_25 recall {tally.recall:.3f}; feet {found}/{annotated} = {tally.recall_of(FEET):.3f} "
          f"({reachable_feet} of them joined by limbs to the rest of the body)")
    assert found == reachable_feet and annotated - found <= 2  # two small toes with no big toe


def test_a_fully_annotated_person_decodes_to_25_points(samples):
    skier = next(im for im in samples if im.name == "coco/000000000785.jpg")
    truth = skier.people["BODY_25"]
    assert (truth[0][:, 2] > 0).all()  # all 25 annotated
    geometry = compute_geometry(skier.image_size, parse_net_resolution("-1x368"))
    people = decode(render_output(truth, BODY_25, geometry), geometry, BODY_25)
    [match] = match_people(truth, people, geometry.scale, BODY_25)
    assert match.found == 25 and match.wrong == 0 and len(people) == 1


def test_grouping_uses_all_26_pairs():
    person = skeletons.make(BODY_25, 1.0, at=(200, 80)).keypoints
    geometry = compute_geometry((400, 400), parse_net_resolution("400x400"))
    maps = render_output([person], BODY_25, geometry)[0].astype(np.float64)
    peaks = find_peaks(maps[:BODY_25.n_keypoints], geometry, BODY_25.thresholds.peak)
    limbs = connect_limbs(peaks, maps, geometry.resized_size[1], BODY_25)
    assert [len(found) for found in limbs] == [1] * 26


def test_grouping_only_limbs_never_start_a_person():
    """A lone ear with its shoulder (a grouping-only pair) is not a person of its own."""
    full = skeletons.make(BODY_25, 1.0, at=(120, 80), scale=0.8).keypoints
    ear_only = np.zeros_like(full)
    for name in ("RShoulder", "REar"):
        j = BODY_25.index(name)
        ear_only[j] = full[j] + [180, 0, 0]
    geometry = compute_geometry((400, 400), parse_net_resolution("400x400"))
    people = decode(render_output([full, ear_only], BODY_25, geometry), geometry,
                    replace(BODY_25, thresholds=replace(BODY_25.thresholds, min_parts=1, min_score=0.0)))
    assert len(people) == 1 and (people[0].keypoints[:, 2] > 0).sum() == 25


def test_paf_sample_counts_follow_the_rule():
    fixed, adaptive = replace(BODY_25, paf_samples=PAF_SAMPLES), replace(BODY_25, paf_samples=ADAPTIVE)
    assert fixed.paf_sample_counts(np.array([0.0, 300.0]), np.array([3.0, 0.0])).tolist() == [10, 10]
    dx = np.array([0.0, 4.0, 20.0, 45.0, 72.0, 80.0, 125.0, 500.0])
    dy = np.array([1.0, -1.0, -3.0, 10.0, 0.0, -81.0, 0.0, 2.0])
    # clamp(round(sqrt(5 * max(|dx|, |dy|))), 5, 25): sqrt(5*45)=15, sqrt(5*72)=18.97, sqrt(5*81)=20.12
    assert adaptive.paf_sample_counts(dx, dy).tolist() == [5, 5, 10, 15, 19, 20, 25, 25]


# --- drawing --------------------------------------------------------------------------

def test_body25_draws_openposes_colours_and_skips_grouping_only_pairs():
    person = skeletons.make(BODY_25, 1.0, at=(200, 80))
    image = render.draw_bodies(np.zeros((400, 400, 3), np.uint8), [person], BODY_25)
    palette = render.palette_bgr(BODY_25)
    assert tuple(palette[8]) == (0, 0, 255)  # MidHip: OpenPose's RGB 255, 0, 0
    kp = person.keypoints[:, :2]
    checked = 0
    for k in BODY_25.drawn:
        a, b = BODY_25.pairs[k]
        if np.linalg.norm(kp[b] - kp[a]) < 40:
            continue
        x, y = np.rint((kp[a] + kp[b]) / 2).astype(int)
        assert tuple(image[y, x]) == tuple(palette[b]), (BODY_25.keypoints[a], BODY_25.keypoints[b])
        checked += 1
    assert checked >= 9  # the limbs longer than a joint's circle covers
    for k in BODY_25.grouping_only:  # RShoulder-REar, LShoulder-LEar
        a, b = BODY_25.pairs[k]
        x, y = np.rint((kp[a] + kp[b]) / 2).astype(int)
        assert tuple(image[y, x]) == (0, 0, 0)
    assert len(render.limb_colors_bgr(BODY_25)) == len(BODY_25.drawn) == 24
    for name in ("LBigToe", "RHeel"):  # the feet are drawn
        x, y = np.rint(kp[BODY_25.index(name)]).astype(int)
        assert tuple(image[y, x]) == tuple(palette[BODY_25.index(name)])


# --- classification -------------------------------------------------------------------

@pytest.mark.parametrize("pose, expected", [
    (skeletons.STANDING, ("none", "standing")), (skeletons.HELLO_RIGHT, ("hello", "standing")),
    (skeletons.STOP, ("stop", "standing")), (skeletons.SITTING_SIDE, ("none", "sitting")),
    (skeletons.LYING, ("none", "lying")),
])
def test_body25_people_classify_as_coco_ones(pose, expected):
    for spec in (BODY_25, MODELS["COCO"]):
        pc = classify(skeletons.make(spec, 0.9, **pose), spec)
        assert (pc.gesture, pc.posture) == expected


def test_posture_uses_midhip_directly():
    """With both hips lost, BODY_25's MidHip still gives the torso (COCO cannot)."""
    body = skeletons.make(BODY_25, 0.9, missing=("RHip", "LHip"), **skeletons.LYING)
    coco = skeletons.make(MODELS["COCO"], 0.9, missing=("RHip", "LHip"), **skeletons.LYING)
    assert classify(body, BODY_25).posture == "lying"
    assert classify(coco, MODELS["COCO"]).posture == "unknown"
    # MidHip, not the hips' midpoint, is the torso's end: move the hips, not the call.
    tilted = skeletons.make(BODY_25, 0.9, **skeletons.SITTING_SIDE)
    tilted.keypoints[BODY_25.index("RHip"), 0] -= 60
    assert classify(tilted, BODY_25).posture == "sitting"


def test_lying_uses_the_feet_where_the_ankles_are_missing():
    """Lying on the side, knees drawn forward (down the image) and shins folded back, the
    ankles hidden: the knees alone point the legs straight down (not lying); BODY_25's
    heels, at the end of the shins as the ankles are, point them sideways: lying."""
    pose = dict(skeletons.LYING, thigh=(-170.0, -170.0), shin=(-10.0, -10.0))
    names = ("RAnkle", "LAnkle")
    body = skeletons.make(BODY_25, 0.9, missing=names, **pose)
    coco = skeletons.make(MODELS["COCO"], 0.9, missing=names, **pose)
    full = skeletons.make(BODY_25, 0.9, **pose)
    assert classify(full, BODY_25).posture == "lying"
    assert classify(body, BODY_25).posture == "lying"
    assert classify(coco, MODELS["COCO"]).posture != "lying"


# --- tracking -------------------------------------------------------------------------

def test_tracker_follows_body25_people_unchanged():
    tracker = Tracker(BODY_25)
    ids = []
    for k in range(8):
        people = [skeletons.make(BODY_25, 0.9, at=(100 + 6 * k, 100)),
                  skeletons.make(BODY_25, 0.9, at=(320, 120), scale=0.8)]
        ids.append(sorted((p.keypoints[1, 0], p.track_id) for p in tracker.update(people, k / 10)))
    assert all([i for _, i in frame] == [1, 2] for frame in ids)


def test_annotated_people_classify_as_in_the_coco_layout(shared_dir):
    """The labelled people (tests/data/pose_labels.json) in BODY_25's layout: the same
    calls as COCO's, so no wrong call and the same four unknown gestures."""
    from pose.analysis.classify import DEFAULT_THRESHOLDS
    from tests.support.pose_accuracy import evaluate

    body = evaluate("BODY_25", DEFAULT_THRESHOLDS, shared_dir / "annotations")
    coco = evaluate("COCO", DEFAULT_THRESHOLDS, shared_dir / "annotations")
    assert [(o.name, o.task, o.predicted) for o in body] == [(o.name, o.task, o.predicted) for o in coco]
    assert not [o for o in body if o.predicted not in (o.truth, "unknown")]


def test_every_model_samples_pafs_adaptively():
    """What benchmarks/eval_decode.py measured decoding better (README, Decoding)."""
    assert all(spec.paf_samples is ADAPTIVE for spec in MODELS.values())
