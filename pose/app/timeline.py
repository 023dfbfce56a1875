"""A picture of a video's people over time: `<stem>_timeline_<MODE>.png` beside its
skeleton video.

One block per tracked person with two strips, gesture above posture, coloured by the
smoothed label; a hole in a strip is time the person was not seen. A time axis in
seconds and a legend close the picture. Drawn with OpenCV, which the project already
has: a plotting library would add a large dependency for a few rectangles and labels.
"""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from pose.analysis.classify import GESTURES, POSTURES
from pose.analysis.track import TrackRuns
from pose.app.video import VideoSummary

# Tableau-like colours, BGR. "none" (no gesture) and "unknown" stay quiet so the
# labels that say something stand out.
LABEL_COLORS_BGR: Dict[str, Tuple[int, int, int]] = {
    "hello": (43, 142, 242),  # orange
    "stop": (89, 87, 225),  # red
    "none": (225, 207, 190),  # pale blue
    "standing": (167, 121, 78),  # blue
    "sitting": (79, 161, 89),  # green
    "lying": (161, 122, 176),  # purple
    "unknown": (228, 228, 228),  # light grey
}
MAX_PEOPLE_DRAWN = 30  # the longest-seen; a crowd's brief false tracks would drown them
WIDTH = 1200
SUPERSAMPLE = 2  # drawn at twice the size and shrunk: smoother text and edges

_BACKGROUND = (255, 255, 255)
_INK = (60, 60, 60)
_FAINT = (150, 150, 150)
_GRID = (235, 235, 235)
_FONT = cv2.FONT_HERSHEY_DUPLEX
_TICK_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_MAX_TICKS = 12


def tick_step(duration: float) -> float:
    """The smallest round step that puts at most _MAX_TICKS ticks on the axis."""
    return next((s for s in _TICK_STEPS if duration / s <= _MAX_TICKS), _TICK_STEPS[-1])


def _tick_label(t: float, step: float) -> str:
    if step >= 60:
        return f"{int(t // 60)}:{int(t % 60):02d}"
    return f"{t:.1f} s" if step < 1 else f"{t:g} s"


def _seen_s(track: TrackRuns) -> float:
    return sum(b - a for _, a, b in track.posture)


class _Canvas:
    """Drawing in picture pixels on a SUPERSAMPLE-times larger image."""

    def __init__(self, width: int, height: int):
        self.k = SUPERSAMPLE
        self.image = np.full((height * self.k, width * self.k, 3), _BACKGROUND, np.uint8)

    def box(self, x0: float, y0: float, x1: float, y1: float, color: tuple) -> None:
        k = self.k
        cv2.rectangle(self.image, (int(round(x0 * k)), int(round(y0 * k))),
                      (max(int(round(x1 * k)) - 1, int(round(x0 * k))), int(round(y1 * k)) - 1), color, -1)

    def line(self, p0: tuple, p1: tuple, color: tuple, width: float = 1) -> None:
        k = self.k
        cv2.line(self.image, (int(p0[0] * k), int(p0[1] * k)), (int(p1[0] * k), int(p1[1] * k)), color,
                 max(1, int(round(width * k))), cv2.LINE_AA)

    def text_size(self, text: str, size: float) -> Tuple[float, float]:
        (w, h), _ = cv2.getTextSize(text, _FONT, size * self.k, self.k)
        return w / self.k, h / self.k

    def text(self, text: str, x: float, y: float, size: float = 0.5, color: tuple = _INK,
             align: str = "left") -> None:
        """`y` is the text's baseline; `align` left, right or centre on `x`."""
        w, _ = self.text_size(text, size)
        x = x - w if align == "right" else x - w / 2 if align == "centre" else x
        cv2.putText(self.image, text, (int(x * self.k), int(y * self.k)), _FONT, size * self.k, color,
                    self.k, cv2.LINE_AA)

    def result(self) -> np.ndarray:
        h, w = self.image.shape[:2]
        return cv2.resize(self.image, (w // self.k, h // self.k), interpolation=cv2.INTER_AREA)


def shown_runs(runs: Sequence[TrackRuns]) -> List[TrackRuns]:
    """The people the picture shows (the MAX_PEOPLE_DRAWN seen longest), by track id; the
    video tool prints the same ones."""
    return sorted(sorted(runs, key=_seen_s, reverse=True)[:MAX_PEOPLE_DRAWN], key=lambda tr: tr.track_id)


def draw_timeline(runs: Sequence[TrackRuns], span_s: Tuple[float, float], title: str,
                  width: int = WIDTH) -> np.ndarray:
    """The picture (BGR) of `runs` over the video time `span_s` (start, end seconds)."""
    start, end = span_s
    end = max(end, start + 1e-3, *(b for tr in runs for _, _, b in tr.posture + tr.gesture))
    shown = shown_runs(runs)
    left, right, top = 190, 30, 64
    strip, gap, block = 16, 3, 48  # strip height, gesture-posture gap, one person's height
    rows = max(1, len(shown))
    axis_y = top + rows * block + 4
    legend_y = axis_y + 48
    height = legend_y + 64 + (22 if len(runs) > len(shown) else 0)
    c = _Canvas(width, height)
    x_of = lambda t: left + (width - left - right) * (t - start) / (end - start)

    while c.text_size(title, 0.66)[0] > width - 32 and len(title) > 4:  # a long path: keep its end
        title = "..." + title[4:]
    c.text(title, 16, 30, 0.66)
    c.line((16, 44), (width - right, 44), _GRID, 1)
    step = tick_step(end - start)
    ticks = [t for t in (step * i for i in range(math.ceil(start / step), int(end / step) + 1))
             if start - 1e-9 <= t <= end + 1e-9]
    for t in ticks:  # grid behind the strips
        c.line((x_of(t), top - 6), (x_of(t), axis_y), _GRID, 1)
    if not shown:
        c.text("no people found", (left + width - right) / 2, top + block / 2 + 4, 0.55, _FAINT, "centre")
    for row, track in enumerate(shown):
        y = top + row * block
        c.text(f"person {track.track_id}", 16, y + strip + 6, 0.55)
        for k, (name, column) in enumerate((("gesture", track.gesture), ("posture", track.posture))):
            y0 = y + k * (strip + gap)
            c.text(name, left - 10, y0 + strip - 4, 0.4, _FAINT, "right")
            c.line((left, y0 + strip / 2), (width - right, y0 + strip / 2), _GRID, 1)  # never seen: a faint line
            for label, a, b in column:
                c.box(x_of(a), y0, max(x_of(b), x_of(a) + 1), y0 + strip, LABEL_COLORS_BGR.get(label, _FAINT))

    c.line((left, axis_y), (width - right, axis_y), _FAINT, 1)
    for t in ticks:
        c.line((x_of(t), axis_y), (x_of(t), axis_y + 5), _FAINT, 1)
        c.text(_tick_label(t, step), x_of(t), axis_y + 22, 0.42, _INK, "centre")

    for k, (name, labels) in enumerate((("gesture", GESTURES), ("posture", POSTURES))):
        y = legend_y + k * 26
        c.text(name, left - 10, y + 12, 0.42, _FAINT, "right")
        x = left
        for label in labels:
            c.box(x, y, x + 22, y + 14, LABEL_COLORS_BGR[label])
            c.text(label, x + 30, y + 12, 0.45)
            x += 40 + c.text_size(label, 0.45)[0] + 22
    if len(runs) > len(shown):
        c.text(f"{len(runs) - len(shown)} more people seen for less time are not drawn "
               f"(the {MAX_PEOPLE_DRAWN} seen longest are)", 16, height - 14, 0.42, _FAINT)
    return c.result()


def video_timeline(summary: VideoSummary, name: str, mode: str) -> np.ndarray:
    """A finished video's picture; `name` is the video as the user knows it (the heading).
    run_video takes it as VideoOptions.timeline and commits it with the other outputs."""
    people = len(summary.runs)
    seconds = summary.span_s[1] - summary.span_s[0]
    title = f"{name}   {mode}   {seconds:.1f} s   {people} {'person' if people == 1 else 'people'}"
    return draw_timeline(summary.runs, summary.span_s, title)

