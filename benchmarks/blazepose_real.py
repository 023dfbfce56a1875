"""BlazePose's real landmarks through the project's classification rules, and its video
mode on the seed's videos.

Photos: ../shared/media/seed-inputs; each person's 33 landmarks (confidence = BlazePose's
visibility) go through pose.analysis.classify with the BlazePose-33 layout's semantic
joints (neck and mid-hip derived from the shoulders and hips), as the tools classify them;
EXPECTED says what a person sees in each photo (gesture in
the rules' words: hello = one arm raised, stop = both raised; posture), people listed left
to right. Videos: track() over every frame: how often the detector ran, frames without a
person, people per frame, ms per frame.

    python -m benchmarks.blazepose_real [--min-detection-score 0.3]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from pose.analysis.classify import classify
from pose.families.blazepose import MODEL, BlazePose, weights

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "seed-inputs"
# photo -> [(gesture, posture, what a person sees)], people left to right
EXPECTED: Dict[str, List[Tuple[str, str, str]]] = {
    "example_image1.png": [("hello", "standing", "right hand above her head, holding a board on her shoulder")],
    "example_image2.png": [("none", "standing", "arms stretched out sideways, balancing")],
    "example_image3.png": [("none", "standing", "on a balance board, arms low and out")],
    "example_image4.png": [("none", "standing", "hands on hips, one foot on a board")],
    "example_image5.png": [("stop", "standing", "back view, both arms up holding dumbbells")],
    "example_image6.png": [("hello", "standing", "left hand up at shoulder height (V sign), board in the other; legs cut")],
    "example_image7.png": [("none", "standing", "on a balance board, arms out sideways")],
    "example_image8.png": [("hello", "standing", "right arm straight up, left hand on a board")],
    "example_image9.png": [("hello", "standing", "on a balance board, left arm bent up above the head, right arm out")],
    "multiple_person.jpeg": [("hello", "standing", "right arm up holding a sign, bag in the other hand"),
                             ("hello", "standing", "man, right arm up holding a sign"),
                             ("hello", "standing", "woman in grey, right arm up holding a sign"),
                             ("stop", "standing", "both arms up holding a sign")],
    "single_person.jpeg": [("none", "standing", "walking on a tennis court, arms down")],
}


def photos(est: BlazePose) -> None:
    print("| photo | person (left to right) | seen | expected | rules say (confidence) | right? |")
    print("|---|---|---|---|---|---|")
    right = total = 0
    for name, expected in EXPECTED.items():
        people = sorted(est.estimate(cv2.imread(str(MEDIA / name))), key=lambda p: float(np.median(p.keypoints[:, 0])))
        for i, (gesture, posture, seen) in enumerate(expected):
            got = "not found"
            ok = "no (not found)"
            if i < len(people) and len(people) == len(expected):
                pc = classify(people[i], MODEL)
                got = f"{pc.gesture} ({pc.gesture_confidence:.2f}), {pc.posture} ({pc.posture_confidence:.2f})"
                wrong = [what for what, a, b in (("gesture", pc.gesture, gesture), ("posture", pc.posture, posture)) if a != b]
                right += 2 - len(wrong)
                ok = f"no ({' and '.join(wrong)} wrong)" if wrong else "yes"
            elif i == 0 and len(people) != len(expected):
                got = f"{len(people)} of {len(expected)} people found"
            total += 2
            print(f"| {name} | {i + 1} | {seen} | {gesture}, {posture} | {got} | {ok} |")
    print(f"\n{right} of {total} labels right (gesture and posture counted apart).")


def videos(est: BlazePose, limit: Optional[int]) -> None:
    print("\n| video | frames | detector runs | frames without a person | people per frame (median) | ms per frame (median) |")
    print("|---|---|---|---|---|---|")
    for path in sorted(MEDIA.glob("*.mp4")):
        capture = cv2.VideoCapture(str(path))
        est.reset()
        est.detector_calls = 0
        frames, empty, counts, times = 0, 0, [], []
        while limit is None or frames < limit:
            ok, frame = capture.read()
            if not ok:
                break
            start = time.perf_counter()
            people = est.track(frame)
            times.append(time.perf_counter() - start)
            frames += 1
            empty += not people
            counts.append(len(people))
        print(f"| {path.name} | {frames} | {est.detector_calls} | {empty} | {np.median(counts):.0f} | "
              f"{np.median(times) * 1000:.1f} |")


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--min-detection-score", type=float, default=0.5)
    ap.add_argument("--frames", type=int, default=None, help="at most this many frames per video")
    args = ap.parse_args(argv)
    weights.ensure(args.models)
    from pose.runtime import cpu

    print(f"CPU: {cpu.describe()}; detector min score {args.min_detection_score}\n")
    est = BlazePose(args.models, min_detection_confidence=args.min_detection_score)
    photos(est)
    videos(est, args.frames)


if __name__ == "__main__":
    main()
