"""Speed of the seed's loop and of every engine x precision, side by side, on full-size
random weights, with the CPU and its AMX/AVX-512 flags beside every figure.

Not part of the test suite (minutes, and timing-based). In one run on one machine it:
- writes ~200 MB random weights of the exact COCO architecture (cached under
  benchmarks/.cache/, git-ignored) and converts them to ONNX (cached next to them);
- starts one worker process per route, each holding its loaded network: the seed's loop
  (readNetFromCaffe, blobFromImage 1/255 at 368x368, forward, minMaxLoc per part) and each
  engine x precision of pose.runtime through PoseEstimator.forward (preprocessing
  included), in this Python and in the ones given with --python (an OpenCV 5 environment);
- times them in interleaved rounds (one frame per route per round, the order rotating),
  so load from other processes hits every route alike, and reports the median;
- reports each route's max and mean abs difference from the f32 Caffe (or ONNX) route on
  the same input: what bf16 and f16 cost in accuracy;
- on a CPU with AMX, also times OpenVINO's bf16 with oneDNN held to avx512_core_bf16: an
  emulation of a CPU with AVX512-BF16 but no AMX;
- times --stages 1..5 against 6 on the fastest engine and reports how the maps change;
- times decoding 10 people (when pose.families.openpose and tests/support/render_fields.py are present);
- runs the video tool's loop on a synthetic video in latency and in throughput mode and
  compares its wall time per frame with the network's own streaming time and with the seed
  loop (benchmarks/video_overhead.py);
- times the image tool's start-up (time before the network runs) on a cold and a warm
  cache;
- writes the tables to benchmarks/RESULTS.md.

    python -m benchmarks.bench_speed --python .venv5/bin/python
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import numpy as np

from benchmarks.common import MODEL, ROOT, SIZE, VIDEO_THRESHOLD, full_size_weights, machine, sample_image

EMULATED_NO_AMX = "AVX512_CORE_BF16"


# ---------------------------------------------------------------- worker side

class SeedLoop:
    """The seed's per-frame work, as it did it."""

    def __init__(self, weights: Path):
        import cv2

        from pose.families.openpose.spec import get_spec
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
    """A route "engine[:precision][+throughput]": PoseEstimator.forward one frame at a time
    (the image tool), or with +throughput STREAMED frames kept in flight as the video tool
    keeps them (OpenVINO's throughput mode; the other engines run them one by one)."""

    STREAMED = 4

    def __init__(self, weights: Path, route: str, stages: int):
        from pose.families.openpose.estimator import PoseEstimator
        route, _, mode = route.partition("+")
        engine, _, precision = route.partition(":")
        self.est = PoseEstimator(MODEL, weights=weights, engine=engine, stages=stages, net_resolution=f"-1x{SIZE}",
                                 precision=precision or "auto", throughput=mode == "throughput")
        self.frames = self.STREAMED if mode == "throughput" else 1
        self.label = self.est.engine_label

    def frame(self, image: np.ndarray) -> np.ndarray:
        if self.frames == 1:
            return self.est.forward(image).maps
        done = []
        for k in range(self.frames):
            self.est.submit(image, k)
            done += self.est.collect()
        done += self.est.collect(wait=True)
        return done[-1][1][0].maps


def worker(route: str, weights: Path, stages: int) -> int:
    """Serve `run` (one timed frame) and `dump PATH` (save the output) on stdin/stdout."""
    runner = SeedLoop(weights) if route == "seed" else Ours(weights, route, stages)
    image = sample_image()
    out = runner.frame(image)  # warm-up: first-call allocations and kernel choices
    print(json.dumps({"label": runner.label}), flush=True)
    for line in sys.stdin:
        cmd = line.split(maxsplit=1)
        if cmd[0] == "run":
            t0 = time.perf_counter()
            out = runner.frame(image)
            print(json.dumps({"seconds": (time.perf_counter() - t0) / getattr(runner, "frames", 1)}), flush=True)
        elif cmd[0] == "dump":
            np.save(cmd[1].strip(), out)
            print(json.dumps({"ok": True}), flush=True)
        else:
            return 0
    return 0


def probe() -> int:
    import cv2

    from pose.runtime import select as engines
    print(json.dumps({"opencv": cv2.__version__, "caffe": engines.has_caffe_importer(),
                      "engines": engines.available(), "bf16_pays": engines.cpu.bf16_pays(),
                      "cpu": engines.cpu.describe()}))
    return 0


# ---------------------------------------------------------------- parent side

# OpenCV's names for its AVX-512 kernels (OPENCV_CPU_DISABLE takes these, comma-separated).
_OPENCV_AVX512 = ("AVX512F,AVX512-COMMON,AVX512-SKX,AVX512-CLX,AVX512-ICL,AVX512-CNL,AVX512CD,AVX512BW,AVX512DQ,"
                  "AVX512IFMA,AVX512VBMI,AVX512VL,AVX512VBMI2,AVX512VNNI,AVX512BITALG,AVX512VPOPCNTDQ")


def emulation_env(isa: Optional[str]) -> Optional[dict]:
    """The environment that runs the engines as on an older CPU: oneDNN (OpenVINO's
    kernels) held to `isa` by ONEDNN_MAX_CPU_ISA, and below AVX-512 cv2.dnn's AVX-512
    kernels disabled too (pose.runtime.cpu reads the same cap, so auto chooses as there)."""
    if not isa:
        return None
    from pose.runtime import cpu
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": isa}
    if "avx512f" not in cpu.ISA_CAPS.get(isa.upper(), cpu.SPEED_FLAGS):
        env["OPENCV_CPU_DISABLE"] = _OPENCV_AVX512
    return env


class Worker:
    def __init__(self, python: str, route: str, stages: int, weights: Path, isa: Optional[str] = None):
        self.python, self.route, self.stages = python, route, stages
        env = emulation_env(isa)
        self.proc = subprocess.Popen([python, "-m", "benchmarks.bench_speed", "--worker", route, "--stages", str(stages),
                                      "--weights", str(weights)], cwd=ROOT, text=True, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.label = self._reply()["label"]
        if isa:
            self.label += f", emulated: oneDNN held to {isa.lower()}"
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


def probe_env(python: str, isa: Optional[str] = None) -> dict:
    """What an environment can run (engines, Caffe importer, CPU as the engines see it),
    under an emulated `isa` if given."""
    out = subprocess.run([python, "-m", "benchmarks.bench_speed", "--probe"], cwd=ROOT, capture_output=True, text=True,
                         check=True, env=emulation_env(isa))
    return json.loads(out.stdout)


def time_decode(crowds: int = 5, repeat: int = 10) -> Optional[dict]:
    """Median time of decoding 10-person crowds (1280x720 frames at 656x368), or None when
    pose.families.openpose or its test renderer are not in this checkout."""
    try:
        from benchmarks.bench_decode import decode_times
        from pose.families.openpose.preprocess import compute_geometry, parse_net_resolution
        from pose.families.openpose.spec import get_spec
        from tests.support.annotations import load_all
        from tests.support.crowd import people_pool
    except ImportError:
        return None
    spec = get_spec(MODEL)
    geometry = compute_geometry((1280, 720), parse_net_resolution("656x368"))
    pool = people_pool(load_all(), spec.name)
    times, found = decode_times(pool, spec, geometry, (1280, 720), 10, crowds, repeat)
    return {"seconds": statistics.median(times), "found": float(np.mean(found)), "runs": len(times),
            "size": "x".join(map(str, geometry.input_size))}


def _tool_summary(done: subprocess.CompletedProcess) -> str:
    return (done.stdout.strip().splitlines() or [""])[-1]


def time_startup(python: str, weights: Path) -> Optional[dict]:
    """Seconds get_hpe_image.py spends before and after the network on one image: the whole
    process minus its own per-image time, with the conversion and compile caches cold
    (first run) and warm (second run)."""
    import cv2
    tool = ROOT / "get_hpe_image.py"
    if not tool.is_file():
        return None
    from pose.core.paths import cache_dir
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "photo.png"
        cv2.imwrite(str(image), sample_image())
        for old in list(weights.parent.glob(weights.name + ".*.onnx")) + [cache_dir(weights) / "openvino"]:
            subprocess.run(["rm", "-rf", str(old)], check=True)
        for run in ("first", "second"):
            cmd = [python, str(tool), "--image_file", str(image), "--weights", str(weights),
                   "--net_resolution", f"-1x{SIZE}", "--output_dir", tmp, "--quiet"]
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if done.returncode != 0:
                return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
            per_image = float(_tool_summary(done).rsplit(",", 1)[-1].split()[0])
            out[run] = {"wall": wall, "per_image": per_image, "startup": wall - per_image}
    return out


def gflops(stages: int, size: int = SIZE) -> float:
    """Multiply-adds x 2 of the COCO network cut after `stages` at size x size."""
    from pose.families.openpose.net.architecture import build_layers, cost
    from pose.families.openpose.spec import get_spec
    return cost(build_layers(get_spec(MODEL), stages), size)[1]


def routes(env: dict) -> List[str]:
    """Every engine x precision an environment can run on the CPU: OpenVINO at f32, bf16
    and f16, the others at f32."""
    out = []
    for engine in env["engines"]:
        out += [f"openvino:{p}" for p in ("bf16", "f32", "f16")] if engine == "openvino" else [f"{engine}:f32"]
    return out


def start_workers(pythons: List[str], weights: Path) -> List[Worker]:
    """The seed's loop (where a Caffe importer is) and one worker per route and OpenCV;
    onnxruntime and OpenVINO are the same libraries in every environment, so they run once."""
    envs = {py: probe_env(py) for py in pythons}
    print("environments:", json.dumps(envs), flush=True)
    workers: List[Worker] = []
    seed_py = next((py for py in pythons if envs[py]["caffe"]), None)
    if seed_py:
        workers.append(Worker(seed_py, "seed", 6, weights))
    seen = set()
    for py in pythons:
        for route in routes(envs[py]):
            key = route if route.startswith(("onnxruntime", "openvino")) else (route, envs[py]["opencv"])
            if key not in seen:
                seen.add(key)
                workers.append(Worker(py, route, 6, weights))
                print("loaded", workers[-1].label, flush=True)
    # With AMX here, also what a CPU with AVX512-BF16 but no AMX (Cooper Lake, Zen 4) would
    # get from the same default (bf16): oneDNN held to that instruction set. An emulation,
    # on this CPU's clocks and caches, not a measurement of such a CPU.
    from pose.runtime import cpu
    if "amx_tile" in cpu.flags() and any(w.route == "openvino:bf16" for w in workers):
        workers.append(Worker(sys.executable, "openvino:bf16", 6, weights, isa=EMULATED_NO_AMX))
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
           video: Optional[dict], startup: Optional[dict], args: argparse.Namespace, started: datetime.datetime,
           load: tuple) -> str:
    """The Markdown that benchmarks/RESULTS.md holds and the README quotes."""
    from pose.runtime import cpu
    load_before, load_after = load
    seed = next((w for w in workers if w.route == "seed"), None)
    full = [w for w in workers if w.stages == 6]
    ref = next((w for w in full if w.route in ("caffe:f32", "onnx:f32")), None)
    lines = [f"Measured {started:%Y-%m-%d} on {machine()}: full COCO network "
             f"({gflops(6):.0f} GFLOP a frame) with random weights of the exact architecture, "
             f"{SIZE}x{SIZE} input, {args.repeat} frames per route, the routes interleaved frame by "
             f"frame. Load average {load_before:.1f} at the start, {load_after:.1f} at the end: compare rows "
             "of one run, not runs.", "",
             f"| route | precision | median s / frame | best | vs seed loop | max / mean abs diff vs {ref.label if ref else 'f32'} |",
             "| --- | --- | --- | --- | --- | --- |"]
    for w in full:
        ratio = "1.00x" if w is seed else (f"{w.median / seed.median:.3f}x the time ({seed.median / w.median:.1f}x faster)"
                                           if seed else "-")
        diff = "-"
        if ref is not None and w is not seed and w is not ref:
            d = np.abs(outputs[id(w)] - outputs[id(ref)])
            diff = f"{float(d.max()):.1e} / {float(d.mean()):.1e}"
        precision = "f32" if w is seed else w.route.partition(":")[2]
        lines.append(f"| {w.label} | {precision} | {_fmt(w.median)} | {_fmt(min(w.times))} | {ratio} | {diff} |")
    if ref is not None:
        lines.append(f"\n(The f32 maps reach {float(np.abs(outputs[id(ref)]).max()):.2f} in absolute value.)")
    lines += ["", f"`--engine auto --precision auto` runs {best.label} here (the CPU "
                  f"{'has AMX: bf16 is' if cpu.bf16_pays() else 'has no AMX: f32 is'} the faster precision).", ""]
    if cuts:
        lines += [f"`--stages k` on {best.label}, against 6 stages in the same rounds (random weights: "
                  "only the size of the change in the maps means anything):", "",
                  "| stages | GFLOP | median s / frame | 6 stages' time / this | max abs change | mean abs change |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for w in sorted(cuts + [best], key=lambda w: w.stages):
            change = np.abs(outputs[id(w)] - outputs[id(best)])
            lines.append(f"| {w.stages} | {gflops(w.stages):.0f} | {_fmt(w.median)} | {best.median / w.median:.2f}x | "
                         f"{float(change.max()):.2f} | {float(change.mean()):.3f} |")
        lines.append("")
    if decode_result:
        lines.append(f"Decoding 10 people (pose.families.openpose on maps rendered from annotated people, "
                     f"1280x720 frames at {decode_result['size']}; {decode_result['found']:.1f} found on "
                     f"average): median {decode_result['seconds'] * 1000:.1f} ms over {decode_result['runs']} runs.")
        lines.append("")
    if video:
        from benchmarks.video_overhead import table
        throughput = video["throughput"]
        lines += [f"Video: {video['frames']} synthetic {SIZE}x{SIZE} frames through the video tool's loop "
                  "(pose.app.video.run_video: reading, the network, decoding, tracking, drawing, encoding, JSON "
                  "Lines) against the network alone streaming the same frames, in one process on one warm "
                  f"estimator ({best.label}), medians of {video['repeat']} interleaved rounds "
                  "(`python -m benchmarks.video_overhead`). People: the network runs on every frame but the "
                  "tool decodes maps rendered from 10 annotated people; noise: the tool decodes the "
                  f"random-weight output at --threshold {VIDEO_THRESHOLD}.", "", *table(video), ""]
        if seed:
            target = 0.10 if cpu.bf16_pays() else 0.40
            ratio = throughput["people"] / seed.median
            lines += [f"Target (issue 10): the video tool at most {target:.2f}x the seed loop's time on a CPU "
                      f"{'with' if cpu.bf16_pays() else 'without'} AMX: {ratio:.3f}x "
                      f"({'met' if ratio <= target else 'NOT met'}).", ""]
    if startup and "error" not in startup:
        lines += ["Start-up of get_hpe_image.py on one image (process wall time minus its own per-image time):",
                  "", "| run | caches | wall s | network + decoding s | everything else s |", "| --- | --- | --- | --- | --- |"]
        for run, caches in (("first", "cold: converts to ONNX, compiles"), ("second", "warm")):
            s = startup[run]
            lines.append(f"| {run} | {caches} | {s['wall']:.2f} | {s['per_image']:.2f} | {s['startup']:.2f} |")
        lines.append("")
    elif startup:
        lines += [f"Start-up: get_hpe_image.py failed: {startup['error']}", ""]
    command = " ".join(["python -m benchmarks.bench_speed", *(f"--python {p}" for p in args.python),
                        f"--repeat {args.repeat}", f"--cuts {','.join(map(str, args.cuts))}" if args.cuts else "--cuts ''",
                        f"--video-frames {args.video_frames} --video-repeat {args.video_repeat}"])
    lines += [f"Reproduce: `{command}` (see the README, Engines and speed)."]
    return "# Speed benchmark\n\n" + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=[],
                        help="another Python environment to time its engines too (repeatable), "
                             "e.g. .venv5/bin/python for OpenCV 5")
    parser.add_argument("--repeat", type=int, default=3, help="timed frames per route (default 3)")
    parser.add_argument("--video-frames", type=int, default=60,
                        help="frames of the synthetic video (default 60; 0 skips the video)")
    parser.add_argument("--video-repeat", type=int, default=3,
                        help="interleaved rounds of the video measurement (default 3)")
    parser.add_argument("--cuts", default="4", type=lambda v: [int(k) for k in v.split(",") if k.strip()],
                        help="stage cuts to time against 6 on the fastest engine (default 4; '' for none)")
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
    # The stage cuts and the video run on what --engine auto --precision auto picks.
    for w in workers:
        w.run()
    auto = probe_env(sys.executable)
    default_route = routes(auto)[0] if auto["engines"] else six[0].route
    if default_route == "openvino:bf16" and not auto["bf16_pays"]:
        default_route = "openvino:f32"
    best = next((w for w in six if w.route == default_route), six[0])
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
    best.close()
    video = None
    if args.video_frames > 2:
        from benchmarks.video_overhead import measure
        video = measure(weights, args.video_frames, args.video_repeat)
    startup = time_startup(best.python, weights)
    decode_result = time_decode()
    load_after = os.getloadavg()[0]

    text = report(workers, best, cuts, outputs, decode_result, video, startup, args, started,
                  (load_before, load_after))
    out = Path(args.out)
    tmp_out = out.with_name(out.name + ".part")
    tmp_out.write_text(text)
    tmp_out.replace(out)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
