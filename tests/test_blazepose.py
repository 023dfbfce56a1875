"""BlazePose with its real weights (the blazepose_models fixture, tests/conftest.py:
fetched once from the mediapipe 0.10.21 wheel, cached in weights.default_dir(); skipped
with the reason when pip cannot fetch it) on real annotated photos from ../shared/annotations.

Tolerances are measured ones (benchmarks/blazepose_accuracy.py): on COCO 000000000785 every
joint was within 0.07 of the box's longer side (median 0.015); on Human3.6M S1 Directions
within 0.052 (median 0.023); OpenVINO and cv2.dnn gave the same landmarks to 3e-4 px.
"""
import json

import cv2
import numpy as np
import pytest

from pose.core.errors import NetworkError, UsageError
from pose.families.blazepose import BlazePose, pipeline, weights
from pose.layouts import BLAZEPOSE33
from pose.runtime import open_tflite, plan


@pytest.fixture(scope="module")
def estimator(blazepose_models):
    return BlazePose(blazepose_models)


def _annotated(shared_dir, source, file_name):
    """The image and its people's (17, 3) COCO-order keypoints and box."""
    if source == "coco":
        data = json.loads((shared_dir / "annotations" / "coco" / "test_coco.json").read_text())
        image = next(im for im in data["images"] if im["file_name"] == file_name)
        path = shared_dir / "annotations" / "coco" / file_name
    else:
        from benchmarks.blazepose_accuracy import load_ground_truth
        data = load_ground_truth(shared_dir / "annotations")["h36m"]
        image = next(im for im in data["images"] if im["file_name"] == file_name)
        path = image["path"]
    people = [(np.asarray(a["keypoints"], np.float64).reshape(-1, 3), a["bbox"])
              for a in data["annotations"] if a["image_id"] == image["id"]]
    return cv2.imread(str(path)), people


def test_the_cached_files_are_the_published_ones(blazepose_models):
    for role, spec in weights.FILES.items():
        path = blazepose_models / spec.name
        assert path.stat().st_size == spec.size
        assert weights.is_valid(path, spec), role


@pytest.mark.parametrize("source, file_name, worst, typical", [
    ("coco", "000000000785.jpg", 0.1, 0.03),
    ("h36m", "S1_Directions_1.54138969_000001.jpg", 0.1, 0.04),
])
def test_finds_the_person_and_its_joints(estimator, shared_dir, source, file_name, worst, typical):
    frame, people = _annotated(shared_dir, source, file_name)
    truth, box = people[0]
    found = estimator.estimate(frame)
    assert len(found) == 1
    person = found[0]
    assert person.keypoints.shape == (33, 3) and person.visibility.shape == person.presence.shape == (33,)
    assert person.box_score > 0.9 and person.score > 0.9
    seen = truth[:, 2] > 0
    error = np.hypot(*(person.coco17()[:, :2] - truth[:, :2]).T)[seen] / max(box[2:])
    assert error.max() < worst  # PCK@0.1 of the box's longer side: every annotated joint
    assert np.median(error) < typical
    # the box holds the landmarks it sees; the detector's box (of the face) holds the nose
    x1, y1, x2, y2 = person.box
    seen = person.keypoints[person.visibility >= 0.5, :2]
    assert (seen >= (x1, y1)).all() and (seen <= (x2, y2)).all()
    dx1, dy1, dx2, dy2 = person.detection
    nose = person.keypoints[BLAZEPOSE33.index("nose")]
    assert dx1 < nose[0] < dx2 and dy1 < nose[1] < dy2


def test_video_mode_carries_the_roi_and_detects_only_when_lost(blazepose_models, shared_dir):
    est = BlazePose(blazepose_models)
    frame, _ = _annotated(shared_dir, "coco", "000000000785.jpg")
    first = est.track(frame)
    assert est.detector_calls == 1 and len(first) == 1
    second = est.track(frame)  # a still image: the ROI from the landmarks, no detector
    assert est.detector_calls == 1 and len(second) == 1
    assert second[0].roi != first[0].roi  # the landmarks' ROI, not the detection's
    # another crop of the same person: measured median 2.0 px, COCO joints within 11 px (box 347 px)
    moved = np.hypot(*(second[0].coco17()[:, :2] - first[0].coco17()[:, :2]).T)
    assert np.median(moved) < 4 and moved.max() < 0.05 * 347
    assert est.track(np.zeros_like(frame)) == []  # lost: the detector ran and found no one
    assert est.detector_calls == 2
    est.track(frame)
    assert est.detector_calls == 3


def test_opencv_and_openvino_agree_on_the_landmark_model(estimator, blazepose_models, shared_dir):
    frame, _ = _annotated(shared_dir, "coco", "000000000785.jpg")
    roi = estimator.estimate(frame)[0].roi
    dnn = BlazePose(blazepose_models, engine="onnx")  # cv2.dnn
    a, b = estimator.landmarks(frame, roi), dnn.landmarks(frame, roi)
    assert np.abs(a.keypoints[:, :2] - b.keypoints[:, :2]).max() < 0.05  # measured 3e-4 px
    assert np.abs(a.visibility - b.visibility).max() < 1e-3


def test_cv2_dnn_refuses_the_detector_in_one_line(blazepose_models):
    with pytest.raises(NetworkError) as err:
        open_tflite(plan("onnx", "cpu", "f32"), blazepose_models / "pose_detection.tflite")
    message = str(err.value)
    assert "\n" not in message and "DENSIFY" in message and "pose_detection.tflite" in message
    for engine in ("onnxruntime", "caffe"):
        with pytest.raises(UsageError, match="cannot read TFLite") as err:
            BlazePose(blazepose_models, engine=engine)
        assert "\n" not in str(err.value)


def test_missing_weights_are_one_clear_line(tmp_path):
    with pytest.raises(Exception) as err:
        BlazePose(tmp_path)
    assert "pose_detection.tflite" in str(err.value) and "\n" not in str(err.value)


def test_the_roi_maths_matches_the_detection(estimator, shared_dir):
    frame, _ = _annotated(shared_dir, "coco", "000000000785.jpg")
    found = estimator.detect(frame)
    roi = estimator.estimate(frame)[0].roi
    hip, scale = found.keypoints[0, 0], found.keypoints[0, 1]
    assert (roi.cx, roi.cy) == pytest.approx(tuple(hip))
    assert roi.width == pytest.approx(2.5 * np.hypot(*(scale - hip)))
    assert roi.width == roi.height
    assert pipeline.ANCHORS.shape[0] == 2254
