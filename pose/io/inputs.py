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
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, TypeVar, Union

import cv2
import numpy as np

from pose.core.errors import InputError
from pose.core.files import kind_of
from pose.core.image import to_bgr
from pose.core.paths import display_path, printable
from pose.core.quiet import native_stderr_silenced
from pose.io.headers import declared_size

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


# ---------------------------------------------------------------- images

def is_glob(arg: Union[str, Path]) -> bool:
    """A pattern for glob: wildcards, and no file of that very name."""
    return bool(_GLOB_CHARS.search(str(arg))) and not os.path.lexists(arg)


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
        if _is_dir(path):
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
    """The path as shown to users, once it is known to name a file (else InputError:
    missing, a folder, a name too long, a looping link)."""
    shown = display_path(path)
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{shown}: {'file' if kind == 'image' else kind} not found") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    except ValueError:  # a NUL in the name
        raise InputError(f"{shown}: not a possible file name") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{shown}: is a folder, not {'an' if kind[0] in 'aeiou' else 'a'} {kind}")
    return shown


def _is_dir(path: Path) -> bool:
    # Path.is_dir raises on a name too long for the file system; that path is reported
    # with the other unreadable files, not as a crash of the whole expansion.
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_image(path: Union[str, Path]) -> np.ndarray:
    """An image file as 8-bit BGR: gray, 16-bit and alpha images are converted."""
    path = Path(path)
    shown = _existing_file(path, "image")
    data = _read_bounded(path, shown)
    if not data:
        raise InputError(f"{shown}: empty file (0 bytes)")
    why = _truncation(data)
    if why:
        raise InputError(f"{shown}: {why}")
    size = declared_size(data)
    if size is not None:
        _check_pixels(size, shown)
    with native_stderr_silenced():
        image = cv2.imdecode(np.frombuffer(data, np.uint8), _IMREAD_FLAGS)
    if image is None or image.size == 0:
        raise InputError(f"{shown}: not an image OpenCV can decode (wrong extension or damaged file?)")
    _check_pixels((image.shape[1], image.shape[0]), shown)  # formats whose header is not read
    return to_bgr(image)


# ---------------------------------------------------------------- bounds on what is read

# The largest image file read, and the most pixels decoded: 250 megapixels covers the
# 200 MP phone sensors, about 1.9 GB of memory (8000x6000 peaks at 355 MB). A small file
# that declares more (an 850 KB PNG of 300 megapixels: 1.8 GB) is refused before decoding.
MAX_IMAGE_BYTES = 1 << 30
MAX_IMAGE_PIXELS = 250_000_000


def video_file_stat(path: Path) -> os.stat_result:
    """A video file's size and times, once it is known to be a regular file OpenCV can be
    given (else a one-line InputError): a batch checks its files before it opens any."""
    shown = _existing_file(path, "video")
    _regular_file_size(path, shown, "a video")
    check_video_file(path, shown)
    return path.stat()


# What a video's first bytes never are: text (a list of paths passed without its @, a
# subtitle file). FFmpeg's tty demuxer would render it as a video of text.
_SNIFF_BYTES = 4096


def openable_name(name: str, shown: str) -> str:
    """`name` once OpenCV can be given it: a str OpenCV cannot encode as UTF-8 (a file
    name with bytes that are not UTF-8, or a non-ASCII name under a C locale) crashes
    the process inside cv2.VideoCapture and cv2.VideoWriter, so it is refused here."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{shown}: the name is not valid UTF-8, which OpenCV cannot open; "
                         "rename it (or run under a UTF-8 locale)") from None
    return name


def check_video_file(path: Path, shown: str) -> None:
    """Refuse, in one line, a file OpenCV must not be given as a video: a name it cannot
    encode, or text."""
    openable_name(str(path), shown)
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:  # binary, or text cut inside a character at the end
        text = head[:exc.start].decode("utf-8") if exc.start >= len(head) - 3 else None
    if text and all(c.isprintable() or c in "\t\r\n\ufeff" for c in text):
        raise InputError(f"{shown}: a text file, not a video" +
                         (" (a list of videos? write --video_file @" + shown + ")" if "." in text else ""))


def _regular_file_size(path: Path, shown: str, kind: str) -> int:
    """The size of `path`, once it is known to be a regular file: a FIFO would block the
    read forever and /dev/zero never ends, so anything else is an InputError."""
    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{shown}: {kind_of(st.st_mode)}, not {kind} file")
    return st.st_size


def _read_bounded(path: Path, shown: str) -> bytes:
    """An image file's bytes: a regular file of at most MAX_IMAGE_BYTES."""
    return read_regular_file(path, shown, "an image", MAX_IMAGE_BYTES)


def read_regular_file(path: Path, shown: str, kind: str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (also when it grows while being
    read), else a one-line InputError: a FIFO would block the read forever, /dev/zero
    never ends. `kind` names what it should be ("an image", "a list of videos")."""
    size = _regular_file_size(path, shown, kind)
    too_big = InputError(f"{shown}: too large for {kind} ({size / 2**20:.0f} MiB; at most {limit >> 20} MiB)")
    if size > limit:
        raise too_big
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the check, open() returns
        # at once instead of waiting for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise InputError(f"{shown}: {kind_of(os.fstat(f.fileno()).st_mode)}, not {kind} file")
            data = f.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise too_big
    return data


def _check_pixels(size: Tuple[int, int], shown: str) -> None:
    w, h = size
    if w * h > MAX_IMAGE_PIXELS:
        raise InputError(f"{shown}: {w}x{h} pixels is too large ({w * h / 1e6:.0f} megapixels; at most "
                         f"{MAX_IMAGE_PIXELS / 1e6:.0f})")


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
    first_time_s: Optional[float] = None  # the first frame's time in the container (see frame_time_s)
    # Held while a frame is read: `release` must not free the capture under a read that
    # is stuck in a stalled stream (FFmpeg would use the freed context).
    _reading: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _released: bool = field(default=False, repr=False, compare=False)
    _time_s: Optional[float] = field(default=None, repr=False, compare=False)

    def read(self) -> Tuple[bool, Optional[np.ndarray]]:
        """The next frame, as capture.read() returns it; (False, None) once released."""
        with self._reading:
            if self._released:
                return False, None
            ok, frame = self.capture.read()
            # under the lock: release() must not free the capture between the two calls
            self._time_s = None if self.is_live or not ok else container_time_s(self.capture)
            return ok, frame

    def release(self) -> None:
        """Release the capture, unless a read is still stuck in it (a stalled stream): the
        process's exit frees it then, and stopping does not wait for FFmpeg's timeout."""
        if self._reading.acquire(timeout=_RELEASE_WAIT_S):
            try:
                if not self._released:
                    self._released = True
                    self.capture.release()
            finally:
                self._reading.release()

    def frame_time_s(self) -> Optional[float]:
        """The time of the frame read last, from the container's timestamps: with a
        variable frame rate (phones) index / fps is wrong by seconds. None for cameras and
        streams, and where the container gives none."""
        return self._time_s

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
        return openable_name(source, printable(source)), printable(source), Path(tail).stem or "stream", True
    path = Path(source)
    if _V4L_DEVICE.fullmatch(str(path)) and path.exists():  # a camera by its device node
        return str(path), str(path), path.name, True
    shown = _existing_file(path, "video")
    if _regular_file_size(path, shown, "a video") == 0:
        raise InputError(f"{shown}: empty file (0 bytes)")
    check_video_file(path, shown)
    return str(path), shown, path.stem, False


# How long opening a source and reading its first frame may go without progress. A
# stalled stream or a hung camera otherwise holds the tool in FFmpeg for 30 s per step,
# deaf to Ctrl-C.
OPEN_TIMEOUT_S = 20.0
_RELEASE_WAIT_S = 0.2
_V4L_DEVICE = re.compile(r"/dev/video\d+")
T = TypeVar("T")


def open_video(source: Union[str, int], start_frame: int = 0, timeout: float = OPEN_TIMEOUT_S) -> VideoSource:
    """Open a video file, camera index or stream URL and read its first frame
    (at `start_frame`), so that an unusable source fails before any work starts.

    The work runs in a helper thread: Ctrl-C and SIGTERM stop the wait at once, and
    `timeout` seconds without progress (opening, each frame skipped, the first frame)
    are an InputError.
    """
    target, name, stem, live = _source_target(str(source))
    with native_stderr_silenced():
        cap, frame, frame_count = _patiently(lambda progress: _open_capture(target, name, start_frame, live, progress),
                                             timeout, lambda: InputError(
                                                 f"{name}: no frame within {timeout:g} s (the source stalled)"))
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if fps and np.isfinite(fps) and 0 < fps < 1000 else 0.0
    return VideoSource(cap, to_bgr(frame), name, stem, fps, frame_count, start_frame, live,
                       None if live else container_time_s(cap))


def container_time_s(capture: cv2.VideoCapture) -> Optional[float]:
    """CAP_PROP_POS_MSEC after a read: the presentation time of the frame just read."""
    ms = capture.get(cv2.CAP_PROP_POS_MSEC)
    return float(ms) / 1000 if ms is not None and np.isfinite(ms) and ms >= 0 else None


def _open_capture(target: Union[int, str], name: str, start_frame: int, live: bool,
                  progress: Callable[[], None]) -> Tuple[cv2.VideoCapture, np.ndarray, Optional[int]]:
    """The blocking half of open_video: (capture, first frame, frame count or None)."""
    cap = cv2.VideoCapture(target)
    if not cap.isOpened():
        cap.release()
        what = "no such camera, or it is in use" if isinstance(target, int) else \
            "not a video, or a format this OpenCV build cannot read"
        raise InputError(f"cannot open {name} ({what})")
    progress()
    try:
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        _check_pixels((w, h), name)  # before a frame of that size is decoded
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if not live else 0
        frame_count = count if count > 0 else None
        _seek(cap, start_frame, live, progress)
        ok, frame = cap.read()
        if not ok or frame is None or frame.size == 0:
            if start_frame and frame_count is not None and start_frame >= frame_count:
                raise InputError(f"{name}: --start_frame {start_frame} is past the end ({frame_count} frames)")
            raise InputError(f"{name}: no readable frames")
        _check_pixels((frame.shape[1], frame.shape[0]), name)
    except BaseException:
        cap.release()
        raise
    return cap, frame, frame_count


def _patiently(work: Callable[[Callable[[], None]], T], timeout: float,
               stalled: Callable[[], Exception]) -> T:
    """`work(progress)` run in a daemon thread, waited for while it calls `progress()` at
    least every `timeout` seconds; else `stalled()` is raised and the thread abandoned
    (it ends with FFmpeg's own timeout). The main thread waits in short joins, so signal
    handlers (Ctrl-C, SIGTERM) run at once instead of after the blocking C call."""
    last = [time.monotonic()]
    outcome: dict = {}

    def progress() -> None:
        last[0] = time.monotonic()

    def run() -> None:
        try:
            outcome["value"] = work(progress)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="video-open", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.05)
        if thread.is_alive() and time.monotonic() - last[0] > timeout:
            raise stalled()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _seek(cap: cv2.VideoCapture, frame: int, live: bool,
          progress: Callable[[], None] = lambda: None) -> None:
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
        progress()
