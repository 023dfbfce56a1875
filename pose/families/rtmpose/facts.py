"""The published facts of MMPose's RTMPose and RTMO models and of the detectors rtmlib
pairs with them, in one place: architecture factors, input sizes, normalisation,
parameter counts, accuracy, and where the weights are.

Sources: the mmpose repository (configs/body_2d_keypoint/rtmpose/body8/*.py,
projects/rtmpose/README.md, projects/rtmo/README.md) and rtmlib (tools/solution/body.py,
body_with_feet.py, tools/object_detection/*.py). Nothing here was measured by this project
except where a comment says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

# ------------------------------------------------------------------ pre/post-processing

# mmpose's PoseDataPreprocessor, RGB order (bgr_to_rgb=True).
POSE_MEAN_RGB = (123.675, 116.28, 103.53)
POSE_STD_RGB = (58.395, 57.12, 57.375)
BOX_PADDING = 1.25          # GetBBoxCenterScale(padding=1.25)
SIMCC_SPLIT_RATIO = 2.0     # SimCCLabel(simcc_split_ratio=2.0)

# Detector inputs are letterboxed to the top-left corner, padded with this grey (mmdet's
# Pad(pad_val=114) for YOLOX and RTMDet; rtmlib does the same).
LETTERBOX_PAD = 114
# RTMDet normalises in BGR order (mmdet config: bgr_to_rgb=False); YOLOX and RTMO take raw
# BGR pixels (mean 0, std 1).
RTMDET_MEAN_BGR = (103.53, 116.28, 123.675)
RTMDET_STD_BGR = (57.375, 57.12, 58.395)
# rtmlib's thresholds for detectors whose ONNX holds the NMS (it keeps score > 0.3).
DETECTOR_SCORE = 0.3
# RTMO: rtmlib keeps score > 0.7 after an NMS at IoU 0.45; mmpose's test_cfg has 0.1 / 0.65.
RTMO_SCORE, RTMO_NMS = 0.7, 0.45

# The names mmdeploy gives the end2end.onnx tensors (rtmlib reads outputs by position).
INPUT_NAME = "input"
POSE_OUTPUTS = ("simcc_x", "simcc_y")
DETECTOR_OUTPUTS = ("dets", "labels")
RTMO_OUTPUTS = ("dets", "keypoints")

ONNX_HOST = "https://download.openmmlab.com/mmpose/v1/projects/"
# Community mirror (a Hugging Face dataset, incomplete): the bare end2end.onnx of a zip,
# named after the zip, at MIRROR_FILES + "rtmposev1/onnx_sdk/<zip stem>.onnx" (the paths
# rtmlib users point at). RTMO's are assumed to follow the same pattern under "rtmo/"
# (not seen: where the mirror lacks a file, its 404 only ends that attempt). The host was
# down for days in June 2026 (rtmlib #75, mmpose #3265).
MIRROR = "https://huggingface.co/datasets/DavidPagnon/rtmlib_models"
MIRROR_FILES = MIRROR + "/resolve/main/mmpose/"
# Printed on download and in the docs: state exactly this; never "free for commercial use".
LICENCE = ("licence: mmpose's code is Apache-2.0; the RTMPose, RTMO and YOLOX checkpoints are published without "
           "a licence of their own, and some of their training sets restrict use (COCO-WholeBody: research "
           "only). They are not declared free for commercial use.")
# No checksum or size is published for any of these files: the downloader records the
# SHA-256 and size of what it first downloads and verifies every later copy against them.
CHECKSUMS_PUBLISHED = False


# ------------------------------------------------------------------ RTMPose


@dataclass(frozen=True)
class CSPNeXtSize:
    """CSPNeXt-P5 scaling: blocks per stage x deepen, channels x widen."""
    deepen: float
    widen: float


SIZES: Dict[str, CSPNeXtSize] = {
    "t": CSPNeXtSize(0.167, 0.375),
    "s": CSPNeXtSize(0.33, 0.5),
    "m": CSPNeXtSize(0.67, 0.75),
    "l": CSPNeXtSize(1.0, 1.0),
    "x": CSPNeXtSize(1.33, 1.25),
}


@dataclass(frozen=True)
class PoseModel:
    name: str
    size: str                      # key of SIZES
    input_size: Tuple[int, int]    # (width, height), as mmpose's codec writes it
    n_keypoints: int
    params_m: Optional[float]      # published, BN kept (README tables)
    params_folded_m: Optional[float]  # in an exported ONNX, BN folded (issue 21's figures)
    gflops: Optional[float]        # published "GFLOPs" (MACs)
    coco_ap: Optional[float]       # COCO val AP, body7 training
    zip_name: Optional[str]        # under ONNX_HOST + "rtmposev1/onnx_sdk/"


_R = "rtmpose-{}_simcc-body7_pt-body7_{}-{}-{}.zip"
_H = "rtmpose-{}_simcc-body7_pt-body7-halpe26_700e-{}-{}.zip"

POSE_MODELS: Dict[str, PoseModel] = {m.name: m for m in (
    PoseModel("rtmpose-t", "t", (192, 256), 17, 3.34, 3.333, 0.36, 65.9, _R.format("t", "420e", "256x192", "026a1439_20230504")),
    PoseModel("rtmpose-s", "s", (192, 256), 17, 5.47, 5.468, 0.68, 69.7, _R.format("s", "420e", "256x192", "acd4a1ef_20230504")),
    PoseModel("rtmpose-m", "m", (192, 256), 17, 13.59, 13.576, 1.93, 74.9, _R.format("m", "420e", "256x192", "e48f03d0_20230504")),
    PoseModel("rtmpose-l", "l", (192, 256), 17, 27.66, 27.641, 4.16, 76.7, _R.format("l", "420e", "256x192", "4dba18fc_20230504")),
    PoseModel("rtmpose-m-384x288", "m", (288, 384), 17, 13.72, None, 4.33, 76.6,
              _R.format("m", "420e", "384x288", "65e718c4_20230504")),
    PoseModel("rtmpose-l-384x288", "l", (288, 384), 17, 27.79, None, 9.35, 78.3,
              _R.format("l", "420e", "384x288", "3f5a1437_20230504")),
    PoseModel("rtmpose-x-384x288", "x", (288, 384), 17, 49.43, None, 17.22, 78.8,
              "rtmpose-x_simcc-body7_pt-body7_700e-384x288-71d7b7e9_20230629.zip"),
    # Halpe-26 (body + feet); README gives params for t, m and x only.
    PoseModel("rtmpose-t-halpe26", "t", (192, 256), 26, 3.51, None, None, None, _H.format("t", "256x192", "6020f8a6_20230605")),
    PoseModel("rtmpose-s-halpe26", "s", (192, 256), 26, None, None, None, None, _H.format("s", "256x192", "7f134165_20230605")),
    PoseModel("rtmpose-m-halpe26", "m", (192, 256), 26, 13.93, None, None, None, _H.format("m", "256x192", "4d3e73dd_20230605")),
    PoseModel("rtmpose-l-halpe26", "l", (192, 256), 26, None, None, None, None, _H.format("l", "256x192", "2abb7558_20230605")),
    PoseModel("rtmpose-x-halpe26-384x288", "x", (288, 384), 26, 50.00, None, None, None,
              "rtmpose-x_simcc-body7_pt-body7-halpe26_700e-384x288-7fb6e239_20230606.zip"),
)}
# MMPose's inferencer alias `human` (rtmpose_body8-coco.yml) is RTMPose-m 256x192.
ALIASES = {"human": "rtmpose-m", "body_with_feet": "rtmpose-m-halpe26"}


# ------------------------------------------------------------------ detectors and RTMO


@dataclass(frozen=True)
class DetectorModel:
    name: str
    kind: str                      # "yolox" (raw BGR) or "rtmdet" (BGR mean/std)
    input_size: Tuple[int, int]    # (width, height)
    params_m: float                # published (YOLOX paper / mmdet README, 80 classes, BN kept)
    person_ap: Optional[float]     # person AP as rtmlib's model zoo lists it (HumanArt + COCO training)
    zip_name: Optional[str]        # under ONNX_HOST + "rtmposev1/onnx_sdk/"; None: no end2end.onnx published


# The person detectors mmpose publishes as end2end.onnx (rtmlib's README, "Detectors /
# Person"): YOLOX trained on HumanArt + COCO, one class.
DETECTORS: Dict[str, DetectorModel] = {d.name: d for d in (
    DetectorModel("yolox-nano", "yolox", (416, 416), 0.91, 38.9, "yolox_nano_8xb8-300e_humanart-40f6f0d0.zip"),
    DetectorModel("yolox-tiny", "yolox", (416, 416), 5.06, 47.7, "yolox_tiny_8xb8-300e_humanart-6f3252f9.zip"),
    DetectorModel("yolox-s", "yolox", (640, 640), 9.0, 54.6, "yolox_s_8xb8-300e_humanart-3ef259a7.zip"),
    DetectorModel("yolox-m", "yolox", (640, 640), 25.3, 59.1, "yolox_m_8xb8-300e_humanart-c2c7a14a.zip"),
    DetectorModel("yolox-l", "yolox", (640, 640), 54.2, 60.2, "yolox_l_8xb8-300e_humanart-ce1d7a62.zip"),
    DetectorModel("yolox-x", "yolox", (640, 640), 99.1, 61.3, "yolox_x_8xb8-300e_humanart-a39d44ed.zip"),
)}
# The person RTMDet-nano of the RTMPose README (320x320, 0.99 M, person AP 40.3) is
# published as a .pth only (rtmdet_nano_8xb32-100e_coco-obj365-person-05d8511e.pth): no
# end2end.onnx to download. An RTMDet end2end.onnx of one's own runs with --detector FILE
# (a name with "rtmdet" in it selects RTMDet's normalisation).
# The default, measured (benchmarks/RESULTS_rtmpose.md; pose.families.rtmpose.family says
# why): with the detector every 5th frame YOLOX-nano was only 6-23% faster a frame (bf16)
# and finds fewer people (AP 38.9 against 47.7).
DEFAULT_DETECTOR = "yolox-tiny"
# The detector every Nth frame of a video, boxes from the last keypoints between (rtmlib's
# PoseTracker; MMPose's README times its pipeline with every 5th). Measured: every 10th
# gained 2-45% more frames/s and doubles the time before a newcomer is found.
DEFAULT_DETECT_EVERY = 5


@dataclass(frozen=True)
class RTMOModel:
    name: str
    input_size: Tuple[int, int]
    coco_ap: float                 # body7 training
    zip_name: str                  # under ONNX_HOST + "rtmo/onnx_sdk/"


RTMO_MODELS: Dict[str, RTMOModel] = {m.name: m for m in (
    RTMOModel("rtmo-t", (416, 416), 57.4, "rtmo-t_8xb32-600e_body7-416x416-f48f75cb_20231219.zip"),
    RTMOModel("rtmo-s", (640, 640), 68.6, "rtmo-s_8xb32-600e_body7-640x640-dac2bf74_20231211.zip"),
    RTMOModel("rtmo-m", (640, 640), 72.6, "rtmo-m_16xb16-600e_body7-640x640-39e78cc4_20231211.zip"),
    RTMOModel("rtmo-l", (640, 640), 74.8, "rtmo-l_16xb16-600e_body7-640x640-b37118ce_20231211.zip"),
)}


def weights_url(zip_name: str, rtmo: bool = False) -> str:
    """The zip on mmpose's host."""
    return ONNX_HOST + ("rtmo/onnx_sdk/" if rtmo else "rtmposev1/onnx_sdk/") + zip_name


def mirror_url(zip_name: str, rtmo: bool = False) -> str:
    """The zip's end2end.onnx on the community mirror (MIRROR_FILES)."""
    stem = zip_name[:-len(".zip")] if zip_name.endswith(".zip") else zip_name
    return MIRROR_FILES + ("rtmo/onnx_sdk/" if rtmo else "rtmposev1/onnx_sdk/") + stem + ".onnx"
