"""The weights and deploy files a network is loaded from: found, readable, and of the
right kind, or a NetworkError with the one-line fix."""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Optional

from pose.core.errors import EXIT_USAGE, NetworkError
from pose.core.files import kind_of
from pose.core.paths import display_path
from pose.runtime.caffemodel import looks_like_caffemodel

# How far from a roughly published size ("~147 MB") a file may be and still be the one.
APPROX_SIZE_TOLERANCE = 0.05


def warn_if_not_published(weights: Path, size: Optional[int], command: str, approx_size: Optional[int] = None) -> None:
    """One warning when the file at a model's download path is not the size published for
    it, exactly (`size`) or roughly (`approx_size`): someone else's weights under the
    official name. It still runs."""
    if not weights.is_file():
        return
    actual = weights.stat().st_size
    if size is not None and actual != size:
        published = str(size)
    elif size is None and approx_size and abs(actual - approx_size) > APPROX_SIZE_TOLERANCE * approx_size:
        published = f"about {approx_size}"
    else:
        return
    logging.getLogger("pose").warning(f"{weights.name} is {actual} bytes, the published file is {published}: "
                                      f"not the official weights (check: {command} --verify)")


def check_weights(weights: Path, hint: Optional[str] = None) -> None:
    """Fail early and clearly on weights that are missing or not a Caffe model.

    `hint` is the command that fetches the file (for the official weights), if any.
    """
    weights = Path(weights)
    _regular(weights, "weights", "a weights file", f" (run {hint} to download them)" if hint else "")
    try:
        looks_right = weights.stat().st_size > 0 and looks_like_caffemodel(weights)
    except OSError as exc:
        raise NetworkError(f"cannot read {display_path(weights)}: {exc.strerror or exc}", EXIT_USAGE) from None
    if not looks_right:
        fix = f"; run {hint} --force" if hint else ""
        raise NetworkError(f"{display_path(weights)} is not a Caffe .caffemodel file (an HTML page or a "
                           f"broken download?){fix}", EXIT_USAGE)


def _regular(path: Path, what: str, kind: str, fix: str = "") -> None:
    """NetworkError (usage) unless `path` is a regular file: a folder, a FIFO or /dev/zero
    exists but is no model file (reading a FIFO would block, /dev/zero never ends)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise NetworkError(f"{what} not found: {display_path(path)}{fix}", EXIT_USAGE) from None
    except (OSError, ValueError) as exc:
        raise NetworkError(f"cannot read {display_path(path)}: {getattr(exc, 'strerror', None) or exc}", EXIT_USAGE) from None
    if not stat.S_ISREG(st.st_mode):
        raise NetworkError(f"{display_path(path)}: {kind_of(st.st_mode)}, not {kind}", EXIT_USAGE)


def check_prototxt(prototxt: Path) -> None:
    """A network definition: a regular text file (a binary file as --proto printed 2 KB
    of it and a libprotobuf line)."""
    prototxt = Path(prototxt)
    _regular(prototxt, "network definition", "a .prototxt file")
    try:
        with open(prototxt, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise NetworkError(f"cannot read {display_path(prototxt)}: {exc.strerror or exc}", EXIT_USAGE) from None
    if b"\0" in head:
        raise NetworkError(f"{display_path(prototxt)} is not a Caffe .prototxt (a text file); is it the "
                           ".caffemodel? (--weights takes that)", EXIT_USAGE)
