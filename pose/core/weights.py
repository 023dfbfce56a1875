"""What a family's downloadable weights are, as data: each file's place, size, checksums
and URLs (`Weights`), and the files one getModels name installs together (`WeightsSet`:
BlazePose's detector and landmark model, with the mediapipe wheel as the offline source).
pose.download holds the procedure; the families list their files (OpenPose:
pose.families.openpose.spec.DOWNLOADS; BlazePose: pose.families.blazepose.weights.DOWNLOADS).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

from pose.core.paths import models_dir


@dataclass(frozen=True)
class Weights:
    """A published weights file: where it lives and how to recognise it.

    Only the checksums that were published are set: OpenPose gives nothing but an MD5
    for BODY_25, and a checksum computed from an unverified copy would prove nothing.
    """

    relpath: Path  # below the models folder (pose.core.paths.models_dir), e.g. coco/x.caffemodel; or absolute
    size: Optional[int]  # bytes; None where no exact size is published (then the checksum alone decides)
    sha256: Optional[str]
    urls: Tuple[str, ...]
    md5: Optional[str] = None
    # Where only a rough size is published ("~147 MB", 4 bytes per parameter): a file far
    # from it is someone else's network under the official name, worth a warning.
    approx_size: Optional[int] = None
    # No checksum is published at all (mmpose's zips): the download is checked against the
    # record of its first download instead (pose.download.archive), never against nothing
    # by accident.
    unpublished: bool = False

    def __post_init__(self) -> None:
        if not self.checksums() and not self.unpublished:
            raise ValueError(f"{self.path.name}: a weights file needs a SHA-256 or an MD5")

    def checksums(self) -> Dict[str, str]:
        """The published checksums by hashlib name, strongest first."""
        return {name: value for name, value in (("sha256", self.sha256), ("md5", self.md5)) if value}

    @property
    def path(self) -> Path:
        """Where the file is (or goes): pose/<model>/ in a checkout, else the user data folder."""
        return models_dir() / self.relpath


@dataclass(frozen=True)
class WeightsSet:
    """Files that one getModels name installs together. `fallback`, when every URL and
    mirror failed, installs them from somewhere else (BlazePose: the mediapipe wheel,
    through pip) into the given folder, raising an exception with a one-line reason;
    `fallback_name` says what it is; `licence` is told once after a download."""

    files: Tuple[Weights, ...]
    licence: str
    fallback: Optional[Callable[[Path], object]] = None
    fallback_name: str = ""


__all__ = ["Weights", "WeightsSet"]
