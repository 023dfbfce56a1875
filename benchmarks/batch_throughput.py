"""Videos per hour of get_hpe_video.py on a batch of short clips, by number of workers,
and what the batch costs over the bare network.

    python -m benchmarks.batch_throughput                     # 20 clips of 2-10 s, workers 1 and 2
    python -m benchmarks.batch_throughput --repeat 3 --ray    # also on a new local Ray

Not part of the test suite (minutes, and timing-based). It writes the clips (a camera pan
over the example photo, seeded lengths), then, in interleaved rounds so that load from
other processes hits every configuration alike:
- **network alone**: every frame of every clip through the tool's own estimator
  (`make_estimator` on the same options, all cores), timed frame by frame and summed:
  the "sum of the clips' network time";
- **batch, N workers**: the tool itself as users run it, on the whole folder, timed end
  to end (Python start, model loading, every output written, manifest included);
- **Ray** (with --ray): the same with `--ray --workers N` on a new local Ray, whose
  start is timed too.
It reports medians and the load average (os.getloadavg) before each round.

Full-size random COCO weights (~200 MB, cached under benchmarks/.cache/ like
bench_speed) at a small net resolution stand for the real network; --narrow uses the
tests' 1/8-width nets instead (seconds, but then the network is too cheap for the
per-frame work around it to hide behind). Random weights make hundreds of heatmap peaks,
so the tool runs with --threshold 0.6, as bench_speed does.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from benchmarks.common import VIDEO_THRESHOLD, full_size_weights, machine
from pose.families.openpose.spec import MODELS
from tests.support.cli_tools import ROOT, make_video, model_args
from tests.support.nets import write_model

TOOL = ROOT / "get_hpe_video.py"


def make_clips(folder: Path, n: int, shortest: float, longest: float, fps: float, size: str) -> List[int]:
    """n clips of seeded lengths in [shortest, longest] seconds; returns their frame counts."""
    w, h = (int(v) for v in size.split("x"))
    lengths = np.random.default_rng(0).uniform(shortest, longest, n)
    folder.mkdir(parents=True, exist_ok=True)
    frames = [max(1, int(round(s * fps))) for s in lengths]
    for k, count in enumerate(frames):
        make_video(folder / f"clip{k:02d}.mp4", frames=count, size=(w, h), fps=fps)
    return frames


def network_alone(argv: List[str], clips: Optional[Path]) -> Dict[str, float]:
    """Worker side of --network-alone: the tool's estimator on every frame, timed (no
    clips: only load it, which converts the weights to ONNX once)."""
    import cv2

    from pose.cli import make_estimator, parse_args
    estimator = make_estimator(parse_args("video", argv))
    total, frames = 0.0, 0
    for path in sorted(clips.glob("*.mp4")) if clips else []:
        capture = cv2.VideoCapture(str(path))
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            t0 = time.perf_counter()
            estimator.infer(frame)
            total += time.perf_counter() - t0
            frames += 1
        capture.release()
    return {"seconds": total, "frames": frames}


def run_network(model: List[str], clips: Optional[Path]) -> Dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.batch_throughput", "--network-alone", str(clips or ""),
                          "--", *model], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_batch(model: List[str], clips: Path, workers: int, ray: bool) -> Dict[str, float]:
    out_dir = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    cmd = [sys.executable, str(TOOL), "--video_file", str(clips), "--output_dir", str(out_dir), "--quiet",
           "--workers", str(workers), *model] + (["--ray"] if ray else [])
    t0 = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    try:
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr.strip()[-2000:]}")
        summary = result.stdout.strip().splitlines()[-1]
        records = [json.loads(line) for line in (out_dir / "videos" / "COCO" / "manifest.jsonl").read_text().splitlines()]
        return {"wall": wall, "batch_wall": float(re.search(r"; ([\d.]+) s wall", summary).group(1)),
                "inference": sum(r["inference_s"] for r in records), "videos": len(records),
                "frames": sum(r["frames"] for r in records)}
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clips", type=int, default=20)
    p.add_argument("--seconds", default="2,10", help="shortest,longest clip in seconds (default 2,10)")
    p.add_argument("--fps", type=float, default=10.0)
    p.add_argument("--size", default="160x120", help="frame size WxH (default 160x120)")
    p.add_argument("--net_resolution", default="-1x96")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--narrow", action="store_true", help="1/8-width random nets instead of full-size ones")
    p.add_argument("--ray", action="store_true", help="also run on a new local Ray (needs requirements-ray.txt)")
    p.add_argument("--ray_workers", default=None, help="workers for the Ray runs (default: as --workers)")
    p.add_argument("--network-alone", metavar="CLIPS", help=argparse.SUPPRESS)
    args, rest = p.parse_known_args()
    if args.network_alone is not None:
        clips = Path(args.network_alone) if args.network_alone else None
        print(json.dumps(network_alone([a for a in rest if a != "--"], clips)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="batch-bench-clips-"))
    if args.narrow:
        model = model_args(*write_model(work / "model", MODELS["COCO"]))
        net = "COCO, 1/8-width random weights"
    else:
        model = ["--weights", str(full_size_weights())]
        net = "COCO, full-size random weights"
    model += ["--net_resolution", args.net_resolution, "--threshold", str(VIDEO_THRESHOLD)]
    shortest, longest = (float(v) for v in args.seconds.split(","))
    frames = make_clips(work / "clips", args.clips, shortest, longest, args.fps, args.size)
    configs = [("network alone", None)] + [(f"batch, --workers {n}", n) for n in map(int, args.workers.split(","))]
    if args.ray:
        configs += [(f"Ray, --workers {n}", -n) for n in map(int, (args.ray_workers or args.workers).split(","))]
    print(f"{machine()}; {os.cpu_count()} cores; {net} at --net_resolution {args.net_resolution}; "
          f"{args.clips} clips of {shortest:g}-{longest:g} s at {args.fps:g} fps, {args.size}: {sum(frames)} frames",
          flush=True)
    results: Dict[str, List[Dict[str, float]]] = {name: [] for name, _ in configs}
    loads = []
    try:
        run_network(model, None)  # converts the weights to ONNX once, untimed
        for r in range(args.repeat):
            loads.append(os.getloadavg()[0])
            for name, n in configs[r % len(configs):] + configs[:r % len(configs)]:  # rotate the order
                if n is None:
                    res = run_network(model, work / "clips")
                else:
                    res = run_batch(model, work / "clips", abs(n), ray=n < 0)
                results[name].append(res)
                print(f"round {r + 1}, {name}: {json.dumps({k: round(v, 2) for k, v in res.items()})}, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    net_s = statistics.median(x["seconds"] for x in results["network alone"])
    print(f"\nmedians of {args.repeat} rounds; 1-minute load average before each round: "
          f"{', '.join(f'{v:.1f}' for v in loads)}")
    print(f"network alone, all cores, summed over {sum(frames)} frames: {net_s:.1f} s")
    # The last column compares each run with the network time measured inside it (summed
    # over its workers): the same conditions, so it holds up when the load drifts between runs.
    print("| run | wall s (end to end) | videos per hour | over the network alone | batch's own wall s | "
          "workers x wall over the run's own network time |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, n in configs[1:]:
        wall = statistics.median(x["wall"] for x in results[name])
        own = statistics.median(x["batch_wall"] for x in results[name])
        inside = statistics.median(abs(n) * x["wall"] / x["inference"] - 1 for x in results[name])
        print(f"| {name} | {wall:.1f} | {3600 * args.clips / wall:.0f} | {100 * (wall / net_s - 1):+.1f}% | {own:.1f} "
              f"| {100 * inside:+.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
