"""What reduced precision does to decoding: maps rendered from the annotations, perturbed
as bf16/f16 inference perturbs them, decoded, against the clean maps.

Usage: python -m benchmarks.precision_effect [--abs-noise 0.0066,0.046] [--frames 20]

The network's own deviation (bf16 or f16 against f32, max and mean absolute difference on
full-size random weights) is measured by benchmarks.bench_speed; pass its mean and max
here as --abs-noise. Three perturbations, each on every annotated sample (COCO and MPI
layouts, -1x368) and on crowds of 10 (1280x720 at 656x368):
- the maps stored in bf16 and in f16 (rounding alone: 8 and 11 bits of mantissa);
- Gaussian noise of each --abs-noise standard deviation on every value (a pessimistic
  stand-in: bf16 arithmetic errors are correlated and mostly smaller than the max);
A keypoint counts as found when the right person holds it within 4 net-input pixels.
Needs ../shared/annotations; about a minute on 2 cores.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from pose.families.openpose.people import decode
from pose.families.openpose.preprocess import compute_geometry, parse_net_resolution
from pose.families.openpose.spec import get_spec

LAYOUTS = ("COCO", "MPI")


def to_bf16(maps: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 -> float32, rounding to nearest even as the hardware does."""
    bits = maps.astype(np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


def to_f16(maps: np.ndarray) -> np.ndarray:
    return maps.astype(np.float16).astype(np.float32)


def crowds(samples, spec, degrade, frames: int, seed: int):
    """(keypoint recall, people found / annotated, people assembled exactly) on crowds of 10."""
    from tests.support.crowd import compose_crowd, people_pool
    from tests.support.render_fields import render_output
    from tests.support.scoring import Tally, match_people
    geometry = compute_geometry((1280, 720), parse_net_resolution("656x368"))
    pool = people_pool(samples, spec.name)
    rng = np.random.default_rng(seed)
    tally, found = Tally(), 0
    for _ in range(frames):
        crowd = compose_crowd(pool, 10, (1280, 720), rng)
        people = decode(degrade(render_output(crowd, spec, geometry)), geometry, spec)
        found += len(people)
        tally.add(match_people(crowd, people, geometry.scale, spec), len(people))
    return tally.recall, found / (10 * frames), tally.assembled


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--abs-noise", default="0.0066,0.046",
                    type=lambda v: [float(x) for x in v.split(",") if x.strip()],
                    help="noise standard deviations to try: the measured mean and max abs difference "
                         "(default: issue 10's figures, 0.0066 and 0.046)")
    ap.add_argument("--frames", type=int, default=20, help="crowd frames per case (default 20)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from tests.support.annotations import ANNOTATIONS, load_all
    from tests.support.degrade import add_noise
    from tests.support.scoring import score_samples

    if not ANNOTATIONS.is_dir():
        print(f"precision_effect: annotations not found at {ANNOTATIONS}", file=sys.stderr)
        return 2
    samples = load_all()
    cases = [("clean f32", lambda o, rng: o), ("stored as bf16", lambda o, rng: to_bf16(o)),
             ("stored as f16", lambda o, rng: to_f16(o))]
    cases += [(f"noise std {s:g}", lambda o, rng, s=s: add_noise(o, s, rng)) for s in args.abs_noise]
    print("| layout | maps | samples: keypoint recall | samples: people decoded / annotated | "
          "crowds of 10: recall | crowds: people found per annotated | crowds: assembled exactly |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in LAYOUTS:
        spec = get_spec(name)
        for label, perturb in cases:
            rng = np.random.default_rng(args.seed)
            t = score_samples(samples, spec, degrade=lambda o: perturb(o, rng))
            recall, per_person, assembled = crowds(samples, spec, lambda o: perturb(o, rng), args.frames, args.seed)
            print(f"| {name} | {label} | {t.recall:.4f} | {t.decoded} / {len(t.matches)} | {recall:.4f} | "
                  f"{per_person:.3f} | {assembled:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
