"""Writing results atomically: every file is written under a temporary name beside its
final one and renamed when complete, so an interrupted run never leaves a truncated
file under a final name.

Temporary names are unique per write and keep the extension (`x.tmp-k3j9.mp4`): OpenCV picks the
image codec and the video container from it.
"""
from __future__ import annotations

import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from pose.core.errors import InputError, OutputError
from pose.core.files import Busy, FileLock, remove, remove_stale_temps, temp_path, write_atomic
from pose.core.paths import display_path
from pose.io.inputs import native_stderr_silenced, openable_name

JPEG_QUALITY = 95
# MPEG-4 Part 2: the codec every pip build of OpenCV can write into .mp4.
VIDEO_FOURCC = "mp4v"

PathLike = Union[str, Path]


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def ensure_output_dir(folder: PathLike) -> Path:
    """Create `folder` if needed and prove it is writable (a file is created and removed)."""
    folder = Path(folder)
    shown = display_path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot use output folder {shown}: a file of that name exists")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {shown}: {_reason(exc)}") from None
    return folder


def write_bytes(path: PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise OutputError(f"cannot write {display_path(path)}: {_reason(exc)}") from None


def _encoded(path: Path, image: np.ndarray) -> bytes:
    """The image encoded by the extension of `path` (JPEG at quality 95)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if path.suffix.lower() in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(path.suffix, image, params)
    if not ok:
        raise OutputError(f"cannot encode {display_path(path)} as {path.suffix}")
    return buf.tobytes()


def write_image(path: PathLike, image: np.ndarray) -> Path:
    """Encode by the extension of `path` and write atomically."""
    return write_bytes(path, _encoded(Path(path), image))


def dumps(obj: object) -> str:
    """Compact JSON on one line (what a JSON Lines file holds)."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def write_json(path: PathLike, obj: object) -> Path:
    return write_bytes(path, (dumps(obj) + "\n").encode())


def npy_bytes(array: np.ndarray) -> bytes:
    """`array` as a .npy file's bytes (np.load reads them; no pickles)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


@dataclass
class OutputOptions:
    """What a run writes, images and videos alike (pose.app.images.ImageOptions and
    pose.app.video.VideoOptions add their own)."""

    out_dir: Path  # the mode's folder, e.g. Output/videos/COCO
    write_json: bool = True
    render: bool = True  # False: JSON only, nothing drawn or encoded (--no_render, OpenPose's --render_pose 0)
    classify: bool = True
    display: bool = False
    json_dir: Optional[Path] = None  # --write_json DIR: OpenPose's file per image or frame
    heatmaps_dir: Optional[Path] = None  # --write_heatmaps DIR: the network's maps per image or inferred frame, .npy
    coco_json: Optional[Path] = None  # --write_coco_json FILE: COCO results of every image or frame
    keypoint_scale: int = 0  # --keypoint_scale for every JSON but the COCO results


class _Committed:
    """A file written over time under its temporary name: `commit()` renames it to the
    final name, `discard()` deletes it. Used as a context manager, an exception discards."""

    def __init__(self, path: PathLike):
        self.path = Path(path)
        try:
            self.tmp = temp_path(self.path)
        except OSError as exc:
            raise OutputError(f"cannot write {display_path(self.path)}: {_reason(exc)}") from None
        self.done = False
        self._prepared = False

    def _close(self) -> None:
        raise NotImplementedError

    def _check(self) -> None:
        """Raise OutputError when what reached the disk is not what was written."""

    def prepare(self) -> None:
        """Close and check the temporary file; the first phase of `commit_together`.
        Failing, nothing is left (the temporary is removed)."""
        if self.done or self._prepared:
            return
        try:
            self._close()
            self._check()
            _refuse_folder(self.path)
        except BaseException:  # nothing unchecked takes the final name
            self.done = True
            remove(self.tmp)
            raise
        self._prepared = True

    def publish(self) -> Path:
        """Rename the prepared temporary to the final name."""
        if not self.done:
            self.prepare()
            try:
                os.replace(self.tmp, self.path)
            except OSError as exc:
                remove(self.tmp)
                raise OutputError(f"cannot write {display_path(self.path)}: {_reason(exc)}") from None
            finally:
                self.done = True
        return self.path

    def commit(self) -> Path:
        return commit_together([self])[0]

    def discard(self) -> None:
        if not self.done:
            self.done = True
            try:
                self._close()
            except OutputError:  # discarding: what the disk said no longer matters
                pass
            remove(self.tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


class JsonLinesWriter(_Committed):
    """One JSON object per line; each line is flushed so progress is visible on disk."""

    def __init__(self, path: PathLike):
        super().__init__(path)
        try:
            self._file = open(self.tmp, "wb")  # bytes: `self.bytes` counts what the disk must hold
        except OSError as exc:
            raise OutputError(f"cannot write {display_path(self.path)}: {_reason(exc)}") from None
        self.lines = 0
        self.bytes = 0

    def write(self, obj: object) -> None:
        line = (dumps(obj) + "\n").encode()
        try:
            self._file.write(line)
            self._file.flush()
        except OSError as exc:
            raise OutputError(f"cannot write {display_path(self.path)}: {_reason(exc)}") from None
        self.lines += 1
        self.bytes += len(line)

    def _close(self) -> None:
        if self._file.closed:
            return
        try:  # a full disk or a network file system may only say so here
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise OutputError(f"cannot write {display_path(self.path)}: {_reason(exc)}") from None
        finally:
            try:
                self._file.close()
            except OSError:
                pass

    def _check(self) -> None:
        size = _size(self.tmp)
        if size != self.bytes:
            raise _write_failed(self.path, f"{size} of {self.bytes} bytes reached the disk")


class VideoFileWriter(_Committed):
    """An .mp4 (MPEG-4 Part 2) of fixed frame size; frames of another size are resized."""

    def __init__(self, path: PathLike, fps: float, size: Tuple[int, int]):
        super().__init__(path)
        self.size = (int(size[0]), int(size[1]))
        try:  # an output folder whose name OpenCV cannot encode crashed cv2.VideoWriter
            openable_name(str(self.tmp), display_path(self.path))
        except InputError as exc:
            remove(self.tmp)
            raise OutputError(str(exc)) from None
        self._writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*VIDEO_FOURCC),
                                       float(fps), self.size)
        if not self._writer.isOpened():
            remove(self.tmp)
            raise OutputError(f"cannot write video {display_path(self.path)} (OpenCV could not open "
                              f"an {VIDEO_FOURCC} writer at {self.size[0]}x{self.size[1]}, {fps:g} fps)")
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(frame)
        self.frames += 1

    def _close(self) -> None:
        self._writer.release()

    def _check(self) -> None:
        """cv2.VideoWriter reports no write error: a full disk leaves a truncated file
        without its index, and `release()` says nothing. So the file is read back before
        it takes its final name: it must open, hold every frame written (the count in
        the container's index, written last) and decode its last frame (written last in
        the data)."""
        if self.frames == 0:
            return
        problem = _video_problem(self.tmp, self.frames)
        if problem:
            raise _write_failed(self.path, problem, "video ")


def _video_problem(path: Path, frames: int) -> Optional[str]:
    """Why the video file at `path` does not hold `frames` readable frames, or None."""
    if _size(path) == 0:
        return "nothing reached the disk"
    with native_stderr_silenced():  # FFmpeg prints to fd 2 about a damaged file
        cap = cv2.VideoCapture(str(path))
        try:
            if not cap.isOpened():
                return "the file written cannot be read back, it is truncated"
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            if count != frames:
                return f"the file holds {count} of the {frames} frames written"
            cap.set(cv2.CAP_PROP_POS_FRAMES, frames - 1)
            if not cap.read()[0]:
                return "its last frame cannot be read back, the file is truncated"
        finally:
            cap.release()
    return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


_LOW_SPACE = 1 << 20


def _write_failed(path: Path, problem: str, what: str = "") -> OutputError:
    """The error for a file whose bytes did not all reach the disk; a full disk (the
    usual cause, which the writer itself may not report) is named as such. Made while
    the temporary file still takes its space."""
    try:
        st = os.statvfs(path.parent)
        full = st.f_bavail * st.f_frsize < _LOW_SPACE
    except (OSError, AttributeError):  # no statvfs on Windows
        full = False
    why = f"no space left on device ({problem})" if full else problem
    return OutputError(f"cannot write {what}{display_path(path)}: {why}")


# ---------------------------------------------------------------- outputs that are not ours

def file_identity(path: PathLike) -> tuple:
    """What a path names: an existing file's device and inode (so links and other
    spellings of it agree), else its absolute path with links resolved."""
    try:
        st = os.stat(path)
        return st.st_dev, st.st_ino
    except (OSError, ValueError):
        return (os.path.realpath(path),)  # never raises, also on a looping link


def first_clash(outputs: Sequence[Tuple[str, PathLike]], protected: Sequence[Tuple[str, PathLike]]) -> Optional[str]:
    """The one-line problem when an output lands on a protected file (an input, a model
    file) or on another output of the same run; None when none does. Each item is
    (what it is in words, its path)."""
    seen = {file_identity(path): what for what, path in protected}
    for what, path in outputs:
        key = file_identity(path)
        if key in seen:
            return f"{what} {display_path(path)} would replace {seen[key]}; write it elsewhere"
        seen[key] = what
    return None


# ---------------------------------------------------------------- one run per output

class OutputBusy(OutputError):
    """Another live run holds these outputs (a batch leaves them, and their record, to it)."""


def claim_outputs(paths: Sequence[PathLike], wait: Optional[float] = 0.0) -> FileLock:
    """Lock the final name `paths[0]` for this run (the others are written with it), and
    delete the temporaries a killed run left for any of `paths`.

    Another live run holding it: wait up to `wait` seconds (None: as long as it takes),
    then OutputError naming it. Release the returned lock when the files are written.
    """
    paths = [Path(p) for p in paths]
    lock = FileLock(paths[0])
    try:
        lock.acquire(timeout=wait)
    except Busy as busy:
        who = f"another run (process {busy.pid})" if busy.pid else "another run"
        raise OutputBusy(f"{who} is writing {display_path(paths[0])}; wait for it to finish or "
                          "write elsewhere (--output_dir)") from None
    except OSError as exc:
        raise OutputError(f"cannot write {display_path(paths[0])}: {_reason(exc)}") from None
    for path in paths:
        remove_stale_temps(path)
    return lock


class StagedFile(_Committed):
    """Bytes that belong to a set of outputs (the COCO results and their mapping, a
    video's picture, a frame's JSON): written under the temporary name when the set
    prepares (or at once by `prepare()`), given the final name when it commits."""

    def __init__(self, path: PathLike, data: bytes):
        super().__init__(path)
        self._data: Optional[bytes] = data

    def _close(self) -> None:
        data, self._data = self._data, None
        if data is not None:
            try:
                with open(self.tmp, "wb") as f:
                    f.write(data)
            except OSError as exc:
                raise OutputError(f"cannot write {display_path(self.path)}: {_reason(exc)}") from None

    def discard(self) -> None:
        self._data = None  # nothing to write any more
        super().discard()


def stage_image(path: PathLike, image: np.ndarray) -> StagedFile:
    """`write_image`'s encoding, staged for `commit_together`."""
    return StagedFile(path, _encoded(Path(path), image))


def _refuse_folder(path: Path) -> None:
    # os.replace onto a folder fails only at the rename, after other files of the set
    # took their names: found here, in the first phase, nothing is committed.
    if path.is_dir():
        raise OutputError(f"cannot write {display_path(path)}: a folder of that name exists")


def commit_together(writers: Sequence) -> List[Path]:
    """Commit a run's outputs as one set: every writer is closed and checked first (a
    failure discards them all, so no part of the set takes a final name), then every
    temporary is renamed. Returns what each writer's commit returns."""
    try:
        for writer in writers:
            writer.prepare()
    except BaseException:
        for writer in writers:
            writer.discard()
        raise
    return [writer.publish() for writer in writers]


class _StagedSet:
    """Several StagedFiles that are one member of a run's set of outputs (see
    commit_together): prepared, published and discarded together."""

    def __init__(self, result: Path):
        self.result = result  # what commit() returns
        self.staged: List[StagedFile] = []
        self.done = False

    def _stage(self) -> None:
        """Stage what is still held in memory; called first by prepare()."""

    def _finished(self) -> None:
        """Called once, when the set is published or discarded."""

    def _published(self) -> None:
        """Called once every file of the set has its final name (before _finished)."""

    def prepare(self) -> None:
        if self.done:
            return
        try:
            self._stage()
            for staged in self.staged:
                staged.prepare()
        except BaseException:
            self.discard()
            raise

    def publish(self) -> Path:
        if not self.done:
            self.prepare()
            self.done = True
            try:
                for staged in self.staged:
                    staged.publish()
                self._published()
            finally:
                self._finished()
        return self.result

    def commit(self) -> Path:
        return commit_together([self])[0]

    def discard(self) -> None:
        if not self.done:
            self.done = True
            for staged in self.staged:
                staged.discard()
            self._finished()


class FrameFolderWriter(_StagedSet):
    """One file per frame in a folder, named `<stem>_<frame, 12 digits>_<kind>` (OpenPose's
    --write_json and --write_heatmaps DIR). Each is written whole under a temporary name
    as its frame is done, and all take their final names at commit, with the run's other
    outputs: an abandoned or failed run leaves none, and a failed run never deletes a
    file another run wrote. The folder's `<stem>` names are held by a lock (two runs on
    videos of the same stem would mix their frames), and temporaries a killed run left
    are removed. A committed set replaces the stem's earlier one whole: frames an earlier,
    longer video of the same name left beyond this one's last are removed with it."""

    def __init__(self, folder: PathLike, stem: Optional[str] = None, kind: str = "keypoints.json"):
        super().__init__(Path(folder))
        self.folder = Path(folder)
        self.lock: Optional[FileLock] = None
        self.frame_file: Optional[re.Pattern] = None
        if stem is not None:
            self.lock = claim_outputs([self.folder / f"{stem}_{kind}"])
            name, ext = kind.rsplit(".", 1)
            frame = re.escape(stem) + r"_\d{12}_" + re.escape(name)
            self.frame_file = re.compile(frame + r"\." + re.escape(ext))
            stale = re.compile(frame + r"\.tmp-[A-Za-z0-9_]{8}\." + re.escape(ext))
            for name in self._names():
                if stale.fullmatch(name):
                    remove(self.folder / name)

    def _names(self) -> List[str]:
        try:
            return [entry.name for entry in os.scandir(self.folder)]
        except OSError:
            return []

    def _published(self) -> None:
        if self.frame_file is not None:  # still under the stem's lock: no other run is writing these
            ours = {staged.path.name for staged in self.staged}
            for name in self._names():
                if self.frame_file.fullmatch(name) and name not in ours:
                    remove(self.folder / name)

    def add(self, name: str, data: bytes) -> Path:
        staged = StagedFile(self.folder / name, data)
        self.staged.append(staged)
        staged.prepare()  # on disk now: a long video's frames are not held in memory
        return self.folder / name

    def _finished(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


class JsonFolderWriter(FrameFolderWriter):
    """OpenPose's --write_json DIR: `<stem>_<frame>_keypoints.json` for every frame."""

    def write(self, name: str, obj: object) -> Path:
        return self.add(name, (dumps(obj) + "\n").encode())


class MapsFolderWriter(FrameFolderWriter):
    """OpenPose's --write_heatmaps DIR: `<stem>_<frame>_pose_heatmaps.npy` for every inferred frame."""

    def __init__(self, folder: PathLike, stem: Optional[str] = None):
        super().__init__(folder, stem, "pose_heatmaps.npy")

    def write(self, name: str, maps: np.ndarray) -> Path:
        return self.add(name, npy_bytes(maps))


def coco_mapping_path(path: PathLike) -> Path:
    """Where the image-id mapping of a COCO results file goes: beside it, `results.json`
    -> `results.image_ids.json`."""
    path = Path(path)
    stem = path.stem if path.suffix.lower() == ".json" else path.name
    return path.with_name(f"{stem}.image_ids.json")


class CocoResultsWriter(_StagedSet):
    """COCO keypoint results of a whole run, kept in memory and written when the run's
    outputs commit, with the mapping from image_id to input (coco_mapping_path) beside
    it. `discard()` writes nothing."""

    def __init__(self, path: PathLike, about: Optional[Dict[str, object]] = None):
        super().__init__(Path(path))
        self.path = Path(path)
        self.mapping_path = coco_mapping_path(self.path)
        self.results: List[dict] = []
        self.images: List[dict] = []
        self.about = dict(about or {})

    def add(self, results: List[dict], image: Dict[str, object]) -> None:
        """One image's or frame's results and its entry in the mapping ("id" first)."""
        self.results += results
        self.images.append(image)

    def _stage(self) -> None:
        if not self.staged:
            mapping = {**self.about, "images": self.images}
            # one at a time: if the second cannot be made, the first is in self.staged to discard
            self.staged.append(StagedFile(self.path, (json.dumps(self.results, separators=(",", ":")) + "\n").encode()))
            self.staged.append(StagedFile(self.mapping_path, (json.dumps(mapping, indent=1) + "\n").encode()))
