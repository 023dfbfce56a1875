"""People as JSON in OpenPose's --write_json layout, so tools that read OpenPose output
read ours.

OpenPose writes {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d":
[x0, y0, c0, x1, ...], "face_keypoints_2d": [], ...}]}; a part that was not found is
0, 0, 0. We add our own fields beside OpenPose's (never instead of them): the model,
the image size, each person's score and, when classified, its "pose_class".
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from pose.analysis.classify import pose_class_json
from pose.person import Person
from pose.spec import ModelSpec

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
UNTRACKED = -1  # OpenPose's person_id when people are not tracked


def flat_keypoints(person: Person) -> List[float]:
    """x0, y0, c0, x1, ... rounded; missing parts stay 0, 0, 0."""
    return flat_array(person.keypoints)


def flat_array(keypoints: np.ndarray) -> List[float]:
    """(N, 3) keypoints as OpenPose lists them: x0, y0, c0, x1, ... rounded."""
    out: List[float] = []
    for x, y, c in np.asarray(keypoints).tolist():
        out += [round(x, XY_DECIMALS), round(y, XY_DECIMALS), round(c, SCORE_DECIMALS)]
    return out


def person_json(person: Person, person_id: int = UNTRACKED,
                pose_class_json: Optional[Callable[[object], dict]] = None) -> Dict[str, object]:
    """One person in OpenPose's layout plus "score" (and "pose_class" when classified)."""
    out: Dict[str, object] = {"person_id": [int(person_id)], "pose_keypoints_2d": flat_keypoints(person)}
    out.update({name: [] for name in EMPTY_FIELDS})
    for name, attribute in PART_FIELDS:
        if getattr(person, attribute) is not None:
            out[name] = flat_array(getattr(person, attribute))
    out["score"] = round(float(person.score), SCORE_DECIMALS)
    if person.pose_class is not None and pose_class_json is not None:
        out["pose_class"] = pose_class_json(person.pose_class)
    return out


def frame_json(people: Sequence[Person], spec: ModelSpec, image_size: Tuple[int, int], *,
               person_ids: Optional[Sequence[int]] = None,
               pose_class_json: Optional[Callable[[object], dict]] = None,
               **extra: object) -> Dict[str, object]:
    """The object for one image or video frame. `person_ids` default to -1 (untracked);
    `extra` fields (file name, frame index, ...) go after the model and image size."""
    ids = person_ids if person_ids is not None else [UNTRACKED] * len(people)
    out: Dict[str, object] = {"version": OPENPOSE_JSON_VERSION, "model": spec.name,
                              "image_size": [int(image_size[0]), int(image_size[1])]}
    out.update(extra)
    out["people"] = [person_json(p, i, pose_class_json) for p, i in zip(people, ids)]
    return out


def run_info(estimator) -> Dict[str, str]:
    """What ran, for the JSON beside "model": the engine and the precision that really ran
    (bf16 maps differ slightly from f32 ones; a reader should know which it has)."""
    return {"engine": estimator.engine, "precision": estimator.precision}


def result_json(people: Sequence[Person], spec: ModelSpec, image_size: Tuple[int, int],
                tracked: bool = False, **extra: object) -> Dict[str, object]:
    """OpenPose-layout JSON; person_id is the track id when tracked, else -1."""
    ids = [p.track_id for p in people] if tracked else None
    return frame_json(people, spec, image_size, person_ids=ids, pose_class_json=pose_class_json, **extra)
