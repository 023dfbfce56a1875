"""How well the hand and face crops fit real people: COCO-WholeBody annotations.

On ../shared/annotations/coco/test_coco_wholebody.json, for each body layout:
- boxes: OpenPose's hand and face boxes made from the annotated body keypoints, against
  the annotated hand and face keypoints (the share inside the box) and boxes (IoU, and
  how much of the annotated box the crop covers: OpenPose's boxes are generous squares,
  so IoU with a tight box stays low by design);
- decoding: maps rendered from the annotated points inside each crop (what a trained
  net approximates), decoded back: the error in crop and image pixels;
- classification: what the open-hand and palm rules say about each annotated hand,
  beside a label given by looking at the photo (listed below; 10 hands).

    python -m benchmarks.eval_handface_boxes
"""
from __future__ import annotations

import sys

import numpy as np

from pose.analysis.classify import DEFAULT_THRESHOLDS, hand_open, palm_facing
from pose.families.openpose.crops import LEFT, RIGHT, crop_affines, face_boxes, hand_boxes
from pose.families.openpose.parts import keypoints_from_maps
from pose.families.openpose.preprocess import Geometry
from pose.families.openpose.spec import MODELS, PARTS
from tests.support import wholebody
from tests.support.inverses import to_crop
from tests.support.render_fields import render_output

LAYOUTS = ("COCO", "MPI", "BODY_25")
# Looked at in the photos (crops of the annotated boxes), open = fingers stretched out:
# (image, hand, its number in the file) of the one open hand; every other annotated hand
# grips a ski pole or a bat (the third right hand of 197388 is a glove round a pole, its
# fingertips pointing down: a close call).
OPEN_BY_EYE = {("000000197388.jpg", "right_hand", 2)}


def _boxes(person, layout):
    spec = MODELS[layout]
    kp = person.body[layout][None]
    hands = hand_boxes(kp, spec)[0]
    return {"left_hand": hands[LEFT], "right_hand": hands[RIGHT], "face": face_boxes(kp, spec)[0]}


def box_table(people) -> list:
    rows = ["| layout | part | annotated | boxed | keypoints inside | IoU median (min-max) | "
            "annotated box covered | box side / annotated side |", "|---|---|---|---|---|---|---|---|"]
    for layout in LAYOUTS:
        for part in ("left_hand", "right_hand", "face"):
            annotated = boxed = inside = total = 0
            ious, covers, ratios = [], [], []
            for person in people:
                points = getattr(person, part)
                if points is None:
                    continue
                annotated += 1
                box = _boxes(person, layout)[part]
                if box[2] == 0:
                    continue
                boxed += 1
                ins = wholebody.inside(box, points)
                inside, total = inside + int(ins.sum()), total + len(ins)
                ann = person.boxes[part]
                ious.append(wholebody.iou(box, ann))
                inter = wholebody.iou(box, ann) * (box[2] ** 2 + ann[2] * ann[3]) / (1 + wholebody.iou(box, ann))
                covers.append(inter / (ann[2] * ann[3]))
                ratios.append(box[2] / max(ann[2], ann[3]))
            rows.append(f"| {layout} | {part.replace('_', ' ')} | {annotated} | {boxed} | "
                        f"{inside}/{total} ({inside / max(total, 1):.0%}) | {np.median(ious):.2f} "
                        f"({min(ious):.2f}-{max(ious):.2f}) | {np.mean(covers):.0%} | "
                        f"{np.median(ratios):.1f} |")
    return rows


def decode_table(people) -> list:
    rows = ["| crop | part | points | max error, crop px | mean, crop px | max error, image px |",
            "|---|---|---|---|---|---|"]
    for side in (368, 184):
        for name, parts in (("HAND", ("left_hand", "right_hand")), ("FACE", ("face",))):
            spec = PARTS[name]
            errors, image_errors = [], []
            for person in people:
                boxes = _boxes(person, "COCO")
                for part in parts:
                    points, box = getattr(person, part), boxes[part]
                    if points is None:
                        continue
                    if box[2] == 0:  # as the tests: a square round the annotated box
                        x, y, w, h = person.boxes[part]
                        s = 1.5 * max(w, h)
                        box = np.array([x + w / 2 - s / 2, y + h / 2 - s / 2, s])
                    full = np.zeros((spec.n_keypoints, 3))
                    full[:len(points)] = points
                    a = crop_affines(box[None], side, np.array([part == "left_hand"]))
                    crop = to_crop(full[None, :, :2], a)[0]
                    usable = (full[:, 2] > 0) & (crop >= 4).all(axis=1) & (crop <= side - 5).all(axis=1)
                    geometry = Geometry((side, side), (side, side), (side, side), 1.0)
                    maps = render_output([np.column_stack([crop, usable])], spec, geometry, paf_blur=0)
                    found = keypoints_from_maps(maps, a, spec.thresholds.peak)[0]
                    errors += list(np.linalg.norm(to_crop(found[None, usable, :2], a)[0] - crop[usable], axis=1))
                    image_errors += list(np.linalg.norm(found[usable, :2] - full[usable, :2], axis=1))
            rows.append(f"| {side}x{side} | {name.lower()} | {len(errors)} | {max(errors):.2f} | "
                        f"{np.mean(errors):.2f} | {max(image_errors):.2f} |")
    return rows


def classify_table(people) -> list:
    rows = ["| image | hand | open (rule) | open (by eye) | palm towards camera (rule) |", "|---|---|---|---|---|"]
    seen = {}
    agree = total = 0
    for person in people:
        for part, side in (("left_hand", "L"), ("right_hand", "R")):
            points = getattr(person, part)
            if points is None:
                continue
            key = (person.image_path.name, part)
            seen[key] = seen.get(key, 0) + 1
            kp = np.column_stack([points[:, :2], points[:, 2]])
            rule = hand_open(kp, DEFAULT_THRESHOLDS).value
            eye = (*key, seen[key]) in OPEN_BY_EYE
            palm = palm_facing(kp, side, DEFAULT_THRESHOLDS).value
            agree, total = agree + (rule == eye), total + 1
            rows.append(f"| {key[0]} | {part.replace('_', ' ')} {seen[key]} | {rule} | {eye} | {palm} |")
    rows.append(f"\nOpen-hand rule agrees with the eye on {agree} of {total} annotated hands.")
    return rows


def main() -> int:
    people = wholebody.load()
    print("Boxes from the annotated bodies (OpenPose's rules) against the annotated hands and faces:\n")
    print("\n".join(box_table(people)))
    print("\nMaps rendered from the annotated points in each crop, decoded back:\n")
    print("\n".join(decode_table(people)))
    print("\nThe hand rules on the annotated hands:\n")
    print("\n".join(classify_table(people)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
