"""The tools' --demo: a run without downloaded weights, on a generated network.

The network is the oracle of pose.families.openpose.demo.oracle (one convolution that
outputs the maps its input image encodes), and the input is such an image: maps
rendered from two people drawn in code (fields, skeletons), encoded into pixels. The
tools then run every stage for real (engine, decoding, classification, drawing, JSON)
and find those two people. The picture looks like coloured noise, as the network sees
it: it is not a photograph and the network is not a trained model, which every output
says (DEMO_LABEL).

The same modules are the test suite's oracle network and rendered maps.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from pose.families.openpose.demo import skeletons
from pose.families.openpose.demo.fields import render_output
from pose.families.openpose.demo.oracle import encode, write_oracle_model
from pose.families.openpose.preprocess import NetResolution, compute_geometry
from pose.families.openpose.spec import ModelSpec, get_spec

DEMO_LABEL = "DEMO network, not a trained model"
SIZE = 368  # the oracle's image must reach the network unscaled: --net_resolution SIZExSIZE
FRAMES = 30
FPS = 10


def _people(spec: ModelSpec, frame: int = 0) -> List[np.ndarray]:
    """A person waving hello who walks right 4 px a frame, and one standing still."""
    walker = skeletons.make(spec, 0.9, at=(90 + 4 * frame, 70), scale=0.9, **skeletons.HELLO_RIGHT)
    still = skeletons.make(spec, 0.9, at=(280, 90), scale=0.8)
    return [walker.keypoints, still.keypoints]


def _image(spec: ModelSpec, people: Sequence[np.ndarray]) -> np.ndarray:
    geometry = compute_geometry((SIZE, SIZE), NetResolution(SIZE, SIZE))
    return encode(render_output(people, spec, geometry), spec)


def write_demo(folder: Path, model: str, tool: str) -> Tuple[Path, Path, Path]:
    """The demo network for `model` (any of OpenPose's body layouts) and the demo input of
    `tool` ("image": a PNG, "video": a lossless FFV1 clip), in `folder`; returns
    (prototxt, caffemodel, input). Written again each time: a few milliseconds."""
    spec = get_spec(model)
    folder = Path(folder)
    proto, weights = write_oracle_model(folder, spec)
    if tool == "image":
        path = folder / f"demo_{spec.name}.png"
        if not cv2.imwrite(str(path), _image(spec, _people(spec))):
            raise OSError(f"cannot write the demo image {path}")
        return proto, weights, path
    path = folder / f"demo_{spec.name}.mkv"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), FPS, (SIZE, SIZE))
    if not writer.isOpened():
        raise OSError(f"cannot write the demo video {path} (this OpenCV has no FFV1 encoder)")
    try:
        for k in range(FRAMES):
            writer.write(_image(spec, _people(spec, k)))
    finally:
        writer.release()
    return proto, weights, path
