"""Render the README's picture: Input/example_image1.png (public domain) with BlazePose's
real landmarks, drawn as get_hpe_image.py draws them (skeleton in MediaPipe's colours, the
classification label by the head), the names of the landmarks it sees (visibility >= 0.5)
and the classification in a caption. Writes docs/images/blazepose_example_image1.png.

    python tools/make_readme_picture.py [--out FILE] [--model_dir DIR]

The weights are fetched when missing (pose.families.blazepose.weights.ensure: the mediapipe
0.10.21 wheel through pip, else MediaPipe's bucket).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pose.analysis.classify import classify_people  # noqa: E402
from pose.families.blazepose import MODEL, BlazePose  # noqa: E402
from pose.families.blazepose.estimator import BOX_VISIBILITY  # noqa: E402
from pose.io.render import FONT, draw_text_box, skeleton_view  # noqa: E402

SOURCE = ROOT / "Input" / "example_image1.png"
TARGET = ROOT / "docs" / "images" / "blazepose_example_image1.png"
# The landmarks named in the picture (where seen): the body's, not the face's crowd of points.
NAMED = ("nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
         "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
NAME_BGR = (255, 255, 255)
NAME_BACKGROUND_BGR = (60, 60, 60)


def render(image: np.ndarray, estimator: BlazePose) -> np.ndarray:
    """The picture: the tool's skeleton view, landmark names and a caption."""
    people = estimator.estimate(image)
    classify_people(people, MODEL)
    out = skeleton_view(image.copy(), people, MODEL)
    layout = MODEL.layout
    scale = max(image.shape[:2]) / 1400
    for person in people:
        for name in NAMED:
            k = layout.index(name)
            x, y, visibility = person.keypoints[k]
            if visibility >= BOX_VISIBILITY:
                draw_text_box(out, name.replace("_", " "), (int(x) + 8, int(y) - 6), scale, NAME_BGR, NAME_BACKGROUND_BGR)
    lines: List[str] = [f"BlazePose (full), real weights: {len(people)} {'person' if len(people) == 1 else 'people'}"]
    for person in people:
        pc = person.pose_class
        lines.append(f"gesture {pc.gesture} ({pc.gesture_confidence:.2f}), posture {pc.posture}"
                     + (" (hips or knees not seen)" if pc.posture == "unknown" else f" ({pc.posture_confidence:.2f})"))
    caption_scale = max(image.shape[:2]) / 1250
    (_, th), base = cv2.getTextSize("Ag", FONT, caption_scale, max(1, int(round(2 * caption_scale))))
    step = th + base + 2 * max(2, int(round(4 * caption_scale)))
    for k, line in enumerate(reversed(lines)):
        draw_text_box(out, line, (0, image.shape[0] - k * step), caption_scale)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=TARGET, help=f"the picture (default: {TARGET.relative_to(ROOT)})")
    ap.add_argument("--model_dir", type=Path, help="the folder with BlazePose's two .tflite files")
    args = ap.parse_args(argv)
    image = cv2.imread(str(SOURCE))
    if image is None:
        print(f"cannot read {SOURCE}", file=sys.stderr)
        return 1
    picture = render(image, BlazePose(args.model_dir, fetch=True))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.out), picture, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        print(f"cannot write {args.out}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
