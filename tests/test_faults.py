"""Faults: full disks, concurrent runs, signals, hostile files and options, API misuse.

Each test is a case a hostile or careless user tried (issue 13): one line on stderr, the
documented exit code, no traceback, nothing half-written under a final name, no hang,
bounded memory. The tools run as real processes where the fault is about processes
(signals, races, pipes); tiny videos and narrow nets keep each run near a second.
"""
from __future__ import annotations

import errno
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

import pose
from pose.cli import parse_args
from pose.core import files
from pose.core.arguments import parse_float, parse_int
from pose.core.errors import InputError, OutputError
from pose.core.image import check_image
from pose.families.openpose.preprocess import MAX_NET_PIXELS, compute_geometry, parse_net_resolution
from pose.families.openpose.spec import MODELS
from pose.io import writers as output
from pose.io.inputs import open_video, read_image
from tests.support.cli_tools import (
    FAST,
    assert_one_line_error,
    leftovers,
    load_json,
    make_image,
    make_video,
    read_jsonl,
    run_tool,
    start_tool,
    video_facts,
    wait_until,
)
from tests.support.nets import write_model
from tests.support.streams import StallingVideoServer

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals, FIFOs and flock")


def _video_outputs(out: Path, stem: str = "clip"):
    folder = out / "videos" / "COCO"
    return folder / f"{stem}_skeleton_COCO.mp4", folder / f"{stem}_COCO.jsonl"


def _lines_written(out: Path) -> int:
    """JSON Lines a running video tool has flushed so far (its temporary file)."""
    tmp = next(out.glob("**/*.tmp-*.jsonl"), None)
    try:
        return tmp.read_text().count("\n") if tmp else 0
    except FileNotFoundError:  # renamed or removed meanwhile
        return 0


# ================================================================ 1. write errors

def test_full_disk_video_without_json_fails_and_leaves_nothing(tmp_path, small_disk, coco):
    """The issue's case: exit 0 and a truncated mp4 under its final name, before."""
    clip = make_video(tmp_path / "clip.mp4", frames=24, size=(160, 120))
    out = small_disk / "v"
    r = run_tool("video", "--video_file", clip, "--output_dir", out, "--no_json", "--quiet", *FAST, *coco)
    assert_one_line_error(r, 1, "cannot write video", "clip_skeleton_COCO.mp4", "no space left on device")
    assert not r.stdout.startswith("done")
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_full_disk_images_fail_with_only_whole_files(tmp_path, small_disk, coco):
    images = [make_image(tmp_path / f"p{k}.png", size=(320, 240), seed=k) for k in range(3)]
    out = small_disk / "i"
    r = run_tool("image", "--image_file", *images, "--output_dir", out, "--quiet", *FAST, *coco)
    assert_one_line_error(r, 1, "cannot write", "No space left on device")
    written = [p for p in out.rglob("*") if p.is_file()]
    assert leftovers(out) == []
    for path in written:  # whatever has a final name is complete
        if path.suffix == ".json":
            assert load_json(path)["image_size"] == [320, 240]
        else:
            assert cv2.imread(str(path)).shape == (240, 320, 3)


_VideoWriter = cv2.VideoWriter


class _DroppingWriter:
    """cv2.VideoWriter as it behaves on a full disk: writes 'succeed', frames are lost."""

    def __init__(self, *args, keep: int = 3):
        self._real = _VideoWriter(*args)
        self._keep = keep

    def isOpened(self):
        return self._real.isOpened()

    def write(self, frame):
        if self._keep:
            self._keep -= 1
            self._real.write(frame)

    def release(self):
        self._real.release()


def test_video_frames_lost_by_the_writer_are_an_output_error(tmp_path, monkeypatch):
    monkeypatch.setattr(output.cv2, "VideoWriter", _DroppingWriter)
    w = output.VideoFileWriter(tmp_path / "v.mp4", 10, (48, 32))
    for k in range(6):
        w.write(np.full((32, 48, 3), 40 * k, np.uint8))
    with pytest.raises(OutputError, match="v.mp4: the file holds 3 of the 6 frames written"):
        w.commit()
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_video_on_a_full_disk_is_named_so(tmp_path, monkeypatch):
    real_close = output.VideoFileWriter._close

    def close_then_lose_the_tail(self):
        real_close(self)
        with open(self.tmp, "r+b") as f:  # what ENOSPC leaves: no index at the end
            f.truncate(self.tmp.stat().st_size // 2)

    monkeypatch.setattr(output.VideoFileWriter, "_close", close_then_lose_the_tail)
    monkeypatch.setattr(output.os, "statvfs", lambda path: os.statvfs_result((4096, 4096, 100, 0, 0, 10, 0, 0, 0, 255)))
    w = output.VideoFileWriter(tmp_path / "v.mp4", 10, (48, 32))
    for k in range(6):
        w.write(np.random.default_rng(k).integers(0, 256, (32, 48, 3), np.uint8))
    with pytest.raises(OutputError, match=r"cannot write video .*v.mp4: no space left on device \(the file"):
        w.commit()
    assert list(tmp_path.iterdir()) == []


def test_jsonl_whose_bytes_never_reach_the_disk_is_an_output_error(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    writer = output.JsonLinesWriter(tmp_path / "a.jsonl")
    writer.write({"frame": 0})
    monkeypatch.setattr(output.os, "fsync", full)
    with pytest.raises(OutputError, match="a.jsonl: No space left on device"):
        writer.commit()
    assert list(tmp_path.iterdir()) == []


def test_image_write_error_on_close_is_an_output_error(tmp_path, monkeypatch):
    class FullFile:
        def __init__(self, path, mode):
            self._f = open(path, mode)

        def __enter__(self):
            return self

        def write(self, data):
            self._f.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __exit__(self, *exc):
            self._f.close()

    monkeypatch.setattr(files, "open", FullFile, raising=False)
    with pytest.raises(OutputError, match="a.jpg: No space left on device"):
        output.write_image(tmp_path / "a.jpg", np.zeros((8, 8, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


# ================================================================ 2. runs sharing outputs

@posix_only
def test_second_run_on_the_same_output_is_refused_and_a_killed_runs_leftovers_are_cleaned(tmp_path, coco):
    """The issue's case: two runs whose inputs share a stem, into one folder, wrote each
    other's files. Now the second is refused in one line; after the first is killed
    (SIGKILL: no cleanup at all), the next run deletes its temporaries."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first = make_video(tmp_path / "a" / "clip.mp4", frames=300, size=(64, 48))
    second = make_video(tmp_path / "b" / "clip.mp4", frames=5, size=(80, 64))
    out = tmp_path / "out"
    video, jsonl = _video_outputs(out)
    running = start_tool("video", "--video_file", first, "--output_dir", out, "--quiet", *FAST, *coco)
    try:
        assert wait_until(lambda: _lines_written(out) >= 2 or running.poll() is not None)
        assert running.poll() is None, running.communicate()
        refused = run_tool("video", "--video_file", second, "--output_dir", out, "--quiet", *FAST, *coco)
        assert_one_line_error(refused, 1, f"another run (process {running.pid}) is writing",
                              "clip_skeleton_COCO.mp4", "--output_dir")
        running.kill()
        running.wait(timeout=30)
    finally:
        if running.poll() is None:
            running.kill()
    left = leftovers(out)
    assert len(left) == 2 and not video.exists()  # the killed run's .tmp-*.mp4 and .tmp-*.jsonl
    assert files.lock_path(video).exists()  # its lock file too, no longer locked by anyone

    again = run_tool("video", "--video_file", second, "--output_dir", out, "--quiet", *FAST, *coco)
    assert again.returncode == 0, again.stderr
    assert leftovers(out) == [] and not files.lock_path(video).exists()
    assert video_facts(video)[0] == 5 and video_facts(video)[2] == (80, 64)
    assert [d["image_size"] for d in read_jsonl(jsonl)] == [[80, 64]] * 5


@posix_only
def test_image_outputs_wait_for_the_run_writing_them(tmp_path, coco):
    image = make_image(tmp_path / "x.png")
    out = tmp_path / "out"
    skeleton = out / "images" / "COCO" / "x-Skeleton-COCO.jpg"
    skeleton.parent.mkdir(parents=True)
    holder = files.FileLock(out / "images" / "COCO" / "x-Keypoints-COCO.jpg").acquire()
    try:
        run = start_tool("image", "--image_file", image, "--output_dir", out, "--quiet", *FAST, *coco)
        # A run alone takes about a second here; it is held back as long as the lock is.
        assert not wait_until(lambda: run.poll() is not None, timeout=4)
        assert not skeleton.exists()
    finally:
        holder.release()
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 0, stderr
    assert skeleton.exists() and stdout.startswith("done: 1 image")


def test_file_lock_names_its_holder_and_a_dead_holder_never_blocks(tmp_path):
    target = tmp_path / "x.mp4"
    files.lock_path(target).write_text("999999\n")  # left by a run that was killed
    lock = files.FileLock(target).acquire()
    assert files.lock_path(target).read_text() == f"{os.getpid()}\n"
    with pytest.raises(files.Busy) as busy:  # a second open file description is another holder
        files.FileLock(target).acquire(timeout=0.1)
    assert busy.value.pid == os.getpid()
    with pytest.raises(OutputError, match=f"another run \\(process {os.getpid()}\\) is writing .*x.mp4"):
        output.claim_outputs([target])
    lock.release()
    assert not files.lock_path(target).exists()
    output.claim_outputs([target]).release()


def test_only_this_outputs_stale_temporaries_are_removed(tmp_path):
    target = tmp_path / "clip_COCO.jsonl"
    stale = [tmp_path / "clip_COCO.tmp-abcd_123.jsonl", tmp_path / "clip_COCO.tmp-k3j9x0qz.jsonl"]
    kept = [tmp_path / "clip_COCO.tmp-abcd_123.mp4", tmp_path / "other_COCO.tmp-abcd_123.jsonl",
            tmp_path / "clip_COCO.jsonl", tmp_path / "clip_COCO.tmp-short.jsonl"]
    for path in stale + kept:
        path.write_text("x")
    assert sorted(files.remove_stale_temps(target)) == sorted(stale)
    assert sorted(tmp_path.iterdir()) == sorted(kept)


# ================================================================ 3. signals

@posix_only
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (getattr(signal, "SIGHUP", signal.SIGTERM), 129)])
def test_sigterm_mid_video_closes_shorter_valid_outputs_and_exits_143(tmp_path, coco, sig, code):
    """SIGHUP too (issue 24: it killed the run at once, temporaries left)."""
    clip = make_video(tmp_path / "clip.mp4", frames=400, size=(64, 48))
    out = tmp_path / "out"
    video, jsonl = _video_outputs(out)
    run = start_tool("video", "--video_file", clip, "--output_dir", out, "--quiet", *FAST, *coco)
    assert wait_until(lambda: _lines_written(out) >= 3 or run.poll() is not None)
    assert run.poll() is None, "the run ended before it could be terminated"
    run.send_signal(sig)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == code, stderr
    assert "Traceback" not in stderr and stdout.startswith("interrupted: ")
    lines = read_jsonl(jsonl)
    assert 3 <= len(lines) < 400 and video_facts(video)[0] == len(lines)
    assert [d["frame"] for d in lines] == list(range(len(lines)))
    assert leftovers(out) == [] and not files.lock_path(video).exists()


@posix_only
def test_sigterm_stops_the_image_tool_after_the_image_in_hand(tmp_path, coco):
    folder = tmp_path / "in"
    for k in range(40):
        make_image(folder / f"p{k:02}.png", seed=k % 4)
    out = tmp_path / "out"

    def finished() -> list:
        return [p for p in out.rglob("*.json") if ".tmp-" not in p.name]

    run = start_tool("image", "--image_file", folder, "--output_dir", out, "--quiet", *FAST, *coco)
    assert wait_until(lambda: finished() or run.poll() is not None)
    run.send_signal(signal.SIGTERM)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 143, stderr
    assert stderr == "" and stdout.startswith("interrupted: ")
    done = sorted(finished())
    assert 1 <= len(done) < 40 and leftovers(out) == []
    assert stdout.startswith(f"interrupted: {len(done)} image{'s' if len(done) > 1 else ''}, ")
    for json_path in done:  # every image begun was finished: its three files, whole
        assert load_json(json_path)["image_size"] == [96, 72]
        for view in ("Keypoints", "Skeleton"):
            stem = json_path.name[:-len("-COCO.json")]
            assert cv2.imread(str(json_path.with_name(f"{stem}-{view}-COCO.jpg"))).shape == (72, 96, 3)


@pytest.fixture
def noise_video(tmp_path) -> Path:
    """A 340 KB mp4 (noise compresses badly): big enough that FFmpeg fetches its index
    with a Range request instead of reading the whole file first."""
    path = tmp_path / "noise.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 12, (160, 120))
    rng = np.random.default_rng(0)
    for _ in range(60):
        writer.write(rng.integers(0, 256, (120, 160, 3), np.uint8))
    writer.release()
    return path


@posix_only
def test_ctrl_c_while_a_stream_stalls_stops_at_once(tmp_path, coco, noise_video):
    """Before: the reader sat in FFmpeg until its 30 s read timeout, and so did Ctrl-C."""
    server = StallingVideoServer(noise_video, stall_at=noise_video.stat().st_size // 3)
    out = tmp_path / "out"
    try:
        run = start_tool("video", "--video_file", server.url, "--output_dir", out, "--quiet", "--max_people", 1,
                         *FAST, *coco)
        seen = []

        def stalled() -> bool:  # frames were written, then none for a second
            seen.append((time.monotonic(), _lines_written(out)))
            recent = [n for t, n in seen if t > seen[-1][0] - 1.0]
            return run.poll() is not None or (seen[-1][1] > 0 and seen[0][0] < seen[-1][0] - 1.0
                                              and min(recent) == max(recent))
        assert wait_until(stalled, timeout=60, every=0.05)
        assert run.poll() is None, run.communicate()
        signalled = time.monotonic()
        run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=60)
        stopped_in = time.monotonic() - signalled
    finally:
        server.close()
    assert run.returncode == 130, stderr
    # About a second on an idle machine; FFmpeg's read timeout alone was 30 s. The margin
    # is for a machine shared with other work.
    assert stopped_in < 8, stopped_in
    assert stdout.startswith("interrupted: ")
    video, jsonl = _video_outputs(out)
    assert video_facts(video)[0] == len(read_jsonl(jsonl)) >= 1
    assert leftovers(out) == []


@posix_only
def test_sigterm_while_opening_a_stalled_stream_stops_at_once(tmp_path, coco, noise_video):
    server = StallingVideoServer(noise_video, stall_at=0)  # headers, then nothing
    try:
        run = start_tool("video", "--video_file", server.url, "--output_dir", tmp_path, *FAST, *coco)
        assert wait_until(lambda: server.requests, timeout=30)
        time.sleep(0.5)
        assert run.poll() is None
        signalled = time.monotonic()
        run.send_signal(signal.SIGTERM)
        stdout, stderr = run.communicate(timeout=60)
        stopped_in = time.monotonic() - signalled
    finally:
        server.close()
    assert run.returncode == 143 and stderr == "get_hpe_video.py: error: terminated\n"
    assert stopped_in < 8, stopped_in  # under a second idle; before, FFmpeg's 30 s timeout


def test_a_stream_that_sends_no_frame_times_out(noise_video):
    server = StallingVideoServer(noise_video, stall_at=0)
    try:
        started = time.monotonic()
        with pytest.raises(InputError, match=r"no frame within 1 s \(the source stalled\)"):
            open_video(server.url, timeout=1.0)
        assert time.monotonic() - started < 3
    finally:
        server.close()


@posix_only
def test_a_closed_stdout_ends_the_tool_quietly(tmp_path, coco):
    """`get_hpe_image.py ... | head -0`: no 'unexpected BrokenPipeError', no traceback."""
    image = make_image(tmp_path / "x.png")
    run = start_tool("image", "--image_file", image, "--output_dir", tmp_path / "out", *FAST, *coco)
    run.stdout.close()  # the reader went away before the tool printed anything
    stderr = run.stderr.read()
    assert run.wait(timeout=60) == 141
    assert stderr == ""


# ================================================================ 4. non-regular and unbounded inputs

def _png_declaring(width: int, height: int) -> bytes:
    """A valid, tiny PNG whose header declares width x height RGB pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@posix_only
def test_unreadable_kinds_of_image_are_refused_without_blocking(tmp_path, coco):
    """A FIFO without a writer blocked forever; /dev/zero was read until memory ran out;
    an 850 KB PNG of 300 megapixels was decoded with a 1.8 GB peak (this one only
    declares them: the refusal comes from its header)."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_declaring(20000, 15000))
    huge = tmp_path / "huge.jpg"
    with open(huge, "wb") as f:
        f.truncate(3 << 30)  # sparse: 3 GiB that take no space
    good = make_image(tmp_path / "good.png")
    out = tmp_path / "out"
    r = run_tool("image", "--image_file", fifo, "/dev/zero", bomb, huge, good, "--output_dir", out,
                 "--quiet", *FAST, *coco, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.splitlines() == [
        f"error: {fifo}: a named pipe (FIFO), not an image file",
        "error: /dev/zero: a character device, not an image file",
        f"error: {bomb}: 20000x15000 pixels is too large (300 megapixels; at most 250)",
        f"error: {huge}: too large for an image (3072 MiB; at most 1024 MiB)",
    ]
    assert r.stdout.startswith("done: 1 image, 4 failed")


@posix_only
def test_a_fifo_as_video_is_refused(tmp_path, coco):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    r = run_tool("video", "--video_file", fifo, "--output_dir", tmp_path, *coco, timeout=60)
    assert_one_line_error(r, 1, "pipe.mp4: a named pipe (FIFO), not a video file")


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    assert cv2.imwrite(str(path), np.zeros((1000, 2000, 3), np.uint8))  # 6 MB of pixels in 8 KB
    assert path.stat().st_size < 20_000
    monkeypatch.setattr("pose.io.inputs.MAX_IMAGE_PIXELS", 1_000_000)

    def never(*args):
        raise AssertionError("decoded")

    monkeypatch.setattr("pose.io.inputs.cv2.imdecode", never)
    with pytest.raises(InputError, match="bomb.png: 2000x1000 pixels is too large"):
        read_image(path)


def test_image_bounds_apply_to_the_decoded_size_too(tmp_path, monkeypatch):
    """Formats whose header is not read are checked once decoded."""
    path = tmp_path / "x.png"
    assert cv2.imwrite(str(path), np.zeros((30, 40, 3), np.uint8))
    monkeypatch.setattr("pose.io.inputs.declared_size", lambda data: None)
    monkeypatch.setattr("pose.io.inputs.MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(InputError, match=r"x.png: 40x30 pixels is too large"):
        read_image(path)


def test_an_extreme_aspect_ratio_is_capped_to_a_bounded_net_input():
    """-1x368 follows the aspect ratio: a 100:1 strip would ask for a 36800x368 input."""
    geometry = compute_geometry((100_000, 1000), parse_net_resolution("-1x368"))
    w, h = geometry.input_size
    assert h == 368 and w * h <= MAX_NET_PIXELS and w % 8 == 0
    assert geometry.resized_size[0] <= w and geometry.resized_size[1] < 368  # scaled down, padded
    assert compute_geometry((1000, 100_000), parse_net_resolution("368x-1")).input_size[1] * 368 <= MAX_NET_PIXELS
    # Ordinary images are untouched
    assert compute_geometry((1920, 1080), parse_net_resolution("-1x368")).input_size == (656, 368)


# ================================================================ 5. numeric options

IMAGE_OPTIONS = [  # (option, bad value, what the message says)
    ("--threshold", "nan", "between 0 and 1"), ("--threshold", "inf", "between 0 and 1"),
    ("--threshold", "-0", "between 0 and 1"), ("--threshold", "1e999", "between 0 and 1"),
    ("--max_people", "0", "at least 1"), ("--max_people", "99999999999", "at most 2147483647"),
    ("--max_people", "nan", "whole number"), ("--max_people", "1e3", "whole number"),
    ("--stages", "nan", "whole number"), ("--stages", "1e9", "whole number"), ("--stages", "99", "stages must be"),
    ("--stages", "-0", "stages must be"),
    ("--scales", "nan", "scales must be"), ("--scales", "inf", "scales must be"), ("--scales", "-0", "scales must be"),
    ("--scales", "1e999", "scales must be"), ("--scales", "1,1e-400", "scales must be"),
    ("--net_resolution", "99999999992x368", "network input"), ("--net_resolution", "4096x4096", "network input"),
    ("--net_resolution", "-1x2056", "for a square image"),
]
VIDEO_OPTIONS = [
    ("--start_frame", "-1", "at least 0"), ("--start_frame", "nan", "whole number"),
    ("--start_frame", "99999999999", "at most 2147483647"), ("--max_frames", "0", "at least 1"),
    ("--max_frames", "inf", "whole number"), ("--max_frames", str(10**30), "at most 2147483647"),
    ("--every", "-0", "at least 1"), ("--every", "1e999", "whole number"), ("--every", str(2**31), "at most"),
]


@pytest.mark.parametrize("tool, option, value, why",
                         [("image", *case) for case in IMAGE_OPTIONS] + [("video", *case) for case in IMAGE_OPTIONS[:4]]
                         + [("video", *case) for case in VIDEO_OPTIONS])
def test_every_numeric_option_of_the_tools_is_finite_and_in_range(tool, option, value, why, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(tool, [f"{option}={value}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option.split("_")[0] in err and why in err, err


def test_net_resolution_times_the_largest_scale_is_bounded(capsys):
    assert parse_args("image", ["--net_resolution", "-1x1024", "--scales", "2,1"]).scales == (2.0, 1.0)
    with pytest.raises(SystemExit):
        parse_args("image", ["--net_resolution", "-1x1024", "--scales", "2.5,1"])
    assert "at scale 2.5 for a square image asks for a 2560x2560 network input" in capsys.readouterr().err
    with pytest.raises(ValueError, match="network input"):
        pose.PoseEstimator("COCO", net_resolution="1440x1440", scales=(1.5,))


def test_a_bad_option_is_one_line_from_the_real_tool():
    r = run_tool("video", "--every", "inf")
    assert_one_line_error(r, 2, "--every", "expected a whole number, got 'inf'")


DOWNLOAD_OPTIONS = [
    ("--read-timeout", "nan", "finite"), ("--read-timeout", "inf", "finite"), ("--read-timeout", "0", "more than 0"),
    ("--read-timeout", "-0", "more than 0"), ("--read-timeout", "1e300", "at most 3600 s"),
    ("--connect-timeout", "inf", "finite"), ("--connect-timeout", "nan", "finite"),
    ("--connect-timeout", "-1", "more than 0"), ("--connect-timeout", "x", "expected a number"),
    ("--backoff", "inf", "finite"), ("--backoff", "nan", "finite"), ("--backoff", "-1", "at least 0"),
    ("--backoff", "1e300", "at most 60 s"),
    ("--retries", "0", "at least 1"), ("--retries", str(10**30), "at most 30"), ("--retries", "nan", "whole number"),
    ("--retries", "2.5", "whole number"),
]


@pytest.mark.parametrize("option, value, why", DOWNLOAD_OPTIONS)
def test_every_numeric_option_of_getmodels_is_finite_and_in_range(option, value, why, capsys):
    from pose.download.cli import main

    assert main([f"{option}={value}", "--verify"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option in err and why in err, err


def test_getmodels_script_refuses_nan_in_one_line():
    """The issue's case: `ValueError: Invalid value NaN` from deep inside requests."""
    root = Path(__file__).resolve().parent.parent
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    r = subprocess.run([str(root / "getModels.sh"), "--read-timeout", "nan", "--verify"], cwd=root, capture_output=True,
                       text=True, timeout=60, env={**os.environ, "PATH": path})
    assert_one_line_error(r, 2, "--read-timeout", "expected a finite number, got 'nan'")


def test_numbers_normalise_minus_zero_and_reject_non_finite():
    assert str(parse_float("-0", 0, 60)) == "0.0"
    assert parse_int(" 7 ", 1) == 7
    for text in ("nan", "-inf", "1e999"):
        with pytest.raises(ValueError, match="finite"):
            parse_float(text, 0, 60)


# ================================================================ 8. the Python API

@pytest.fixture(scope="module")
def estimator(model_dir):
    proto, weights = write_model(model_dir, MODELS["COCO"])
    return pose.PoseEstimator("COCO", proto=proto, weights=weights, net_resolution="-1x96")


@pytest.mark.parametrize("image, why", [
    (None, "image is a NoneType, not a numpy array"),
    ([[0, 0, 0]], "image is a list, not a numpy array"),
    (np.zeros(10, np.uint8), r"image has shape \(10,\)"),
    (np.zeros((20, 20, 5), np.uint8), r"image has shape \(20, 20, 5\)"),
    (np.zeros((20, 20, 2), np.uint8), r"image has shape \(20, 20, 2\)"),
    (np.zeros((2, 20, 20, 3), np.uint8), r"image has shape \(2, 20, 20, 3\)"),
    (np.zeros((20, 20, 3), np.float32), r"image has dtype float32 \(for floats in \[0, 1\]"),
    (np.zeros((20, 20, 3), np.int64), "image has dtype int64"),
    (np.zeros((20, 20, 3), bool), "image has dtype bool"),
    (np.zeros((0, 20, 3), np.uint8), "image is empty"),
])
def test_estimate_rejects_what_is_not_an_image_with_value_error(estimator, image, why):
    with pytest.raises(ValueError, match=why):
        estimator.estimate(image)
    with pytest.raises(pose.UsageError):  # the README's promise: ValueError, as pose.UsageError
        estimator.infer(image)


def test_estimate_converts_gray_bgra_and_16_bit_as_the_tools_do(estimator):
    bgr = cv2.resize(cv2.imread(str(Path(pose.__file__).parent.parent / "Input" / "example_image1.png")), (128, 96))
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    expected = [p.keypoints.tolist() for p in estimator(bgr)]
    assert [p.keypoints.tolist() for p in estimator(np.dstack([bgr, np.full(gray.shape, 9, np.uint8)]))] == expected
    assert [p.keypoints.tolist() for p in estimator(bgr.astype(np.uint16) * 257)] == expected
    as_gray = [p.keypoints.tolist() for p in estimator(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))]
    assert [p.keypoints.tolist() for p in estimator(gray)] == as_gray
    assert [p.keypoints.tolist() for p in estimator(gray[:, :, None])] == as_gray
    assert check_image(gray).shape == (96, 128, 3)


def test_none_options_mean_the_defaults(model_dir):
    proto, weights = write_model(model_dir, MODELS["COCO"])
    est = pose.PoseEstimator(None, proto=proto, weights=weights, engine=None, device=None,
                             net_resolution=None, scales=None, stages=None, decode_options=None)
    assert (est.spec.name, str(est.resolution), est.scales) == ("COCO", "-1x368", (1.0,))
    assert est.device == "cpu" and est.engine in ("openvino", "onnxruntime", "caffe", "onnx")
    with pytest.raises(ValueError, match="model must be a name such as 'COCO' or a ModelSpec, got int"):
        pose.PoseEstimator(18)


def test_a_killed_conversions_temporary_is_removed_by_the_next_one(tmp_path):
    """A conversion killed mid-write left a 200 MB `.tmp-*.onnx` beside the weights forever."""
    pytest.importorskip("onnx")
    from pose.families.openpose.net import convert as convert_module

    spec = MODELS["MPI_4"]
    _, weights = write_model(tmp_path, spec, stages=1)
    path = convert_module.cache_path(weights, files.file_sha256(weights), "s1")
    stale = path.with_name(f"{path.stem}.tmp-k3j9x0qz.onnx")
    stale.write_bytes(b"\0" * 1000)
    assert convert_module.onnx_for(weights, spec, stages=1) == path
    assert path.is_file() and not stale.exists() and not files.lock_path(path).exists()


@posix_only
def test_a_file_system_without_locks_does_not_refuse_every_run(tmp_path, monkeypatch):
    def unsupported(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(files.fcntl, "flock", unsupported)
    lock = files.FileLock(tmp_path / "x.mp4").acquire(timeout=0)
    lock.release()
