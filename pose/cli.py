"""The command-line tools get_hpe_image.py and get_hpe_video.py: their arguments (one
definition shared by both) and their main functions, which only wire the package's
stages together.

Exit codes (pose.errors): 0 success; 1 an input or output problem (some files may have
been processed); 2 a usage problem (bad option value, missing or unusable model files);
130 interrupted (Ctrl-C). Every failure is one line on stderr, never a traceback
(set OPENCV_HPE_DEBUG=1 to see one for unexpected errors). Each option's value is
checked by the module that owns it; the argument types here only call those.
"""
from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from pose.decode.people import DecodeOptions
from pose.decode.preprocess import DEFAULT_NET_RESOLUTION, parse_net_resolution, parse_scales
from pose.engine import DEVICES, ENGINES, parse_device, parse_engine
from pose.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, InputError, PoseError, UsageError
from pose.estimator import PoseEstimator
from pose.io.batch import RAY_LOCAL, claim_outputs, is_batch, run_batch
from pose.io.images import ImageOptions, run_images
from pose.io.inputs import expand_image_args, open_video, quiet_native_logs
from pose.io.timeline import write_video_timeline
from pose.io.video import VideoOptions, run_video, stop_on_interrupt
from pose.io.writers import ensure_output_dir
from pose.model.architecture import check_stages
from pose.paths import PROJECT_DIR
from pose.spec import FULL_STAGES, MODELS, get_spec

DEFAULT_IMAGE = PROJECT_DIR / "Input" / "example_image1.png"
DEFAULT_VIDEO = PROJECT_DIR / "Input" / "example_video1.mp4"
DEFAULT_OUTPUT = "Output"
DEBUG_ENV = "OPENCV_HPE_DEBUG"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (its default prints the whole
    usage block first)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


# ---------------------------------------------------------------- argument types

def _checked(parse: Callable, name: str, keep_text: bool = False) -> Callable[[str], object]:
    """An argparse type that calls the owner's parser; its ValueError becomes argparse's
    one-line usage error."""
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text if keep_text else value
    convert.__name__ = name
    return convert


_mode = _checked(lambda text: get_spec(text).name, "model")
_net_resolution = _checked(parse_net_resolution, "net_resolution", keep_text=True)
_scales = _checked(parse_scales, "scales")
_device = _checked(parse_device, "device")
_stages = _checked(lambda text: check_stages(_whole(text)), "stages")
_engine = _checked(parse_engine, "engine")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def _int_in(low: int, high: Optional[int] = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"at least {low}" if high is None else f"{low} to {high}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value
    parse.__name__ = "int"
    return parse


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {value:g}")
    return value


# ---------------------------------------------------------------- the parsers

_OUTPUTS = {
    "image": """outputs, in OUTPUT_DIR/images/<MODE>/ for each image <stem>.<ext>:
  <stem>-Keypoints-<MODE>.jpg   numbered keypoints
  <stem>-Skeleton-<MODE>.jpg    limbs in OpenPose's colours, each person's label by the head
  <stem>-<MODE>.json            OpenPose --write_json layout (+ model, image_size, score, pose_class)
""",
    "video": """outputs, in OUTPUT_DIR/videos/<MODE>/ for a video <stem>.<ext>:
  <stem>_skeleton_<MODE>.mp4    the video with skeletons, labels, frame counter and timing
  <stem>_<MODE>.jsonl           one OpenPose-layout JSON object per frame
  <stem>_timeline_<MODE>.png    each person's gesture and posture over time
  manifest.jsonl                (a batch) one record per video: outputs, status, model, options
""",
}
_EXAMPLES = {
    "image": """examples:
  python get_hpe_image.py                                   # Input/example_image1.png, COCO
  python get_hpe_image.py --mode MPI --image_file photo.jpg
  python get_hpe_image.py --image_file Input/ --no_json     # every image in a folder
  python get_hpe_image.py --image_file 'shots/*.png' --max_people 2 --quiet
  python get_hpe_image.py --proto my.prototxt --weights my.caffemodel --mode COCO""",
    "video": """examples:
  python get_hpe_video.py                                   # Input/example_video1.mp4, COCO
  python get_hpe_video.py --video_file clip.mp4 --mode MPI_4 --every 2
  python get_hpe_video.py --video_file 0 --display          # webcam 0, q or Esc to stop
  python get_hpe_video.py --video_file clip.mp4 --start_frame 100 --max_frames 50 --quiet
  python get_hpe_video.py --video_file dataset/ --recursive --workers 2   # a batch, resumable
  python get_hpe_video.py --video_file @videos.txt --ray auto              # on a Ray cluster""",
}


def build_parser(tool: str) -> argparse.ArgumentParser:
    """The argument parser of 'image' (get_hpe_image.py) or 'video' (get_hpe_video.py)."""
    if tool not in _EXAMPLES:
        raise ValueError(f"unknown tool {tool!r}")
    what = "images" if tool == "image" else "a video"
    p = _Parser(prog=f"get_hpe_{tool}.py",
                description=f"Find every person's body keypoints in {what} with OpenPose's Caffe\n"
                            "networks through OpenCV's DNN module; write rendered views and\n"
                            "OpenPose-format JSON. Exit codes: 0 done, 1 input/output problem,\n"
                            "2 usage or model files problem, 130 interrupted.",
                epilog=_OUTPUTS[tool] + "\n" + _EXAMPLES[tool],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("input")
    if tool == "image":
        src.add_argument("--image_file", nargs="+", default=[str(DEFAULT_IMAGE)], metavar="PATH",
                         help="image files, folders (their images) or quoted globs; "
                              "e.g. --image_file a.jpg b.png 'shots/*.jpg' (default: Input/example_image1.png)")
    else:
        src.add_argument("--video_file", nargs="+", default=[str(DEFAULT_VIDEO)], metavar="SOURCE",
                         help="a video file, a camera index or a stream URL; or many videos: files, "
                              "folders, quoted globs, @list.txt (one path a line); e.g. --video_file 0, "
                              "--video_file clips/ 'more/*.mp4' (default: Input/example_video1.mp4)")
        src.add_argument("--start_frame", type=_int_in(0), default=0, metavar="N",
                         help="skip to frame N (0-based) first; e.g. --start_frame 100")
        src.add_argument("--max_frames", type=_int_in(1), metavar="N",
                         help="stop after N frames; e.g. --max_frames 50")
        src.add_argument("--every", type=_int_in(1), default=1, metavar="N",
                         help="run the network on every Nth frame and reuse its result on the "
                              "frames between (all frames are still written); e.g. --every 3")

    if tool == "video":
        batch = p.add_argument_group("many videos (a batch: several sources, or any option below)")
        batch.add_argument("--recursive", action="store_true",
                           help="also take the videos in the folders' subfolders (outputs keep the layout)")
        batch.add_argument("--overwrite", action="store_true",
                           help="redo videos already done with the same model and options (default: skip them)")
        batch.add_argument("--workers", type=_int_in(1), metavar="N",
                           help="run N videos at once, each worker with its share of the cores "
                                "(default: 1; with --ray, the number of Ray actors)")
        batch.add_argument("--ray", nargs="?", const=RAY_LOCAL, metavar="ADDRESS",
                           help="run the videos on a Ray cluster: auto, ray://host:10001, host:6379, or "
                                "nothing for a new local Ray; every node must reach the inputs and the "
                                "output folder (pip install -r requirements-ray.txt)")

    model = p.add_argument_group("model")
    model.add_argument("--model", "--mode", dest="mode", type=_mode, default="COCO", metavar="|".join(MODELS),
                       help="keypoint model, case-insensitive: COCO (18 parts), MPI (15) or MPI_4 "
                            "(MPI cut after 4 stages: faster); e.g. --mode mpi (default: COCO)")
    model.add_argument("--proto", metavar="FILE",
                       help="run this OpenPose-format Caffe deploy file instead of the mode's; "
                            "--mode still gives the keypoint layout; e.g. --proto my/pose_deploy.prototxt")
    model.add_argument("--weights", metavar="FILE",
                       help="use this .caffemodel instead of the mode's downloaded weights; "
                            "e.g. --weights my/pose_iter_440000.caffemodel")
    model.add_argument("--stages", type=_stages, metavar="N",
                       help=f"cut the network after stage N (1-{FULL_STAGES}): faster, less "
                            "refined; not with --proto; e.g. --stages 3")
    model.add_argument("--device", type=_device, default="cpu", metavar="|".join(DEVICES),
                       help="where the network runs; gpu needs an OpenCV built with CUDA and falls "
                            "back to the CPU with a warning; e.g. --device auto (default: cpu)")
    model.add_argument("--engine", type=_engine, default="auto", metavar="|".join(ENGINES),
                       help="inference engine; auto picks the fastest available (default: auto)")
    model.add_argument("--net_resolution", type=_net_resolution, default=DEFAULT_NET_RESOLUTION,
                       metavar="WxH",
                       help="network input size, multiples of 8; -1 follows the image's aspect "
                            f"ratio; e.g. --net_resolution 656x368 (default: {DEFAULT_NET_RESOLUTION})")
    model.add_argument("--scales", type=_scales, default=(1.0,), metavar="S1,S2,...",
                       help="average the network over several input scales (slower, steadier); "
                            "e.g. --scales 1.0,0.75,0.5 (default: 1.0 only)")

    dec = p.add_argument_group("decoding")
    dec.add_argument("--threshold", type=_threshold, metavar="T",
                     help="heatmap peak threshold in (0, 1); lower finds more, less certain parts; "
                          "e.g. --threshold 0.1 (default: the model's, " + ", ".join(
                              f"{s.thresholds.peak:g} {n}" for n, s in MODELS.items()) + ")")
    dec.add_argument("--single_person", action="store_true",
                     help="the seed's method: the strongest peak of each part, one person at most")
    dec.add_argument("--max_people", type=_int_in(1), metavar="N",
                     help="keep the N highest-scoring people; e.g. --max_people 2")
    dec.add_argument("--no_classify", action="store_true",
                     help="do not label gestures and postures (no labels, no \"pose_class\" in JSON)")

    out = p.add_argument_group("output")
    out.add_argument("--output_dir", default=DEFAULT_OUTPUT, metavar="DIR",
                     help=f"where results go, in {'images' if tool == 'image' else 'videos'}/<MODE>/ "
                          f"below it; e.g. --output_dir /tmp/poses (default: {DEFAULT_OUTPUT})")
    out.add_argument("--no_json", action="store_true",
                     help="do not write the JSON" + (" Lines" if tool == "video" else "") + " file")
    if tool == "video":
        out.add_argument("--no_timeline", action="store_true",
                         help="do not draw the <stem>_timeline_<MODE>.png picture of each person's labels over time")
    out.add_argument("--display", action="store_true",
                     help="also show the results in windows (needs a display; off by default)")
    out.add_argument("--quiet", action="store_true",
                     help="print nothing but warnings, errors and the final summary line "
                          "(no progress bar)")
    return p


def _attach_negative_values(argv: Sequence[str]) -> List[str]:
    """`--net_resolution -1x368` as users (and OpenPose) write it: argparse takes a value
    starting with '-' for an option, so it is attached with '=' first."""
    out: List[str] = []
    for arg in argv:
        if out and out[-1] == "--net_resolution" and arg.startswith("-") and arg[1:2].isdigit():
            out[-1] = f"--net_resolution={arg}"
        else:
            out.append(arg)
    return out


def parse_args(tool: str, argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    argv = sys.argv[1:] if argv is None else argv
    return build_parser(tool).parse_args(_attach_negative_values(list(argv)))


# ---------------------------------------------------------------- wiring

class _WarningLine(logging.Handler):
    """The "pose" logger's warnings as the tools print them: `warning: ...`, one line."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"warning: {record.getMessage()}", file=sys.stderr, flush=True)


def _route_warnings() -> None:
    logger = logging.getLogger("pose")
    if not any(isinstance(h, _WarningLine) for h in logger.handlers):
        logger.addHandler(_WarningLine(logging.WARNING))
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # the root logger's handlers would print it a second time


def _say_for(args: argparse.Namespace) -> Callable[[str], None]:
    if args.quiet:
        return lambda message: None
    return lambda message: print(message, flush=True)


def make_estimator(args: argparse.Namespace, say: Callable[[str], None] = lambda message: None,
                   threads: Optional[int] = None, device: Optional[str] = None) -> PoseEstimator:
    """The PoseEstimator the options describe; rejected values become UsageError.

    `say` gets one line naming the model, device and engine that will run (the tools'
    first output line, so users see what `--engine auto` and `--device` chose). A batch
    worker passes its share of the cores (`threads`) and a Ray GPU actor its `device`.
    """
    try:
        options = DecodeOptions(threshold=args.threshold, max_people=args.max_people,
                                single_person=args.single_person)
        estimator = PoseEstimator(args.mode, proto=args.proto, weights=args.weights, device=device or args.device,
                                  net_resolution=args.net_resolution, stages=args.stages,
                                  scales=args.scales, engine=args.engine, decode_options=options,
                                  threads=threads)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    net = f"{estimator.stages} stages" if args.proto is None else f"definition {Path(args.proto).name}"
    say(f"{estimator.spec.name}, {net}, on {estimator.placement.label} with {estimator.engine_label}")
    return estimator


def _error_line(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def _image_tool(argv: Optional[Sequence[str]]) -> int:
    args = parse_args("image", argv)
    paths, problems = expand_image_args(args.image_file)
    if not paths and len(problems) == 1:
        raise InputError(problems[0])
    for problem in problems:
        _error_line(problem)
    if not paths:
        raise InputError("no images to process")
    out_dir = ensure_output_dir(Path(args.output_dir) / "images" / args.mode)
    options = ImageOptions(out_dir=out_dir, write_json=not args.no_json, classify=not args.no_classify,
                           display=args.display)
    single = len(paths) == 1 and not problems
    # A single input's failure is the run's one error line; with several, each bad
    # file gets a line and the good ones are still processed.
    say = _say_for(args)
    summary = run_images(paths, lambda: make_estimator(args, say), options, say,
                         on_failure=(lambda message: None) if single else _error_line)
    if single and summary.failed:
        raise InputError(summary.failed[0])
    print(summary.line(out_dir), flush=True)
    return EXIT_FAILED if summary.failed or problems else EXIT_OK


def _video_tool(argv: Optional[Sequence[str]]) -> int:
    args = parse_args("video", argv)
    if is_batch(args):
        if args.display:
            raise UsageError("--display shows one video at a time; not with several videos or batch options")
        return run_batch(args, functools.partial(make_estimator, args))
    say = _say_for(args)
    source = open_video(args.video_file[0], args.start_frame)
    try:
        out_dir = ensure_output_dir(Path(args.output_dir) / "videos" / args.mode)
        with claim_outputs(out_dir, source.stem, args.mode):  # a second run on them is refused
            estimator = make_estimator(args, say)
            options = VideoOptions(out_dir=out_dir, write_json=not args.no_json, classify=not args.no_classify,
                                   display=args.display, max_frames=args.max_frames, every=args.every,
                                   progress=not args.quiet)
            stop = threading.Event()
            with stop_on_interrupt(stop):
                summary = run_video(source, estimator, options, stop)
            if not args.no_timeline:
                summary.files.append(write_video_timeline(summary, source.name, source.stem, out_dir, args.mode))
    finally:
        source.capture.release()
    for line in summary.timeline:
        say(line)
    print(summary.line(), flush=True)
    return EXIT_INTERRUPTED if summary.interrupted else EXIT_OK


def _run(tool: Callable[[Optional[Sequence[str]]], int], prog: str,
         argv: Optional[Sequence[str]]) -> int:
    """The error boundary: every known failure becomes one line and an exit code."""
    quiet_native_logs()
    _route_warnings()
    try:
        return tool(argv)
    except PoseError as exc:
        code, message = exc.exit_code, str(exc)
    except KeyboardInterrupt:
        code, message = EXIT_INTERRUPTED, "interrupted"
    except MemoryError:
        code, message = EXIT_FAILED, "out of memory (try a smaller --net_resolution or input)"
    except Exception as exc:  # a bug: still one line unless debugging
        if os.environ.get(DEBUG_ENV):
            raise
        code = EXIT_FAILED
        message = f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for a traceback)"
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    return code


def image_main(argv: Optional[Sequence[str]] = None) -> int:
    """get_hpe_image.py"""
    return _run(_image_tool, "get_hpe_image.py", argv)


def video_main(argv: Optional[Sequence[str]] = None) -> int:
    """get_hpe_video.py"""
    return _run(_video_tool, "get_hpe_video.py", argv)
