"""The video tool's loop, pipelined: a reader thread decodes the next frames and a
writer thread draws and encodes the previous ones while the network runs on the
current frame, so decoding and encoding hide behind inference (cv2.dnn and the
codecs release the GIL).

Stopping (Ctrl-C, SIGTERM, or q/Esc in the window) sets an event: the frame in hand is
finished, every frame already inferred is written, the video and JSON Lines files are
closed and renamed to their final names (the COCO results file, --write_coco_json, is
written then; each per-frame file of --write_json and --write_heatmaps DIR was written
whole as its frame was done), and the run reports `interrupted`. A run that fails leaves none of them.
"""
from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from pose.analysis.track import Tracker, TrackRuns
from pose.core.errors import UsageError
from pose.core.estimator import Estimator
from pose.core.image import to_bgr
from pose.core.paths import display_path
from pose.core.person import Person
from pose.io import display, render
from pose.io import writers as output
from pose.io.formats import coco_results, openpose_frame_json, openpose_frame_name, result_json, run_info
from pose.io.inputs import VideoSource
from pose.io.render import skeleton_view

Say = Callable[[str], None]
log = logging.getLogger("pose")
DEFAULT_FPS = 30.0  # written when the source does not say (some cameras and streams)
QUEUE_DEPTH = 4  # frames decoded ahead / waiting to be encoded


@dataclass
class VideoOptions(output.OutputOptions):
    """The video tool's outputs (out_dir: e.g. Output/videos/COCO) and how it runs."""

    max_frames: Optional[int] = None
    every: int = 1  # run the network on every Nth frame, reuse its people in between
    progress: bool = True
    pipelined: bool = True  # False: read, infer and write one after the other (benchmarks)
    on_frame: Optional[Callable[[], None]] = None  # called per frame read (batch progress bars)
    # (summary, video name, mode) -> the <stem>_timeline_<MODE>.png picture (pose.app.timeline),
    # committed with the other outputs; picklable (batch workers get it)
    timeline: Optional[Callable[["VideoSummary", str, str], np.ndarray]] = None


@dataclass
class VideoSummary:
    frames: int = 0
    inferred: int = 0
    people: int = 0  # summed over frames
    most_people: int = 0  # in one frame
    wall_s: float = 0.0
    inference_s: float = 0.0  # the network alone: decoding runs in the writer thread
    files: List[Path] = field(default_factory=list)
    timeline: List[str] = field(default_factory=list)
    runs: List[TrackRuns] = field(default_factory=list)  # the timeline as data, for its picture
    span_s: Tuple[float, float] = (0.0, 0.0)  # the frames' time in the source: first frame to end
    interrupted: bool = False

    @property
    def wall_per_frame_ms(self) -> float:
        return 1000 * self.wall_s / max(1, self.frames)

    @property
    def inference_per_frame_ms(self) -> float:
        return 1000 * self.inference_s / max(1, self.inferred)

    def line(self) -> str:
        head = "interrupted" if self.interrupted else "done"
        every = f" ({self.inferred} through the network)" if self.inferred != self.frames else ""
        busy = 100 * self.inference_s / self.wall_s if self.wall_s else 0.0
        return (f"{head}: {self.frames} frames{every}, {self.people} people found (at most "
                f"{self.most_people} in a frame), wrote {', '.join(display_path(p) for p in self.files)}; "
                f"{self.wall_per_frame_ms:.1f} ms per frame wall, {self.inference_per_frame_ms:.1f} ms "
                f"inference per frame (network busy {busy:.0f}% of the wall time)")


def output_paths(out_dir: Path, stem: str, mode: str) -> dict:
    return {"video": out_dir / f"{stem}_skeleton_{mode}.mp4", "jsonl": out_dir / f"{stem}_{mode}.jsonl",
            "timeline": out_dir / f"{stem}_timeline_{mode}.png"}  # pose.app.timeline draws it


# ---------------------------------------------------------------- threads

_END = object()


class Prefetch:
    """Iterates `source` in a thread, up to `depth` items ahead of the consumer."""

    def __init__(self, source: Iterable, depth: int, stop: threading.Event,
                 interrupt: Optional[threading.Event] = None):
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = stop
        # The user's stop: iteration ends on it even while the reader is stuck in a
        # stalled stream, instead of when FFmpeg's 30 s read timeout frees the reader.
        self._interrupt = interrupt
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, args=(source,), name="frame-reader", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def _run(self, source: Iterable) -> None:
        try:
            for item in source:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer
            self._error = exc
        self._put(_END)

    def __iter__(self) -> Iterator:
        while True:
            try:
                item = self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._stop.is_set() or not self._thread.is_alive() and self._queue.empty():
                    break
                if self._interrupt is not None and self._interrupt.is_set():
                    break
                continue
            if item is _END:
                break
            yield item
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self._stop.set()
        # A stalled stream can block the reader inside capture.read(); it is a daemon
        # thread, so stopping does not wait on it for long (a reader that is not stuck
        # ends within one frame's decoding).
        self._thread.join(timeout=0.25)


class Drain:
    """Calls `handle(item)` in a thread for every item put; `close()` waits for all."""

    def __init__(self, handle: Callable, depth: int):
        self._handle = handle
        self._queue: queue.Queue = queue.Queue(depth)
        self.error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="frame-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if self.error is None:  # after a failure, only drain so put() never blocks
                try:
                    self._handle(item)
                except BaseException as exc:
                    self.error = exc

    def put(self, item) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(item)

    def close(self) -> None:
        self._queue.put(_END)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        """Skip what is still queued and stop the thread."""
        if self.error is None:
            self.error = RuntimeError("aborted")
        self._queue.put(_END)
        self._thread.join()


class Inline:
    """Drain's interface without a thread: each item is handled when put."""

    def __init__(self, handle: Callable, depth: int = 0):
        self.put = handle

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


# ---------------------------------------------------------------- the loop

def read_frames(source: VideoSource, limit: Optional[int],
                times: Optional[Dict[int, float]] = None) -> Iterator[Tuple[int, np.ndarray]]:
    """(index in the source, BGR frame), from the start frame, at most `limit`. `times`
    gets each frame's time in the container, where it has one (read here, in the reader
    thread, right after the frame)."""
    index, frame, t = source.start_frame, source.first_frame, source.first_time_s
    count = 0
    while frame is not None and (limit is None or count < limit):
        if times is not None and t is not None:
            times[index] = t
        yield index, frame
        count += 1
        if limit is not None and count >= limit:
            return
        ok, frame = source.read()
        frame = to_bgr(frame) if ok and frame is not None and frame.size else None
        t = source.frame_time_s()
        index += 1


class _FrameFinisher:
    """Finishes one frame after the network: decodes and tracks its people, draws them with
    the caption and labels, and hands the frame and its JSON to the writers (which only
    write). It runs in the writer thread, so decoding overlaps the
    network's work on the next frame; frames arrive in order, as the tracker needs."""

    def __init__(self, estimator: Estimator, tracker: Tracker, video: Optional[output.VideoFileWriter],
                 jsonl: Optional[output.JsonLinesWriter], fps: float, total: Optional[int], *,
                 frames_json: Optional[output.JsonFolderWriter] = None,
                 coco: Optional[output.CocoResultsWriter] = None, stem: str = "video",
                 keypoint_scale: int = 0, heatmaps: Optional[output.MapsFolderWriter] = None):
        self.estimator, self.spec, self.tracker = estimator, estimator.spec, tracker
        self.info = run_info(estimator)
        self.video, self.jsonl, self.fps, self.total = video, jsonl, fps, total
        self.frames_json, self.coco, self.stem, self.keypoint_scale = frames_json, coco, stem, keypoint_scale
        self.heatmaps = heatmaps
        self.latest: Optional[np.ndarray] = None
        # frame index -> its time in the container (read_frames fills it ahead of us);
        # index / fps where the container has none
        self.times: Dict[int, float] = {}
        self.span_s: Optional[Tuple[float, float]] = None  # first frame's time, last frame's
        self.people: List[Person] = []  # the last inferred frame's, reused by --every
        self.people_total = 0
        self.most_people = 0

    def __call__(self, item: Tuple[int, np.ndarray, Optional[list], Optional[float]]) -> None:
        index, frame, outputs, seconds = item
        t = self.times.pop(index, index / self.fps)
        self.span_s = (t if self.span_s is None else self.span_s[0], t)
        if outputs is not None:
            # The frame too: hands and faces (when on) are found on crops of it.
            self.people = self.tracker.update(self.estimator.people_from(outputs, frame), t)
            if self.heatmaps is not None:  # inferred frames only: --every's reused ones have no maps
                self.heatmaps.write(openpose_frame_name(self.stem, index, "pose_heatmaps.npy"), self.estimator.maps(outputs))
        people = self.people
        self.people_total += len(people)
        self.most_people = max(self.most_people, len(people))
        h, w = frame.shape[:2]
        time_s = round(t, 3)
        if self.jsonl is not None:
            self.jsonl.write(result_json(people, self.spec, (w, h), tracked=True, keypoint_scale=self.keypoint_scale,
                                         **self.info, frame=index, time_s=time_s, inferred=outputs is not None))
        if self.frames_json is not None:  # every frame, also those --every reuses
            self.frames_json.write(openpose_frame_name(self.stem, index),
                                   openpose_frame_json(people, (w, h), tracked=True, keypoint_scale=self.keypoint_scale))
        if self.coco is not None:  # image_id = the frame index
            self.coco.add(coco_results(people, self.spec, index),
                          {"id": index, "frame": index, "time_s": time_s, "width": w, "height": h})
        if self.video is None:  # JSON only (--no_render): no drawing, no encoding
            return
        skeleton_view(frame, people, self.spec, with_ids=True)
        of = f"/{self.total}" if self.total else ""
        # The frame's own time in the network: with several frames in flight (throughput
        # mode) it exceeds the summary's wall time per frame, so it is named for what it is.
        timing = f"latency {1000 * seconds:.0f} ms" if seconds is not None else "reused"
        network = f"{self.info['network']}  " if self.info.get("network") else ""  # --demo
        render.draw_caption(frame, f"{network}frame {index + 1}{of}  {timing}")
        self.video.write(frame)
        self.latest = frame


def run_video(source: VideoSource, estimator: Estimator, options: VideoOptions,
              stop: Optional[threading.Event] = None) -> VideoSummary:
    """Run the estimator over a video and write OUT/videos/<MODE>/ files.

    `stop` (set by Ctrl-C or another thread) ends the run after the frame in hand;
    the outputs are then complete files holding the frames done so far.
    """
    stop = stop or threading.Event()
    spec = estimator.spec
    if options.heatmaps_dir is not None and getattr(estimator, "maps", None) is None:
        raise UsageError("--write_heatmaps: only OpenPose's networks output heatmaps")
    reset = getattr(estimator, "reset", None)  # an estimator that tracks between frames starts afresh
    if reset is not None:
        reset()
    fps = source.fps or DEFAULT_FPS
    if not source.fps:
        log.warning(f"{source.name} does not report its frame rate; writing {DEFAULT_FPS:g} fps")
    left = source.frames_left
    limit = options.max_frames
    total = min(x for x in (left, limit) if x is not None) if (left, limit) != (None, None) else None
    shown_total = None if left is None else source.frame_count
    paths = output_paths(options.out_dir, source.stem, spec.name)
    # One run at a time per output name (a second one is refused in one line); temporaries
    # a killed run left for these names are deleted.
    claim = output.claim_outputs([paths["video"], paths["jsonl"]])
    # The tracker classifies (and smooths the labels per person) unless told not to.
    tracker = Tracker(spec, classify_people=options.classify)
    reset = getattr(estimator, "reset", None)  # state from frame to frame (pose.core.estimator)
    if callable(reset):
        reset()
    summary = VideoSummary()
    opened: list = []  # so that a writer failing to open takes the ones before it along

    def keep(writer):
        opened.append(writer)
        return writer

    try:
        video = keep(output.VideoFileWriter(paths["video"], fps, source.size)) if options.render else None
        jsonl = keep(output.JsonLinesWriter(paths["jsonl"])) if options.write_json else None
        frames_json = keep(output.JsonFolderWriter(options.json_dir, source.stem)) if options.json_dir is not None else None
        heatmaps = keep(output.MapsFolderWriter(options.heatmaps_dir, source.stem)) if options.heatmaps_dir is not None else None
        about = {"source": "video", "video": source.name, "model": spec.name, "fps": fps}
        coco = keep(output.CocoResultsWriter(options.coco_json, about)) if options.coco_json is not None else None
    except BaseException:
        for writer in opened:
            writer.discard()
        claim.release()
        raise
    # Committed together when the run ends (none takes its final name unless all could),
    # discarded all together when it fails.
    writers = [w for w in (video, jsonl, frames_json, heatmaps, coco) if w is not None]
    finisher = _FrameFinisher(estimator, tracker, video, jsonl, fps, shown_total, frames_json=frames_json,
                              coco=coco, stem=source.stem, keypoint_scale=options.keypoint_scale, heatmaps=heatmaps)
    viewer = display.Viewer(options.display)
    reader_stop = threading.Event()
    frames = sink = bar = queue_ = None
    t_start = time.perf_counter()
    try:  # from the threads and the bar on (a bar on a full stderr fails): the writers are discarded on failure
        frames = Prefetch(read_frames(source, limit, finisher.times), QUEUE_DEPTH, reader_stop, interrupt=stop) \
            if options.pipelined else read_frames(source, limit, finisher.times)
        sink = (Drain if options.pipelined else Inline)(finisher, QUEUE_DEPTH)
        bar = tqdm(total=total, unit="frame", file=sys.stderr, disable=not options.progress or total is None,
                   dynamic_ncols=True, leave=False)
        queue_ = _InOrder(estimator, sink, summary)
        for k, (index, frame) in enumerate(frames):
            queue_.add(k, index, frame, infer=k % options.every == 0)
            summary.frames += 1
            bar.update(1)
            if options.on_frame is not None:
                options.on_frame()
            if viewer.enabled and finisher.latest is not None and not viewer.show({"Skeleton": finisher.latest}):
                break  # q or Esc: the user ends the run, not an interruption
            if stop.is_set():
                summary.interrupted = True
                break
        queue_.drain()  # the frames still in the network: finished and written, also when stopping
        summary.interrupted = summary.interrupted or stop.is_set()  # stopped while waiting for a frame
        _close(frames)
        sink.close()
        summary.wall_s = time.perf_counter() - t_start
        summary.people, summary.most_people = finisher.people_total, finisher.most_people
        summary.timeline = tracker.timeline()
        summary.runs = tracker.runs()
        first, last = finisher.span_s or (source.start_frame / fps, source.start_frame / fps - 1 / fps)
        summary.span_s = (first, last + 1 / fps)  # to the end of the last frame
        if options.timeline is not None:
            writers.append(keep(output.stage_image(paths["timeline"], options.timeline(summary, source.name, spec.name))))
        summary.files += output.commit_together(writers)
    except BaseException:
        try:
            _close(frames)
            if sink is not None:
                sink.abort()
            if queue_ is not None:
                queue_.discard()  # the estimator may serve another video next (batches)
        finally:  # whatever else fails, no temporary output is left behind
            for writer in opened:
                writer.discard()
        raise
    finally:
        if bar is not None:
            with contextlib.suppress(OSError):  # stderr on a full device: the outputs matter more
                bar.close()
        viewer.close()
        source.release()
        claim.release()
    return summary


class _InOrder:
    """Frames on their way through the network, handed to the finisher in their order.

    With an engine that keeps several requests in flight (OpenVINO in throughput mode)
    the next frames are submitted before the earlier ones are done; frames that reuse
    people (--every) wait behind the inferred frame they follow. `summary.inference_s` is
    the time this thread waited on the network (the whole network time when frames go
    one at a time); each frame's caption shows its own submit-to-result time.
    """

    def __init__(self, estimator: Estimator, sink, summary: VideoSummary):
        self.estimator, self.sink, self.summary = estimator, sink, summary
        self.pending: deque = deque()  # [index, frame, infer, outputs, submitted_at, seconds]
        self.by_tag: dict = {}

    def add(self, k: int, index: int, frame: np.ndarray, infer: bool) -> None:
        entry = [index, frame, infer, None, time.perf_counter(), None]
        self.pending.append(entry)
        if infer:
            t0 = time.perf_counter()
            self.by_tag[k] = entry
            # With every request busy, submit waits for one to finish (any: the engine
            # hands results back in order), so the network never waits for this thread.
            # One at a time, the frame is awaited now: shown and written without delay.
            self.estimator.submit(frame, k)
            self._take(self.estimator.collect(wait=self.estimator.in_flight == 1))
            self.summary.inference_s += time.perf_counter() - t0
            self.summary.inferred += 1
        self._flush()

    def discard(self) -> None:
        """Drop the frames still in the network, so the estimator holds nothing of this
        video when the next one starts (the tags start at 0 again)."""
        if self.by_tag:
            self.estimator.abandon()
            self.by_tag.clear()

    def drain(self) -> None:
        t0 = time.perf_counter()
        self._take(self.estimator.collect(wait=True))
        self.summary.inference_s += time.perf_counter() - t0
        self._flush()

    def _take(self, done) -> None:
        now = time.perf_counter()
        for tag, outputs in done:
            entry = self.by_tag.pop(tag)
            entry[3], entry[5] = outputs, now - entry[4]

    def _flush(self) -> None:
        while self.pending and (not self.pending[0][2] or self.pending[0][3] is not None):
            index, frame, _, outputs, _, seconds = self.pending.popleft()
            self.sink.put((index, frame, outputs, seconds))


def _close(frames) -> None:
    if isinstance(frames, Prefetch):
        frames.close()
