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
import contextlib
import functools
import logging
import os
import re
import sys
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from pose.app.batch.driver import run_batch
from pose.app.batch.jobs import RAY_LOCAL, is_batch
from pose.app.images import ImageOptions, run_images
from pose.app.timeline import video_timeline
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
from pose.core.paths import PROJECT_DIR, display_path, models_dir, printable
from pose.core.quiet import quiet_native_logs
from pose.core.signals import exit_code_of, sigterm_raises, stop_on_signals, word_for
from pose.families import DEFAULT_FAMILY, FAMILIES, family_of_model, get_family
from pose.io.formats import KEYPOINT_SCALES, parse_keypoint_scale
from pose.io.inputs import expand_image_args, open_video
from pose.io.writers import claim_outputs, coco_mapping_path, ensure_output_dir, first_clash
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
  DIR/<stem>_pose_heatmaps.npy  --write_heatmaps DIR: the network's heatmaps and PAFs (OpenPose)
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
  DIR/<stem>_<frame, 12 digits>_pose_heatmaps.npy
                                --write_heatmaps DIR: the network's maps, every inferred frame
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


def build_parser(tool: str, family: str = DEFAULT_FAMILY, prog: Optional[str] = None) -> argparse.ArgumentParser:
    """The argument parser of 'image' (get_hpe_image.py) or 'video' (get_hpe_video.py),
    with the options of model family `family` (pose.families); `prog`: the name the
    command was called by (the console commands' own)."""
    if tool not in _EXAMPLES:
        raise ValueError(f"unknown tool {tool!r}")
    get_family(family)  # an unknown family fails here, naming the choices
    what = "images" if tool == "image" else "a video"
    networks = ("OpenPose's networks through OpenVINO, onnxruntime or OpenCV's DNN module" if family == DEFAULT_FAMILY
                else f"the {family} family: {FAMILIES[family].summary}")
    p = _Parser(prog=prog or f"get_hpe_{tool}.py",
                description=textwrap.fill(f"Find every person's body keypoints in {what} with {networks}; write "
                                          "rendered views and OpenPose-format JSON.", 70, break_on_hyphens=False) +
                            "\nExit codes: 0 done, 1 input/output problem, 2 usage or model files\n"
                            "problem, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP).",
                epilog=_OUTPUTS[tool] + "\n" + _EXAMPLES[tool],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("input")
    if tool == "image":
        src.add_argument("--image_file", nargs="+", metavar="PATH",
                         help="image files, folders (their images) or quoted globs; "
                              "e.g. --image_file a.jpg b.png 'shots/*.jpg' (default: a checkout's Input/example_image1.png)")
    else:
        src.add_argument("--video_file", nargs="+", metavar="SOURCE",
                         help="a video file, a camera index or a stream URL; or many videos: files, "
                              "folders, quoted globs, @list.txt (one path a line); e.g. --video_file 0, "
                              "--video_file clips/ 'more/*.mp4' (default: a checkout's Input/example_video1.mp4)")
        src.add_argument("--start_frame", type=_int_in(0), default=0, metavar="N",
                         help="skip to frame N (0-based) first; e.g. --start_frame 100")
        src.add_argument("--max_frames", type=_int_in(1), metavar="N",
                         help="stop after N frames; e.g. --max_frames 50")
        src.add_argument("--throughput", type=argument_type(_on_off_auto, "throughput"), default="auto",
                         metavar="auto|on|off",
                         help="keep several frames in the network at once (OpenVINO's throughput mode): "
                              "more frames per second on many cores, each frame later (the latency drawn on each frame then "
                              "exceeds the summary's ms per frame); auto = on for "
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

    demo = p.add_argument_group("demo")
    demo.add_argument("--demo", action="store_true",
                      help="try the tool without downloaded weights: a generated DEMO network (not a trained model) "
                           "on a generated input with two people; every output says so")
    add_model_options(p, family)
    p.add_argument_group("analysis").add_argument(
        "--no_classify", action="store_true",
        help="do not label gestures and postures (no labels, no \"pose_class\" in JSON)")

    out = p.add_argument_group("output")
    out.add_argument("--output_dir", default=DEFAULT_OUTPUT, metavar="DIR",
                     help=f"where results go, in {'images' if tool == 'image' else 'videos'}/<MODE>/ "
                          f"below it; e.g. --output_dir /tmp/poses (default: {DEFAULT_OUTPUT})")
    out.add_argument("--no_render", action="store_true",
                     help="write the JSON outputs only: no image or video is drawn, encoded or written "
                          "(OpenPose's --render_pose 0)")
    out.add_argument("--no_json", action="store_true",
                     help="do not write the JSON" + (" Lines" if tool == "video" else "") + " file")
    unit = "image" if tool == "image" else "frame"
    out.add_argument("--write_json", dest="json_dir", metavar="DIR",
                     help=f"also write OpenPose's per-{unit} JSON files to DIR (created if needed), "
                          "named as OpenPose names them: " + (
                              "<stem>_keypoints.json" if tool == "image" else
                              "<video stem>_<frame index, 12 digits>_keypoints.json, every frame") +
                          "; what OpenPose readers (e.g. pose-format) load; e.g. --write_json json/")
    out.add_argument("--write_heatmaps", dest="heatmaps_dir", metavar="DIR",
                     help="also write the network's raw maps (heatmaps, background, PAFs; float32 (1, C, H, W) at "
                          f"its output resolution) of every {'image' if tool == 'image' else 'inferred frame'} to DIR "
                          "as .npy, named as OpenPose names them: " + (
                              "<stem>_pose_heatmaps.npy" if tool == "image" else
                              "<video stem>_<frame index, 12 digits>_pose_heatmaps.npy") +
                          "; OpenPose's networks only (docs/formats.md); e.g. --write_heatmaps maps/")
    out.add_argument("--write_coco_json", dest="coco_json", metavar="FILE",
                     help=f"also write COCO keypoint results of every {unit} to FILE (models with COCO's "
                          "keypoints: COCO, BODY_25, BlazePose; pixels; image_id = " + (
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


# ---------------------------------------------------------------- OpenPose's flags

@dataclass(frozen=True)
class OpenPoseFlag:
    """One of OpenPose's flags: what it becomes here (`to_ours`: its value and the run's
    other OpenPose flags -> our arguments), or, with `refused`, why not and what to use."""

    name: str
    usage: str  # as docs/openpose-flags.md shows it
    ours: str  # what it becomes, in words
    note: str = ""
    to_ours: Optional[Callable[[str, str, Dict[str, str]], List[str]]] = None  # (tool, value, all flags)
    takes_value: bool = True
    refused: str = ""  # the one line printed when it is given


# OpenPose's model names where ours differ (its --model_pose MPI_4_layers, and the
# BODY25 users type without the underscore).
OPENPOSE_MODEL_NAMES = {"body25": "BODY_25", "mpi_4_layers": "MPI_4"}


def _openpose_model(name: str) -> str:
    return OPENPOSE_MODEL_NAMES.get(str(name).strip().lower().replace("-", "_"), name)


def _only(tool: str, ours: str, option: str) -> Callable[[str, str, Dict[str, str]], List[str]]:
    """A flag that means `option VALUE` for `tool` and nothing for the other tool."""

    def to_ours(used: str, value: str, flags: Dict[str, str]) -> List[str]:
        if used != tool:
            raise UsageError(f"{ours} is for get_hpe_{tool}.py")
        return [option, value]
    return to_ours


def _whole(value: str, flag: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"{flag} {value}: expected a whole number") from None


def _people_max(tool: str, value: str, flags: Dict[str, str]) -> List[str]:
    return [] if _whole(value, "--number_people_max") < 0 else ["--max_people", value]  # OpenPose's -1: no limit


def _render_pose(tool: str, value: str, flags: Dict[str, str]) -> List[str]:
    if value not in ("0", "1", "2", "-1"):
        raise UsageError(f"--render_pose {value}: choose 0 (JSON only), 1 or 2 (draw)")
    return ["--no_render"] if value == "0" else []  # 1 and 2 (CPU or GPU drawing) draw the same picture here


def _display(tool: str, value: str, flags: Dict[str, str]) -> List[str]:
    if value not in ("-1", "0", "1", "2"):
        raise UsageError(f"--display {value}: choose 0 (no window) or 1 or 2 (show)")
    return ["--display"] if value in ("1", "2") else []


def _frame_last(tool: str, value: str, flags: Dict[str, str]) -> List[str]:
    if tool != "video":
        raise UsageError("--frame_last is for get_hpe_video.py")
    last, first = _whole(value, "--frame_last"), _whole(flags.get("--frame_first", "0"), "--frame_first")
    if last < 0:  # OpenPose's -1: to the end
        return []
    if last < first:
        raise UsageError(f"--frame_last {last} is before --frame_first {first}")
    return ["--max_frames", str(last - first + 1)]  # OpenPose's last frame is included


def _scales(tool: str, value: str, flags: Dict[str, str]) -> List[str]:
    number = _whole(flags.get("--scale_number", "1"), "--scale_number")
    try:
        gap = float(flags.get("--scale_gap", "0.25"))
    except ValueError:
        raise UsageError(f"--scale_gap {flags['--scale_gap']}: expected a number") from None
    if not 1 <= number <= 16 or not 0 < gap < 1 or 1 - gap * (number - 1) <= 0:
        raise UsageError(f"--scale_number {number} --scale_gap {gap:g}: the scales 1, 1-gap, ... must stay above 0")
    return ["--scales", ",".join(f"{1 - gap * k:g}" for k in range(number))]


def _model_folder(tool: str, value: str, flags: Dict[str, str]) -> List[str]:
    from pose.families.openpose.spec import get_spec  # the one family OpenPose's folder layout fits

    model = _openpose_model(flags.get("--model_pose") or flags.get("--model") or flags.get("--mode") or "COCO")
    try:
        relpath = get_spec(model).weights.relpath
    except ValueError as exc:
        raise UsageError(f"--model_folder: {exc}") from None
    return ["--weights", str(Path(value) / "pose" / relpath)]  # OpenPose's models/pose/<model>/<file>


OPENPOSE_FLAGS: Tuple[OpenPoseFlag, ...] = (
    OpenPoseFlag("--model_pose", "--model_pose COCO|MPI|MPI_4_layers|BODY_25", "--model (MPI_4_layers: MPI_4)",
                 "OpenPose's model names are also taken by --model/--mode, e.g. --mode body25",
                 to_ours=lambda tool, value, flags: ["--model", _openpose_model(value)]),
    OpenPoseFlag("--image_dir", "--image_dir DIR", "--image_file DIR", "image tool",
                 to_ours=_only("image", "--image_dir", "--image_file")),
    OpenPoseFlag("--video", "--video FILE", "--video_file FILE", "video tool",
                 to_ours=_only("video", "--video", "--video_file")),
    OpenPoseFlag("--camera", "--camera N", "--video_file N", "video tool",
                 to_ours=_only("video", "--camera", "--video_file")),
    OpenPoseFlag("--number_people_max", "--number_people_max N", "--max_people N", "-1 (OpenPose's default): no limit",
                 to_ours=_people_max),
    OpenPoseFlag("--render_pose", "--render_pose 0|1|2", "0: --no_render; 1, 2: drawn as by default",
                 "0 writes the JSON outputs only: no image or video is drawn, encoded or written", to_ours=_render_pose),
    OpenPoseFlag("--write_images", "--write_images DIR", "--output_dir DIR",
                 "the pictures go to DIR/images/<MODE>/ (with the JSON beside them)",
                 to_ours=lambda tool, value, flags: ["--output_dir", value]),
    OpenPoseFlag("--write_video", "--write_video FILE", "refused", "",
                 refused="the video tool always writes the drawn video as OUTPUT_DIR/videos/<MODE>/<stem>_skeleton_<MODE>.mp4: "
                         "use --output_dir DIR"),
    OpenPoseFlag("--frame_step", "--frame_step N", "refused", "",
                 refused="frames are never skipped here: use --every N (the network runs on every Nth frame, "
                         "every frame is still written)"),
    OpenPoseFlag("--frame_first", "--frame_first N", "--start_frame N", "video tool",
                 to_ours=_only("video", "--frame_first", "--start_frame")),
    OpenPoseFlag("--frame_last", "--frame_last N", "--max_frames (N - first + 1)", "video tool; -1: to the end",
                 to_ours=_frame_last),
    OpenPoseFlag("--model_folder", "--model_folder DIR", "--weights DIR/pose/<model>/<file>",
                 "OpenPose's models/ folder layout, e.g. models/pose/coco/pose_iter_440000.caffemodel", to_ours=_model_folder),
    OpenPoseFlag("--display", "--display 0|1|2", "0: no window (our default); 1, 2: --display",
                 "our --display without a value still means show", to_ours=_display),
    OpenPoseFlag("--scale_number", "--scale_number N", "--scales 1,1-gap,...", "with --scale_gap (OpenPose's default 0.25)",
                 to_ours=_scales),
    OpenPoseFlag("--scale_gap", "--scale_gap G", "--scales 1,1-G,...", "with --scale_number", to_ours=_scales),
    OpenPoseFlag("--write_json", "--write_json DIR", "--write_json DIR", "the same flag, OpenPose's files"),
    OpenPoseFlag("--net_resolution", "--net_resolution WxH", "--net_resolution WxH", "the same flag"),
    OpenPoseFlag("--keypoint_scale", "--keypoint_scale 0|3|4", "--keypoint_scale", "the same flag; 1 and 2 are not offered"),
    OpenPoseFlag("--hand", "--hand", "--hand", "the same flag", takes_value=False),
    OpenPoseFlag("--face", "--face", "--face", "the same flag", takes_value=False),
    OpenPoseFlag("--write_coco_json", "--write_coco_json FILE", "--write_coco_json FILE", "the same flag"),
    OpenPoseFlag("--part_candidates", "--part_candidates", "refused", "", takes_value=False,
                 refused="the body parts before grouping are not written: PoseEstimator.infer(image) gives the "
                         "network's maps and pose.families.openpose.peaks finds the candidates (docs/python-api.md)"),
    OpenPoseFlag("--write_heatmaps", "--write_heatmaps DIR", "--write_heatmaps DIR",
                 "the same flag: one float32 .npy of heatmaps and PAFs per image or inferred frame (docs/formats.md)"),
)
_OPENPOSE_BY_NAME = {flag.name: flag for flag in OPENPOSE_FLAGS}
_INTEGER = re.compile(r"-?\d+$")


def _split_flag(argv: Sequence[str], i: int) -> Tuple[str, Optional[str], int]:
    """(name, its value or None, index after it) of the OpenPose-style flag at argv[i]:
    `--flag value` or gflags' `--flag=value`."""
    name, eq, value = argv[i].partition("=")
    flag = _OPENPOSE_BY_NAME[name]
    if eq or not flag.takes_value:
        return name, value if eq else None, i + 1
    if name == "--display":  # ours takes no value: only a number after it is OpenPose's
        if i + 1 < len(argv) and _INTEGER.match(argv[i + 1]):
            return name, argv[i + 1], i + 2
        return name, None, i + 1
    if i + 1 >= len(argv):
        raise UsageError(f"{name} needs a value: {flag.usage}")
    return name, argv[i + 1], i + 2


def openpose_to_ours(tool: str, argv: Sequence[str]) -> List[str]:
    """The arguments with OpenPose's flags (OPENPOSE_FLAGS) put in our terms; a refused
    flag is a UsageError saying why and what to use. Our own flags pass unchanged."""
    argv = list(argv)
    flags: Dict[str, str] = {}  # every OpenPose-style flag's value, for those that depend on others
    items: List[Tuple[str, Optional[str]]] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--":
            items += [(a, None) for a in argv[i:]]
            break
        name = argv[i].partition("=")[0]
        if name in _OPENPOSE_BY_NAME:
            name, value, i = _split_flag(argv, i)
            if value is not None:
                flags[name] = value
            items.append((name, value))
        else:
            if name in ("--model", "--mode") and i + 1 < len(argv) and "=" not in argv[i]:
                flags[name] = argv[i + 1]
            items.append((argv[i], None))
            i += 1
    out: List[str] = []
    scales_done = False
    for name, value in items:
        flag = _OPENPOSE_BY_NAME.get(name)
        if flag is None:
            out.append(name)
        elif flag.refused:
            raise UsageError(f"{name}: {flag.refused}")
        elif flag.to_ours is None or (value is None and flag.takes_value):
            out += [name] if value is None else [name, value]  # our own flag of the same name
        elif flag.to_ours is _scales:
            if not scales_done:
                out += _scales(tool, value, flags)
                scales_done = True
        else:
            out += flag.to_ours(tool, value, flags)
    # `--mode body25`: OpenPose's spellings of a model name, under our own flags too
    return [_openpose_model(a) if k and out[k - 1] in ("--model", "--mode") else a for k, a in enumerate(out)]


def add_model_options(p: argparse.ArgumentParser, family: str = DEFAULT_FAMILY) -> None:
    """The model options every tool shares (--family, --model, --device, --engine,
    --precision) and the family's own (get-hpe-eval takes them too)."""
    fam = get_family(family)
    model = p.add_argument_group("model")
    model.add_argument("--family", type=str.lower, default=family, choices=list(FAMILIES), metavar="|".join(FAMILIES),
                       help="model family; each has its own models and options (this help shows "
                            f"{family}'s; --family NAME --help shows another's): " + "; ".join(
                                f"{e.name}: {e.summary}" for e in FAMILIES.values()) + f" (default: {DEFAULT_FAMILY})")
    model.add_argument("--model", "--mode", dest="mode", type=argument_type(lambda text: fam.parse_model(text).name, "model"),
                       default=fam.DEFAULT_MODEL, metavar="|".join(fam.MODELS), help=fam.MODEL_HELP)
    model.add_argument("--device", type=_device, default="cpu", metavar="|".join(DEVICES),
                       help="where the network runs; gpu tries OpenCV's CUDA, onnxruntime-gpu, then OpenVINO's GPU, and "
                            "falls back to the CPU with a warning naming what was missing; e.g. --device auto (default: cpu)")
    model.add_argument("--engine", type=_engine, default="auto", metavar="|".join(ENGINES),
                       help=getattr(fam, "ENGINE_HELP", None) or
                       "inference engine; auto picks the fastest this install has for the device and "
                       "precision: openvino, then onnxruntime, then caffe, then onnx on the CPU "
                       "(default: auto)")
    model.add_argument("--precision", type=_precision, default="auto", metavar="|".join(PRECISIONS),
                       help=getattr(fam, "PRECISION_HELP", None) or
                       "arithmetic of the network: auto is the engine's native one (bf16 for "
                       "OpenVINO on CPUs with AMX, else f32); f32 gives the exact maps; "
                       "e.g. --precision f32 (default: auto)")
    fam.add_options(p)


def attach_negative_values(argv: Sequence[str], options: Sequence[str]) -> List[str]:
    """`--net_resolution -1x368` as users (and OpenPose) write it: argparse takes a value
    starting with '-' for an option, so it is attached with '=' first."""
    out: List[str] = []
    for arg in argv:
        if out and out[-1] in options and arg.startswith("-") and arg[1:2].isdigit():
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def family_named(argv: Sequence[str]) -> str:
    """The family, read before the parser is built (the family brings its options):
    --family's value, else the family whose model --model names, else the default."""
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--family", type=str.lower)
    first.add_argument("--model", "--mode", dest="mode")
    known = first.parse_known_args(list(argv))[0]
    family = known.family or (family_of_model(known.mode) if known.mode else None) or DEFAULT_FAMILY
    return family if family in FAMILIES else DEFAULT_FAMILY  # the full parser names the choices


def _demo_argv(tool: str, argv: List[str], family: str) -> List[str]:
    """--demo's arguments: the generated network and input (pose.families.openpose.demo)."""
    from pose.core.paths import user_cache
    from pose.families.openpose.demo import SIZE, write_demo

    if family != "openpose":
        raise UsageError(f"--demo runs OpenPose's layouts on a generated network; not with --family {family}")
    given = [a for a in ("--image_file", "--video_file", "--proto", "--weights") if a in argv]
    if given:
        raise UsageError(f"--demo makes its own input and network; not with {given[0]}")
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--model", "--mode", dest="mode", default=get_family(family).DEFAULT_MODEL)
    try:
        proto, weights, source = write_demo(user_cache() / "demo", first.parse_known_args(argv)[0].mode, tool)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise OutputError(f"--demo: {exc}") from None
    return argv + ["--proto", str(proto), "--weights", str(weights), "--net_resolution", f"{SIZE}x{SIZE}",
                   "--image_file" if tool == "image" else "--video_file", str(source)]


def parse_args(tool: str, argv: Optional[Sequence[str]] = None, prog: Optional[str] = None) -> argparse.Namespace:
    argv = openpose_to_ours(tool, sys.argv[1:] if argv is None else argv)
    family = family_named(argv)
    if "--demo" in argv:
        argv = _demo_argv(tool, argv, family)
    parser = build_parser(tool, family, prog)
    fam = get_family(family)
    args = parser.parse_args(attach_negative_values(list(argv), fam.NEGATIVE_OPTIONS))
    fam.check_options(parser, args)
    _refuse_empty_values(parser, args)
    source, default = ("image_file", DEFAULT_IMAGE) if tool == "image" else ("video_file", DEFAULT_VIDEO)
    if getattr(args, source) is None:
        if not default.exists():  # an installed command: the checkout's example is not there
            raise NothingToDo(f"{parser.format_usage().rstrip()}\nno input given: {parser.prog} --{source} "
                              f"{'photo.jpg' if tool == 'image' else 'clip.mp4'}; or {parser.prog} --demo to try it "
                              "without weights; --help explains every option")
        setattr(args, source, [str(default)])
    return args


class NothingToDo(Exception):
    """Called with no input where the default example is absent: say how to start, exit 0."""


def _refuse_empty_values(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """An option given an empty value (`--write_json ""`, an unset shell variable) was
    silently ignored, or `--image_file ""` read the current folder: a usage error."""
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        values = value if isinstance(value, list) else [value]
        if action.option_strings and any(isinstance(v, str) and not v.strip() for v in values):
            parser.error(f"{action.option_strings[0]}: an empty value; give one or leave the option out")


# ---------------------------------------------------------------- wiring

class _WarningLine(logging.Handler):
    """The "pose" logger's warnings as the tools print them: `warning: ...`, one line."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"warning: {printable(record.getMessage())}", file=sys.stderr, flush=True)


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
    if not getattr(args, "demo", False):
        return get_family(args.family).make_estimator(args, say, throughput, threads, device)
    from pose.families.openpose.demo import DEMO_LABEL

    estimator = get_family(args.family).make_estimator(args, lambda line: say(f"{DEMO_LABEL}: {line}"), throughput,
                                                       threads, device)
    estimator.demo_label = DEMO_LABEL  # into the JSON and onto the pictures (pose.io.formats.run_info)
    return estimator


def _extra_outputs(args: argparse.Namespace):
    """(--write_json folder, --write_coco_json file), checked before any work: the folder
    is created and proven writable, the file's folder too (and --write_heatmaps' folder,
    into args.heatmaps_dir); COCO results need a model with COCO's keypoints."""
    if args.heatmaps_dir:
        if args.family != "openpose":
            raise UsageError("--write_heatmaps: only OpenPose's networks output heatmaps")
        args.heatmaps_dir = ensure_output_dir(args.heatmaps_dir)
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


# Options whose values are this run's outputs; every other option naming a file names
# something the run reads (an input, a model file) and must not replace.
_OUTPUT_OPTIONS = ("output_dir", "json_dir", "heatmaps_dir", "coco_json")


def _read_files(args: argparse.Namespace, inputs: Sequence[Path]) -> List[tuple]:
    """(what, path) of every file the run reads: its inputs and the files other options
    name (--proto, --weights, a family's model files)."""
    named = [(f"the input {display_path(p)}", p) for p in inputs]
    for option, value in vars(args).items():
        if option not in _OUTPUT_OPTIONS and isinstance(value, str) and value and os.path.isfile(value):
            named.append((f"the file --{option} names", value))
    return named


def _check_outputs(outputs: Sequence[tuple], reads: Sequence[tuple]) -> None:
    """Refuse, before any work, a run whose outputs land on what it reads, on the model
    folder's files or on each other (--write_coco_json naming the input video, say)."""
    problem = first_clash([(what, p) for what, p in outputs if p is not None], reads)
    if problem is None:
        models = os.path.realpath(models_dir())
        for what, path in outputs:
            if path is not None and os.path.isfile(path) and os.path.realpath(path).startswith(models + os.sep):
                problem = f"{what} {display_path(path)} would replace a file in the model folder; write it elsewhere"
                break
    if problem is not None:
        raise UsageError(problem)


def _run_outputs(coco_json: Optional[Path]) -> List[tuple]:
    return [("--write_coco_json", coco_json), ("the COCO image-id mapping", coco_mapping_path(coco_json))] \
        if coco_json is not None else []


def _output_options(args: argparse.Namespace, out_dir: Path, json_dir: Optional[Path],
                    coco_json: Optional[Path]) -> dict:
    """The OutputOptions fields both tools take from their command line."""
    return dict(out_dir=out_dir, write_json=not args.no_json, render=not args.no_render, classify=not args.no_classify,
                display=args.display,
                json_dir=json_dir, coco_json=coco_json, keypoint_scale=args.keypoint_scale,
                heatmaps_dir=Path(args.heatmaps_dir) if args.heatmaps_dir else None)


def _error_line(message: str) -> None:
    print(f"error: {printable(message)}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _no_empty_folders_left(*folders: Optional[Path]) -> Iterator[None]:
    """Output folders this run creates are removed again when it fails with them still
    empty (missing weights, say): a failed run leaves nothing behind."""
    new = [p for f in folders if f for p in (Path(f), *Path(f).parents) if not p.exists()]
    try:
        yield
    except BaseException:
        for folder in sorted(set(new), key=lambda p: len(p.parts), reverse=True):  # deepest first
            try:
                folder.rmdir()
            except OSError:  # not empty, or never made
                pass
        raise


def _tool(tool: str, run: Callable[[argparse.Namespace], int], argv: Optional[Sequence[str]],
          prog: Optional[str] = None) -> int:
    """Parse `tool`'s arguments and `run` them; folders made for a run that fails are removed."""
    args = parse_args(tool, argv, prog)
    with _no_empty_folders_left(Path(args.output_dir) / f"{tool}s" / args.mode, args.json_dir, args.heatmaps_dir,
                                args.coco_json and Path(args.coco_json).parent):
        return run(args)


def _image_run(args: argparse.Namespace) -> int:
    paths, problems = expand_image_args(args.image_file)
    if not paths and len(problems) == 1:
        raise InputError(problems[0])
    for problem in problems:
        _error_line(problem)
    if not paths:
        raise InputError("no images to process")
    json_dir, coco_json = _extra_outputs(args)
    _check_outputs(_run_outputs(coco_json), _read_files(args, paths))
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


def _video_run(args: argparse.Namespace) -> int:
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
        named = video_output_paths(out_dir, source.stem, args.mode)
        written = [name for name, off in (("video", False), ("jsonl", args.no_json), ("timeline", args.no_timeline)) if not off]
        _check_outputs(_run_outputs(coco_json) + [(f"the {name} output", named[name]) for name in written],
                       _read_files(args, [Path(args.video_file[0])] if os.path.isfile(args.video_file[0]) else []))
        # Refused here, before the network loads, when another run writes these outputs
        # (run_video holds them for the run itself).
        claim_outputs(list(video_output_paths(out_dir, source.stem, args.mode).values())).release()
        throughput = args.throughput == "on" or (args.throughput == "auto" and not source.is_live
                                                 and not args.display)
        estimator = make_estimator(args, say, throughput)
        options = VideoOptions(**_output_options(args, out_dir, json_dir, coco_json), max_frames=args.max_frames,
                               every=args.every, progress=not args.quiet,
                               timeline=None if args.no_timeline or args.no_render else video_timeline)
        stop = threading.Event()
        # SIGTERM as Ctrl-C: finish the frame, close shorter valid files, then exit 143.
        with stop_on_signals(stop) as signalled:
            summary = run_video(source, estimator, options, stop)
    finally:
        source.release()
    for line in timeline_lines(summary):
        say(line)
    print(summary.line(), flush=True)
    return (signalled() or EXIT_INTERRUPTED) if summary.interrupted else EXIT_OK


def timeline_lines(summary) -> List[str]:
    """The per-person lines the video tool prints: those of the people its timeline picture
    shows, and a count of the rest (a crowd leaves hundreds of brief tracks)."""
    from pose.app.timeline import shown_runs

    shown = {tr.track_id for tr in shown_runs(summary.runs)}
    lines = [line for line, tr in zip(summary.timeline, summary.runs) if tr.track_id in shown]
    rest = len(summary.timeline) - len(lines)
    if rest:
        lines.append(f"... and {rest} more {'person' if rest == 1 else 'people'} seen briefly (every one is in the JSON Lines)")
    return lines


def _run(tool: Callable[[Optional[Sequence[str]]], int], prog: str,
         argv: Optional[Sequence[str]]) -> int:
    """The error boundary: every known failure becomes one line and an exit code."""
    quiet_native_logs()
    _route_warnings()
    sys.stdout = _Stdout(sys.stdout)
    try:
        with sigterm_raises():  # SIGTERM cleans up as Ctrl-C does, and exits 143
            return tool(argv)
    except NothingToDo as exc:
        print(exc, flush=True)
        return EXIT_OK
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
    finally:
        if isinstance(sys.stdout, _Stdout):
            failed, sys.stdout = sys.stdout.failed, sys.stdout.stream
            if failed:  # Python's flush at exit would fail again, with a traceback
                _stdout_closed()
    print(f"{prog}: error: {printable(message)}", file=sys.stderr, flush=True)
    return code


class _Stdout:
    """Standard output during a run: a write it refuses (a full device) is an OutputError
    naming it, not `unexpected OSError`; the outputs are written, only the report is lost.
    A closed pipe stays BrokenPipeError (exit 141, quietly)."""

    def __init__(self, stream):
        self.stream, self.failed = stream, False

    def _guard(self, method: str, *args):
        try:
            return getattr(self.stream, method)(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            self.failed = True
            raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None

    def write(self, text: str) -> int:
        return self._guard("write", text)

    def flush(self) -> None:
        self._guard("flush")

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def _stdout_closed() -> int:
    """The reader of our output went away (`tool | head -1`): stop quietly, as a tool
    killed by SIGPIPE does, instead of a traceback when Python flushes stdout at exit."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def image_main(argv: Optional[Sequence[str]] = None, prog: str = "get_hpe_image.py") -> int:
    """get_hpe_image.py, or the get-hpe-image command (`prog`)."""
    return _run(functools.partial(_tool, "image", _image_run, prog=prog), prog, argv)


def video_main(argv: Optional[Sequence[str]] = None, prog: str = "get_hpe_video.py") -> int:
    """get_hpe_video.py, or the get-hpe-video command (`prog`)."""
    return _run(functools.partial(_tool, "video", _video_run, prog=prog), prog, argv)
