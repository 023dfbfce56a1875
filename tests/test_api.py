"""The public face: `import pose` is enough for the README's example, and an installed
package finds its data where a user expects it."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

import pose
from tests.support.nets import write_model

ROOT = Path(__file__).resolve().parent.parent


def test_import_pose_is_cheap_and_lists_the_api():
    # The entry scripts' import guard needs `import pose` to work before cv2 is importable.
    code = "import sys, pose; assert 'cv2' not in sys.modules and 'numpy' not in sys.modules; print(pose.__all__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for name in ("PoseEstimator", "Person", "DecodeOptions", "classify", "draw_skeleton", "MODELS"):
        assert name in out.stdout and getattr(pose, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Estimator'"):
        pose.Estimator


def test_tools_keep_numpys_blas_to_one_thread_unless_told():
    # The tools' numpy BLAS must not start threads beside the engine's (OpenBLAS spins
    # them: measured, twice the decoder's CPU time on 2 cores); the setting has to come
    # before numpy loads, and a user's own value is kept.
    code = ("import os, sys; from pose.entry import single_threaded_blas; assert 'numpy' not in sys.modules; "
            "single_threaded_blas(); print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1"]
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**env, "OPENBLAS_NUM_THREADS": "4"})
    assert out.stdout.split() == ["4", "1"]


def test_readme_example_with_one_import(model_dir):
    proto, weights = write_model(model_dir, pose.MODELS["MPI_4"])
    est = pose.PoseEstimator("mpi_4", proto=proto, weights=weights, net_resolution="-1x96")
    image = cv2.imread(str(ROOT / "Input" / "example_image1.png"))
    people = est(image)  # callable, as estimate()
    assert isinstance(people, list) and all(isinstance(p, pose.Person) for p in people)
    assert [p.score for p in est.estimate(image)] == [p.score for p in people]
    pose.classify_people(people, est.spec)
    drawn = pose.draw_skeleton(image.copy(), people, est.spec)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8


def test_warnings_go_through_logging(monkeypatch, model_dir, pose_warnings):
    from pose.runtime import device
    monkeypatch.setattr(device, "cuda_available", lambda: False)
    proto, weights = write_model(model_dir, pose.MODELS["MPI_4"])
    pose.PoseEstimator("MPI_4", proto=proto, weights=weights, device="gpu")
    assert len(pose_warnings()) == 1 and "running on the CPU" in pose_warnings()[0]


def test_bad_arguments_are_value_errors():
    for kwargs, text in (({"engine": "tensorrt"}, "unknown engine"), ({"device": "tpu"}, "unknown device"),
                         ({"stages": 9}, "stages must be"), ({"scales": "1,nan"}, "scales must be"),
                         ({"net_resolution": "10x10"}, "multiples of 8")):
        with pytest.raises(ValueError, match=text):
            pose.PoseEstimator("COCO", **kwargs)


def test_installed_package_keeps_weights_in_the_user_data_folder(tmp_path):
    """pip install . : console commands, the deploy files as package data, and weights in
    ~/.cache/opencv-hpe (or $OPENCV_HPE_HOME) instead of beside the code."""
    src, wheel_dir = tmp_path / "src", tmp_path / "wheel"
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    shutil.copytree(ROOT / "pose", src / "pose",
                    ignore=shutil.ignore_patterns("__pycache__", "*.caffemodel*", "*.onnx", "*.tflite", "*.blob"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheel_dir), str(src)], capture_output=True, text=True)
    if build.returncode != 0 and "No module named" in build.stderr:
        pytest.skip(f"cannot build a wheel here: {build.stderr.strip().splitlines()[-1]}")
    assert build.returncode == 0, build.stderr
    wheel = next(wheel_dir.glob("opencv_hpe-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        z.extractall(site)
    assert "pose/coco/pose_deploy_linevec.prototxt" in names and "pose/body_25/pose_deploy.prototxt" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "get-hpe-image = pose.entry:image" in (site / entry_points).read_text()
    assert "get-hpe-eval = pose.entry:evaluate" in (site / entry_points).read_text()
    assert not any(n.endswith(".caffemodel") or n.startswith("tests/") for n in names)
    env = {**os.environ, "PYTHONPATH": str(site), "HOME": str(tmp_path / "home")}
    env.pop("OPENCV_HPE_HOME", None)
    env.pop("XDG_CACHE_HOME", None)
    code = "from pose import MODELS; print(MODELS['COCO'].weights.path); print(MODELS['COCO'].prototxt.is_file())"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.stdout.split() == [str(tmp_path / "home" / ".cache" / "opencv-hpe" / "coco" / "pose_iter_440000.caffemodel"),
                                  "True"], out.stderr
    env["OPENCV_HPE_HOME"] = str(tmp_path / "models")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.stdout.split()[0] == str(tmp_path / "models" / "coco" / "pose_iter_440000.caffemodel")
    photo = ROOT / "Input" / "example_image1.png"
    run = subprocess.run([sys.executable, "-c", "import sys; from pose.entry import image; sys.exit(image())",
                          "--image_file", str(photo)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "get-hpe-models COCO" in run.stderr  # the installed command, not ./getModels.sh


def test_checkout_keeps_weights_beside_the_code():
    assert pose.MODELS["COCO"].weights.path == ROOT / "pose" / "coco" / "pose_iter_440000.caffemodel"
