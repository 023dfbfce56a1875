"""Drawing: OpenPose's colours per limb, only the drawn pairs, numbered keypoints, labels."""
import numpy as np
import pytest

from pose.families.openpose.spec import MODELS
from pose.io import render
from tests.support import skeletons


def _person(spec, neck_y=80, scale=1.0):
    """A standing body, 400 px image: head near y = neck_y - 35, ankles at neck_y + 270."""
    return skeletons.make(spec, 1.0, at=(200, neck_y), scale=scale)


def test_palette_is_openposes_in_bgr():
    coco = render.palette_bgr(MODELS["COCO"])
    assert coco.shape == (18, 3)
    assert tuple(coco[0]) == (85, 0, 255)  # Nose: OpenPose RGB 255, 0, 85
    assert tuple(coco[2]) == (0, 85, 255)  # RShoulder: RGB 255, 85, 0
    mpi = render.palette_bgr(MODELS["MPI_4"])
    assert mpi.shape == (15, 3) and tuple(mpi[7]) == (0, 255, 43)  # LWrist: RGB 43, 255, 0


@pytest.mark.parametrize("mode", ["COCO", "MPI"])
def test_each_limb_takes_its_second_keypoints_colour(mode):
    spec = MODELS[mode]
    person = _person(spec)
    image = render.draw_bodies(np.zeros((400, 400, 3), np.uint8), [person], spec)
    palette = render.palette_bgr(spec)
    kp = person.keypoints[:, :2]
    checked = 0
    for k, (a, b) in enumerate(spec.pairs[:spec.drawn_pairs]):
        length = np.linalg.norm(kp[b] - kp[a])
        if length < 40:  # short face limbs: the joint circles cover them
            continue
        x, y = np.rint((kp[a] + kp[b]) / 2).astype(int)
        assert tuple(image[y, x]) == tuple(palette[b]), (spec.keypoints[a], spec.keypoints[b])
        checked += 1
    assert checked >= 10


def test_grouping_only_pairs_are_not_drawn():
    spec = MODELS["COCO"]
    person = _person(spec)
    image = render.draw_bodies(np.zeros((400, 400, 3), np.uint8), [person], spec)
    kp = person.keypoints[:, :2]
    for a, b in spec.pairs[spec.drawn_pairs:]:  # RShoulder-REar, LShoulder-LEar
        x, y = np.rint((kp[a] + kp[b]) / 2).astype(int)
        assert tuple(image[y, x]) == (0, 0, 0)


def test_missing_parts_draw_nothing():
    spec = MODELS["COCO"]
    person = _person(spec)
    person.keypoints[3:5] = 0  # no RElbow, RWrist
    image = render.draw_bodies(np.zeros((400, 400, 3), np.uint8), [person], spec)
    full = render.draw_bodies(np.zeros((400, 400, 3), np.uint8), [_person(spec)], spec)
    kp = _person(spec).keypoints[:, :2]
    x, y = np.rint((kp[3] + kp[4]) / 2).astype(int)
    assert tuple(image[y, x]) == (0, 0, 0) and tuple(full[y, x]) != (0, 0, 0)
    assert not (image[0:2, 0:2].any())


def test_line_width_follows_person_size():
    spec = MODELS["COCO"]
    big, small = _person(spec), _person(spec, scale=0.2)
    assert render.person_thickness(big, (400, 400)) > render.person_thickness(small, (400, 400)) >= 2


def test_numbered_keypoints_draw_a_dot_at_every_part():
    spec = MODELS["MPI"]
    person = _person(spec)
    image = render.draw_numbered_keypoints(np.zeros((400, 400, 3), np.uint8), [person])
    for x, y in np.rint(person.keypoints[:, :2]).astype(int):
        assert tuple(image[y, x]) == render.NUMBER_DOT_BGR
    red = (image[:, :, 2] > 200) & (image[:, :, :2] < 80).all(axis=2)  # anti-aliased text
    assert red.sum() > 50  # the indices


def test_label_sits_above_the_head():
    spec = MODELS["COCO"]
    person = _person(spec, neck_y=110, scale=0.9)
    image = render.draw_labels(np.zeros((400, 400, 3), np.uint8), [person], ["Hello | Standing"], spec)
    box = (image == render.LABEL_BACKGROUND_BGR).all(axis=2)
    ys, xs = np.nonzero(box)
    nose_x, nose_y = person.keypoints[0, :2]
    assert ys.max() < nose_y and abs((xs.min() + xs.max()) / 2 - nose_x) < 10
    assert (image > 200).all(axis=2).sum() > 30  # the (anti-aliased) white text
    empty = render.draw_labels(np.zeros((400, 400, 3), np.uint8), [person], [""], spec)
    assert not empty.any()
