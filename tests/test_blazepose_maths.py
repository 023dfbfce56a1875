"""BlazePose's pre- and post-processing against hand-computed values (no weights needed):
MediaPipe's anchors, box decoding, weighted NMS, the rotated ROI, heatmap refinement, the
layout, and the weights' checks."""
import io
import zipfile

import numpy as np
import pytest

from pose.core.errors import InputError
from pose.families.blazepose import pipeline, weights
from pose.families.blazepose.estimator import BlazePerson, _box, _rgb
from pose.families.topdown import to_frame
from pose.layouts import BLAZEPOSE33, LAYOUTS


def test_anchors_are_mediapipes_2254_on_three_grids():
    a = pipeline.ANCHORS
    assert a.shape == (2254, 2)
    # stride 8: 28x28 cells x 2; stride 16: 14x14 x 2; stride 32 (three layers merged): 7x7 x 6
    assert 28 * 28 * 2 + 14 * 14 * 2 + 7 * 7 * 6 == 2254
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(a[1], a[0])  # two anchors per cell, same centre
    np.testing.assert_allclose(a[2], [1.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(a[1568], [0.5 / 14, 0.5 / 14])
    np.testing.assert_allclose(a[-1], [6.5 / 7, 6.5 / 7])


def test_roi_from_points_by_hand():
    # scale point straight above the hips: upright, side = 2 x 100 x 1.25
    roi = pipeline.roi_from_points((100, 200), (100, 100))
    assert (roi.cx, roi.cy, roi.width, roi.height) == (100, 200, 250, 250)
    assert roi.angle == pytest.approx(0)
    # scale point to the right: the crop's top is the frame's right (clockwise pi/2)
    roi = pipeline.roi_from_points((100, 200), (200, 200))
    assert roi.angle == pytest.approx(np.pi / 2)
    np.testing.assert_allclose(to_frame(np.array([128.0, 0.0]), roi, (256, 256)), [100 + 125, 200], atol=1e-9)
    # a 3-4-5 triangle: distance 50, so side 125; angle pi/2 - atan2(40, 30)
    roi = pipeline.roi_from_points((100, 200), (130, 160))
    assert roi.width == pytest.approx(125) and roi.height == pytest.approx(125)
    assert roi.angle == pytest.approx(np.pi / 2 - np.arctan2(40, 30))
    # upside down (scale point below): +-pi, normalised into [-pi, pi)
    assert pipeline.roi_from_points((0, 0), (0, 10)).angle == pytest.approx(-np.pi)


def test_normalize_radians():
    assert pipeline.normalize_radians(3 * np.pi / 2) == pytest.approx(-np.pi / 2)
    assert pipeline.normalize_radians(-3 * np.pi / 2) == pytest.approx(np.pi / 2)
    assert pipeline.normalize_radians(0.25) == pytest.approx(0.25)


def test_decode_detections_by_hand_through_the_letterbox():
    # a 640x320 frame: letterboxed into a 640-pixel square, 160 px of padding above
    letterbox = pipeline.letterbox_roi(640, 320)
    assert (letterbox.cx, letterbox.cy, letterbox.width) == (320, 160, 640)
    raw = np.zeros((2254, 12), np.float32)
    scores = np.full((2254, 1), -10.0, np.float32)
    i = 0  # anchor (0.5/28, 0.5/28)
    raw[i, :4] = [22.4, 44.8, 56.0, 112.0]  # dx, dy, w, h in 224-units: +0.1, +0.2, 0.25, 0.5
    raw[i, 4:6] = [0.0, 224.0]  # hip centre at the anchor + (0, 1)
    scores[i] = 3.0
    found = pipeline.decode_detections(raw[None], scores[None], letterbox)
    assert len(found) == 1
    assert found.scores[0] == pytest.approx(1 / (1 + np.exp(-3.0)))
    cx, cy = 0.5 / 28 + 0.1, 0.5 / 28 + 0.2
    expect = np.array([cx - 0.125, cy - 0.25, cx + 0.125, cy + 0.25]) * 640 + [0, -160, 0, -160]
    np.testing.assert_allclose(found.boxes[0], expect, rtol=1e-5)
    np.testing.assert_allclose(found.keypoints[0, 0], [0.5 / 28 * 640, (0.5 / 28 + 1) * 640 - 160], rtol=1e-5)
    scores[i] = 0.0  # sigmoid 0.5: kept at MediaPipe's min_score 0.5; 0.49 would not be
    assert len(pipeline.decode_detections(raw[None], scores[None], letterbox)) == 1
    scores[i] = -0.05
    assert len(pipeline.decode_detections(raw[None], scores[None], letterbox)) == 0


def test_weighted_nms_averages_the_overlapping_boxes_and_keeps_the_best_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float64)
    kps = np.array([[[0, 0]], [[4, 4]], [[55, 55]]], np.float64)
    scores = np.array([0.6, 0.9, 0.7])
    out_b, out_k, out_s = pipeline.weighted_nms(boxes, kps, scores, 0.3)
    np.testing.assert_allclose(out_s, [0.9, 0.7])
    np.testing.assert_allclose(out_b[0], (boxes[0] * 0.6 + boxes[1] * 0.9) / 1.5)
    np.testing.assert_allclose(out_k[0, 0], [2.4, 2.4])
    np.testing.assert_allclose(out_b[1], boxes[2])
    assert pipeline.weighted_nms(boxes[:0], kps[:0], scores[:0], 0.3)[2].size == 0


def test_refine_from_heatmap_uses_mediapipes_cell_indices():
    heatmap = np.full((64, 64, 39), -20.0, np.float32)
    heatmap[20, 10, 0] = 20.0  # row 20, column 10 for landmark 0
    heatmap[30, 30, 1] = -1.0  # landmark 1: best cell's sigmoid 0.27, under 0.5: kept as is
    xy = np.full((39, 2), 0.5)
    xy[0] = [11.7 / 64, 21.2 / 64]  # within the 7x7 window of the peak
    xy[2] = [-0.5, 0.5]  # outside the heatmap: kept as is
    out = pipeline.refine_from_heatmap(xy, heatmap, 7, 0.5)
    np.testing.assert_allclose(out[0], [10 / 64, 20 / 64], atol=1e-6)  # the cell index, not its centre
    np.testing.assert_allclose(out[1:], xy[1:])


def test_layout_as_data():
    layout = BLAZEPOSE33
    assert LAYOUTS["BlazePose-33"] is layout
    assert layout.n_keypoints == len(layout.colors_rgb) == pipeline.NUM_LANDMARKS == 33
    assert len(layout.bones) == 35
    assert layout.coco17 == (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
    # MediaPipe's default style: the person's left orange, right cyan, the face's middle grey
    assert layout.colors_rgb[layout.index("left_wrist")] == (255, 138, 0)
    assert layout.colors_rgb[layout.index("right_knee")] == (0, 217, 231)
    assert layout.colors_rgb[layout.index("nose")] == (224, 224, 224)
    # the semantic joints classification and drawing look up; neck and mid-hip are derived
    assert layout.joint("right_elbow") == 14 and layout.joint("left_big_toe") == 31
    assert layout.joint("neck") is None and layout.joint("mid_hip") is None
    kp = np.column_stack([np.arange(33) * 2.0, np.arange(33) * 3.0, np.linspace(0, 1, 33)])
    person = BlazePerson(kp, 0.9, visibility=kp[:, 2])
    np.testing.assert_allclose(person.coco17()[5], kp[11])  # COCO's left shoulder
    assert person.pose_score == 0.9


def test_the_box_is_the_visible_landmarks_clipped_to_the_frame():
    xy = np.array([[10.0, 20.0], [50.0, 80.0], [-30.0, 500.0], [200.0, 40.0]])
    vis = np.array([0.9, 0.8, 0.2, 0.1])
    np.testing.assert_allclose(_box(xy, vis, (100, 120, 3)), [10, 20, 50, 80])
    # fewer than two visible: every landmark, clipped to the 120x100 frame
    np.testing.assert_allclose(_box(xy, np.zeros(4), (100, 120, 3)), [0, 20, 120, 100])


def test_frames_other_than_8_bit_images_are_refused():
    with pytest.raises(InputError, match="8-bit"):
        _rgb(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(InputError, match="channels"):
        _rgb(np.zeros((4, 4, 2), np.uint8))
    assert _rgb(np.zeros((4, 4), np.uint8)).shape == (4, 4, 3)


def _wheel(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_a_wheel_with_other_bytes_is_refused_and_nothing_is_left(tmp_path):
    wheel = tmp_path / "mediapipe-0.10.21-fake.whl"
    wheel.write_bytes(_wheel({spec.wheel_path: b"not the model" for spec in weights.FILES.values()}))
    out = tmp_path / "models"
    with pytest.raises(weights.WeightsError, match="expected 2959046 B") as err:
        weights.extract_from_wheel(wheel, out)
    assert "\n" not in str(err.value)
    assert not out.exists() or not any(out.iterdir())  # no partial or temp files
    wheel.write_bytes(_wheel({"other.txt": b""}))
    with pytest.raises(weights.WeightsError, match="not a mediapipe wheel"):
        weights.extract_from_wheel(wheel, out)


def test_weights_facts_in_one_place(monkeypatch, tmp_path):
    assert {s.name for s in weights.FILES.values()} == {"pose_detection.tflite", "pose_landmark_full.tflite"}
    assert weights.FILES["detector"].size == 2_959_046 and weights.FILES["landmarks"].size == 6_440_512
    assert weights.BUCKET_URL == "https://storage.googleapis.com/mediapipe-assets/"
    monkeypatch.setenv(weights.DIR_ENV, str(tmp_path))
    assert weights.paths()["landmarks"] == tmp_path / "pose_landmark_full.tflite"
