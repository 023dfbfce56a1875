"""The RTMPose family end to end on the 14 annotated people of ../shared/annotations/coco:
oracle detector + oracle pose network (tests/support/rtmpose_oracle.py) through the real
estimator (letterbox, boxes, ROIs, one batch of RGB-normalised crops, SimCC decoding, warp
back), scored with pycocotools' COCOeval. Then the pre/post-processing pieces against
mmpose's formulas, the video mode, and RTMO's post-processing."""
import json

import cv2
import numpy as np
import pytest

from pose.families.rtmpose.detector import Detector, letterbox
from pose.families.rtmpose.estimator import RTMPose
from pose.families.rtmpose.processing import boxes_from_keypoints, decode_simcc, pose_blob, rois_from_boxes
from pose.families.rtmpose.rtmo import RTMO, nms
from tests.conftest import SHARED
from tests.support import rtmpose_oracle as oracle

W, H = oracle.W, oracle.H
SCORE_BY_VISIBILITY = oracle.SCORE_BY_VISIBILITY
mmpose_crop_xy = oracle.mmpose_crop_xy


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    """Frames painted for the oracles, the oracle files, the COCO ground truth."""
    root = SHARED / "annotations" / "coco"
    if not root.is_dir():
        pytest.skip("../shared is not present")
    folder = tmp_path_factory.mktemp("rtmpose_oracle")
    gt, frames, det, pose = oracle.annotated_set(root, folder)
    return gt, frames, det, pose, folder


def _results(estimator, frames):
    out = []
    for image_id, frame in frames.items():
        for p in estimator.estimate(frame):
            out.append({"image_id": image_id, "category_id": 1, "keypoints": p.keypoints.reshape(-1).tolist(),
                        "score": p.score})
    return out


def _coco_ap(gt, results, folder):
    """COCOeval's keypoint AP, or None where pycocotools is not installed (the rest of the
    test still runs)."""
    path = folder / "results.json"
    path.write_text(json.dumps(results))
    return oracle.coco_ap(gt.path, path)


def test_oracle_pipeline_recovers_the_annotations(coco):
    gt, frames, det, pose, folder = coco
    est = RTMPose(pose, det, engine="onnxruntime")
    assert est.input_size == (W, H) and est.n_keypoints == 17 and est.detector.input_hw == (640, 640)
    results = _results(est, frames)
    assert len(results) == 14  # every annotated person detected once
    # keypoint recall: each labelled keypoint back within the SimCC quantisation (1/4 crop pixel, in frame pixels)
    found = labelled = 0
    errors = []
    for image_id, frame in frames.items():
        people = est.estimate(frame)
        for ann in gt.loadAnns(gt.getAnnIds(imgIds=image_id)):
            kp = np.array(ann["keypoints"], np.float64).reshape(17, 3)
            x, y, w, h = ann["bbox"]
            person = min(people, key=lambda p: np.abs(p.box - (x, y, x + w, y + h)).sum())
            assert np.allclose(person.box, (x, y, x + w, y + h), atol=1e-3)
            roi_width = max(w * 1.25, h * 1.25 * 0.75)
            seen = kp[:, 2] > 0
            err = np.hypot(*(person.keypoints[seen, :2] - kp[seen, :2]).T)
            errors += err.tolist()
            labelled += seen.sum()
            found += (err <= 0.25 * roi_width / W * np.sqrt(2) + 1e-6).sum()
            assert np.allclose(person.keypoints[seen, 2], [SCORE_BY_VISIBILITY[int(v)] for v in kp[seen, 2]], atol=1e-6)
    assert labelled == 181 and found == labelled, (found, labelled)
    assert np.mean(errors) < 0.5  # measured 0.25 px
    ap = _coco_ap(gt, results, folder)
    assert ap is None or ap > 0.99, ap  # measured 1.000


def test_bgr_feed_reads_other_pixels(coco):
    # rtmlib's BGR feed: the oracle reads blue (0) where mmpose's order has red, and gets nobody.
    gt, frames, det, pose, _ = coco
    est = RTMPose(pose, det, engine="onnxruntime", rgb=False)
    people = [p for frame in frames.values() for p in est.estimate(frame)]
    assert len(people) == 14 and max(p.keypoints[:, 2].max() for p in people) == 0


def test_pose_blob_is_mmposes_normalised_rgb_crop():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (300, 400, 3), np.uint8)
    box = np.array([100.0, 50.0, 220.0, 250.0])
    blob = pose_blob(frame, rois_from_boxes(box[None], (W, H)), (W, H))
    assert blob.shape == (1, 3, H, W) and blob.dtype == np.float32
    # mmpose's TopdownAffine: the warp from centre/scale, then (RGB - mean) / std
    c = np.array([160.0, 150.0])
    s = np.array([200 * 1.25 * 0.75, 200 * 1.25])
    m = cv2.getAffineTransform(np.float32([c, c + (0, -s[0] / 2), c + (-s[0] / 2, -s[0] / 2)]),
                               np.float32([(W / 2, H / 2), (W / 2, H / 2 - W / 2), (0, H / 2 - W / 2)]))
    ref = cv2.warpAffine(frame, m, (W, H), flags=cv2.INTER_LINEAR)[..., ::-1].astype(np.float32)
    ref = ((ref - (123.675, 116.28, 103.53)) / (58.395, 57.12, 57.375)).transpose(2, 0, 1)
    # the two matrices differ in float rounding only: at most one fixed-point step of the bilinear warp
    assert np.abs(blob[0] - ref).max() <= 1.5 / 57.12


def test_decode_takes_argmax_over_two_and_the_smaller_maximum():
    sx = np.zeros((2, 17, 2 * W), np.float32)
    sy = np.zeros((2, 17, 2 * H), np.float32)
    sx[0, 3, 101], sy[0, 3, 40] = 0.9, 0.6
    sx[1, 0, 0], sy[1, 0, 511] = 0.2, 0.7
    locs, scores = decode_simcc(sx, sy)
    assert locs[0, 3].tolist() == [50.5, 20.0] and locs[1, 0].tolist() == [0.0, 255.5]
    assert scores[0, 3] == pytest.approx(0.6) and scores[1, 0] == pytest.approx(0.2)


def test_letterbox_and_detector_boxes_back_in_frame_pixels(coco):
    _, frames, det, _, _ = coco
    frame = frames[40083]  # 500x333: scaled up by 1.28 into 640x640
    canvas, ratio = letterbox(frame, (640, 640))
    assert ratio == pytest.approx(1.28) and canvas.shape == (640, 640, 3)
    assert (canvas[427:] == 114).all() and (canvas[:, 640:] == 114).all()
    boxes, scores = Detector(det, "onnxruntime").detect(frame)
    assert len(boxes) == 3 and np.allclose(scores, 0.9)
    assert np.allclose(sorted(boxes[:, 0]), [38.0, 258.0, 275.0], atol=0.5)


def test_video_mode_detects_every_nth_frame_and_carries_boxes(coco):
    _, frames, det, pose, _ = coco
    est = RTMPose(pose, det, engine="onnxruntime", detect_every=3)
    frame = frames[197388]
    for _ in range(7):
        people = est.track(frame)
    assert est.detections == 3  # frames 0, 3, 6
    assert len(people) == 5
    est.reset()
    blank = np.zeros_like(frame)  # image number 0: the detector finds nobody
    for _ in range(4):
        assert est.track(blank) == []
    assert est.detections == 4  # nobody to carry: the detector runs on every frame


def test_boxes_from_keypoints_grow_the_visible_extent():
    kp = np.array([[[10, 20, 0.9], [30, 60, 0.8], [500, 500, 0.1]], [[0, 0, 0.9], [1, 1, 0.1], [2, 2, 0.0]]], float)
    boxes = boxes_from_keypoints(kp, 0.3)
    assert np.allclose(boxes[0], [7.5, 15.0, 32.5, 65.0])  # the 0.1 keypoint does not stretch it
    assert np.isnan(boxes[1]).all()  # one visible keypoint: no box


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    assert nms(boxes, np.array([0.8, 0.9, 0.5]), 0.45).tolist() == [1, 2]


def test_rtmo_oracle_end_to_end(coco, tmp_path):
    """An RTMO oracle (dets + keypoints for the image number) through the RTMO estimator:
    letterbox, ratio, score bound and NMS, scored with COCOeval."""
    from onnx import TensorProto, helper, numpy_helper
    gt, frames, _, _, folder = coco
    rows_d, rows_k = [], []
    for image_id, frame in frames.items():
        ratio = min(640 / frame.shape[0], 640 / frame.shape[1])
        anns = gt.loadAnns(gt.getAnnIds(imgIds=image_id))
        d = np.zeros((6, 5), np.float32)
        k = np.zeros((6, 17, 3), np.float32)
        for j, ann in enumerate(anns):
            x, y, w, h = ann["bbox"]
            d[j] = (x * ratio, y * ratio, (x + w) * ratio, (y + h) * ratio, 0.95)
            kp = np.array(ann["keypoints"], np.float32).reshape(17, 3)
            k[j, :, :2] = kp[:, :2] * ratio
            k[j, :, 2] = [SCORE_BY_VISIBILITY[int(v)] for v in kp[:, 2]]
        rows_d.append(d)
        rows_k.append(k)
    nodes, inits = [], []
    onehot = oracle._read_number(nodes, inits, 2, (8, 8), 0.0, 1.0, len(frames) + 1, "img")
    td = np.concatenate([np.zeros((1, 30), np.float32), np.stack(rows_d).reshape(len(frames), -1)])
    tk = np.concatenate([np.zeros((1, 6 * 51), np.float32), np.stack(rows_k).reshape(len(frames), -1)])
    inits += [numpy_helper.from_array(td, "td"), numpy_helper.from_array(tk, "tk"),
              numpy_helper.from_array(np.array([1, 6, 5], np.int64), "sd"),
              numpy_helper.from_array(np.array([1, 6, 17, 3], np.int64), "sk")]
    nodes += [helper.make_node("MatMul", [onehot, "td"], ["fd"]), helper.make_node("Reshape", ["fd", "sd"], ["dets"]),
              helper.make_node("MatMul", [onehot, "tk"], ["fk"]), helper.make_node("Reshape", ["fk", "sk"], ["keypoints"])]
    path = oracle._save(nodes, inits, [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 640, 640])],
                        [helper.make_tensor_value_info("dets", TensorProto.FLOAT, [1, 6, 5]),
                         helper.make_tensor_value_info("keypoints", TensorProto.FLOAT, [1, 6, 17, 3])], tmp_path / "rtmo.onnx")
    rtmo = RTMO(path, "onnxruntime")
    results = _results(rtmo, frames)
    # rtmlib's NMS at IoU 0.45: no two annotated people of these images overlap that much
    assert len(results) == 14, len(results)
    ap = _coco_ap(gt, results, folder)
    assert ap is None or ap > 0.99, ap  # measured 1.000: the NMS removed no annotated person
