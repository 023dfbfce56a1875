"""The video loop in-process: display windows (faked), serial and pipelined agree."""
import threading

import cv2
import pytest

from pose.app.video import VideoOptions, run_video
from pose.families.openpose.estimator import PoseEstimator
from pose.families.openpose.spec import MODELS
from pose.io import display
from pose.io.inputs import open_video
from tests.support.cli_tools import leftovers, make_video, read_jsonl, video_facts
from tests.support.nets import write_model


@pytest.fixture(scope="module")
def estimator(model_dir):
    proto, weights = write_model(model_dir, MODELS["COCO"])
    return PoseEstimator("COCO", proto=proto, weights=weights, net_resolution="-1x96")


def test_q_in_the_window_ends_the_run_cleanly(tmp_path, estimator, monkeypatch):
    shown, keys = [], iter([-1, -1, ord("q")])
    monkeypatch.setattr(display, "display_available", lambda: True)
    monkeypatch.setattr(display.cv2, "imshow", lambda title, image: shown.append((title, image.shape)))
    monkeypatch.setattr(display.cv2, "waitKey", lambda delay: next(keys, -1))
    monkeypatch.setattr(display.cv2, "destroyAllWindows", lambda: None)
    source = open_video(str(make_video(tmp_path / "clip.mp4", frames=20)))
    options = VideoOptions(out_dir=tmp_path, display=True, progress=False, pipelined=False)
    summary = run_video(source, estimator, options)
    assert not summary.interrupted
    assert summary.frames == len(shown) == 3
    assert shown[0] == ("Skeleton", (64, 96, 3))
    assert video_facts(tmp_path / "clip_skeleton_COCO.mp4")[0] == 3
    assert len(read_jsonl(tmp_path / "clip_COCO.jsonl")) == 3


def test_serial_and_pipelined_runs_write_the_same_results(tmp_path, estimator):
    clip = make_video(tmp_path / "clip.mp4", frames=10)
    results = {}
    for pipelined in (False, True):
        out = tmp_path / str(pipelined)
        out.mkdir()
        options = VideoOptions(out_dir=out, progress=False, pipelined=pipelined, every=2)
        summary = run_video(open_video(str(clip)), estimator, options)
        assert (summary.frames, summary.inferred) == (10, 5)
        results[pipelined] = [(d["frame"], d["people"]) for d in read_jsonl(out / "clip_COCO.jsonl")]
        assert leftovers(out) == []
    assert results[False] == results[True]
    assert [f for f, _ in results[True]] == list(range(10))


def test_a_stop_request_finishes_the_frame_in_hand(tmp_path, estimator):
    """What Ctrl-C does (its handler sets the event): the loop ends after the current
    frame, and every frame it took is in both outputs."""
    stop = threading.Event()
    real = estimator.submit
    calls = []

    def submit_then_stop(frame, tag):
        calls.append(1)
        if len(calls) == 4:
            stop.set()  # arrives while the 4th frame is being processed
        return real(frame, tag)

    estimator.submit = submit_then_stop
    try:
        source = open_video(str(make_video(tmp_path / "clip.mp4", frames=30)))
        options = VideoOptions(out_dir=tmp_path, progress=False)
        summary = run_video(source, estimator, options, stop=stop)
    finally:
        del estimator.submit
    assert summary.interrupted and summary.frames == 4
    assert len(read_jsonl(tmp_path / "clip_COCO.jsonl")) == 4
    assert cv2.VideoCapture(str(tmp_path / "clip_skeleton_COCO.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) == 4
