"""Bad input through the real tools: one line on stderr, a non-zero exit, no traceback;
convertible images are converted and processed."""
import subprocess
import sys

import cv2
import numpy as np
import pytest

from pose.families.openpose.spec import MODELS
from tests.support.cli_tools import (
    FAST,
    ROOT,
    SCRIPTS,
    assert_one_line_error,
    leftovers,
    load_json,
    make_image,
    make_video,
    model_args,
    run_tool,
)
from tests.support.nets import write_model


@pytest.fixture(scope="module")
def coco(model_dir):
    return model_args(*write_model(model_dir, MODELS["COCO"]))


def _jpeg_bytes(size=(64, 48)) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), np.uint8))
    return buf.tobytes()


def _png_bytes(size=(64, 48)) -> bytes:
    ok, buf = cv2.imencode(".png", np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), np.uint8))
    return buf.tobytes()


BAD_IMAGES = {  # file name -> (content, what the message says)
    "empty.png": (b"", "empty file (0 bytes)"),
    "text.jpg": (b"just some words\n" * 4, "not an image OpenCV can decode"),
    "cut.jpg": (_jpeg_bytes()[:600], "truncated JPEG"),
    "cut.png": (_png_bytes()[:300], "truncated PNG"),
}


def test_missing_image(tmp_path, coco):
    r = run_tool("image", "--image_file", tmp_path / "nope.jpg", "--output_dir", tmp_path, *coco)
    assert_one_line_error(r, 1, "nope.jpg: file not found")


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
def test_unreadable_image(tmp_path, coco, name):
    content, message = BAD_IMAGES[name]
    path = tmp_path / name
    path.write_bytes(content)
    r = run_tool("image", "--image_file", path, "--output_dir", tmp_path / "out", *coco)
    assert_one_line_error(r, 1, f"{name}: {message}")
    assert not list((tmp_path / "out").rglob("*.json"))


def test_folder_without_images(tmp_path, coco):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("no pictures here")
    r = run_tool("image", "--image_file", tmp_path / "docs", "--output_dir", tmp_path, *coco)
    assert_one_line_error(r, 1, "docs: no images in this folder")


def test_glob_without_matches(tmp_path, coco):
    r = run_tool("image", "--image_file", tmp_path / "*.png", "--output_dir", tmp_path, *coco)
    assert_one_line_error(r, 1, "*.png: no files match")


def test_folder_with_some_bad_files_processes_the_good_ones(tmp_path, coco):
    folder = tmp_path / "mixed"
    make_image(folder / "good1.png")
    make_image(folder / "good2.jpg", seed=1)
    for name, (content, _) in BAD_IMAGES.items():
        (folder / name).write_bytes(content)
    out = tmp_path / "out"
    r = run_tool("image", "--image_file", folder, "--output_dir", out, *FAST, *coco)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    errors = r.stderr.strip().splitlines()
    assert len(errors) == len(BAD_IMAGES)
    for line, (name, (_, message)) in zip(errors, sorted(BAD_IMAGES.items())):
        assert line.startswith("error: ") and f"{name}: {message}" in line
    assert sorted(p.name for p in (out / "images" / "COCO").glob("*.json")) == ["good1-COCO.json", "good2-COCO.json"]
    assert r.stdout.splitlines()[-1].startswith(f"done: 2 images, {len(BAD_IMAGES)} failed")


def test_16bit_gray_and_alpha_images_are_converted(tmp_path, coco):
    base = cv2.imread(str(make_image(tmp_path / "base.png", size=(80, 60))))
    cv2.imwrite(str(tmp_path / "deep.png"), base.astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "gray.png"), cv2.cvtColor(base, cv2.COLOR_BGR2GRAY))
    alpha = np.dstack([base, np.full(base.shape[:2], 200, np.uint8)])
    cv2.imwrite(str(tmp_path / "alpha.png"), alpha)
    assert cv2.imread(str(tmp_path / "deep.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert cv2.imread(str(tmp_path / "alpha.png"), cv2.IMREAD_UNCHANGED).shape[2] == 4
    out = tmp_path / "out"
    r = run_tool("image", "--image_file", *(tmp_path / f"{n}.png" for n in ("deep", "gray", "alpha", "base")),
                 "--output_dir", out, *FAST, *coco)
    assert r.returncode == 0, r.stderr
    folder = out / "images" / "COCO"
    results = {n: load_json(folder / f"{n}-COCO.json") for n in ("deep", "gray", "alpha", "base")}
    assert all(d["image_size"] == [80, 60] for d in results.values())
    # 16-bit and alpha inputs become the same 8-bit BGR image, so the same people
    assert results["deep"]["people"] == results["base"]["people"]
    assert results["alpha"]["people"] == results["base"]["people"]
    assert cv2.imread(str(folder / "gray-Skeleton-COCO.jpg")).shape == (60, 80, 3)


def test_very_large_image_stays_within_memory(tmp_path, coco):
    """8000x6000 (48 Mpx, 144 MB as BGR): processed at full size, peak memory bounded."""
    image = np.full((6000, 8000, 3), 90, np.uint8)
    image[1000:5000, 3000:5000] = (40, 120, 200)
    path = tmp_path / "huge.jpg"
    assert cv2.imwrite(str(path), image)
    out = tmp_path / "out"
    # Run in a child of a fresh interpreter so RUSAGE_CHILDREN measures this run alone.
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    r = subprocess.run([sys.executable, "-c", probe, sys.executable, str(ROOT / SCRIPTS["image"]),
                        "--image_file", str(path), "--output_dir", str(out), "--quiet", *FAST, *coco],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    peak_mb = int(r.stdout.splitlines()[-1]) / 1024
    # measured ~355 MB: the decoded input (144 MB), one rendered copy, the encoder's buffer
    assert peak_mb < 600, peak_mb
    skeleton = cv2.imread(str(out / "images" / "COCO" / "huge-Skeleton-COCO.jpg"), cv2.IMREAD_REDUCED_COLOR_8)
    assert skeleton.shape == (750, 1000, 3)
    assert load_json(out / "images" / "COCO" / "huge-COCO.json")["image_size"] == [8000, 6000]


@pytest.mark.parametrize("tool", ["image", "video"])
def test_unknown_mode(tool):
    r = run_tool(tool, "--mode", "HAND")
    assert_one_line_error(r, 2, "--mode", "unknown model 'HAND'", "COCO, MPI, MPI_4, BODY_25")


@pytest.mark.parametrize("value, why", [("368", "expected WxH"), ("-1x-1", "only one side"),
                                        ("100x368", "multiples of 8")])
def test_malformed_net_resolution(value, why):
    r = run_tool("image", "--net_resolution", value)
    assert_one_line_error(r, 2, "--net_resolution", why)


@pytest.mark.parametrize("args, why", [
    (["--threshold", "1.5"], "between 0 and 1"), (["--max_people", "0"], "at least 1"),
    (["--stages", "7"], "stages must be 1..6"), (["--scales", "1,x"], "comma-separated"), (["--device", "tpu"], "choose one of"),
])
def test_bad_option_values(args, why):
    r = run_tool("image", *args)
    assert_one_line_error(r, 2, why)


def test_stages_with_proto_is_a_usage_error(tmp_path, coco):
    image = make_image(tmp_path / "x.png")
    r = run_tool("image", "--image_file", image, "--output_dir", tmp_path, "--stages", "2", *coco)
    assert_one_line_error(r, 2, "--stages", "--proto")


def test_missing_weights_file(tmp_path):
    image = make_image(tmp_path / "x.png")
    r = run_tool("image", "--image_file", image, "--output_dir", tmp_path, "--weights", tmp_path / "none.caffemodel")
    assert_one_line_error(r, 2, "weights not found", "none.caffemodel")


def test_weights_for_another_model(tmp_path, coco):
    image = make_image(tmp_path / "x.png")
    r = run_tool("image", "--image_file", image, "--output_dir", tmp_path, "--mode", "MPI", *coco)
    assert_one_line_error(r, 2, "57 channels", "MPI needs 44", "wrong --mode")


@pytest.mark.parametrize("tool", ["image", "video"])
def test_output_folder_that_cannot_be_created(tmp_path, coco, tool):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should go")
    media = make_image(tmp_path / "x.png") if tool == "image" else make_video(tmp_path / "x.mp4")
    r = run_tool(tool, f"--{tool}_file", media, "--output_dir", blocker / "sub", *coco)
    assert_one_line_error(r, 1, "cannot write to output folder", "Not a directory")


def test_output_folder_that_is_a_file(tmp_path, coco):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "COCO").write_text("a file where the mode's folder should go")
    image = make_image(tmp_path / "x.png")
    r = run_tool("image", "--image_file", image, "--output_dir", tmp_path, *coco)
    assert_one_line_error(r, 1, "cannot use output folder", "images/COCO", "a file of that name exists")


# ---------------------------------------------------------------- video

def test_missing_video(tmp_path, coco):
    r = run_tool("video", "--video_file", tmp_path / "gone.mp4", *coco)
    assert_one_line_error(r, 1, "gone.mp4: video not found")


def test_empty_video_file(tmp_path, coco):
    (tmp_path / "zero.mp4").write_bytes(b"")
    r = run_tool("video", "--video_file", tmp_path / "zero.mp4", *coco)
    assert_one_line_error(r, 1, "zero.mp4: empty file (0 bytes)")


def test_video_that_cannot_be_opened(tmp_path, coco):
    (tmp_path / "notes.mp4").write_text("this is not a video\n" * 20)
    r = run_tool("video", "--video_file", tmp_path / "notes.mp4", "--output_dir", tmp_path, *coco)
    assert_one_line_error(r, 1, "notes.mp4", "a text file, not a video")
    assert leftovers(tmp_path) == [] and not (tmp_path / "videos").exists()


def test_video_with_zero_readable_frames(tmp_path, coco):
    """An AVI cut right after its header: it opens and claims frames, none decodes."""
    full = make_video(tmp_path / "full.avi", frames=5, fourcc="MJPG")
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[:data.find(b"movi") + 4])
    cap = cv2.VideoCapture(str(cut))
    assert cap.isOpened() and not cap.read()[0]
    r = run_tool("video", "--video_file", cut, "--output_dir", tmp_path, *coco)
    assert_one_line_error(r, 1, "cut.avi: no readable frames")


def test_start_frame_past_the_end(tmp_path, coco):
    video = make_video(tmp_path / "v.mp4", frames=4)
    r = run_tool("video", "--video_file", video, "--start_frame", 10, "--output_dir", tmp_path, *coco)
    assert_one_line_error(r, 1, "--start_frame 10 is past the end (4 frames)")


def test_camera_that_does_not_exist(coco):
    r = run_tool("video", "--video_file", "97", *coco)
    assert_one_line_error(r, 1, "cannot open camera 97")


def test_stream_that_cannot_be_reached(coco):
    r = run_tool("video", "--video_file", "rtsp://127.0.0.1:9/none", *coco, timeout=60)
    assert_one_line_error(r, 1, "cannot open rtsp://127.0.0.1:9/none")


@pytest.mark.parametrize("value", ["0", "-3"])
def test_bad_video_numbers(value):
    r = run_tool("video", "--every", value)
    assert_one_line_error(r, 2, "--every", "at least 1")


@pytest.mark.parametrize("tool", ["image", "video"])
def test_a_broken_opencv_install_is_one_line(tmp_path, tool):
    """opencv-python on a server without libGL fails at import; say so without a traceback."""
    (tmp_path / "cv2.py").write_text('raise ImportError("libGL.so.1: cannot open shared object file")\n')
    r = run_tool(tool, env={"PYTHONPATH": str(tmp_path)})
    assert_one_line_error(r, 2, "libGL.so.1", "pip install -r requirements.txt")
