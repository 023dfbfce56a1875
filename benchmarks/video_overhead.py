"""The video tool's wall time per frame against the network's own, in one process.

The issue's target (#10): a video's wall time per frame within 5% of the network's time.
Both are measured here on the same warm estimator, the runs interleaved and repeated:

  network  the frames (in memory) streamed through estimator.submit/collect exactly as
           the tool keeps them in flight: preprocessing + inference, nothing else
  tool     pose.app.video.run_video on the same frames as a video file: reading, the
           network, decoding, tracking and classifying, drawing, encoding and the JSON
           Lines file, with the tool's threads (what get_hpe_video.py runs after loading)

for the engine's latency mode (one frame at a time) and its throughput mode (several
in flight), and for two kinds of content, as a random-weight network cannot show people:

  people   the network runs for real on every frame, but the tool decodes maps rendered
           from 10 annotated people (a crowd drifting across the frame) instead of its
           output: the post-processing load of a real crowd
  noise    the tool decodes the random-weight network's own output at --threshold 0.6
           (13 "people" and ~1300 candidate limbs a frame: a worst case, not content)

    python -m benchmarks.video_overhead --frames 60 --repeat 3
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

from benchmarks.common import SIZE, VIDEO_THRESHOLD

CROWD = 10


class RenderedPeople:
    """An estimator whose network runs for real but whose decoder is handed maps
    rendered from a crowd of annotated people, frame k of the video getting map k
    (mod the number rendered)."""

    def __init__(self, estimator, maps: List[np.ndarray]):
        self._estimator, self._maps, self._next = estimator, maps, 0

    def __getattr__(self, name):
        return getattr(self._estimator, name)

    def people_from(self, outputs, image=None):
        from pose.families.openpose.people import NetOutput
        maps = self._maps[self._next % len(self._maps)]
        self._next += 1
        return self._estimator.people_from([NetOutput(maps, outputs[0].geometry)], image)


def crowd_maps(spec, geometry, frames: int, seed: int = 0) -> List[np.ndarray]:
    """Maps of one crowd of CROWD annotated people drifting 2 px a frame, `frames` of them."""
    from tests.support.annotations import load_all
    from tests.support.crowd import compose_crowd, people_pool
    from tests.support.render_fields import render_output
    pool = people_pool(load_all(), spec.name)
    crowd = compose_crowd(pool, CROWD, geometry.image_size, np.random.default_rng(seed))
    out = []
    for k in range(frames):
        moved = []
        for person in crowd:
            p = person.copy()
            seen = p[:, 2] > 0
            p[seen, 0] += 2 * k - frames  # left to right through the middle of the frame
            moved.append(p)
        out.append(render_output(moved, spec, geometry))
    return out


def stream(estimator, frames: List[np.ndarray]) -> float:
    """Seconds per frame of the network alone, frames kept in flight as the tool keeps them."""
    t0 = time.perf_counter()
    for k, frame in enumerate(frames):
        estimator.submit(frame, k)
        estimator.collect()
    estimator.collect(wait=True)
    return (time.perf_counter() - t0) / len(frames)


def tool(estimator, video: Path, out: Path) -> tuple:
    """(seconds per frame, people per frame) of the video tool's loop on `video`."""
    from pose.app.video import VideoOptions, run_video
    from pose.io.inputs import open_video
    out.mkdir(parents=True, exist_ok=True)
    summary = run_video(open_video(str(video)), estimator, VideoOptions(out_dir=out, progress=False),
                        stop=threading.Event())
    return summary.wall_s / summary.frames, summary.people / summary.frames


def measure(weights: Path, frames: int, repeat: int, model: str = "COCO", say=print) -> Dict:
    """Medians over `repeat` interleaved rounds: {mode: {"network": s, content: (s, people)}}."""
    from benchmarks.common import sample_image, synthetic_video
    from pose.families.openpose.estimator import PoseEstimator
    from pose.families.openpose.people import DecodeOptions
    estimators = {mode: PoseEstimator(model, weights=weights, net_resolution=f"-1x{SIZE}",
                                      decode_options=DecodeOptions(threshold=VIDEO_THRESHOLD),
                                      throughput=(mode == "throughput"))
                  for mode in ("latency", "throughput")}
    any_est = estimators["latency"]
    image = sample_image()
    images = [np.roll(image, 4 * i, axis=1) for i in range(frames)]  # the video's frames
    geometry = any_est.forward(images[0]).geometry
    maps = crowd_maps(any_est.spec, geometry, frames)
    times: Dict[str, Dict[str, list]] = {m: {"network": [], "people": [], "noise": []} for m in estimators}
    found: Dict[str, list] = {"people": [], "noise": []}
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "in.avi"
        synthetic_video(video, frames)
        for est in estimators.values():  # warm-up: first-call allocations, the tool's imports
            stream(est, images[:4])
            tool(est, video, Path(tmp) / "warm")
        for r in range(repeat):
            for mode, est in estimators.items():
                times[mode]["network"].append(stream(est, images))
                for content, runner in (("people", RenderedPeople(est, maps)), ("noise", est)):
                    seconds, people = tool(runner, video, Path(tmp) / f"{mode}{r}{content}")
                    times[mode][content].append(seconds)
                    found[content].append(people)
                say(f"round {r + 1} {mode}: " + ", ".join(f"{k} {1000 * v[-1]:.1f} ms" for k, v in times[mode].items()))
    result = {"engine": any_est.engine_label, "frames": frames, "repeat": repeat,
              "people": {k: statistics.mean(v) for k, v in found.items()}}
    for mode, rows in times.items():
        result[mode] = {k: statistics.median(v) for k, v in rows.items()}
        result[mode]["label"] = estimators[mode].engine_label
    return result


def table(result: Dict) -> List[str]:
    """Markdown rows: each mode's network and tool times, the tool against its own mode's
    network and against the faster mode's."""
    best = min(result[m]["network"] for m in ("latency", "throughput"))
    lines = ["| mode | content | network ms / frame | tool ms / frame | vs its network | vs the faster network |",
             "| --- | --- | --- | --- | --- | --- |"]
    for mode in ("latency", "throughput"):
        row = result[mode]
        for content in ("people", "noise"):
            what = (f"{CROWD} annotated people ({result['people']['people']:.1f} found)" if content == "people"
                    else f"random-weight maps ({result['people']['noise']:.1f} \"people\")")
            lines.append(f"| {mode} | {what} | {1000 * row['network']:.1f} | {1000 * row[content]:.1f} | "
                         f"{100 * (row[content] / row['network'] - 1):+.1f}% | {100 * (row[content] / best - 1):+.1f}% |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames of the synthetic video (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; medians are reported (default 3)")
    args = parser.parse_args()
    from benchmarks.common import full_size_weights, machine
    result = measure(full_size_weights(), args.frames, args.repeat)
    print(f"{machine()}; {result['engine']}; {args.frames} frames {SIZE}x{SIZE}, medians of {args.repeat}")
    print("\n".join(table(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
