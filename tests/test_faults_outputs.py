"""Faults, round 3 (issue 24): outputs that land on what is not theirs, output sets that
commit by halves, per-frame JSON that mixes runs, resume that is not resume, unbounded
options. Each test is a case a hostile or careless user tried; the tools run as real
processes, with tiny videos and narrow nets.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from pose.app.batch.manifest import run_identity
from pose.cli import parse_args
from tests.support.cli_tools import (
    EXAMPLE_IMAGE,
    FAST,
    ROOT,
    assert_one_line_error,
    leftovers,
    load_json,
    make_image,
    make_video,
    read_jsonl,
    run_tool,
    start_tool,
    wait_until,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX flock")


def _files(folder: Path) -> list:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ================================================================ 1. outputs that are not ours

def test_an_output_naming_the_input_video_is_refused_and_the_video_kept(tmp_path, coco):
    """The issue's case: --write_coco_json set to the input replaced the video with JSON, exit 0."""
    clip = make_video(tmp_path / "clip.mp4", frames=3)
    before = clip.read_bytes()
    r = run_tool("video", "--video_file", clip, "--output_dir", tmp_path / "out", "--write_coco_json", clip,
                 "--quiet", *FAST, *coco)
    assert_one_line_error(r, 2, "--write_coco_json", "would replace the input")
    assert clip.read_bytes() == before


def test_an_output_naming_the_runs_own_jsonl_or_a_model_file_is_refused(tmp_path, coco):
    clip = make_video(tmp_path / "clip.mp4", frames=3)
    out = tmp_path / "out"
    jsonl = out / "videos" / "COCO" / "clip_COCO.jsonl"
    r = run_tool("video", "--video_file", clip, "--output_dir", out, "--write_coco_json", jsonl, "--quiet", *FAST, *coco)
    assert_one_line_error(r, 2, "would replace --write_coco_json")
    weights = Path(coco[-1])
    before = weights.read_bytes()
    r = run_tool("image", "--image_file", make_image(tmp_path / "x.png"), "--output_dir", out,
                 "--write_coco_json", weights, "--quiet", *FAST, *coco)
    assert_one_line_error(r, 2, "would replace the file --weights names")
    assert weights.read_bytes() == before


def test_an_image_whose_outputs_would_replace_another_input_is_refused_alone(tmp_path, coco):
    """`a.png` and last run's `a-Keypoints-COCO.jpg` given together: the first would
    overwrite the second. It is refused; the other input runs."""
    out = tmp_path / "out"
    folder = out / "images" / "COCO"
    folder.mkdir(parents=True)
    old = make_image(folder / "a-Keypoints-COCO.jpg")
    before = old.read_bytes()
    r = run_tool("image", "--image_file", make_image(tmp_path / "a.png"), old, "--output_dir", out, "--quiet",
                 *FAST, *coco)
    assert r.returncode == 1
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 1 and "a.png" in errors[0] and "would replace the input" in errors[0], r.stderr
    assert old.read_bytes() == before
    assert (folder / "a-Keypoints-COCO-Skeleton-COCO.jpg").is_file()


# ================================================================ 3. output sets commit together

def test_a_coco_mapping_that_cannot_be_written_leaves_no_output_committed(tmp_path, coco):
    """The issue's case: the mapping's name was a folder; the run exited 1 with the
    results, mp4 and JSONL already under their final names."""
    clip = make_video(tmp_path / "clip.mp4", frames=3)
    out = tmp_path / "out"
    (tmp_path / "res.image_ids.json").mkdir()
    r = run_tool("video", "--video_file", clip, "--output_dir", out, "--write_coco_json", tmp_path / "res.json",
                 "--write_json", tmp_path / "frames", "--quiet", *FAST, *coco)
    assert_one_line_error(r, 1, "res.image_ids.json", "a folder of that name exists")
    assert _files(out) == [] and not (tmp_path / "res.json").exists()
    assert list((tmp_path / "frames").glob("*")) == [] and leftovers(tmp_path) == []  # (emptied folders are removed)


# ================================================================ 2. per-frame JSON

def test_a_failed_run_never_deletes_per_frame_files_another_run_wrote(tmp_path, small_disk, coco):
    """The issue's case: run 1 succeeds, run 2 into the same --write_json folder fails
    (disk full), and run 1's frames were gone (discard deleted the files it had
    overwritten)."""
    frames = tmp_path / "frames"
    first = run_tool("video", "--video_file", make_video(tmp_path / "clip.mp4", frames=4), "--output_dir",
                     tmp_path / "o1", "--write_json", frames, "--quiet", *FAST, *coco)
    assert first.returncode == 0, first.stderr
    written = {p.name: p.read_bytes() for p in frames.iterdir()}
    assert len(written) == 4
    (tmp_path / "big").mkdir()
    big = make_video(tmp_path / "big" / "clip.mp4", frames=24, size=(160, 120))  # fills the small disk
    second = run_tool("video", "--video_file", big, "--output_dir", small_disk, "--write_json", frames,
                      "--quiet", *FAST, *coco)
    assert_one_line_error(second, 1, "space left on device")
    assert {p.name: p.read_bytes() for p in frames.iterdir()} == written


def test_a_shorter_video_of_one_stem_replaces_the_whole_earlier_set(tmp_path, coco):
    """The last open member of class 2: a 6-frame clip.mp4, then another clip.mp4 of 3
    frames into the same --write_json folder left frames 3-5 of the first beside the
    second's 0-2, one set to a reader that lists clip_*. The set is replaced whole."""
    frames = tmp_path / "frames"
    for name, count in (("a", 6), ("b", 3)):
        (tmp_path / name).mkdir()
        clip = make_video(tmp_path / name / "clip.mp4", frames=count)
        r = run_tool("video", "--video_file", clip, "--output_dir", tmp_path / name / "out", "--write_json", frames,
                     "--quiet", *FAST, *coco)
        assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in frames.iterdir()) == [f"clip_{i:012d}_keypoints.json" for i in range(3)]
    jsonl = next((tmp_path / "b" / "out").rglob("*.jsonl")).read_text().splitlines()
    assert [[p["pose_keypoints_2d"] for p in json.loads(line)["people"]] for line in jsonl] == \
        [[p["pose_keypoints_2d"] for p in load_json(frames / f"clip_{i:012d}_keypoints.json")["people"]]
         for i in range(3)]


@posix_only
def test_two_runs_on_videos_of_one_stem_never_mix_their_frames(tmp_path, coco):
    """The issue's case: two runs at once on a/clip.mp4 and b/clip.mp4 into one
    --write_json folder: one set silently replaced the other. The second is refused."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    long = make_video(tmp_path / "a" / "clip.mp4", frames=300, size=(64, 48))
    short = make_video(tmp_path / "b" / "clip.mp4", frames=3)
    frames = tmp_path / "frames"
    running = start_tool("video", "--video_file", long, "--output_dir", tmp_path / "o1", "--write_json", frames,
                         "--quiet", *FAST, *coco)
    try:
        assert wait_until(lambda: any(frames.glob("clip_*.tmp-*.json")) or running.poll() is not None)
        assert running.poll() is None, running.communicate()
        refused = run_tool("video", "--video_file", short, "--output_dir", tmp_path / "o2", "--write_json", frames,
                           "--quiet", *FAST, *coco)
        assert_one_line_error(refused, 1, "another run", "clip_keypoints.json")
        assert not any(frames.glob("*_keypoints.json"))  # the running one's are still temporary
    finally:
        running.kill()
        running.wait(timeout=30)


@pytest.mark.parametrize("option, pattern", [("--write_json", "clip_*_keypoints.json"),
                                             ("--write_heatmaps", "clip_*_pose_heatmaps.npy")])
def test_a_batch_refuses_two_videos_of_one_stem_into_one_per_frame_folder(tmp_path, coco, option, pattern):
    for name in ("a", "b"):
        (tmp_path / "in" / name).mkdir(parents=True)
        make_video(tmp_path / "in" / name / "clip.mp4", frames=2)
    r = run_tool("video", "--video_file", tmp_path / "in", "--recursive", "--output_dir", tmp_path / "out",
                 option, tmp_path / "frames", "--quiet", *FAST, *coco)
    assert r.returncode == 1
    assert "would replace those of" in r.stderr and r.stderr.count("error:") == 1, r.stderr
    assert len(list((tmp_path / "frames").glob(pattern))) == 2


# ================================================================ 4. resume

def test_resume_identity_keys_hands_faces_their_sizes_and_weights(tmp_path):
    """The issue's case: a batch redone with --hand --face skipped every video."""
    base = ["--video_file", "a.mp4", "b.mp4"]
    keys = {run_identity(parse_args("video", base + extra))[0]
            for extra in ([], ["--hand"], ["--face"], ["--hand", "--hand_net_resolution", "256x256"])}
    assert len(keys) == 4


@pytest.mark.parametrize("inside", [False, True])
def test_a_batch_with_write_json_resumes_where_ever_the_folder_is(tmp_path, coco, inside):
    """Outside the output folder: every video failed after the first with 'is not in the
    subpath'; inside: the folder's size was recorded as an output and reruns redid work."""
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        make_video(tmp_path / "in" / f"{name}.mp4", frames=2)
    out = tmp_path / "out"
    frames = out / "frames" if inside else tmp_path / "frames"
    args = ["--video_file", tmp_path / "in", "--output_dir", out, "--write_json", frames, *FAST, *coco]
    first = run_tool("video", *args)
    assert first.returncode == 0, first.stderr
    assert "2 of 2 videos processed" in first.stdout
    again = run_tool("video", *args)
    assert again.returncode == 0, again.stderr
    assert "2 skipped" in again.stdout, again.stdout
    records = [json.loads(line) for line in (out / "videos" / "COCO" / "manifest.jsonl").read_text().splitlines()]
    assert all(r["status"] == "done" for r in records)


# ================================================================ 6. bounds

def test_crop_resolutions_are_capped_in_one_line(capsys):
    """The issue's case: --hand_net_resolution 4096 took 10.4 GB and 36 s on one image."""
    with pytest.raises(SystemExit) as exit_:
        parse_args("image", ["--hand", "--hand_net_resolution", "4096"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "at most 1024x1024" in err[0]


def test_mapping_file_is_loadable_after_a_good_run(tmp_path, coco):
    clip = make_video(tmp_path / "clip.mp4", frames=2)
    r = run_tool("video", "--video_file", clip, "--output_dir", tmp_path / "out", "--write_coco_json",
                 tmp_path / "res.json", "--quiet", *FAST, *coco)
    assert r.returncode == 0, r.stderr
    assert len(load_json(tmp_path / "res.image_ids.json")["images"]) == 2
    assert leftovers(tmp_path) == []


# ================================================================ 5, 9, 10. paths and inputs that are not what they claim

@posix_only
def test_a_video_name_that_is_not_utf8_is_refused_and_the_batch_goes_on(tmp_path, coco):
    """The issue's case: cv2.VideoCapture segfaulted on `bad\\xffname.mp4` and killed the run."""
    good = make_video(tmp_path / "good.mp4", frames=2)
    bad = os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xffname.mp4")
    os.link(good, bad)
    r = run_tool("video", "--video_file", bad, "--output_dir", tmp_path / "out", "--quiet", *FAST, *coco)
    assert_one_line_error(r, 1, "bad\\udcffname.mp4", "not valid UTF-8")
    r = run_tool("video", "--video_file", tmp_path, "--output_dir", tmp_path / "out", "--quiet", *FAST, *coco)
    assert r.returncode == 1 and r.stderr.count("not valid UTF-8") == 1, r.stderr
    assert (tmp_path / "out" / "videos" / "COCO" / "good_COCO.jsonl").is_file()


def test_a_list_file_given_as_a_video_is_refused(tmp_path, coco):
    """The issue's case: FFmpeg rendered the text as a 274-frame video."""
    listed = tmp_path / "videos.mp4"
    listed.write_text("clips/a.mp4\nclips/b.mp4\n")
    r = run_tool("video", "--video_file", listed, "--output_dir", tmp_path / "out", *FAST, *coco)
    assert_one_line_error(r, 1, "a text file, not a video", "@")


def test_paths_that_cannot_be_files_get_one_line_each_and_the_good_input_still_runs(tmp_path, coco):
    """A missing name with a newline (was two lines), a name over the file system's limit
    (was `unexpected OSError` and nothing processed) and a looping link."""
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    good = make_image(tmp_path / "good.png")
    r = run_tool("image", "--image_file", tmp_path / "two\nlines.png", tmp_path / ("x" * 300 + ".png"), loop, good,
                 "--output_dir", tmp_path / "out", "--quiet", *FAST, *coco)
    assert r.returncode == 1
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 3 and "two\\nlines.png" in errors[0], r.stderr
    assert "File name too long" in errors[1] and "Too many levels of symbolic links" in errors[2], r.stderr
    assert (tmp_path / "out" / "images" / "COCO" / "good-COCO.json").is_file()


def test_an_output_folder_inside_a_recursive_input_folder_is_not_taken_as_input(tmp_path, coco):
    """The issue's case: each run ingested the last run's skeleton videos, deeper each time."""
    make_video(tmp_path / "clip.mp4", frames=2)
    args = ["--video_file", tmp_path, "--recursive", "--output_dir", tmp_path / "out", "--quiet", *FAST, *coco]
    assert run_tool("video", *args).returncode == 0
    again = run_tool("video", *args, "--overwrite")
    assert again.returncode == 0, again.stderr
    assert "1 of 1 videos processed" in again.stdout
    assert not list((tmp_path / "out").rglob("*_skeleton_COCO_skeleton_COCO.mp4"))


# ================================================================ 6, 9. lists, manifests, workers

@posix_only
def test_lists_that_never_end_are_refused_and_the_good_video_beside_them_runs(tmp_path, coco):
    """The issue's cases: `--video_file @fifo` hung, `@/dev/zero` grew to 3.4 GB."""
    fifo = tmp_path / "list.fifo"
    os.mkfifo(fifo)
    good = make_video(tmp_path / "good.mp4", frames=2)
    r = run_tool("video", "--video_file", f"@{fifo}", "@/dev/zero", good, "--output_dir", tmp_path / "out",
                 "--quiet", *FAST, *coco, timeout=60)
    assert r.returncode == 1
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 2 and "named pipe" in errors[0] and "character device" in errors[1], r.stderr
    assert (tmp_path / "out" / "videos" / "COCO" / "good_COCO.jsonl").is_file()


def test_a_list_with_a_byte_order_mark_and_crlf_reads_every_entry(tmp_path, coco):
    make_video(tmp_path / "a.mp4", frames=2)
    make_video(tmp_path / "b.mp4", frames=2)
    listed = tmp_path / "videos.txt"
    listed.write_bytes(b"\xef\xbb\xbfa.mp4\r\nb.mp4\r\n")
    r = run_tool("video", "--video_file", f"@{listed}", "--output_dir", tmp_path / "out", "--quiet", *FAST, *coco)
    assert r.returncode == 0, r.stderr
    assert "2 of 2 videos processed" in r.stdout


@posix_only
def test_a_manifest_that_is_a_fifo_is_refused_and_a_bad_line_costs_only_its_video(tmp_path, coco):
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        make_video(tmp_path / "in" / f"{name}.mp4", frames=2)
    out = tmp_path / "out"
    manifest = out / "videos" / "COCO" / "manifest.jsonl"
    manifest.parent.mkdir(parents=True)
    os.mkfifo(manifest)
    args = ["--video_file", tmp_path / "in", "--output_dir", out, "--quiet", *FAST, *coco]
    assert_one_line_error(run_tool("video", *args, timeout=60), 1, "manifest.jsonl", "named pipe")
    manifest.unlink()
    assert run_tool("video", *args).returncode == 0
    lines = manifest.read_bytes().splitlines()
    manifest.write_bytes(b"\n".join([lines[0], b"\xff\xfe not UTF-8", lines[1]]) + b"\n")
    again = run_tool("video", *args)
    assert again.returncode == 0, again.stderr
    assert "2 skipped" in again.stdout and "1 unreadable line(s) ignored" in again.stderr


def test_workers_are_never_more_than_the_videos(tmp_path, coco):
    """The issue's case: --workers 16 for 2 videos started 17 processes (2.7 GB, 19.7 s)."""
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        make_video(tmp_path / "in" / f"{name}.mp4", frames=2)
    r = run_tool("video", "--video_file", tmp_path / "in", "--workers", 16, "--output_dir", tmp_path / "out",
                 *FAST, *coco)
    assert r.returncode == 0, r.stderr
    assert "to run on 2 workers" in r.stdout, r.stdout


def test_time_in_a_variable_frame_rate_video_comes_from_the_container(tmp_path, coco):
    """The issue's case: time_s was index / fps, so a 2.7 s phone clip read as 0.37 s."""
    av = pytest.importorskip("av")
    times_ms = [0, 100, 200, 300, 1300, 2300, 2700]
    clip = tmp_path / "vfr.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        for k, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 30 * k, np.uint8), format="bgr24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    out = tmp_path / "out"
    r = run_tool("video", "--video_file", clip, "--output_dir", out, "--quiet", *FAST, *coco)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in (out / "videos" / "COCO" / "vfr_COCO.jsonl").read_text().splitlines()]
    assert [d["time_s"] for d in lines] == [t / 1000 for t in times_ms]


# ================================================================ 10. environment and option values

@pytest.mark.parametrize("home, why", [("~nosuchuser24/x", "no such user's home folder"),
                                       ("FILE", "a file, not the folder for the model weights")])
def test_a_models_home_that_cannot_be_one_is_one_line_for_the_tools_and_getmodels(tmp_path, home, why):
    """The issue's cases: `unexpected RuntimeError`; "weights not found" then "Not a directory"."""
    if home == "FILE":
        home = str(tmp_path / "file")
        Path(home).write_text("x")
    env = {"OPENCV_HPE_HOME": home}
    r = run_tool("image", "--image_file", make_image(tmp_path / "x.png"), "--output_dir", tmp_path / "out", env=env)
    assert_one_line_error(r, 2, "OPENCV_HPE_HOME", why)
    r = subprocess.run([sys.executable, "-m", "pose.download.cli", "coco"], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, **env}, timeout=60)
    assert_one_line_error(r, 2, "OPENCV_HPE_HOME", why)


@posix_only
@pytest.mark.parametrize("kind", ["folder", "fifo", "/dev/zero", "binary proto"])
def test_model_files_that_exist_but_are_not_files_are_named_for_what_they_are(tmp_path, coco, kind):
    """The issue's cases: "weights not found" for a path that exists; 2 KB of binary and a
    libprotobuf line for a binary --proto."""
    proto, weights = coco[1], coco[3]
    if kind == "folder":
        weights, why = tmp_path, "a folder, not a weights file"
    elif kind == "fifo":
        weights, why = tmp_path / "w.fifo", "a named pipe (FIFO), not a weights file"
        os.mkfifo(weights)
    elif kind == "/dev/zero":
        weights, why = "/dev/zero", "a character device, not a weights file"
    else:
        proto, why = weights, "is not a Caffe .prototxt"
    r = run_tool("image", "--image_file", make_image(tmp_path / "x.png"), "--output_dir", tmp_path / "out",
                 "--proto", proto, "--weights", weights, *FAST, timeout=60)
    assert_one_line_error(r, 2, why)


def test_an_empty_option_value_is_a_usage_error():
    """The issue's case: `--write_json ""` was silently ignored."""
    for tool, option in (("video", "--write_json"), ("image", "--write_coco_json"), ("image", "--image_file")):
        assert_one_line_error(run_tool(tool, option, ""), 2, f"{option}: an empty value")


# ================================================================ 8. signals

@posix_only
def test_a_second_ctrl_c_with_workers_leaves_no_temporaries(tmp_path, coco):
    """The issue's case: a second Ctrl-C with --workers 2 left 2-4 temporaries."""
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        make_video(tmp_path / "in" / f"{name}.mp4", frames=100, size=(640, 480))  # slow frames: stopped mid-frame
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, str(ROOT / "get_hpe_video.py"), "--video_file", str(tmp_path / "in"),
                            "--workers", "2", "--output_dir", str(out), "--quiet", *coco], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stems = lambda: {p.name.split(".")[0].split("_")[0] for p in out.rglob("*.tmp-*.jsonl")}  # noqa: E731
        assert wait_until(lambda: stems() == {"a", "b"} or run.poll() is not None, timeout=120)
        assert run.poll() is None, run.communicate()
        os.killpg(run.pid, signal.SIGINT)  # a terminal's Ctrl-C: the driver and its workers
        time.sleep(0.02)
        os.killpg(run.pid, signal.SIGINT)  # and again before the workers' next frame: quit at once
        stdout, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert leftovers(out) == []


def test_standard_streams_on_a_full_device_lose_only_the_report(tmp_path, small_disk, coco):
    """The issue's cases: stdout on a full device was `unexpected OSError` (now one line:
    the run stops at its first report line, nothing half-written); stderr on one left the
    mp4 and JSONL temporaries (the progress bar was made outside the clean-up)."""
    (small_disk / "filler").write_bytes(b"\0" * (64 << 10))  # the small disk is full now
    clip = make_video(tmp_path / "clip.mp4", frames=3)
    out = tmp_path / "out"
    with open(small_disk / "stdout.txt", "w") as stdout:
        r = subprocess.run([sys.executable, str(ROOT / "get_hpe_video.py"), "--video_file", str(clip),
                            "--output_dir", str(out), *FAST, *coco], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE,
                           text=True, timeout=120)
    assert_one_line_error(r, 1, "cannot write to standard output", "No space left on device")
    assert leftovers(out) == []
    with open(small_disk / "stderr.txt", "w") as stderr:
        r = subprocess.run([sys.executable, str(ROOT / "get_hpe_video.py"), "--video_file", str(clip),
                            "--output_dir", str(tmp_path / "out2"), *FAST, *coco], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=120)
    assert leftovers(tmp_path / "out2") == []


# ================================================================ 7. Ray

@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1"])
def test_a_ray_address_where_nothing_listens_is_one_line_at_once(tmp_path, coco, address):
    """The issue's case: `--ray 127.0.0.1:1` never ended and ignored SIGINT and SIGTERM."""
    pytest.importorskip("ray", reason="Ray is optional")
    clip = make_video(tmp_path / "clip.mp4", frames=2)
    t0 = time.monotonic()
    r = run_tool("video", "--video_file", clip, "--ray", address, "--output_dir", tmp_path / "out", *FAST, *coco,
                 timeout=90)
    assert_one_line_error(r, 1, f"cannot reach the Ray cluster at {address}", "Connection refused")
    assert time.monotonic() - t0 < 60


@pytest.mark.parametrize("server", ["gRPC", "HTTP"])
def test_a_ray_address_where_no_ray_client_answers_is_one_line_at_once(tmp_path, coco, server):
    """The issue's case: a ray:// port that is not a Ray client server's was retried for 30 s,
    then Ray's client printed a UserWarning (two lines of a file in site-packages) before our line."""
    pytest.importorskip("ray", reason="Ray is optional")
    import socket
    import threading
    from concurrent import futures

    import grpc

    if server == "gRPC":  # a gRPC server with no services, as a Ray head's GCS port is to a client
        listener = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        port = listener.add_insecure_port("127.0.0.1:0")
        listener.start()
    else:  # an HTTP/1 server: a dashboard's port
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]

        def answer() -> None:
            with contextlib.suppress(OSError):
                while True:
                    conn, _ = listener.accept()
                    with conn:
                        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        threading.Thread(target=answer, daemon=True).start()
    try:
        clip = make_video(tmp_path / "clip.mp4", frames=2)
        t0 = time.monotonic()
        r = run_tool("video", "--video_file", clip, "--ray", f"ray://127.0.0.1:{port}", "--output_dir", tmp_path / "out",
                     *FAST, *coco, timeout=90)
        assert_one_line_error(r, 1, f"cannot reach the Ray cluster at ray://127.0.0.1:{port}", "10001")
        assert time.monotonic() - t0 < 20  # Ray's client alone took 30 s
    finally:
        listener.stop(None) if server == "gRPC" else listener.close()


def _processes_using(folder: str) -> list:
    """Processes whose command line or open files name `folder`: Ray's workers and agents
    rename themselves (ray::IDLE, ray::DashboardAgent), but keep their session's logs open."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            names = [(entry / "cmdline").read_bytes().decode(errors="replace")]
            names += [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if any(folder in name for name in names):
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
                                                 (getattr(signal, "SIGHUP", signal.SIGTERM), 129, "hung up")],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_while_a_local_ray_starts_stops_the_batch_and_ray(tmp_path, coco, signum, code, word):
    """The issue's cases: a Ctrl-C was lost (SIGINT ignored around ray.init) and the batch
    exited 0; a SIGTERM ran Ray's own handlers (exit 15, or 134 from its C++ one) and left
    Ray's agents running."""
    pytest.importorskip("ray", reason="Ray is optional")
    import tempfile

    ray_tmp = Path(tempfile.mkdtemp(prefix="faults-ray-", dir="/tmp"))  # Ray's socket paths must stay short
    clip = make_video(tmp_path / "clip.mp4", frames=2)
    run = subprocess.Popen([sys.executable, str(ROOT / "get_hpe_video.py"), "--video_file", str(clip), "--ray",
                            "--output_dir", str(tmp_path / "out"), *FAST, *coco], cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env={**os.environ, "RAY_TMPDIR": str(ray_tmp)})
    try:
        assert wait_until(lambda: any(ray_tmp.rglob("session_*")) or run.poll() is not None, timeout=120)
        run.send_signal(signum)
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == code, stderr
        assert stderr.splitlines() == [f"get_hpe_video.py: error: {word}"]
        assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()], "a file of a run that never started"
        assert wait_until(lambda: not _processes_using(str(ray_tmp)), timeout=30), "Ray's processes outlived the run"
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
        for pid in set(_processes_using(str(ray_tmp))) - {os.getpid()}:  # a failed run's, not to outlive the test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _bindable(port: int) -> bool:
    import socket
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_ray_client_runs_a_checkout_on_a_cluster_that_cannot_import_it(tmp_path, coco):
    """Found beside class 7: through `--ray ray://...` to a cluster whose processes were
    started elsewhere (no `pose` on their path), the batch ended in Ray's "Put failed:"
    and `unexpected ModuleNotFoundError: No module named 'pose'`. A Ray client does not
    hand the driver's path to the job, as a direct driver does: the checkout's folder
    goes on the job's PYTHONPATH."""
    pytest.importorskip("ray", reason="Ray is optional")
    fcntl = pytest.importorskip("fcntl", reason="POSIX file locks")
    import tempfile

    ray_tmp = Path(tempfile.mkdtemp(prefix="client-ray-", dir="/tmp"))  # Ray's socket paths must stay short
    client = _free_port()
    # what an in-process ray.init of another test left in os.environ (RAY_*, PYTHONBREAKPOINT)
    # made the head's per-client server die at start: a clean environment, as a user's shell
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONBREAKPOINT", "DISPLAY", "WAYLAND_DISPLAY") and not k.startswith("RAY_")}
    env["RAY_AUTH_MODE"] = "token"  # Ray 2.60's own client connects only so to a head that wants a token
    head = [str(Path(sys.executable).with_name("ray")), "start", "--head", "--port", str(_free_port()),
            "--ray-client-server-port", str(client), "--dashboard-agent-listen-port", str(_free_port()),
            "--include-dashboard", "false", "--num-cpus", "1", "--disable-usage-stats", "--temp-dir", str(ray_tmp)]
    # Every Ray client server starts its per-client servers from port 23000, so two heads on
    # one machine (two suites at once) collide there and the client waits: one at a time.
    lock = open(Path(tempfile.gettempdir()) / "opencv-hpe-ray-client-test.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    # A Ray that another test just shut down takes seconds to die, and until then this head's
    # per-client server failed to start (measured: fine 15 s later): wait for it to go.
    if not wait_until(lambda: not _processes_using("ray/core/src/ray/raylet/raylet") and _bindable(23000),
                      timeout=90, every=0.5):
        lock.close()
        pytest.skip("another Ray keeps running on this machine")
    try:
        started = subprocess.run(head, cwd=ray_tmp, env=env, capture_output=True, text=True, timeout=120)
        if started.returncode != 0:
            pytest.skip(f"ray start failed: {started.stderr.strip().splitlines()[-1:]}")
        clip = make_video(tmp_path / "clip.mp4", frames=2)
        r = subprocess.run([sys.executable, str(ROOT / "get_hpe_video.py"), "--video_file", str(clip), "--ray",
                            f"ray://127.0.0.1:{client}", "--output_dir", str(tmp_path / "out"), *FAST, *map(str, coco)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        if "Initialization failure from server" in r.stderr:
            # Ray's per-client server died at start: seen only while another Ray ran or had just
            # run on the machine (two suites at once), never with this test alone
            pytest.skip("Ray's client server could not start its per-client server here")
        assert r.returncode == 0, r.stderr
        assert "No module named" not in r.stderr and "Put failed" not in r.stderr, r.stderr
        assert len(read_jsonl(next((tmp_path / "out").rglob("clip_COCO.jsonl")))) == 2
    finally:
        for pid in set(_processes_using(str(ray_tmp))) - {os.getpid()}:  # this head's processes only
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)
        lock.close()


@posix_only
def test_an_output_folder_whose_name_is_not_utf8_is_one_line(tmp_path, coco):
    """Found beside the issue's case: cv2.VideoWriter crashed on such a folder as VideoCapture did."""
    clip = make_video(tmp_path / "clip.mp4", frames=2)
    out = os.fsdecode(os.fsencode(str(tmp_path)) + b"/out\xff")
    r = run_tool("video", "--video_file", clip, "--output_dir", out, "--quiet", *FAST, *coco)
    assert_one_line_error(r, 1, "not valid UTF-8")
    assert leftovers(tmp_path) == []


def test_a_read_only_tmpdir_for_a_local_ray_is_one_line(tmp_path, read_only_dir, coco):
    """The issue's case: `unexpected OSError`."""
    pytest.importorskip("ray", reason="Ray is optional")
    clip = make_video(tmp_path / "clip.mp4", frames=2)
    r = run_tool("video", "--video_file", clip, "--ray", "--output_dir", tmp_path / "out", *FAST, *coco,
                 env={"TMPDIR": str(read_only_dir), "RAY_TMPDIR": str(read_only_dir)}, timeout=120)
    assert_one_line_error(r, 1, "cannot start or reach a new local Ray", "Read-only file system")


def test_read_only_weights_and_home_convert_for_the_run(tmp_path, read_only_dir, read_only_coco):
    """The issue's case: a read-only weights folder and home were refused ("cannot write
    the ONNX converted ...") after four lines of engine telemetry. Now the fast engine runs
    from a conversion made for the run: one warning, and nothing left behind."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"HOME": str(read_only_dir), "XDG_CACHE_HOME": str(read_only_dir / "cache"), "TMPDIR": str(temp)}
    r = run_tool("image", "--image_file", EXAMPLE_IMAGE, "--output", tmp_path / "out", *FAST, *read_only_coco,
                 env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "converting for this run only" in lines[0], r.stderr
    assert "OpenVINO" in r.stdout or "onnxruntime" in r.stdout or "ONNX" in r.stdout, r.stdout
    assert len(json.loads(next((tmp_path / "out").rglob("*.json")).read_text())["people"]) > 0
    assert list(temp.iterdir()) == []  # the converted file and its compiled blobs went with the run


def test_numbered_output_names_never_take_another_inputs_name():
    """Found beside class 2: two `x.png` numbered `x_png_1`, `x_png_2` while `x_png_1.png`
    was an input too, so two images wrote one set of files."""
    from pose.app.images import output_stems

    stems = output_stems([Path("a/x.png"), Path("b/x.png"), Path("x_png_1.png")])
    assert len(set(stems)) == 3 and stems[2] == "x_png_1"
    assert output_stems([Path("a/x.png"), Path("b/x.png")]) == ["x_png_1", "x_png_2"]
