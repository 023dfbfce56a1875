"""BlazePose's pre- and post-processing in numpy, exactly as MediaPipe's graph files say
(google-ai-edge/mediapipe, mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt and
mediapipe/modules/pose_landmark/*.pbtxt; the calculators cited where each step is).

Every number the graphs set is in DETECTOR / LANDMARKS below, once. Coordinates are frame
pixels in MediaPipe's convention (a normalised coordinate times the image size: 0 is the
left edge of the first pixel), rotations clockwise in radians (pose.families.topdown.Roi).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

from pose.families.topdown import Roi, crop, to_frame
from pose.layouts.blazepose33 import KEYPOINTS

# The landmark model's rows: the 33 landmarks (pose.layouts.blazepose33), then two
# auxiliary points the pipeline uses for the next frame's ROI and never reports (the hip
# centre and a point on the circle that bounds the body), then 4 unused.
NUM_LANDMARKS = len(KEYPOINTS)  # 33
NUM_MODEL_POINTS = 39
AUX_HIP_CENTRE, AUX_SCALE = 33, 34


@dataclass(frozen=True)
class DetectorParams:
    """pose_detection_cpu.pbtxt: ImageToTensor, SsdAnchors, TensorsToDetections, NMS."""

    size: int = 224  # square input, the frame letterboxed into it (keep_aspect_ratio, BORDER_ZERO)
    value_range: Tuple[float, float] = (-1.0, 1.0)
    strides: Tuple[int, ...] = (8, 16, 32, 32, 32)
    anchors_per_cell: int = 2  # aspect_ratios [1.0] + interpolated_scale_aspect_ratio (default 1.0)
    anchor_offset: float = 0.5
    num_keypoints: int = 4  # hip centre, scale point (full body), hip-to-head centre, head scale point
    coord_scale: float = 224.0  # x_scale = y_scale = w_scale = h_scale
    score_clip: float = 100.0
    min_score: float = 0.5  # mp.solutions.pose's min_detection_confidence
    nms_iou: float = 0.3  # WEIGHTED NMS, INTERSECTION_OVER_UNION


@dataclass(frozen=True)
class LandmarkParams:
    """pose_landmark_by_roi_cpu.pbtxt, tensors_to_pose_landmarks_and_segmentation.pbtxt and
    pose_detection_to_roi.pbtxt / pose_landmarks_to_roi.pbtxt (the same ROI rule)."""

    size: int = 256
    value_range: Tuple[float, float] = (0.0, 1.0)
    border: int = cv2.BORDER_REPLICATE  # ImageToTensor's default border mode
    presence_threshold: float = 0.5  # ThresholdingCalculator on the pose flag (min_tracking_confidence)
    heatmap_kernel: int = 7  # RefineLandmarksFromHeatmap
    heatmap_min_confidence: float = 0.5  # its default min_confidence_to_refine
    roi_scale: float = 1.25  # RectTransformation scale_x = scale_y, square_long
    roi_target_angle: float = np.pi / 2  # rotation_vector_target_angle_degrees: 90


DETECTOR = DetectorParams()
LANDMARKS = LandmarkParams()


def anchors(p: DetectorParams = DETECTOR) -> np.ndarray:
    """SsdAnchorsCalculator with fixed_anchor_size: (N, 2) centres in [0, 1]; layers of one
    stride share one grid, their anchors interleaved per cell (2254 for 224 and 8/16/32)."""
    out = []
    strides = np.asarray(p.strides)
    for stride in dict.fromkeys(p.strides):  # unique, in order
        per_cell = p.anchors_per_cell * int((strides == stride).sum())
        cells = int(np.ceil(p.size / stride))
        grid = (np.arange(cells) + p.anchor_offset) / cells
        yy, xx = np.meshgrid(grid, grid, indexing="ij")
        centres = np.stack([xx.ravel(), yy.ravel()], axis=1)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


ANCHORS = anchors()


def letterbox_roi(width: int, height: int) -> Roi:
    """The whole frame padded to a square about its centre (ImageToTensor's PadRoi)."""
    side = float(max(width, height))
    return Roi(width / 2.0, height / 2.0, side, side)


def detector_input(rgb: np.ndarray, p: DetectorParams = DETECTOR) -> Tuple[np.ndarray, Roi]:
    """(1, 224, 224, 3) float32 in [-1, 1] and the letterbox it was cut with. Padding is
    zero before scaling, so -1 in the tensor, as in MediaPipe."""
    roi = letterbox_roi(rgb.shape[1], rgb.shape[0])
    patch = crop(rgb, roi, (p.size, p.size), border=cv2.BORDER_CONSTANT)
    return _scale(patch, p.value_range)[None], roi


def _scale(patch: np.ndarray, value_range: Tuple[float, float]) -> np.ndarray:
    lo, hi = value_range
    return patch.astype(np.float32) * np.float32((hi - lo) / 255.0) + np.float32(lo)


@dataclass
class Detections:
    """Decoded boxes after NMS, in frame pixels: boxes (N, 4) x1, y1, x2, y2; keypoints
    (N, 4, 2); scores (N,) best first."""

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, letterbox: Roi,
                      p: DetectorParams = DETECTOR, min_score: Optional[float] = None) -> Detections:
    """TensorsToDetections (XYWH, reverse_output_order; sigmoid of clipped scores), weighted
    NMS, then DetectionLetterboxRemoval, all vectorised over the 2254 anchors."""
    raw = np.asarray(raw_boxes, np.float32).reshape(-1, 4 + 2 * p.num_keypoints)
    logits = np.clip(np.asarray(raw_scores, np.float64).reshape(-1), -p.score_clip, p.score_clip)
    scores = 1.0 / (1.0 + np.exp(-logits))
    threshold = p.min_score if min_score is None else min_score
    keep = scores >= threshold
    raw, scores, anchor = raw[keep], scores[keep], ANCHORS[keep]
    centre = raw[:, 0:2] / p.coord_scale + anchor  # anchors' w = h = 1
    size = raw[:, 2:4] / p.coord_scale
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    kps = raw[:, 4:].reshape(-1, p.num_keypoints, 2) / p.coord_scale + anchor[:, None, :]
    ok = (size >= 0).all(axis=1)  # MediaPipe drops boxes of negative size (b/171391719)
    boxes, kps, scores = weighted_nms(boxes[ok], kps[ok], scores[ok], p.nms_iou)
    # Letterboxed [0, 1] -> frame pixels (DetectionLetterboxRemoval, then the image size).
    side = letterbox.width
    origin = np.array([letterbox.cx - side / 2, letterbox.cy - side / 2], np.float64)
    boxes = boxes.astype(np.float64) * side + np.tile(origin, 2)
    kps = kps.astype(np.float64) * side + origin
    return Detections(boxes, kps, scores.astype(np.float64))


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (4,) box with (N, 4) boxes, x1 y1 x2 y2."""
    lt = np.maximum(box[:2], boxes[:, :2])
    rb = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = lambda b: np.prod(b[..., 2:] - b[..., :2], axis=-1)
    union = area(box) + area(boxes) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
                 threshold: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NonMaxSuppressionCalculator's WEIGHTED algorithm: the best box takes every box that
    overlaps it by more than `threshold` (itself included) and becomes their score-weighted
    mean (box and keypoints), keeping its own score. One loop per kept person, not per box."""
    order = np.argsort(-scores, kind="stable")
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    out_b, out_k, out_s = [], [], []
    remaining = np.arange(len(scores))
    while remaining.size:
        top = remaining[0]
        overlap = iou(boxes[top], boxes[remaining]) > threshold
        group = remaining[overlap]
        w = scores[group][:, None]
        out_b.append((boxes[group] * w).sum(0) / w.sum())
        out_k.append((keypoints[group] * w[:, :, None]).sum(0) / w.sum())
        out_s.append(scores[top])
        remaining = remaining[~overlap]
    if not out_s:
        return np.zeros((0, 4), np.float32), np.zeros((0,) + keypoints.shape[1:], np.float32), np.zeros(0, np.float32)
    return np.stack(out_b), np.stack(out_k), np.asarray(out_s)


def normalize_radians(angle: float) -> float:
    """MediaPipe's NormalizeRadians: into [-pi, pi)."""
    return float(angle - 2 * np.pi * np.floor((angle + np.pi) / (2 * np.pi)))


def roi_from_points(centre: np.ndarray, scale_point: np.ndarray, p: LandmarkParams = LANDMARKS) -> Roi:
    """AlignmentPointsRectsCalculator + RectTransformation (pose_detection_to_roi.pbtxt and
    pose_landmarks_to_roi.pbtxt): a square about the hip centre, twice the distance to the
    scale point, grown by 1.25, turned so that hips -> scale point points up."""
    (x0, y0), (x1, y1) = np.asarray(centre, np.float64), np.asarray(scale_point, np.float64)
    side = 2.0 * float(np.hypot(x1 - x0, y1 - y0)) * p.roi_scale
    angle = normalize_radians(p.roi_target_angle - np.arctan2(-(y1 - y0), x1 - x0))
    return Roi(float(x0), float(y0), side, side, angle)


def landmark_input(rgb: np.ndarray, roi: Roi, p: LandmarkParams = LANDMARKS) -> np.ndarray:
    """(1, 256, 256, 3) float32 in [0, 1]: the ROI cut out, edges replicated."""
    return _scale(crop(rgb, roi, (p.size, p.size), border=p.border), p.value_range)[None]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def refine_from_heatmap(xy: np.ndarray, heatmap: np.ndarray, kernel: int, min_confidence: float) -> np.ndarray:
    """RefineLandmarksFromHeatmapCalculator: each point (in [0, 1] of the crop) moved to the
    sigmoid-weighted mean cell of a kernel x kernel window around it, when the window's best
    cell is at least `min_confidence`. Cell indices, not centres, as MediaPipe weighs them
    (a half-cell shift the network was trained with)."""
    hm_h, hm_w, channels = heatmap.shape
    centre = np.trunc(xy * (hm_w, hm_h)).astype(np.int64)  # C++'s int(): towards zero
    inside = (centre[:, 0] >= 0) & (centre[:, 0] < hm_w) & (centre[:, 1] >= 0) & (centre[:, 1] < hm_h)
    offsets = np.arange(kernel) - (kernel - 1) // 2
    cols = centre[:, 0, None] + offsets  # (K, k)
    rows = centre[:, 1, None] + offsets
    valid = ((cols >= 0) & (cols < hm_w))[:, None, :] & ((rows >= 0) & (rows < hm_h))[:, :, None]  # (K, k, k)
    conf = _sigmoid(heatmap[np.clip(rows, 0, hm_h - 1)[:, :, None], np.clip(cols, 0, hm_w - 1)[:, None, :],
                            np.arange(channels)[:, None, None]])
    conf = np.where(valid, conf, 0.0)
    total = conf.sum(axis=(1, 2))
    refined = np.stack([(conf * cols[:, None, :]).sum(axis=(1, 2)), (conf * rows[:, :, None]).sum(axis=(1, 2))], axis=1)
    refined = refined / np.where(total > 0, total, 1.0)[:, None] / (hm_w, hm_h)
    use = inside & (conf.max(axis=(1, 2)) >= min_confidence) & (total > 0)
    return np.where(use[:, None], refined, xy)


@dataclass
class RawLandmarks:
    """One landmark-model run projected to the frame: xy (39, 2) pixels, z (39,) in the
    crop's pixel scale, visibility and presence (39,) after the sigmoid, pose flag."""

    xy: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    flag: float


def decode_landmarks(landmarks: np.ndarray, flag: np.ndarray, heatmap: Optional[np.ndarray], roi: Roi,
                     p: LandmarkParams = LANDMARKS) -> RawLandmarks:
    """TensorsToLandmarks (39 x (x, y, z, visibility, presence), sigmoid on the last two),
    RefineLandmarksFromHeatmap, then LandmarkProjection through the ROI (no letterbox: the
    ROI is square, so is the input)."""
    raw = np.asarray(landmarks, np.float64).reshape(NUM_MODEL_POINTS, 5)
    xy = raw[:, :2] / p.size
    if heatmap is not None:
        xy = refine_from_heatmap(xy, np.asarray(heatmap, np.float32).reshape(-1, *np.shape(heatmap)[-3:])[0],
                                 p.heatmap_kernel, p.heatmap_min_confidence)
    frame_xy = to_frame(xy * p.size, roi, (p.size, p.size))
    z = raw[:, 2] * roi.width / p.size  # LandmarkProjection scales z as x
    return RawLandmarks(frame_xy, z, _sigmoid(raw[:, 3]), _sigmoid(raw[:, 4]), float(np.ravel(flag)[0]))


def next_roi(raw: RawLandmarks, p: LandmarkParams = LANDMARKS) -> Roi:
    """pose_landmarks_to_roi.pbtxt: the next frame's ROI from the two auxiliary points."""
    return roi_from_points(raw.xy[AUX_HIP_CENTRE], raw.xy[AUX_SCALE], p)


__all__ = ["ANCHORS", "AUX_HIP_CENTRE", "AUX_SCALE", "DETECTOR", "Detections", "DetectorParams", "LANDMARKS",
           "LandmarkParams", "NUM_LANDMARKS", "NUM_MODEL_POINTS", "RawLandmarks", "anchors", "decode_detections",
           "decode_landmarks", "detector_input", "iou", "landmark_input", "letterbox_roi", "next_roi", "normalize_radians",
           "refine_from_heatmap", "roi_from_points", "weighted_nms"]
