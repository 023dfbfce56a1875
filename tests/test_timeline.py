"""The timeline picture: where each label's colour lands, holes, legend and crowds."""
import numpy as np

from pose.analysis.track import TrackRuns
from pose.app.timeline import LABEL_COLORS_BGR, MAX_PEOPLE_DRAWN, WIDTH, draw_timeline, tick_step

RUNS = [TrackRuns(1, [("none", 0.0, 1.5), ("hello", 1.5, 3.0), ("none", 3.0, 12.5)], [("standing", 0.0, 12.5)]),
        TrackRuns(2, [("stop", 1.0, 3.4), ("stop", 3.5, 6.0)], [("sitting", 1.0, 3.4), ("sitting", 3.5, 6.0)])]


def _where(image, label):
    """Rows and columns holding the label's exact colour."""
    mask = np.all(image == LABEL_COLORS_BGR[label], axis=2)
    return np.flatnonzero(mask.any(axis=1)), mask


def test_strips_sit_on_the_time_axis_where_the_labels_were():
    image = draw_timeline(RUNS, (0.0, 12.5), "clip.mp4")
    assert image.shape[1] == WIDTH and image.dtype == np.uint8
    rows, mask = _where(image, "standing")
    strip = rows[rows < rows.min() + 12]  # person 1's posture strip, not the legend's swatch
    cols = np.flatnonzero(mask[strip].any(axis=0))
    x0, width = cols.min(), cols.max() + 1 - cols.min()  # the whole video: the axis itself
    rows, mask = _where(image, "hello")
    hello = np.flatnonzero(mask[rows[rows < rows.min() + 12]].any(axis=0))
    assert abs((hello.min() - x0) / width - 1.5 / 12.5) < 2 / width
    assert abs((hello.max() + 1 - hello.min()) / width - 1.5 / 12.5) < 2 / width
    # person 2 went unseen from 3.4 to 3.5 s: a hole in both strips, about 9 px wide
    rows, mask = _where(image, "stop")
    stop = mask[rows[rows < rows.min() + 12]].any(axis=0)
    gap = np.flatnonzero(~stop[int(x0 + width * 3.0 / 12.5):int(x0 + width * 4.0 / 12.5)])
    assert 6 <= len(gap) <= 12
    assert rows.min() > _where(image, "standing")[0].min()  # person 2 is drawn below person 1


def test_the_legend_shows_every_label_even_unused_ones():
    image = draw_timeline(RUNS[:1], (0.0, 12.5), "clip.mp4")
    for label in ("hello", "stop", "none", "unknown", "standing", "sitting", "lying"):
        assert _where(image, label)[1].any(), label


def test_a_crowd_draws_the_people_seen_longest_and_says_so():
    crowd = [TrackRuns(k + 1, [("none", 0.0, 1.0 + k)], [("standing", 0.0, 1.0 + k)]) for k in range(MAX_PEOPLE_DRAWN + 5)]
    full = draw_timeline(crowd[-MAX_PEOPLE_DRAWN:], (0.0, 40.0), "crowd")
    cut = draw_timeline(crowd, (0.0, 40.0), "crowd")
    assert cut.shape[0] == full.shape[0] + 22  # the same strips, plus one line about the 5 left out
    assert np.array_equal(cut[60:full.shape[0] - 80], full[60:full.shape[0] - 80])


def test_no_people_and_tick_steps():
    assert draw_timeline([], (0.0, 0.5), "empty").shape[1] == WIDTH
    assert [tick_step(s) for s in (0.5, 3, 12.5, 100, 260, 3600)] == [0.1, 0.5, 2, 10, 30, 300]
