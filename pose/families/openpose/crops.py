"""Hand and face crops from the body keypoints, as OpenPose's --hand and --face make them.

1. Boxes: OpenPose's rules (pose.families.openpose.spec.HAND_BOX, FACE_BOX), vectorised over people. A box
   is a square (x, y, side): top-left corner and side in image pixels; side 0 where the
   body keypoints allow none.
2. Crops: each box resampled to the net's square input (bilinear, black outside the
   image, as OpenPose's warpAffine does); a left hand mirrored first, because the hand
   net was trained on right hands.
3. The affine transform of each crop maps crop pixels back to image pixels, mirroring
   included, so keypoints found in a crop land where they belong in the image.

Coordinates follow the project's convention: pixel centres at integers, so a box spans
[x, x + side] and the centre of crop pixel u lies at x + (u + 0.5) * side / S. (OpenPose
maps pixel corners instead; the difference is half a crop pixel, under 0.2 image pixels
for a 100 px hand.)
"""
from __future__ import annotations

from typing import Optional, Tuple

import cv2
import numpy as np

from pose.families.openpose.preprocess import PAD_VALUE, parse_net_resolution
from pose.families.openpose.spec import FACE_BOX, HAND_BOX, FaceBoxRule, HandBoxRule, ModelSpec

# OpenPose fills what lies outside the image with black (normalised: -0.5), unlike the
# body input's grey padding.
OUTSIDE_BGR = (0, 0, 0)
LEFT, RIGHT = 0, 1  # hand order in hand_boxes, OpenPose's: the left hand is mirrored
# The largest crop side: 1024 is 2.8x OpenPose's 368 and about 0.7 GB of network memory per
# crop; 4096 took 10 GB and 36 s for one image, and a hand or face is rarely over a few
# hundred pixels, so larger crops only upsample.
MAX_CROP_SIDE = 1024


def parse_crop_resolution(text: str) -> int:
    """--hand_net_resolution / --face_net_resolution: 'SxS' (or 'S'), square, a multiple of 8."""
    value = str(text).strip()
    if value.isdigit():
        value = f"{value}x{value}"
    try:
        res = parse_net_resolution(value)
    except ValueError as exc:  # its words, for a crop
        raise ValueError(str(exc).replace("bad net resolution", "bad crop resolution")
                         .replace("such as -1x368 or 656x368", "such as 368x368")) from None
    if res.width != res.height:
        raise ValueError(f"bad crop resolution {text!r}: the hand and face nets take square crops, "
                         "e.g. 368x368 or 256x256")
    if res.width > MAX_CROP_SIDE:
        raise ValueError(f"bad crop resolution {text!r}: at most {MAX_CROP_SIDE}x{MAX_CROP_SIDE} (each crop "
                         "is resampled to it; larger ones only cost memory and time)")
    return res.width


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt((v ** 2).sum(axis=-1))


def _people(keypoints: np.ndarray, spec: ModelSpec) -> np.ndarray:
    kp = np.asarray(keypoints, dtype=np.float64)
    return kp.reshape(-1, spec.n_keypoints, 3)


def _part(kp: np.ndarray, spec: ModelSpec, name: str, threshold: float) -> Tuple[np.ndarray, np.ndarray]:
    """(xy (P, 2), found (P,)) of a body part; never found where the layout lacks it."""
    i = spec.index(name)
    if i is None:
        return np.zeros((len(kp), 2)), np.zeros(len(kp), bool)
    return kp[:, i, :2], kp[:, i, 2] > threshold


def hand_boxes(keypoints: np.ndarray, spec: ModelSpec, rule: HandBoxRule = HAND_BOX) -> np.ndarray:
    """(P, 2, 3) boxes of each person's left (LEFT) and right (RIGHT) hand from (P, N, 3)
    body keypoints: centred `ahead` of the wrist along the forearm, side 1.5 x the forearm
    or 0.9 x the upper arm, whichever is longer; side 0 without wrist, elbow and shoulder."""
    kp = _people(keypoints, spec)
    boxes = np.zeros((len(kp), 2, 3))
    for k, side in ((LEFT, "L"), (RIGHT, "R")):
        (wrist, w_ok), (elbow, e_ok), (shoulder, s_ok) = (
            _part(kp, spec, side + name, rule.min_confidence) for name in ("Wrist", "Elbow", "Shoulder"))
        centre = wrist + rule.ahead * (wrist - elbow)
        size = rule.side * np.maximum(_norm(wrist - elbow), rule.upper_arm * _norm(elbow - shoulder))
        ok = w_ok & e_ok & s_ok & (size > rule.min_side) & (size * size > rule.min_area)
        boxes[ok, k] = np.column_stack([centre - size[:, None] / 2, size])[ok]
    return boxes


def face_boxes(keypoints: np.ndarray, spec: ModelSpec, rule: FaceBoxRule = FACE_BOX) -> np.ndarray:
    """(P, 3) face box of each person from (P, N, 3) body keypoints: the mean of the
    estimates the visible head parts allow (neck and nose, or a profile's eye, ear and
    nose; the eyes; the ears), or MPI's head point; side 0 without any, or under
    rule.min_side."""
    kp = _people(keypoints, spec)
    th = rule.min_confidence
    part = lambda name: _part(kp, spec, name, th)  # noqa: E731
    neck, neck_ok = part("Neck")
    centre, size, count = np.zeros((len(kp), 2)), np.zeros(len(kp)), np.zeros(len(kp))
    if spec.index("Nose") is None:  # MPI: a head point and the neck, nothing else
        head, head_ok = part("Head")
        ok = neck_ok & head_ok
        centre[ok], size[ok], count[ok] = head[ok], (rule.head * _norm(neck - head))[ok], 1
    else:
        nose, nose_ok = part("Nose")
        (leye, le), (reye, re), (lear, la), (rear, ra) = (part(n) for n in ("LEye", "REye", "LEar", "REar"))

        def add(ok: np.ndarray, c: np.ndarray, s: np.ndarray) -> None:
            centre[ok] += c[ok]
            size[ok] += s[ok]
            count[ok] += 1

        # One side's eye and ear only: a profile, where the neck-nose estimate is poor.
        profile = (le == la) & (re == ra) & (le != re)
        neck_nose = _norm(neck - nose)
        left = profile & le
        right = profile & ~le
        c = np.where(left[:, None], (leye + lear + nose) / 3,
                     np.where(right[:, None], (reye + rear + nose) / 3, (neck + nose) / 2))
        s = np.where(left, rule.profile * (_norm(nose - leye) + _norm(nose - lear) + neck_nose),
                     np.where(right, rule.profile * (_norm(nose - reye) + _norm(nose - rear) + neck_nose),
                              rule.neck_nose * neck_nose))
        add(neck_ok & nose_ok, c, s)
        add(le & re, (leye + reye) / 2, rule.eyes * _norm(leye - reye))
        add(la & ra, (lear + rear) / 2, rule.ears * _norm(lear - rear))
    seen = count > 0
    centre[seen] /= count[seen, None]
    size[seen] /= count[seen]
    ok = seen & (size > rule.min_side)
    boxes = np.zeros((len(kp), 3))
    boxes[ok] = np.column_stack([centre - size[:, None] / 2, size])[ok]
    return boxes


def crop_affines(boxes: np.ndarray, side: int, mirror: Optional[np.ndarray] = None) -> np.ndarray:
    """(B, 2, 3) maps from crop pixels (u, v, 1) of a side x side crop to image pixels,
    for (B, 3) boxes; `mirror` (B,) flips a crop left-right."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 3)
    flip = np.zeros(len(boxes), bool) if mirror is None else np.asarray(mirror, bool).reshape(-1)
    scale = boxes[:, 2] / side
    a = np.zeros((len(boxes), 2, 3))
    a[:, 0, 0] = np.where(flip, -scale, scale)
    a[:, 0, 2] = np.where(flip, boxes[:, 0] + boxes[:, 2] - scale / 2, boxes[:, 0] + scale / 2)
    a[:, 1, 1] = scale
    a[:, 1, 2] = boxes[:, 1] + scale / 2
    return a


def to_image(xy: np.ndarray, affines: np.ndarray) -> np.ndarray:
    """(B, K, 2) crop pixel coordinates -> image pixels, one transform per crop."""
    return np.einsum("bij,bkj->bki", affines[:, :, :2], xy) + affines[:, None, :, 2]


def crop_batch(image: np.ndarray, affines: np.ndarray, side: int) -> np.ndarray:
    """The (B, 3, side, side) float32 net input of every crop, normalised as the body's
    input (pixel / 256 - 0.5)."""
    crops = [cv2.warpAffine(image, a, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=OUTSIDE_BGR) for a in affines]
    return cv2.dnn.blobFromImages(crops, scalefactor=1.0 / 256, mean=(PAD_VALUE,) * 3, swapRB=False, crop=False)
