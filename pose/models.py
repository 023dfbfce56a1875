"""Download and verify the OpenPose weights files.

`getModels.sh` is a thin wrapper over this module (`python -m pose.models --help`).
The facts (paths, sizes, checksums, mirrors) live in pose.spec.DOWNLOADS; this module
holds only the procedure: try each mirror in order, stream to `<file>.part`, resume
with an HTTP Range request where the server allows it, check the size and every
published checksum (SHA-256; for BODY_25 only an MD5 exists), then rename into place.
Nothing lands at the final path unless it is the official file.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import os
import re
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple
from urllib.parse import quote, urlsplit, urlunsplit
from urllib.request import url2pathname

from pose.spec import DOWNLOADS, Weights

try:
    import requests
    from tqdm import tqdm
except ImportError as error:  # reported by main() as one line, not a traceback at import
    _MISSING: Optional[str] = error.name
else:
    _MISSING = None

MIRRORS_ENV = "OPENCV_HPE_MIRRORS"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # what shells report for a process ended by SIGINT

_CHUNK = 256 * 1024
# How much of a body is inspected to recognise an error page served with status 200.
_SNIFF = 512
_HTML_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<title", b"<meta", b"<script")
# Statuses where asking again later can help; every other error status ends the mirror.
_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524}


@dataclass(frozen=True)
class Policy:
    """How patiently to talk to mirrors. Tests shrink these to keep the suite fast."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # longest silence tolerated mid-download
    retries: int = 3  # consecutive failed requests, without progress, before giving up a mirror
    backoff: float = 1.0  # first pause between retries, doubled each time
    max_requests: int = 30  # hard bound per mirror, even when each request makes progress
    progress: bool = True  # tqdm bar on stderr


@dataclass
class Outcome:
    """What became of one weights file."""

    weights: Weights
    ok: bool
    status: str  # "present", "downloaded", "failed"
    detail: str
    tried: List[Tuple[str, str]] = field(default_factory=list)  # (url, why it failed)


class _MirrorFailed(Exception):
    """This mirror cannot deliver the file; move on to the next one."""

    def __init__(self, reason: str, unreachable: bool = False):
        super().__init__(reason)
        self.unreachable = unreachable  # its host could not be connected to at all


class _Transient(Exception):
    """This request failed, but asking the same mirror again may work."""

    def __init__(self, reason: str, unreachable: bool = False):
        super().__init__(reason)
        self.unreachable = unreachable


class _Restart(Exception):
    """The .part cannot be trusted; start this mirror again from byte 0."""


class _DiskError(Exception):
    """A local file could not be written; no mirror can fix that."""


# --------------------------------------------------------------------------- verification


def part_path(weights: Weights) -> Path:
    """Where an unfinished download of `weights` is kept between runs."""
    return weights.path.with_name(weights.path.name + ".part")


# hashlib name -> (what people call it, Linux command, macOS command, certutil's name):
# how the hand-install instructions tell users to check a file.
_CHECKSUM_TOOLS = {
    "sha256": ("SHA-256", "sha256sum", "shasum -a 256", "SHA256"),
    "md5": ("MD5", "md5sum", "md5", "MD5"),
}


def _hashers(weights: Weights) -> Dict[str, "hashlib._Hash"]:
    """One running hash per checksum published for `weights`."""
    # MD5 only recognises the file here; FIPS builds refuse it unless told so.
    return {name: hashlib.new(name, usedforsecurity=False) for name in weights.checksums()}


def _update(hashers: Mapping[str, "hashlib._Hash"], chunk: bytes) -> None:
    for h in hashers.values():
        h.update(chunk)


def digests_of(path: Path, weights: Weights) -> Dict[str, str]:
    """The hex digests of `path` for every checksum published for `weights`, in one read."""
    hashers = _hashers(weights)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            _update(hashers, chunk)
    return {name: h.hexdigest() for name, h in hashers.items()}


def _mismatch(weights: Weights, digests: Mapping[str, str]) -> Optional[Tuple[str, str, str]]:
    """(label, got, expected) of the first published checksum `digests` contradicts."""
    for name, expected in weights.checksums().items():
        if digests[name] != expected:
            return _CHECKSUM_TOOLS[name][0], digests[name], expected
    return None


# Hashing 200 MB takes 0.15-0.2 s here (benchmarks/models_download.py); the loader may ask
# several times per process, and a file whose size, mtime and inode are unchanged is the same
# (the key also holds which checksums were computed).
_VERIFIED: Dict[Tuple[str, int, int, int, Tuple[str, ...]], Dict[str, str]] = {}


def verify_file(weights: Weights) -> Tuple[bool, str]:
    """Whether the file at weights.path is the official one, with a one-line reason."""
    path = weights.path
    try:
        st = path.stat()
    except FileNotFoundError:
        return False, f"missing: {path}"
    except OSError as e:
        return False, f"cannot read {path}: {e.strerror or e}"
    if not path.is_file():
        return False, f"not a regular file: {path}"
    if st.st_size != weights.size:
        return False, (f"wrong size: {path} has {st.st_size} bytes, expected {weights.size} "
                       "(an incomplete or different file)")
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino, tuple(weights.checksums()))
    digests = _VERIFIED.get(key)
    if digests is None:
        try:
            digests = digests_of(path, weights)
        except OSError as e:
            return False, f"cannot read {path}: {e.strerror or e}"
        _VERIFIED[key] = digests
    wrong = _mismatch(weights, digests)
    if wrong:
        label, got, expected = wrong
        return False, f"checksum mismatch: {path} has {label} {got}, expected {expected}"
    name, value = next(iter(weights.checksums().items()))
    return True, f"verified: {path} ({_CHECKSUM_TOOLS[name][0]} {value[:16]}...)"


# --------------------------------------------------------------------------- mirrors


def mirror_url(mirror: str, weights: Weights) -> str:
    """The URL of `weights` at `mirror`.

    A mirror is an http(s):// or file:// URL or a local path. One whose path ends in
    `.caffemodel` names the file itself and is used as is; any other is a directory
    (base) to which the weights' file name is appended.
    """
    url = _as_url(mirror)
    if _names_file(url):
        return url
    parts = urlsplit(url)
    path = parts.path.rstrip("/") + "/" + quote(weights.path.name)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def mirrors_from_env(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The mirrors listed in $OPENCV_HPE_MIRRORS, separated by spaces or commas."""
    value = (os.environ if environ is None else environ).get(MIRRORS_ENV, "")
    return [m for m in value.replace(",", " ").split() if m]


def _as_url(mirror: str) -> str:
    scheme = urlsplit(mirror).scheme.lower()
    if scheme in ("http", "https", "file"):
        return mirror
    if scheme == "" or len(scheme) == 1:  # a plain path; one letter is a Windows drive
        return Path(mirror).expanduser().resolve().as_uri()
    raise ValueError(f"unsupported mirror {mirror!r}: use http://, https://, file:// or a local path")


def _names_file(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(".caffemodel")


def _basename(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def urls_for(weights: Weights, mirrors: Sequence[str], requested: int = 1,
             only_mirrors: bool = False) -> List[str]:
    """Every URL to try for `weights`: the user's mirrors first, then the built-in ones.

    A mirror naming a file applies to the weights of that file name, or to any weights
    when only one model is requested (`requested`).
    """
    urls: List[str] = []
    for mirror in mirrors:
        url = mirror_url(mirror, weights)
        if _names_file(url) and _basename(url) != weights.path.name and requested != 1:
            continue
        urls.append(url)
    if not only_mirrors:
        urls.extend(weights.urls)
    return list(dict.fromkeys(urls))  # drop repeats, keep the order


def _check_file_mirrors(mirrors: Sequence[str], wanted: Sequence[Weights]) -> None:
    """A mirror naming a file that fits none of several requested models is a usage error."""
    if len(wanted) == 1:
        return
    names = {w.path.name for w in wanted}
    for mirror in mirrors:
        url = _as_url(mirror)
        if _names_file(url) and _basename(url) not in names:
            raise ValueError(f"mirror {mirror!r} names one file; request a single model to use it "
                             f"for that model, or give the directory that holds {' and '.join(sorted(names))}")


# --------------------------------------------------------------------------- sources


@dataclass
class _Source:
    """An open answer from a mirror: bytes from `start` on, of a file of `total` bytes."""

    start: int
    total: Optional[int]
    chunks: Iterator[bytes]
    close: Callable[[], None]


def _open_http(session: requests.Session, url: str, offset: int, weights: Weights,
               policy: Policy) -> _Source:
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = session.get(url, headers=headers, stream=True,
                               timeout=(policy.connect_timeout, policy.read_timeout))
    except requests.exceptions.ConnectTimeout:
        raise _Transient(f"no connection within {policy.connect_timeout:g} s", unreachable=True)
    except requests.exceptions.ReadTimeout:
        raise _Transient(f"no answer within {policy.read_timeout:g} s")
    except requests.exceptions.TooManyRedirects:
        raise _MirrorFailed("too many redirects")
    except requests.exceptions.ConnectionError as e:
        raise _Transient(f"cannot connect: {_short(e)}", unreachable=True)
    except requests.exceptions.RequestException as e:
        raise _MirrorFailed(f"request failed: {_short(e)}")
    try:
        return _accept(response, offset, weights, policy.read_timeout)
    except BaseException:
        response.close()
        raise


def _accept(response: requests.Response, offset: int, weights: Weights,
            read_timeout: float) -> _Source:
    """Turn a response into a source, or reject it as early as the headers allow."""
    status = response.status_code
    if status == 416:
        raise _Restart("server refused the resume range")
    if status in _TRANSIENT_STATUS:
        raise _Transient(f"HTTP {status} {response.reason or ''}".rstrip())
    if status not in (200, 206):
        raise _MirrorFailed(f"HTTP {status} {response.reason or ''}".rstrip())
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        raise _MirrorFailed(f"answered an HTML page ({content_type}), not the weights")
    length = response.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if status == 200:
        start, total = 0, length
    else:
        start, total = _content_range(response.headers.get("Content-Range", ""))
        if start != offset:
            raise _Restart(f"server resumed at byte {start}, asked for {offset}")
    if total is not None and total != weights.size:
        raise _MirrorFailed(f"wrong size: server announces {total} bytes, expected {weights.size}")
    chunks = response.iter_content(_CHUNK)
    return _Source(start=start, total=total, chunks=_http_chunks(chunks, read_timeout),
                   close=response.close)


def _http_chunks(chunks: Iterator[bytes], read_timeout: float) -> Iterator[bytes]:
    try:
        for chunk in chunks:
            if chunk:
                yield chunk
    except requests.exceptions.ChunkedEncodingError:  # fewer bytes than Content-Length
        raise _Transient("connection closed before the end")
    except requests.exceptions.ConnectionError as e:  # how requests reports a read timeout here
        reason = _short(e)
        raise _Transient(f"no data for {read_timeout:g} s" if reason == "Read timed out"
                         else f"connection lost: {reason}")
    except OSError as e:  # requests' errors are OSErrors; a raw socket error may slip through
        raise _Transient(f"connection lost: {_short(e)}")


def _content_range(value: str) -> Tuple[int, Optional[int]]:
    # "bytes 100-199/200"; the total may be "*" when the server does not know it.
    try:
        _, rest = value.split(None, 1)
        span, total = rest.split("/", 1)
        start = int(span.split("-", 1)[0])
        return start, (None if total.strip() == "*" else int(total))
    except ValueError:
        raise _Restart(f"unreadable Content-Range {value!r}")


def _open_file(url: str, offset: int, weights: Weights) -> _Source:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise _MirrorFailed(f"file:// URL on another host ({parts.netloc}) is not supported")
    path = Path(url2pathname(parts.path))
    try:
        size = path.stat().st_size
        f = open(path, "rb")
    except FileNotFoundError:
        raise _MirrorFailed(f"no such file: {path}")
    except IsADirectoryError:
        raise _MirrorFailed(f"is a directory: {path}")
    except OSError as e:
        raise _MirrorFailed(f"cannot read {path}: {e.strerror or e}")
    if size != weights.size:
        f.close()
        raise _MirrorFailed(f"wrong size: {path} has {size} bytes, expected {weights.size}")
    f.seek(offset)
    return _Source(start=offset, total=size, chunks=_file_chunks(f, path), close=f.close)


def _file_chunks(f: BinaryIO, path: Path) -> Iterator[bytes]:
    try:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            yield chunk
    except OSError as e:
        raise _Transient(f"cannot read {path}: {e.strerror or e}")


def _short(error: Exception) -> str:
    """The telling part of a requests/urllib3 error, whose text nests several reprs."""
    text = str(error)
    host = re.search(r"Failed to resolve '([^']+)'", text)
    if host:
        return f"host {host.group(1)} not found"
    for pattern in (r"\[Errno -?\d+\] ([^'\")]+)",  # the OS's words: "Connection refused"
                    r"(Read timed out)",
                    r"^\('([^']+)'"):  # ('Connection broken: IncompleteRead(...)', ...)
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip()
    return text.strip(" ()'\"")[:160]


# --------------------------------------------------------------------------- one mirror


def _looks_like_html(head: bytes) -> bool:
    return head[:_SNIFF].lstrip().lower().startswith(_HTML_STARTS)


def _part_size(part: Path) -> int:
    try:
        return part.stat().st_size
    except FileNotFoundError:
        return 0
    except OSError as e:
        raise _DiskError(f"cannot read {part}: {e.strerror or e}")


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as e:
        raise _DiskError(f"cannot remove {path}: {e.strerror or e}")


def _fetch_once(url: str, weights: Weights, policy: Policy, session: requests.Session,
                say: Callable[[str], None]) -> None:
    """One request: append what the mirror sends to the .part until it holds the whole file.

    Raises _Transient (retry may help), _Restart (.part is unusable), _MirrorFailed.
    Returns once the .part has exactly weights.size bytes with the right checksums.
    """
    part = part_path(weights)
    offset = _part_size(part)
    if offset >= weights.size:  # a whole .part would have been checked already: it is junk
        _remove(part)
        offset = 0
    if url.lower().startswith("file:"):
        source = _open_file(url, offset, weights)
    else:
        source = _open_http(session, url, offset, weights, policy)
    try:
        first = next(source.chunks, b"")
        if source.start == 0 and _looks_like_html(first):
            raise _MirrorFailed("answered an HTML page, not the weights")
        if offset and not source.start:
            say("  the server does not resume downloads; starting again from byte 0")
        hashers = _hashers(weights)
        if source.start:
            _hash_prefix(part, source.start, hashers)
        # "wb" only now that the first bytes look right: a bad answer never costs the .part.
        with _open_part(part, append=source.start > 0) as out, _bar(weights, source.start, policy) as bar:
            received = source.start
            chunk = first
            while chunk:
                received += len(chunk)
                if received > weights.size:
                    out.close()
                    _remove(part)
                    raise _MirrorFailed(f"sent more than the expected {weights.size} bytes")
                _update(hashers, chunk)
                _write(out, chunk, part)
                bar.update(len(chunk))
                try:
                    chunk = next(source.chunks, b"")
                except _Transient as e:
                    raise _Transient(f"{e} (after byte {received} of {weights.size})") from None
            _sync(out, part)
    finally:
        source.close()
    if received < weights.size:
        raise _Transient(f"connection closed at byte {received} of {weights.size}")
    wrong = _mismatch(weights, {name: h.hexdigest() for name, h in hashers.items()})
    if wrong:
        if source.start:
            raise _Restart("checksum mismatch after resuming; the old .part was bad")
        _remove(part)
        raise _MirrorFailed(f"checksum mismatch: got {wrong[0]} {wrong[1]}")


def _hash_prefix(part: Path, length: int, hashers: Mapping[str, "hashlib._Hash"]) -> None:
    try:
        with open(part, "rb") as f:
            remaining = length
            while remaining:
                chunk = f.read(min(1 << 20, remaining))
                if not chunk:
                    raise _Restart(f"{part} shrank while resuming")
                _update(hashers, chunk)
                remaining -= len(chunk)
    except OSError as e:
        raise _DiskError(f"cannot read {part}: {e.strerror or e}")


def _open_part(part: Path, append: bool) -> BinaryIO:
    try:
        return open(part, "ab" if append else "wb")
    except OSError as e:
        raise _DiskError(f"cannot write {part}: {e.strerror or e}")


def _write(out: BinaryIO, chunk: bytes, part: Path) -> None:
    try:
        out.write(chunk)
    except OSError as e:
        raise _DiskError(f"cannot write {part}: {e.strerror or e}")


def _sync(out: BinaryIO, part: Path) -> None:
    try:
        out.flush()
        os.fsync(out.fileno())
    except OSError as e:
        raise _DiskError(f"cannot write {part}: {e.strerror or e}")


def _bar(weights: Weights, start: int, policy: Policy) -> tqdm:
    return tqdm(total=weights.size, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                desc=weights.path.name, disable=not policy.progress, leave=True, dynamic_ncols=True,
                file=sys.stderr)


def _fetch_from(url: str, weights: Weights, policy: Policy, session: requests.Session,
                say: Callable[[str], None]) -> None:
    """Get the whole file from one mirror, retrying transient failures with backoff."""
    part = part_path(weights)
    failures = 0
    restarted = False
    for request in range(1, policy.max_requests + 1):
        before = _part_size(part)
        try:
            _fetch_once(url, weights, policy, session, say)
            return
        except _Restart as e:
            if restarted:
                _remove(part)
                raise _MirrorFailed(str(e))
            say(f"  {e}: starting again from byte 0")
            _remove(part)
            restarted = True
        except _Transient as e:
            # A request that moved the download forward does not count against the retries.
            failures = 0 if _part_size(part) > before else failures + 1
            if failures >= policy.retries:
                raise _MirrorFailed(f"{e} ({request} requests)", unreachable=e.unreachable)
            pause = policy.backoff * 2 ** max(failures - 1, 0)
            say(f"  {e}; retrying in {pause:g} s")
            time.sleep(pause)
    raise _MirrorFailed(f"gave up after {policy.max_requests} requests")


# --------------------------------------------------------------------------- one model


def download(weights: Weights, urls: Optional[Sequence[str]] = None, *, force: bool = False,
             policy: Policy = Policy(), say: Optional[Callable[[str], None]] = None,
             unreachable: Optional[Set[str]] = None) -> Outcome:
    """Make weights.path hold the official file, downloading it if needed.

    Tries `urls` (default: weights.urls) in order. `unreachable` collects hosts that
    could not be connected to; later calls sharing the set skip them.
    KeyboardInterrupt propagates with the .part left in place for the next run.
    """
    say = say or (lambda message: None)
    urls = list(weights.urls if urls is None else urls)
    unreachable = set() if unreachable is None else unreachable
    part = part_path(weights)

    if not force:
        ok, detail = verify_file(weights)
        if ok:
            return Outcome(weights, True, "present", "already present, verified")
        if weights.path.exists():
            say(f"  {detail}; it will be replaced")
    try:
        _make_parent(weights.path)
        if force:
            _remove(part)
        elif _adopt_complete_part(weights):
            return Outcome(weights, True, "downloaded", "completed from an earlier run's .part, verified")
        tried: List[Tuple[str, str]] = []
        session = requests.Session()
        session.headers.update({"User-Agent": "opencv-hpe-getModels/1", "Accept-Encoding": "identity"})
        try:
            for url in urls:
                host = urlsplit(url).netloc
                if host and host in unreachable:
                    tried.append((url, "skipped: host unreachable earlier in this run"))
                    continue
                offset = _part_size(part)
                say(f"  trying {url}" + (f" (resuming at byte {offset})" if offset else ""))
                try:
                    _fetch_from(url, weights, policy, session, say)
                except _MirrorFailed as e:
                    if e.unreachable and host:
                        unreachable.add(host)
                    say(f"  failed: {e}")
                    tried.append((url, str(e)))
                    continue
                _install(weights)
                return Outcome(weights, True, "downloaded", f"downloaded from {url}, verified", tried)
        finally:
            session.close()
    except _DiskError as e:
        return Outcome(weights, False, "failed", str(e), [])
    return Outcome(weights, False, "failed", manual_instructions(weights, tried), tried)


def _adopt_complete_part(weights: Weights) -> bool:
    """A .part that already holds the whole official file only needs renaming."""
    part = part_path(weights)
    size = _part_size(part)
    if size < weights.size:
        return False
    try:
        complete = size == weights.size and _mismatch(weights, digests_of(part, weights)) is None
    except OSError as e:
        raise _DiskError(f"cannot read {part}: {e.strerror or e}")
    if complete:
        _install(weights)
        return True
    _remove(part)  # too long, or complete but wrong: nothing in it can be resumed
    return False


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _DiskError(f"cannot create the directory {path.parent}: {e.strerror or e}")


def _install(weights: Weights) -> None:
    """Rename the verified .part into place atomically."""
    part = part_path(weights)
    try:
        os.replace(part, weights.path)
    except OSError as e:
        raise _DiskError(f"cannot move {part} to {weights.path}: {e.strerror or e}")
    try:  # make the rename itself survive a crash; not possible on every platform
        fd = os.open(weights.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def manual_instructions(weights: Weights, tried: Sequence[Tuple[str, str]]) -> str:
    """The paragraph shown when no mirror delivered the file."""
    name = weights.path.name
    lines = [f"Could not download {name}: every mirror failed."]
    if tried:
        lines.append("Tried, in order:")
        lines.extend(f"  {url}\n    -> {reason}" for url, reason in tried)
    else:
        lines.append("No mirror was tried (none given, and --only-mirrors was set).")
    wrap = functools.partial(textwrap.fill, width=88, break_on_hyphens=False)
    algorithm, checksum = next(iter(weights.checksums().items()))
    label, linux, macos, certutil = _CHECKSUM_TOOLS[algorithm]
    lines += [
        wrap(f"To install it by hand: get {name} ({weights.size} bytes, {label} "
             f"{checksum}) from any of the URLs above or from someone who has it; check "
             f"it with `{linux} {name}` (macOS: `{macos} {name}`; Windows: "
             f"`certutil -hashfile {name} {certutil}`); put it at"),
        f"  {weights.path}",
        wrap("and run `./getModels.sh --verify`. Or let this tool copy and check it: "
             "`./getModels.sh --mirror /directory/holding/the/file`."),
    ]
    part = part_path(weights)
    if part.exists():
        lines.append(wrap(f"The partial download {part} ({_part_size(part)} bytes) is kept; "
                          "running getModels.sh again resumes it."))
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


_EPILOG = """\
examples:
  ./getModels.sh                      download every model's weights (same as "all")
  ./getModels.sh COCO                 only the COCO weights
  ./getModels.sh --verify             check the files on disk; no network
  ./getModels.sh MPI --force          download MPI again even if it is present
  ./getModels.sh --mirror https://example.org/openpose/
                                      try https://example.org/openpose/<file name> first
  ./getModels.sh --mirror /media/usb/openpose --only-mirrors
                                      offline install from a local copy (a directory or
                                      file:///media/usb/openpose); nothing else is tried
  {env}="https://a.example/w/ file:///srv/w/" ./getModels.sh
                                      extra mirrors from the environment, tried after --mirror

mirrors: a mirror is a base URL (http://, https://, file://) or a local directory; the
weights' file name ({files}) is appended.
A mirror ending in .caffemodel names the file itself: it is used for the model of that
file name, or for the one model requested. Your mirrors are tried before the built-in
ones (pose/spec.py). HTTP(S) proxies are taken from HTTP_PROXY / HTTPS_PROXY.

exit status: 0 every requested model is present and verified; 1 some model could not be
downloaded or failed verification (the message says how to place it by hand); 2 bad
arguments; 130 interrupted (Ctrl-C) -- the .part is kept and the next run resumes it."""


def _parser(downloads: Mapping[str, Weights]) -> argparse.ArgumentParser:
    choices = list(downloads)
    files = ", ".join(w.path.name for w in downloads.values())
    p = argparse.ArgumentParser(
        prog="getModels.sh",
        description="Download the OpenPose weights, resuming and verifying them (size and\n"
                    "checksum). `python -m pose.models` takes the same arguments.",
        epilog=_EPILOG.format(env=MIRRORS_ENV, files=files),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help=f"{', '.join(choices)} or all (default: all); case does not matter")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true",
                      help="download again even when a verified file is present; the old file "
                           "is replaced only once the new one is verified (e.g. --force COCO)")
    mode.add_argument("--verify", action="store_true",
                      help="only check the files on disk (size and checksum), download nothing "
                           "(e.g. --verify MPI)")
    p.add_argument("--mirror", action="append", default=[], metavar="URL",
                   help="a mirror to try before the built-in ones; repeatable. A base URL or "
                        "directory (the file name is appended) or a URL ending in .caffemodel "
                        "(e.g. --mirror https://example.org/models/ or --mirror ~/Downloads). "
                        f"${MIRRORS_ENV} adds more, separated by spaces or commas")
    p.add_argument("--only-mirrors", action="store_true",
                   help="try only the --mirror and $%s locations, not the built-in ones "
                        "(offline installs: --mirror /media/usb --only-mirrors)" % MIRRORS_ENV)
    p.add_argument("--connect-timeout", type=_positive, default=Policy.connect_timeout, metavar="S",
                   help="seconds to wait for a server to accept the connection "
                        "(default %(default)g; e.g. --connect-timeout 3)")
    p.add_argument("--read-timeout", type=_positive, default=Policy.read_timeout, metavar="S",
                   help="seconds of silence tolerated during a download before retrying "
                        "(default %(default)g; e.g. --read-timeout 120 on a slow link)")
    p.add_argument("--retries", type=int, default=Policy.retries, metavar="N",
                   help="failed requests in a row before moving to the next mirror; a request "
                        "that made progress does not count (default %(default)d; e.g. --retries 5)")
    p.add_argument("--backoff", type=float, default=Policy.backoff, metavar="S",
                   help="first pause between retries, doubled each time (default %(default)g)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or per-mirror messages; results and errors only")
    return p


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _select(names: Sequence[str], downloads: Mapping[str, Weights]) -> List[str]:
    chosen: List[str] = []
    for name in names or ["all"]:
        key = name.strip().upper()
        if key == "ALL":
            chosen.extend(downloads)
        elif key in downloads:
            chosen.append(key)
        else:
            raise ValueError(f"unknown model {name!r}: choose {', '.join(downloads)} or all")
    return list(dict.fromkeys(chosen))


def main(argv: Optional[Sequence[str]] = None,
         downloads: Mapping[str, Weights] = DOWNLOADS) -> int:
    """The getModels.sh command; returns the exit status. `downloads` maps names to weights."""
    if _MISSING:
        print(f"getModels.sh needs the Python package {_MISSING!r}: "
              "pip install -r requirements.txt", file=sys.stderr)
        return EXIT_FAILED
    parser = _parser(downloads)
    try:  # argparse exits on --help and on bad arguments; callers want a status instead
        args = parser.parse_args(argv)
        if args.retries < 1:
            parser.error("--retries must be at least 1")
        if args.backoff < 0:
            parser.error("--backoff must not be negative")
        try:
            names = _select(args.models, downloads)
            mirrors = list(args.mirror) + mirrors_from_env()
            for mirror in mirrors:
                _as_url(mirror)
            _check_file_mirrors(mirrors, [downloads[n] for n in names])
        except ValueError as e:
            parser.error(str(e))
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    if args.verify:
        return _verify_all(names, downloads)

    policy = Policy(connect_timeout=args.connect_timeout, read_timeout=args.read_timeout,
                    retries=args.retries, backoff=args.backoff, progress=not args.quiet)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))
    unreachable: Set[str] = set()
    failed = []
    current: Optional[Weights] = None
    try:
        for name in names:
            current = downloads[name]
            urls = urls_for(current, mirrors, len(names), args.only_mirrors)
            if not args.quiet:
                print(f"{name}: {current.path}", flush=True)
            outcome = download(current, urls, force=args.force, policy=policy, say=say,
                               unreachable=unreachable)
            if outcome.ok:
                print(f"{name}: {outcome.detail}", flush=True)
            else:
                failed.append(name)
                print(f"{name}: {outcome.detail}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(_interrupted(current), file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    if failed:
        print(f"not installed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _interrupted(weights: Optional[Weights]) -> str:
    part = part_path(weights) if weights else None
    if part is not None and part.exists():
        return (f"interrupted: {_part_size(part)} of {weights.size} bytes kept in {part}; "
                "run the same command again to resume")
    return "interrupted"


def _verify_all(names: Sequence[str], downloads: Mapping[str, Weights]) -> int:
    status = EXIT_OK
    for name in names:
        try:
            ok, detail = verify_file(downloads[name])
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        print(f"{name}: {detail}", file=sys.stdout if ok else sys.stderr, flush=True)
        status = status if ok else EXIT_FAILED
    if status != EXIT_OK:
        print(f"run ./getModels.sh {' '.join(names)} to download what is missing or wrong",
              file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
