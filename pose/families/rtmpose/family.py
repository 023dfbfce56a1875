"""MMPose's RTMPose and RTMO as a family (pose.families' interface): its models, its
command-line options and their help, its estimator, and what identifies a run of it.

The defaults, measured (benchmarks/rtmpose_speed.py, benchmarks/RESULTS_rtmpose.md):
- `--detector`: facts.DEFAULT_DETECTOR. See DETECTOR_CHOICE for the measurement and the reason.
- `--detect_every`: facts.DEFAULT_DETECT_EVERY. See DETECT_EVERY_CHOICE.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple, Union

from pose.core.arguments import MAX_COUNT, argument_type, parse_int
from pose.core.errors import EXIT_USAGE, NetworkError, UsageError
from pose.core.files import file_sha256
from pose.core.paths import display_path, models_command
from pose.families.rtmpose import facts
from pose.families.rtmpose.models import (
    MODELS,
    RTMModel,
    archives,
    download_command,
    get_detector,
    get_model,
    network_path,
    recorded,
)

log = logging.getLogger("pose")

DEFAULT_MODEL = "human"
MODEL_HELP = ("MMPose's model, case-insensitive, - and _ alike: human (MMPose's alias: RTMPose-m 256x192 + a "
              "person detector, COCO-17), rtmpose-t|s|m|l (256x192; t fastest, l most accurate), "
              "rtmpose-m-384x288, rtmpose-l-384x288, rtmo-s|m|l (one stage, no detector: one network run a "
              "frame whatever the crowd) or body_with_feet (Halpe-26: COCO-17 + head, neck, hip and six foot "
              "points); weights: ./getModels.sh NAME (default: human)")
NEGATIVE_OPTIONS: Tuple[str, ...] = ()
# Why the defaults are what they are (the help and docs quote these; measured figures in
# benchmarks/RESULTS_rtmpose.md).
DETECTOR_CHOICE = ("YOLOX-tiny 416, person AP 47.7: measured on 2 cores with --detect_every 5 the video tool "
                   "ran 36 frames/s with 3 people with AMX, 21 without; YOLOX-nano, AP 38.9, was 5-27%% faster a "
                   "frame (most with one person and no AMX) and finds fewer people")
DETECT_EVERY_CHOICE = ("5: measured on 2 cores, YOLOX-tiny's 20 ms run (bf16) then costs 4 ms a frame, and 10 "
                       "gained 2-26%% more frames/s, most with one person; someone who walks in is found within "
                       "5 frames, 1/6 s at 30 fps")

parse_model = get_model


def _detect_every(text: str) -> int:
    return parse_int(text, 1, MAX_COUNT)


def add_options(parser: argparse.ArgumentParser) -> None:
    """RTMPose's options: its files, the person detector, the detector's rhythm in video."""
    group = parser.add_argument_group("RTMPose / RTMO network")
    group.add_argument("--weights", metavar="FILE.onnx",
                       help="run this end2end.onnx (mmdeploy's export, as in mmpose's zips and rtmlib) instead "
                            "of the model's downloaded one; its input size and keypoint count are read from it; "
                            "--model still names the outputs; e.g. --weights my/rtmpose-s.onnx")
    group.add_argument("--detector", metavar="NAME|FILE.onnx",
                       help="the person detector of the top-down models: " + ", ".join(facts.DETECTORS) +
                            " (mmpose's HumanArt YOLOX, ./getModels.sh NAME), or an end2end.onnx with its NMS "
                            "(dets, labels; a file name with 'rtmdet' in it gets RTMDet's normalisation); "
                            f"e.g. --detector yolox-nano (default: {facts.DEFAULT_DETECTOR}: {DETECTOR_CHOICE})")
    group.add_argument("--detect_every", type=argument_type(_detect_every, "int"), metavar="N",
                       help="video: run the detector on every Nth frame and take each person's box from their "
                            "keypoints on the frame before in between (rtmlib's PoseTracker); a frame after "
                            "one with nobody always runs it; e.g. --detect_every 1 (default: "
                            f"{DETECT_EVERY_CHOICE})")


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A one-stage model has no detector to choose or pace."""
    model = get_model(args.mode)
    if model.one_stage:
        for option in ("detector", "detect_every"):
            if getattr(args, option, None) is not None:
                parser.error(f"--{option}: {model.name} is one stage (RTMO finds people itself); no detector to set")
    elif args.detector is not None and not _is_file_name(args.detector):
        try:
            get_detector(args.detector)
        except ValueError as exc:
            parser.error(f"--detector: {exc}")


def _is_file_name(text: str) -> bool:
    return str(text).lower().endswith(".onnx") or Path(text).is_file()


def _files(args: argparse.Namespace) -> Tuple[RTMModel, Path, bool, Optional[Path], Optional[str]]:
    """(model, pose file, whether it is the downloaded one, detector file or None, detector name or None)."""
    model = get_model(args.mode)
    official = not args.weights
    pose = Path(args.weights) if args.weights else network_path(model.network)
    if model.one_stage:
        return model, pose, official, None, None
    chosen = args.detector or facts.DEFAULT_DETECTOR
    if _is_file_name(chosen):
        return model, pose, official, Path(chosen), None
    name = get_detector(chosen).name
    return model, pose, official, network_path(name), name


def _check_present(model: RTMModel, pose: Path, official: bool, detector: Optional[Path],
                   detector_name: Optional[str]) -> None:
    """Missing files: one line that says how to get them."""
    if not pose.is_file():
        if official:
            raise NetworkError(f"{model.name} weights missing: {display_path(pose)} (get them: "
                               f"{download_command(model, detector_name)})", EXIT_USAGE)
        raise NetworkError(f"--weights {display_path(pose)}: no such file", EXIT_USAGE)
    if detector is not None and not detector.is_file():
        if detector_name:
            raise NetworkError(f"detector {detector_name} missing: {display_path(detector)} (get it: "
                               f"{models_command()} {detector_name})", EXIT_USAGE)
        raise NetworkError(f"--detector {display_path(detector)}: no such file", EXIT_USAGE)


def _warn_if_changed(network: str) -> None:
    """A downloaded file whose size is not the one recorded at its first download (cheap;
    the full check is `./getModels.sh --verify NAME`)."""
    archive = archives().get(network)
    record = recorded(archive) if archive else None
    if record and archive.path.is_file() and archive.path.stat().st_size != record.get("size"):
        log.warning(f"{archive.path.name} is {archive.path.stat().st_size} bytes, its first download was "
                    f"{record.get('size')}: not the file first downloaded (check: {models_command()} --verify "
                    f"{network})")


def make_estimator(args: argparse.Namespace, say: Callable[[str], None] = lambda message: None,
                   throughput: bool = False, threads: Optional[int] = None,
                   device: Optional[str] = None) -> Union["RTMPose", "RTMO"]:  # noqa: F821
    """The RTMPose or RTMO estimator the options describe; rejected values become
    UsageError. `say` gets the tools' first line (model, files, device and engine).
    `throughput` is not used: a top-down tracker runs one frame after the other."""
    from pose.families.rtmpose.estimator import RTMPose
    from pose.families.rtmpose.network import plan
    from pose.families.rtmpose.rtmo import RTMO

    try:
        model, pose, official, detector, detector_name = _files(args)
        _check_present(model, pose, official, detector, detector_name)
        chosen = plan(args.engine, device or args.device, args.precision)
        if official:
            _warn_if_changed(model.network)
        if detector_name:
            _warn_if_changed(detector_name)
        if model.one_stage:
            estimator = RTMO(pose, chosen, spec=model, threads=threads)
        else:
            every = args.detect_every or facts.DEFAULT_DETECT_EVERY
            estimator = RTMPose(pose, detector, chosen, spec=model, detect_every=every, threads=threads)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    say(estimator.describe())
    return estimator


def identity(args: argparse.Namespace) -> Tuple[Dict[str, object], Dict[str, object]]:
    """(model, options): the model's files by content (a missing file is reported by the
    workers' model load, with its fix) and the options that change the outputs."""
    model, pose, _, detector, _ = _files(args)

    def digest(path: Optional[Path]) -> Optional[str]:
        return file_sha256(path) if path is not None and path.is_file() else None

    described = {"name": model.name, "weights": str(pose.resolve()), "weights_sha256": digest(pose)}
    options: Dict[str, object] = {}
    if not model.one_stage:
        described.update(detector=str(detector.resolve()), detector_sha256=digest(detector))
        options["detect_every"] = args.detect_every or facts.DEFAULT_DETECT_EVERY
    return described, options


__all__ = ["DEFAULT_MODEL", "MODELS", "MODEL_HELP", "NEGATIVE_OPTIONS", "add_options", "check_options",
           "identity", "make_estimator", "parse_model"]
