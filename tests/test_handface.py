"""Hands and faces (OpenPose's --hand / --face): boxes from the body, crops, decoding back
to image pixels, and the two networks through every engine, with real numbers."""
import logging

import cv2
import numpy as np
import pytest

from pose.core.errors import NetworkError, UsageError
from pose.core.person import Person
from pose.families.openpose import crops
from pose.families.openpose.crops import LEFT, RIGHT, crop_affines, crop_batch, face_boxes, hand_boxes, to_image
from pose.families.openpose.handface import HandFaceEstimator, PartNetwork
from pose.families.openpose.net.architecture import build_layers, cost
from pose.families.openpose.parts import crop_peaks, keypoints_from_maps
from pose.families.openpose.peaks import find_peaks
from pose.families.openpose.preprocess import Geometry
from pose.families.openpose.spec import FACE_BOX, MODELS, PARTS, FaceBoxRule
from pose.runtime import plan
from pose.runtime import select as engines
from tests.support import skeletons, wholebody
from tests.support.cli_tools import EXAMPLE_IMAGE
from tests.support.inverses import to_crop
from tests.support.nets import write_model
from tests.support.render_fields import render_output

COCO, MPI, BODY_25 = MODELS["COCO"], MODELS["MPI"], MODELS["BODY_25"]
HAND, FACE = PARTS["HAND"], PARTS["FACE"]
DECODE_TOLERANCE_PX = 2.0  # in crop pixels: the bound


def body(spec, **named):
    """(1, N, 3) keypoints with the named parts at the given (x, y), confidence 0.9."""
    kp = np.zeros((1, spec.n_keypoints, 3))
    for name, xy in named.items():
        kp[0, spec.index(name)] = (*xy, 0.9)
    return kp


# --------------------------------------------------------------------------- facts

def test_hand_and_face_facts_match_the_reference(shared_dir):
    reference = (shared_dir / "docs" / "openpose-reference.md").read_text()
    for spec, keypoints, millions in ((HAND, 21, 36.8), (FACE, 70, 38.4)):
        assert spec.n_keypoints == keypoints and spec.n_channels == keypoints + 1 and spec.n_pafs == 0
        assert str(spec.weights.relpath) in reference and spec.weights.md5 in reference
        assert f"{millions} M parameters" in reference
        params, gflop = cost(build_layers(spec), 368)
        assert round(params / 1e6, 1) == millions
        assert 200 < gflop < 220  # per 368x368 crop; COCO's body frame at 368x368: 272
        assert all(0 <= a < keypoints and 0 <= b < keypoints for a, b in spec.bones)
        assert len(spec.colors_rgb) == keypoints and spec.output_name == "net_output"
    assert round(cost(build_layers(COCO), 368)[1]) == 272  # as benchmarks/RESULTS.md says
    assert len(HAND.bones) == 20 and len(FACE.bones) == 63
    assert (HAND.thresholds.peak, FACE.thresholds.peak) == (0.2, 0.4)  # OpenPose's render thresholds
    assert "wrist, then thumb, index, middle, ring, little finger" in " ".join(reference.split())
    assert HAND.keypoints[:2] == ("Wrist", "Thumb1") and HAND.keypoints[-1] == "Pinky4"
    assert FACE.keypoints[68:] == ("RPupil", "LPupil")


# --------------------------------------------------------------------------- boxes

def test_hand_box_is_openposes_square_ahead_of_the_wrist():
    # Forearm 40 px pointing right, upper arm 60 px: side = 1.5 * max(40, 0.9 * 60) = 81.
    kp = body(COCO, RShoulder=(100, 100), RElbow=(100, 160), RWrist=(140, 160))
    boxes = hand_boxes(kp, COCO)
    centre = np.array([140 + 0.33 * 40, 160])
    np.testing.assert_allclose(boxes[0, RIGHT], [*(centre - 40.5), 81.0])
    assert boxes[0, LEFT, 2] == 0  # no left arm: no box
    # Forearm longer than 0.9 upper arm: the forearm sizes the box.
    kp = body(COCO, LShoulder=(0, 0), LElbow=(0, 30), LWrist=(0, 130))
    np.testing.assert_allclose(hand_boxes(kp, COCO)[0, LEFT], [-75.0, 163.0 - 75.0, 150.0])


def test_hand_box_needs_all_three_joints_above_0_03():
    kp = body(COCO, RShoulder=(100, 100), RElbow=(100, 160), RWrist=(140, 160))
    kp[0, COCO.index("RShoulder"), 2] = 0.03  # OpenPose: strictly above
    assert hand_boxes(kp, COCO)[0, RIGHT, 2] == 0
    kp[0, COCO.index("RShoulder"), 2] = 0.031
    assert hand_boxes(kp, COCO)[0, RIGHT, 2] == 81.0
    # Every body layout names its arms alike.
    for spec in (MPI, BODY_25):
        assert hand_boxes(body(spec, RShoulder=(100, 100), RElbow=(100, 160), RWrist=(140, 160)), spec)[0, RIGHT, 2] == 81


def test_face_box_averages_the_estimates_of_the_visible_head_parts():
    neck, nose = (200, 200), (200, 150)  # 50 px: 2 * 50 = 100, centred at (200, 175)
    np.testing.assert_allclose(face_boxes(body(COCO, Neck=neck, Nose=nose), COCO)[0], [150, 125, 100])
    # + eyes 20 px apart (side 60, centre (200, 140)) + ears 60 px apart (side 120, centre (200, 145)):
    kp = body(COCO, Neck=neck, Nose=nose, REye=(190, 140), LEye=(210, 140), REar=(170, 145), LEar=(230, 145))
    side, cy = (100 + 60 + 120) / 3, (175 + 140 + 145) / 3
    np.testing.assert_allclose(face_boxes(kp, COCO)[0], [200 - side / 2, cy - side / 2, side])
    # BODY_25 uses the same parts and rule.
    kp25 = body(BODY_25, Neck=neck, Nose=nose, REye=(190, 140), LEye=(210, 140), REar=(170, 145), LEar=(230, 145))
    np.testing.assert_allclose(face_boxes(kp25, BODY_25), face_boxes(kp, COCO))


def test_face_box_of_a_profile_and_of_mpi():
    # Only the left eye and ear: centre = mean(eye, ear, nose); side 0.85 * (10 + 30 + 50).
    kp = body(COCO, Neck=(200, 200), Nose=(200, 150), LEye=(206, 142), LEar=(224, 126))
    side = 0.85 * (10 + np.hypot(24, 24) + 50)
    centre = np.mean([(206, 142), (224, 126), (200, 150)], axis=0)
    np.testing.assert_allclose(face_boxes(kp, COCO)[0], [*(centre - side / 2), side])
    # MPI: centred on the head point, side 1.33 * |neck - head|.
    np.testing.assert_allclose(face_boxes(body(MPI, Neck=(200, 200), Head=(200, 140)), MPI)[0],
                               [200 - 39.9, 140 - 39.9, 79.8])


def test_face_box_thresholds_and_minimum_size():
    kp = body(COCO, Neck=(200, 200), Nose=(200, 150))
    kp[0, COCO.index("Nose"), 2] = 0.25  # OpenPose: strictly above 0.25
    assert face_boxes(kp, COCO)[0, 2] == 0
    small = body(COCO, Neck=(200, 200), Nose=(200, 180))  # side 40: not over 40
    assert face_boxes(small, COCO)[0, 2] == 0
    assert face_boxes(small, COCO, FaceBoxRule(min_side=0))[0, 2] == 40
    assert FACE_BOX.min_side == 40
    assert face_boxes(np.zeros((3, COCO.n_keypoints, 3)), COCO).tolist() == [[0, 0, 0]] * 3


@pytest.mark.parametrize("layout", ["COCO", "MPI", "BODY_25"])
def test_boxes_from_annotated_bodies_hold_the_annotated_hands_and_faces(shared_dir, layout):
    """COCO-WholeBody: every hand box made from the annotated arm holds all 21 annotated
    hand points, every face box all 68 face points. (Figures: benchmarks.eval_handface_boxes.)"""
    spec = MODELS[layout]
    people = wholebody.load(shared_dir / "annotations")
    boxed = {"hand": 0, "face": 0}
    for person in people:
        kp = person.body[layout][None]
        for part, box in (("left_hand", hand_boxes(kp, spec)[0, LEFT]), ("right_hand", hand_boxes(kp, spec)[0, RIGHT]),
                          ("face", face_boxes(kp, spec)[0])):
            points = getattr(person, part)
            if points is None or box[2] == 0:
                continue
            boxed["face" if part == "face" else "hand"] += 1
            assert wholebody.inside(box, points).all(), (person.image_path.name, part)
            assert wholebody.iou(box, person.boxes[part]) > 0.05
    # 10 annotated hands, one without its elbow; 4 faces, one under OpenPose's 40 px
    # (and for MPI, whose head point stands in for COCO's nose here, a second one).
    assert boxed == {"hand": 9, "face": 2 if layout == "MPI" else 3}


# --------------------------------------------------------------------------- crops and decoding

@pytest.mark.parametrize("mirror", [False, True])
def test_crop_pixels_are_where_the_affine_says(mirror):
    """A bright dot in the image appears in the crop where to_crop puts it (mirrored too)."""
    rng = np.random.default_rng(1)
    image = np.zeros((240, 320, 3), np.uint8)
    dots = np.array([[90.0, 70.0], [150.0, 120.0], [60.0, 140.0]])
    for x, y in dots:
        cv2.circle(image, (int(x), int(y)), 3, (255, 255, 255), -1)
    box = np.array([[40.0, 50.0, 130.0]])  # 130 px square -> 184 crop: magnified 1.4x
    side = 184
    a = crop_affines(box, side, np.array([mirror]))
    blob = crop_batch(image, a, side)
    assert blob.shape == (1, 3, side, side) and blob.dtype == np.float32
    assert blob.min() == pytest.approx(-0.5) and blob.max() == pytest.approx(255 / 256 - 0.5)
    crop = blob[0, 0] + 0.5
    for want in to_crop(dots[None], a)[0]:
        x0, y0 = np.rint(want).astype(int) - 10
        win = crop[y0:y0 + 21, x0:x0 + 21]
        yy, xx = np.mgrid[y0:y0 + 21, x0:x0 + 21]
        got = np.array([(win * xx).sum(), (win * yy).sum()]) / win.sum()
        assert np.abs(got - want).max() < 0.3, (got, want)
    moved = dots[None] + rng.uniform(-1, 1, (1, 3, 2))
    np.testing.assert_allclose(to_image(to_crop(moved, a), a), moved, atol=1e-9)  # to_image undoes to_crop


def test_crop_outside_the_image_is_black_as_openposes():
    image = np.full((100, 100, 3), 200, np.uint8)
    blob = crop_batch(image, crop_affines(np.array([[50.0, 50.0, 100.0]]), 64), 64)
    assert blob[0, :, 5, 5].tolist() == pytest.approx([200 / 256 - 0.5] * 3)  # inside
    assert blob[0, :, 60, 60].tolist() == [-0.5] * 3  # outside: black


def _rendered(points_crop: np.ndarray, spec, side: int) -> np.ndarray:
    """The maps a trained net approximates for one crop (heatmaps + background)."""
    return render_output([points_crop], spec, Geometry((side, side), (side, side), (side, side), 1.0), paf_blur=0)


@pytest.mark.parametrize("side", [368, 184])
def test_maps_rendered_from_annotated_hands_and_faces_decode_back(shared_dir, side):
    """Crops placed as the tools place them (left hands mirrored); maps rendered from the
    annotated points inside each crop; every point decodes back within 2 crop pixels and
    lands on the annotated image point."""
    checked = {"HAND": 0, "FACE": 0}
    for person in wholebody.load(shared_dir / "annotations"):
        kp = person.body["COCO"][None]
        cases = [("left_hand", HAND, hand_boxes(kp, COCO)[0, LEFT], True),
                 ("right_hand", HAND, hand_boxes(kp, COCO)[0, RIGHT], False),
                 ("face", FACE, face_boxes(kp, COCO, FaceBoxRule(min_side=0))[0], False)]
        for part, spec, box, mirror in cases:
            points = getattr(person, part)
            if points is None:
                continue
            if box[2] == 0:  # no body box (a missing elbow): a square round the annotated box
                x, y, w, h = person.boxes[part]
                s = 1.5 * max(w, h)
                box = np.array([x + w / 2 - s / 2, y + h / 2 - s / 2, s])
            full = np.zeros((spec.n_keypoints, 3))  # the face net has two pupils more
            full[:len(points)] = points
            a = crop_affines(box[None], side, np.array([mirror]))
            in_crop = to_crop(full[None, :, :2], a)[0]
            # A peak needs a pixel of room (the border never peaks) and its Gaussian's
            # centroid window inside the crop.
            usable = (full[:, 2] > 0) & (in_crop >= 4).all(axis=1) & (in_crop <= side - 5).all(axis=1)
            maps = _rendered(np.column_stack([in_crop, usable]), spec, side)
            found = keypoints_from_maps(maps, a, spec.thresholds.peak)[0]
            assert (found[usable, 2] > 0.8).all() and (found[~usable, 2] == 0).all()
            err_crop = np.linalg.norm(to_crop(found[None, usable, :2], a)[0] - in_crop[usable], axis=1)
            assert err_crop.max() < DECODE_TOLERANCE_PX, (person.image_path.name, part, err_crop.max())
            err_image = np.linalg.norm(found[usable, :2] - full[usable, :2], axis=1)
            assert err_image.max() < DECODE_TOLERANCE_PX * box[2] / side + 1e-9
            checked[spec.name] += int(usable.sum())
    assert checked["HAND"] >= 10 * 21 - 5 and checked["FACE"] >= 4 * 68 - 5


def test_one_peak_per_map_is_the_full_searchs_strongest():
    """crop_peaks refines only the strongest grid maxima: on maps as smooth as a trained
    net's it finds what the full peak search (every maximum) finds first."""
    rng = np.random.default_rng(3)
    noise = rng.uniform(0, 1, (3 * 22, 46, 46)).astype(np.float32)
    maps = np.stack([cv2.GaussianBlur(m, (0, 0), 1.0) for m in noise])
    maps = ((maps - maps.min()) / (maps.max() - maps.min())).reshape(3, 22, 46, 46)
    fast = crop_peaks(maps, 0.2)
    full = find_peaks(maps[:, :21].reshape(-1, 46, 46), Geometry((368, 368), (368, 368), (368, 368), 1.0), 0.2)
    first = full.start[:-1]
    assert (full.start[1:] > first).all()
    np.testing.assert_allclose(fast[:, :, :2].reshape(-1, 2), full.xy[first])
    np.testing.assert_allclose(fast[:, :, 2].ravel(), full.score[first])


def test_peaks_below_the_threshold_are_not_keypoints():
    side = 64
    pts = np.array([[20.0, 30.0, 1.0], [40.0, 12.0, 1.0]] + [[0, 0, 0]] * 19)
    maps = _rendered(pts, HAND, side)
    maps[0, 1] *= 0.25  # the second keypoint's peak falls to ~0.22: under a 0.3 threshold
    found = crop_peaks(maps, 0.3)[0]
    assert found[0, 2] > 0.8 and np.abs(found[0, :2] - (20, 30)).max() < 0.5
    assert found[1].tolist() == [0, 0, 0] and (found[2:] == 0).all()


# --------------------------------------------------------------------------- the networks

SIDE = 64  # small crops keep the narrow nets at a few milliseconds a crop


@pytest.fixture(scope="module")
def nets(model_dir):
    return {name: write_model(model_dir, PARTS[name]) for name in ("HAND", "FACE")}


# cv2.dnn's f32 route: the Caffe files on OpenCV 4, the converted ONNX on OpenCV 5.
REFERENCE = "caffe" if hasattr(cv2.dnn, "readNetFromCaffe") else "onnx"


def _estimator(nets, engine=REFERENCE, precision="f32", **kw):
    (hp, hw), (fp, fw) = nets["HAND"], nets["FACE"]
    kw.setdefault("hand_net_resolution", SIDE)
    kw.setdefault("face_net_resolution", f"{SIDE}x{SIDE}")
    return HandFaceEstimator(COCO, engine=engine, precision=precision, hand_weights=hw, hand_proto=hp, face_weights=fw,
                             face_proto=fp, **kw)


def _people():
    """Three people: hands and faces boxed; one with only the right arm; nobody's arms."""
    a = skeletons.make(COCO, at=(100, 80), scale=1.3, **skeletons.HELLO_RIGHT)  # faces over 40 px
    b = skeletons.make(COCO, at=(260, 90), scale=1.2, missing=("LElbow",))
    c = Person(np.zeros((COCO.n_keypoints, 3)), 0.0)
    return [a, b, c]


def _image():
    return cv2.resize(cv2.imread(str(EXAMPLE_IMAGE)), (360, 300), interpolation=cv2.INTER_AREA)


def test_hands_and_faces_fill_each_person(nets):
    est = _estimator(nets)
    people = est(_image(), _people())
    a, b, c = people
    for p in people:
        assert p.hand_left_keypoints.shape == (21, 3) and p.hand_right_keypoints.shape == (21, 3)
        assert p.face_keypoints.shape == (70, 3)
    # b has no left elbow and c nothing: their parts are all zeros, as OpenPose writes them.
    assert (b.hand_left_keypoints == 0).all()
    assert (c.hand_left_keypoints == 0).all() and (c.hand_right_keypoints == 0).all() and (c.face_keypoints == 0).all()
    assert est.hand.crops == 3 and est.face.crops == 2  # a: 2 hands + face; b: right hand + face
    # Whatever the random net finds lies in its crop, confidences above the thresholds.
    boxes = hand_boxes(np.array([p.keypoints for p in people]), COCO)
    for p, person_boxes in zip(people, boxes):
        for kp, box in ((p.hand_left_keypoints, person_boxes[LEFT]), (p.hand_right_keypoints, person_boxes[RIGHT])):
            found = kp[kp[:, 2] > 0]
            assert (found[:, 2] > HAND.thresholds.peak).all()
            assert ((found[:, :2] >= box[:2]) & (found[:, :2] <= box[:2] + box[2])).all()
    assert est.label() == f"hands {SIDE}x{SIDE} + face {SIDE}x{SIDE}"
    assert est(_image(), []) == []  # nobody: no crops, no network run
    assert est.hand.crops == 3


def test_left_hands_are_mirrored_for_the_net(nets):
    """The left hand of a person is the right hand of their mirror image: same points, mirrored."""
    est = _estimator(nets, face=False)
    image = _image()
    person = skeletons.make(COCO, at=(180, 80), scale=0.8, **skeletons.STOP)
    est(image, [person])
    mirrored = skeletons.make(COCO, at=(180, 80), scale=0.8, **skeletons.STOP)
    w = image.shape[1]
    kp = mirrored.keypoints
    swapped = kp.copy()
    for j, name in enumerate(COCO.keypoints):  # left <-> right, x -> w - 1 - x
        twin = name.replace("L", "\0").replace("R", "L").replace("\0", "R") if name[0] in "LR" else name
        swapped[COCO.index(twin)] = [w - 1 - kp[j, 0], kp[j, 1], kp[j, 2]]
    mirrored.keypoints = swapped
    est(np.ascontiguousarray(image[:, ::-1]), [mirrored])
    left, right_of_mirror = person.hand_left_keypoints, mirrored.hand_right_keypoints
    assert (left[:, 2] > 0).sum() >= 3  # the random net finds a few points: enough to compare
    np.testing.assert_allclose(left[:, 2], right_of_mirror[:, 2], atol=1e-4)
    seen = left[:, 2] > 0
    np.testing.assert_allclose(left[seen, 0], w - 1 - right_of_mirror[seen, 0], atol=0.05)
    np.testing.assert_allclose(left[seen, 1], right_of_mirror[seen, 1], atol=0.05)


@pytest.mark.parametrize("engine", engines.available())
def test_every_engine_gives_the_caffe_routes_keypoints_batched_or_not(nets, engine):
    image = _image()
    reference = _estimator(nets, REFERENCE, max_batch=1)(image, _people())
    got = _estimator(nets, engine, max_batch=8)(image, _people())
    for r, g in zip(reference, got):
        for field in ("hand_left_keypoints", "hand_right_keypoints", "face_keypoints"):
            a, b = getattr(r, field), getattr(g, field)
            assert ((a[:, 2] > 0) == (b[:, 2] > 0)).all()
            np.testing.assert_allclose(a, b, atol=2e-3)


def test_wrong_or_missing_part_weights_fail_in_one_line(nets, tmp_path):
    hp, fw = nets["HAND"][0], nets["FACE"][1]
    for engine, proto in (("onnxruntime", None), (REFERENCE, hp)):  # the face's weights: 71 outputs
        with pytest.raises(NetworkError, match=r"^the weights FACE_\S+ do not fit the (hand )?network") as err:
            PartNetwork(HAND, SIDE, plan(engine), weights=fw, proto=proto)
        assert "\n" not in str(err.value) and err.value.exit_code == 2, str(err.value)
    coco_proto, coco_weights = write_model(tmp_path, COCO)  # loads, but outputs 57 channels
    with pytest.raises(NetworkError, match=r"COCO\S+ is not OpenPose's hand network: it maps a 32x32 input to "
                                           r"\(57, 4, 4\), the hand model to \(22, 4, 4\)"):
        PartNetwork(HAND, SIDE, plan(REFERENCE), weights=coco_weights, proto=coco_proto)
    with pytest.raises(NetworkError, match="weights not found"):
        PartNetwork(HAND, SIDE, plan(REFERENCE), weights=tmp_path / "none.caffemodel", proto=hp)
    with pytest.raises(UsageError, match="square"):
        _estimator(nets, hand_net_resolution="368x256")
    with pytest.raises(UsageError, match="multiples of 8"):
        _estimator(nets, face_net_resolution="100x100")
    with pytest.raises(UsageError, match="hand=True, face=True or both"):
        HandFaceEstimator(COCO, hand=False, face=False)


def test_downloaded_weights_missing_names_the_getmodels_command(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENCV_HPE_HOME", str(tmp_path))
    with pytest.raises(NetworkError, match=r"weights not found: .*hand/pose_iter_102000.caffemodel "
                                           r"\(run .* hand to download them\)"):
        HandFaceEstimator(COCO, face=False)


def test_crop_resolution_parsing():
    assert crops.parse_crop_resolution("368x368") == 368 and crops.parse_crop_resolution("256") == 256
    for bad in ("368x256", "-1x368", "0x0", "abc"):
        with pytest.raises(ValueError):
            crops.parse_crop_resolution(bad)


ROUTES = [("onnxruntime", "auto")] + ([("openvino", "bf16")] if "openvino" in engines.available() else [])


@pytest.mark.parametrize("engine, precision", ROUTES)
def test_pose_estimator_runs_hands_and_faces_on_its_plan(nets, model_dir, monkeypatch, tmp_path, caplog,
                                                         engine, precision):
    """PoseEstimator(hand=True, face=True) uses the downloaded files' places: narrow random
    weights there (the ONNX engines take their width from the weights)."""
    home = tmp_path / "home"
    for name in ("HAND", "FACE"):
        target = home / PARTS[name].weights.relpath
        target.parent.mkdir(parents=True)
        target.write_bytes(nets[name][1].read_bytes())
    monkeypatch.setenv("OPENCV_HPE_HOME", str(home))
    proto, weights = write_model(model_dir, COCO)
    from pose.families.openpose.estimator import PoseEstimator
    caplog.set_level(logging.WARNING, logger="pose")
    est = PoseEstimator("COCO", proto=proto, weights=weights, engine=engine, precision=precision,
                        net_resolution="-1x96", hand=True, face=True, hand_net_resolution="64x64", face_net_resolution=64)
    assert est.parts.plan is est.plan  # one plan: the same engine, device and precision
    assert est.parts.hand.net.name == est.parts.face.net.name == est.engine == engine
    assert est.parts.hand.net.precision == est.parts.face.net.precision == est.precision
    image = _image()
    people = est(image)
    assert people and all(p.hand_left_keypoints is not None and p.face_keypoints is not None for p in people)
    # infer + people_from without the image: body only, as before.
    assert all(p.hand_left_keypoints is None for p in est.people_from(est.infer(image)))
