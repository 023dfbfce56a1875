"""File helpers every stage shares: hashing, atomic writes, removal.

A file only ever appears under its final name complete: it is written under a
temporary name unique to this process (so two runs, or two workers, never share one)
in the same folder, then renamed, which is atomic on POSIX and Windows.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

PathLike = Union[str, Path]
_HASH_CHUNK = 1 << 22


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: setting the umask to read it is process-wide, so doing it during
# a run could race with the video tool's threads creating files.
_UMASK = _read_umask()


def remove(path: PathLike) -> None:
    """Delete a file if it is there; never raises (it may never have been written)."""
    try:
        Path(path).unlink()
    except OSError:
        pass


def temp_path(path: PathLike) -> Path:
    """A fresh name beside `path` for writing it: same folder, same extension (OpenCV
    picks codecs from it), unique to this call (`x.tmp-k3j9.jpg`), created empty."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{path.stem}.tmp-", suffix=path.suffix, dir=path.parent)
    try:  # a signal raised here (Ctrl-C, SIGTERM) must not leave the empty file behind
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual mode
    except BaseException:
        remove(tmp)
        raise
    return Path(tmp)


def write_atomic(path: PathLike, data: bytes) -> Path:
    """Write `data` to `path` via a unique temporary file and a rename. OSError on failure,
    with nothing left behind."""
    path = Path(path)
    tmp = None
    try:
        tmp = temp_path(path)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            remove(tmp)
        raise
    return path


def kind_of(mode: int) -> str:
    """What a path that is not a regular file is, in words (from its st_mode)."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def sha256_of(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# Hashing 200 MB takes 0.15-0.2 s (benchmarks/models_download.py). A process hashes each
# file once: the key includes the inode and ctime, which a replacement by rename or an
# in-place rewrite changes even when size and mtime are forged back.
_HASHED: Dict[Tuple[str, str, int, int, int, int], str] = {}


def file_digest(path: PathLike, algorithm: str = "sha256") -> str:
    """A file's hex digest (sha256, md5, ...), computed once per process per file version."""
    path = Path(path)
    st = path.stat()
    key = (algorithm, str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    digest = _HASHED.get(key)
    if digest is None:
        if algorithm == "sha256":
            digest = sha256_of(path)
        else:  # MD5 only recognises a file here; FIPS builds refuse it unless told so
            h = hashlib.new(algorithm, usedforsecurity=False)
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(_HASH_CHUNK), b""):
                    h.update(chunk)
            digest = h.hexdigest()
        _HASHED[key] = digest
    return digest


def file_sha256(path: PathLike) -> str:
    """SHA-256 of a file, computed once per process per file version."""
    return file_digest(path, "sha256")


# ---------------------------------------------------------------- locks and stale temporaries

try:  # POSIX; Windows falls back to msvcrt's byte-range locks below
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

_LOCK_POLL_S = 0.05


class Busy(Exception):
    """Another live process holds the lock on a file; `pid` is its id when it wrote one."""

    def __init__(self, path: Path, pid: Optional[int]):
        super().__init__(f"{path} is locked by {'process ' + str(pid) if pid else 'another process'}")
        self.path = path
        self.pid = pid


def lock_path(path: PathLike) -> Path:
    """The lock file guarding `path`: hidden, beside it (`.x.mp4.lock`)."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


# How a lock held by another process shows (BlockingIOError on POSIX, EACCES or
# EDEADLOCK from msvcrt on Windows).
_HELD = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)}


def _try_lock(fd: int) -> bool:
    """Whether the lock was taken (False: another process holds it)."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            import msvcrt
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in _HELD:
            return False
        # A file system without locks (some network shares: ENOLCK, EOPNOTSUPP): going
        # on unlocked beats refusing every run there.
    return True


def _holder(fd: int) -> Optional[int]:
    try:
        text = os.pread(fd, 32, 0) if hasattr(os, "pread") else b""
        return int(text.decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


class FileLock:
    """An exclusive lock on `path`, held through a lock file beside it (see `lock_path`).

    The kernel releases it when the holder exits, however it exits (kill -9, power cut
    aside), so a lock file a dead run left never blocks anyone: it is simply locked again.
    The holder writes its pid into the file (for messages) and removes the file on release.
    """

    def __init__(self, path: PathLike):
        self.path = Path(path)
        self.file = lock_path(self.path)
        self._fd: Optional[int] = None

    def acquire(self, timeout: Optional[float] = 0.0,
                on_wait: Optional[Callable[[Optional[int]], None]] = None) -> "FileLock":
        """Take the lock, waiting up to `timeout` seconds (None: as long as it takes).
        `on_wait(pid)` is called once if the lock is held by another process. Raises Busy
        when the time is up, OSError when the lock file cannot be created."""
        deadline = None if timeout is None else time.monotonic() + timeout
        told = False
        while True:
            fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                locked = _try_lock(fd)
                if locked and self._still_current(fd):
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()}\n".encode())
                    self._fd = fd
                    return self
                pid = None if locked else _holder(fd)
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
            if locked:  # the file we locked was removed by its last holder: lock the new one
                continue
            if deadline is not None and time.monotonic() >= deadline:
                raise Busy(self.path, pid)
            if not told and on_wait is not None:
                on_wait(pid)
                told = True
            time.sleep(_LOCK_POLL_S)

    def _still_current(self, fd: int) -> bool:
        """Whether `fd` is still the file at `self.file` (a releasing holder unlinks it)."""
        try:
            here, there = os.fstat(fd), os.stat(self.file)
        except FileNotFoundError:
            return False
        return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if os.name == "posix":  # unlinking before unlocking: a waiter re-checks the inode
            remove(self.file)
        os.close(fd)  # closing drops the lock

    def __enter__(self) -> "FileLock":
        return self.acquire(timeout=None) if self._fd is None else self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.release()


def _temp_pattern(path: Path) -> "re.Pattern[str]":
    # temp_path's names: <stem>.tmp-<mkstemp's 8 characters><suffix>
    return re.compile(re.escape(path.stem) + r"\.tmp-[A-Za-z0-9_]{8}" + re.escape(path.suffix))


def remove_stale_temps(path: PathLike) -> List[Path]:
    """Delete the temporary files of `path` (temp_path's names) that a killed run left.

    Only call it while holding `path`'s FileLock: then no live writer owns any of them.
    Returns what was removed."""
    path = Path(path)
    pattern = _temp_pattern(path)
    removed = []
    try:
        candidates = list(path.parent.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        if pattern.fullmatch(candidate.name):
            remove(candidate)
            removed.append(candidate)
    return removed
