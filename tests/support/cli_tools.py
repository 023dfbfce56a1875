"""Helpers for the end-to-end tests: run the two tools as a user would (a subprocess),
and make small inputs for them."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_IMAGE = ROOT / "Input" / "example_image1.png"
SCRIPTS = {"image": "get_hpe_image.py", "video": "get_hpe_video.py"}
# Small network inputs keep each run well under a second with the narrow models.
FAST = ("--net_resolution", "-1x96")


def run_tool(tool: str, *args: object, cwd: Optional[Path] = None, timeout: float = 120,
             env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """`python get_hpe_<tool>.py args...` from `cwd` (default: the project root)."""
    cwd = Path(cwd or ROOT)
    full_env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, str(cwd / SCRIPTS[tool]), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=full_env)


def start_tool(tool: str, *args: object, cwd: Optional[Path] = None, **popen) -> subprocess.Popen:
    """`python get_hpe_<tool>.py args...` started in the background (signals, races)."""
    cwd = Path(cwd or ROOT)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
    return subprocess.Popen([sys.executable, str(cwd / SCRIPTS[tool]), *map(str, args)], cwd=cwd, env=env,
                            **popen)


def wait_until(condition: Callable[[], bool], timeout: float = 60, every: float = 0.02) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def model_args(proto: Path, weights: Path) -> List[str]:
    return ["--proto", str(proto), "--weights", str(weights)]


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """The tool failed with `code`, one stderr line holding every fragment, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def read_jsonl(path: Path) -> list:
    """Every object of a JSON Lines file (the video tool's output)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def leftovers(folder: Path) -> List[Path]:
    """Temporary files of the atomic writers left anywhere below `folder`."""
    return [p for p in Path(folder).rglob("*") if ".tmp-" in p.name or ".tmp." in p.name]


def make_image(path: Path, size=(96, 72), seed: int = 0) -> Path:
    """A small photo: a crop of the example image, shifted by `seed`, resized to `size`."""
    photo = cv2.imread(str(EXAMPLE_IMAGE))
    h, w = photo.shape[:2]
    shift = 8 * seed
    image = cv2.resize(photo[shift:, shift:w - shift], size, interpolation=cv2.INTER_AREA)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def make_video(path: Path, frames: int = 8, size=(96, 64), fps: float = 12.0, fourcc: str = "mp4v") -> Path:
    """A small video panning across the example photo."""
    photo = cv2.imread(str(EXAMPLE_IMAGE))
    w, h = size
    scaled = cv2.resize(photo, (2 * w, 2 * w * photo.shape[0] // photo.shape[1]), interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened()
    for k in range(frames):
        x = k % w
        writer.write(np.ascontiguousarray(scaled[:h, x:x + w]))
    writer.release()
    return path


def photo_clip(path: Path, frames: int = 8) -> Path:
    """A short clip of a real person (real-weights tests): a 320x320 window over the example
    photo, drifting right 4 px of the photo a frame."""
    photo = cv2.imread(str(EXAMPLE_IMAGE))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 320))
    assert writer.isOpened()
    for k in range(frames):
        writer.write(np.ascontiguousarray(cv2.resize(photo[40:472, 40 + 4 * k:472 + 4 * k], (320, 320))))
    writer.release()
    return path


def video_facts(path: Path) -> tuple:
    """(frame count, fps, (width, height)) as OpenCV reads the file back."""
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), path
    count = 0
    while cap.read()[0]:
        count += 1
    facts = (count, cap.get(cv2.CAP_PROP_FPS),
             (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))))
    cap.release()
    return facts


def sandbox_project(folder: Path) -> Path:
    """A copy of the tools, the package and Input/ without any weights, so tests can run
    the seed's exact command lines and place model files without touching the checkout."""
    ignore = shutil.ignore_patterns("*.caffemodel", "*.onnx", "*.tflite", "*.blob", "__pycache__", "*.part")
    for script in SCRIPTS.values():
        shutil.copy2(ROOT / script, folder / script)
    shutil.copytree(ROOT / "pose", folder / "pose", ignore=ignore)
    shutil.copytree(ROOT / "Input", folder / "Input", ignore=ignore)
    return folder
