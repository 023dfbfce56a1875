"""Full-width check: the committed deploy files load full-size random weights in cv2.dnn.

Writes random .caffemodel files of the exact architecture (~200 MB for COCO/MPI, ~105 MB
for BODY_25; the real weights are never downloaded here), loads each once with the
committed prototxt, and prints the file size, the output shape and the time of one
forward pass. Not part of the test suite (slow).

    python -m benchmarks.check_full_size [--size 368x368] [--model BODY_25 ...]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pose.families.openpose.net.architecture import build_layers
from pose.families.openpose.spec import MODELS
from pose.runtime import device as network
from tests.support.random_weights import write_random_caffemodel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="368x368", help="net input WxH (multiples of 8)")
    parser.add_argument("--model", action="append", choices=list(MODELS),
                        help="check only this model; repeatable (default: every model)")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.model or MODELS:
            spec = MODELS[name]
            weights = Path(tmp) / f"{name}.caffemodel"
            write_random_caffemodel(weights, build_layers(spec), seed=0)
            net = network.load_caffe(spec.prototxt, weights)
            blob = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 3, h, w)).astype(np.float32)
            t0 = time.perf_counter()
            out = network.forward(net, blob)
            dt = time.perf_counter() - t0
            ok = out.shape == (1, spec.n_channels, h // 8, w // 8) and np.isfinite(out).all()
            print(f"{name:7s} weights {weights.stat().st_size:>11,d} B  output {out.shape}  "
                  f"first forward {dt:.2f} s  {'OK' if ok else 'WRONG'}")
            if not ok:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
