"""pose.files.file_lock between real processes: refusal while held, nothing stale after
a release or a kill."""
import os
import signal
import subprocess
import sys
import time

import pytest

from pose.files import LockHeld, file_lock
from tests.support.cli_tools import ROOT

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX flock semantics")

_TRY = """
import sys
from pose.files import LockHeld, file_lock
try:
    with file_lock(sys.argv[1]):
        print("got it")
except LockHeld as exc:
    print("held:", exc.holder)
"""

_HOLD = """
import sys, time
from pose.files import file_lock
with file_lock(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(60)
"""


def _try(path) -> str:
    return subprocess.run([sys.executable, "-c", _TRY, str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def test_a_second_process_is_refused_and_told_who_holds_it(tmp_path):
    lock = tmp_path / ".clip_COCO.lock"
    with file_lock(lock):
        assert _try(lock) == f"held: pid {os.getpid()} on {os.uname().nodename}"
    assert not lock.exists()  # released: removed
    assert _try(lock) == "got it"
    assert not lock.exists()


def test_in_one_process_the_lock_refuses_a_second_holder_too(tmp_path):
    lock = tmp_path / "x.lock"
    with file_lock(lock):
        with pytest.raises(LockHeld):
            with file_lock(lock):
                pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    lock = tmp_path / "x.lock"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(lock)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert _try(lock).startswith("held: pid ")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert lock.exists()  # the file stays, the lock does not
    assert _try(lock) == "got it"


def test_wait_blocks_until_the_holder_releases(tmp_path):
    lock = tmp_path / "x.lock"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD.replace("60", "0.5"), str(lock)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        start = time.monotonic()
        with file_lock(lock, wait=True):
            waited = time.monotonic() - start
    finally:
        holder.wait(timeout=30)
    assert waited > 0.1  # it waited for the holder instead of being refused
