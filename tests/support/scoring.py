"""Compare decoded people with the annotated people they were rendered from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from pose.core.person import Person
from pose.families.openpose.people import DecodeOptions, decode
from pose.families.openpose.preprocess import compute_geometry, parse_net_resolution
from pose.families.openpose.spec import ModelSpec
from tests.support.annotations import AnnotatedImage
from tests.support.crowd import compose_crowd, people_pool
from tests.support.degrade import random_dropped_limbs
from tests.support.render_fields import render_output

# OpenPose's first decoder's fixed PAF samples per limb, which the adaptive rule replaced
# (pose.families.openpose.spec.ADAPTIVE): the tests and eval_decode compare the two.
PAF_SAMPLES = 10
TOLERANCE = 4.0  # net-input pixels: a keypoint this close to the annotation is found


def reachable_parts(person: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """Mask of the visible parts a bottom-up decoder can join into one skeleton: the
    largest group of visible parts linked by limbs whose two ends are visible (a wrist
    annotated without its elbow is not linked to anything)."""
    vis = person[:, 2] > 0
    label = np.arange(len(person))
    for _ in range(len(person)):  # propagate the smallest label along visible limbs
        for a, b in spec.pairs:
            if vis[a] and vis[b]:
                label[a] = label[b] = min(label[a], label[b])
    groups, counts = np.unique(label[vis], return_counts=True)
    if not len(groups):
        return vis
    return vis & (label == groups[np.argmax(counts)])


@dataclass
class Match:
    """How one annotated person was decoded."""

    visible: int  # annotated parts
    reachable: int  # of those, the ones joined by limbs (see reachable_parts)
    found: int  # visible parts the matched decoded person holds within tolerance
    wrong: int  # parts of the matched decoded person that are not this person's
    decoded: int  # index of the matched decoded person, -1 when none
    visible_parts: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per part
    found_parts: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per part

    @property
    def assembled(self) -> bool:
        """Every reachable part found, none borrowed from someone else."""
        return self.decoded >= 0 and self.found >= self.reachable and self.wrong == 0


def match_people(truth: Sequence[np.ndarray], people: Sequence[Person], scale: float,
                 spec: ModelSpec, tolerance: float = TOLERANCE) -> List[Match]:
    """Pair annotated and decoded people one to one, greedily by the number of parts
    within `tolerance` net-input pixels (`scale` = net input / image)."""
    hits = np.zeros((len(truth), len(people)), dtype=int)
    for t, gt in enumerate(truth):
        for d, p in enumerate(people):
            hits[t, d] = _close(gt, p.keypoints, scale, tolerance).sum()
    owner = np.full(len(truth), -1)
    taken = set()
    for flat in np.argsort(-hits, axis=None, kind="stable"):
        t, d = np.unravel_index(flat, hits.shape)
        if hits[t, d] == 0:
            break
        if owner[t] < 0 and d not in taken:
            owner[t] = d
            taken.add(d)
    matches = []
    for t, gt in enumerate(truth):
        d = int(owner[t])
        found = wrong = 0
        close = np.zeros(len(gt), bool)
        if d >= 0:
            close = _close(gt, people[d].keypoints, scale, tolerance)
            found = int(close.sum())
            wrong = int(((people[d].keypoints[:, 2] > 0) & ~close).sum())
        matches.append(Match(visible=int((gt[:, 2] > 0).sum()),
                             reachable=int(reachable_parts(gt, spec).sum()),
                             found=found, wrong=wrong, decoded=d,
                             visible_parts=gt[:, 2] > 0, found_parts=close))
    return matches


def _close(truth: np.ndarray, found: np.ndarray, scale: float, tolerance: float) -> np.ndarray:
    both = (truth[:, 2] > 0) & (found[:, 2] > 0)
    dist = np.hypot(*(truth[:, :2] - found[:, :2]).T) * scale
    return both & (dist <= tolerance)


@dataclass
class Tally:
    """Matches summed over many frames."""

    matches: List[Match] = field(default_factory=list)
    decoded: int = 0  # people decoded in all frames

    def add(self, matches: Sequence[Match], decoded: int) -> None:
        self.matches += matches
        self.decoded += decoded

    @property
    def recall(self) -> float:
        """Annotated parts found, by the right person, within the tolerance."""
        return sum(m.found for m in self.matches) / max(sum(m.visible for m in self.matches), 1)

    @property
    def assembled(self) -> float:
        """Fraction of people assembled exactly (Match.assembled)."""
        return float(np.mean([m.assembled for m in self.matches])) if self.matches else 0.0

    @property
    def extra(self) -> int:
        """Decoded people matched to nobody (a split-off part or an invention)."""
        return self.decoded - sum(m.decoded >= 0 for m in self.matches)

    def recall_of(self, parts: Sequence[int]) -> float:
        """Recall of some parts only (e.g. BODY_25's feet): found / annotated."""
        found = sum(int(m.found_parts[list(parts)].sum()) for m in self.matches)
        visible = sum(int(m.visible_parts[list(parts)].sum()) for m in self.matches)
        return found / max(visible, 1)

    def counts_of(self, parts: Sequence[int]) -> Tuple[int, int]:
        """(found, annotated) of some parts only."""
        return (sum(int(m.found_parts[list(parts)].sum()) for m in self.matches),
                sum(int(m.visible_parts[list(parts)].sum()) for m in self.matches))

    @property
    def wrong(self) -> int:
        """Parts given to a person they do not belong to."""
        return sum(m.wrong for m in self.matches)


def score_samples(samples: Sequence[AnnotatedImage], spec: ModelSpec, *,
                  resolution: str = "-1x368", degrade: Optional[Callable] = None,
                  drop_fraction: float = 0.0, rng: Optional[np.random.Generator] = None,
                  options: Optional[DecodeOptions] = None, tolerance: float = TOLERANCE,
                  **render) -> Tally:
    """Render every annotated image's people, maybe degrade the maps (`degrade(output)`,
    `drop_fraction` of the limbs left out), decode, and match."""
    tally = Tally()
    for image in samples:
        geometry = compute_geometry(image.image_size, parse_net_resolution(resolution))
        truth = image.people[spec.name]
        dropped = random_dropped_limbs(len(truth), spec, drop_fraction, rng) if drop_fraction else None
        output = render_output(truth, spec, geometry, drop_limbs=dropped, **render)
        people = decode(degrade(output) if degrade else output, geometry, spec, options)
        tally.add(match_people(truth, people, geometry.scale, spec, tolerance), len(people))
    return tally


def score_crowds(samples: Sequence[AnnotatedImage], spec: ModelSpec, n_people: int,
                 frames: int, seed: int = 0, frame_size: Tuple[int, int] = (1280, 720),
                 resolution: str = "656x368", options: Optional[DecodeOptions] = None,
                 tolerance: float = TOLERANCE, height_range: Tuple[float, float] = (0.3, 0.6)) -> Tally:
    """Decode `frames` synthetic crowds of `n_people` annotated skeletons (tests/crowd.py),
    each person a random fraction `height_range` of the frame high."""
    geometry = compute_geometry(frame_size, parse_net_resolution(resolution))
    pool = people_pool(samples, spec.name)
    rng = np.random.default_rng(seed)
    tally = Tally()
    for _ in range(frames):
        crowd = compose_crowd(pool, n_people, frame_size, rng, height_range)
        people = decode(render_output(crowd, spec, geometry), geometry, spec, options)
        tally.add(match_people(crowd, people, geometry.scale, spec, tolerance), len(people))
    return tally
