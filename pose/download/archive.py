"""Network files published inside zips, with no checksum and no size published (mmpose's
RTMPose, RTMO and detector end2end.onnx): getting them, and trusting them no further than
their first download.

For one file (an `Archive`: pose.families.rtmpose.models), in the order of its URLs (the
user's --mirror first, then mmpose's host, then the community mirror):
- a URL ending in .zip is downloaded to `<zip>.part` beside the target, resumed with HTTP
  Range requests where the server allows (pose.download.fetch's procedure: retries,
  backoff, error pages recognised, the server's announced size checked against what
  arrives), then its `end2end.onnx` is taken out (the zip's own sizes and CRC-32 checked
  while reading) into a temporary file and renamed into place: nothing half-written ever
  holds the final name;
- any other URL (the Hugging Face mirror) is the ONNX itself, downloaded the same way.

No checksum is published, so the first download is recorded beside the file
(`<file>.sha256.json`: SHA-256 and size of the ONNX and of the zip it came from, the URL,
the date), and every later download (--force, a damaged file, another mirror) and
`--verify` are checked against that record: a file that differs from the first download
is refused, and the record is never rewritten by a download. This proves that a file is
the one first downloaded, not that the first download was the publisher's; the tools'
output says so.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, List, Optional, Sequence, Set, Tuple

from pose.core.files import remove, remove_stale_temps, temp_path, write_atomic
from pose.core.weights import Weights
from pose.download.fetch import (
    Policy,
    _as_url,
    _DiskError,
    _fetch_from,
    _locked,
    _make_parent,
    _MirrorFailed,
    part_path,
    try_mirrors,
)
from pose.families.rtmpose.models import recorded

_CHUNK = 1 << 20
ONNX_FIRST_BYTE = b"\x08"  # a ModelProto starts with its ir_version field (tag 1, varint)
RECORD_NOTE = ("No checksum is published for this file: these are the SHA-256 and size of its first download; "
               "getModels.sh checks every later download and --verify against them.")


@dataclass
class ArchiveOutcome:
    """What became of one archive's file."""

    name: str
    ok: bool
    status: str  # "present", "downloaded", "failed"
    detail: str
    tried: List[Tuple[str, str]] = field(default_factory=list)


def _sha256(path: Path) -> Tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _write_record(archive, sha256: str, size: int, source: str, zip_info: Optional[dict]) -> None:
    record = {"file": archive.path.name, "sha256": sha256, "size": size, "source": source, "archive": zip_info,
              "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "note": RECORD_NOTE}
    try:
        write_atomic(archive.record, (json.dumps(record, indent=2) + "\n").encode())
    except OSError as e:
        raise _DiskError(f"cannot write {archive.record}: {e.strerror or e}")


def verify_archive(archive) -> Tuple[bool, str]:
    """Whether the file on disk is the one first downloaded, with a one-line reason."""
    path = archive.path
    if not path.is_file():
        return False, f"missing: {path}"
    record = recorded(archive)
    if record is None:
        return False, (f"cannot verify {path}: no record of its first download ({archive.record.name}); "
                       f"run ./getModels.sh {archive.name} once to record it")
    try:
        size = path.stat().st_size
        if size != record.get("size"):
            return False, f"wrong size: {path} has {size} bytes, its first download had {record.get('size')}"
        sha, _ = _sha256(path)
    except OSError as e:
        return False, f"cannot read {path}: {e.strerror or e}"
    if sha != record["sha256"]:
        return False, f"checksum mismatch: {path} has SHA-256 {sha}, its first download had {record['sha256']}"
    return True, (f"verified: {path} (SHA-256 {sha[:16]}... as first downloaded {record.get('recorded', '')}; "
                  "no checksum is published)")


def urls_for_archive(archive, mirrors: Sequence[str] = (), only_mirrors: bool = False) -> List[str]:
    """The user's mirrors first (a base URL or folder gets the zip's name; a URL ending in
    .zip or .onnx is used as it is), then the built-in ones."""
    urls = []
    for mirror in mirrors:
        url = _as_url(mirror)
        if url.lower().endswith((".zip", ".onnx")):
            urls.append(url)
        else:
            urls.append(url.rstrip("/") + "/" + archive.zip_name)
    if not only_mirrors:
        urls.extend(archive.urls)
    return list(dict.fromkeys(urls))


def _is_zip(url: str) -> bool:
    return url.split("?", 1)[0].lower().endswith(".zip")


def _download_target(archive, url: str) -> Path:
    """Where a URL's bytes go while they arrive (the .part beside it): the zip's name, or
    the ONNX's name with .download for a bare ONNX."""
    return archive.path.with_name(archive.zip_name if _is_zip(url) else archive.path.name + ".download")


def part_of(archive, url: str) -> Path:
    """The .part a download from `url` is kept in while it arrives (and resumed from)."""
    target = _download_target(archive, url)
    return target.with_name(target.name + ".part")


def _extract(archive, zip_path: Path) -> Path:
    """The zip's `member` written to a temporary file beside the target (its sizes and
    CRC-32 checked by zipfile as it reads); _MirrorFailed when the zip is not one or lacks it."""
    try:
        with zipfile.ZipFile(zip_path) as z:
            members = [i for i in z.infolist() if PurePosixPath(i.filename).name == archive.member and not i.is_dir()]
            if len(members) != 1:
                raise _MirrorFailed(f"the zip holds {len(members)} {archive.member} files, expected one")
            info = members[0]
            tmp = temp_path(archive.path)
            try:
                written = 0
                with z.open(info) as src, open(tmp, "wb") as dst:
                    for chunk in iter(lambda: src.read(_CHUNK), b""):
                        dst.write(chunk)
                        written += len(chunk)
                    dst.flush()
                    os.fsync(dst.fileno())
                if written != info.file_size or written == 0:
                    raise _MirrorFailed(f"{info.filename}: {written} bytes unpacked, the zip says {info.file_size}")
            except BaseException:
                remove(tmp)
                raise
            return tmp
    except zipfile.BadZipFile as e:  # not a zip, truncated, or a CRC-32 mismatch
        raise _MirrorFailed(f"not a valid zip ({e})")
    except OSError as e:
        raise _DiskError(f"cannot unpack {zip_path}: {e.strerror or e}")


def _whole_zip(path: Path) -> bool:
    """A .part that is already a whole zip (its directory at the end is there and whole)."""
    try:
        with zipfile.ZipFile(path) as z:
            return bool(z.infolist())
    except (OSError, zipfile.BadZipFile):
        return False


def _check_onnx(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(1)
    except OSError as e:
        raise _DiskError(f"cannot read {path}: {e.strerror or e}")
    if head != ONNX_FIRST_BYTE:
        raise _MirrorFailed("what arrived is not an ONNX file")


def _from_url(archive, url: str, record: Optional[dict], policy: Policy, session, say) -> str:
    """One URL: download, unpack where it is a zip, check against the record, install.
    Returns the line that says what was done."""
    target = _download_target(archive, url)
    expected = None
    if record is not None:
        expected = ((record.get("archive") or {}).get("sha256") if _is_zip(url) else record["sha256"])
    weights = Weights(target, size=None, sha256=expected, urls=(), unpublished=True)
    part = part_path(weights)
    if _is_zip(url) and _whole_zip(part):  # an earlier run got it all, then stopped
        say(f"  {part.name} is complete (an earlier run's): unpacking it")
    else:
        try:
            _fetch_from(url, weights, policy, session, say)  # the .part holds the whole file (checked where recorded)
        except _MirrorFailed as e:
            if expected and str(e).startswith("checksum mismatch"):
                raise _MirrorFailed(f"{'the zip' if _is_zip(url) else 'the file'} differs from the first download "
                                    f"recorded in {archive.record} ({e}; recorded SHA-256 {expected}); if the "
                                    "publisher replaced it, delete the record and run again") from None
            raise
    zip_info = None
    try:
        if _is_zip(url):
            zip_sha, zip_size = _sha256(part)
            zip_info = {"name": archive.zip_name, "sha256": zip_sha, "size": zip_size}
            if expected and zip_sha != expected:
                remove(part)
                raise _MirrorFailed(f"the zip differs from the first download recorded in {archive.record} "
                                    f"(SHA-256 {zip_sha}, recorded {expected})")
            try:
                tmp = _extract(archive, part)
            except _MirrorFailed:
                remove(part)  # whole but useless: the next URL starts afresh
                raise
        else:
            tmp = temp_path(archive.path)
            os.replace(part, tmp)
    except OSError as e:
        raise _DiskError(f"cannot use {part}: {e.strerror or e}")
    try:
        _check_onnx(tmp)
        sha, size = _sha256(tmp)
        if record is not None and (sha != record["sha256"] or size != record.get("size")):
            raise _MirrorFailed(f"differs from the first download recorded in {archive.record} (SHA-256 {sha}, "
                                f"{size} bytes; recorded {record['sha256']}, {record.get('size')} bytes from "
                                f"{record.get('source')}); if the publisher replaced the file, delete the record "
                                "and run again")
        os.replace(tmp, archive.path)
    except BaseException:
        remove(tmp)
        raise
    remove(part)
    if record is None:
        _write_record(archive, sha, size, url, zip_info)
        return (f"downloaded from {url}; no checksum is published: recorded its SHA-256 {sha[:16]}... "
                f"in {archive.record.name}, which later downloads and --verify are checked against")
    return f"downloaded from {url}, verified against its first download (SHA-256 {sha[:16]}...)"


def fetch_archive(archive, urls: Optional[Sequence[str]] = None, *, force: bool = False,
                  policy: Policy = Policy(), say: Optional[Callable[[str], None]] = None,
                  unreachable: Optional[Set[str]] = None,
                  on_wait: Optional[Callable[[str], None]] = None) -> ArchiveOutcome:
    """Make archive.path hold the network file, downloading it if needed (see the module).
    KeyboardInterrupt propagates with the .part left in place for the next run."""


    say = say or (lambda message: None)
    urls = list(archive.urls if urls is None else urls)
    unreachable = set() if unreachable is None else unreachable
    record = recorded(archive)
    if not force and archive.path.is_file():
        if record is None:  # placed by hand, or an older checkout: trust starts now
            try:
                _make_parent(archive.path)
                sha, size = _sha256(archive.path)
                _write_record(archive, sha, size, f"file found at {archive.path}", None)
            except (OSError, _DiskError) as e:
                return ArchiveOutcome(archive.name, False, "failed", str(e))
            return ArchiveOutcome(archive.name, True, "present",
                                  f"already present; no checksum is published: recorded its SHA-256 {sha[:16]}... "
                                  f"now in {archive.record.name}")
        ok, detail = verify_archive(archive)
        if ok:
            return ArchiveOutcome(archive.name, True, "present", "already present, " + detail.split(": ", 1)[0]
                                  + " against its first download")
        say(f"  {detail}; it will be replaced")
    tried: List[Tuple[str, str]] = []
    try:
        _make_parent(archive.path)
        with _locked(Weights(archive.path, None, None, (), unpublished=True), on_wait or say):
            remove_stale_temps(archive.path)
            detail = try_mirrors(urls, lambda url, session: _from_url(archive, url, record, policy, session, say),
                                 lambda url: part_of(archive, url), unreachable, say, tried)
            if detail is not None:
                return ArchiveOutcome(archive.name, True, "downloaded", detail, tried)
    except _DiskError as e:
        return ArchiveOutcome(archive.name, False, "failed", str(e), tried)
    return ArchiveOutcome(archive.name, False, "failed", manual_instructions(archive, tried), tried)


def manual_instructions(archive, tried: Sequence[Tuple[str, str]]) -> str:
    """The paragraph shown when no URL delivered the file."""
    lines = [f"Could not download {archive.path.name}: every URL failed."]
    if tried:
        lines.append("Tried, in order:")
        lines.extend(f"  {url}\n    -> {reason}" for url, reason in tried)
    lines += [f"To install it by hand: get {archive.zip_name} (or the bare .onnx of the mirror) from any of the "
              f"URLs above, take end2end.onnx out of the zip and put it at",
              f"  {archive.path}",
              f"then run ./getModels.sh {archive.name} (it records the file's SHA-256: no checksum is published), "
              "or let getModels copy it: ./getModels.sh --mirror /folder/holding/the/zip " + archive.name]
    return "\n".join(lines)


__all__ = ["ArchiveOutcome", "fetch_archive", "manual_instructions", "recorded", "urls_for_archive", "verify_archive"]
