"""SIGTERM (and SIGHUP) handled as Ctrl-C is: what `kill`, systemd, Docker and CI send to stop a run.

Python turns SIGINT into KeyboardInterrupt, so every cleanup written for Ctrl-C (temporary
files removed, a download's .part kept, a video closed short) runs. SIGTERM's default
kills the process on the spot and leaves temporaries behind; here it raises `Terminated`,
a KeyboardInterrupt, so the same cleanups run, and the tools exit with 143 instead of 130.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Optional

from pose.core.errors import EXIT_HANGUP, EXIT_INTERRUPTED, EXIT_TERMINATED


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (raised in the main thread, as Ctrl-C raises KeyboardInterrupt)."""

    exit_code = EXIT_TERMINATED


class HungUp(Terminated):
    """SIGHUP arrived: the terminal closed (an ssh session dropped). Its default killed the
    run on the spot with its temporaries; it stops as SIGTERM does, exit 129."""

    exit_code = EXIT_HANGUP


# The signals that stop a run, each with what it raises (SIGHUP where the platform has it).
_STOPS = {signal.SIGTERM: Terminated, **({signal.SIGHUP: HungUp} if hasattr(signal, "SIGHUP") else {})}


def exit_code_of(interrupt: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return getattr(interrupt, "exit_code", EXIT_INTERRUPTED)


def word_for(interrupt: BaseException) -> str:
    """How the tools name the stop in their last line."""
    if isinstance(interrupt, HungUp):
        return "hung up"
    return "terminated" if isinstance(interrupt, Terminated) else "interrupted"


def _raise_terminated(signum, frame) -> None:
    raise _STOPS.get(signum, Terminated)()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _handled(handler: Callable, signals: Iterable[int]) -> Iterator[None]:
    """`handler` for `signals` within the block, the previous handlers restored after."""
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated in the main thread (outside it, or
    from another thread, nothing changes: only the main thread may set handlers)."""
    if not _in_main_thread():
        yield
        return
    with _handled(_raise_terminated, _STOPS):
        yield


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[Callable[[], Optional[int]]]:
    """The first SIGINT or SIGTERM sets `stop` so a loop can finish cleanly (the video
    tool closes shorter, valid files); a second one raises KeyboardInterrupt or
    Terminated at once. Yields a function that returns the exit code the signal asks
    for (130 or 143), or None while none arrived."""
    received: list = []
    if not _in_main_thread():
        yield lambda: None
        return

    def handler(signum, frame) -> None:
        raises = _STOPS.get(signum, KeyboardInterrupt)
        if received:  # the second signal: give up on finishing cleanly
            raise raises()
        received.append(getattr(raises, "exit_code", EXIT_INTERRUPTED))
        stop.set()

    with _handled(handler, (signal.SIGINT, *_STOPS)):
        yield lambda: received[0] if received else None


@contextmanager
def signals_held() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP wait: for a call that must not be cut
    short halfway (ray.init, which starts processes that a stop in the middle orphaned).
    The first one that arrived is raised when the block ends (KeyboardInterrupt,
    Terminated or HungUp, over any error of the block's own). SIGINT is blocked rather
    than caught, so processes started within inherit it blocked: a terminal's Ctrl-C then
    reaches only this process, which stops them itself. SIGTERM and SIGHUP are caught
    instead: a process started with them blocked could not be stopped by them."""
    if not _in_main_thread():
        yield
        return
    received: list = []

    def hold(signum, frame) -> None:
        received.append(_STOPS[signum])

    block = hasattr(signal, "pthread_sigmask")
    if block:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with _handled(hold, _STOPS):
            yield
    finally:
        if block:
            if signal.SIGINT in signal.sigpending():
                signal.sigwait({signal.SIGINT})  # taken here, so it is not raised at a random later line
                received.append(KeyboardInterrupt)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        if received:
            raise received[0]() from None
