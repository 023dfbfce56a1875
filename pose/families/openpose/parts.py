"""Hand and face network output -> keypoints in image pixels.

Each crop holds at most one hand or face, so each heatmap gives one keypoint: its
strongest peak, found as the body's peaks are (pose.families.openpose.peaks: cubic upsampling to
the crop, sub-pixel 7x7 centroid), kept when above the threshold. Its confidence is the
upsampled heatmap's value there, the score OpenPose reports. The crop's affine
transform (pose.families.openpose.crops) takes it back to the image, un-mirroring a left hand.
"""
from __future__ import annotations

import numpy as np

from pose.families.openpose.crops import to_image
from pose.families.openpose.peaks import find_peaks
from pose.families.openpose.preprocess import Geometry
from pose.families.openpose.spec import STRIDE

# Grid maxima refined per heatmap, the strongest first (find_peaks takes 2 x this many):
# a heatmap's strongest upsampled peak sits by one of its strongest grid maxima.
# Refining every maximum of a noisy map costs ~0.15 s a crop; with 8, maps as smooth as
# a trained net's (features over a grid cell wide) give the full search's answer, and
# noisier ones at worst a peak a few hundredths weaker (tests/test_handface.py).
_CANDIDATES = 4


def crop_peaks(maps: np.ndarray, threshold: float) -> np.ndarray:
    """(B, K, 3): crop pixel x, y and score of the strongest peak of each heatmap of
    (B, K + 1, h, w) net outputs (the last channel, background, is ignored); zeros where
    no peak passes `threshold`."""
    maps = np.asarray(maps)
    b, c, h, w = maps.shape
    k = c - 1
    side = (w * STRIDE, h * STRIDE)
    # Every heatmap of every crop in one call: crops x parts is just more parts.
    peaks = find_peaks(maps[:, :k].reshape(b * k, h, w), Geometry(side, side, side, 1.0), threshold, _CANDIDATES)
    first = peaks.start[:-1]
    found = peaks.start[1:] > first  # peaks come strongest first within each part
    out = np.zeros((b * k, 3))
    out[found, :2] = peaks.xy[first[found]]
    out[found, 2] = peaks.score[first[found]]
    return out.reshape(b, k, 3)


def keypoints_from_maps(maps: np.ndarray, affines: np.ndarray, threshold: float) -> np.ndarray:
    """(B, K, 3) keypoints in image pixels (x, y, confidence; zeros where not found) from
    the (B, K + 1, h, w) outputs of B crops and their (B, 2, 3) crop -> image transforms."""
    found = crop_peaks(maps, threshold)
    out = np.zeros_like(found)
    seen = found[:, :, 2] > 0
    out[:, :, :2] = to_image(found[:, :, :2], np.asarray(affines, dtype=np.float64))
    out[:, :, 2] = found[:, :, 2]
    out[~seen] = 0.0
    return out
