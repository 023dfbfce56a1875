"""People as JSON: OpenPose's --write_json layout (so tools that read OpenPose output read
ours) and OpenPose's --write_coco_json results (what COCO's evaluation tools read).

OpenPose writes {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d":
[x0, y0, c0, x1, ...], "face_keypoints_2d": [], ...}]}; a keypoint that was not found is
0, 0, 0. The tools' own JSON and JSON Lines add fields beside OpenPose's (never instead
of them): the model, its keypoint layout (pose.layouts' name: "COCO-18", "BODY_25",
"COCO-17", "Halpe-26", ...), the image size, each person's score and, when classified,
its "pose_class". The per-frame files of --write_json DIR hold OpenPose's fields only
(`openpose_frame_json`), named as OpenPose names them (`openpose_frame_name`).

Keypoint scale (OpenPose's --keypoint_scale, KEYPOINT_SCALES): 0 source-image pixels,
3 x / (width - 1) and y / (height - 1) in [0, 1], 4 the same mapped to [-1, 1]. A keypoint
that was not found stays 0, 0, 0 in every scale (its confidence 0 says so; OpenPose
would shift it to -1, -1 in scale 4). COCO results are always in pixels, as COCO's
evaluation needs.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from pose.analysis.classify import pose_class_json
from pose.core.estimator import ModelInfo
from pose.core.layout import layout_of
from pose.core.person import Person

OPENPOSE_JSON_VERSION = 1.3
# OpenPose's per-person fields that a body-only run leaves empty.
EMPTY_FIELDS = ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d",
                "pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d",
                "hand_right_keypoints_3d")
# The fields --hand / --face fill (21 x 3 per hand, 70 x 3 for the face), and the Person
# attribute each comes from; None there (not estimated) keeps the field empty.
PART_FIELDS = (("face_keypoints_2d", "face_keypoints"), ("hand_left_keypoints_2d", "hand_left_keypoints"),
               ("hand_right_keypoints_2d", "hand_right_keypoints"))
XY_DECIMALS, SCORE_DECIMALS = 2, 4
SCALED_XY_DECIMALS = 6  # scales 3 and 4: 1e-6 of the image is well under a pixel
UNTRACKED = -1  # OpenPose's person_id when people are not tracked

# OpenPose's --keypoint_scale values this project writes (1 and 2, the net output's and
# the rendered output's resolution, have no meaning here: we render at source size).
KEYPOINT_SCALES = {0: "source-image pixels", 3: "[0, 1] (x / (width - 1), y / (height - 1))",
                   4: "[-1, 1] (2 x / (width - 1) - 1, likewise y)"}
# COCO results: a person's keypoint visibility is 1 where found, 0 where not.
COCO_CATEGORY_PERSON = 1
FRAME_DIGITS = 12  # OpenPose's per-frame file names: <video stem>_000000000042_keypoints.json


def parse_keypoint_scale(text: object) -> int:
    """0, 3 or 4 (OpenPose's --keypoint_scale); ValueError names the choices."""
    try:
        value = int(str(text).strip())
    except ValueError:
        value = None
    if value not in KEYPOINT_SCALES:
        choices = "; ".join(f"{k} {v}" for k, v in KEYPOINT_SCALES.items())
        raise ValueError(f"keypoint scale must be one of: {choices}; got {text!r}")
    return value


def scale_keypoints(keypoints: np.ndarray, image_size: Tuple[int, int], keypoint_scale: int = 0) -> np.ndarray:
    """(N, 3) keypoints in `keypoint_scale`'s units (see the module doc); keypoints not found
    stay 0, 0, 0."""
    kp = np.array(keypoints, dtype=np.float64)
    if keypoint_scale == 0:
        return kp
    if keypoint_scale not in KEYPOINT_SCALES:
        raise ValueError(f"unknown keypoint scale {keypoint_scale}")
    w, h = image_size
    span = np.array([max(w - 1, 1), max(h - 1, 1)], dtype=np.float64)
    found = kp[:, 2] > 0
    xy = kp[found, :2] / span
    kp[found, :2] = xy if keypoint_scale == 3 else 2 * xy - 1
    return kp


def flat_keypoints(person: Person, image_size: Optional[Tuple[int, int]] = None,
                   keypoint_scale: int = 0) -> List[float]:
    """x0, y0, c0, x1, ... rounded, in `keypoint_scale`'s units (scales 3 and 4 need the
    image's (width, height)); missing keypoints stay 0, 0, 0."""
    return flat_array(person.keypoints, image_size, keypoint_scale)


def flat_array(keypoints: np.ndarray, image_size: Optional[Tuple[int, int]] = None,
               keypoint_scale: int = 0) -> List[float]:
    """Any (N, 3) keypoints (body, hand, face) as flat_keypoints lists a body's."""
    kp = keypoints
    decimals = XY_DECIMALS
    if keypoint_scale:
        if image_size is None:
            raise ValueError("keypoint scales 3 and 4 need the image size")
        kp, decimals = scale_keypoints(kp, image_size, keypoint_scale), SCALED_XY_DECIMALS
    out: List[float] = []
    for x, y, c in np.asarray(kp, dtype=np.float64).tolist():
        out += [round(x, decimals), round(y, decimals), round(c, SCORE_DECIMALS)]
    return out


def person_json(person: Person, person_id: int = UNTRACKED,
                pose_class_json: Optional[Callable[[object], dict]] = None,
                image_size: Optional[Tuple[int, int]] = None, keypoint_scale: int = 0,
                extras: bool = True) -> Dict[str, object]:
    """One person in OpenPose's layout plus, with `extras`, "score" (and "pose_class"
    when classified)."""
    out: Dict[str, object] = {"person_id": [int(person_id)],
                              "pose_keypoints_2d": flat_keypoints(person, image_size, keypoint_scale)}
    out.update({name: [] for name in EMPTY_FIELDS})
    for name, attribute in PART_FIELDS:  # OpenPose's own fields: written with or without extras
        if getattr(person, attribute) is not None:
            out[name] = flat_array(getattr(person, attribute), image_size, keypoint_scale)
    if not extras:
        return out
    out["score"] = round(float(person.score), SCORE_DECIMALS)
    if person.box is not None:  # families with a person detector (OpenPose has none)
        corners = np.column_stack([np.asarray(person.box, dtype=np.float64).reshape(2, 2), np.ones(2)])
        x0, y0, _, x1, y1, _ = flat_array(corners, image_size, keypoint_scale)
        out["box"] = [x0, y0, x1, y1]
        if person.box_score is not None:
            out["box_score"] = round(float(person.box_score), SCORE_DECIMALS)
    if person.visibility is not None:
        out["visibility"] = [round(float(v), SCORE_DECIMALS) for v in person.visibility]
    if person.pose_class is not None and pose_class_json is not None:
        out["pose_class"] = pose_class_json(person.pose_class)
    return out


def frame_json(people: Sequence[Person], spec: ModelInfo, image_size: Tuple[int, int], *,
               person_ids: Optional[Sequence[int]] = None,
               pose_class_json: Optional[Callable[[object], dict]] = None,
               keypoint_scale: int = 0, **extra: object) -> Dict[str, object]:
    """The object for one image or video frame. `person_ids` default to -1 (untracked);
    `extra` fields (file name, frame index, ...) go after the model, its layout and image size (and
    "keypoint_scale", written only when it is not 0)."""
    ids = person_ids if person_ids is not None else [UNTRACKED] * len(people)
    out: Dict[str, object] = {"version": OPENPOSE_JSON_VERSION, "model": spec.name, "layout": layout_of(spec).name,
                              "image_size": [int(image_size[0]), int(image_size[1])]}
    if keypoint_scale:
        out["keypoint_scale"] = int(keypoint_scale)
    out.update(extra)
    out["people"] = [person_json(p, i, pose_class_json, image_size, keypoint_scale) for p, i in zip(people, ids)]
    return out


def run_info(estimator) -> Dict[str, str]:
    """What ran, for the JSON beside "model": the engine and the precision that really ran
    (bf16 maps differ slightly from f32 ones; a reader should know which it has)."""
    info = {"engine": estimator.engine, "precision": estimator.precision}
    label = getattr(estimator, "demo_label", None)  # the tools' --demo
    if label:
        info["network"] = label
    return info


def result_json(people: Sequence[Person], spec: ModelInfo, image_size: Tuple[int, int],
                tracked: bool = False, keypoint_scale: int = 0, **extra: object) -> Dict[str, object]:
    """OpenPose-layout JSON; person_id is the track id when tracked, else -1."""
    ids = [p.track_id for p in people] if tracked else None
    return frame_json(people, spec, image_size, person_ids=ids, pose_class_json=pose_class_json,
                      keypoint_scale=keypoint_scale, **extra)


# ---------------------------------------------------------------- OpenPose's per-frame files

def openpose_frame_json(people: Sequence[Person], image_size: Tuple[int, int], tracked: bool = False,
                        keypoint_scale: int = 0) -> Dict[str, object]:
    """One file of OpenPose's --write_json DIR: {"version", "people": [...]} with
    OpenPose's per-person fields only. person_id is the track id when tracked, else -1."""
    return {"version": OPENPOSE_JSON_VERSION,
            "people": [person_json(p, p.track_id if tracked else UNTRACKED, None, image_size,
                                   keypoint_scale, extras=False) for p in people]}


def openpose_frame_name(stem: str, frame: Optional[int] = None, kind: str = "keypoints.json") -> str:
    """OpenPose's file name: `<stem>_keypoints.json` for an image, `<stem>_<frame index,
    12 digits>_keypoints.json` for a video frame; `kind` "pose_heatmaps.npy" names
    --write_heatmaps' files the same way."""
    if frame is None:
        return f"{stem}_{kind}"
    return f"{stem}_{int(frame):0{FRAME_DIGITS}d}_{kind}"


# ---------------------------------------------------------------- COCO results

_COCO_NAME = re.compile(r"\d+")


def coco_image_ids(names: Sequence[str]) -> List[int]:
    """`image_id` of each input: the number its file name is (COCO's style,
    000000000785.jpg -> 785) when every input is so named and no two numbers are equal;
    else the input's position (0, 1, ...), for all of them, so ids never collide."""
    stems = [Path(name).stem for name in names]
    if stems and all(_COCO_NAME.fullmatch(s) for s in stems):
        numbers = [int(s) for s in stems]
        if len(set(numbers)) == len(numbers):
            return numbers
    return list(range(len(names)))


def coco_results(people: Sequence[Person], spec: ModelInfo, image_id: int) -> List[Dict[str, object]]:
    """OpenPose's --write_coco_json entries of one image: per person "image_id",
    "category_id" 1, "keypoints" [x, y, v] x 17 in COCO's order (pixels; v 1 found, 0
    not, with x = y = 0) and "score" (the person's). ValueError for a layout without
    COCO's keypoints (MPI)."""
    coco17 = layout_of(spec).coco17
    if coco17 is None:
        raise ValueError(f"{spec.name} has no COCO keypoint mapping: COCO results need COCO-17 keypoints "
                         "(OpenPose's COCO or BODY_25, or the RTMPose family)")
    out = []
    for person in people:
        kp = np.asarray(person.keypoints, dtype=np.float64)[list(coco17)]
        flat: List[float] = []
        for x, y, c in kp.tolist():
            found = c > 0
            flat += [round(x, XY_DECIMALS) if found else 0, round(y, XY_DECIMALS) if found else 0, int(found)]
        out.append({"image_id": int(image_id), "category_id": COCO_CATEGORY_PERSON, "keypoints": flat,
                    "score": round(float(person.score), SCORE_DECIMALS)})
    return out
