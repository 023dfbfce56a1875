"""A batch's videos: sources (files, folders, globs, @lists) expanded into jobs, each with
its output folder, size and time (for resume) and frame count (for the order and the
progress bar)."""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2

from pose.app.video import output_paths
from pose.core.errors import InputError
from pose.core.paths import display_path, printable
from pose.core.quiet import native_stderr_silenced
from pose.io.inputs import VIDEO_SUFFIXES, expand_paths, is_glob, is_live_source, read_regular_file, video_file_stat
from pose.io.writers import first_clash

LIST_PREFIX = "@"  # --video_file @list.txt
RAY_LOCAL = "local"  # --ray without an address: a new Ray on this machine
MAX_LIST_BYTES = 64 << 20  # an @list: about half a million paths

@dataclass(frozen=True)
class Job:
    """One video to run: where it is, where its outputs go, what it looked like."""

    source: Path  # absolute, so a worker on another machine opens the same file
    name: str  # as the user sees it in messages
    out_dir: Path  # absolute: the mode's folder, or a subfolder mirroring a --recursive tree
    stem: str
    bytes: int
    mtime_ns: int
    frames: int = 0  # frames it will go through, from the container (0: unknown)


def _read_list(arg: str) -> Tuple[List[str], List[str]]:
    """The paths in an @list file (blank lines and # comments skipped), relative to it."""
    path = Path(arg[len(LIST_PREFIX):])
    try:
        # a regular file of bounded size (an @fifo hung, @/dev/zero grew to 3.4 GB); a
        # byte-order mark and CRLF line ends, as Windows editors write, are fine
        lines = read_regular_file(path, display_path(path), "a list of videos", MAX_LIST_BYTES).decode("utf-8-sig").splitlines()
    except InputError as exc:
        return [], [f"{LIST_PREFIX}{exc}"]
    except UnicodeDecodeError:
        return [], [f"{printable(arg)}: not a text file of paths"]
    entries = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not entries:
        return [], [f"{arg}: the list names no videos"]
    return [e if Path(e).is_absolute() else os.path.normpath(path.parent / e) for e in entries], []


def expand_video_args(args: Sequence[str], recursive: bool = False) -> Tuple[List[Tuple[Path, Optional[Path]]], List[str]]:
    """Files, folders' videos, globs and @lists: ((path, the folder it was found in or
    None), ...) and one-line problems. Cameras and streams have no end and no file to
    check for resume, so they run one at a time, not in a batch."""
    plain: List[str] = []
    problems: List[str] = []
    for arg in args:
        if arg.startswith(LIST_PREFIX) and len(arg) > 1:
            entries, trouble = _read_list(arg)
            plain += entries
            problems += trouble
        elif is_live_source(arg):
            problems.append(f"{arg}: a camera or stream runs on its own, not in a batch of videos")
        else:
            plain.append(arg)
    found, trouble = expand_paths(plain, VIDEO_SUFFIXES, "videos", recursive)
    return found, problems + trouble


def frames_to_run(path: Path, start_frame: int, max_frames: Optional[int]) -> int:
    """How many frames a video will go through, from its container (about 1 ms a file):
    the longest-first order and the progress bar's total."""
    with native_stderr_silenced():
        capture = cv2.VideoCapture(str(path))
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()
    left = max(0, count - start_frame)
    return min(left, max_frames) if max_frames else left


def make_jobs(found: Sequence[Tuple[Path, Optional[Path]]], out_root: Path, mode: str,
              frame_dirs: Sequence[Path] = ()) -> Tuple[List[Job], List[str]]:
    """Jobs for the expanded paths. A video found in a subfolder of a folder argument
    writes to the same subfolder below `out_root`; two videos that would write the same
    outputs (also the same per-frame names in the one folder of --write_json or
    --write_heatmaps, `frame_dirs`) are a problem
    (the second is not run), and so is a video whose outputs would replace an input."""
    jobs: List[Job] = []
    problems: List[str] = []
    claimed: Dict[object, str] = {}
    sources: set = set()
    # An output folder inside a --recursive input folder: its videos are this tool's own
    # (skeleton videos), not inputs, or every run would go one level deeper.
    root = os.path.realpath(out_root) + os.sep
    found = [(p, f) for p, f in found if not os.path.realpath(p).startswith(root)]
    inputs = [(f"the input {display_path(p)}", p) for p, _ in found]
    for path, folder in found:
        name = display_path(path)
        try:
            st = video_file_stat(path)
        except (InputError, OSError) as exc:  # missing, a folder, a FIFO, a looping link, unreadable
            problems.append(str(exc))
            continue
        if path.resolve() in sources:  # the same file named twice (a folder and a list, say)
            continue
        sub = path.parent.relative_to(folder) if folder is not None else Path()
        out_dir = (out_root / sub).resolve()
        outputs = output_paths(out_dir, path.stem, mode)
        keys = [outputs["video"]] + ([("per-frame files", path.stem)] if frame_dirs else [])
        other = next((claimed[k] for k in keys if k in claimed), None)
        if other is not None:
            problems.append(f"{name}: its outputs would replace those of {other} (same file name); "
                            "rename one or run them separately")
            continue
        clash = first_clash([(f"its {what} output", p) for what, p in outputs.items()], inputs)
        if clash is not None:
            problems.append(f"{name}: {clash}")
            continue
        claimed.update((k, name) for k in keys)
        sources.add(path.resolve())
        jobs.append(Job(path.resolve(), name, out_dir, path.stem, st.st_size, st.st_mtime_ns))
    return jobs, problems


def is_batch(args: argparse.Namespace) -> bool:
    """Whether the video tool's arguments ask for a batch: several sources, a folder, a
    glob, a list, or a batch option. One file, camera or stream runs as it always has."""
    if len(args.video_file) > 1 or args.recursive or args.overwrite or args.workers or args.ray is not None:
        return True
    arg = args.video_file[0]
    return arg.startswith(LIST_PREFIX) or Path(arg).is_dir() or (is_glob(arg) and not is_live_source(arg))
