"""Facts about the OpenPose body models, as data.

Every keypoint name, limb pair, PAF channel, threshold, path, URL and checksum the
project uses lives here and nowhere else. Sources: CMU OpenPose's poseParameters.cpp
and deploy files, as collected in shared/docs/openpose-reference.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

from pose.paths import PACKAGE_DIR, models_dir

RGB = Tuple[int, int, int]

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
# (benchmarks/eval_decode.py) it decodes clean maps and crowds as the fixed 10 does (within
# +-0.003 recall, either sign) and noisy maps better (noise 0.1: COCO 0.855 -> 0.874,
# BODY_25 0.870 -> 0.894; MPI equal).
PAF_SAMPLES = 10
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

    relpath: Path  # below the models folder (pose.paths.models_dir), e.g. coco/x.caffemodel; or absolute
    size: int
    sha256: Optional[str]
    urls: Tuple[str, ...]
    md5: Optional[str] = None

    def __post_init__(self) -> None:
        if not self.checksums():
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
    name: str
    keypoints: Tuple[str, ...]  # without the background channel
    pairs: Tuple[Tuple[int, int], ...]  # limb pairs in OpenPose's order
    paf_channels: Tuple[Tuple[int, int], ...]  # (x, y) relative to the first PAF channel
    grouping_only: Tuple[int, ...]  # indices of the pairs that group people but are not drawn
    thresholds: Thresholds
    prototxt: Path
    weights: Weights
    stages: int  # refinement stages of the deploy file
    output_name: str  # top of the final concat layer in OpenPose's deploy file
    # "two_branch": COCO/MPI, every stage has a PAF (L1) and a heatmap (L2) branch;
    # "body_25": PAF stages, then heatmap stages, PReLU (pose.architecture builds both).
    topology: str = "two_branch"
    # OpenPose's render colour per keypoint where this file holds it (BODY_25); None: the
    # palette in pose.render.
    colors_rgb: Optional[Tuple[RGB, ...]] = None
    # Index in this layout of each COCO-17 keypoint, in COCO's order, as OpenPose's
    # --write_coco_json maps them; None: the layout has no COCO export (MPI).
    coco17: Optional[Tuple[int, ...]] = None
    # PAF samples per candidate limb: a fixed count, or ADAPTIVE (OpenPose's newer rule).
    paf_samples: Optional[int] = ADAPTIVE

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
        """Index of a keypoint by name, None where this layout has no such part."""
        try:
            return self.keypoints.index(keypoint)
        except ValueError:
            return None


COCO_KEYPOINTS = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
)
COCO_PAIRS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
    (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (2, 16), (5, 17),
)
COCO_PAF = (
    (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5),
    (6, 7), (8, 9), (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37), (18, 19),
    (26, 27),
)

MPI_KEYPOINTS = (
    "Head", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Chest",
)
MPI_PAIRS = (
    (0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 14), (14, 8), (8, 9),
    (9, 10), (14, 11), (11, 12), (12, 13),
)
MPI_PAF = tuple((2 * k, 2 * k + 1) for k in range(len(MPI_PAIRS)))

BODY25_KEYPOINTS = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
    "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)
BODY25_PAIRS = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11), (8, 12),
    (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (2, 17), (5, 18), (14, 19),
    (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
)
BODY25_PAF = (
    (0, 1), (14, 15), (22, 23), (16, 17), (18, 19), (24, 25), (26, 27), (6, 7), (2, 3), (4, 5),
    (8, 9), (10, 11), (12, 13), (30, 31), (32, 33), (36, 37), (34, 35), (38, 39), (20, 21),
    (28, 29), (40, 41), (42, 43), (44, 45), (46, 47), (48, 49), (50, 51),
)
# OpenPose's POSE_BODY_25_COLORS_RENDER_GPU (RGB), in keypoint order; a limb is drawn in
# the colour of its second part.
BODY25_COLORS_RGB: Tuple[RGB, ...] = (
    (255, 0, 85), (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0),
    (85, 255, 0), (0, 255, 0), (255, 0, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255),
    (0, 170, 255), (0, 85, 255), (0, 0, 255), (255, 0, 170), (170, 0, 255), (255, 0, 255),
    (85, 0, 255), (0, 0, 255), (0, 0, 255), (0, 0, 255), (0, 255, 255), (0, 255, 255),
    (0, 255, 255),
)

# OpenPose's COCO export (--write_coco_json): COCO-17's keypoints (nose, left_eye, right_eye,
# left_ear, right_ear, left_shoulder, right_shoulder, left_elbow, right_elbow, left_wrist,
# right_wrist, left_hip, right_hip, left_knee, right_knee, left_ankle, right_ankle) as
# indices into each layout.
COCO17_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)
COCO18_TO_COCO17 = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)
BODY25_TO_COCO17 = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)

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
    keypoints=MPI_KEYPOINTS,
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
        keypoints=COCO_KEYPOINTS,
        pairs=COCO_PAIRS,
        paf_channels=COCO_PAF,
        grouping_only=(17, 18),  # RShoulder-REar and LShoulder-LEar
        thresholds=Thresholds(peak=0.05, inter=0.05, inter_min_above=0.95, min_parts=3, min_score=0.4),
        prototxt=PACKAGE_DIR / "coco" / "pose_deploy_linevec.prototxt",
        weights=COCO_WEIGHTS,
        stages=FULL_STAGES,
        output_name="concat_stage7",
        coco17=COCO18_TO_COCO17,
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
        keypoints=BODY25_KEYPOINTS,
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
        colors_rgb=BODY25_COLORS_RGB,
        coco17=BODY25_TO_COCO17,
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
