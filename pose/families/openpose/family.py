"""OpenPose as a family (pose.families' interface): its models, its command-line options
and their help, its estimator, and what identifies a run of it."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

from pose.core.arguments import MAX_COUNT, argument_type, parse_int
from pose.core.errors import UsageError
from pose.core.files import file_sha256
from pose.families.openpose.crops import parse_crop_resolution
from pose.families.openpose.estimator import PoseEstimator
from pose.families.openpose.net.architecture import check_stages
from pose.families.openpose.people import DecodeOptions
from pose.families.openpose.preprocess import DEFAULT_NET_RESOLUTION, check_net_size, parse_net_resolution, parse_scales
from pose.families.openpose.spec import FULL_STAGES, MODELS, PARTS, get_spec

DEFAULT_MODEL = "COCO"
MODEL_HELP = ("keypoint model, case-insensitive: COCO (18 parts), MPI (15), MPI_4 (MPI cut after 4 stages: "
              "faster) or BODY_25 (25 parts with MidHip and the feet: OpenPose's most accurate, and faster "
              "than COCO); e.g. --mode body_25 (default: COCO)")
# `--net_resolution -1x368` as users (and OpenPose) write it.
NEGATIVE_OPTIONS = ("--net_resolution",)

parse_model = get_spec
_net_resolution = argument_type(parse_net_resolution, "net_resolution", keep_text=True)
_scales = argument_type(parse_scales, "scales")
_crop_resolution = argument_type(parse_crop_resolution, "crop_resolution", keep_text=True)


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


_stages = argument_type(lambda text: check_stages(_whole(text)), "stages")
_count = argument_type(lambda text: parse_int(text, 1, MAX_COUNT), "int")


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {value:g}")
    return value


def add_options(parser: argparse.ArgumentParser) -> None:
    """OpenPose's options: its files and stage cut, the network input, hands and faces,
    decoding."""
    model = parser.add_argument_group("OpenPose network")
    model.add_argument("--proto", metavar="FILE",
                       help="run this OpenPose-format Caffe deploy file instead of the mode's; "
                            "--mode still gives the keypoint layout; e.g. --proto my/pose_deploy.prototxt")
    model.add_argument("--weights", metavar="FILE",
                       help="use this .caffemodel instead of the mode's downloaded weights; "
                            "e.g. --weights my/pose_iter_440000.caffemodel")
    model.add_argument("--stages", type=_stages, metavar="N",
                       help=f"cut the network after stage N (1-{FULL_STAGES}): faster, less "
                            "refined; BODY_25: 5 (the last heatmap stage left out) or 6; not with "
                            "--proto; e.g. --stages 3")
    model.add_argument("--net_resolution", type=_net_resolution, default=DEFAULT_NET_RESOLUTION,
                       metavar="WxH",
                       help="network input size, multiples of 8; -1 follows the image's aspect "
                            f"ratio; e.g. --net_resolution 656x368 (default: {DEFAULT_NET_RESOLUTION})")
    model.add_argument("--scales", type=_scales, default=(1.0,), metavar="S1,S2,...",
                       help="average the network over several input scales (slower, steadier); "
                            "e.g. --scales 1.0,0.75,0.5 (default: 1.0 only)")

    parts = parser.add_argument_group("hands and faces (OpenPose's --hand and --face; off by default)")
    parts.add_argument("--hand", action="store_true",
                       help="also find 21 keypoints on each hand: OpenPose's hand network on a crop "
                            "ahead of each wrist (up to 2 more network runs per person; weights: "
                            "./getModels.sh hand)")
    parts.add_argument("--face", action="store_true",
                       help="also find 70 face keypoints: OpenPose's face network on a crop round "
                            "each head (1 more network run per person; weights: ./getModels.sh face)")
    for part in ("hand", "face"):
        parts.add_argument(f"--{part}_net_resolution", type=_crop_resolution, default="368x368", metavar="SxS",
                           help=f"the {part} network's square crop, a multiple of 8; smaller is faster and "
                                f"coarser; e.g. --{part}_net_resolution 256x256 (default: 368x368)")

    dec = parser.add_argument_group("decoding")
    dec.add_argument("--threshold", type=_threshold, metavar="T",
                     help="heatmap peak threshold in (0, 1); lower finds more, less certain parts; "
                          "e.g. --threshold 0.1 (default: the model's, " + ", ".join(
                              f"{s.thresholds.peak:g} {n}" for n, s in MODELS.items()) + ")")
    dec.add_argument("--single_person", action="store_true",
                     help="the seed's method: the strongest peak of each part, one person at most")
    dec.add_argument("--max_people", type=_count, metavar="N",
                     help="keep the N highest-scoring people; e.g. --max_people 2")


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Values each valid alone but not together: --net_resolution times the largest of
    --scales must stay a network input the memory can hold."""
    try:
        check_net_size(parse_net_resolution(args.net_resolution), args.scales)
    except ValueError as exc:
        parser.error(f"--net_resolution/--scales: {exc}")


def make_estimator(args: argparse.Namespace, say: Callable[[str], None] = lambda message: None,
                   throughput: bool = False, threads: Optional[int] = None,
                   device: Optional[str] = None) -> PoseEstimator:
    """The PoseEstimator the options describe; rejected values become UsageError. `say`
    gets the tools' first line (model, device and engine: what `--engine auto` and
    `--device` chose)."""
    try:
        options = DecodeOptions(threshold=args.threshold, max_people=args.max_people,
                                single_person=args.single_person)
        estimator = PoseEstimator(args.mode, proto=args.proto, weights=args.weights, device=device or args.device,
                                  net_resolution=args.net_resolution, stages=args.stages,
                                  scales=args.scales, engine=args.engine, precision=args.precision,
                                  decode_options=options, throughput=throughput, threads=threads, hand=args.hand,
                                  face=args.face, hand_net_resolution=args.hand_net_resolution,
                                  face_net_resolution=args.face_net_resolution)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    say(estimator.describe())
    return estimator


def identity(args: argparse.Namespace) -> Tuple[Dict[str, object], Dict[str, object]]:
    """(model, options): the model's files by content (a missing file is reported by the
    workers' model load, with its fix) and the options that change OpenPose's outputs."""
    spec = get_spec(args.mode)
    weights = Path(args.weights) if args.weights else spec.weights.path
    proto = Path(args.proto) if args.proto else None

    def digest(path: Optional[Path]) -> Optional[str]:
        return file_sha256(path) if path is not None and path.is_file() else None

    model = {"name": spec.name, "stages": args.stages or (None if proto else spec.stages),
             "proto": str(proto.resolve()) if proto else None, "proto_sha256": digest(proto),
             "weights": str(weights.resolve()), "weights_sha256": digest(weights)}
    options = {"net_resolution": args.net_resolution, "scales": list(args.scales), "threshold": args.threshold,
               "single_person": args.single_person, "max_people": args.max_people}
    # Hands and faces change every output: each part that is on brings its crop size and
    # its weights (by content) into the identity, so a batch redone with --hand redoes.
    for part in ("hand", "face"):
        on = bool(getattr(args, part, False))
        options[part] = on
        if on:
            options[f"{part}_net_resolution"] = getattr(args, f"{part}_net_resolution")
            model[f"{part}_weights_sha256"] = digest(PARTS[part.upper()].weights.path)
    return model, options
