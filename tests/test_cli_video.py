"""get_hpe_video.py end to end (subprocess) with narrow random-weight Caffe models."""
import signal
import subprocess
import sys
import time

import pytest

from pose.families.openpose.spec import MODELS
from tests.support.cli_tools import (
    FAST,
    ROOT,
    SCRIPTS,
    leftovers,
    make_video,
    model_args,
    read_jsonl,
    run_tool,
    sandbox_project,
    video_facts,
)
from tests.support.nets import write_model


@pytest.fixture(scope="module")
def coco(model_dir):
    return model_args(*write_model(model_dir, MODELS["COCO"]))


def _outputs(out, stem="clip", mode="COCO"):
    folder = out / "videos" / mode
    return folder / f"{stem}_skeleton_{mode}.mp4", folder / f"{stem}_{mode}.jsonl"


def test_video_writes_mp4_and_jsonl_matching_the_input(tmp_path, coco):
    clip = make_video(tmp_path / "clip.mp4", frames=8, size=(96, 64), fps=12)
    out = tmp_path / "out"
    r = run_tool("video", "--video_file", clip, "--output_dir", out, "--max_people", 2, *FAST, *coco)
    assert r.returncode == 0, r.stderr
    video, jsonl = _outputs(out)
    assert video_facts(video) == (8, 12.0, (96, 64))
    lines = read_jsonl(jsonl)
    assert [d["frame"] for d in lines] == list(range(8))
    assert [d["time_s"] for d in lines] == [round(k / 12, 3) for k in range(8)]
    assert all(d["version"] == 1.3 and d["model"] == "COCO" and d["image_size"] == [96, 64] for d in lines)
    assert all(d["inferred"] for d in lines)
    people = [p for d in lines for p in d["people"]]
    assert people and all(len(d["people"]) <= 2 for d in lines)
    # person_id is the tracker's id: positive, and one id at most once per frame
    assert all(p["person_id"][0] >= 1 for p in people)
    assert all(len({p["person_id"][0] for p in d["people"]}) == len(d["people"]) for d in lines)
    summary = r.stdout.strip().splitlines()[-1]
    assert summary.startswith("done: 8 frames, ") and "ms per frame wall" in summary
    assert leftovers(out) == []


def test_start_frame_and_max_frames(tmp_path, coco):
    clip = make_video(tmp_path / "clip.mp4", frames=10)
    out = tmp_path / "out"
    r = run_tool("video", "--video_file", clip, "--output_dir", out, "--start_frame", 3, "--max_frames", 4,
                 "--quiet", *FAST, *coco)
    assert r.returncode == 0, r.stderr
    video, jsonl = _outputs(out)
    assert [d["frame"] for d in read_jsonl(jsonl)] == [3, 4, 5, 6]
    assert video_facts(video)[0] == 4


def test_every_nth_frame_reuses_people_between(tmp_path, coco):
    clip = make_video(tmp_path / "clip.mp4", frames=7)
    out = tmp_path / "out"
    r = run_tool("video", "--video_file", clip, "--output_dir", out, "--every", 3, *FAST, *coco)
    assert r.returncode == 0, r.stderr
    lines = read_jsonl(_outputs(out)[1])
    assert [d["inferred"] for d in lines] == [True, False, False, True, False, False, True]
    assert lines[1]["people"] == lines[2]["people"] == lines[0]["people"]
    assert lines[4]["people"] == lines[3]["people"]
    assert "(3 through the network)" in r.stdout
    assert video_facts(_outputs(out)[0])[0] == 7


def test_progress_bar_on_stderr_and_quiet_silences_it(tmp_path, coco):
    clip = make_video(tmp_path / "clip.mp4", frames=4)
    loud = run_tool("video", "--video_file", clip, "--output_dir", tmp_path / "a", "--no_json", *FAST, *coco)
    assert loud.returncode == 0, loud.stderr
    assert "0/4 [" in loud.stderr and "frame/s" in loud.stderr  # tqdm: done/total, rate
    assert not _outputs(tmp_path / "a")[1].exists()  # --no_json
    quiet = run_tool("video", "--video_file", clip, "--output_dir", tmp_path / "b", "--quiet", *FAST, *coco)
    assert quiet.returncode == 0
    assert quiet.stderr == ""
    assert len(quiet.stdout.splitlines()) == 1 and quiet.stdout.startswith("done: 4 frames")


def test_ctrl_c_finishes_cleanly_with_a_shorter_valid_output(tmp_path, coco):
    clip = make_video(tmp_path / "clip.mp4", frames=400, size=(64, 48))
    out = tmp_path / "out"
    video, jsonl = _outputs(out)
    proc = subprocess.Popen([sys.executable, str(ROOT / SCRIPTS["video"]), "--video_file", str(clip),
                             "--output_dir", str(out), "--quiet", *FAST, *coco],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        tmp_jsonl = next(out.glob(f"**/{jsonl.stem}.tmp-*.jsonl"), None)
        if tmp_jsonl is not None and tmp_jsonl.read_text().count("\n") >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stdout.startswith("interrupted: ")
    lines = read_jsonl(jsonl)
    frames, fps, size = video_facts(video)
    assert 3 <= len(lines) < 400
    assert frames == len(lines) and size == (64, 48)
    assert [d["frame"] for d in lines] == list(range(len(lines)))
    assert leftovers(out) == []


def test_seed_video_invocation(tmp_path, model_dir):
    """`python get_hpe_video.py --device gpu` exactly as the seed ran it: without weights
    it points to getModels.sh; with (narrow) weights in place it falls back to the CPU."""
    project = sandbox_project(tmp_path)
    r = run_tool("video", "--device", "gpu", cwd=project)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].endswith(
        "weights not found: pose/coco/pose_iter_440000.caffemodel (run ./getModels.sh COCO to download them)")
    spec = MODELS["COCO"]
    proto, weights = write_model(model_dir, spec)
    (project / spec.prototxt.relative_to(ROOT)).write_text(proto.read_text())
    (project / spec.weights.path.relative_to(ROOT)).write_bytes(weights.read_bytes())
    make_video(project / "Input" / "example_video1.mp4", frames=2, size=(64, 48))  # keep it quick
    r = run_tool("video", "--device", "gpu", cwd=project)
    assert r.returncode == 0, r.stderr
    assert "--device gpu: this OpenCV has no CUDA" in r.stderr and "running on the CPU" in r.stderr
    video, jsonl = _outputs(project / "Output", stem="example_video1")
    assert video_facts(video)[0] == 2 and len(read_jsonl(jsonl)) == 2
