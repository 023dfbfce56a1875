"""Time pose.families.openpose on rendered network outputs of synthetic crowds.

Usage: python -m benchmarks.bench_decode [--model COCO] [--people 10] [--frame 1280x720]
       [--net-resolution 656x368] [--frames 20] [--repeats 20]

The maps are rendered from real annotations (tests/support/render_fields.py) for crowds of
`--people` skeletons (tests/crowd.py, fixed seed), so no network is needed. Prints the
median and 90th percentile decoding time per frame and the people found.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Tuple

import numpy as np

from pose.families.openpose.people import decode
from pose.families.openpose.preprocess import compute_geometry, parse_net_resolution
from pose.families.openpose.spec import get_spec

ROOT = Path(__file__).resolve().parent.parent


def decode_times(pool, spec, geometry, frame_size: Tuple[int, int], people: int, frames: int, repeats: int,
                 seed: int = 0) -> Tuple[List[float], List[int]]:
    """Seconds of each timed decode, and the people found, over `frames` crowds of
    `people` skeletons from `pool` (tests/support/crowd.py) rendered into the maps a
    network would give (one untimed decode of each first)."""
    from tests.support.crowd import compose_crowd
    from tests.support.render_fields import render_output

    rng = np.random.default_rng(seed)
    times, found = [], []
    for _ in range(frames):
        output = render_output(compose_crowd(pool, people, frame_size, rng), spec, geometry)
        decode(output, geometry, spec)  # warm-up
        for _ in range(repeats):
            t0 = time.perf_counter()
            found_now = decode(output, geometry, spec)
            times.append(time.perf_counter() - t0)
        found.append(len(found_now))
    return times, found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="COCO")
    ap.add_argument("--people", type=int, default=10)
    ap.add_argument("--frame", default="1280x720", help="original frame size WxH")
    ap.add_argument("--net-resolution", default="656x368")
    ap.add_argument("--frames", type=int, default=20, help="different crowds")
    ap.add_argument("--repeats", type=int, default=20, help="timed decodes per crowd")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        from tests.support.annotations import load_all
        from tests.support.crowd import people_pool

        spec = get_spec(args.model)
        size = args.frame.lower().split("x")
        if len(size) != 2 or not all(v.isdigit() and int(v) > 0 for v in size):
            raise ValueError(f"bad frame size {args.frame!r}: expected WxH such as 1280x720")
        fw, fh = (int(v) for v in size)
        geometry = compute_geometry((fw, fh), parse_net_resolution(args.net_resolution))
        pool = people_pool(load_all(), spec.name if spec.name in ("COCO", "MPI") else "MPI")
    except (ValueError, OSError) as exc:
        print(f"bench_decode: {exc}", file=sys.stderr)
        return 2
    times, found = decode_times(pool, spec, geometry, (fw, fh), args.people, args.frames, args.repeats, args.seed)
    ms = np.array(times) * 1e3
    print(f"{spec.name}, {args.people} people, frame {fw}x{fh}, net input "
          f"{geometry.input_size[0]}x{geometry.input_size[1]}, maps "
          f"{geometry.output_size[0]}x{geometry.output_size[1]}x{spec.n_channels}")
    print(f"decode: median {np.median(ms):.2f} ms, p90 {np.percentile(ms, 90):.2f} ms, "
          f"min {ms.min():.2f} ms over {len(ms)} runs ({args.frames} crowds); "
          f"people found per crowd: mean {np.mean(found):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
