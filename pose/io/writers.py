"""Writing results atomically: every file is written under a temporary name beside its
final one and renamed when complete, so an interrupted run never leaves a truncated
file under a final name.

Temporary names are unique per write and keep the extension (`x.tmp-k3j9.mp4`): OpenCV picks the
image codec and the video container from it.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import cv2
import numpy as np

from pose.errors import OutputError
from pose.files import remove, temp_path, write_atomic
from pose.paths import display_path

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


def write_image(path: PathLike, image: np.ndarray) -> Path:
    """Encode by the extension of `path` (JPEG at quality 95) and write atomically."""
    path = Path(path)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if path.suffix.lower() in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(path.suffix, image, params)
    if not ok:
        raise OutputError(f"cannot encode {display_path(path)} as {path.suffix}")
    return write_bytes(path, buf.tobytes())


def dumps(obj: object) -> str:
    """Compact JSON on one line (what a JSON Lines file holds)."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def write_json(path: PathLike, obj: object) -> Path:
    return write_bytes(path, (dumps(obj) + "\n").encode())


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

    def _close(self) -> None:
        raise NotImplementedError

    def commit(self) -> Path:
        if not self.done:
            self._close()
            try:
                os.replace(self.tmp, self.path)
            except OSError as exc:
                remove(self.tmp)
                raise OutputError(f"cannot write {display_path(self.path)}: {_reason(exc)}") from None
            finally:
                self.done = True
        return self.path

    def discard(self) -> None:
        if not self.done:
            self.done = True
            self._close()
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
            self._file = open(self.tmp, "w", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {display_path(self.path)}: {_reason(exc)}") from None
        self.lines = 0

    def write(self, obj: object) -> None:
        try:
            self._file.write(dumps(obj) + "\n")
            self._file.flush()
        except OSError as exc:
            raise OutputError(f"cannot write {display_path(self.path)}: {_reason(exc)}") from None
        self.lines += 1

    def _close(self) -> None:
        self._file.close()


class VideoFileWriter(_Committed):
    """An .mp4 (MPEG-4 Part 2) of fixed frame size; frames of another size are resized."""

    def __init__(self, path: PathLike, fps: float, size: Tuple[int, int]):
        super().__init__(path)
        self.size = (int(size[0]), int(size[1]))
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


class JsonFolderWriter:
    """One JSON file per frame in a folder (OpenPose's --write_json DIR), each written
    atomically when its frame is done. `commit()` keeps them and returns the folder;
    `discard()` (a failed run) removes the files this writer wrote, as the other writers
    drop their temporary files."""

    def __init__(self, folder: PathLike):
        self.folder = Path(folder)
        self.written: List[Path] = []
        self.done = False

    def write(self, name: str, obj: object) -> Path:
        path = write_json(self.folder / name, obj)
        self.written.append(path)
        return path

    def commit(self) -> Path:
        self.done = True
        return self.folder

    def discard(self) -> None:
        if not self.done:
            self.done = True
            for path in self.written:
                remove(path)


def coco_mapping_path(path: PathLike) -> Path:
    """Where the image-id mapping of a COCO results file goes: beside it, `results.json`
    -> `results.image_ids.json`."""
    path = Path(path)
    stem = path.stem if path.suffix.lower() == ".json" else path.name
    return path.with_name(f"{stem}.image_ids.json")


class CocoResultsWriter:
    """COCO keypoint results of a whole run, kept in memory and written at `commit()`,
    atomically, with the mapping from image_id to input (coco_mapping_path) beside it.
    `discard()` writes nothing."""

    def __init__(self, path: PathLike, about: Optional[Dict[str, object]] = None):
        self.path = Path(path)
        self.mapping_path = coco_mapping_path(self.path)
        self.results: List[dict] = []
        self.images: List[dict] = []
        self.about = dict(about or {})
        self.done = False

    def add(self, results: List[dict], image: Dict[str, object]) -> None:
        """One image's or frame's results and its entry in the mapping ("id" first)."""
        self.results += results
        self.images.append(image)

    def commit(self) -> Path:
        if not self.done:
            self.done = True
            write_bytes(self.path, (json.dumps(self.results, separators=(",", ":")) + "\n").encode())
            mapping = {**self.about, "images": self.images}
            write_bytes(self.mapping_path, (json.dumps(mapping, indent=1) + "\n").encode())
        return self.path

    def discard(self) -> None:
        self.done = True


def read_jsonl(path: PathLike) -> list:
    """Every object of a JSON Lines file (for tests and tools reading our output)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
