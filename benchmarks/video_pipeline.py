"""How close the video tool's wall time per frame comes to pure network time.

Runs one video four ways with the same random-weight COCO model and reports ms per frame:
  network    estimator.forward only (preprocessing + cv2.dnn), frames already in memory
  inference  estimator.estimate (network + decoding), frames in memory
  serial     the video loop without threads: read, infer, draw, encode one after another
  pipelined  the tool's loop: reading and drawing/encoding in threads beside inference
and, for both loops, "inference": the time the loop itself spent in estimate + tracking
(what the tool's summary line reports), so wall minus it is the I/O left unhidden.
Not part of the test suite (timings).

    python -m benchmarks.video_pipeline                       # narrow model (fast)
    python -m benchmarks.video_pipeline --full --frames 10    # the full-size COCO net
"""
import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2

from pose.app.video import VideoOptions, run_video
from pose.core.quiet import quiet_native_logs
from pose.families.openpose.estimator import PoseEstimator
from pose.families.openpose.net.architecture import build_layers
from pose.families.openpose.people import DecodeOptions
from pose.families.openpose.spec import MODELS
from pose.io.inputs import open_video
from tests.support.nets import write_model
from tests.support.random_weights import write_random_caffemodel

ROOT = Path(__file__).resolve().parent.parent


def _model(folder: Path, full: bool):
    spec = MODELS["COCO"]
    if not full:
        return write_model(folder, spec)
    weights = folder / "coco_full_random.caffemodel"
    write_random_caffemodel(weights, build_layers(spec), seed=0)
    return spec.prototxt, weights


def _frames(video: str, n: int):
    cap = cv2.VideoCapture(video)
    frames = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    return frames


def _resized_video(src: str, size: str, n: int, folder: Path) -> str:
    """The first `n` frames of `src` resized to WxH, as an mp4v file."""
    w, h = (int(v) for v in size.split("x"))
    cap = cv2.VideoCapture(src)
    fps = cap.get(cv2.CAP_PROP_FPS) or 15
    path = folder / f"video_{w}x{h}.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for _ in range(n):
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(cv2.resize(frame, (w, h), interpolation=cv2.INTER_CUBIC))
    writer.release()
    return str(path)


def _per_frame_ms(fn, frames) -> float:
    fn(frames[0])  # warm-up: first-call allocations
    t0 = time.perf_counter()
    for frame in frames:
        fn(frame)
    return 1000 * (time.perf_counter() - t0) / len(frames)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(ROOT / "Input" / "example_video1.mp4"))
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", help="resize the video's frames to WxH first, e.g. 1280x720")
    parser.add_argument("--full", action="store_true", help="full-size random COCO net (~200 MB, slow)")
    parser.add_argument("--net_resolution", default="-1x368")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repeats; the best is kept")
    parser.add_argument("--threads", type=int, help="OpenCV threads for the network (default: all cores)")
    parser.add_argument("--threshold", type=float, default=0.4,
                        help="peak threshold: random weights give hundreds of peaks at the model's "
                             "default, so decoding would swamp everything else (default 0.4)")
    args = parser.parse_args()
    quiet_native_logs()
    if args.threads:
        cv2.setNumThreads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        proto, weights = _model(tmp, args.full)
        if args.size:
            args.video = _resized_video(args.video, args.size, args.frames, tmp)
        est = PoseEstimator("COCO", proto=proto, weights=weights, net_resolution=args.net_resolution,
                            decode_options=DecodeOptions(threshold=args.threshold))
        frames = _frames(args.video, args.frames)
        n = len(frames)
        rows = {}
        loops = {}
        # Interleaved repeats, best of each: other load on the machine only ever slows a run.
        for repeat in range(args.repeat):
            measured = {"network": _per_frame_ms(est.forward, frames),
                        "inference": _per_frame_ms(est.estimate, frames)}
            rows = {k: min(v, rows.get(k, v)) for k, v in measured.items()}
            for name, pipelined in (("serial", False), ("pipelined", True)):
                out = tmp / f"{name}{repeat}"
                out.mkdir()
                options = VideoOptions(out_dir=out, max_frames=n, progress=False, pipelined=pipelined)
                summary = run_video(open_video(args.video), est, options, stop=threading.Event())
                run = (summary.wall_per_frame_ms, summary.inference_per_frame_ms)
                loops[name] = min(run, loops.get(name, run))  # the run with the best wall time
                people = summary.people / max(1, summary.frames)
    h, w = frames[0].shape[:2]
    print(f"{'full' if args.full else 'narrow'} COCO, {n} frames {w}x{h}, net {args.net_resolution}, "
          f"threshold {args.threshold:g}, {people:.1f} people/frame, {cv2.getNumThreads()} OpenCV threads, "
          f"best of {args.repeat}")
    for name, ms in rows.items():
        print(f"  {name:10s} {ms:8.1f} ms/frame   {ms / rows['network']:5.2f} x network")
    for name, (wall, inference) in loops.items():
        print(f"  {name:10s} {wall:8.1f} ms/frame   {wall / rows['network']:5.2f} x network   "
              f"(its own inference {inference:.1f} ms/frame, wall - inference {wall - inference:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
