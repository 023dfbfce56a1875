"""One batch worker, wherever it runs (a thread, a process, a Ray actor): it loads the
model once, then runs one video after another and returns a record for each."""
from __future__ import annotations

import logging
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterator, List, Optional

from pose.app.batch.events import FRAME_REPORT_S
from pose.app.batch.jobs import Job
from pose.app.timeline import video_timeline
from pose.app.video import VideoOptions, VideoSummary, output_paths, run_video
from pose.core.errors import PoseError
from pose.core.estimator import Estimator
from pose.io.inputs import open_video
from pose.io.writers import OutputBusy, claim_outputs


@dataclass
class WorkerSettings:
    """What every worker needs, picklable (it goes to processes and Ray actors)."""

    make_estimator: Callable[..., Estimator]  # (say=, threads=, device=), picklable
    mode: str
    video: VideoOptions  # out_dir is set per video
    start_frame: int = 0
    timeline: bool = True


class Abandoned(Exception):
    """The batch is stopping (Ctrl-C, or the driver is gone): drop the video in hand. Its
    outputs are discarded, not committed short: a batch redoes the video next run, and a
    short file under a final name would pass for a finished one."""


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def collected_warnings() -> Iterator[List[str]]:
    """The "pose" logger's warnings during the block (a worker hands them to the driver)."""
    handler = _Collect()
    logger = logging.getLogger("pose")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


class VideoWorker:
    """One loaded model, then one video after another."""

    def __init__(self, settings: WorkerSettings, threads: Optional[int] = None, device: Optional[str] = None):
        lines: List[str] = []
        self.settings = settings
        with collected_warnings() as self.load_warnings:
            self.estimator = settings.make_estimator(say=lines.append, threads=threads, device=device)
        self.label = lines[0] if lines else ""
        self.host = f"{socket.gethostname()}:{os.getpid()}"

    def process(self, job: Job, on_frame: Optional[Callable[[], None]] = None) -> dict:
        """Run one video: a record saying done or failed (with a one-line `error`).
        `on_frame` is called after each frame; Abandoned raised there passes through,
        with the video's temporary outputs removed."""
        record: dict = {"source": str(job.source), "status": "failed", "error": None, "files": [],
                        "engine": self.estimator.engine_label, "device": self.estimator.device,
                        "worker": self.host}
        t0 = time.perf_counter()
        with collected_warnings() as warnings:
            try:
                summary = self._run(job, on_frame)
                record.update(status="done",
                              files=[str(p) for p in summary.files], frames=summary.frames,
                              inferred=summary.inferred, people=len(summary.runs), detections=summary.people,
                              most_people=summary.most_people, inference_s=round(summary.inference_s, 3))
            except Abandoned:
                raise
            except OutputBusy as exc:
                record.update(status="busy", error=str(exc))
            except PoseError as exc:
                record["error"] = str(exc)
            except Exception as exc:  # a bug: the batch goes on, the video is reported
                record["error"] = f"{job.name}: unexpected {type(exc).__name__}: {exc}"
        record["seconds"] = round(time.perf_counter() - t0, 3)
        record["warnings"] = list(warnings)
        return record

    def _run(self, job: Job, on_frame) -> VideoSummary:
        s = self.settings
        # Refused before the video is opened when another run holds its outputs; run_video
        # then holds them while it writes (the picture follows, written atomically).
        claim_outputs(list(output_paths(job.out_dir, job.stem, s.mode).values())).release()
        source = open_video(str(job.source), s.start_frame)
        try:
            options = replace(s.video, out_dir=job.out_dir, on_frame=on_frame, progress=False,
                              timeline=video_timeline if s.timeline else None)
            return run_video(source, self.estimator, options)
        finally:
            source.release()


class FrameCounter:
    """run_video's per-frame hook in a worker: reports frames every FRAME_REPORT_S and
    raises Abandoned when the batch stops or the driver process is gone (a worker must
    not outlive it, nor commit a video nobody will record)."""

    def __init__(self, report: Callable[[int], None], stop, parent_pid: Optional[int] = None):
        self.report, self.stop, self.parent_pid = report, stop, parent_pid
        self.count, self.last = 0, time.monotonic()

    def __call__(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= FRAME_REPORT_S:
            self.flush()
            self.last = now
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                raise Abandoned()
        if self.stop.is_set():
            raise Abandoned()

    def flush(self) -> None:
        if self.count:
            self.report(self.count)
            self.count = 0
