"""Is `--engine auto` the fastest engine on this CPU? Every engine this environment can
run, and auto's own choice, timed side by side on the full-size COCO network (random
weights of the exact architecture, 368x368) in one run, with the CPU model and flags
beside the figures.

    python -m benchmarks.engine_choice                      # this CPU as it is
    python -m benchmarks.engine_choice --isa native --isa AVX512_CORE --isa AVX2   # and emulated older CPUs
    python -m benchmarks.engine_choice --isa AVX512_CORE --load 1   # one core kept busy by another process

--isa runs the same routes again as if on an older CPU: oneDNN (OpenVINO's kernels) held
by ONEDNN_MAX_CPU_ISA, cv2.dnn by OPENCV_CPU_DISABLE, and auto choosing from the capped
flags (pose.runtime.cpu). onnxruntime has no such switch (its MLAS kernels read the CPU
itself), so under a cap its row still runs this CPU's full instruction set: a bound, not
an emulation, and the table says so. An emulation keeps this CPU's clocks and caches.

Each route is one worker process holding its loaded network (benchmarks.bench_speed's
workers); one frame per route per round, the order rotating, medians reported. Not part
of the test suite: minutes, and timing-based.
"""
from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from benchmarks.bench_speed import Worker, interleave, probe_env
from benchmarks.common import ROOT, full_size_weights, machine

TARGET = 1.05  # auto at most 5% slower than the fastest route (issue 19)


def routes(env: dict) -> List[str]:
    """auto, then every engine at its own default precision, and OpenVINO at f32 too where
    auto runs it at bf16 (so the table shows what bf16 buys); the same in throughput mode
    (the video tool's default for files) for auto and OpenVINO, the one engine that has it."""
    out = ["auto"]
    for engine in env["engines"]:
        out.append(f"{engine}:auto" if engine == "openvino" else f"{engine}:f32")
        if engine == "openvino" and env["bf16_pays"]:
            out.append("openvino:f32")
    return out + [f"{r}+throughput" for r in out if r == "auto" or r.startswith("openvino")]


def measure(weights: Path, isa: Optional[str], rounds: int) -> dict:
    """Every route in one environment (this CPU, or emulated under `isa`), interleaved."""
    env = probe_env(sys.executable, isa)
    workers = [Worker(sys.executable, route, 6, weights, isa=isa) for route in routes(env)]
    for w in workers:
        print("loaded", w.route, "->", w.label, flush=True)
    interleave(workers, rounds)
    rows = [{"route": w.route, "label": w.label, "median": w.median, "best": min(w.times)} for w in workers]
    for w in workers:
        w.close()
    return {"isa": isa, "cpu": env["cpu"], "rows": rows}


def table(result: dict) -> List[str]:
    """The routes of one environment, and auto against the fastest, for the image tool
    (one frame at a time) and for the video tool (throughput mode)."""
    rows = result["rows"]
    where = f"emulated: {result['isa']}" if result["isa"] else "as it is"
    lines = [f"### {result['cpu']} ({where})", "",
             "| route | runs | median s / frame | best | time / fastest of its mode |", "| --- | --- | --- | --- | --- |"]
    verdicts = []
    for mode, streamed in (("one frame at a time (image tool)", False), ("throughput mode (video tool)", True)):
        group = [r for r in rows if r["route"].endswith("+throughput") == streamed]
        # The video tool in throughput mode still gets the latency rows' engines one frame at a time.
        candidates = [r for r in rows if not r["route"].startswith("auto")] if streamed else \
            [r for r in group if r["route"] != "auto"]
        fastest = min(candidates, key=lambda r: r["median"])
        for r in group:
            note = ""
            if result["isa"] and r["route"].startswith("onnxruntime"):
                note = " (not held by the cap: this CPU's full instruction set)"
            label = r["label"].split(", emulated:")[0]
            lines.append(f"| {r['route']} | {label}{note} | {r['median']:.3f} | {r['best']:.3f} | "
                         f"{r['median'] / fastest['median']:.3f}x |")
        auto = next(r for r in group if r["route"].startswith("auto"))
        ratio = auto["median"] / fastest["median"]
        verdicts.append(f"- {mode}: auto runs {auto['label'].split(', emulated:')[0]}, {ratio:.3f}x the time of the "
                        f"fastest route ({fastest['route']}); target <= {TARGET:.2f}x: "
                        f"{'met' if ratio <= TARGET else 'NOT met'}.")
    return lines + [""] + verdicts + [""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isa", action="append", default=[],
                        help="run as if on an older CPU: a value of ONEDNN_MAX_CPU_ISA, e.g. AVX2, AVX512_CORE, or "
                             "'native' for this CPU as it is (repeatable; default: native)")
    parser.add_argument("--rounds", type=int, default=5, help="timed frames per route (default 5)")
    parser.add_argument("--load", type=int, default=0,
                        help="processes that keep a core busy during the measurement (default 0)")
    parser.add_argument("--out", help="also write the tables to this Markdown file")
    args = parser.parse_args()

    started, load_before = datetime.datetime.now(), os.getloadavg()[0]
    weights = full_size_weights()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        results = [measure(weights, None if isa.lower() == "native" else isa, args.rounds)
                   for isa in args.isa or ["native"]]
    finally:
        for hog in hogs:
            hog.kill()
    lines = [f"Measured {started:%Y-%m-%d %H:%M} on {machine()}: the full COCO network, random weights, 368x368, "
             f"{args.rounds} frames per route interleaved; {args.load} busy process(es) beside it; load average "
             f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.", ""]
    for result in results:
        lines += table(result)
    command = " ".join(["python -m benchmarks.engine_choice", *(f"--isa {i}" for i in args.isa),
                        f"--rounds {args.rounds}", f"--load {args.load}" if args.load else ""]).strip()
    lines.append(f"Reproduce: `{command}`")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        out = Path(args.out) if os.path.isabs(args.out) else ROOT / args.out
        part = out.with_name(out.name + ".part")
        part.write_text(text)
        part.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
