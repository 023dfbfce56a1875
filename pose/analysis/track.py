"""Video: a persistent id per person and labels smoothed per id over a short window.

Matching: each live track predicts where its keypoints are now (last keypoints moved by
the track's velocity: the mean motion of its joints, damped over frames); the cost of track <-> person is the mean distance over
the joints both have, divided by the larger of the two body sizes (bounding-box diagonal
of the visible keypoints). Pairs are taken greedily, cheapest first, up to
`max_distance`; unmatched people start new tracks (ids 1, 2, ..., never reused);
a track unseen for more than `max_missing` frames ends.

Smoothing (per track, gesture and posture separately, "unknown" frames abstain):
- "majority": the most frequent label of the last `window` frames (a tie keeps the
  current label, else the latest);
- "hysteresis": the current label holds until another label has been seen in `window`
  frames in a row.
The smoothed confidence is the summed confidence of the window's frames that agree with
the smoothed label, divided by the window's length: a label that just won 3 of 5 votes
is less sure than one that won 5 of 5.
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Deque, List, Tuple

import numpy as np

from pose.analysis.classify import DEFAULT_THRESHOLDS, SILENT_LABELS, ClassifyThresholds, classify
from pose.core.estimator import ModelInfo
from pose.core.layout import layout_of
from pose.core.person import Person, PoseClass

SMOOTHING_METHODS = ("majority", "hysteresis")
# Share of the previous velocity kept at each observation: damps detection jitter.
VELOCITY_MEMORY = 0.5


class LabelSmoother:
    """Smooths one stream of (label, confidence) per frame; "unknown" abstains."""

    def __init__(self, window: int = 5, method: str = "majority"):
        if window < 1:
            raise ValueError(f"smoothing window must be at least 1 frame, got {window}")
        if method not in SMOOTHING_METHODS:
            raise ValueError(f"unknown smoothing method {method!r}: choose one of "
                             f"{', '.join(SMOOTHING_METHODS)}")
        self.window = window
        self.method = method
        self.recent: Deque[Tuple[str, float]] = deque(maxlen=window)
        self.label = "unknown"
        self._run_label = "unknown"
        self._run = 0

    def push(self, label: str, confidence: float) -> Tuple[str, float]:
        """Add one frame's raw label; return the smoothed (label, confidence)."""
        self.recent.append((label, float(confidence)))
        if label != "unknown":
            if self.method == "majority":
                self.label = self._vote()
            else:
                self._debounce(label)
        elif all(lab == "unknown" for lab, _ in self.recent):
            self.label = "unknown"  # nothing known left in the window
        if self.label == "unknown":
            return "unknown", 0.0
        agree = sum(c for lab, c in self.recent if lab == self.label)
        return self.label, agree / len(self.recent)

    def _vote(self) -> str:
        counts = Counter(lab for lab, _ in self.recent if lab != "unknown")
        best = max(counts.values())
        tied = [lab for lab, n in counts.items() if n == best]
        if self.label in tied:
            return self.label
        latest = [lab for lab, _ in self.recent if lab in tied]
        return latest[-1]

    def _debounce(self, label: str) -> None:
        if self.label == "unknown":
            self.label = label  # the first known label is taken at once
        if label == self.label:
            self._run_label, self._run = label, 0
            return
        self._run = self._run + 1 if label == self._run_label else 1
        self._run_label = label
        if self._run >= self.window:
            self.label, self._run = label, 0


def body_size(keypoints: np.ndarray) -> float:
    """Bounding-box diagonal of the visible keypoints, pixels (at least 1)."""
    xy = keypoints[keypoints[:, 2] > 0, :2]
    if len(xy) == 0:
        return 1.0
    return max(float(np.linalg.norm(xy.max(axis=0) - xy.min(axis=0))), 1.0)


def match_costs(tracks: np.ndarray, people: np.ndarray) -> np.ndarray:
    """(T, P) cost: mean distance over shared joints / larger body size; inf if none shared.

    tracks (T, N, 3) predicted keypoints, people (P, N, 3) detected keypoints.
    """
    if len(tracks) == 0 or len(people) == 0:
        return np.full((len(tracks), len(people)), np.inf)
    shared = (tracks[:, None, :, 2] > 0) & (people[None, :, :, 2] > 0)  # (T, P, N)
    dist = np.linalg.norm(tracks[:, None, :, :2] - people[None, :, :, :2], axis=-1)
    n = shared.sum(axis=-1)
    mean = np.where(n > 0, (dist * shared).sum(axis=-1) / np.maximum(n, 1), np.inf)
    sizes_t = np.array([body_size(k) for k in tracks])
    sizes_p = np.array([body_size(k) for k in people])
    return mean / np.maximum(sizes_t[:, None], sizes_p[None, :])


def greedy_match(costs: np.ndarray, max_cost: float) -> List[Tuple[int, int]]:
    """(track, person) pairs, cheapest first, each used once, cost <= max_cost."""
    pairs = []
    used_t, used_p = set(), set()
    order = np.argsort(costs, axis=None, kind="stable")
    for t, p in zip(*np.unravel_index(order, costs.shape)):
        if costs[t, p] > max_cost:
            break
        if t not in used_t and p not in used_p:
            pairs.append((int(t), int(p)))
            used_t.add(t)
            used_p.add(p)
    return pairs


@dataclass
class Track:
    id: int
    keypoints: np.ndarray
    last_t: float
    gesture: LabelSmoother
    posture: LabelSmoother
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # px/s, whole body
    missed: int = 0
    # (frame index, smoothed gesture, smoothed posture) of every frame it was seen in
    seen: List[Tuple[int, str, str]] = field(default_factory=list)

    def predicted(self, t: float) -> np.ndarray:
        kp = self.keypoints.copy()
        kp[:, :2] += self.velocity * (t - self.last_t)
        return kp

    def observe(self, keypoints: np.ndarray, t: float) -> None:
        dt = t - self.last_t
        shared = (keypoints[:, 2] > 0) & (self.keypoints[:, 2] > 0)
        if dt > 0 and shared.any():
            # Over shared joints only: a joint appearing or vanishing is no motion.
            step = (keypoints[shared, :2] - self.keypoints[shared, :2]).mean(axis=0) / dt
            self.velocity = VELOCITY_MEMORY * self.velocity + (1 - VELOCITY_MEMORY) * step
        self.keypoints, self.last_t, self.missed = keypoints, t, 0


@dataclass
class TrackRuns:
    """One track's labels over time: (label, start s, end s) runs, in time order."""

    track_id: int
    gesture: List[Tuple[str, float, float]]
    posture: List[Tuple[str, float, float]]


class Tracker:
    """Gives people persistent ids across video frames and smooths their labels."""

    def __init__(self, spec: ModelInfo, window: int = 5, method: str = "majority",
                 max_distance: float = 0.5, max_missing: int = 10,
                 thresholds: ClassifyThresholds = DEFAULT_THRESHOLDS,
                 classify_people: bool = True):
        LabelSmoother(window, method)  # validates window and method up front
        if max_distance <= 0:
            raise ValueError(f"max_distance must be positive, got {max_distance}")
        if max_missing < 0:
            raise ValueError(f"max_missing must be at least 0, got {max_missing}")
        self.spec = spec
        self._keypoints = layout_of(spec).n_keypoints
        self.window, self.method = window, method
        self.max_distance, self.max_missing = max_distance, max_missing
        self.thresholds = thresholds
        self.classify_people = classify_people
        self.live: List[Track] = []
        self.ended: List[Track] = []
        self.times: List[float] = []
        self._next_id = 1

    def update(self, people: List[Person], t: float) -> List[Person]:
        """Set track_id and the smoothed pose_class on each person of the frame at time
        `t` (seconds); people without a pose_class are classified first. Returns `people`."""
        if self.times and t < self.times[-1]:
            raise ValueError(f"frame time {t} s is earlier than the previous {self.times[-1]} s")
        kps = [np.asarray(p.keypoints, dtype=np.float64) for p in people]
        shape = (self._keypoints, 3)
        if any(k.shape != shape for k in kps):
            raise ValueError(f"{self.spec.name} people need keypoints of shape {shape}, got "
                             f"{sorted({k.shape for k in kps if k.shape != shape})}")
        frame = len(self.times)
        self.times.append(float(t))
        predicted = np.array([tr.predicted(t) for tr in self.live]).reshape(
            len(self.live), self._keypoints, 3)
        detected = np.array(kps).reshape(len(kps), self._keypoints, 3)
        pairs = greedy_match(match_costs(predicted, detected), self.max_distance)
        track_of = {p: self.live[tr] for tr, p in pairs}
        seen_now = set()
        for i, person in enumerate(people):
            track = track_of.get(i)
            if track is None:
                track = self._start(kps[i], t)
            else:
                track.observe(kps[i], t)
            seen_now.add(track.id)
            person.track_id = track.id
            self._label(person, track, frame)
        for track in self.live:
            if track.id not in seen_now:
                track.missed += 1
        self.ended += [tr for tr in self.live if tr.missed > self.max_missing]
        self.live = [tr for tr in self.live if tr.missed <= self.max_missing]
        return people

    def _start(self, keypoints: np.ndarray, t: float) -> Track:
        track = Track(self._next_id, keypoints, t, LabelSmoother(self.window, self.method),
                      LabelSmoother(self.window, self.method))
        self._next_id += 1
        self.live.append(track)
        return track

    def _label(self, person: Person, track: Track, frame: int) -> None:
        if not self.classify_people:
            track.seen.append((frame, "unknown", "unknown"))
            return
        raw = person.pose_class or classify(person, self.spec, self.thresholds)
        g, gc = track.gesture.push(raw.gesture, raw.gesture_confidence)
        p, pc = track.posture.push(raw.posture, raw.posture_confidence)
        person.pose_class = PoseClass(g, gc, p, pc, gesture_rule=raw.gesture_rule)
        track.seen.append((frame, g, p))

    def timeline(self) -> List[str]:
        """One line per track: "person 1: standing 0.0-4.2 s, hello 1.5-3.0 s"."""
        lines = []
        for track in sorted(self.ended + self.live, key=lambda tr: tr.id):
            segments = [run for column in (2, 1) for run in self._label_runs(track, column)
                        if run[0] not in SILENT_LABELS]
            segments.sort(key=lambda s: s[1])
            if segments:
                text = ", ".join(f"{lab} {a:.1f}-{b:.1f} s" for lab, a, b in segments)
            else:
                a, b = self._span(track.seen[0][0], track.seen[-1][0])
                text = f"seen {a:.1f}-{b:.1f} s, no gesture or posture recognised"
            lines.append(f"person {track.id}: {text}")
        return lines

    def runs(self) -> List["TrackRuns"]:
        """Every track's gesture and posture over time, for drawing: runs of one label,
        silent labels included, split where the label changes and where the track went
        unseen (so a picture shows when each person was out of view)."""
        return [TrackRuns(track.id, self._label_runs(track, 1, split_on_gaps=True),
                          self._label_runs(track, 2, split_on_gaps=True))
                for track in sorted(self.ended + self.live, key=lambda tr: tr.id)]

    def _label_runs(self, track: Track, column: int, split_on_gaps: bool = False) -> List[Tuple[str, float, float]]:
        """(label, start s, end s) runs of one label column (1 gesture, 2 posture) over the
        frames a track was seen in; frames it went unseen split a run only if asked."""
        out = []
        start = 0
        for k, obs in enumerate(track.seen):
            nxt = track.seen[k + 1] if k + 1 < len(track.seen) else None
            if nxt is None or nxt[column] != obs[column] or (split_on_gaps and nxt[0] != obs[0] + 1):
                out.append((obs[column], *self._span(track.seen[start][0], obs[0])))
                start = k + 1
        return out

    def _span(self, first: int, last: int) -> Tuple[float, float]:
        """Start and end seconds of frames first..last: a run ends when the next frame begins."""
        if last + 1 < len(self.times):
            end = self.times[last + 1]
        else:
            steps = np.diff(self.times)
            end = self.times[last] + (float(np.median(steps)) if len(steps) else 0.0)
        return self.times[first], end
