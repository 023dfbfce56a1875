"""File helpers every stage shares: hashing, atomic writes, removal, locks.

A file only ever appears under its final name complete: it is written under a
temporary name unique to this process (so two runs, or two workers, never share one)
in the same folder, then renamed, which is atomic on POSIX and Windows.
"""
from __future__ import annotations

import hashlib
import os
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Tuple, Union

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
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual mode
    return Path(tmp)


def write_atomic(path: PathLike, data: bytes) -> Path:
    """Write `data` to `path` via a unique temporary file and a rename. OSError on failure,
    with nothing left behind."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        remove(tmp)
        raise
    return path


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


# ---------------------------------------------------------------- locks

class LockHeld(OSError):
    """Another process holds the lock; `holder` is what it wrote there ("pid 12 on host")."""

    def __init__(self, path: Path, holder: str):
        super().__init__(f"{path} is locked by {holder or 'another process'}")
        self.path, self.holder = path, holder


def _lock_fd(fd: int, wait: bool) -> bool:
    """Take an exclusive lock on an open file; False when `wait` is off and it is held."""
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt
        mode = msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK
        try:
            msvcrt.locking(fd, mode, 1)
        except OSError:
            return False
        return True
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


@contextmanager
def file_lock(path: PathLike, wait: bool = False) -> Iterator[Path]:
    """Hold an exclusive advisory lock named `path` for the block; LockHeld at once when
    another process holds it and `wait` is off.

    The operating system drops the lock when its holder exits, killed or not, so a crash
    never leaves a stale lock (flock; Linux maps it onto NFS byte-range locks, so it holds
    across machines sharing an NFS export). The file is removed on release; a process that
    opened it just before then sees the name now points elsewhere and tries again, so two
    holders can never lock two different files of the same name.
    """
    path = Path(path)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
        if not _lock_fd(fd, wait):
            try:
                holder = os.read(fd, 200).decode(errors="replace").strip()
            finally:
                os.close(fd)
            raise LockHeld(path, holder)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same or os.name == "nt":
            break
        os.close(fd)  # the holder before us removed it: lock the new file instead
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode())
        yield path
    finally:
        if os.name != "nt":
            remove(path)  # while still holding it: see the docstring
        os.close(fd)
