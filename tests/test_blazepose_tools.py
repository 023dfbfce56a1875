"""BlazePose with its real weights through the project's tools, as a user runs them: the
image tool on the redistributable example photos (Input/), the video tool and a batch on a
short clip made from the photo (the ROI carried between frames: detector calls counted),
get-hpe-eval on the annotated COCO photos of ../shared, getModels.sh blazepose, and the
registry's refusals. The weights come from the blazepose_models fixture (tests/conftest.py:
the mediapipe 0.10.21 wheel through pip, cached), skipped with the reason where pip cannot
fetch it.

Tolerances are measured: on Input/example_image1.png our landmarks were within 0.02 px of
MediaPipe 0.10.21's own pipeline (median over the landmarks it sees, visibility >= 0.5) and
3.8 px at most (tests/data/blazepose_mediapipe_examples.json holds MediaPipe's output).
"""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose.cli import image_main, video_main
from pose.core.errors import UsageError
from pose.core.estimator import Estimator
from pose.eval import scoring
from pose.eval.cli import main as eval_main
from pose.families import family_of_model, get_family
from pose.families.blazepose import BlazePose, family, weights
from pose.layouts import BLAZEPOSE33
from tests.support.cli_tools import photo_clip

ROOT = Path(__file__).resolve().parent.parent
MEDIAPIPE = json.loads((ROOT / "tests" / "data" / "blazepose_mediapipe_examples.json").read_text())
# What a person sees in the example photos, and what the rules say on the real landmarks
# (measured; the same labels as on MediaPipe's own landmarks of the same photos).
LABELS = {
    # upper body only, arms down: no gesture; hips and knees out of the frame: no posture
    "example_image1.png": ("none", "unknown"),
    # a man standing behind a camera on a tripod, hands on it at chest height
    "example_image2.png": ("none", "standing"),
}


@pytest.fixture
def models_home(blazepose_models, monkeypatch):
    """The tools find the cached weights where getModels.sh puts them."""
    monkeypatch.setenv(weights.DIR_ENV, str(blazepose_models))
    return blazepose_models


@pytest.fixture
def counted(monkeypatch):
    """Every BlazePose the tools make, kept (detector calls counted by the estimator)."""
    made = []

    class Counted(BlazePose):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(family, "BlazePose", Counted)
    return made


def _people(path: Path) -> list:
    return json.loads(path.read_text())["people"]


def test_the_image_tool_finds_the_person_as_the_pipeline_and_mediapipe_do(models_home, tmp_path):
    out = tmp_path / "out"
    assert image_main(["--model", "blazepose", "--image_file", str(ROOT / "Input"), "--output_dir", str(out),
                       "--write_coco_json", str(tmp_path / "coco.json"), "--quiet"]) == 0
    folder = out / "images" / "BlazePose"
    estimator = BlazePose(models_home)
    for name, (gesture, posture) in LABELS.items():
        stem = Path(name).stem
        people = _people(folder / f"{stem}-BlazePose.json")
        assert len(people) == 1, name
        person = people[0]
        keypoints = np.asarray(person["pose_keypoints_2d"]).reshape(33, 3)
        # the tool's JSON is the pipeline's output, to the JSON's rounding
        direct = estimator.estimate(cv2.imread(str(ROOT / "Input" / name)))[0]
        np.testing.assert_allclose(keypoints[:, :2], direct.keypoints[:, :2], atol=0.006)
        np.testing.assert_allclose(person["visibility"], direct.visibility, atol=6e-5)
        assert person["score"] > 0.9 and len(person["box"]) == 4
        assert (person["pose_class"]["gesture"], person["pose_class"]["posture"]) == (gesture, posture), name
        assert (folder / f"{stem}-Skeleton-BlazePose.jpg").is_file()
    # against MediaPipe's own pipeline, on the landmarks it sees
    theirs = np.asarray(MEDIAPIPE["images"]["example_image1.png"])
    ours = np.asarray(_people(folder / "example_image1-BlazePose.json")[0]["pose_keypoints_2d"]).reshape(33, 3)
    seen = theirs[:, 2] >= 0.5
    distance = np.hypot(*(ours[seen, :2] - theirs[seen, :2]).T)
    assert seen.sum() >= 13 and np.median(distance) < 0.5 and distance.max() < 8  # measured 0.02, 3.8 px
    # COCO results through the layout's COCO-17 mapping (the inputs in order: image1, image2)
    results = json.loads((tmp_path / "coco.json").read_text())
    assert len(results) == 2
    np.testing.assert_allclose(np.asarray(results[1]["keypoints"]).reshape(17, 3)[:, :2],
                               direct.keypoints[list(BLAZEPOSE33.coco17), :2], atol=0.006)


def test_the_video_tool_carries_the_roi_and_runs_the_detector_once(models_home, counted, tmp_path):
    clip = photo_clip(tmp_path / "clip.mp4")
    out = tmp_path / "out"
    assert video_main(["--model", "blazepose", "--video_file", str(clip), "--output_dir", str(out), "--quiet"]) == 0
    assert counted[-1].detector_calls == 1  # the first frame; then each ROI from the last landmarks
    lines = [json.loads(line) for line in (out / "videos" / "BlazePose" / "clip_BlazePose.jsonl").read_text().splitlines()]
    assert len(lines) == 8 and all(len(line["people"]) == 1 for line in lines)
    assert len({tuple(line["people"][0]["person_id"]) for line in lines}) == 1  # one track
    noses = np.array([line["people"][0]["pose_keypoints_2d"][:2] for line in lines])
    # the window drifts 4 px a frame (3 px at 320/432): the nose follows, within a few pixels
    assert noses[-1, 0] - noses[0, 0] == pytest.approx(-7 * 4 * 320 / 432, abs=6)  # measured -18.0 of -20.7
    # MediaPipe's static_image_mode: the detector on every frame
    assert video_main(["--model", "blazepose", "--video_file", str(clip), "--output_dir", str(tmp_path / "static"),
                       "--quiet", "--static_image_mode"]) == 0
    assert counted[-1].detector_calls == 8


def test_a_batch_starts_each_video_with_the_detector(models_home, counted, tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("a.mp4", "b.mp4"):
        photo_clip(tmp_path / "in" / name, frames=4)
    out = tmp_path / "out"
    assert video_main(["--model", "blazepose", "--video_file", str(tmp_path / "in"), "--output_dir", str(out),
                       "--workers", "1", "--quiet"]) == 0
    records = [json.loads(line) for line in (out / "videos" / "BlazePose" / "manifest.jsonl").read_text().splitlines()]
    assert sorted((r["status"], r["frames"], r["detections"]) for r in records) == [("done", 4, 4)] * 2
    assert records[0]["model"]["detector_sha256"] == weights.FILES["detector"].sha256
    assert records[0]["options"]["precision"] == "f32"
    assert len(counted) == 1 and counted[0].detector_calls == 2  # one estimator; reset between the videos


def test_get_hpe_eval_scores_blazepose_on_the_annotated_photos(models_home, shared_dir, tmp_path, capsys):
    coco = shared_dir / "annotations" / "coco"
    assert eval_main(["--model", "blazepose", "--images", str(coco), "--annotations", str(coco / "test_coco.json"),
                      "--write_json", str(tmp_path / "scores.json"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "PCK@0.05" in printed and "ms per image" in printed
    scores = json.loads((tmp_path / "scores.json").read_text())
    # measured: 4 of the 14 people found (the detector finds one person per photo here)
    assert (scores["images"], scores["annotated_people"], scores["matched_people"]) == (4, 14, 4)
    if scoring.pycocotools_problem() is None:  # not in the OpenCV 5 suite
        assert "AP 0.1" in printed
        assert scores["ap"]["AP"] == pytest.approx(0.187, abs=0.02) and scores["ap"]["AR"] == pytest.approx(0.183, abs=0.02)
    assert scores["pck"]["0.1"]["all"] == pytest.approx(0.265, abs=0.01)
    assert scores["pck"]["0.1"]["per_joint"]["nose"] == pytest.approx(3 / 11, abs=1e-3)
    assert scores["ms_per_image"]["median"] > 0


def test_get_hpe_eval_says_in_one_line_what_it_cannot_score(models_home, shared_dir, tmp_path, capsys, monkeypatch):
    h36m = shared_dir / "annotations" / "h36m"
    assert eval_main(["--model", "blazepose", "--images", str(h36m), "--annotations", str(h36m / "h36m_coco.json")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not COCO-17's" in err
    monkeypatch.setattr(scoring, "pycocotools_problem", lambda: "pycocotools is not installed (pip install pycocotools)")
    coco = shared_dir / "annotations" / "coco"
    assert eval_main(["--model", "blazepose", "--images", str(coco), "--annotations", str(coco / "test_coco.json"),
                      "--max_images", "1", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "warning: no AP/AR: pycocotools is not installed (pip install pycocotools)" in captured.err
    assert "PCK@0.1" in captured.out and "OKS" not in captured.out


def test_the_registry_serves_blazepose_and_refuses_lite_and_heavy_in_one_line(models_home, capsys):
    assert family_of_model("blazepose") == "blazepose" and family_of_model("BlazePose_Lite") == "blazepose"
    fam = get_family("blazepose")
    assert list(fam.MODELS) == ["BlazePose"] and fam.parse_model("BLAZEPOSE").layout is BLAZEPOSE33
    for name in ("blazepose_lite", "blazepose-heavy"):
        with pytest.raises(SystemExit) as stop:
            image_main(["--model", name])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and err.count("\n") == 1 and "not in the mediapipe 0.10.21 wheel" in err
    with pytest.raises(SystemExit) as stop:
        image_main(["--model", "blazepose", "--engine", "onnxruntime"])
    assert stop.value.code == 2 and "cannot read TFLite files" in capsys.readouterr().err
    estimator = BlazePose(models_home)
    assert isinstance(estimator, Estimator) and estimator.precision == "f32"  # auto: f32 on every CPU
    assert estimator.in_flight == 1 and estimator.describe().startswith("BlazePose (full), on cpu with OpenVINO")
    with pytest.raises(UsageError, match="min_detection_confidence"):
        BlazePose(models_home, min_detection_confidence=1.5)


def test_getmodels_blazepose_installs_from_a_mirror_and_falls_back_to_the_wheel(blazepose_models, tmp_path,
                                                                               monkeypatch, capsys):
    from pose.download import cli

    monkeypatch.delenv(weights.DIR_ENV, raising=False)
    monkeypatch.setenv("OPENCV_HPE_HOME", str(tmp_path / "home"))
    assert cli.main(["blazepose", "--mirror", str(blazepose_models), "--only-mirrors", "-q"]) == 0
    out = capsys.readouterr().out
    for spec in weights.FILES.values():
        assert weights.is_valid(tmp_path / "home" / "blazepose" / spec.name, spec)
        assert f"{spec.size:,} B, SHA-256 {spec.sha256}" in out
    assert "Apache-2.0" in out
    assert cli.main(["blazepose", "--verify"]) == 0
    # no mirror delivers: the wheel (here a stand-in that copies the cached files)
    monkeypatch.setenv("OPENCV_HPE_HOME", str(tmp_path / "other"))

    def wheel(folder):
        for spec in weights.FILES.values():
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / spec.name).write_bytes((blazepose_models / spec.name).read_bytes())

    monkeypatch.setattr(weights, "from_wheel", wheel)
    monkeypatch.setattr(weights, "BUCKET_URL", (tmp_path / "no-bucket").as_uri() + "/")  # offline, here and in CI
    assert cli.main(["blazepose", "--mirror", str(tmp_path / "empty"), "-q"]) == 0
    assert "installed from the mediapipe 0.10.21 wheel (pip download), verified" in capsys.readouterr().out
    # nothing works: one line for the model, then getModels' closing block (how to place the files by hand)
    monkeypatch.setenv("OPENCV_HPE_HOME", str(tmp_path / "third"))
    assert cli.main(["blazepose", "--mirror", str(tmp_path / "empty"), "--only-mirrors", "-q"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("BLAZEPOSE: not installed: pose_detection.tflite: ") and err[-1] == "not installed: BLAZEPOSE"
    assert len(err) == 3 and "--mirror" in err[1]


def test_the_readme_picture_is_what_its_script_draws(blazepose_models, tmp_path):
    out = tmp_path / "picture.png"
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "make_readme_picture.py"), "--out", str(out),
                          "--model_dir", str(blazepose_models)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    drawn, committed = cv2.imread(str(out)), cv2.imread(str(ROOT / "docs" / "images" / "blazepose_example_image1.png"))
    assert drawn.shape == committed.shape == (512, 512, 3)
    if int(cv2.__version__.split(".")[0]) == 4:  # the picture was drawn with OpenCV 4
        # the same picture; a CPU whose arithmetic differs may move a line by a pixel
        assert np.mean(np.abs(drawn.astype(int) - committed.astype(int))) < 1.0
    # (OpenCV 5 draws text and anti-aliased lines otherwise: 3.8 levels apart on average, measured)
