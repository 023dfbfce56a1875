"""The batch's driver: decides what to run, hands videos to a pool (local_pool or
ray_pool), and reports and records what comes back (see the package's docstring)."""
from __future__ import annotations

import argparse
import datetime
import stat
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List

from tqdm import tqdm

from pose.app.batch.events import Died, Done, Exited, Fatal, Frames, Ready
from pose.app.batch.jobs import Job, expand_video_args, frames_to_run, make_jobs
from pose.app.batch.local_pool import LocalPool, local_pool
from pose.app.batch.manifest import Manifest, already_done, run_identity
from pose.app.batch.worker import WorkerSettings
from pose.app.video import VideoOptions
from pose.core.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, InputError, PoseError
from pose.core.paths import display_path, printable
from pose.core.signals import stop_on_signals
from pose.io.writers import ensure_output_dir

POLL_S = 0.2  # the driver's wait for news before it checks on workers and Ctrl-C
SKIPS_NAMED = 10  # skipped videos named one per line; any more are counted in one line


# ---------------------------------------------------------------- the driver

@dataclass
class BatchTally:
    videos: int = 0
    todo: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    frames: int = 0
    people: int = 0
    inference_s: float = 0.0
    wall_s: float = 0.0
    workers: int = 1
    errors: List[str] = field(default_factory=list)

    @property
    def not_started(self) -> int:
        return self.todo - self.done - self.failed

    def line(self, manifest: Path) -> str:
        head = "interrupted" if self.not_started else "done"
        parts = [f"{self.done} of {self.videos} videos processed"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped (already done)")
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.not_started:
            parts.append(f"{self.not_started} left for the next run")
        rate = 3600 * self.done / self.wall_s if self.wall_s else 0.0
        busy = 100 * self.inference_s / (self.wall_s * self.workers) if self.wall_s else 0.0
        whose = "the worker's" if self.workers == 1 else f"{self.workers} workers'"
        written = f"; manifest {display_path(manifest)}" if manifest.exists() else ""
        return (f"{head}: {', '.join(parts)}; {self.frames} frames, {self.people} people; "
                f"{self.wall_s:.1f} s wall, {rate:.0f} videos per hour; network busy {busy:.0f}% of "
                f"{whose} time{written}")


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class BatchRun:
    """The driver: decides what to run, hands videos to a pool, reports and records."""

    def __init__(self, args: argparse.Namespace, make_estimator: Callable):
        self.args = args
        self.make_estimator = make_estimator
        self.out_root = ensure_output_dir(Path(args.output_dir) / "videos" / args.mode).resolve()
        self.manifest = Manifest(self.out_root)
        self.tally = BatchTally()

    # Lines go through tqdm so they print above the progress bar instead of through it.
    def say(self, text: str) -> None:
        if not self.args.quiet:
            tqdm.write(text, file=sys.stdout)

    def error(self, text: str) -> None:
        tqdm.write(f"error: {printable(text)}", file=sys.stderr)

    def warn(self, text: str) -> None:
        tqdm.write(f"warning: {printable(text)}", file=sys.stderr)

    # ------------------------------------------------------------ planning

    def plan(self) -> List[Job]:
        """The jobs to run, longest first; reports problems and skips."""
        args = self.args
        found, problems = expand_video_args(args.video_file, args.recursive)
        jobs, more = make_jobs(found, self.out_root, args.mode, [d for d in (args.json_dir, args.heatmaps_dir) if d])
        problems += more
        if not jobs and len(problems) == 1:
            raise InputError(problems[0])
        for problem in problems:
            self.error(problem)
            self.tally.errors.append(problem)
        if not jobs:
            raise InputError("no videos to process")
        self.key, self.model, self.options = run_identity(args)
        todo, skipped = [], []
        for job in jobs:
            if not args.overwrite and already_done(self.manifest.get(str(job.source)), job, self.key, self.out_root):
                skipped.append(job)
            else:
                todo.append(job)
        for job in skipped[:SKIPS_NAMED]:
            self.say(f"skipped {job.name}: done before with the same model and options (--overwrite redoes it)")
        if len(skipped) > SKIPS_NAMED:
            self.say(f"skipped {len(skipped) - SKIPS_NAMED} more videos done before with the same model and options")
        self.tally.videos, self.tally.skipped, self.tally.todo = len(jobs), len(skipped), len(todo)
        for folder in sorted({job.out_dir for job in todo}):  # a --recursive tree's subfolders
            ensure_output_dir(folder)
        for k, job in enumerate(todo):
            todo[k] = replace(job, frames=frames_to_run(job.source, args.start_frame, args.max_frames))
        return sorted(todo, key=lambda j: -j.frames)  # stable: ties keep the command line's order

    # ------------------------------------------------------------ running

    def settings(self) -> WorkerSettings:
        a = self.args
        video = VideoOptions(out_dir=self.out_root, write_json=not a.no_json, render=not a.no_render, classify=not a.no_classify,
                             display=False, max_frames=a.max_frames, every=a.every, progress=False,
                             json_dir=a.json_dir, keypoint_scale=a.keypoint_scale,
                             heatmaps_dir=Path(a.heatmaps_dir) if a.heatmaps_dir else None)
        return WorkerSettings(self.make_estimator, a.mode, video, a.start_frame, not a.no_timeline and not a.no_render)

    def run(self, pool_factory: Callable[[WorkerSettings, int], "LocalPool"]) -> int:
        todo = self.plan()
        if not todo:
            self.tally.wall_s = 0.0
            print(self.tally.line(self.manifest.path), flush=True)
            return EXIT_FAILED if self.tally.errors else EXIT_OK
        pool = pool_factory(self.settings(), len(todo))
        self.tally.workers = pool.size
        self.say(f"batch: {len(todo)} video{'s' if len(todo) > 1 else ''} to run on {pool.label}")
        stop = threading.Event()
        bar = tqdm(total=sum(j.frames for j in todo), unit="frame", file=sys.stderr, dynamic_ncols=True,
                   disable=self.args.quiet, leave=False, desc=f"0/{len(todo)} videos")
        t0 = time.perf_counter()
        try:
            with stop_on_signals(stop) as signalled:  # Ctrl-C or SIGTERM: stop; a second: quit now
                pool.start()
                self._drive(pool, todo, stop, bar)
        except BaseException:
            pool.abandon()
            raise
        finally:
            bar.close()
            pool.close()
        self.tally.wall_s = time.perf_counter() - t0
        print(self.tally.line(self.manifest.path), flush=True)
        if self.tally.not_started:
            return signalled() or EXIT_INTERRUPTED
        return EXIT_FAILED if self.tally.failed or self.tally.errors else EXIT_OK

    def _drive(self, pool, todo: List[Job], stop: threading.Event, bar: tqdm) -> None:
        pending = list(todo)
        busy: Dict[int, Job] = {}
        idle: List[int] = []
        alive = set(range(pool.size))
        announced, warned = False, set()
        stopping = False
        while busy or (pending and alive and not stopping):
            if stop.is_set() and not stopping:
                stopping = True
                pool.stop()
                tqdm.write("stopping: the videos in hand are dropped after their current frame and redone "
                           "next run (Ctrl-C again to quit at once)", file=sys.stderr)
            while idle and pending and not stopping:
                index = idle.pop(0)
                busy[index] = pending.pop(0)
                pool.submit(index, busy[index])
            event = pool.next_event(POLL_S)
            if event is None:
                continue
            index = event.index
            if isinstance(event, Ready):
                if not announced and event.label:
                    self.say(event.label)
                    announced = True
                for message in event.warnings:  # the same load warning from every worker: once
                    if message not in warned and not pool.prints_warnings:
                        warned.add(message)
                        self.warn(message)
                idle.append(index)
            elif isinstance(event, Fatal):
                raise PoseError(event.message, event.exit_code)
            elif isinstance(event, Frames):
                bar.update(event.count)
            elif isinstance(event, Done):
                job = busy.pop(index)
                self._finished(job, event.record, bar, pool.prints_warnings)
                idle.append(index)
            elif isinstance(event, (Died, Exited)):
                alive.discard(index)
                if index in idle:
                    idle.remove(index)
                job = busy.pop(index, None)
                if job is not None:
                    message = event.message if isinstance(event, Died) else "the worker stopped"
                    self._finished(job, {"source": str(job.source), "status": "failed",
                                         "error": f"{job.name}: {message}"}, bar, True)
                if not alive and pending and not stopping:
                    raise PoseError(f"every worker has stopped; {len(pending)} videos not run")

    def _finished(self, job: Job, result: dict, bar: tqdm, warnings_printed: bool) -> None:
        status = result["status"]
        if status == "cancelled":
            return
        if not warnings_printed:
            for message in result.get("warnings") or []:
                self.warn(message)
        if status in ("failed", "busy"):
            self.tally.failed += 1
            self.error(result.get("error") or f"{job.name}: failed")
        else:
            self.tally.done += 1
            self.say(f"{job.name}: {result['frames']} frames, {result['people']} "
                     f"{'person' if result['people'] == 1 else 'people'}, {result['seconds']:.1f} s")
        frames = result.get("frames", 0)
        self.tally.frames += frames if status == "done" else 0
        self.tally.people += result.get("people", 0) if status == "done" else 0
        self.tally.inference_s += result.get("inference_s", 0.0)
        # the bar's total was the container's estimate: settle it to the frames really run
        bar.total = max(bar.n, (bar.total or 0) - job.frames + frames)
        bar.set_description(f"{self.tally.done + self.tally.failed}/{self.tally.todo} videos")
        if status != "busy":  # the run that holds it writes its record
            self.manifest.put(self._record(job, result))

    def _record(self, job: Job, result: dict) -> dict:
        outputs = []
        for name in result.get("files") or []:
            path = Path(name)
            try:
                st = path.stat()
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):  # --write_json's folder: its size says nothing of its files
                continue
            # relative where it can be (the output folder may move); --write_json elsewhere is absolute
            where = path.relative_to(self.out_root) if path.is_relative_to(self.out_root) else path
            outputs.append({"file": where.as_posix(), "bytes": st.st_size})
        record = {"source": str(job.source), "source_bytes": job.bytes, "source_mtime_ns": job.mtime_ns,
                  "status": result["status"], "error": result.get("error"), "outputs": outputs}
        for name in ("frames", "inferred", "people", "detections", "most_people", "seconds", "inference_s"):
            record[name] = result.get(name)
        record.update(model=self.model, options=self.options, key=self.key, engine=result.get("engine"),
                      device=result.get("device"), worker=result.get("worker"), warnings=result.get("warnings") or [],
                      finished=_utc_now())
        return record


def run_batch(args: argparse.Namespace, make_estimator: Callable) -> int:
    """The video tool with several sources or a batch option: returns the exit code.
    `make_estimator(say=, threads=, device=)` must pickle (processes and Ray actors call it)."""
    if args.ray is not None:  # first, so a missing Ray is the one line, before any work
        from pose.app.batch.ray_pool import ray_pool  # Ray is optional: imported only when asked for
        factory = ray_pool(args.ray, args.workers, args.device, lambda text: run.say(text))
    else:
        factory = local_pool(args.workers or 1)
    run = BatchRun(args, make_estimator)
    return run.run(factory)
