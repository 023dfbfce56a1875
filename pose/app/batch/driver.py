"""Many videos in one run of the video tool: sources, resume, workers and the manifest.

    get_hpe_video.py --video_file clips/ more/*.mp4 @list.txt --recursive --workers 2

- **Sources.** Files, folders (their videos; `--recursive` for subfolders, whose layout is
  kept below the output folder), quoted globs and `@list.txt` (one path per line,
  relative to the list's folder). Each video's outputs are those of a single run.
- **Workers.** Each worker loads the model once and takes one video at a time, the
  longest first, so the last videos to finish are short ones and no worker idles
  behind a long tail. Local workers are threads (1) or processes (more), each with its
  share of the cores for inference; pose.app.batch.ray_pool puts them on a Ray cluster.
  Workers only compute and write a video's outputs; the driver (this process) keeps the
  progress bar and the manifest, so nothing but the outputs crosses machines.
- **Manifest.** `manifest.jsonl` in the mode's output folder, one JSON record per
  video: where it came from, what was written, how it went, and with which model and
  options. It is rewritten atomically after each video (the records' text is kept, so
  a rewrite is a join and a write).
- **Resume.** A video whose record says done, with the same model and options, whose
  source has not changed and whose outputs are all there at their recorded sizes, is
  skipped; `--overwrite` redoes it. Outputs appear only by atomic rename, so a killed
  run leaves temporary files at worst, and those are removed when the video is redone.
- **Concurrency.** A worker claims a video's outputs (pose.io.writers.claim_outputs: a
  lock, and a killed run's temporary files cleared) before loading the video; run_video
  holds them while it writes. A second run, batch or single-video, aimed at the same
  outputs is refused with one line, and leaves the video's record to the run that has it.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import multiprocessing
import os
import queue
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
from tqdm import tqdm

from pose.app.timeline import write_video_timeline
from pose.app.video import VideoOptions, VideoSummary, output_paths, run_video
from pose.core.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, InputError, OutputError, PoseError
from pose.core.files import FileLock, file_sha256, write_atomic
from pose.core.paths import display_path
from pose.core.quiet import native_stderr_silenced
from pose.core.signals import stop_on_signals
from pose.families.openpose.spec import get_spec
from pose.io.inputs import (
    VIDEO_SUFFIXES,
    expand_paths,
    is_glob,
    is_live_source,
    open_video,
    video_file_stat,
)
from pose.io.writers import OutputBusy, claim_outputs, ensure_output_dir
from pose.runtime import cpu_cores

log = logging.getLogger("pose")
Say = Callable[[str], None]
RAY_LOCAL = "local"  # --ray without an address: a new Ray on this machine

MANIFEST_NAME = "manifest.jsonl"
LIST_PREFIX = "@"  # --video_file @list.txt
FRAME_REPORT_S = 0.25  # how often a worker tells the progress bar about frames done
POLL_S = 0.2  # the driver's wait for news before it checks on workers and Ctrl-C
SHUTDOWN_WAIT_S = 10  # for workers to finish their frame and exit before they are ended
SKIPS_NAMED = 10  # skipped videos named one per line; any more are counted in one line


# ---------------------------------------------------------------- the videos

@dataclass(frozen=True)
class Job:
    """One video to run: where it is, where its outputs go, what it looked like."""

    source: Path  # absolute, so a worker on another machine opens the same file
    name: str  # as the user sees it in messages
    out_dir: Path  # absolute: the mode's folder, or a subfolder mirroring a --recursive tree
    stem: str
    bytes: int
    mtime_ns: int
    frames: int = 0  # frames it will go through, from the container (0: unknown)


def _read_list(arg: str) -> Tuple[List[str], List[str]]:
    """The paths in an @list file (blank lines and # comments skipped), relative to it."""
    path = Path(arg[len(LIST_PREFIX):])
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return [], [f"{arg}: cannot read the list ({exc.strerror or exc})"]
    except UnicodeDecodeError:
        return [], [f"{arg}: not a text file of paths"]
    entries = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not entries:
        return [], [f"{arg}: the list names no videos"]
    return [e if Path(e).is_absolute() else os.path.normpath(path.parent / e) for e in entries], []


def expand_video_args(args: Sequence[str], recursive: bool = False) -> Tuple[List[Tuple[Path, Optional[Path]]], List[str]]:
    """Files, folders' videos, globs and @lists: ((path, the folder it was found in or
    None), ...) and one-line problems. Cameras and streams have no end and no file to
    check for resume, so they run one at a time, not in a batch."""
    plain: List[str] = []
    problems: List[str] = []
    for arg in args:
        if arg.startswith(LIST_PREFIX) and len(arg) > 1:
            entries, trouble = _read_list(arg)
            plain += entries
            problems += trouble
        elif is_live_source(arg):
            problems.append(f"{arg}: a camera or stream runs on its own, not in a batch of videos")
        else:
            plain.append(arg)
    found, trouble = expand_paths(plain, VIDEO_SUFFIXES, "videos", recursive)
    return found, problems + trouble


def _frames_to_run(path: Path, start_frame: int, max_frames: Optional[int]) -> int:
    """How many frames a video will go through, from its container (about 1 ms a file):
    the longest-first order and the progress bar's total."""
    with native_stderr_silenced():
        capture = cv2.VideoCapture(str(path))
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()
    left = max(0, count - start_frame)
    return min(left, max_frames) if max_frames else left


def make_jobs(found: Sequence[Tuple[Path, Optional[Path]]], out_root: Path, mode: str) -> Tuple[List[Job], List[str]]:
    """Jobs for the expanded paths. A video found in a subfolder of a folder argument
    writes to the same subfolder below `out_root`; two videos that would write the same
    outputs are a problem (the second is not run)."""
    jobs: List[Job] = []
    problems: List[str] = []
    claimed: Dict[Path, str] = {}
    sources: set = set()
    for path, folder in found:
        name = display_path(path)
        if path.resolve() in sources:  # the same file named twice (a folder and a list, say)
            continue
        try:
            st = video_file_stat(path)
        except (InputError, OSError) as exc:  # missing, a folder, a FIFO, unreadable
            problems.append(str(exc))
            continue
        sub = path.parent.relative_to(folder) if folder is not None else Path()
        out_dir = (out_root / sub).resolve()
        first_output = output_paths(out_dir, path.stem, mode)["video"]
        if first_output in claimed:
            problems.append(f"{name}: its outputs would replace those of {claimed[first_output]} (same file name); "
                            "rename one or run them separately")
            continue
        claimed[first_output] = name
        sources.add(path.resolve())
        jobs.append(Job(path.resolve(), name, out_dir, path.stem, st.st_size, st.st_mtime_ns))
    return jobs, problems


# ---------------------------------------------------------------- model and options

def run_identity(args: argparse.Namespace) -> Tuple[str, dict, dict]:
    """(key, model, options): what makes two runs' outputs the same. The key hashes the
    model's files by content and every option that changes the outputs; the engine and
    device are recorded but not keyed, since every engine gives the same maps to float32
    rounding (README, Engines and speed): a run resumed on another machine keeps its work."""
    spec = get_spec(args.mode)
    weights = Path(args.weights) if args.weights else spec.weights.path
    proto = Path(args.proto) if args.proto else None

    def digest(path: Optional[Path]) -> Optional[str]:
        # a missing file is reported by the workers' model load, with its fix
        return file_sha256(path) if path is not None and path.is_file() else None

    model = {"name": spec.name, "stages": args.stages or (None if proto else spec.stages),
             "proto": str(proto.resolve()) if proto else None, "proto_sha256": digest(proto),
             "weights": str(weights.resolve()), "weights_sha256": digest(weights)}
    options = {"net_resolution": args.net_resolution, "scales": list(args.scales), "threshold": args.threshold,
               "single_person": args.single_person, "max_people": args.max_people,
               "classify": not args.no_classify, "json": not args.no_json, "timeline": not args.no_timeline,
               "write_json": str(Path(args.json_dir).resolve()) if args.json_dir else None,
               "keypoint_scale": args.keypoint_scale,
               "start_frame": args.start_frame, "max_frames": args.max_frames, "every": args.every}
    keyed = {"model": {k: v for k, v in model.items() if k not in ("proto", "weights")}, "options": options}
    key = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]
    return key, model, options


# ---------------------------------------------------------------- the manifest

class Manifest:
    """manifest.jsonl: the latest record of every video, one JSON object per line.

    Only the driver writes it. Each update is an atomic rewrite under a lock, so two runs
    sharing an output folder (on different videos) merge their records instead of
    dropping each other's: a rewrite first reads back a file another run changed.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / MANIFEST_NAME
        self._lines: Dict[str, str] = {}  # source -> its record's line
        self._mine: Dict[str, str] = {}  # the records this run wrote
        self._seen: Optional[Tuple[int, int, int]] = None
        self._read()

    def _stat(self) -> Optional[Tuple[int, int, int]]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _read(self) -> None:
        self._seen = self._stat()
        self._lines = {}
        if self._seen is None:
            return
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise OutputError(f"cannot read {display_path(self.path)}: {getattr(exc, 'strerror', None) or exc}") from None
        bad = 0
        for line in text.splitlines():
            try:
                record = json.loads(line)
                self._lines[record["source"]] = line
            except (ValueError, KeyError, TypeError):
                bad += bool(line.strip())
        if bad:
            log.warning(f"{display_path(self.path)}: {bad} unreadable line(s) ignored; those videos will be redone")
        self._lines.update(self._mine)

    def get(self, source: str) -> Optional[dict]:
        line = self._lines.get(source)
        return json.loads(line) if line is not None else None

    def put(self, record: dict) -> None:
        line = json.dumps(record, separators=(",", ":"), allow_nan=False)
        self._mine[record["source"]] = line
        try:
            with FileLock(self.path):  # waits for the other run's rewrite
                if self._stat() != self._seen:  # another run wrote it since
                    self._read()
                self._lines[record["source"]] = line
                write_atomic(self.path, "".join(v + "\n" for v in self._lines.values()).encode())
                self._seen = self._stat()
        except OSError as exc:
            raise OutputError(f"cannot write {display_path(self.path)}: {exc.strerror or exc}") from None


def outputs_intact(record: dict, root: Path) -> bool:
    """Every output the record lists is there with its recorded size."""
    for output in record.get("outputs") or []:
        try:
            if (root / output["file"]).stat().st_size != output["bytes"]:
                return False
        except (OSError, KeyError, TypeError):
            return False
    return bool(record.get("outputs"))


def already_done(record: Optional[dict], job: Job, key: str, root: Path) -> bool:
    return (record is not None and record.get("status") == "done" and record.get("key") == key
            and record.get("source_bytes") == job.bytes and record.get("source_mtime_ns") == job.mtime_ns
            and outputs_intact(record, root))


# ---------------------------------------------------------------- the worker

@dataclass
class WorkerSettings:
    """What every worker needs, picklable (it goes to processes and Ray actors)."""

    make_estimator: Callable  # (say=, threads=, device=) -> PoseEstimator
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
            options = replace(s.video, out_dir=job.out_dir, on_frame=on_frame, progress=False)
            summary = run_video(source, self.estimator, options)
        finally:
            source.release()
        if s.timeline:
            summary.files.append(write_video_timeline(summary, job.name, job.stem, job.out_dir, s.mode))
        return summary


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


def serve(index: int, settings: WorkerSettings, threads: Optional[int], tasks, events, stop,
          parent_pid: Optional[int] = None) -> None:
    """A local worker's life: load the model, then run the videos handed to it until
    None. Everything it has to say goes to `events` as tuples (see LocalPool)."""
    try:
        worker = VideoWorker(settings, threads)
    except PoseError as exc:
        events.put(("fatal", index, str(exc), exc.exit_code))
        return
    except Exception as exc:
        events.put(("fatal", index, f"unexpected {type(exc).__name__}: {exc}", EXIT_FAILED))
        return
    events.put(("ready", index, worker.label, list(worker.load_warnings)))
    counter = FrameCounter(lambda n: events.put(("frames", index, n)), stop, parent_pid)
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
        events.put(("done", index, record))
    events.put(("exit", index))


def _process_main(index: int, settings: WorkerSettings, threads: int, tasks, events, stop,
                  parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver owns Ctrl-C and tells us
    logger = logging.getLogger("pose")
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # warnings travel in the records; the driver prints them
    serve(index, settings, threads, tasks, events, stop, parent_pid)


# ---------------------------------------------------------------- local workers

class LocalPool:
    """`workers` local workers: a thread of this process for one (no start-up cost, and
    its warnings print as in a single-video run), spawned processes for more (spawn, not
    fork: forking a process that holds inference threads can deadlock the child).

    Events, as tuples: ("ready", i, first line, warnings), ("fatal", i, message, exit
    code), ("frames", i, n), ("done", i, record), ("died", i, message), ("exit", i).
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

    def next_event(self, timeout: float) -> Optional[tuple]:
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return self._casualty()
        if event[0] == "exit":
            self._exited.add(event[1])
        return event

    def _casualty(self) -> Optional[tuple]:
        """A worker that ended without saying goodbye (killed, out of memory, crashed)."""
        for i, worker in enumerate(self._workers):
            if i not in self._exited and not worker.is_alive():
                self._exited.add(i)
                code = getattr(worker, "exitcode", None)
                how = f"exit code {code}" if code is None or code >= 0 else f"killed by signal {-code}"
                return ("died", i, f"a worker process ended unexpectedly ({how}; out of memory?)")
        return None

    def stop(self) -> None:
        """Workers drop the videos in hand at the next frame and take no more."""
        self._stop.set()

    def abandon(self) -> None:
        """Stop, and end the processes now rather than at their next frame (a killed
        worker's temporary files are cleared when its video is redone)."""
        self._stop.set()
        for worker in self._workers:
            if isinstance(worker, multiprocessing.process.BaseProcess) and worker.is_alive():
                worker.terminate()

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
        tqdm.write(f"error: {text}", file=sys.stderr)

    def warn(self, text: str) -> None:
        tqdm.write(f"warning: {text}", file=sys.stderr)

    # ------------------------------------------------------------ planning

    def plan(self) -> List[Job]:
        """The jobs to run, longest first; reports problems and skips."""
        args = self.args
        found, problems = expand_video_args(args.video_file, args.recursive)
        jobs, more = make_jobs(found, self.out_root, args.mode)
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
            todo[k] = replace(job, frames=_frames_to_run(job.source, args.start_frame, args.max_frames))
        return sorted(todo, key=lambda j: -j.frames)  # stable: ties keep the command line's order

    # ------------------------------------------------------------ running

    def settings(self) -> WorkerSettings:
        a = self.args
        video = VideoOptions(out_dir=self.out_root, write_json=not a.no_json, classify=not a.no_classify,
                             display=False, max_frames=a.max_frames, every=a.every, progress=False,
                             json_dir=a.json_dir, keypoint_scale=a.keypoint_scale)
        return WorkerSettings(self.make_estimator, a.mode, video, a.start_frame, not a.no_timeline)

    def run(self, pool_factory: Callable[[WorkerSettings], "LocalPool"]) -> int:
        todo = self.plan()
        if not todo:
            self.tally.wall_s = 0.0
            print(self.tally.line(self.manifest.path), flush=True)
            return EXIT_FAILED if self.tally.errors else EXIT_OK
        pool = pool_factory(self.settings())
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
            kind, index = event[0], event[1]
            if kind == "ready":
                if not announced and event[2]:
                    self.say(event[2])
                    announced = True
                for message in event[3]:  # the same load warning from every worker: once
                    if message not in warned and not pool.prints_warnings:
                        warned.add(message)
                        self.warn(message)
                idle.append(index)
            elif kind == "fatal":
                raise PoseError(event[2], event[3])
            elif kind == "frames":
                bar.update(event[2])
            elif kind == "done":
                job = busy.pop(index)
                self._finished(job, event[2], bar, pool.prints_warnings)
                idle.append(index)
            elif kind in ("died", "exit"):
                alive.discard(index)
                if index in idle:
                    idle.remove(index)
                job = busy.pop(index, None)
                if job is not None:
                    message = event[2] if kind == "died" else "the worker stopped"
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
                size = path.stat().st_size
            except OSError:
                continue
            outputs.append({"file": path.relative_to(self.out_root).as_posix(), "bytes": size})
        record = {"source": str(job.source), "source_bytes": job.bytes, "source_mtime_ns": job.mtime_ns,
                  "status": result["status"], "error": result.get("error"), "outputs": outputs}
        for name in ("frames", "inferred", "people", "detections", "most_people", "seconds", "inference_s"):
            record[name] = result.get(name)
        record.update(model=self.model, options=self.options, key=self.key, engine=result.get("engine"),
                      device=result.get("device"), worker=result.get("worker"), warnings=result.get("warnings") or [],
                      finished=_utc_now())
        return record


def local_pool(workers: int) -> Callable[[WorkerSettings], LocalPool]:
    """Local workers sharing this machine's cores for inference (cores // workers threads
    each: one process's threads are better spent on the next video than on contention)."""
    threads = max(1, cpu_cores() // workers)
    return lambda settings: LocalPool(settings, workers, threads)


def is_batch(args: argparse.Namespace) -> bool:
    """Whether the video tool's arguments ask for a batch: several sources, a folder, a
    glob, a list, or a batch option. One file, camera or stream runs as it always has."""
    if len(args.video_file) > 1 or args.recursive or args.overwrite or args.workers or args.ray is not None:
        return True
    arg = args.video_file[0]
    return arg.startswith(LIST_PREFIX) or Path(arg).is_dir() or (is_glob(arg) and not is_live_source(arg))


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
