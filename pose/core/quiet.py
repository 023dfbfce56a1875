"""Keeping native libraries quiet: OpenCV, FFmpeg, libpng, onnxruntime and libprotobuf
print their own complaints straight to the process's stderr (some with binary bytes).
The tools report every failure as one line of their own instead."""
from __future__ import annotations

import importlib
import logging
import os
import sys
from contextlib import contextmanager
from typing import Iterator

import cv2


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


def import_quietly(module: str) -> object:
    """`importlib.import_module(module)` without what engines print on import: OpenVINO's
    telemetry warns through the root logger (and would configure it) and onnxruntime's
    writes to fd 2 when the home folder is read-only. Import errors still raise."""
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)  # a root without handlers would be configured by logging.warning()
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with native_stderr_silenced():
            return importlib.import_module(module)
    finally:
        logging.disable(previous)
        root.removeHandler(guard)
