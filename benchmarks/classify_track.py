"""Time the classify and track stages on synthetic people (no network involved).

Usage: python -m benchmarks.classify_track [people-per-frame] [frames]
"""
from __future__ import annotations

import sys
import time

from pose.analysis.classify import classify
from pose.analysis.track import Tracker
from pose.families.openpose.spec import MODELS
from tests.support import skeletons as S


def main(n_people: int = 5, frames: int = 300) -> None:
    spec = MODELS["COCO"]
    poses = [S.STANDING, S.HELLO_RIGHT, S.STOP, S.SITTING_SIDE, S.LYING]
    people = [S.make(spec, at=(100 + 120 * i, 150), **poses[i % len(poses)]) for i in range(n_people)]
    start = time.perf_counter()
    for _ in range(frames):
        for p in people:
            classify(p, spec)
    per_person = (time.perf_counter() - start) / (frames * n_people)
    tracker = Tracker(spec)
    start = time.perf_counter()
    for k in range(frames):
        for p in people:
            p.pose_class = None
            p.keypoints[:, 0] += 1.0 * (p.keypoints[:, 2] > 0)
        tracker.update(people, k / 30)
    per_frame = (time.perf_counter() - start) / frames
    print(f"classify: {per_person * 1e6:.0f} us per person; "
          f"Tracker.update (classify included): {per_frame * 1e3:.2f} ms per frame "
          f"with {n_people} people, {frames} frames")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
