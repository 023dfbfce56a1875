"""Drawing people on images: numbered keypoints, OpenPose-coloured skeletons, labels.

The size ratios are OpenPose's rendering facts (renderKeypointsCpu), the colours the
layout's (pose.layouts: OpenPose's palettes for its layouts, MMPose's for COCO-17 and
Halpe-26): every keypoint has a colour, a bone takes the colour of its second keypoint
(or its own, where the layout gives one per bone), and line and circle sizes
follow the person's size in the frame. Any layout draws so. Functions named draw_*
draw in place and return the image; the *_view functions make the tools' pictures.
`spec` is a Layout or anything carrying one (a family's model spec); a keypoint scoring
under the spec's pose.core.estimator.keypoint_threshold is not drawn.
"""
from __future__ import annotations

import functools
from typing import List, Optional, Sequence

import cv2
import numpy as np

from pose.analysis.classify import label_text
from pose.core.estimator import keypoint_threshold
from pose.core.layout import Layout, layout_of
from pose.core.person import Person
from pose.layouts import FACE70, HAND21

# OpenPose's size rules: circle thickness = sqrt(frame area) / 75 scaled by the person's
# share of the frame (at least 2 px); lines are 3/4 of that.
CIRCLE_RATIO = 1 / 75
LINE_RATIO_OF_CIRCLE = 0.75
MIN_THICKNESS = 2
# OpenPose's hand and face renderers (renderHand.cpp, renderFace.cpp): (circle ratio,
# line ratio of the circle), sized by the hand's or face's own extent; one under 5% of the
# frame gets small filled dots.
PART_RATIOS = {HAND21.name: (1 / 50, 0.75), FACE70.name: (1 / 75, 0.334)}
SMALL_PART_SHARE = 0.05
# The seed's numbered-keypoint look: yellow dots, red indices, sized for ~600 px images.
NUMBER_DOT_BGR = (0, 255, 255)
NUMBER_TEXT_BGR = (0, 0, 255)
SEED_IMAGE_SIZE = 600
# Joints a label is placed above, most preferred first.
HEAD_JOINTS = ("head", "nose", "right_eye", "left_eye", "right_ear", "left_ear", "neck")
LABEL_BGR = (255, 255, 255)
LABEL_BACKGROUND_BGR = (40, 40, 40)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def palette_bgr(spec: object) -> np.ndarray:
    """(N, 3) uint8 BGR colour per keypoint of the layout."""
    return np.asarray(layout_of(spec).colors_rgb, dtype=np.uint8)[:, ::-1]


def limb_colors_bgr(spec: object) -> np.ndarray:
    """(bones, 3) BGR colour per bone of the layout, in its order: its own where the layout
    gives one per bone, else its second keypoint's colour."""
    return np.asarray(layout_of(spec).limb_colors_rgb, dtype=np.uint8).reshape(-1, 3)[:, ::-1]


def _points(person: Person) -> np.ndarray:
    return np.rint(person.keypoints[:, :2]).astype(np.int64)


def person_thickness(person: Person, image_size: tuple, min_confidence: float = 0.0) -> int:
    """OpenPose's circle thickness for one person in a frame of `image_size` (w, h)."""
    return keypoints_thickness(person.keypoints[person.visible(min_confidence), :2], image_size)[0]


def keypoints_thickness(found: np.ndarray, image_size: tuple, ratio: float = CIRCLE_RATIO) -> tuple:
    """(OpenPose's circle thickness, share of the frame) for the found keypoints (K, 2) of
    one body, hand or face: sqrt(frame area) * ratio * share, at least MIN_THICKNESS."""
    w, h = image_size
    if len(found) == 0:
        return MIN_THICKNESS, 0.0
    extent = found.max(axis=0) - found.min(axis=0)
    share = min(1.0, max(extent[0] / w, extent[1] / h))
    return max(int(round(np.sqrt(w * h) * ratio * share)), MIN_THICKNESS), share


def draw_bodies(image: np.ndarray, people: Sequence[Person], spec: object) -> np.ndarray:
    """Bones and keypoints of every person, OpenPose style."""
    h, w = image.shape[:2]
    colors, limbs = _drawing_facts(layout_of(spec))
    bound = keypoint_threshold(spec)
    for person in people:
        visible = person.visible(bound).tolist()
        pts = [tuple(p) for p in _points(person).tolist()]  # Python ints: cv2 takes them fastest
        circle = person_thickness(person, (w, h), bound)
        line = max(1, int(round(circle * LINE_RATIO_OF_CIRCLE)))
        for a, b, color in limbs:
            if visible[a] and visible[b]:
                cv2.line(image, pts[a], pts[b], color, line, cv2.LINE_AA)
        for j, seen in enumerate(visible):
            if seen:
                # OpenPose draws a ring of radius t/2 and thickness t: a disc of radius t
                cv2.circle(image, pts[j], circle, colors[j], -1, cv2.LINE_AA)
    return image


@functools.lru_cache(maxsize=None)
def _bgr(colors_rgb: tuple) -> tuple:
    """A palette's BGR tuples of Python ints (what cv2 takes), once per palette."""
    return tuple((int(b), int(g), int(r)) for r, g, b in colors_rgb)


@functools.lru_cache(maxsize=None)
def _drawing_facts(layout: Layout) -> tuple:
    """(BGR tuple per keypoint, (a, b, BGR tuple) per bone), once per layout: a frame of
    10 people draws ~400 shapes, and converting their colours each time cost as much as
    drawing them."""
    colors = _bgr(layout.colors_rgb)
    limbs = tuple((a, b, color) for (a, b), color in zip(layout.bones, _bgr(layout.limb_colors_rgb)))
    return colors, limbs


def _draw_part(image: np.ndarray, keypoints: np.ndarray, layout: Layout) -> None:
    """One hand or face in OpenPose's style: bones in their second keypoint's colour, dots."""
    h, w = image.shape[:2]
    visible = keypoints[:, 2] > 0
    if not visible.any():
        return
    pts = np.rint(keypoints[:, :2]).astype(np.int64)
    circle_ratio, line_ratio = PART_RATIOS[layout.name]
    t, share = keypoints_thickness(keypoints[visible, :2], (w, h), circle_ratio)
    line = max(1, int(round(t * line_ratio)))
    colors = _bgr(layout.colors_rgb)
    for a, b in layout.bones:
        if visible[a] and visible[b]:
            cv2.line(image, tuple(pts[a]), tuple(pts[b]), colors[b], line, cv2.LINE_AA)
    # OpenPose: a ring of radius t/2 and thickness t (a disc of radius t); small hands and faces
    # get filled dots of radius t/2.
    radius = t if share > SMALL_PART_SHARE else max(1, t // 2)
    for j in np.flatnonzero(visible):
        cv2.circle(image, tuple(pts[j]), radius, colors[j], -1, cv2.LINE_AA)


def draw_hands_and_faces(image: np.ndarray, people: Sequence[Person]) -> np.ndarray:
    """Every person's hand skeletons and face points (those estimated), OpenPose style."""
    for person in people:
        for keypoints, layout in ((person.hand_left_keypoints, HAND21), (person.hand_right_keypoints, HAND21),
                                  (person.face_keypoints, FACE70)):
            if keypoints is not None:
                _draw_part(image, np.asarray(keypoints, dtype=np.float64), layout)
    return image


def draw_numbered_keypoints(image: np.ndarray, people: Sequence[Person], spec: object = None) -> np.ndarray:
    """The seed's keypoint view: a dot and the keypoint's index at every found keypoint."""
    h, w = image.shape[:2]
    scale = max(h, w) / SEED_IMAGE_SIZE
    radius = max(2, int(round(5 * scale)))
    font_scale, text = 0.6 * scale, max(1, int(round(1.5 * scale)))
    for person in people:
        pts = _points(person)
        for j in np.flatnonzero(person.visible(keypoint_threshold(spec))):
            cv2.circle(image, tuple(pts[j]), radius, NUMBER_DOT_BGR, -1, cv2.LINE_AA)
            cv2.putText(image, str(j), (int(pts[j][0] + radius), int(pts[j][1] - radius)), FONT,
                        font_scale, NUMBER_TEXT_BGR, text, cv2.LINE_AA)
    return image


def label_anchor(person: Person, spec: object) -> Optional[tuple]:
    """Where a person's label goes: above the first head joint found, else above the
    topmost keypoint; None when nothing was found."""
    visible = person.visible(keypoint_threshold(spec))
    layout = layout_of(spec)
    for name in HEAD_JOINTS:
        j = layout.joint(name)
        if j is not None and visible[j]:
            return tuple(_points(person)[j])
    if not visible.any():
        return None
    pts = _points(person)[visible]
    top = pts[np.argmin(pts[:, 1])]
    return int(top[0]), int(top[1])


def draw_text_box(image: np.ndarray, text: str, origin: tuple, scale: float,
                  color: tuple = LABEL_BGR, background: tuple = LABEL_BACKGROUND_BGR) -> np.ndarray:
    """Text on a filled box whose bottom-left corner is `origin`, kept inside the image."""
    h, w = image.shape[:2]
    thickness = max(1, int(round(2 * scale)))
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(2, int(round(4 * scale)))
    x = int(min(max(origin[0], 0), max(0, w - tw - 2 * pad)))
    y = int(min(max(origin[1], th + base + 2 * pad), h))
    cv2.rectangle(image, (x, y - th - base - 2 * pad), (x + tw + 2 * pad, y), background, -1)
    cv2.putText(image, text, (x + pad, y - base - pad), FONT, scale, color, thickness, cv2.LINE_AA)
    return image


def draw_labels(image: np.ndarray, people: Sequence[Person], labels: Sequence[str],
                spec: object) -> np.ndarray:
    """Each non-empty label once, centred above its person's head."""
    h, w = image.shape[:2]
    scale = max(0.4, max(h, w) / 1000)
    for person, label in zip(people, labels):
        anchor = label_anchor(person, spec) if label else None
        if anchor is None:
            continue
        (tw, _), _ = cv2.getTextSize(label, FONT, scale, max(1, int(round(2 * scale))))
        gap = 2 * person_thickness(person, (w, h), keypoint_threshold(spec))
        draw_text_box(image, label, (anchor[0] - tw // 2, anchor[1] - gap), scale)
    return image


def draw_caption(image: np.ndarray, text: str) -> np.ndarray:
    """A status line in the top-left corner (the video's frame counter and timing)."""
    h, w = image.shape[:2]
    scale = max(0.4, max(h, w) / 1200)
    return draw_text_box(image, text, (0, 0), scale)


def person_labels(people: Sequence[Person], with_ids: bool) -> List[str]:
    """The text drawn by each person's head: "#track_id" (video) and the class label."""
    labels = []
    for person in people:
        parts = [f"#{person.track_id}"] if with_ids and person.track_id >= 0 else []
        text = label_text(person.pose_class) if person.pose_class is not None else ""
        labels.append(" ".join(parts + ([text] if text else [])))
    return labels


def skeleton_view(image: np.ndarray, people: Sequence[Person], spec: object,
                  with_ids: bool = False) -> np.ndarray:
    """Limbs, keypoints, hands and faces (where estimated) and labels drawn on `image` (in place)."""
    draw_bodies(image, people, spec)
    draw_hands_and_faces(image, people)
    return draw_labels(image, people, person_labels(people, with_ids), spec)


def keypoints_view(image: np.ndarray, people: Sequence[Person], spec: object = None) -> np.ndarray:
    """The seed's numbered keypoints drawn on `image` (in place)."""
    return draw_numbered_keypoints(image, people, spec)
