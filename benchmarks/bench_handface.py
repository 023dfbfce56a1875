"""Hands and faces: the full-size networks load, and what each person costs, per engine.

Not part of the test suite (minutes, and timing-based). In one run it:
- writes random weights of the exact hand and face architectures (the real ones are
  never downloadable here; ~147 and ~154 MB, cached in the git-ignored
  benchmarks/.cache/, their converted ONNX beside them);
- for every engine this install runs (pose.engine.available), loads the hand and face
  networks ONCE through HandFaceEstimator, as the tools do, and checks that a 368x368
  crop gives OpenPose's output layout (22 / 71 channels at 46x46, finite);
- times, on the loaded networks: one crop (batch 1); batches of 2 and 8 crops (per
  crop); and the whole per-person step (boxes, crops, both hands in one batch, the face,
  peaks) on a 640x480 frame with 2 people, at 368x368 and 256x256 crops;
- writes the tables to benchmarks/RESULTS_handface.md.

Each figure is given twice: wall seconds, and CPU seconds (all threads of this process).
On a machine shared with other jobs the wall time grows with their load while the CPU
time stays close to the work done; on an idle machine, wall = CPU / cores at best.

    python -m benchmarks.bench_handface [--repeat 3] [--engine onnxruntime ...]

Precision: on the CPU every engine computes in float32; the FP16 placements are CUDA
and OpenCL targets (--device gpu/opencl), which this machine does not have.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np

from pose.engine import select as engines
from pose.handface import HandFaceEstimator
from pose.model.architecture import build_layers
from pose.spec import MODELS, PARTS
from tests.support import skeletons
from tests.support.random_weights import write_random_caffemodel

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
RESULTS = ROOT / "benchmarks" / "RESULTS_handface.md"
SIDE = 368
COCO = MODELS["COCO"]


def weights_for(name: str) -> Path:
    """Full-size random weights of the hand or face net, written once and cached."""
    path = CACHE / f"random_{name.lower()}_full.caffemodel"
    if not path.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        write_random_caffemodel(path, build_layers(PARTS[name]), seed=0)
    return path


def median_seconds(run: Callable[[], object], repeat: int) -> Tuple[float, float]:
    """Median (wall, CPU) seconds of `repeat` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _per(pair: Tuple[float, float], n: int) -> Tuple[float, float]:
    return pair[0] / n, pair[1] / n


def frame_and_people():
    """A 640x480 photo and two people whose hands and faces all get boxes."""
    photo = cv2.imread(str(ROOT / "Input" / "example_image1.png"))
    image = cv2.resize(photo, (640, 480), interpolation=cv2.INTER_AREA)
    people = [skeletons.make(COCO, at=(200, 120), scale=1.3, **skeletons.HELLO_RIGHT),
              skeletons.make(COCO, at=(450, 130), scale=1.2, **skeletons.STOP)]
    return image, people


def bench_engine(engine: str, repeat: int, hand_w: Path, face_w: Path) -> Dict[str, object]:
    t0 = time.perf_counter()
    est = HandFaceEstimator(COCO, engine=engine, hand_weights=hand_w, face_weights=face_w)
    load = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    crops = rng.uniform(-0.5, 0.5, (8, 3, SIDE, SIDE)).astype(np.float32)
    row: Dict[str, object] = {"engine": engine, "label": est.hand.net.label, "load_s": load}
    for name, net in (("hand", est.hand), ("face", est.face)):
        out = net.net.forward(crops[:1])
        ok = out.shape == (1, net.spec.n_channels, SIDE // 8, SIDE // 8) and np.isfinite(out).all()
        row[f"{name}_layout"] = f"{tuple(out.shape)} {'OK' if ok else 'WRONG'}"
        row[f"{name}_1"] = median_seconds(lambda: net.net.forward(crops[:1]), repeat)
    row["hand_2"] = _per(median_seconds(lambda: est.hand.net.forward(crops[:2]), repeat), 2)
    row["hand_8"] = _per(median_seconds(lambda: est.hand.net.forward(crops), max(1, repeat // 2)), 8)
    image, people = frame_and_people()
    for side in (368, 256):
        est.hand.side = est.face.side = side
        est(image, people)  # warm-up: first calls at a new size allocate
        row[f"person_{side}"] = _per(median_seconds(lambda: est(image, people), repeat), len(people))
    row["crops_per_person"] = (est.hand.crops + est.face.crops) / ((1 + repeat) * 2 * len(people))
    return row


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(rows: List[Dict[str, object]], repeat: int, load: tuple) -> str:
    now = datetime.date.today().isoformat()
    lines = [
        "# Hands and faces: per-person cost",
        "",
        f"Measured {now} on {cpu_name()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, OpenCV {cv2.__version__}: "
        f"full-size hand and face networks with random weights of the exact architecture, "
        f"median of {repeat} runs. Other processes shared the cores (load average "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end): compare rows of one run.",
        "",
        "Seconds as wall / CPU (CPU: every thread of the process; see the script's docstring).",
        "",
        "| engine | load both nets, wall s | hand crop | face crop | hand, per crop in a batch of 2 | of 8 | "
        "per person, 368 crops | per person, 256 crops |",
        "|---|---|---|---|---|---|---|---|",
    ]
    pair = lambda v: f"{v[0]:.2f} / {v[1]:.2f}"  # noqa: E731
    for r in rows:
        lines.append(f"| {r['label']} | {r['load_s']:.1f} | {pair(r['hand_1'])} | {pair(r['face_1'])} | "
                     f"{pair(r['hand_2'])} | {pair(r['hand_8'])} | {pair(r['person_368'])} | {pair(r['person_256'])} |")
    lines += ["", "Output layouts of a 368x368 crop: " + "; ".join(
        f"{r['engine']}: hand {r['hand_layout']}, face {r['face_layout']}" for r in rows),
        "",
        "Per person = one run of HandFaceEstimator on a 640x480 frame with 2 people, divided by 2:"
        f" {rows[0]['crops_per_person']:.0f} crops per person (2 hands in one batch, the face), "
        "boxes, cropping and peak finding included.",
        "",
        "Reproduce: `python -m benchmarks.bench_handface` (about 200 MB of random weights go to "
        "the git-ignored benchmarks/.cache/)."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--engine", action="append", choices=list(engines.ENGINES[1:]),
                        help="only this engine; repeatable (default: every one available)")
    args = parser.parse_args()
    names = args.engine or engines.available()
    hand_w, face_w = weights_for("HAND"), weights_for("FACE")
    print(f"weights: {hand_w.stat().st_size:,} B (hand), {face_w.stat().st_size:,} B (face)", flush=True)
    start_load = os.getloadavg()[0]
    rows = []
    for engine in names:
        row = bench_engine(engine, args.repeat, hand_w, face_w)
        print(row, flush=True)
        rows.append(row)
    text = report(rows, args.repeat, (start_load, os.getloadavg()[0]))
    RESULTS.write_text(text)
    print(text)
    return 0 if all("OK" in r["hand_layout"] and "OK" in r["face_layout"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
