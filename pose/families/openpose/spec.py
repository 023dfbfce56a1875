"""Facts about the OpenPose networks, as data.

Every PAF pair and channel, threshold, path, URL and checksum of OpenPose's networks
lives here and nowhere else; their keypoint layouts (names, drawn limbs, colours, COCO
mapping) are pose.layouts' COCO18, MPI15, BODY25, HAND21 and FACE70. Sources: CMU OpenPose's poseParameters.cpp
and deploy files, as collected in shared/docs/openpose-reference.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

from pose.core.layout import RGB, Layout
from pose.core.paths import PACKAGE_DIR, models_dir
from pose.layouts import BODY25, COCO18, FACE70, HAND21, MPI15

# OpenPose's network reduces the input by this factor (three 2x2/2 max pools).
STRIDE = 8
# The refinement stages of the published body networks.
FULL_STAGES = 6
# The seed's single-person method keeps a part whose heatmap maximum exceeds this.
SINGLE_PERSON_THRESHOLD = 0.1
# Points sampled along a candidate limb. OpenPose's first decoder took a fixed 10; its newer
# connector takes clamp(round(sqrt(5 * max(|dx|, |dy|))), 5, 25), dx, dy the limb's extent in
# net-input pixels (paf_sample_counts). ModelSpec.paf_samples picks one per model: a count,
# or ADAPTIVE for the rule. Every model uses the rule: on maps rendered from the annotations
# (benchmarks/eval_decode.py) it decodes clean maps and crowds as the fixed 10 did (within
# +-0.003 recall, either sign) and noisy maps better (noise 0.1: COCO 0.855 -> 0.874,
# BODY_25 0.870 -> 0.894; MPI equal).
ADAPTIVE = None
ADAPTIVE_PAF_FACTOR, ADAPTIVE_PAF_MIN, ADAPTIVE_PAF_MAX = 5.0, 5, 25
# OpenPose's distance prior: a limb longer than this fraction of the image height H
# scores min(LIMB_LENGTH_PRIOR * H / length - 1, 0) less.
LIMB_LENGTH_PRIOR = 0.5


@dataclass(frozen=True)
class Thresholds:
    """OpenPose's default decoding parameters for one model."""

    peak: float  # heatmap NMS threshold
    inter: float  # PAF sample score threshold
    inter_min_above: float  # fraction of PAF samples that must pass `inter`
    min_parts: int  # minimum parts for a person ("min subset count")
    min_score: float  # minimum mean score of a person ("min subset score")


@dataclass(frozen=True)
class Weights:
    """A published weights file: where it lives and how to recognise it.

    Only the checksums that were published are set: OpenPose gives nothing but an MD5
    for BODY_25, and a checksum computed from an unverified copy would prove nothing.
    """

    relpath: Path  # below the models folder (pose.core.paths.models_dir), e.g. coco/x.caffemodel; or absolute
    size: Optional[int]  # bytes; None where no exact size is published (then the checksum alone decides)
    sha256: Optional[str]
    urls: Tuple[str, ...]
    md5: Optional[str] = None
    # No checksum is published at all (mmpose's zips): the download is checked against the
    # record of its first download instead (pose.download.archive), never against nothing
    # by accident.
    unpublished: bool = False

    def __post_init__(self) -> None:
        if not self.checksums() and not self.unpublished:
            raise ValueError(f"{self.path.name}: a weights file needs a SHA-256 or an MD5")

    def checksums(self) -> Dict[str, str]:
        """The published checksums by hashlib name, strongest first."""
        return {name: value for name, value in (("sha256", self.sha256), ("md5", self.md5)) if value}

    @property
    def path(self) -> Path:
        """Where the file is (or goes): pose/<model>/ in a checkout, else the user data folder."""
        return models_dir() / self.relpath


@dataclass(frozen=True)
class ModelSpec:
    """One OpenPose network: its keypoint layout (pose.layouts), its PAF head (pairs and
    channels), decoding thresholds and files."""

    name: str
    layout: Layout
    pairs: Tuple[Tuple[int, int], ...]  # limb pairs in OpenPose's order: the layout's bones and the grouping-only ones
    paf_channels: Tuple[Tuple[int, int], ...]  # (x, y) relative to the first PAF channel
    grouping_only: Tuple[int, ...]  # indices of the pairs that group people but are not drawn
    thresholds: Thresholds
    prototxt: Path
    weights: Weights
    stages: int  # refinement stages of the deploy file
    output_name: str  # top of the final concat layer in OpenPose's deploy file
    # "two_branch": COCO/MPI, every stage has a PAF (L1) and a heatmap (L2) branch;
    # "body_25": PAF stages, then heatmap stages, PReLU (pose.families.openpose.net.architecture builds both).
    topology: str = "two_branch"
    # OpenPose's render colour per keypoint where its files publish it (BODY_25, hand,
    # face); drawing takes the layout's colours, which equal these.
    colors_rgb: Optional[Tuple[RGB, ...]] = None
    # PAF samples per candidate limb: a fixed count, or ADAPTIVE (OpenPose's newer rule).
    paf_samples: Optional[int] = ADAPTIVE

    @property
    def keypoints(self) -> Tuple[str, ...]:
        """The layout's keypoint names (without the network's background channel)."""
        return self.layout.keypoints

    @property
    def coco17(self) -> Optional[Tuple[int, ...]]:
        """Index of each COCO-17 keypoint, as OpenPose's --write_coco_json maps them; None
        where the layout has no COCO export (MPI)."""
        return self.layout.coco17

    @property
    def n_keypoints(self) -> int:
        return len(self.keypoints)

    @property
    def n_heatmaps(self) -> int:
        """Heatmap channels, background included."""
        return len(self.keypoints) + 1

    @property
    def n_pafs(self) -> int:
        return 2 * len(self.pairs)

    @property
    def n_channels(self) -> int:
        """Channels of the network output: heatmaps first, then PAFs."""
        return self.n_heatmaps + self.n_pafs

    @property
    def drawn(self) -> Tuple[int, ...]:
        """Indices of the pairs OpenPose draws, in pair order."""
        return tuple(k for k in range(len(self.pairs)) if k not in self.grouping_only)

    @property
    def drawn_pairs(self) -> int:
        """How many leading pairs are drawn, where the grouping-only pairs come last
        (COCO, MPI). BODY_25's sit between drawn ones: a count cannot say which, so
        asking is an error rather than a wrong drawing."""
        n = len(self.drawn)
        if self.drawn != tuple(range(n)):
            raise ValueError(f"{self.name} does not draw a leading run of its pairs: use "
                             "spec.drawn or spec.grouping_only")
        return n

    def paf_channels_absolute(self) -> Tuple[Tuple[int, int], ...]:
        """(x, y) PAF channels of every pair, as indices into the network output."""
        return tuple((x + self.n_heatmaps, y + self.n_heatmaps) for x, y in self.paf_channels)

    def paf_sample_counts(self, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """PAF samples for limbs spanning dx, dy net-input pixels: the fixed count, or
        OpenPose's clamp(round(sqrt(5 * max(|dx|, |dy|))), 5, 25)."""
        dx, dy = np.abs(np.asarray(dx, float)), np.abs(np.asarray(dy, float))
        if self.paf_samples is not ADAPTIVE:
            return np.full(np.broadcast(dx, dy).shape, self.paf_samples, dtype=int)
        n = np.floor(np.sqrt(ADAPTIVE_PAF_FACTOR * np.maximum(dx, dy)) + 0.5)  # OpenPose's positiveIntRound
        return np.clip(n, ADAPTIVE_PAF_MIN, ADAPTIVE_PAF_MAX).astype(int)

    def index(self, keypoint: str) -> Optional[int]:
        """Index of a keypoint by name, None where this layout has no such keypoint."""
        return self.layout.index(keypoint)


# The network's pairs: the layout's drawn bones, and the grouping-only pairs (shoulder to
# ear) where OpenPose's PAF head has them.
COCO_PAIRS = COCO18.bones + ((2, 16), (5, 17))
COCO_PAF = (
    (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5),
    (6, 7), (8, 9), (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37), (18, 19),
    (26, 27),
)

MPI_PAIRS = MPI15.bones
MPI_PAF = tuple((2 * k, 2 * k + 1) for k in range(len(MPI_PAIRS)))

BODY25_PAIRS = BODY25.bones[:18] + ((2, 17), (5, 18)) + BODY25.bones[18:]
BODY25_PAF = (
    (0, 1), (14, 15), (22, 23), (16, 17), (18, 19), (24, 25), (26, 27), (6, 7), (2, 3), (4, 5),
    (8, 9), (10, 11), (12, 13), (30, 31), (32, 33), (36, 37), (34, 35), (38, 39), (20, 21),
    (28, 29), (40, 41), (42, 43), (44, 45), (46, 47), (48, 49), (50, 51),
)
COCO_WEIGHTS = Weights(
    relpath="coco/pose_iter_440000.caffemodel",
    size=209274056,
    sha256="b4cf475576abd7b15d5316f1ee65eb492b5c9f5865e70a2e7882ed31fb682549",
    urls=(
        "http://posefs1.perception.cs.cmu.edu/OpenPose/models/pose/coco/pose_iter_440000.caffemodel",
        "http://vcl.snu.ac.kr/OpenPose/models/pose/coco/pose_iter_440000.caffemodel",
        "https://huggingface.co/camenduru/openpose/resolve/main/models/pose/coco/pose_iter_440000.caffemodel",
        "https://dl.opencv.org/models/openpose_pose_coco.caffemodel",
        "https://www.dropbox.com/s/2h2bv29a130sgrk/pose_iter_440000.caffemodel?dl=1",
    ),
)
MPI_WEIGHTS = Weights(
    relpath="mpi/pose_iter_160000.caffemodel",
    size=205950363,
    sha256="2ea61d8549a3386972ba9a310468f961e7157d94c5ee2529a51b3901bb82ee21",
    urls=(
        "http://posefs1.perception.cs.cmu.edu/OpenPose/models/pose/mpi/pose_iter_160000.caffemodel",
        "http://vcl.snu.ac.kr/OpenPose/models/pose/mpi/pose_iter_160000.caffemodel",
        "https://huggingface.co/camenduru/openpose/resolve/main/models/pose/mpi/pose_iter_160000.caffemodel",
        "https://www.dropbox.com/s/drumc6dzllfed16/pose_iter_160000.caffemodel?dl=1",
    ),
)

BODY25_WEIGHTS = Weights(
    relpath="body_25/pose_iter_584000.caffemodel",
    size=104715850,
    sha256=None,  # OpenPose publishes only the MD5 its CMake build checks
    md5="78287b57cf85fa89c03f1393d368e5b7",
    urls=(
        "http://vcl.snu.ac.kr/OpenPose/models/pose/body_25/pose_iter_584000.caffemodel",
        "http://posefs1.perception.cs.cmu.edu/OpenPose/models/pose/body_25/pose_iter_584000.caffemodel",
    ),
)

_MPI = ModelSpec(
    name="MPI",
    layout=MPI15,
    pairs=MPI_PAIRS,
    paf_channels=MPI_PAF,
    grouping_only=(),
    thresholds=Thresholds(peak=0.6, inter=0.01, inter_min_above=0.95, min_parts=3, min_score=0.4),
    prototxt=PACKAGE_DIR / "mpi" / "pose_deploy_linevec.prototxt",
    weights=MPI_WEIGHTS,
    stages=FULL_STAGES,
    output_name="net_output",
)

MODELS: Dict[str, ModelSpec] = {
    "COCO": ModelSpec(
        name="COCO",
        layout=COCO18,
        pairs=COCO_PAIRS,
        paf_channels=COCO_PAF,
        grouping_only=(17, 18),  # RShoulder-REar and LShoulder-LEar
        thresholds=Thresholds(peak=0.05, inter=0.05, inter_min_above=0.95, min_parts=3, min_score=0.4),
        prototxt=PACKAGE_DIR / "coco" / "pose_deploy_linevec.prototxt",
        weights=COCO_WEIGHTS,
        stages=FULL_STAGES,
        output_name="concat_stage7",
    ),
    "MPI": _MPI,
    # OpenPose's "faster" MPI: the same weights, the net cut after stage 4.
    "MPI_4": replace(
        _MPI,
        name="MPI_4",
        thresholds=replace(_MPI.thresholds, peak=0.3),
        prototxt=PACKAGE_DIR / "mpi" / "pose_deploy_linevec_faster_4_stages.prototxt",
        stages=4,
    ),
    "BODY_25": ModelSpec(
        name="BODY_25",
        layout=BODY25,
        pairs=BODY25_PAIRS,
        paf_channels=BODY25_PAF,
        grouping_only=(18, 19),  # RShoulder-REar and LShoulder-LEar, between drawn pairs
        # OpenPose's BODY_25 defaults, the same numbers as COCO's.
        thresholds=Thresholds(peak=0.05, inter=0.05, inter_min_above=0.95, min_parts=3, min_score=0.4),
        prototxt=PACKAGE_DIR / "body_25" / "pose_deploy.prototxt",
        weights=BODY25_WEIGHTS,
        stages=FULL_STAGES,  # 4 PAF stages, then 2 heatmap stages
        output_name="net_output",
        topology="body_25",
        colors_rgb=BODY25.colors_rgb,
    ),
}

# OpenPose's licence covers its trained models: getModels.sh prints this when it downloads.
WEIGHTS_LICENCE = ("licence: OpenPose's weights are for academic or non-profit non-commercial research "
                   "use only (CMU's OpenPose licence); commercial use needs a licence from CMU")

# Weights files to download, by the name users give getModels.sh.
DOWNLOADS: Dict[str, Weights] = {"COCO": COCO_WEIGHTS, "MPI": MPI_WEIGHTS, "BODY_25": BODY25_WEIGHTS}


def get_spec(name: str) -> ModelSpec:
    """The spec of a model by name, case-insensitively; ValueError names the choices."""
    key = name.strip().upper()
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}")
    return MODELS[key]


# ---------------------------------------------------------------- hands and faces
# OpenPose's --hand and --face: two more 6-stage CPM networks (heatmaps only, no PAFs),
# run on square crops derived from each person's body keypoints. Facts from
# shared/docs/openpose-reference.md ("Hand and face models") and OpenPose's
# handParameters.hpp / faceParameters.hpp, handDetector.cpp / faceDetector.cpp.

PART_NET_SIDE = 368  # OpenPose's default --hand_net_resolution / --face_net_resolution (square)

@dataclass(frozen=True)
class HandBoxRule:
    """OpenPose's hand box from the body (handDetector.cpp): square, centred ahead of the
    wrist along the forearm, sized by the forearm or the upper arm, whichever is longer."""

    min_confidence: float = 0.03  # wrist, elbow and shoulder must all be above it
    ahead: float = 0.33  # centre = wrist + ahead * (wrist - elbow)
    side: float = 1.5  # side = side * max(|wrist - elbow|, upper_arm * |elbow - shoulder|)
    upper_arm: float = 0.9
    # handExtractorCaffe.cpp runs the net only on boxes wider than 1 px and over 10 px².
    min_side: float = 1.0
    min_area: float = 10.0


@dataclass(frozen=True)
class FaceBoxRule:
    """OpenPose's face box from the body (faceDetector.cpp): the mean of the estimates the
    visible head parts allow, each a centre and a side."""

    min_confidence: float = 0.25  # a part counts when above it
    neck_nose: float = 2.0  # centre between neck and nose, side 2 |neck - nose|
    eyes: float = 3.0  # centre between the eyes, side 3 |eye distance|
    ears: float = 2.0  # centre between the ears, side 2 |ear distance|
    # Profile (the eye and ear of one side only): centre = mean of that eye, ear and the
    # nose, side 0.85 (|nose - eye| + |nose - ear| + |neck - nose|), instead of neck_nose.
    profile: float = 0.85
    head: float = 1.33  # MPI (a head point, no face parts): centred on it, side 1.33 |neck - head|
    min_side: float = 40.0  # faceExtractorCaffe.cpp skips smaller faces


HAND_BOX = HandBoxRule()
FACE_BOX = FaceBoxRule()


@dataclass(frozen=True)
class PartSpec(ModelSpec):
    """A hand or face network: heatmaps only (pairs and PAFs empty), run on square crops.

    `thresholds.peak` is the confidence a keypoint must exceed to be reported and drawn
    (OpenPose's --hand_render_threshold / --face_render_threshold defaults); the other
    thresholds belong to PAF grouping and are unused.
    """

    net_side: int = PART_NET_SIDE

    @property
    def bones(self) -> Tuple[Tuple[int, int], ...]:
        """The drawn segments (the layout's)."""
        return self.layout.bones


def _heatmaps_only(peak: float) -> Thresholds:
    return Thresholds(peak=peak, inter=0.0, inter_min_above=0.0, min_parts=0, min_score=0.0)


HAND_WEIGHTS = Weights(
    relpath="hand/pose_iter_102000.caffemodel",
    # The reference gives only "~147 MB" (36.8 M parameters): no exact size is published,
    # so the MD5 OpenPose's CMake checks is the whole proof.
    size=None,
    sha256=None,
    md5="a82cfc3fea7c62f159e11bd3674c1531",
    urls=(
        "http://vcl.snu.ac.kr/OpenPose/models/hand/pose_iter_102000.caffemodel",
        "http://posefs1.perception.cs.cmu.edu/OpenPose/models/hand/pose_iter_102000.caffemodel",
        "https://huggingface.co/camenduru/openpose/resolve/main/models/hand/pose_iter_102000.caffemodel",
    ),
)
FACE_WEIGHTS = Weights(
    relpath="face/pose_iter_116000.caffemodel",
    size=None,  # "~154 MB" (38.4 M parameters); MD5 only, as for the hand
    sha256=None,
    md5="e747180d728fa4e4418c465828384333",
    urls=(
        "http://vcl.snu.ac.kr/OpenPose/models/face/pose_iter_116000.caffemodel",
        "http://posefs1.perception.cs.cmu.edu/OpenPose/models/face/pose_iter_116000.caffemodel",
        "https://huggingface.co/camenduru/openpose/resolve/main/models/face/pose_iter_116000.caffemodel",
    ),
)

PARTS: Dict[str, PartSpec] = {
    "HAND": PartSpec(
        name="HAND", layout=HAND21, pairs=(), paf_channels=(), grouping_only=(),
        thresholds=_heatmaps_only(0.2),  # --hand_render_threshold
        prototxt=PACKAGE_DIR / "hand" / "pose_deploy.prototxt", weights=HAND_WEIGHTS,
        stages=FULL_STAGES, output_name="net_output", topology="hand",
        colors_rgb=HAND21.colors_rgb,
    ),
    "FACE": PartSpec(
        name="FACE", layout=FACE70, pairs=(), paf_channels=(), grouping_only=(),
        thresholds=_heatmaps_only(0.4),  # --face_render_threshold
        prototxt=PACKAGE_DIR / "face" / "pose_deploy.prototxt", weights=FACE_WEIGHTS,
        stages=FULL_STAGES, output_name="net_output", topology="face",
        colors_rgb=FACE70.colors_rgb,
    ),
}
# `./getModels.sh hand face` (and "all"); added after the body models, whose order stays.
DOWNLOADS.update({"HAND": HAND_WEIGHTS, "FACE": FACE_WEIGHTS})
