"""Correctness through the real tools: an oracle Caffe net (tests/oracle.py) turns
specially encoded images into the maps rendered from known keypoints, so the keypoints
in the tools' JSON can be checked against those keypoints."""
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np
import pytest

from pose.analysis.classify import classify, pose_class_json
from pose.core.person import Person
from pose.families.openpose.preprocess import NetResolution, compute_geometry
from pose.families.openpose.spec import MODELS, ModelSpec
from tests.support import skeletons
from tests.support.annotations import load_all
from tests.support.cli_tools import load_json, model_args, read_jsonl, run_tool, video_facts
from tests.support.oracle import encode, write_oracle_model
from tests.support.render_fields import render_output

SIZE = 368  # the oracle image reaches the net unscaled: --net_resolution 368x368
NET = ("--net_resolution", f"{SIZE}x{SIZE}")
TOLERANCE_PX = 3.0


def body(spec: ModelSpec, neck, scale: float, **pose) -> np.ndarray:
    """(N, 3) keypoints of a canonical body (tests/support/skeletons.py), every part visible."""
    return skeletons.make(spec, 1.0, at=neck, scale=scale, **pose).keypoints


def oracle_image(people: Sequence[np.ndarray], spec: ModelSpec) -> np.ndarray:
    geometry = compute_geometry((SIZE, SIZE), NetResolution(SIZE, SIZE))
    return encode(render_output(people, spec, geometry), spec)


def walk_video(tmp_path: Path, spec: ModelSpec, frames: int):
    """A lossless (FFV1) 368x368 clip for the oracle net: one person walks right 6 px a
    frame, one stands. Returns (the clip, the walker's keypoints per frame, the stander's)."""
    walker = [body(spec, (90 + 6 * k, 60), 0.9) for k in range(frames)]
    still = body(spec, (280, 100), 0.8)
    clip = tmp_path / "walk.mkv"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"FFV1"), 10, (SIZE, SIZE))
    assert writer.isOpened()
    for k in range(frames):
        writer.write(oracle_image([walker[k], still], spec))
    writer.release()
    return clip, walker, still


def match(expected: Sequence[np.ndarray], found: List[dict], n_parts: int) -> List[np.ndarray]:
    """For each expected person, the found person (greedy, one-to-one) closest over the
    parts both have, as an (N, 3) array; asserts every expected person has a match."""
    found_kp = [np.asarray(p["pose_keypoints_2d"], float).reshape(n_parts, 3) for p in found]
    cost = np.full((len(expected), len(found_kp)), np.inf)
    for i, e in enumerate(expected):
        for j, f in enumerate(found_kp):
            both = (e[:, 2] > 0) & (f[:, 2] > 0)
            if both.any():
                cost[i, j] = np.linalg.norm(e[both, :2] - f[both, :2], axis=1).mean()
    out: Dict[int, np.ndarray] = {}
    while len(out) < len(expected):
        i, j = np.unravel_index(np.argmin(cost), cost.shape)
        assert np.isfinite(cost[i, j]), f"expected person {len(out)} has no match"
        out[i] = found_kp[j]
        cost[i, :], cost[:, j] = np.inf, np.inf
    return [out[i] for i in range(len(expected))]


def errors(expected: np.ndarray, found: np.ndarray):
    """(distances of the parts both have, parts expected, parts found of those)."""
    vis = expected[:, 2] > 0
    both = vis & (found[:, 2] > 0)
    return np.linalg.norm(expected[both, :2] - found[both, :2], axis=1), int(vis.sum()), int(both.sum())


@pytest.fixture(scope="module")
def oracles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oracle")
    return {name: model_args(*write_oracle_model(folder, MODELS[name])) for name in ("COCO", "MPI")}


@pytest.mark.parametrize("mode", ["COCO", "MPI"])
def test_oracle_image_two_people(tmp_path, oracles, mode):
    spec = MODELS[mode]
    people = [body(spec, (110, 60), 0.95, **skeletons.HELLO_RIGHT), body(spec, (260, 110), 0.8)]
    path = tmp_path / "scene.png"
    assert cv2.imwrite(str(path), oracle_image(people, spec))
    r = run_tool("image", "--image_file", path, "--mode", mode, "--output_dir", tmp_path, *NET, *oracles[mode])
    assert r.returncode == 0, r.stderr
    data = load_json(tmp_path / "images" / mode / f"scene-{mode}.json")
    assert len(data["people"]) == 2
    for want, got in zip(people, match(people, data["people"], spec.n_keypoints)):
        dist, n_expected, n_found = errors(want, got)
        assert n_found == n_expected == spec.n_keypoints
        assert dist.max() < TOLERANCE_PX, dist
    # the JSON's labels are the classify stage's verdict on the JSON's keypoints
    for person in data["people"]:
        kp = np.asarray(person["pose_keypoints_2d"], float).reshape(-1, 3)
        _same_class(person["pose_class"], pose_class_json(classify(Person(kp, person["score"]), spec)))
    classes = sorted((p["pose_class"]["gesture"], p["pose_class"]["posture"]) for p in data["people"])
    assert classes == [("hello", "standing"), ("none", "standing")]


@pytest.mark.parametrize("mode", ["COCO", "MPI"])
def test_oracle_annotated_people(tmp_path, shared_dir, oracles, mode):
    """Real COCO/MPII/H36M annotations, scaled into the 368x368 oracle image: every
    annotated person comes back, their parts within a few pixels."""
    spec = MODELS[mode]
    expected = {}
    for k, record in enumerate(load_all(shared_dir / "annotations")):
        scale = SIZE / max(record.image_size)
        people = [np.column_stack([p[:, :2] * scale, p[:, 2]]) for p in record.people[mode]]
        path = tmp_path / f"ann{k:02d}.png"
        assert cv2.imwrite(str(path), oracle_image(people, spec))
        expected[path.stem] = people
    r = run_tool("image", "--image_file", tmp_path, "--mode", mode, "--output_dir", tmp_path / "out",
                 "--no_classify", "--quiet", *NET, *oracles[mode])
    assert r.returncode == 0, r.stderr
    n_expected = n_found = 0
    worst = 0.0
    for stem, people in expected.items():
        data = load_json(tmp_path / "out" / "images" / mode / f"{stem}-{mode}.json")
        assert len(data["people"]) == len(people), stem
        for want, got in zip(people, match(people, data["people"], spec.n_keypoints)):
            dist, e, f = errors(want, got)
            n_expected, n_found, worst = n_expected + e, n_found + f, max(worst, dist.max())
    assert len(expected) >= 10
    assert n_found >= 0.97 * n_expected, (n_found, n_expected)
    assert worst < TOLERANCE_PX


def test_oracle_video_tracks_a_walking_person(tmp_path, oracles):
    """A lossless (FFV1) video: one person walks right 6 px a frame, one stands still.
    Every frame's keypoints come back, and each keeps one person_id."""
    spec = MODELS["COCO"]
    frames = 6
    clip, walker, still = walk_video(tmp_path, spec, frames)
    r = run_tool("video", "--video_file", clip, "--output_dir", tmp_path, "--quiet", *NET, *oracles["COCO"])
    assert r.returncode == 0, r.stderr
    lines = read_jsonl(tmp_path / "videos" / "COCO" / "walk_COCO.jsonl")
    assert len(lines) == frames
    ids = []
    for k, data in enumerate(lines):
        assert len(data["people"]) == 2
        found = match([walker[k], still], data["people"], spec.n_keypoints)
        for want, got in zip([walker[k], still], found):
            dist, e, f = errors(want, got)
            assert f == e and dist.max() < TOLERANCE_PX
        by_position = sorted(data["people"], key=lambda p: p["pose_keypoints_2d"][3])  # neck x
        ids.append(tuple(p["person_id"][0] for p in by_position))
    assert len(set(ids)) == 1 and len(set(ids[0])) == 2  # the same two ids in every frame
    assert video_facts(tmp_path / "videos" / "COCO" / "walk_skeleton_COCO.mp4") == (frames, 10.0, (SIZE, SIZE))


def test_decoding_options_reach_the_decoder(tmp_path, oracles):
    """--single_person, --max_people and --threshold change what the oracle scene gives."""
    spec = MODELS["COCO"]
    people = [body(spec, (110, 60), 0.95), body(spec, (260, 110), 0.8)]
    path = tmp_path / "two.png"
    assert cv2.imwrite(str(path), oracle_image(people, spec))

    def count(*options):
        out = tmp_path / "_".join(options).replace("-", "") or "plain"
        r = run_tool("image", "--image_file", path, "--output_dir", out, "--quiet", *options, *NET,
                     *oracles["COCO"])
        assert r.returncode == 0, r.stderr
        return len(load_json(out / "images" / "COCO" / "two-COCO.json")["people"])

    assert count() == 2
    assert count("--single_person") == 1
    assert count("--max_people", "1") == 1
    assert count("--threshold", "0.95") == 0  # rendered peaks are 0.9


def _same_class(written: dict, recomputed: dict) -> None:
    """The same labels; confidences within 0.002 (the JSON's keypoints are rounded to
    0.01 px, which can move a 3-decimal confidence by one unit)."""
    assert {k: v for k, v in written.items() if not k.endswith("confidence")} == \
        {k: v for k, v in recomputed.items() if not k.endswith("confidence")}
    for key in written:
        if key.endswith("confidence"):
            assert abs(written[key] - recomputed[key]) <= 0.002, (key, written, recomputed)
