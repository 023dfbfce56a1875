"""What both tools make of one image or video frame once the people are found: their
pose classes, the skeleton view with labels, and the JSON object.
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

from . import render
from .classify import classify, label_text, pose_class_json
from .keypoints_json import frame_json
from .person import Person
from .spec import ModelSpec


def classify_people(people: Sequence[Person], spec: ModelSpec) -> None:
    """Set every person's pose_class."""
    for person in people:
        person.pose_class = classify(person, spec)


def person_labels(people: Sequence[Person], with_ids: bool) -> List[str]:
    """The text drawn by each person's head: "#track_id" (video) and the class label."""
    labels = []
    for person in people:
        parts = [f"#{person.track_id}"] if with_ids and person.track_id >= 0 else []
        text = label_text(person.pose_class) if person.pose_class is not None else ""
        labels.append(" ".join(parts + ([text] if text else [])))
    return labels


def skeleton_view(image: np.ndarray, people: Sequence[Person], spec: ModelSpec,
                  with_ids: bool = False) -> np.ndarray:
    """Limbs, keypoints and labels drawn on `image` (in place)."""
    render.draw_skeleton(image, people, spec)
    return render.draw_labels(image, people, person_labels(people, with_ids), spec)


def keypoints_view(image: np.ndarray, people: Sequence[Person]) -> np.ndarray:
    """The seed's numbered keypoints drawn on `image` (in place)."""
    return render.draw_numbered_keypoints(image, people)


def result_json(people: Sequence[Person], spec: ModelSpec, image_size: Tuple[int, int],
                tracked: bool = False, **extra: object) -> Dict[str, object]:
    """OpenPose-layout JSON; person_id is the track id when tracked, else -1."""
    ids = [p.track_id for p in people] if tracked else None
    return frame_json(people, spec, image_size, person_ids=ids, pose_class_json=pose_class_json, **extra)
