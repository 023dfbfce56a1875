"""Frames per second of the RTMPose family at 640x480 with 1, 3 and 10 people, beside
OpenPose COCO on the same frame, with the CPU model and flags and the load average.

What runs: the family's own estimator (pose.families.rtmpose.estimator.RTMPose, its video
mode `track`: the detector every Nth frame, boxes carried from the last keypoints between,
all of a frame's crops in one batch, SimCC decoding, the warp back) on the project's
runtime, with architecture-exact networks and random weights (no real weights can be
downloaded where this runs): RTMPose-s and -m 256x192 and the YOLOX-nano and YOLOX-tiny
detectors at 416x416. The random YOLOX graphs stop before mmdeploy's decode and NMS (cheap
next to their convolutions: pose/families/rtmpose/yolox_architecture.py), so the detector
here runs its network on the letterboxed frame and hands the estimator the benchmark's
boxes: N people of 100x220 pixels spread over the frame. Then the video tool itself
(pose.app.video.run_video: decoding, the estimator, tracking, classification, drawing,
JSON Lines and the mp4 written) on a 640x480 clip, for the default pipeline. OpenPose COCO,
on the same route as each RTMPose row (auto, and OpenVINO f32: what a CPU without AMX
runs): its network at -1x368 with full-size random weights, plus its decoding timed on
maps rendered from real annotations with the same number of people (random weights' maps
are noise that decodes into a hundred "people" in 265 ms: not what a trained net costs).
RTMO-s: its estimator (pose.families.rtmpose.rtmo.RTMO, one stage, no detector) on every
route, one row each (its cost does not depend on the people in the frame), on the
architecture-exact random graph of pose/families/rtmpose/rtmo_architecture.py with a TopK
of 50 anchors before the DCC (as mmdeploy's end2end.onnx runs the DCC on at most
keep_top_k = 50 boxes after its NMS); the numpy NMS of the estimator follows.
Timing-based, minutes: not in the test suite.

    python -m benchmarks.rtmpose_speed [--frames 10] [--rounds 5] [--no-openpose] [--quick]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
FRAME_HW = (480, 640)
PEOPLE = (1, 3, 10)
EVERY = (1, 5, 10)


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


class TimedDetector:
    """The detector's network on the letterboxed frame (Detector's pre-processing), then
    the benchmark's boxes: what a detector costs, whatever random weights find."""

    def __init__(self, path: Path, chosen, boxes: np.ndarray, threads: Optional[int] = None):
        from pose.families.rtmpose.network import open_file, signature
        self.path, self.signature = path, signature(path)
        self.input_hw = self.signature.input_hw
        self.engine = open_file(chosen, path, self.signature, threads)
        self.boxes, self.scores = boxes, np.full(len(boxes), 0.9)

    def detect(self, frame: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        from pose.families.rtmpose.detector import letterbox, planar
        canvas, _ = letterbox(frame, self.input_hw)
        self.engine.run({self.signature.input: planar(canvas)})
        return self.boxes.copy(), self.scores.copy()


def _estimator(pose_path: Path, det_path: Path, chosen, people: int, every: int):
    from pose.families.rtmpose.estimator import RTMPose
    est = RTMPose(pose_path, None, chosen, detect_every=every)
    est.detector = TimedDetector(det_path, chosen, _boxes(people))
    return est


def routes() -> List[Tuple[str, str]]:
    """(engine, precision): the auto route, OpenVINO in f32 (what a CPU without AMX runs),
    onnxruntime and cv2.dnn."""
    from pose.runtime import available, plan
    from pose.runtime.select import cpu_precision
    have = available("cpu")
    auto = plan("auto", "cpu", "auto")
    same = (auto.engine, cpu_precision(auto.precision) if auto.engine == "openvino" else "f32")
    out = [("auto", "auto")]
    # without AMX (or under ONEDNN_MAX_CPU_ISA) auto is OpenVINO f32 already: not timed twice
    out += [(e, "f32") for e in ("openvino", "onnxruntime", "onnx") if e in have and (e, "f32") != same]
    return out


def configs(quick: bool) -> List[Dict]:
    """What is timed: the defaults on every route; the other detector and rhythms on the
    auto and OpenVINO f32 routes; RTMPose-m (`human`) with the defaults on the auto route."""
    from pose.families.rtmpose import facts
    out = []
    main_routes = routes()[:2]
    for engine, precision in (main_routes if quick else routes()):
        for detector in ("yolox-nano", "yolox-tiny"):
            for every in EVERY:
                default = detector == facts.DEFAULT_DETECTOR and every == facts.DEFAULT_DETECT_EVERY
                if (engine, precision) in main_routes or default:
                    out += [{"model": "s", "engine": engine, "precision": precision, "detector": detector,
                             "every": every, "people": n} for n in PEOPLE]
    if not quick:
        out += [{"model": "m", "engine": "auto", "precision": "auto", "detector": facts.DEFAULT_DETECTOR,
                 "every": facts.DEFAULT_DETECT_EVERY, "people": n} for n in PEOPLE]
    return out


def time_pipelines(frames: int, rounds: int, quick: bool) -> List[Dict]:
    """Seconds per frame of video mode for every config: all loaded first, then timed in
    interleaved rounds (`frames` frames each, a whole number of detector cycles, the order
    rotating), so that load from other processes hits every config alike; the median round."""
    from pose.families.rtmpose.architecture import cached_model
    from pose.families.rtmpose.network import plan
    from pose.families.rtmpose.yolox_architecture import cached_yolox

    frame = _frame()
    rows = configs(quick)
    for row in rows:
        chosen = plan(row["engine"], "cpu", row["precision"])
        row["est"] = _estimator(cached_model(row["model"], CACHE), cached_yolox(row["detector"], CACHE), chosen,
                                row["people"], row["every"])
        row["label"] = row["est"].engine_label
        row["times"] = []
        for _ in range(2):
            row["est"].track(frame)  # warm-up: first-run allocations, OpenVINO's lazy init
    for k in range(rounds):
        order = rows[k % len(rows):] + rows[:k % len(rows)]
        for row in order:
            est = row["est"]
            est.track(frame)  # one frame untimed: this config's networks back in the caches
            est.reset()
            t = time.perf_counter()
            for _ in range(frames):
                est.track(frame)
            row["times"].append((time.perf_counter() - t) / frames)
    for row in rows:
        row["s"] = statistics.median(row.pop("times"))
        row.pop("est")
    return rows


def time_video_tool(pose_path: Path, det_path: Path, chosen, people: int, every: int, frames: int) -> Dict:
    """The video tool's loop (pose.app.video.run_video) on a 640x480 clip: frames per second of wall time."""
    import cv2

    from pose.app.video import VideoOptions, run_video
    from pose.io.inputs import open_video

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30, FRAME_HW[::-1])
        rng = np.random.default_rng(1)
        base = rng.integers(0, 256, FRAME_HW + (3,), np.uint8)
        for k in range(frames):
            writer.write(np.roll(base, 4 * k, axis=1))
        writer.release()
        est = _estimator(pose_path, det_path, chosen, people, every)
        out = Path(tmp) / "out"
        out.mkdir()
        options = VideoOptions(out_dir=out, write_json=True, classify=True, display=False, json_dir=None,
                               coco_json=None, keypoint_scale=0, progress=False)
        run_video(open_video(str(clip)), est, options)  # warm-up (and the codec's first start)
        source = open_video(str(clip))
        summary = run_video(source, est, options)
    return {"frames": summary.frames, "fps": summary.frames / summary.wall_s,
            "inference_ms": summary.inference_per_frame_ms}


def openpose_decode_ms(people: int, repeats: int = 5) -> Optional[float]:
    """OpenPose's decoding (peaks, PAF scoring, grouping) of a 640x480 frame at -1x368 on
    maps rendered from real annotations of `people` people (benchmarks.bench_decode's
    crowds): what decoding costs on a trained network's maps. Random weights' maps are
    noise with a hundred 'people' in them, and their decoding took 265 ms, twice the
    network: timing that would flatter every ratio. None without ../shared/annotations."""
    from benchmarks.bench_decode import decode_times
    from pose.families.openpose.preprocess import compute_geometry, parse_net_resolution
    from pose.families.openpose.spec import get_spec
    from tests.support.annotations import load_all
    from tests.support.crowd import people_pool

    spec = get_spec("COCO")
    try:
        pool = people_pool(load_all(), "COCO")
    except (OSError, ValueError):
        return None
    if not pool:
        return None
    geometry = compute_geometry(FRAME_HW[::-1], parse_net_resolution("-1x368"))
    times, _ = decode_times(pool, spec, geometry, FRAME_HW[::-1], people, repeats, 1)
    return statistics.median(times) * 1e3


def time_openpose(rounds: int, engine: str, precision: str) -> Dict:
    """OpenPose COCO on a 640x480 frame at -1x368 on one route: the network (median of
    `rounds`) plus, per people count, the decoding of realistic maps (openpose_decode_ms)."""
    from benchmarks.common import full_size_weights
    from pose.families.openpose.estimator import PoseEstimator
    est = PoseEstimator("COCO", weights=full_size_weights(), net_resolution="-1x368", engine=engine,
                        precision=precision)
    frame = _frame()
    est.infer(frame)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        est.infer(frame)
        times.append(time.perf_counter() - t)
    net = statistics.median(times)
    decode = {n: openpose_decode_ms(n) for n in PEOPLE}
    return {"engine": est.engine_label, "net": net,
            "frame": {n: net + (ms or 0.0) / 1e3 for n, ms in decode.items()}, "decode_ms": decode}


RTMO_TOP_K = 50  # mmdeploy's keep_top_k for RTMO (configs/mmpose/pose-detection_rtmo_*.py)


def time_rtmo(frames: int, rounds: int) -> List[Dict]:
    """Seconds per frame of the RTMO-s estimator on every route (median of `rounds` runs
    of `frames` frames), with how many people the random weights report (for the record:
    the network's cost is the same for any number)."""
    from pose.families.rtmpose.network import plan
    from pose.families.rtmpose.rtmo import RTMO
    from pose.families.rtmpose.rtmo_architecture import cached_rtmo

    frame = _frame()
    path = cached_rtmo("rtmo-s", CACHE, dcc_top_k=RTMO_TOP_K)
    rows = []
    for engine, precision in routes():
        est = RTMO(path, plan(engine, "cpu", precision))
        people = len(est(frame))  # also the warm-up
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            for _ in range(frames):
                est(frame)
            times.append((time.perf_counter() - t) / frames)
        rows.append({"engine": engine, "precision": precision, "label": est.engine_label, "people": people,
                     "s": statistics.median(times)})
    return rows


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10, help="frames per config and round (a multiple of 10)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; the median is reported")
    parser.add_argument("--no-openpose", action="store_true")
    parser.add_argument("--quick", action="store_true", help="rtmpose-s only, auto and OpenVINO f32 routes only")
    args = parser.parse_args()
    import cv2

    from benchmarks.common import machine
    from pose.families.rtmpose import facts
    from pose.families.rtmpose.architecture import cached_model
    from pose.families.rtmpose.network import plan
    from pose.families.rtmpose.yolox_architecture import cached_yolox
    # the cores may be shared: the load beside the figures says how much they were
    print(f"machine: {machine()}; OpenCV {cv2.__version__}; load average {_load()} at start", flush=True)
    main_routes = routes()[:2]
    openpose = {}
    if not args.no_openpose:
        for engine, precision in main_routes:
            op = openpose[(engine, precision)] = time_openpose(3, engine, precision)
            decode = ", ".join(f"{n} people {ms:.1f} ms" if ms is not None else f"{n} people not timed "
                               "(no ../shared/annotations)" for n, ms in op["decode_ms"].items())
            print(f"OpenPose COCO, 640x480 frame at -1x368, {op['engine']}: network {op['net'] * 1e3:.0f} ms; "
                  f"decoding maps rendered from real annotations: {decode}", flush=True)
    rows = time_pipelines(args.frames, args.rounds, args.quick)
    print("\n| model | route | detector | people | detect every | ms a frame | fps |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| rtmpose-{r['model']} | {r['engine']} {r['precision']} ({r['label']}) | {r['detector']} | "
              f"{r['people']} | {r['every']} | "
              f"{r['s'] * 1e3:.1f} | {1 / r['s']:.1f} |")
    rtmo = {(r["engine"], r["precision"]): r for r in time_rtmo(args.frames, args.rounds)}
    for r in rtmo.values():
        print(f"| rtmo-s | {r['engine']} {r['precision']} ({r['label']}) | none (one stage) | "
              f"any ({r['people']} found) | - | {r['s'] * 1e3:.1f} | {1 / r['s']:.1f} |", flush=True)
    pose_path, det_path = cached_model("s", CACHE), cached_yolox(facts.DEFAULT_DETECTOR, CACHE)
    for engine, precision in main_routes:
        op = openpose.get((engine, precision))
        default = [r for r in rows if r["model"] == "s" and (r["engine"], r["precision"]) == (engine, precision)
                   and r["detector"] == facts.DEFAULT_DETECTOR and r["every"] == facts.DEFAULT_DETECT_EVERY]
        print(f"\nrtmpose-s + {facts.DEFAULT_DETECTOR}, detector every {facts.DEFAULT_DETECT_EVERY}th frame (the "
              f"defaults), --engine {engine} --precision {precision}; OpenPose COCO on the same route:")
        for r in default:
            ratio = f", {op['frame'][r['people']] / r['s']:.1f}x OpenPose COCO's frames/s" if op else ""
            print(f"  estimator alone, {r['people']} people: {1 / r['s']:.1f} fps{ratio}")
        one_stage = rtmo.get((engine, precision))
        if one_stage:
            ratios = ", ".join(f"{op['frame'][n] / one_stage['s']:.1f}x" for n in PEOPLE) if op else ""
            print(f"  RTMO-s alone (no detector; any number of people): {1 / one_stage['s']:.1f} fps"
                  + (f", {ratios} OpenPose COCO's frames/s with {', '.join(map(str, PEOPLE))} people" if op else ""))
        chosen = plan(engine, "cpu", precision)
        for people in PEOPLE:
            v = time_video_tool(pose_path, det_path, chosen, people, facts.DEFAULT_DETECT_EVERY, 60)
            ratio = f", {op['frame'][people] * v['fps']:.1f}x OpenPose COCO's frames/s" if op else ""
            print(f"  the video tool (decode, estimator, tracking, classification, drawing, JSONL, mp4), {people} "
                  f"people: {v['fps']:.1f} fps over {v['frames']} frames{ratio}", flush=True)
    print(f"\nload average {_load()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
