"""Where things are: the package, the checkout it may sit in, and the folder that holds
the model weights.

From a checkout (the seed's layout: getModels.sh beside the `pose` package) the weights
stay in pose/<model>/. An installed package keeps them in a user data folder:
$OPENCV_HPE_HOME, else ~/.cache/opencv-hpe ($XDG_CACHE_HOME honoured). getModels and
the tools ask this module, so they always agree.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from pose.core.errors import UsageError

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # pose/, this file being pose/core/paths.py
PROJECT_DIR = PACKAGE_DIR.parent
HOME_ENV = "OPENCV_HPE_HOME"


def is_checkout() -> bool:
    """True when the package runs from a clone of the project (not pip-installed): the
    seed's scripts sit beside the package."""
    return any((PROJECT_DIR / name).is_file() for name in ("getModels.sh", "get_hpe_image.py"))


def user_cache() -> Path:
    """~/.cache/opencv-hpe (or $XDG_CACHE_HOME/opencv-hpe)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "opencv-hpe"


def models_dir() -> Path:
    """The folder holding <model>/<weights file>: $OPENCV_HPE_HOME, the package (checkout)
    or the user cache (installed)."""
    home = os.environ.get(HOME_ENV)
    if home:
        try:
            folder = Path(home).expanduser()
        except RuntimeError:  # ~name of no such user
            raise UsageError(f"{HOME_ENV}={printable(home)}: no such user's home folder") from None
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise UsageError(f"{HOME_ENV}={printable(home)}: a file, not the folder for the model weights")
        return folder
    return PACKAGE_DIR if is_checkout() else user_cache()


def printable(text: str) -> str:
    """`text` with what would break a one-line message escaped as Python writes it: a
    newline in a file name, a byte that is not UTF-8 (`\\udcff`), other control characters."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def display_path(path: os.PathLike) -> str:
    """A path as the user should see it: relative to the project when inside it, and on
    one printable line."""
    try:
        return printable(str(Path(path).resolve().relative_to(PROJECT_DIR)))
    except (ValueError, OSError, RuntimeError):  # elsewhere; a name too long; a looping link
        return printable(str(path))


def models_command() -> str:
    """How the user runs the downloader: the seed's script in a checkout, else the console
    command that `pip install` made."""
    return "./getModels.sh" if is_checkout() else "get-hpe-models"


def cache_dir(model_file: Union[str, Path]) -> Optional[Path]:
    """Where files derived from a model file are cached (converted graphs, compiled
    blobs): the file's folder, or the user's cache folder when that one is read-only;
    None when neither can be written (a read-only home as well: the caller works
    without a cache)."""
    folder = Path(model_file).parent
    if os.access(folder, os.W_OK):
        return folder
    user = user_cache()
    try:
        user.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return user if os.access(user, os.W_OK) else None
