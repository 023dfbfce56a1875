"""How well pose.families.openpose recovers annotated people from rendered network outputs.

Usage: python -m benchmarks.eval_decode [--frames 50] [--seed 0] [--only paf_samples]

Prints, for the COCO, MPI and BODY_25 layouts (BODY_25 with the feet of
../shared/annotations/coco/test_coco_wholebody.json):
- recall on every annotated sample (../shared/annotations, rendered by
  tests/support/render_fields.py at net resolution -1x368), people split or invented, and
  BODY_25's feet on their own;
- synthetic crowds of 3..15 real skeletons in 1280x720 frames (656x368 net input):
  the fraction of people assembled exactly and the keypoint recall;
- recall on degraded fields: every map blurred, the PAFs alone blurred more, noise,
  weakened heatmap peaks, missing limbs;
- the PAF sampled half a cell off, as OpenPose's own decoder does;
- PAF samples per limb: the fixed 10 against OpenPose's newer adaptive count
  clamp(round(sqrt(5 max(|dx|, |dy|))), 5, 25), on samples, crowds, small people, a
  small net input and degraded fields (what pose.families.openpose.spec's paf_samples was chosen by).
A keypoint counts as found when the right person holds it within 4 net-input pixels.
Takes about 15 minutes on 2 cores, the noisy maps most of it (--only paf_samples: the
last section alone, about 8 minutes).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from pose.families.openpose import people as decode_module
from pose.families.openpose.peaks import input_to_grid
from pose.families.openpose.people import DecodeOptions
from pose.families.openpose.spec import ADAPTIVE, get_spec

ROOT = Path(__file__).resolve().parent.parent

LAYOUTS = ("COCO", "MPI", "BODY_25")
FEET = tuple(range(19, 25))  # BODY_25's LBigToe .. RHeel


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=50, help="crowd frames per size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=("paf_samples",), help="run one section only")
    args = ap.parse_args(argv)
    from tests.support.annotations import ANNOTATIONS, load_all
    from tests.support.degrade import add_noise, blur
    from tests.support.scoring import score_crowds, score_samples

    if not ANNOTATIONS.is_dir():
        print(f"eval_decode: annotations not found at {ANNOTATIONS}", file=sys.stderr)
        return 2
    samples = load_all()
    specs = [get_spec(name) for name in LAYOUTS]
    if args.only == "paf_samples":
        paf_samples_section(samples, specs, args)
        return 0

    print("## Annotated samples (-1x368)")
    for spec in specs:
        t = score_samples(samples, spec)
        found = sum(m.found for m in t.matches)
        visible = sum(m.visible for m in t.matches)
        reachable = sum(m.reachable for m in t.matches)
        print(f"{spec.name}: recall {found}/{visible} = {t.recall:.3f} ({reachable} reachable); people "
              f"{t.decoded} decoded / {len(t.matches)} annotated, {t.extra} extra, "
              f"{t.wrong} parts on the wrong person")
        if spec.name == "BODY_25":
            feet_found, feet_visible = t.counts_of(FEET)
            print(f"BODY_25 feet: recall {feet_found}/{feet_visible} = {t.recall_of(FEET):.3f}")

    print(f"\n## Crowds (1280x720 -> 656x368, {args.frames} frames each, seed {args.seed})")
    print("layout people assembled  recall  extra-people  wrong-parts")
    for spec in specs:
        for n in (3, 6, 10, 15):
            t = score_crowds(samples, spec, n, args.frames, seed=args.seed)
            print(f"{spec.name:6} {n:6} {t.assembled:9.3f} {t.recall:7.3f} {t.extra:13} "
                  f"{t.wrong:12}")

    print("\n## Degraded fields: keypoint recall on the annotated samples")
    cases = [("clean", {})]
    cases += [(f"blur all maps {s} cells", dict(degrade=lambda o, s=s: blur(o, s)))
              for s in (0.5, 1.0, 1.5, 2.0)]
    cases += [(f"PAF blur {s} cells (default 0.6)", dict(paf_blur=s)) for s in (1.0, 1.5, 2.0, 3.0)]
    cases += [(f"noise std {s}", dict(noise=s)) for s in (0.02, 0.05, 0.1, 0.2)]
    cases += [(f"noise std {s}, threshold 0.2", dict(noise=s, options=DecodeOptions(threshold=0.2)))
              for s in (0.05, 0.1)]
    cases += [(f"heatmap peak {a} (default 0.9)", dict(peak=a)) for a in (0.7, 0.5, 0.3, 0.15)]
    cases += [(f"limbs missing {int(q * 100)}%", dict(drop_fraction=q)) for q in (0.05, 0.1, 0.2, 0.3)]
    print(f"{'case':40} " + " ".join(f"{s.name:>6}" for s in specs))
    for label, kwargs in cases:
        row = []
        for spec in specs:
            rng = np.random.default_rng(args.seed)
            kw = dict(kwargs)
            if "noise" in kw:
                std = kw.pop("noise")
                kw["degrade"] = lambda o, std=std: add_noise(o, std, rng)
            if "drop_fraction" in kw:
                kw["rng"] = rng
            row.append(score_samples(samples, spec, **kw).recall)
        print(f"{label:40} " + " ".join(f"{r:6.3f}" for r in row))

    print("\n## PAF sampled half a cell off (OpenPose's decoder) instead of at keypoint/8")
    aligned = decode_module.paf_grid
    decode_module.paf_grid = input_to_grid
    try:
        for spec in specs:
            t = score_samples(samples, spec)
            c = score_crowds(samples, spec, 10, args.frames, seed=args.seed)
            print(f"{spec.name}: samples recall {t.recall:.3f}, {t.extra} extra people; "
                  f"crowds of 10 assembled {c.assembled:.3f}, recall {c.recall:.3f}")
    finally:
        decode_module.paf_grid = aligned
    print()
    paf_samples_section(samples, specs, args)
    return 0


def paf_samples_section(samples, specs, args) -> None:
    """Fixed 10 samples per limb against OpenPose's adaptive count, every model."""
    from tests.support.degrade import add_noise, blur
    from tests.support.scoring import PAF_SAMPLES, score_crowds, score_samples

    variants = (("fixed 10", PAF_SAMPLES), ("adaptive", ADAPTIVE))
    print("## PAF samples per limb: fixed 10 vs adaptive clamp(round(sqrt(5 max(|dx|,|dy|))), 5, 25)")
    print(f"(crowds: {args.frames} frames each, seed {args.seed}; recall / assembled; "
          "pose.families.openpose.spec's choice per model: " + ", ".join(
              f"{s.name} {'adaptive' if s.paf_samples is ADAPTIVE else s.paf_samples}" for s in specs) + ")")
    cases = [
        ("samples -1x368", lambda spec: score_samples(samples, spec)),
        ("samples -1x184 (short limbs)", lambda spec: score_samples(samples, spec, resolution="-1x184")),
        ("samples, PAF blur 2.0", lambda spec: score_samples(samples, spec, paf_blur=2.0)),
        ("samples, all maps blurred 1.5", lambda spec: score_samples(samples, spec, degrade=lambda o: blur(o, 1.5))),
        ("samples, noise 0.1", lambda spec: score_samples(
            samples, spec, degrade=lambda o, rng=np.random.default_rng(args.seed): add_noise(o, 0.1, rng))),
        ("samples, noise 0.2", lambda spec: score_samples(
            samples, spec, degrade=lambda o, rng=np.random.default_rng(args.seed): add_noise(o, 0.2, rng))),
        ("samples, 20% limbs missing", lambda spec: score_samples(
            samples, spec, drop_fraction=0.2, rng=np.random.default_rng(args.seed))),
    ]
    cases += [(f"crowds of {n}", lambda spec, n=n: score_crowds(samples, spec, n, args.frames, seed=args.seed))
              for n in (6, 10, 15)]
    cases += [(f"crowds of {n}, people 10-20% of the height", lambda spec, n=n: score_crowds(
        samples, spec, n, args.frames, seed=args.seed, height_range=(0.1, 0.2))) for n in (10, 20)]
    header = f"{'case':44}" + "".join(f" {s.name + ' ' + v:>22}" for s in specs for v, _ in variants)
    print(header)
    totals = {(s.name, v): [] for s in specs for v, _ in variants}
    for label, run in cases:
        row = []
        for spec in specs:
            for name, value in variants:
                t = run(replace(spec, paf_samples=value))
                totals[(spec.name, name)].append(t.recall)
                row.append(f"{t.recall:.4f}/{t.assembled:.3f}")
        print(f"{label:44}" + "".join(f" {r:>22}" for r in row))
    print(f"{'mean recall':44}" + "".join(
        f" {np.mean(totals[(s.name, v)]):>22.4f}" for s in specs for v, _ in variants))


if __name__ == "__main__":
    sys.exit(main())
