"""The command-line tools get_hpe_image.py and get_hpe_video.py: their arguments (one
definition shared by both) and their main functions, which only wire the package's
stages together.

Exit codes (pose.core.errors): 0 success; 1 an input or output problem (some files may have
been processed); 2 a usage problem (bad option value, missing or unusable model files);
130 interrupted (Ctrl-C); 143 terminated (SIGTERM, handled as Ctrl-C); 141 stdout closed
(`| head`). Every failure is one line on stderr, never a traceback
(set OPENCV_HPE_DEBUG=1 to see one for unexpected errors). Each option's value is
checked by the module that owns it; the argument types here only call those.
"""
from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import textwrap
import threading
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from pose.app.batch.driver import run_batch
from pose.app.batch.jobs import RAY_LOCAL, is_batch
from pose.app.images import ImageOptions, run_images
from pose.app.timeline import write_video_timeline
from pose.app.video import VideoOptions, run_video
from pose.app.video import output_paths as video_output_paths
from pose.core.arguments import MAX_COUNT, OneLineParser, argument_type, parse_int
from pose.core.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    InputError,
    OutputError,
    PoseError,
    UsageError,
)
from pose.core.estimator import Estimator
from pose.core.layout import layout_of
from pose.core.paths import PROJECT_DIR
from pose.core.quiet import quiet_native_logs
from pose.core.signals import exit_code_of, sigterm_raises, stop_on_signals, word_for
from pose.families import DEFAULT_FAMILY, FAMILIES, family_of_model, get_family
from pose.io.formats import KEYPOINT_SCALES, parse_keypoint_scale
from pose.io.inputs import expand_image_args, open_video
from pose.io.writers import claim_outputs, coco_mapping_path, ensure_output_dir
from pose.runtime import DEVICES, ENGINES, PRECISIONS, parse_device, parse_engine, parse_precision

DEFAULT_IMAGE = PROJECT_DIR / "Input" / "example_image1.png"
DEFAULT_VIDEO = PROJECT_DIR / "Input" / "example_video1.mp4"
DEFAULT_OUTPUT = "Output"
DEBUG_ENV = "OPENCV_HPE_DEBUG"


_Parser = OneLineParser  # usage errors in one line (shared with getModels.sh)


# ---------------------------------------------------------------- argument types

_device = argument_type(parse_device, "device")
_engine = argument_type(parse_engine, "engine")
_keypoint_scale = argument_type(parse_keypoint_scale, "keypoint_scale")
_precision = argument_type(parse_precision, "precision")


def _on_off_auto(text: str) -> str:
    value = str(text).strip().lower()
    if value not in ("auto", "on", "off"):
        raise ValueError(f"{text!r}: choose one of auto, on, off")
    return value


def _int_in(low: int, high: Optional[int] = None) -> Callable[[str], int]:
    """A whole number from `low` up to `high` (default: pose.core.arguments.MAX_COUNT, past
    which no count means anything)."""
    return argument_type(lambda text: parse_int(text, low, MAX_COUNT if high is None else high), "int")


# ---------------------------------------------------------------- the parsers

_OUTPUTS = {
    "image": """outputs, in OUTPUT_DIR/images/<MODE>/ for each image <stem>.<ext>:
  <stem>-Keypoints-<MODE>.jpg   numbered keypoints
  <stem>-Skeleton-<MODE>.jpg    limbs in OpenPose's colours, each person's label by the head
  <stem>-<MODE>.json            OpenPose --write_json layout (+ model, image_size, score, pose_class)
and, when asked:
  DIR/<stem>_keypoints.json     --write_json DIR: OpenPose's own per-image file
  FILE, FILE's .image_ids.json  --write_coco_json FILE: COCO keypoint results of all images
""",
    "video": """outputs, in OUTPUT_DIR/videos/<MODE>/ for a video <stem>.<ext>:
  <stem>_skeleton_<MODE>.mp4    the video with skeletons, labels, frame counter and timing
  <stem>_<MODE>.jsonl           one OpenPose-layout JSON object per frame
  <stem>_timeline_<MODE>.png    each person's gesture and posture over time
  manifest.jsonl                (a batch) one record per video: outputs, status, model, options
and, when asked:
  DIR/<stem>_<frame, 12 digits>_keypoints.json
                                --write_json DIR: OpenPose's own file for every frame
  FILE, FILE's .image_ids.json  --write_coco_json FILE: COCO keypoint results, image_id = frame
""",
}
_EXAMPLES = {
    "image": """examples:
  python get_hpe_image.py                                   # Input/example_image1.png, COCO
  python get_hpe_image.py --mode MPI --image_file photo.jpg
  python get_hpe_image.py --image_file Input/ --no_json     # every image in a folder
  python get_hpe_image.py --image_file 'shots/*.png' --max_people 2 --quiet
  python get_hpe_image.py --proto my.prototxt --weights my.caffemodel --mode COCO
  python get_hpe_image.py --mode BODY_25 --image_file val2017/ --write_coco_json results.json""",
    "video": """examples:
  python get_hpe_video.py                                   # Input/example_video1.mp4, COCO
  python get_hpe_video.py --video_file clip.mp4 --mode MPI_4 --every 2
  python get_hpe_video.py --video_file 0 --display          # webcam 0, q or Esc to stop
  python get_hpe_video.py --video_file clip.mp4 --start_frame 100 --max_frames 50 --quiet
  python get_hpe_video.py --mode BODY_25 --video_file clip.mp4 --write_json clip_json/ --keypoint_scale 3
  python get_hpe_video.py --video_file dataset/ --recursive --workers 2   # a batch, resumable
  python get_hpe_video.py --video_file @videos.txt --ray auto              # on a Ray cluster""",
}


def build_parser(tool: str, family: str = DEFAULT_FAMILY) -> argparse.ArgumentParser:
    """The argument parser of 'image' (get_hpe_image.py) or 'video' (get_hpe_video.py),
    with the options of model family `family` (pose.families)."""
    if tool not in _EXAMPLES:
        raise ValueError(f"unknown tool {tool!r}")
    fam = get_family(family)
    what = "images" if tool == "image" else "a video"
    networks = ("OpenPose's Caffe networks through OpenCV's DNN module" if family == DEFAULT_FAMILY
                else f"the {family} family: {FAMILIES[family].summary}")
    p = _Parser(prog=f"get_hpe_{tool}.py",
                description=textwrap.fill(f"Find every person's body keypoints in {what} with {networks}; write "
                                          "rendered views and OpenPose-format JSON.", 70, break_on_hyphens=False) +
                            "\nExit codes: 0 done, 1 input/output problem, 2 usage or model files\n"
                            "problem, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).",
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
        src.add_argument("--throughput", type=argument_type(_on_off_auto, "throughput"), default="auto",
                         metavar="auto|on|off",
                         help="keep several frames in the network at once (OpenVINO's throughput mode): "
                              "more frames per second on many cores, each frame later; auto = on for "
                              "files without --display, off for cameras and streams (default: auto)")
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
    model.add_argument("--family", type=str.lower, default=family, choices=list(FAMILIES), metavar="|".join(FAMILIES),
                       help="model family; each has its own models and options (this help shows "
                            f"{family}'s; --family NAME --help shows another's): " + "; ".join(
                                f"{e.name}: {e.summary}" for e in FAMILIES.values()) + f" (default: {DEFAULT_FAMILY})")
    model.add_argument("--model", "--mode", dest="mode", type=argument_type(lambda text: fam.parse_model(text).name, "model"),
                       default=fam.DEFAULT_MODEL, metavar="|".join(fam.MODELS), help=fam.MODEL_HELP)
    model.add_argument("--device", type=_device, default="cpu", metavar="|".join(DEVICES),
                       help="where the network runs; gpu needs an OpenCV built with CUDA and falls "
                            "back to the CPU with a warning; e.g. --device auto (default: cpu)")
    model.add_argument("--engine", type=_engine, default="auto", metavar="|".join(ENGINES),
                       help="inference engine; auto picks the fastest this install has for the device and "
                            "precision: openvino, then onnxruntime, then caffe, then onnx on the CPU "
                            "(default: auto)")
    model.add_argument("--precision", type=_precision, default="auto", metavar="|".join(PRECISIONS),
                       help="arithmetic of the network: auto is the engine's native one (bf16 for "
                            "OpenVINO on CPUs with AMX, else f32); f32 gives the exact maps; "
                            "e.g. --precision f32 (default: auto)")
    fam.add_options(p)
    p.add_argument_group("analysis").add_argument(
        "--no_classify", action="store_true",
        help="do not label gestures and postures (no labels, no \"pose_class\" in JSON)")

    out = p.add_argument_group("output")
    out.add_argument("--output_dir", default=DEFAULT_OUTPUT, metavar="DIR",
                     help=f"where results go, in {'images' if tool == 'image' else 'videos'}/<MODE>/ "
                          f"below it; e.g. --output_dir /tmp/poses (default: {DEFAULT_OUTPUT})")
    out.add_argument("--no_json", action="store_true",
                     help="do not write the JSON" + (" Lines" if tool == "video" else "") + " file")
    unit = "image" if tool == "image" else "frame"
    out.add_argument("--write_json", dest="json_dir", metavar="DIR",
                     help=f"also write OpenPose's per-{unit} JSON files to DIR (created if needed), "
                          "named as OpenPose names them: " + (
                              "<stem>_keypoints.json" if tool == "image" else
                              "<video stem>_<frame index, 12 digits>_keypoints.json, every frame") +
                          "; what OpenPose readers (e.g. pose-format) load; e.g. --write_json json/")
    out.add_argument("--write_coco_json", dest="coco_json", metavar="FILE",
                     help=f"also write COCO keypoint results of every {unit} to FILE (COCO or BODY_25 "
                          "models; pixels; image_id = " + (
                              "the number in COCO-style file names, else the input's position"
                              if tool == "image" else "the frame index") +
                          "), and FILE's .image_ids.json beside it; e.g. --write_coco_json results.json")
    out.add_argument("--keypoint_scale", type=_keypoint_scale, default=0, metavar="|".join(map(str, KEYPOINT_SCALES)),
                     help="coordinates in the JSON outputs (not the COCO results, not the drawings), as "
                          "OpenPose's: 0 source pixels, 3 range [0,1], 4 range [-1,1]; e.g. "
                          "--keypoint_scale 3 (default: 0)")
    if tool == "video":
        out.add_argument("--no_timeline", action="store_true",
                         help="do not draw the <stem>_timeline_<MODE>.png picture of each person's labels over time")
    out.add_argument("--display", action="store_true",
                     help="also show the results in windows (needs a display; off by default)")
    out.add_argument("--quiet", action="store_true",
                     help="print nothing but warnings, errors and the final summary line "
                          "(no progress bar)")
    return p


def _attach_negative_values(argv: Sequence[str], options: Sequence[str]) -> List[str]:
    """`--net_resolution -1x368` as users (and OpenPose) write it: argparse takes a value
    starting with '-' for an option, so it is attached with '=' first."""
    out: List[str] = []
    for arg in argv:
        if out and out[-1] in options and arg.startswith("-") and arg[1:2].isdigit():
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def _family_named(argv: Sequence[str]) -> str:
    """The family, read before the parser is built (the family brings its options):
    --family's value, else the family whose model --model names, else the default."""
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--family", type=str.lower)
    first.add_argument("--model", "--mode", dest="mode")
    known = first.parse_known_args(list(argv))[0]
    family = known.family or (family_of_model(known.mode) if known.mode else None) or DEFAULT_FAMILY
    return family if family in FAMILIES else DEFAULT_FAMILY  # the full parser names the choices


def parse_args(tool: str, argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    argv = sys.argv[1:] if argv is None else argv
    family = _family_named(argv)
    parser = build_parser(tool, family)
    fam = get_family(family)
    args = parser.parse_args(_attach_negative_values(list(argv), fam.NEGATIVE_OPTIONS))
    fam.check_options(parser, args)
    return args


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
                   throughput: bool = False, threads: Optional[int] = None,
                   device: Optional[str] = None) -> Estimator:
    """The estimator the options describe, made by the chosen family (rejected values
    become UsageError). `throughput`: keep several frames in flight (offline video)
    rather than answer each frame as fast as possible (live sources). A batch worker
    passes its share of the cores (`threads`) and a Ray GPU actor its `device`.

    `say` gets one line naming the model, device and engine that will run (the tools'
    first output line, so users see what `--engine auto` and `--device` chose).
    """
    return get_family(args.family).make_estimator(args, say, throughput, threads, device)


def _extra_outputs(args: argparse.Namespace):
    """(--write_json folder, --write_coco_json file), checked before any work: the folder
    is created and proven writable, the file's folder too; COCO results need a model with
    COCO's keypoints."""
    json_dir = ensure_output_dir(args.json_dir) if args.json_dir else None
    coco_json = None
    if args.coco_json:
        if layout_of(get_family(args.family).parse_model(args.mode)).coco17 is None:
            raise UsageError(f"--write_coco_json needs COCO's keypoints: use --mode COCO or BODY_25 (or a model "
                             f"of the rtmpose family), not {args.mode}")
        coco_json = Path(args.coco_json)
        if coco_json.is_dir():
            raise OutputError(f"cannot write COCO results to {coco_json}: it is a folder")
        if coco_mapping_path(coco_json) == coco_json:
            raise UsageError(f"--write_coco_json {coco_json}: the name is that of its own image-id mapping")
        ensure_output_dir(coco_json.parent)
    return json_dir, coco_json


def _output_options(args: argparse.Namespace, out_dir: Path, json_dir: Optional[Path],
                    coco_json: Optional[Path]) -> dict:
    """The OutputOptions fields both tools take from their command line."""
    return dict(out_dir=out_dir, write_json=not args.no_json, classify=not args.no_classify, display=args.display,
                json_dir=json_dir, coco_json=coco_json, keypoint_scale=args.keypoint_scale)


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
    json_dir, coco_json = _extra_outputs(args)
    out_dir = ensure_output_dir(Path(args.output_dir) / "images" / args.mode)
    options = ImageOptions(**_output_options(args, out_dir, json_dir, coco_json))
    single = len(paths) == 1 and not problems
    # A single input's failure is the run's one error line; with several, each bad
    # file gets a line and the good ones are still processed.
    say = _say_for(args)
    stop = threading.Event()
    # Ctrl-C and SIGTERM finish the image in hand (its three files), then stop: no
    # exception lands in the middle of a write.
    with stop_on_signals(stop) as signalled:
        summary = run_images(paths, lambda: make_estimator(args, say), options, say,
                             on_failure=(lambda message: None) if single else _error_line, stop=stop)
    if single and summary.failed:
        raise InputError(summary.failed[0])
    print(summary.line(out_dir), flush=True)
    if summary.interrupted:
        return signalled() or EXIT_INTERRUPTED
    return EXIT_FAILED if summary.failed or problems else EXIT_OK


def _video_tool(argv: Optional[Sequence[str]]) -> int:
    args = parse_args("video", argv)
    if is_batch(args):
        if args.display:
            raise UsageError("--display shows one video at a time; not with several videos or batch options")
        if args.coco_json:
            raise UsageError("--write_coco_json writes one video's results; not with several videos or batch options")
        args.json_dir = _extra_outputs(args)[0]
        # every source of a batch is a file: keep frames in flight unless told not to
        return run_batch(args, functools.partial(make_estimator, args, throughput=args.throughput != "off"))
    say = _say_for(args)
    json_dir, coco_json = _extra_outputs(args)
    source = open_video(args.video_file[0], args.start_frame)
    try:
        out_dir = ensure_output_dir(Path(args.output_dir) / "videos" / args.mode)
        # Refused here, before the network loads, when another run writes these outputs
        # (run_video holds them for the run itself).
        claim_outputs(list(video_output_paths(out_dir, source.stem, args.mode).values())).release()
        throughput = args.throughput == "on" or (args.throughput == "auto" and not source.is_live
                                                 and not args.display)
        estimator = make_estimator(args, say, throughput)
        options = VideoOptions(**_output_options(args, out_dir, json_dir, coco_json), max_frames=args.max_frames,
                               every=args.every, progress=not args.quiet)
        stop = threading.Event()
        # SIGTERM as Ctrl-C: finish the frame, close shorter valid files, then exit 143.
        with stop_on_signals(stop) as signalled:
            summary = run_video(source, estimator, options, stop)
        if not args.no_timeline:
            summary.files.append(write_video_timeline(summary, source.name, source.stem, out_dir, args.mode))
    finally:
        source.release()
    for line in summary.timeline:
        say(line)
    print(summary.line(), flush=True)
    return (signalled() or EXIT_INTERRUPTED) if summary.interrupted else EXIT_OK


def _run(tool: Callable[[Optional[Sequence[str]]], int], prog: str,
         argv: Optional[Sequence[str]]) -> int:
    """The error boundary: every known failure becomes one line and an exit code."""
    quiet_native_logs()
    _route_warnings()
    try:
        with sigterm_raises():  # SIGTERM cleans up as Ctrl-C does, and exits 143
            return tool(argv)
    except PoseError as exc:
        code, message = exc.exit_code, str(exc)
    except KeyboardInterrupt as exc:
        code, message = exit_code_of(exc), word_for(exc)
    except BrokenPipeError:
        return _stdout_closed()
    except MemoryError:
        code, message = EXIT_FAILED, "out of memory (try a smaller --net_resolution or input)"
    except Exception as exc:  # a bug: still one line unless debugging
        if os.environ.get(DEBUG_ENV):
            raise
        code = EXIT_FAILED
        message = f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for a traceback)"
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    return code


def _stdout_closed() -> int:
    """The reader of our output went away (`tool | head -1`): stop quietly, as a tool
    killed by SIGPIPE does, instead of a traceback when Python flushes stdout at exit."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def image_main(argv: Optional[Sequence[str]] = None) -> int:
    """get_hpe_image.py"""
    return _run(_image_tool, "get_hpe_image.py", argv)


def video_main(argv: Optional[Sequence[str]] = None) -> int:
    """get_hpe_video.py"""
    return _run(_video_tool, "get_hpe_video.py", argv)
