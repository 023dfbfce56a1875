"""Batch workers on this machine: a thread for one worker, spawned processes for more."""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from typing import Callable, Optional

from pose.app.batch.events import SHUTDOWN_WAIT_S, Died, Done, Event, Exited, Fatal, Frames, Ready
from pose.app.batch.jobs import Job
from pose.app.batch.worker import Abandoned, FrameCounter, VideoWorker, WorkerSettings
from pose.core.errors import EXIT_FAILED, PoseError
from pose.core.signals import sigterm_raises
from pose.runtime import cpu_cores


def serve(index: int, settings: WorkerSettings, threads: Optional[int], tasks, events, stop,
          parent_pid: Optional[int] = None) -> None:
    """A local worker's life: load the model, then run the videos handed to it until
    None. Everything it has to say goes to `events` (pose.app.batch.events)."""
    try:
        worker = VideoWorker(settings, threads)
    except PoseError as exc:
        events.put(Fatal(index, str(exc), exc.exit_code))
        return
    except Exception as exc:
        events.put(Fatal(index, f"unexpected {type(exc).__name__}: {exc}", EXIT_FAILED))
        return
    events.put(Ready(index, worker.label, list(worker.load_warnings)))
    counter = FrameCounter(lambda n: events.put(Frames(index, n)), stop, parent_pid)
    while True:
        try:
            job = tasks.get(timeout=1.0)
        except queue.Empty:  # idle: still, a worker must not outlive its driver
            if parent_pid is not None and os.getppid() != parent_pid:
                return
            continue
        if job is None:
            break
        try:
            if stop.is_set():
                raise Abandoned()
            record = worker.process(job, counter)
        except Abandoned:
            record = {"source": str(job.source), "status": "cancelled"}
        counter.flush()
        events.put(Done(index, record))
    events.put(Exited(index))


def _process_main(index: int, settings: WorkerSettings, threads: int, tasks, events, stop,
                  parent_pid: int) -> None:
    logger = logging.getLogger("pose")
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # warnings travel in the records; the driver prints them
    try:
        # abandon()'s SIGTERM (a second Ctrl-C) raises, so run_video discards the video in
        # hand's temporaries instead of dying with them on disk
        with sigterm_raises():
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver owns Ctrl-C and tells us
            if hasattr(signal, "SIGHUP"):  # and a closed terminal's SIGHUP
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
            serve(index, settings, threads, tasks, events, stop, parent_pid)
    except KeyboardInterrupt:  # Terminated: the outputs were discarded on the way out
        pass


# ---------------------------------------------------------------- local workers

class LocalPool:
    """`workers` local workers: a thread of this process for one (no start-up cost, and
    its warnings print as in a single-video run), spawned processes for more (spawn, not
    fork: forking a process that holds inference threads can deadlock the child).

    Its events are pose.app.batch.events' records, the Ray pool's too.
    """

    def __init__(self, settings: WorkerSettings, workers: int, threads: int):
        self.size, self.threads = workers, threads
        self.prints_warnings = workers == 1  # a thread logs through this process's handler
        self._exited: set = set()
        if workers == 1:
            self._tasks = [queue.Queue()]
            self._events: queue.Queue = queue.Queue()
            self._stop = threading.Event()
            self._workers = [threading.Thread(target=serve, name="batch-worker", daemon=True,
                                              args=(0, settings, threads, self._tasks[0], self._events, self._stop))]
        else:
            ctx = multiprocessing.get_context("spawn")
            self._tasks = [ctx.Queue() for _ in range(workers)]
            self._events = ctx.Queue()
            self._stop = ctx.Event()
            self._workers = [ctx.Process(target=_process_main, name=f"batch-worker-{i}", daemon=True,
                                         args=(i, settings, threads, self._tasks[i], self._events, self._stop,
                                               os.getpid()))
                             for i in range(workers)]
        self.label = (f"{workers} worker{'s' if workers > 1 else ''}, {threads} inference "
                      f"thread{'s' if threads > 1 else ''} each")

    def start(self) -> None:
        # Children inherit an ignored SIGINT through exec, so a Ctrl-C while they import
        # cannot print a child's traceback; the driver tells them to stop instead.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
        try:
            for worker in self._workers:
                worker.start()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def submit(self, index: int, job: Job) -> None:
        self._tasks[index].put(job)

    def next_event(self, timeout: float) -> Optional[Event]:
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return self._casualty()
        if isinstance(event, Exited):
            self._exited.add(event.index)
        return event

    def _casualty(self) -> Optional[Died]:
        """A worker that ended without saying goodbye (killed, out of memory, crashed)."""
        for i, worker in enumerate(self._workers):
            if i not in self._exited and not worker.is_alive():
                self._exited.add(i)
                code = getattr(worker, "exitcode", None)
                how = f"exit code {code}" if code is None or code >= 0 else f"killed by signal {-code}"
                return Died(i, f"a worker process ended unexpectedly ({how}; out of memory?)")
        return None

    def stop(self) -> None:
        """Workers drop the videos in hand at the next frame and take no more."""
        self._stop.set()

    def abandon(self) -> None:
        """Stop, and end the processes now rather than at their next frame; each discards
        its video's temporaries as it ends (SIGTERM raises in it), waited for here."""
        self._stop.set()
        processes = [w for w in self._workers if isinstance(w, multiprocessing.process.BaseProcess)]
        for worker in processes:
            if worker.is_alive():
                worker.terminate()
        deadline = time.monotonic() + SHUTDOWN_WAIT_S
        for worker in processes:  # each removes its temporaries as it ends
            worker.join(timeout=max(0.1, deadline - time.monotonic()))

    def close(self) -> None:
        for i, tasks in enumerate(self._tasks):
            if i not in self._exited:
                tasks.put(None)
        deadline = time.monotonic() + SHUTDOWN_WAIT_S
        for worker in self._workers:
            worker.join(timeout=max(0.1, deadline - time.monotonic()))
        for worker in self._workers:
            if isinstance(worker, multiprocessing.process.BaseProcess) and worker.is_alive():
                worker.terminate()
                worker.join(timeout=SHUTDOWN_WAIT_S)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def local_pool(workers: int) -> Callable[[WorkerSettings, int], LocalPool]:
    """Local workers sharing this machine's cores for inference (cores // workers threads
    each: one process's threads are better spent on the next video than on contention),
    never more workers than videos (each loads its own model: --workers 16 for 2 videos
    started 17 processes)."""
    def make(settings: WorkerSettings, videos: int) -> LocalPool:
        size = max(1, min(workers, videos))
        return LocalPool(settings, size, max(1, cpu_cores() // size))
    return make
