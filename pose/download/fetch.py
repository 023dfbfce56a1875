"""Download and verify the OpenPose weights files.

`getModels.sh` runs this through pose.download.cli (`python -m pose.download --help`).
The facts (paths, sizes, checksums, mirrors) live in pose.families.openpose.spec.DOWNLOADS; this module
holds only the procedure: try each mirror in order, stream to `<file>.part`, resume
with an HTTP Range request where the server allows it, check the size and every
published checksum (SHA-256; for BODY_25, the hand and the face only an MD5 exists, and
the hand and face files have no published size: there the checksum alone decides),
then rename into place.
Nothing lands at the final path unless it is the official file.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
import textwrap
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple
from urllib.parse import quote, urlsplit, urlunsplit
from urllib.request import url2pathname

from pose.core.files import FileLock, file_digest, remove, remove_stale_temps, temp_path
from pose.core.weights import Weights

try:
    import requests
    from tqdm import tqdm
except ImportError as error:  # reported by main() as one line, not a traceback at import
    _MISSING: Optional[str] = error.name
else:
    _MISSING = None

MIRRORS_ENV = "OPENCV_HPE_MIRRORS"

_CHUNK = 256 * 1024
# How much of a body is inspected to recognise an error page served with status 200.
_SNIFF = 512
_HTML_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<title", b"<meta", b"<script")
# Statuses where asking again later can help; every other error status ends the mirror.
_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524}
# The longest pause between retries: doubling 30 times would otherwise wait for years.
MAX_PAUSE_S = 300.0
# A TLS-intercepting proxy (or a missing CA bundle) makes every HTTPS mirror fail alike.
CERTIFICATE_ERROR = ("certificate not trusted (a TLS-intercepting proxy?): set REQUESTS_CA_BUNDLE=/path/to/its-ca.pem, "
                     "or download the file elsewhere and use --mirror DIR")
# The most a download may be when the weights' size is not published: every model file is
# under 1 GB. A mirror that claims more, or streams on without saying how much, is stopped
# there instead of filling the disk.
MAX_DOWNLOAD_BYTES = 2 << 30
# Left free on the disk: a download that would eat into it stops with one line.
DISK_RESERVE_BYTES = 64 << 20


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
    """The hex digests of `path` for every checksum published for `weights` (each computed
    once per process and file version: pose.core.files)."""
    return {name: file_digest(path, name) for name in weights.checksums()}


def _mismatch(weights: Weights, digests: Mapping[str, str]) -> Optional[Tuple[str, str, str]]:
    """(label, got, expected) of the first published checksum `digests` contradicts."""
    for name, expected in weights.checksums().items():
        if digests[name] != expected:
            return _CHECKSUM_TOOLS[name][0], digests[name], expected
    return None


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
    if weights.size is not None and st.st_size != weights.size:
        return False, (f"wrong size: {path} has {st.st_size} bytes, expected {weights.size} "
                       "(an incomplete or different file)")
    try:
        digests = digests_of(path, weights)
    except OSError as e:
        return False, f"cannot read {path}: {e.strerror or e}"
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
    `.caffemodel` or `.tflite` names the file itself and is used as is; any other is a directory
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
    return urlsplit(url).path.lower().endswith((".caffemodel", ".tflite"))


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
    except requests.exceptions.SSLError as e:
        # Not retried: the same certificate comes back every time.
        raise _MirrorFailed(CERTIFICATE_ERROR if "CERTIFICATE_VERIFY_FAILED" in str(e) else f"TLS failed: {_short(e)}")
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
    if total is not None and weights.size is not None and total != weights.size:
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
    if weights.size is not None and size != weights.size:
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
    Returns once the .part has exactly weights.size bytes (where published; else what
    the server announced, if it did) with the right checksums.
    """
    part = part_path(weights)
    offset = _part_size(part)
    if weights.size is not None and offset >= weights.size:  # a whole .part would have been checked: junk
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
        expected = weights.size if weights.size is not None else source.total
        if source.start:
            _hash_prefix(part, source.start, hashers)
        limit, too_much = _limit(part, expected, weights)
        # "wb" only now that the first bytes look right: a bad answer never costs the .part.
        with _open_part(part, append=source.start > 0) as out, _bar(weights, source.start, policy, expected) as bar:
            received = source.start
            chunk = first
            while chunk:
                received += len(chunk)
                if expected is not None and received > expected:
                    out.close()
                    _remove(part)
                    raise _MirrorFailed(f"sent more than the expected {expected} bytes")
                if received > limit:
                    out.close()
                    _remove(part)
                    raise too_much
                _update(hashers, chunk)
                _write(out, chunk, part)
                bar.update(len(chunk))
                try:
                    chunk = next(source.chunks, b"")
                except _Transient as e:
                    raise _Transient(f"{e} (after byte {received}{_of(expected)})") from None
            _sync(out, part)
    finally:
        source.close()
    if expected is not None and received < expected:
        raise _Transient(f"connection closed at byte {received} of {expected}")
    wrong = _mismatch(weights, {name: h.hexdigest() for name, h in hashers.items()})
    if wrong:
        if source.start:
            raise _Restart("checksum mismatch after resuming; the old .part was bad")
        _remove(part)
        raise _MirrorFailed(f"checksum mismatch: got {wrong[0]} {wrong[1]}")


def _limit(part: Path, expected: Optional[int], weights: Weights) -> Tuple[int, Exception]:
    """(most bytes the .part may reach, the error when it would pass it): the published or
    announced size, never over MAX_DOWNLOAD_BYTES unless published, never over what the disk
    has free. A claim past either fails now, before a byte is written."""
    cap = weights.size if weights.size is not None else MAX_DOWNLOAD_BYTES
    if expected is not None and expected > cap:
        raise _MirrorFailed(f"announced {expected} bytes, more than a model file can be (at most {cap})")
    try:
        st = os.statvfs(part.parent)
        room = _part_size(part) + st.f_bavail * st.f_frsize - DISK_RESERVE_BYTES
    except (OSError, AttributeError):  # no statvfs (Windows): a full disk is still a one-line write error
        room = cap
    if expected is not None and expected > room:
        raise _DiskError(f"not enough free space in {part.parent} for {weights.path.name} ({expected} bytes; "
                         f"{max(room, 0)} free beyond a {DISK_RESERVE_BYTES >> 20} MiB reserve)")
    if room < cap:
        return room, _DiskError(f"stopped downloading {weights.path.name}: {part.parent} is nearly full "
                                f"({DISK_RESERVE_BYTES >> 20} MiB left free)")
    return cap, _MirrorFailed(f"sent more than {cap} bytes without saying how many; stopped")


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
    try:  # unbuffered: a full disk fails in _write, never again in close() as the with-block unwinds
        return open(part, "ab" if append else "wb", buffering=0)
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


def _of(total: Optional[int]) -> str:
    return "" if total is None else f" of {total}"


def _bar(weights: Weights, start: int, policy: Policy, total: Optional[int] = None) -> tqdm:
    return tqdm(total=weights.size or total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
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
            pause = min(policy.backoff * 2 ** max(failures - 1, 0), MAX_PAUSE_S)
            say(f"  {e}; retrying in {pause:g} s")
            time.sleep(pause)
    raise _MirrorFailed(f"gave up after {policy.max_requests} requests")


# --------------------------------------------------------------------------- one model


def download(weights: Weights, urls: Optional[Sequence[str]] = None, *, force: bool = False,
             policy: Policy = Policy(), say: Optional[Callable[[str], None]] = None,
             unreachable: Optional[Set[str]] = None,
             on_wait: Optional[Callable[[str], None]] = None) -> Outcome:
    """Make weights.path hold the official file, downloading it if needed.

    Tries `urls` (default: weights.urls) in order. `unreachable` collects hosts that
    could not be connected to; later calls sharing the set skip them.
    KeyboardInterrupt propagates with the .part left in place for the next run.

    One process at a time works on a weights file (a lock beside it): another run for
    the same file waits for it, telling `on_wait` (default `say`) once, and then finds the
    file it installed.
    """
    say = say or (lambda message: None)
    urls = list(weights.urls if urls is None else urls)
    unreachable = set() if unreachable is None else unreachable
    part = part_path(weights)

    if not force:
        ok, detail = verify_file(weights)
        if ok:
            return Outcome(weights, True, "present", "already present, verified")
    try:
        _make_parent(weights.path)
        with _locked(weights, on_wait or say) as waited:
            if not force:
                ok, detail = verify_file(weights)
                if ok:  # installed by the run this one waited for
                    return Outcome(weights, True, "present", "already present, verified"
                                   + (" (downloaded by another run)" if waited else ""))
                if weights.path.exists():
                    say(f"  {detail}; it will be replaced")
            remove_stale_temps(weights.path)  # a run killed between its two renames
            if force:
                _remove(part)
            elif _adopt_complete_part(weights):
                return Outcome(weights, True, "downloaded", "completed from an earlier run's .part, verified")
            tried: List[Tuple[str, str]] = []

            def fetch(url: str, session: "requests.Session") -> str:
                _fetch_from(url, weights, policy, session, say)
                _install(weights)
                return f"downloaded from {url}, verified"

            detail = try_mirrors(urls, fetch, lambda url: part, unreachable, say, tried)
            if detail is not None:
                return Outcome(weights, True, "downloaded", detail, tried)
    except _DiskError as e:
        return Outcome(weights, False, "failed", str(e), [])
    return Outcome(weights, False, "failed", manual_instructions(weights, tried), tried)


def try_mirrors(urls: Sequence[str], fetch: Callable[[str, "requests.Session"], str], part_of: Callable[[str], Path],
                unreachable: Set[str], say: Callable[[str], None], tried: List[Tuple[str, str]]) -> Optional[str]:
    """`fetch(url, session)` on each URL in turn until one succeeds (its detail line), or
    None when every one failed (each failure appended to `tried`). A host that could not
    be reached is skipped for the rest of the run; `part_of(url)` is the file a resumed
    download continues."""
    session = requests.Session()
    session.headers.update({"User-Agent": "opencv-hpe-getModels/1", "Accept-Encoding": "identity"})
    try:
        for url in urls:
            host = urlsplit(url).netloc
            if host and host in unreachable:
                tried.append((url, "skipped: host unreachable earlier in this run"))
                continue
            offset = _part_size(part_of(url))
            say(f"  trying {url}" + (f" (resuming at byte {offset})" if offset else ""))
            try:
                return fetch(url, session)
            except _MirrorFailed as e:
                if e.unreachable and host:
                    unreachable.add(host)
                say(f"  failed: {e}")
                tried.append((url, str(e)))
        return None
    finally:
        session.close()


@contextmanager
def _locked(weights: Weights, on_wait: Callable[[str], None]) -> Iterator[bool]:
    """Hold the lock on `weights.path` (waiting for another run as long as it takes);
    yields whether it had to wait. Two runs at once would append to one .part."""
    waited = []

    def tell(pid: Optional[int]) -> None:
        waited.append(pid)
        who = f"another download (process {pid})" if pid else "another download"
        on_wait(f"{weights.path.name}: {who} is working on it; waiting for it to finish")

    lock = FileLock(weights.path)
    try:
        lock.acquire(timeout=None, on_wait=tell)
    except OSError as e:
        raise _DiskError(f"cannot create the lock file {lock.file}: {e.strerror or e}")
    try:
        yield bool(waited)
    finally:
        lock.release()


def _adopt_complete_part(weights: Weights) -> bool:
    """A .part that already holds the whole official file only needs renaming."""
    part = part_path(weights)
    size = _part_size(part)
    if weights.size is None:
        # No published size: only the checksum tells a whole file from a partial one, and a
        # partial one is kept for resuming (a bad one fails its checksum there and restarts).
        try:
            complete = size > 0 and _mismatch(weights, digests_of(part, weights)) is None
        except OSError as e:
            raise _DiskError(f"cannot read {part}: {e.strerror or e}")
        if not complete:
            return False
        try:
            _install(weights)  # checks the bytes it renames
            return True
        except _MirrorFailed:  # changed since (already removed)
            return False
    if size < weights.size:
        return False
    if size == weights.size:
        try:
            _install(weights)  # checks the bytes it renames
            return True
        except _MirrorFailed:  # complete but wrong (already removed)
            return False
    _remove(part)  # too long: nothing in it can be resumed
    return False


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _DiskError(f"cannot create the directory {path.parent}: {e.strerror or e}")


def _install(weights: Weights) -> None:
    """Move the .part into place once the bytes on disk are checked.

    The .part is first renamed to a name only this run knows, and that file is checked
    (size and every checksum, read back from disk), so what takes the final name is
    exactly what was verified: not bytes another program appended to the .part after the
    download's own running checksum, nor blocks the disk lost.
    """
    part = part_path(weights)
    try:
        mine = temp_path(weights.path)
        os.replace(part, mine)
    except OSError as e:
        raise _DiskError(f"cannot move {part} beside {weights.path}: {e.strerror or e}")
    try:
        size = mine.stat().st_size
        if weights.size is not None and size != weights.size:
            raise _MirrorFailed(f"the file on disk has {size} bytes, expected {weights.size} "
                                "(changed while it was written?)")
        wrong = _mismatch(weights, digests_of(mine, weights))
        if wrong:
            raise _MirrorFailed(f"the file on disk has {wrong[0]} {wrong[1]}, expected {wrong[2]} "
                                "(changed while it was written?)")
        os.replace(mine, weights.path)
    except OSError as e:
        remove(mine)
        raise _DiskError(f"cannot move {part} to {weights.path}: {e.strerror or e}")
    except BaseException:
        remove(mine)
        raise
    try:  # make the rename itself survive a crash; not possible on every platform
        fd = os.open(weights.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _bytes(weights: Weights) -> str:
    return "" if weights.size is None else f"{weights.size} bytes, "


def manual_instructions(weights: Weights, tried: Sequence[Tuple[str, str]]) -> str:
    """The block shown when no mirror delivered the file: what was tried, and where to put
    the file by hand (HAND_INSTALL_TAIL, said once per run, says what to do next)."""
    name = weights.path.name
    lines = [f"Could not download {name}: every mirror failed."]
    if tried:
        lines.extend(f"  {url} -> {reason}" for url, reason in tried)
    else:
        lines.append("No mirror was tried (none given, and --only-mirrors was set).")
    wrap = functools.partial(textwrap.fill, width=88, break_on_hyphens=False)
    algorithm, checksum = next(iter(weights.checksums().items()))
    label, linux, macos, certutil = _CHECKSUM_TOOLS[algorithm]
    lines += [
        wrap(f"Install by hand: get {name} ({_bytes(weights)}{label} {checksum}), check it with "
             f"`{linux} {name}` (macOS: `{macos} {name}`; Windows: `certutil -hashfile {name} {certutil}`); "
             "put it at"),
        f"  {weights.path}",
    ]
    part = part_path(weights)
    if part.exists():
        lines.append(wrap(f"The partial download {part} ({_part_size(part)} bytes) is kept; "
                          "running the same command again resumes it."))
    return "\n".join(lines)


def hand_install_tail(prog: str) -> str:
    """The line after the failures' blocks, once per run."""
    return (f"Then run `{prog} --verify`; or let this tool copy and check the files: "
            f"`{prog} --mirror /directory/holding/them`.")
