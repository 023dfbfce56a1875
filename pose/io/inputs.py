"""What the tools read: image files (one, several, a folder or a glob) and video sources
(a file, a camera index or a stream URL).

Every way an input can be unusable becomes an `InputError` with a one-line message.
OpenCV's image and video libraries print their own complaints straight to the process's
stderr (libpng, FFmpeg, V4L); those are silenced so the user sees only our line.
"""
from __future__ import annotations

import glob
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from pose.decode.preprocess import to_bgr
from pose.errors import InputError
from pose.paths import display_path

IMAGE_SUFFIXES = (".bmp", ".jpeg", ".jpg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm")
# What a folder of videos is searched for (the containers FFmpeg builds of OpenCV read).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp",
                  ".ts", ".mts")
# Keep the bit depth (16-bit PNG/TIFF) and colour layout as stored; unlike
# IMREAD_UNCHANGED this still applies a JPEG's EXIF orientation. Alpha is dropped.
_IMREAD_FLAGS = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR
_GLOB_CHARS = re.compile(r"[*?\[]")
# A camera index as typed on the command line ("0", "1", ...).
_CAMERA = re.compile(r"\d{1,3}")
_SIGNATURES = {  # file type -> magic bytes it starts with
    "JPEG": (b"\xff\xd8\xff",),
    "PNG": (b"\x89PNG\r\n\x1a\n",),
}


def quiet_native_logs() -> None:
    """Stop OpenCV and FFmpeg from logging to stderr; errors reach the user as our own
    one-line messages instead. Must run before the first video is opened."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration: libpng and libjpeg write
    there directly. Only around single-threaded calls (it is process-wide)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# ---------------------------------------------------------------- images

def is_glob(arg: Union[str, Path]) -> bool:
    """A pattern for glob: wildcards, and no file of that very name."""
    return bool(_GLOB_CHARS.search(str(arg))) and not Path(arg).exists()


def expand_paths(args: Sequence[Union[str, Path]], suffixes: Sequence[str], kind: str,
                 recursive: bool = False) -> Tuple[List[Tuple[Path, Optional[Path]]], List[str]]:
    """Files named on the command line, folders' files of the given suffixes (sorted; with
    `recursive`, their subfolders' too) and glob matches (`**` with `recursive`).

    Returns ((path, the folder argument it was found in, or None), ...) and one-line
    problems with the arguments: a folder without such files and a glob without matches.
    A missing file is passed on, so it is reported with the other unreadable files.
    """
    found: List[Tuple[Path, Optional[Path]]] = []
    problems: List[str] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            files = path.rglob("*") if recursive else path.iterdir()
            inside = sorted(p for p in files if p.is_file() and p.suffix.lower() in suffixes)
            if not inside:
                where = "this folder or its subfolders" if recursive else "this folder"
                problems.append(f"{arg}: no {kind} in {where} (looked for {', '.join(suffixes)})")
            found += [(p, path) for p in inside]
        elif is_glob(arg):
            matches = sorted(Path(p) for p in glob.glob(str(arg), recursive=recursive) if Path(p).is_file())
            if not matches:
                problems.append(f"{arg}: no files match")
            found += [(p, None) for p in matches]
        else:
            found.append((path, None))
    first = dict(reversed(found))  # keep order, drop repeats (the first one's folder wins)
    return [(p, first[p]) for p in dict.fromkeys(p for p, _ in found)], problems


def expand_image_args(args: Sequence[Union[str, Path]]) -> Tuple[List[Path], List[str]]:
    """Image files, folders' images (not recursive) and glob matches: (paths to try,
    one-line problems with the arguments); see expand_paths."""
    found, problems = expand_paths(args, IMAGE_SUFFIXES, "images")
    return [p for p, _ in found], problems


def _truncation(data: bytes) -> Optional[str]:
    """Why an image's bytes look cut short, or None. Decoders often return the part
    they got (libjpeg fills the rest with grey), so this is checked before decoding."""
    if data.startswith(_SIGNATURES["JPEG"]):
        # The end-of-image marker must follow the last scan; 0xFF in entropy-coded data
        # is always byte-stuffed, so FFD9 cannot occur there by accident.
        last_scan = data.rfind(b"\xff\xda")
        if last_scan < 0 or data.find(b"\xff\xd9", last_scan) < 0:
            return "truncated JPEG (no end-of-image marker)"
    elif data.startswith(_SIGNATURES["PNG"]):
        if data.rfind(b"IEND", max(0, len(data) - 64)) < 0:
            return "truncated PNG (no IEND chunk)"
    return None


def _existing_file(path: Path, kind: str) -> str:
    """The path as shown to users, once it is known to name a file (else InputError)."""
    shown = display_path(path)
    if not path.exists():
        raise InputError(f"{shown}: {'file' if kind == 'image' else kind} not found")
    if path.is_dir():
        raise InputError(f"{shown}: is a folder, not {'an' if kind[0] in 'aeiou' else 'a'} {kind}")
    return shown


def read_image(path: Union[str, Path]) -> np.ndarray:
    """An image file as 8-bit BGR: gray, 16-bit and alpha images are converted."""
    path = Path(path)
    shown = _existing_file(path, "image")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    if not data:
        raise InputError(f"{shown}: empty file (0 bytes)")
    why = _truncation(data)
    if why:
        raise InputError(f"{shown}: {why}")
    with native_stderr_silenced():
        image = cv2.imdecode(np.frombuffer(data, np.uint8), _IMREAD_FLAGS)
    if image is None or image.size == 0:
        raise InputError(f"{shown}: not an image OpenCV can decode (wrong extension or damaged file?)")
    return to_bgr(image)


# ---------------------------------------------------------------- video

@dataclass
class VideoSource:
    """An opened video: the capture, its first frame and what is known about it."""

    capture: cv2.VideoCapture
    first_frame: np.ndarray
    name: str  # for messages
    stem: str  # for output file names
    fps: float  # 0 when unknown
    frame_count: Optional[int]  # None when unknown (cameras, streams)
    start_frame: int
    is_live: bool  # a camera or a stream: no seeking, no frame count

    @property
    def size(self) -> Tuple[int, int]:
        h, w = self.first_frame.shape[:2]
        return w, h

    @property
    def frames_left(self) -> Optional[int]:
        """Frames from the start frame to the end, when the count is known."""
        return None if self.frame_count is None else max(0, self.frame_count - self.start_frame)


def is_live_source(source: str) -> bool:
    """A camera index or a stream URL, not a file."""
    return bool(_CAMERA.fullmatch(source.strip())) or "://" in source


def _source_target(source: str) -> Tuple[Union[int, str], str, str, bool]:
    """(what VideoCapture opens, name for messages, stem for outputs, is_live)."""
    if _CAMERA.fullmatch(source.strip()):
        index = int(source)
        return index, f"camera {index}", f"camera{index}", True
    if "://" in source:
        tail = re.sub(r"[^A-Za-z0-9_.-]+", "_", source.split("://", 1)[1].rstrip("/").split("/")[-1])
        return source, source, Path(tail).stem or "stream", True
    path = Path(source)
    shown = _existing_file(path, "video")
    if path.stat().st_size == 0:
        raise InputError(f"{shown}: empty file (0 bytes)")
    return str(path), shown, path.stem, False


def open_video(source: Union[str, int], start_frame: int = 0) -> VideoSource:
    """Open a video file, camera index or stream URL and read its first frame
    (at `start_frame`), so that an unusable source fails before any work starts."""
    target, name, stem, live = _source_target(str(source))
    with native_stderr_silenced():
        cap = cv2.VideoCapture(target)
    if not cap.isOpened():
        cap.release()
        what = "no such camera, or it is in use" if isinstance(target, int) else \
            "not a video, or a format this OpenCV build cannot read"
        raise InputError(f"cannot open {name} ({what})")
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if not live else 0
    frame_count = count if count > 0 else None
    _seek(cap, start_frame, live)
    with native_stderr_silenced():
        ok, frame = cap.read()
    if not ok or frame is None or frame.size == 0:
        cap.release()
        if start_frame and frame_count is not None and start_frame >= frame_count:
            raise InputError(f"{name}: --start_frame {start_frame} is past the end ({frame_count} frames)")
        raise InputError(f"{name}: no readable frames")
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if fps and np.isfinite(fps) and 0 < fps < 1000 else 0.0
    return VideoSource(cap, to_bgr(frame), name, stem, fps, frame_count, start_frame, live)


def _seek(cap: cv2.VideoCapture, frame: int, live: bool) -> None:
    """Position on `frame`: a seek when the container allows it, else frames are skipped."""
    if frame <= 0:
        return
    if not live:
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        done = int(cap.get(cv2.CAP_PROP_POS_FRAMES))
        if done == frame:
            return
        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    for _ in range(frame):
        if not cap.grab():
            return
