"""Compare decoded people with the annotated people they were rendered from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from pose.person import Person
from pose.spec import ModelSpec


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

    @property
    def assembled(self) -> bool:
        """Every reachable part found, none borrowed from someone else."""
        return self.decoded >= 0 and self.found >= self.reachable and self.wrong == 0


def match_people(truth: Sequence[np.ndarray], people: Sequence[Person], scale: float,
                 spec: ModelSpec, tolerance: float = 4.0) -> List[Match]:
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
        if d >= 0:
            close = _close(gt, people[d].keypoints, scale, tolerance)
            found = int(close.sum())
            wrong = int(((people[d].keypoints[:, 2] > 0) & ~close).sum())
        matches.append(Match(visible=int((gt[:, 2] > 0).sum()),
                             reachable=int(reachable_parts(gt, spec).sum()),
                             found=found, wrong=wrong, decoded=d))
    return matches


def _close(truth: np.ndarray, found: np.ndarray, scale: float, tolerance: float) -> np.ndarray:
    both = (truth[:, 2] > 0) & (found[:, 2] > 0)
    dist = np.hypot(*(truth[:, :2] - found[:, :2]).T) * scale
    return both & (dist <= tolerance)
