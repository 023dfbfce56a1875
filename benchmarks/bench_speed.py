"""Speed of the seed's loop and of every engine, side by side, on full-size random weights.

Not part of the test suite (minutes, and timing-based). In one run on one machine it:
- writes ~200 MB random weights of the exact COCO architecture (cached under
  benchmarks/.cache/, git-ignored) and converts them to ONNX (cached next to them);
- starts one worker process per route, each holding its loaded network: the seed's loop
  (readNetFromCaffe, blobFromImage 1/255 at 368x368, forward, minMaxLoc per part) and each
  engine of pose.engines through PoseEstimator.forward (preprocessing included), in this
  Python and in the ones given with --python (e.g. an OpenCV 5 environment);
- times them in interleaved rounds (one frame per route per round, the order rotating),
  so load from other processes hits every route alike, and reports the median;
- reports each engine's max abs difference from the Caffe route on the same input;
- times --stages 1..5 against 6 on the fastest engine and reports how the maps change;
- times decoding 10 people (when pose.decode and tests/render_fields.py are present);
- runs a synthetic video through get_hpe_video.py (when present) and compares its wall
  time per frame with the network's time;
- writes the tables to benchmarks/RESULTS.md.

    python -m benchmarks.bench_speed --python .venv5/bin/python
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
SIZE = 368  # the seed's net input, square
MODEL = "COCO"
# Random weights give hundreds of heatmap peaks at the model's own threshold; 0.6 keeps the
# video's decoding near what ~10 real people cost (the report prints what it found).
VIDEO_THRESHOLD = 0.6


# ---------------------------------------------------------------- worker side

def _test_image(size: int = SIZE) -> np.ndarray:
    """A fixed frame: a seed photo when ../shared is there, else smooth noise."""
    import cv2
    photo = ROOT.parent / "shared" / "media" / "seed-inputs" / "example_image1.png"
    image = cv2.imread(str(photo)) if photo.is_file() else None
    if image is None:
        noise = np.random.default_rng(0).integers(0, 256, (size // 8, size // 8, 3), np.uint8)
        image = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


class SeedLoop:
    """The seed's per-frame work, as it did it."""

    def __init__(self, weights: Path):
        import cv2

        from pose.spec import get_spec
        spec = get_spec(MODEL)
        self.cv2, self.parts = cv2, spec.n_keypoints
        self.net = cv2.dnn.readNetFromCaffe(str(spec.prototxt), str(weights))
        self.label = f"seed loop (OpenCV {cv2.__version__}, Caffe)"

    def frame(self, image: np.ndarray) -> np.ndarray:
        cv2 = self.cv2
        blob = cv2.dnn.blobFromImage(image, 1.0 / 255, (SIZE, SIZE), (0, 0, 0), swapRB=False, crop=False)
        self.net.setInput(blob)
        out = self.net.forward()
        for part in range(self.parts):
            cv2.minMaxLoc(out[0, part])
        return out


class Ours:
    def __init__(self, weights: Path, engine: str, stages: int):
        from pose.estimator import PoseEstimator
        self.est = PoseEstimator(MODEL, weights=weights, engine=engine, stages=stages,
                                 net_resolution=f"-1x{SIZE}")
        self.label = self.est.engine_label

    def frame(self, image: np.ndarray) -> np.ndarray:
        output, self.geometry = self.est.forward(image)
        return output

    def decode(self, output: np.ndarray, threshold: float) -> tuple:
        """Median seconds and people of decoding `output` (5 runs)."""
        from pose.decode.people import DecodeOptions, decode
        options = DecodeOptions(threshold=threshold)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            people = decode(output, self.geometry, self.est.spec, options)
            times.append(time.perf_counter() - t0)
        return statistics.median(times), len(people)


def worker(route: str, weights: Path, stages: int) -> int:
    """Serve `run` (one timed frame) and `dump PATH` (save the output) on stdin/stdout."""
    runner = SeedLoop(weights) if route == "seed" else Ours(weights, route, stages)
    image = _test_image()
    out = runner.frame(image)  # warm-up: first-call allocations and kernel choices
    print(json.dumps({"label": runner.label}), flush=True)
    for line in sys.stdin:
        cmd = line.split(maxsplit=1)
        if cmd[0] == "run":
            t0 = time.perf_counter()
            out = runner.frame(image)
            print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)
        elif cmd[0] == "loop":  # mean time of N frames in a row, as a video loop runs them
            n = int(cmd[1])
            t0 = time.perf_counter()
            for _ in range(n):
                out = runner.frame(image)
            print(json.dumps({"seconds": (time.perf_counter() - t0) / n}), flush=True)
        elif cmd[0] == "decode":  # decoding this route's own output, as the video tool does
            seconds, people = runner.decode(out, float(cmd[1]))
            print(json.dumps({"seconds": seconds, "people": people}), flush=True)
        elif cmd[0] == "dump":
            np.save(cmd[1].strip(), out)
            print(json.dumps({"ok": True}), flush=True)
        else:
            return 0
    return 0


def probe() -> int:
    import cv2

    from pose.engine import backends as engines
    print(json.dumps({"opencv": cv2.__version__, "caffe": engines.has_caffe_importer(),
                      "engines": engines.available()}))
    return 0


# ---------------------------------------------------------------- parent side

class Worker:
    def __init__(self, python: str, route: str, stages: int, weights: Path):
        self.python, self.route, self.stages = python, route, stages
        self.proc = subprocess.Popen([python, "-m", "benchmarks.bench_speed", "--worker", route, "--stages", str(stages),
                                      "--weights", str(weights)], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.label = self._reply()["label"]
        self.times: List[float] = []

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.route} (stages {self.stages}) died")
        return json.loads(line)

    def run(self) -> float:
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        self.times.append(self._reply()["seconds"])
        return self.times[-1]

    def loop(self, frames: int) -> float:
        self.proc.stdin.write(f"loop {frames}\n")
        self.proc.stdin.flush()
        return self._reply()["seconds"]

    def decode(self, threshold: float) -> dict:
        self.proc.stdin.write(f"decode {threshold}\n")
        self.proc.stdin.flush()
        return self._reply()

    def dump(self, path: Path) -> np.ndarray:
        self.proc.stdin.write(f"dump {path}\n")
        self.proc.stdin.flush()
        self._reply()
        return np.load(path)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _probe(python: str) -> dict:
    out = subprocess.run([python, "-m", "benchmarks.bench_speed", "--probe"], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def full_size_weights() -> Path:
    from pose.model.architecture import build_layers
    from pose.spec import get_spec
    from tests.support.random_weights import write_random_caffemodel
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "coco_random_seed0.caffemodel"
    if not path.is_file():
        write_random_caffemodel(path, build_layers(get_spec(MODEL)), seed=0)
    return path


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from pose.engine.backends import cpu_cores
    return f"{cpu}, {cpu_cores()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def time_decode(crowds: int = 5, repeat: int = 10) -> Optional[dict]:
    """Median time of decoding 10-person crowds (1280x720 frames at 656x368), or None when
    pose.decode or its test renderer are not in this checkout."""
    try:
        from pose.decode.people import decode
        from pose.decode.preprocess import compute_geometry, parse_net_resolution
        from pose.spec import get_spec
        from tests.support.annotations import load_all
        from tests.support.crowd import compose_crowd, people_pool
        from tests.support.render_fields import render_output
    except ImportError:
        return None
    spec = get_spec(MODEL)
    geometry = compute_geometry((1280, 720), parse_net_resolution("656x368"))
    pool = people_pool(load_all(), spec.name)
    rng = np.random.default_rng(0)
    times, found = [], []
    for _ in range(crowds):
        output = render_output(compose_crowd(pool, 10, (1280, 720), rng), spec, geometry)
        decode(output, geometry, spec)  # warm-up
        for _ in range(repeat):
            t0 = time.perf_counter()
            people = decode(output, geometry, spec)
            times.append(time.perf_counter() - t0)
        found.append(len(people))
    return {"seconds": statistics.median(times), "found": float(np.mean(found)), "runs": len(times),
            "size": "x".join(map(str, geometry.input_size))}


def _synthetic_video(path: Path, frames: int) -> None:
    import cv2
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (SIZE, SIZE))
    image = _test_image()
    for i in range(frames):
        writer.write(np.roll(image, 4 * i, axis=1))  # a slow pan: every frame differs
    writer.release()


def run_video(python: str, weights: Path, frames: int, network: "Worker") -> Optional[dict]:
    """Wall time per frame of get_hpe_video.py on a synthetic video against the network's
    own time per frame, measured just before and after in the same conditions.

    The tool's start-up (imports, loading the network) is taken out by also timing a
    2-frame video: per frame = (T(frames) - T(2)) / (frames - 2).
    """
    tool = ROOT / "get_hpe_video.py"
    if not tool.is_file():
        return None
    decoding = network.decode(VIDEO_THRESHOLD)
    with tempfile.TemporaryDirectory() as tmp:
        walls, last = {}, ""
        before = network.loop(20)
        for n in (2, frames):
            video = Path(tmp) / f"in{n}.avi"
            _synthetic_video(video, n)
            cmd = [python, str(tool), "--video_file", str(video), "--weights", str(weights),
                   "--engine", network.route, "--net_resolution", f"-1x{SIZE}", "--threshold", str(VIDEO_THRESHOLD),
                   "--output_dir", tmp, "--quiet"]
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            walls[n] = time.perf_counter() - t0
            if done.returncode != 0:
                return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
            # the summary line's timing part, without the temporary paths it wrote
            last = (done.stdout.strip().splitlines() or [""])[-1].split(";")[-1].strip()
        after = network.loop(20)
    net = (before + after) / 2
    per_frame = (walls[frames] - walls[2]) / (frames - 2)
    return {"frames": frames, "wall_per_frame": per_frame, "net_seconds": net, "ratio": per_frame / net,
            "summary": last, "decode_seconds": decoding["seconds"], "decode_people": decoding["people"]}


def gflops(stages: int, size: int = SIZE) -> float:
    """Multiply-adds x 2 of the COCO network cut after `stages` at size x size."""
    from pose.model.architecture import build_layers
    from pose.spec import STRIDE, get_spec
    channels, side, total = {"image": 3}, {"image": size}, 0.0
    for layer in build_layers(get_spec(MODEL), stages):
        src = layer.bottoms[0]
        if layer.type == "Convolution":
            total += 2.0 * channels[src] * layer.num_output * layer.kernel ** 2 * side[src] ** 2
            channels[layer.top] = layer.num_output
        elif layer.type == "Concat":
            channels[layer.top] = sum(channels[b] for b in layer.bottoms)
        else:
            channels[layer.top] = channels[src]
        side[layer.top] = -(-side[src] // 2) if layer.type == "Pooling" else side[src]
    assert side[layer.top] == -(-size // STRIDE)
    return total / 1e9


def start_workers(pythons: List[str], weights: Path) -> List[Worker]:
    """The seed's loop (where a Caffe importer is) and one worker per engine and OpenCV;
    onnxruntime is the same library in every environment, so it runs once."""
    envs = {py: _probe(py) for py in pythons}
    print("environments:", json.dumps(envs), flush=True)
    workers: List[Worker] = []
    seed_py = next((py for py in pythons if envs[py]["caffe"]), None)
    if seed_py:
        workers.append(Worker(seed_py, "seed", 6, weights))
    seen = set()
    for py in pythons:
        for engine in envs[py]["engines"]:
            key = engine if engine == "onnxruntime" else (engine, envs[py]["opencv"])
            if key not in seen:
                seen.add(key)
                workers.append(Worker(py, engine, 6, weights))
                print("loaded", workers[-1].label, flush=True)
    return workers


def interleave(workers: List[Worker], rounds: int) -> None:
    """One frame per worker per round, the starting worker rotating, so that a burst of
    load from elsewhere does not land on one route only."""
    for r in range(rounds):
        order = workers[r % len(workers):] + workers[:r % len(workers)]
        for w in order:
            print(f"round {r + 1}: {w.label} s{w.stages}: {w.run():.3f} s", flush=True)


def _fmt(seconds: float) -> str:
    return f"{seconds:.3f}"


def report(workers: List[Worker], best: Worker, cuts: List[Worker], outputs: dict, decode_result: Optional[dict],
           video: Optional[dict], args: argparse.Namespace, started: datetime.datetime, load: tuple) -> str:
    """The Markdown that benchmarks/RESULTS.md holds and the README quotes."""
    load_before, load_after = load
    six = [w for w in workers if w.route != "seed"]
    seed = next((w for w in workers if w.route == "seed"), None)
    caffe = next((w for w in six if w.route == "caffe"), None)
    rows = [(w, float(np.abs(outputs[id(w)] - outputs[id(caffe)]).max()) if caffe and w is not seed else None)
            for w in workers if w.stages == 6]

    lines = [f"Measured {started:%Y-%m-%d} on {machine()}: full COCO network "
             f"({gflops(6):.0f} GFLOP a frame) with random weights of the exact architecture, "
             f"{SIZE}x{SIZE} input, {args.repeat} frames per route, the routes interleaved frame by "
             f"frame. Other processes shared the 2 cores (load average {load_before:.1f} at the start, "
             f"{load_after:.1f} at the end): compare rows of one run, not runs.", "",
             "| route | median s / frame | best | median vs seed loop | max abs diff vs Caffe route |",
             "| --- | --- | --- | --- | --- |"]
    for w, diff in rows:
        ratio = "1.00x" if w is seed else (
            f"{w.median / seed.median:.2f}x the time ({seed.median / w.median:.2f}x faster)" if seed else "-")
        lines.append(f"| {w.label} | {_fmt(w.median)} | {_fmt(min(w.times))} | {ratio} | "
                     f"{'-' if diff is None else f'{diff:.1e}'} |")
    lines += ["", f"`--stages k` on {best.label}, against 6 stages in the same rounds (random weights: "
                  "only the size of the change in the maps means anything):", "",
              "| stages | GFLOP | median s / frame | 6 stages' time / this | max abs change | mean abs change |",
              "| --- | --- | --- | --- | --- | --- |"]
    scale = float(np.abs(outputs[id(best)]).max())
    for w in sorted(cuts + [best], key=lambda w: w.stages):
        change = np.abs(outputs[id(w)] - outputs[id(best)])
        lines.append(f"| {w.stages} | {gflops(w.stages):.0f} | {_fmt(w.median)} | {best.median / w.median:.2f}x | "
                     f"{float(change.max()):.2f} | {float(change.mean()):.3f} |")
    lines += ["", f"(The 6-stage maps reach {scale:.2f} in absolute value. By work alone, 4 stages can be at "
                  f"most {gflops(6) / gflops(4):.2f}x faster than 6.)", ""]
    if decode_result:
        lines.append(f"Decoding 10 people (pose.decode on maps rendered from annotated people, "
                     f"1280x720 frames at {decode_result['size']}; {decode_result['found']:.1f} found on "
                     f"average): median {decode_result['seconds'] * 1000:.1f} ms over "
                     f"{decode_result['runs']} runs.")
    else:
        lines.append("Decoding 10 people: not timed (pose.decode is not in this checkout).")
    if video and "error" not in video:
        lines.append(f"Video: {video['frames']} synthetic {SIZE}x{SIZE} frames through get_hpe_video.py "
                     f"(--engine {best.route}, --threshold {VIDEO_THRESHOLD}): {_fmt(video['wall_per_frame'])} s "
                     f"wall per frame (start-up taken out) vs {_fmt(video['net_seconds'])} s network time per "
                     f"frame measured just before and after ({(video['ratio'] - 1) * 100:+.1f}%). "
                     f"The tool said: \"{video['summary']}\". Decoding these random-weight maps finds "
                     f"{video['decode_people']} \"people\" and takes {video['decode_seconds'] * 1000:.0f} ms "
                     "a frame; the tool decodes in its writer thread, beside the network.")
    elif video:
        lines.append(f"Video: get_hpe_video.py failed: {video['error']}")
    else:
        lines.append("Video: not timed (get_hpe_video.py is not in this checkout, or --video-frames 0).")
    command = " ".join(["python -m benchmarks.bench_speed", *(f"--python {p}" for p in args.python)])
    lines += ["", f"Reproduce: `{command}` (see the README, Engines and speed)."]
    return "# Speed benchmark\n\n" + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=[],
                        help="another Python environment to time its engines too (repeatable), "
                             "e.g. .venv5/bin/python for OpenCV 5")
    parser.add_argument("--repeat", type=int, default=3, help="timed frames per route (default 3)")
    parser.add_argument("--video-frames", type=int, default=100,
                        help="frames of the synthetic video (default 100; 0 skips the video)")
    parser.add_argument("--cuts", default="1,2,3,4,5", type=lambda v: [int(k) for k in v.split(",")],
                        help="stage cuts to time against 6 on the fastest engine (default 1,2,3,4,5)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--stages", type=int, default=6, help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        return probe()
    if args.worker:
        return worker(args.worker, Path(args.weights), args.stages)

    started, load_before = datetime.datetime.now(), os.getloadavg()[0]
    weights = full_size_weights()
    pythons = [sys.executable] + [os.path.abspath(p) if os.sep in p else p for p in args.python]
    workers = start_workers(pythons, weights)
    six = [w for w in workers if w.route != "seed"]
    if not six:
        print("error: no engine can run in these environments", file=sys.stderr)
        return 1
    # The stage cuts run on the fastest engine, picked from one untimed round.
    for w in workers:
        w.run()
    best = min(six, key=lambda w: w.times[-1])
    cuts = [Worker(best.python, best.route, k, weights) for k in args.cuts]
    workers += cuts
    for w in workers:
        w.times.clear()
    interleave(workers, args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        outputs = {id(w): w.dump(Path(tmp) / f"{i}.npy") for i, w in enumerate(workers)}
    for w in workers:
        if w is not best:
            w.close()  # the video run below wants the cores and the memory
    video = run_video(best.python, weights, args.video_frames, best) if args.video_frames > 2 else None
    best.close()
    decode_result = time_decode()
    load_after = os.getloadavg()[0]

    text = report(workers, best, cuts, outputs, decode_result, video, args, started, (load_before, load_after))
    out = Path(args.out)
    tmp_out = out.with_name(out.name + ".part")
    tmp_out.write_text(text)
    tmp_out.replace(out)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
