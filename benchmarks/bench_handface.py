"""Hands and faces: the full-size networks load, and what each person costs, per engine.

Not part of the test suite (minutes, and timing-based). In one run it:
- writes random weights of the exact hand and face architectures (the real ones are
  never downloadable here; ~147 and ~154 MB) and of COCO's body network (the yardstick,
  shared with bench_speed), cached in the git-ignored benchmarks/.cache/, their
  converted ONNX beside them;
- for every engine this install runs on the CPU (pose.runtime.available) at f32, and
  OpenVINO also at bf16 and f16, one route at a time: loads the hand and face networks
  ONCE through HandFaceEstimator, as the tools do, checks that a 368x368 crop gives
  OpenPose's output layout (22 / 71 channels at 46x46, finite), and loads the COCO body
  network on the same route;
- times, in interleaved rounds (each item once per round, the order rotating, so load
  from other processes hits every item alike): the body network on a 368x368 frame; one
  hand crop and one face crop; batches of 2 and 4 hand crops; the whole per-person step
  (boxes, crops, both hands in one batch, the face, peaks) on a 640x480 frame with 2
  people, at 368x368 crops; then that step and the body network again at 256x256 crops
  (each crop size in rounds of its own, as a run keeps one); and, alone, the host-side
  part of the step (boxes, crops, peaks);
- reports medians, in seconds and in body frames (the ratio is what carries over to
  another machine, or to this one under another load), and writes
  benchmarks/RESULTS_handface.md.

    python -m benchmarks.bench_handface [--rounds 3] [--route openvino:bf16 ...]

Precisions on the CPU: onnxruntime, caffe and onnx (cv2.dnn) compute in f32 only;
OpenVINO also in bf16 (native on CPUs with AMX or AVX512-BF16) and f16. The GPU routes
(--device gpu) need a GPU this machine does not have.
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import cv2
import numpy as np

from benchmarks.common import CACHE, ROOT, full_size_weights, machine
from pose.families.openpose.crops import crop_affines, crop_batch, face_boxes, hand_boxes
from pose.families.openpose.estimator import PoseEstimator
from pose.families.openpose.handface import HandFaceEstimator
from pose.families.openpose.net.architecture import build_layers, cost
from pose.families.openpose.parts import keypoints_from_maps
from pose.families.openpose.spec import MODELS, PARTS
from pose.runtime import select as engines
from tests.support import skeletons
from tests.support.random_weights import write_random_caffemodel

RESULTS = ROOT / "benchmarks" / "RESULTS_handface.md"
SIDE = 368
COCO = MODELS["COCO"]
BODY = "body frame 368x368"
# Timed per crop size in phases of their own: an engine with free input shapes pays for
# every change of size, which a run (one --hand_net_resolution) never makes.
PHASES = {368: (BODY, "hand crop", "face crop", "2 hand crops, one batch", "4 hand crops, one batch",
                "per person, 368 crops"),
          256: (BODY, "per person, 256 crops")}
ITEMS = PHASES[368] + PHASES[256][1:]


def weights_for(name: str) -> Path:
    """Full-size random weights of the hand or face net, written once and cached."""
    path = CACHE / f"random_{name.lower()}_full.caffemodel"
    if not path.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        write_random_caffemodel(path, build_layers(PARTS[name]), seed=0)
    return path


def frame_and_people():
    """A 640x480 photo and two people whose hands and faces all get boxes."""
    photo = cv2.imread(str(ROOT / "Input" / "example_image1.png"))
    image = cv2.resize(photo, (640, 480), interpolation=cv2.INTER_AREA)
    people = [skeletons.make(COCO, at=(200, 120), scale=1.3, **skeletons.HELLO_RIGHT),
              skeletons.make(COCO, at=(450, 130), scale=1.2, **skeletons.STOP)]
    return image, people


def routes() -> List[str]:
    """engine:precision of every CPU route this install has."""
    names = [f"{engine}:f32" for engine in engines.available()]
    return names + ([f"openvino:{p}" for p in ("bf16", "f16")] if "openvino" in engines.available() else [])


def load_route(route: str, hand_w: Path, face_w: Path, body_w: Path) -> Dict[str, object]:
    """Both part networks and the body network on `route` (engine:precision), each loaded once."""
    engine, precision = route.split(":")
    t0 = time.perf_counter()
    parts = HandFaceEstimator(COCO, engine=engine, precision=precision, hand_weights=hand_w, face_weights=face_w)
    load = time.perf_counter() - t0
    body = PoseEstimator("COCO", weights=body_w, engine=engine, precision=precision, net_resolution=f"{SIDE}x{SIDE}")
    rng = np.random.default_rng(0)
    crops = rng.uniform(-0.5, 0.5, (4, 3, SIDE, SIDE)).astype(np.float32)
    layouts = {}
    for name, net in (("hand", parts.hand), ("face", parts.face)):
        out = net.net.forward(crops[:1])
        ok = out.shape == (1, net.spec.n_channels, SIDE // 8, SIDE // 8) and np.isfinite(out).all()
        layouts[name] = f"{tuple(out.shape)} {'OK' if ok else 'WRONG'}"
    image, people = frame_and_people()
    person = lambda: parts(image, people)  # noqa: E731
    run = {BODY: lambda: body.net.forward(crops[:1]),
           "hand crop": lambda: parts.hand.net.forward(crops[:1]),
           "face crop": lambda: parts.face.net.forward(crops[:1]),
           "2 hand crops, one batch": lambda: parts.hand.net.forward(crops[:2]),
           "4 hand crops, one batch": lambda: parts.hand.net.forward(crops),
           "per person, 368 crops": person, "per person, 256 crops": person}
    return {"engine": route, "label": parts.hand.net.label, "load_s": load, "layouts": layouts, "run": run,
            "parts": parts, "people": len(people), "times": {}, "host_ms": host_ms(parts, image, people)}


def host_ms(parts: HandFaceEstimator, image: np.ndarray, people: list) -> float:
    """Milliseconds per person of what runs beside the networks: boxes, crops and peaks on
    the maps this route's networks give (its networks' time left out)."""
    body = np.array([p.keypoints for p in people])
    work = []
    for net, boxes, mirror in ((parts.hand, hand_boxes(body, COCO).reshape(-1, 3), np.tile([True, False], len(people))),
                               (parts.face, face_boxes(body, COCO), None)):
        affines = crop_affines(boxes, net.side, mirror)
        maps = net.net.forward(crop_batch(image, affines, net.side))
        work.append((net, boxes, mirror, maps))

    def host():
        for net, boxes, mirror, maps in work:
            affines = crop_affines(boxes, net.side, mirror)
            crop_batch(image, affines, net.side)
            keypoints_from_maps(maps, affines, net.threshold)
    host()
    return 1000 * statistics.median(timed(host) for _ in range(5)) / len(people)


def timed(run: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def interleave(e: Dict[str, object], rounds: int) -> None:
    """Each phase's items once per round, the order rotating; the body network in every phase."""
    for side, items in PHASES.items():
        e["parts"].hand.side = e["parts"].face.side = side
        for item in items:
            e["run"][item]()  # warm-up: first calls at a size allocate (and compile, OpenVINO)
        for r in range(rounds):
            shift = r % len(items)
            for item in items[shift:] + items[:shift]:
                e["times"].setdefault((side, item), []).append(timed(e["run"][item]))
        print(f"{e['engine']}: {side}x{side} crops, {rounds} rounds done", flush=True)


def per_unit(e: Dict[str, object], item: str, side: int = 368) -> float:
    """Median seconds per crop (batches) or per person (the whole step)."""
    t = statistics.median(e["times"][(side, item)])
    if item.startswith(("2 ", "4 ")):
        return t / int(item[0])
    if item.startswith("per person"):
        return t / e["people"]
    return t


def report(loaded: List[Dict[str, object]], rounds: int, load: tuple) -> str:
    work = {"body": cost(build_layers(COCO), SIDE)[1], "hand": cost(build_layers(PARTS["HAND"]), SIDE)[1],
            "face": cost(build_layers(PARTS["FACE"]), SIDE)[1],
            "hand256": cost(build_layers(PARTS["HAND"]), 256)[1], "face256": cost(build_layers(PARTS["FACE"]), 256)[1]}
    person = {368: 2 * work["hand"] + work["face"], 256: 2 * work["hand256"] + work["face256"]}
    lines = [
        "# Hands and faces: per-person cost",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()}, OpenCV {cv2.__version__}: full-size hand, "
        f"face and COCO body networks with random weights of the exact architectures, {rounds} interleaved "
        f"rounds per route (its items and the body network), medians. Other processes shared the cores "
        f"(load average {load[0]:.1f} at the start, "
        f"{load[1]:.1f} at the end): the seconds are inflated by that load; the ratios to the body frame, "
        "measured in the same rounds, are what to compare.",
        "",
        f"Work (GFLOP): body frame 368x368 {work['body']:.0f}; hand crop {work['hand']:.0f} at 368x368, "
        f"{work['hand256']:.0f} at 256x256; face crop {work['face']:.0f} / {work['face256']:.0f}; a person "
        f"with both hands and the face {person[368]:.0f} at 368x368 crops ({person[368] / work['body']:.2f} body "
        f"frames), {person[256]:.0f} at 256x256 ({person[256] / work['body']:.2f}).",
        "",
        "| route | load hand + face, s | " + " | ".join(ITEMS) + " | boxes, crops, peaks per person |",
        "|---" * (len(ITEMS) + 3) + "|",
    ]
    for e in loaded:
        cells = []
        for item in ITEMS:
            side = 256 if item in PHASES[256][1:] else 368
            t, body = per_unit(e, item, side), per_unit(e, BODY, side)
            cells.append(f"{t:.2f} s" + ("" if item == BODY else f" ({t / body:.2f})"))
        lines.append(f"| {e['label']} | {e['load_s']:.1f} | " + " | ".join(cells) + f" | {e['host_ms']:.0f} ms |")
    lines += [
        "",
        "In brackets: the same time in body frames (timed in the same rounds; the 256x256 rounds have their "
        "own). Batches: seconds per crop. Per person: one run of HandFaceEstimator on a 640x480 frame with "
        "2 people (4 hand crops in one batch, then 2 face crops), boxes, cropping and peak finding included, "
        "divided by 2; the last column is that host-side part alone, at 368x368.",
        "",
        "Output layouts of a 368x368 crop: " + "; ".join(
            f"{e['engine']}: hand {e['layouts']['hand']}, face {e['layouts']['face']}" for e in loaded) + ".",
        "",
        "Reproduce: `python -m benchmarks.bench_handface` (about 500 MB of random weights go to the git-ignored "
        "benchmarks/.cache/).",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median)")
    parser.add_argument("--route", action="append", metavar="ENGINE:PRECISION",
                        help="only this route, e.g. openvino:bf16; repeatable (default: every CPU route)")
    args = parser.parse_args()
    hand_w, face_w, body_w = weights_for("HAND"), weights_for("FACE"), full_size_weights()
    print(f"weights: {hand_w.stat().st_size:,} B (hand), {face_w.stat().st_size:,} B (face)", flush=True)
    start_load = os.getloadavg()[0]
    loaded = []
    for route in args.route or routes():
        # One route in memory at a time (each holds ~0.5 GB of weights three times over);
        # its items share rounds with its own body-network yardstick.
        current = load_route(route, hand_w, face_w, body_w)
        print(f"{current['label']}: loaded in {current['load_s']:.1f} s, {current['layouts']}", flush=True)
        interleave(current, args.rounds)
        current.pop("run"), current.pop("parts")
        loaded.append(current)
    text = report(loaded, args.rounds, (start_load, os.getloadavg()[0]))
    RESULTS.write_text(text)
    print(text)
    return 0 if all("OK" in v for e in loaded for v in e["layouts"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
