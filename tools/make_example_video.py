"""Rebuild Input/example_video1.mp4: a slow zoom and pan over Input/example_image1.png
(the public-domain NASA photo of Eileen Collins), so the project has a short video with
a person that it may redistribute.

    python tools/make_example_video.py
"""
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "Input" / "example_image1.png"
TARGET = ROOT / "Input" / "example_video1.mp4"
SIZE = (320, 240)  # small on purpose: the file ships with the repository
FPS = 15
SECONDS = 4


def frames(image: np.ndarray):
    """Crop windows (4:3) that shrink towards the upper body and drift right, with a
    slight sway, each resized to SIZE."""
    h, w = image.shape[:2]
    n = FPS * SECONDS
    for k in range(n):
        t = k / (n - 1)
        ease = 0.5 - 0.5 * np.cos(np.pi * t)
        crop_w = w * (1.0 - 0.2 * ease)
        crop_h = crop_w * SIZE[1] / SIZE[0]
        cx = w / 2 + 0.05 * w * ease
        cy = crop_h / 2 + (h - crop_h) * (0.5 - 0.3 * ease)
        angle = 3.0 * np.sin(2 * np.pi * t)
        scale = SIZE[0] / crop_w
        m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
        m[:, 2] += np.array(SIZE) / 2 - np.array([cx, cy])
        yield cv2.warpAffine(image, m, SIZE, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


def main() -> int:
    image = cv2.imread(str(SOURCE))
    if image is None:
        print(f"cannot read {SOURCE}", file=sys.stderr)
        return 1
    tmp = TARGET.with_name(TARGET.stem + ".tmp.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    for frame in frames(image):
        writer.write(frame)
    writer.release()
    tmp.replace(TARGET)
    print(f"{TARGET}: {FPS * SECONDS} frames, {SIZE[0]}x{SIZE[1]}, {FPS} fps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
