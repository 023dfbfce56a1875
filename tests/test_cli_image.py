"""get_hpe_image.py end to end (subprocess) with narrow random-weight Caffe models."""
import cv2
import pytest

from pose.families.openpose.spec import MODELS
from pose.io.formats import EMPTY_FIELDS
from pose.runtime import select as engines
from tests.support.cli_tools import (
    FAST,
    ROOT,
    assert_one_line_error,
    leftovers,
    load_json,
    make_image,
    model_args,
    run_tool,
    sandbox_project,
)
from tests.support.nets import write_model


@pytest.fixture(scope="module")
def coco(model_dir):
    return model_args(*write_model(model_dir, MODELS["COCO"]))


@pytest.fixture(scope="module")
def mpi(model_dir):
    return model_args(*write_model(model_dir, MODELS["MPI"]))


def test_one_image_writes_views_and_openpose_json(tmp_path, coco):
    image = make_image(tmp_path / "in" / "walk.png", size=(120, 90))
    out = tmp_path / "out"
    r = run_tool("image", "--image_file", image, "--output_dir", out, "--max_people", 3, *FAST, *coco)
    assert r.returncode == 0, r.stderr
    folder = out / "images" / "COCO"
    assert sorted(p.name for p in folder.iterdir()) == [
        "walk-COCO.json", "walk-Keypoints-COCO.jpg", "walk-Skeleton-COCO.jpg"]
    for view in ("Keypoints", "Skeleton"):
        assert cv2.imread(str(folder / f"walk-{view}-COCO.jpg")).shape == (90, 120, 3)
    data = load_json(folder / "walk-COCO.json")
    assert data["version"] == 1.3 and data["model"] == "COCO"
    assert data["image_size"] == [120, 90] and data["image"] == "walk.png"
    assert 1 <= len(data["people"]) <= 3  # a random net finds "people"; --max_people caps them
    for person in data["people"]:
        assert person["person_id"] == [-1]
        kp = person["pose_keypoints_2d"]
        assert len(kp) == 18 * 3
        assert all(person[f] == [] for f in EMPTY_FIELDS)
        assert 0 <= person["score"]
        assert set(person["pose_class"]) >= {"gesture", "posture"}
        xs, ys = kp[0::3], kp[1::3]
        assert all(0 <= x < 120 and 0 <= y < 90 for x, y, c in zip(xs, ys, kp[2::3]) if c > 0)
    scores = [p["score"] for p in data["people"]]
    assert scores == sorted(scores, reverse=True)
    lines = r.stdout.splitlines()
    # The first line says what runs: what --engine auto and --device chose.
    engine = {"openvino": "OpenVINO", "onnxruntime": "onnxruntime", "caffe": "Caffe files",
              "onnx": "ONNX"}[engines.plan().engine]
    assert lines[0].startswith("COCO, definition ") and "on cpu with" in lines[0] and engine in lines[0]
    assert lines[-1].startswith("done: 1 image, ")
    assert "3 files written" in r.stdout
    assert leftovers(out) == []


def test_folder_glob_and_several_files(tmp_path, mpi):
    for k, name in enumerate(("a.png", "b.jpg", "notes.txt")):
        make_image(tmp_path / "dir" / name, seed=k) if name != "notes.txt" else (tmp_path / "dir" / name).write_text("x")
    make_image(tmp_path / "g" / "c1.png")
    make_image(tmp_path / "g" / "c2.png", seed=3)
    out = tmp_path / "out"
    r = run_tool("image", "--image_file", tmp_path / "dir", tmp_path / "g" / "c*.png", "--mode", "mpi",
                 "--output_dir", out, "--no_json", *FAST, *mpi)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (out / "images" / "MPI").iterdir())
    assert names == sorted(f"{s}-{v}-MPI.jpg" for s in ("a", "b", "c1", "c2") for v in ("Keypoints", "Skeleton"))
    assert "done: 4 images" in r.stdout and "8 files written" in r.stdout


def test_quiet_prints_only_the_summary(tmp_path, coco):
    image = make_image(tmp_path / "x.png")
    r = run_tool("image", "--image_file", image, "--output_dir", tmp_path / "o", "--quiet", *FAST, *coco)
    assert r.returncode == 0
    assert r.stderr == ""
    assert len(r.stdout.splitlines()) == 1 and r.stdout.startswith("done: 1 image")


def test_no_classify_leaves_pose_class_out(tmp_path, coco):
    image = make_image(tmp_path / "x.png")
    r = run_tool("image", "--image_file", image, "--output_dir", tmp_path, "--no_classify", *FAST, *coco)
    assert r.returncode == 0, r.stderr
    people = load_json(tmp_path / "images" / "COCO" / "x-COCO.json")["people"]
    assert people and all("pose_class" not in p for p in people)


def test_display_without_a_screen_warns_and_goes_on(tmp_path, coco):
    image = make_image(tmp_path / "x.png")
    r = run_tool("image", "--image_file", image, "--output_dir", tmp_path, "--display", *FAST, *coco)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "warning: --display: no display available (DISPLAY is not set); not showing windows"


def test_mode_is_case_insensitive_and_picks_the_folder(tmp_path, mpi):
    image = make_image(tmp_path / "x.png")
    r = run_tool("image", "--image_file", image, "--output_dir", tmp_path, "--mode", "mPi_4", *FAST, *mpi)
    assert r.returncode == 0, r.stderr
    data = load_json(tmp_path / "images" / "MPI_4" / "x-MPI_4.json")
    assert data["model"] == "MPI_4"
    assert all(len(p["pose_keypoints_2d"]) == 15 * 3 for p in data["people"])


def test_seed_invocation_fails_with_the_getmodels_hint_without_weights(tmp_path):
    project = sandbox_project(tmp_path)
    r = run_tool("image", "--mode", "MPI", cwd=project)
    assert_one_line_error(r, 2, "weights not found", "pose/mpi/pose_iter_160000.caffemodel",
                          "./getModels.sh MPI")


def test_seed_invocation_runs_once_weights_are_in_place(tmp_path, model_dir):
    """`python get_hpe_image.py --mode MPI` exactly as the seed ran it, in a copy of the
    project whose MPI files are a narrow random model."""
    project = sandbox_project(tmp_path)
    spec = MODELS["MPI"]
    proto, weights = write_model(model_dir, spec)
    target = project / spec.prototxt.relative_to(ROOT)
    target.write_text(proto.read_text())
    (project / spec.weights.path.relative_to(ROOT)).write_bytes(weights.read_bytes())
    r = run_tool("image", "--mode", "MPI", cwd=project)
    assert r.returncode == 0, r.stderr
    folder = project / "Output" / "images" / "MPI"
    assert {p.name for p in folder.iterdir()} == {
        "example_image1-Keypoints-MPI.jpg", "example_image1-Skeleton-MPI.jpg", "example_image1-MPI.json"}
    assert load_json(folder / "example_image1-MPI.json")["image_size"] == [512, 512]


def test_scales_and_engine_options_run(tmp_path, coco):
    image = make_image(tmp_path / "x.png")
    r = run_tool("image", "--image_file", image, "--output_dir", tmp_path, "--scales", "1,0.5",
                 "--engine", "caffe" if hasattr(cv2.dnn, "readNetFromCaffe") else "onnx", "--quiet",
                 *FAST, *coco)
    assert r.returncode == 0, r.stderr
    assert load_json(tmp_path / "images" / "COCO" / "x-COCO.json")["image_size"] == [96, 72]


def test_inputs_with_the_same_stem_do_not_overwrite_each_other(tmp_path, coco):
    for name in ("a/x.png", "b/x.png", "a/y.png", "a/y.jpg"):
        make_image(tmp_path / "in" / name)
    out = tmp_path / "out"
    r = run_tool("image", "--image_file", tmp_path / "in" / "a", tmp_path / "in" / "b" / "x.png",
                 "--output_dir", out, "--quiet", *FAST, *coco)
    assert r.returncode == 0, r.stderr
    jsons = sorted(p.name for p in (out / "images" / "COCO").glob("*.json"))
    assert jsons == ["x_png_1-COCO.json", "x_png_2-COCO.json", "y_jpg-COCO.json", "y_png-COCO.json"]
    assert "12 files written" in r.stdout
