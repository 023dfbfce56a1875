"""How much faster RTMPose-s would run in int8 than in the precision the tools use: the
random exact graph (pose/families/rtmpose/architecture.py) quantised by NNCF's
post-training quantisation on random calibration crops, timed beside the float graph on
OpenVINO, 3 crops a run (the 3-people frame of benchmarks/rtmpose_speed.py).

Speed only: with random weights the quantised network's accuracy means nothing, and the
trained weights needed to calibrate it and to measure its accuracy cannot be downloaded
where this project is tested, so the tools do not offer int8. NNCF is not a requirement:

    pip install nncf
    python -m benchmarks.int8_headroom [--precision bf16 --precision f32]
    ONEDNN_MAX_CPU_ISA=AVX2 python -m benchmarks.int8_headroom --precision f32
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from benchmarks.common import machine
from benchmarks.rtmpose_speed import CACHE

CROPS = 3


def _median_ms(compiled, blob: np.ndarray, runs: int = 30) -> float:
    request = compiled.create_infer_request()
    for _ in range(5):
        request.infer({0: blob})
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        request.infer({0: blob})
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", action="append", choices=("bf16", "f32"),
                        help="OpenVINO's inference precision for the float graph (repeatable; default bf16 and f32)")
    args = parser.parse_args()
    try:
        import nncf
        import openvino as ov
    except ImportError as exc:
        print(f"int8_headroom: needs {exc.name} (pip install nncf)", file=sys.stderr)
        return 2
    from pose.families.rtmpose.architecture import cached_model

    core = ov.Core()
    path = str(cached_model("s", CACHE))
    shape = [CROPS, 3, 256, 192]
    rng = np.random.default_rng(0)
    crops = [rng.normal(0, 1, shape).astype(np.float32) for _ in range(20)]  # normalised crops' range
    float_model = core.read_model(path)
    float_model.reshape(shape)
    int8_model = core.read_model(path)
    int8_model.reshape(shape)
    int8_model = nncf.quantize(int8_model, nncf.Dataset(crops), subset_size=len(crops))
    print(f"machine: {machine()}; OpenVINO {ov.__version__}, NNCF {nncf.__version__}")
    for precision in args.precision or ["bf16", "f32"]:
        config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
        plain = _median_ms(core.compile_model(float_model, "CPU", config), crops[0])
        quantised = _median_ms(core.compile_model(int8_model, "CPU", config), crops[0])
        print(f"rtmpose-s, {CROPS} crops: {precision} {plain:.1f} ms, int8 {quantised:.1f} ms "
              f"({plain / quantised:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
