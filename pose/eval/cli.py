"""get-hpe-eval (python -m pose.eval): any model of any family on a folder of images with
a COCO keypoint annotation file: OKS AP / AR (pycocotools), per-joint PCK@0.05 and @0.1
(alpha x the annotated box's longer side) and the time per image. The model's people go
through the same COCO results the image tool writes (--write_coco_json: its layout's
COCO-17 mapping), so every family is measured alike."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from pose.cli import _run, add_model_options, attach_negative_values, family_named
from pose.core.arguments import MAX_COUNT, OneLineParser, argument_type, parse_int
from pose.core.errors import EXIT_OK, InputError, UsageError
from pose.core.layout import COCO17_NAMES, layout_of
from pose.core.paths import display_path
from pose.eval import scoring
from pose.families import get_family
from pose.io.formats import coco_results
from pose.io.inputs import read_image
from pose.io.writers import write_json

_EPILOG = """\
what it prints:
  the model line (model, device, engine), a line per image (not with --quiet), the images
  and people scored,
  OKS AP, AP50, AP75, APm, APl and AR, AR50 (pycocotools' COCOeval; needs pycocotools),
  PCK@0.05 and PCK@0.1 per COCO joint and over all joints: an annotated joint counts when the
  matched person's keypoint is within alpha x the annotated box's longer side; people are
  matched greedily by OKS in each image, and a person not found misses every joint,
  the time per image (the estimator alone: not reading the file), median and mean.
Models whose layout has no COCO-17 mapping (MPI) cannot be scored.

examples:
  get-hpe-eval --model blazepose --images val2017/ --annotations person_keypoints_val2017.json
  python -m pose.eval --model BODY_25 --images shots/ --annotations shots.json --max_images 50
  get-hpe-eval --model blazepose --images val2017/ --annotations anns.json --write_json scores.json"""


def build_parser(family: str) -> argparse.ArgumentParser:
    p = OneLineParser(prog="get-hpe-eval",
                      description="Measure a model on annotated images: COCO keypoint AP/AR, per-joint PCK\n"
                                  "and the speed per image. Exit codes: 0 done, 1 input problem, 2 usage\n"
                                  "or model files problem, 130 interrupted.",
                      epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = p.add_argument_group("data")
    data.add_argument("--images", required=True, metavar="DIR",
                      help="the folder holding the annotation file's images (their file_name below it)")
    data.add_argument("--annotations", required=True, metavar="FILE",
                      help="COCO keypoint annotations (COCO-17, as person_keypoints_val2017.json)")
    data.add_argument("--max_images", type=argument_type(lambda text: parse_int(text, 1, MAX_COUNT), "int"),
                      metavar="N", help="score only the first N images of the file; e.g. --max_images 100")
    add_model_options(p, family)
    out = p.add_argument_group("output")
    out.add_argument("--write_json", metavar="FILE", help="also write the numbers as JSON to FILE")
    out.add_argument("--write_coco_json", metavar="FILE", help="also write the model's COCO keypoint results to FILE")
    out.add_argument("-q", "--quiet", action="store_true", help="no line per image")
    return p


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    family = family_named(argv)
    parser = build_parser(family)
    fam = get_family(family)
    args = parser.parse_args(attach_negative_values(argv, fam.NEGATIVE_OPTIONS))
    fam.check_options(parser, args)
    # What the family's estimators read of the tools' other options.
    args.no_classify, args.display = True, False
    return args


def _image_path(folder: Path, file_name: str) -> Optional[Path]:
    for candidate in (folder / file_name, folder / Path(file_name).name):
        if candidate.is_file():
            return candidate
    return None


def evaluate(args: argparse.Namespace, say=print) -> Dict[str, object]:
    """Run the model over the annotated images and score it; returns the numbers."""
    spec = get_family(args.family).parse_model(args.mode)
    if layout_of(spec).coco17 is None:
        raise UsageError(f"{spec.name} has no COCO-17 mapping to score (its layout: {layout_of(spec).name})")
    folder = Path(args.images)
    if not folder.is_dir():
        raise InputError(f"--images {args.images}: not a folder")
    ground = scoring.load_annotations(Path(args.annotations))
    scoring.check_ids(ground)
    images = ground["images"][:args.max_images] if args.max_images else ground["images"]
    paths = [(im, _image_path(folder, str(im.get("file_name", "")))) for im in images]
    missing = [im["file_name"] for im, path in paths if path is None]
    paths = [(im, path) for im, path in paths if path is not None]
    if not paths:
        raise InputError(f"none of the annotation file's {len(images)} images is in {display_path(folder)} "
                         f"(e.g. {images[0].get('file_name') if images else 'none listed'})")
    if missing:
        print(f"warning: {len(missing)} of {len(images)} images are not in {display_path(folder)} (e.g. "
              f"{missing[0]}); scored without them", file=sys.stderr, flush=True)
    no_ap = scoring.pycocotools_problem()
    if no_ap:
        print(f"warning: no AP/AR: {no_ap}; PCK and speed only", file=sys.stderr, flush=True)

    lines: List[str] = []
    t0 = time.perf_counter()
    estimator = get_family(args.family).make_estimator(args, lines.append)
    load_s = time.perf_counter() - t0
    say(lines[0] if lines else estimator.describe())  # first, so a long run says what runs
    results: List[dict] = []
    seconds: List[float] = []
    for im, path in paths:
        frame = read_image(path)
        t = time.perf_counter()
        people = estimator.estimate(frame)
        seconds.append(time.perf_counter() - t)
        results += coco_results(people, estimator.spec, im["id"])
        if not args.quiet:
            say(f"{display_path(path)}: {len(people)} {'person' if len(people) == 1 else 'people'} "
                f"({1000 * seconds[-1]:.0f} ms)")
    ids = [im["id"] for im, _ in paths]
    annotations = [a for a in ground["annotations"] if a["image_id"] in set(ids)]
    pairs = scoring.match(annotations, results)
    pck = scoring.pck(pairs)
    summary: Dict[str, object] = {
        "model": estimator.spec.name, "describe": lines[0] if lines else estimator.describe(),
        "engine": estimator.engine_label, "images": len(paths), "missing_images": len(missing),
        "annotated_people": len(pairs),
        "people_with_joints": sum(bool(np.any(np.asarray(a["keypoints"])[2::3] > 0)) for a, _ in pairs),
        "found_people": len(results),
        "matched_people": sum(found is not None for _, found in pairs),
        "ap": None if no_ap else scoring.coco_ap(ground, results, ids),
        "pck": {str(a): {"per_joint": dict(zip(COCO17_NAMES, _listed(pck.rate(a)))), "all": _number(pck.overall(a))}
                for a in scoring.PCK_ALPHAS},
        "labelled_joints": dict(zip(COCO17_NAMES, pck.labelled.astype(int).tolist())),
        "ms_per_image": {"median": 1000 * float(np.median(seconds)), "mean": 1000 * float(np.mean(seconds))},
        "load_s": load_s,
    }
    if args.write_coco_json:
        write_json(Path(args.write_coco_json), results)
    if args.write_json:
        write_json(Path(args.write_json), summary)
    return summary


def _number(x: float) -> Optional[float]:
    return None if np.isnan(x) else round(float(x), 4)


def _listed(values: np.ndarray) -> List[Optional[float]]:
    return [_number(v) for v in values]


def report(summary: Dict[str, object]) -> List[str]:
    """The numbers as the tool prints them."""
    out = [f"{summary['images']} images, {summary['annotated_people']} annotated people ({summary['people_with_joints']} "
           f"with labelled joints), {summary['found_people']} found, {summary['matched_people']} matched to an annotated "
           "person"]
    ap = summary["ap"]
    if ap is not None:
        out.append("OKS (pycocotools, 17 COCO keypoints): " + "  ".join(f"{k} {ap[k]:.3f}" for k in
                                                                        ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50")))
    pck = summary["pck"]
    alphas = [str(a) for a in scoring.PCK_ALPHAS]
    out.append("PCK per joint (within alpha x the annotated box's longer side; a person not found misses):")
    out.append(f"  {'joint':16s}" + "".join(f"{'PCK@' + a:>10s}" for a in alphas) + f"{'annotated':>11s}")
    labelled = summary["labelled_joints"]
    for name in COCO17_NAMES:
        cells = "".join(f"{_cell(pck[a]['per_joint'][name]):>10s}" for a in alphas)
        out.append(f"  {name:16s}{cells}{labelled[name]:>11d}")
    out.append(f"  {'all':16s}" + "".join(f"{_cell(pck[a]['all']):>10s}" for a in alphas)
               + f"{sum(labelled.values()):>11d}")
    ms = summary["ms_per_image"]
    out.append(f"speed: {ms['median']:.1f} ms per image (median; mean {ms['mean']:.1f}), the estimator alone; "
               f"model loaded in {summary['load_s']:.1f} s")
    return out


def _cell(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"


def _eval_tool(argv: Optional[Sequence[str]]) -> int:
    args = parse_args(argv)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))
    summary = evaluate(args, say)
    if args.quiet:
        print(summary["describe"], flush=True)
    for line in report(summary):
        print(line, flush=True)
    return EXIT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    """get-hpe-eval; returns the exit status."""
    return _run(_eval_tool, "get-hpe-eval", argv)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["build_parser", "evaluate", "main", "parse_args", "report"]
