"""MediaPipe's own BlazePose on a list of images, for benchmarks/blazepose_accuracy.py.

Runs in a separate environment with `mediapipe==0.10.21` (never a dependency of the
package): reads image paths from argv, writes one JSON object to stdout: for each image the
33 landmarks in pixels (x, y, visibility, presence) or null, and the milliseconds per image.
Imports nothing from this project, so any Python with mediapipe runs it.
"""
from __future__ import annotations

import json
import sys
import time

import cv2
import mediapipe as mp
import numpy as np


def main(paths: list, repeats: int) -> dict:
    out = {"mediapipe": mp.__version__, "images": {}}
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        for path in paths:
            rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
            h, w = rgb.shape[:2]
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                result = pose.process(rgb)
                times.append((time.perf_counter() - start) * 1000)
            marks = None
            if result.pose_landmarks:
                marks = [[lm.x * w, lm.y * h, lm.visibility, lm.presence] for lm in result.pose_landmarks.landmark]
            out["images"][path] = {"landmarks": marks, "ms": float(np.median(times))}
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    repeats = 1
    if args and args[0].startswith("--repeats="):
        repeats, args = int(args[0].split("=", 1)[1]), args[1:]
    json.dump(main(args, repeats), sys.stdout)
