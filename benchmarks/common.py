"""What the benchmarks share: the test frame and video, the full-size random weights (cached
under benchmarks/.cache/, git-ignored) and the machine line every report starts with."""
from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
SIZE = 368  # the seed's net input, square
MODEL = "COCO"
# Random weights give hundreds of heatmap peaks at the model's own threshold; 0.6 keeps a
# video's decoding near what ~10 real people cost.
VIDEO_THRESHOLD = 0.6


def sample_image(size: int = SIZE) -> np.ndarray:
    """A fixed frame: a seed photo when ../shared is there, else smooth noise."""
    import cv2
    photo = ROOT.parent / "shared" / "media" / "seed-inputs" / "example_image1.png"
    image = cv2.imread(str(photo)) if photo.is_file() else None
    if image is None:
        noise = np.random.default_rng(0).integers(0, 256, (size // 8, size // 8, 3), np.uint8)
        image = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def synthetic_video(path: Path, frames: int) -> None:
    import cv2
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (SIZE, SIZE))
    image = sample_image()
    for i in range(frames):
        writer.write(np.roll(image, 4 * i, axis=1))  # a slow pan: every frame differs
    writer.release()


def full_size_weights() -> Path:
    from pose.families.openpose.net.architecture import build_layers
    from pose.families.openpose.spec import get_spec
    from tests.support.random_weights import write_random_caffemodel
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "coco_random_seed0.caffemodel"
    if not path.is_file():
        write_random_caffemodel(path, build_layers(get_spec(MODEL)), seed=0)
    return path


def machine() -> str:
    from pose.runtime import cpu
    from pose.runtime.backends import cpu_cores
    return (f"{cpu.describe()}, {cpu_cores()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")
