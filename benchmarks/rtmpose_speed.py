"""Per-frame time of the top-down RTMPose pipeline (YOLOX-tiny detector + RTMPose-s/m,
exact architectures, random weights) at 640x480 with 1, 3 and 10 people, on every engine
of this install, beside OpenPose COCO on the same frame (the project's full-size random
weights, auto engine), with the CPU model and flags.

What one frame costs here: the letterbox and detector forward (every frame, or every 5th
as MMPose's pipeline figures and rtmlib's PoseTracker do), the crops of all people warped
and normalised in one batch, the pose forward, SimCC decoding and the warp back. The
detector graph stops before mmdeploy's decode + NMS (cheap next to its convolutions; see
pose/families/rtmpose/yolox_architecture.py). Timing-based, minutes: not in the test suite.

    python -m benchmarks.rtmpose_speed [--rounds 15] [--no-openpose]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
FRAME_HW = (480, 640)
PEOPLE = (1, 3, 10)
DETECT_EVERY = 5


def _frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, FRAME_HW + (3,), np.uint8)


def _boxes(n: int) -> np.ndarray:
    """n person-sized boxes spread over the frame (5 across, 2 rows)."""
    out = []
    for i in range(n):
        x, y = 20 + (i % 5) * 120, 20 + (i // 5 % 2) * 220
        out.append((x, y, x + 100, y + 220))
    return np.array(out, np.float64)


def _median(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up (first-run allocations, OpenVINO's lazy init)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def time_topdown(rounds: int) -> List[Dict]:
    from pose.families.rtmpose.architecture import cached_model
    from pose.families.rtmpose.detector import letterbox
    from pose.families.rtmpose.processing import decode_simcc, keypoints_in_frame, pose_blob, rois_from_boxes
    from pose.families.rtmpose.runtime import Runner, RuntimeRefused, available_engines
    from pose.families.rtmpose.yolox_architecture import cached_yolox

    det_path = cached_yolox("yolox-tiny", CACHE)
    frame = _frame()
    rows = []
    routes = [(e, "f32") for e in available_engines()]
    if "openvino" in available_engines():
        routes.insert(1, ("openvino", "auto"))
    for size in ("s", "m"):
        pose_path = cached_model(size, CACHE)
        for engine, precision in routes:
            try:
                det = Runner(det_path, engine, precision=precision)
                pose = Runner(pose_path, engine, precision=precision)
            except RuntimeRefused as exc:
                rows.append({"model": f"rtmpose-{size}", "engine": engine, "refused": str(exc)})
                continue

            def detect():
                canvas, _ = letterbox(frame, (416, 416))
                det.run(np.ascontiguousarray(canvas.astype(np.float32).transpose(2, 0, 1)[None]))

            t_det = _median(detect, rounds)
            for n in PEOPLE:
                boxes = _boxes(n)

                def estimate():
                    rois = rois_from_boxes(boxes, (192, 256))
                    sx, sy = pose.run(pose_blob(frame, rois, (192, 256)))
                    locs, scores = decode_simcc(sx, sy)
                    keypoints_in_frame(locs, scores, rois, (192, 256))

                t_pose = _median(estimate, rounds)
                rows.append({"model": f"rtmpose-{size}", "engine": f"{engine} {precision}", "people": n,
                             "detector": t_det, "pose": t_pose, "every": t_det + t_pose,
                             "every5": t_det / DETECT_EVERY + t_pose})
    return rows


def time_openpose(rounds: int) -> Dict:
    from benchmarks.bench_speed import full_size_weights
    from pose.families.openpose.estimator import PoseEstimator
    est = PoseEstimator("COCO", weights=full_size_weights(), net_resolution="-1x368")
    frame = _frame()
    return {"engine": est.engine_label, "frame": _median(lambda: est(frame), rounds)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-openpose", action="store_true")
    args = parser.parse_args()
    import os

    import cv2

    from benchmarks.bench_speed import machine
    # the cores may be shared: the load beside the figures says how much they were
    print(f"machine: {machine()}; OpenCV {cv2.__version__}; load average {os.getloadavg()[0]:.2f} at start")
    openpose = None if args.no_openpose else time_openpose(max(3, args.rounds // 5))
    rows = time_topdown(args.rounds)
    print("| model | engine | people | detector ms | pose ms | frame ms, detect every frame | fps | "
          f"frame ms, detect every {DETECT_EVERY}th | fps |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if "refused" in r:
            print(f"| {r['model']} | {r['engine']} | refused: {r['refused']} |")
            continue
        print(f"| {r['model']} | {r['engine']} | {r['people']} | {r['detector'] * 1e3:.1f} | {r['pose'] * 1e3:.1f} | "
              f"{r['every'] * 1e3:.1f} | {1 / r['every']:.1f} | {r['every5'] * 1e3:.1f} | {1 / r['every5']:.1f} |")
    if openpose:
        print(f"\nOpenPose COCO, 640x480 frame at -1x368 (net + decode), {openpose['engine']}: "
              f"{openpose['frame'] * 1e3:.0f} ms, {1 / openpose['frame']:.2f} fps")
        for key, what in (("every", "detector every frame"), ("every5", f"detector every {DETECT_EVERY}th frame")):
            best: Dict[int, float] = {}
            for r in rows:
                if "refused" not in r and r["model"] == "rtmpose-s":
                    best[r["people"]] = min(best.get(r["people"], 1e9), r[key])
            for n, t in sorted(best.items()):
                print(f"rtmpose-s + YOLOX-tiny, {n} people, fastest engine, {what}: {1 / t:.1f} fps, "
                      f"{openpose['frame'] / t:.1f}x OpenPose COCO's frames/s")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
