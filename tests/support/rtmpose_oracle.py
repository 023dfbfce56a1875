"""Oracle networks for the RTMPose family's end-to-end tests: ONNX files of the published
interfaces that output what the test chose, for images that say which choice they want.

- Detector oracle (dets (1, N, 5), labels (1, N)): the frame's top-left 16x16 block is
  painted with an image number (red = STEP x number); the letterboxed input keeps that
  corner at its top-left, the oracle reads it and returns that image's row of a table of
  boxes (in letterboxed-input pixels, as a real detector would).
- Pose oracle (simcc_x (N, K, 2W), simcc_y (N, K, 2H)): a small square at each person's
  box centre is painted with a person number (red = STEP x number, blue and green 0).
  The centre of a box is the centre of its padded ROI, which the warp takes exactly to
  the crop's centre pixel; the oracle reads that pixel's red value (undoing mmpose's RGB
  mean/std) and returns that person's SimCC rows. Fed BGR instead of RGB, or normalised
  wrongly, it reads another number and returns nobody's rows (all zero): the test then
  fails, as it should.

The rest of the frame stays the real photo. Rows are Gaussian peaks (sigma 2 bins) of
height = the score chosen for the keypoint, at the bin of its crop position, so the
estimator's argmax / 2 and warp back can be checked against the annotations.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np

from pose.families.rtmpose.facts import DETECTOR_OUTPUTS, INPUT_NAME, POSE_MEAN_RGB, POSE_OUTPUTS, POSE_STD_RGB

STEP = 16          # colour levels between two numbers: survives any bilinear blend inside a block
ID_BLOCK = 16      # the image-number block in the frame's top-left corner
ID_HALF = 4        # half side of the person-number square
SIGMA_BINS = 2.0


def _save(nodes, inits, inputs, outputs, path: Path) -> Path:
    import onnx
    from onnx import helper
    graph = helper.make_graph(nodes, "oracle", inputs, outputs, inits)
    model = helper.make_model(graph, producer_name="opencv-hpe-tests", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _read_number(nodes, inits, channel: int, pixel: Tuple[int, int], mean: float, std: float, rows: int,
                 prefix: str) -> str:
    """Nodes that read `channel` at `pixel` (row, col) of the input, undo (x - mean) / std,
    and give the one-hot (N, rows) of round(value / STEP) (all zero when out of range)."""
    from onnx import helper, numpy_helper
    r, c = pixel
    consts = {"starts": [channel, r, c], "ends": [channel + 1, r + 1, c + 1], "axes": [1, 2, 3]}
    inits += [numpy_helper.from_array(np.array(v, np.int64), f"{prefix}_{k}") for k, v in consts.items()]
    inits += [numpy_helper.from_array(np.array([std / STEP], np.float32), f"{prefix}_scale"),
              numpy_helper.from_array(np.array([mean / STEP], np.float32), f"{prefix}_shift"),
              numpy_helper.from_array(np.array([-1, 1], np.int64), f"{prefix}_col"),
              numpy_helper.from_array(np.arange(rows, dtype=np.float32)[None], f"{prefix}_rows")]
    nodes += [
        helper.make_node("Slice", [INPUT_NAME, f"{prefix}_starts", f"{prefix}_ends", f"{prefix}_axes"], [f"{prefix}_px"]),
        helper.make_node("Reshape", [f"{prefix}_px", f"{prefix}_col"], [f"{prefix}_v"]),
        helper.make_node("Mul", [f"{prefix}_v", f"{prefix}_scale"], [f"{prefix}_vs"]),
        helper.make_node("Add", [f"{prefix}_vs", f"{prefix}_shift"], [f"{prefix}_vn"]),
        helper.make_node("Round", [f"{prefix}_vn"], [f"{prefix}_id"]),
        helper.make_node("Equal", [f"{prefix}_id", f"{prefix}_rows"], [f"{prefix}_eq"]),
        helper.make_node("Cast", [f"{prefix}_eq"], [f"{prefix}_onehot"], to=1),
    ]
    return f"{prefix}_onehot"


def write_detector_oracle(path: Path, boxes_per_image: Sequence[np.ndarray], input_hw: Tuple[int, int] = (640, 640),
                          mean: float = 0.0, std: float = 1.0) -> Path:
    """Image number i (1-based) -> boxes_per_image[i - 1] (M, 5) in input pixels; the
    other rows padded with score 0. `mean`/`std`: the red channel's normalisation of the
    detector kind (raw for YOLOX)."""
    from onnx import TensorProto, helper, numpy_helper
    n = max(1, max(len(b) for b in boxes_per_image))
    rows = len(boxes_per_image) + 1
    dets = np.zeros((rows, n, 5), np.float32)
    for i, b in enumerate(boxes_per_image):
        dets[i + 1, :len(b)] = b
    nodes, inits = [], []
    # red is channel 2 of the detector's BGR input: read it there
    onehot = _read_number(nodes, inits, 2, (ID_BLOCK // 2, ID_BLOCK // 2), mean, std, rows, "img")
    inits += [numpy_helper.from_array(dets.reshape(rows, -1), "dets_table"),
              numpy_helper.from_array(np.array([1, n, 5], np.int64), "dets_shape"),
              numpy_helper.from_array(np.zeros((rows, n), np.float32), "labels_table"),
              numpy_helper.from_array(np.array([1, n], np.int64), "labels_shape")]
    nodes += [helper.make_node("MatMul", [onehot, "dets_table"], ["dets_flat"]),
              helper.make_node("Reshape", ["dets_flat", "dets_shape"], [DETECTOR_OUTPUTS[0]]),
              helper.make_node("MatMul", [onehot, "labels_table"], ["labels_flat"]),
              helper.make_node("Reshape", ["labels_flat", "labels_shape"], ["labels_f"]),
              helper.make_node("Cast", ["labels_f"], [DETECTOR_OUTPUTS[1]], to=TensorProto.INT64)]
    h, w = input_hw
    return _save(nodes, inits, [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, 3, h, w])],
                 [helper.make_tensor_value_info(DETECTOR_OUTPUTS[0], TensorProto.FLOAT, [1, n, 5]),
                  helper.make_tensor_value_info(DETECTOR_OUTPUTS[1], TensorProto.INT64, [1, n])], path)


def simcc_rows(crop_xy: np.ndarray, scores: np.ndarray, input_size: Tuple[int, int], split: float = 2.0
               ) -> Tuple[np.ndarray, np.ndarray]:
    """(K, 2W), (K, 2H): a Gaussian of height `scores` at each keypoint's crop position."""
    w, h = input_size
    bx = np.clip(np.rint(crop_xy[:, 0] * split), 0, w * split - 1)
    by = np.clip(np.rint(crop_xy[:, 1] * split), 0, h * split - 1)
    gx = np.exp(-0.5 * ((np.arange(int(w * split))[None] - bx[:, None]) / SIGMA_BINS) ** 2)
    gy = np.exp(-0.5 * ((np.arange(int(h * split))[None] - by[:, None]) / SIGMA_BINS) ** 2)
    return (gx * scores[:, None]).astype(np.float32), (gy * scores[:, None]).astype(np.float32)


def write_pose_oracle(path: Path, rows_x: np.ndarray, rows_y: np.ndarray, input_size: Tuple[int, int] = (192, 256)
                      ) -> Path:
    """Person number p (1-based) -> rows_x[p - 1] (K, 2W), rows_y[p - 1] (K, 2H); number 0
    or unknown -> zeros."""
    from onnx import TensorProto, helper, numpy_helper
    people, k, wx = rows_x.shape
    wy = rows_y.shape[2]
    w, h = input_size
    tx = np.concatenate([np.zeros((1, k * wx), np.float32), rows_x.reshape(people, -1)])
    ty = np.concatenate([np.zeros((1, k * wy), np.float32), rows_y.reshape(people, -1)])
    nodes, inits = [], []
    # red is channel 0 of the pose input: mmpose's RGB
    onehot = _read_number(nodes, inits, 0, (h // 2, w // 2), POSE_MEAN_RGB[0], POSE_STD_RGB[0], people + 1, "who")
    inits += [numpy_helper.from_array(tx, "tx"), numpy_helper.from_array(ty, "ty"),
              numpy_helper.from_array(np.array([-1, k, wx], np.int64), "sx"),
              numpy_helper.from_array(np.array([-1, k, wy], np.int64), "sy")]
    nodes += [helper.make_node("MatMul", [onehot, "tx"], ["fx"]), helper.make_node("Reshape", ["fx", "sx"], [POSE_OUTPUTS[0]]),
              helper.make_node("MatMul", [onehot, "ty"], ["fy"]), helper.make_node("Reshape", ["fy", "sy"], [POSE_OUTPUTS[1]])]
    return _save(nodes, inits, [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, h, w])],
                 [helper.make_tensor_value_info(POSE_OUTPUTS[0], TensorProto.FLOAT, ["batch", k, wx]),
                  helper.make_tensor_value_info(POSE_OUTPUTS[1], TensorProto.FLOAT, ["batch", k, wy])], path)


def paint_image_number(frame: np.ndarray, number: int) -> None:
    frame[:ID_BLOCK, :ID_BLOCK] = (0, 0, STEP * number)


def paint_person_number(frame: np.ndarray, centre: Tuple[float, float], number: int, half: int = ID_HALF) -> None:
    """A square of side 2 `half` + 1 at `centre` painted with the person's number. A
    larger square keeps the number under the centre of a box that moved a little (video:
    boxes carried from the last keypoints)."""
    x, y = int(round(centre[0])), int(round(centre[1]))
    frame[max(y - half, 0):y + half + 1, max(x - half, 0):x + half + 1] = (0, 0, STEP * number)


# ---------------------------------------------------------------- the annotated COCO people

W, H = 192, 256
DET_HW = (640, 640)
SCORE_BY_VISIBILITY = {0: 0.0, 1: 0.8, 2: 0.95}


def mmpose_crop_xy(keypoints: np.ndarray, box_xyxy: np.ndarray) -> np.ndarray:
    """mmpose's own formulas, written out here rather than taken from pose.families.topdown:
    centre, scale = box centre, size x 1.25 widened/heightened to 0.75; crop = (p - c) / s x size + size / 2."""
    x1, y1, x2, y2 = box_xyxy
    c = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
    s = np.array([x2 - x1, y2 - y1]) * 1.25
    s = np.array([s[0], s[0] / 0.75]) if s[0] > s[1] * 0.75 else np.array([s[1] * 0.75, s[1]])
    return (keypoints - c) / s * (W, H) + (W / 2, H / 2)


class Truth:
    """The few pycocotools.COCO look-ups the tests use, without pycocotools (the OpenCV 5
    environment lacks it; only the AP needs it)."""

    def __init__(self, path: Path):
        import json
        self.path = path
        self.data = json.loads(Path(path).read_text())

    def getImgIds(self):
        return [i["id"] for i in self.data["images"]]

    def loadImgs(self, image_id):
        return [i for i in self.data["images"] if i["id"] == image_id]

    def getAnnIds(self, imgIds):
        return [a["id"] for a in self.data["annotations"] if a["image_id"] == imgIds]

    def loadAnns(self, ids):
        return [a for a in self.data["annotations"] if a["id"] in ids]


def keypoint_box(keypoints: np.ndarray, grow: float = 1.25) -> np.ndarray:
    """x1, y1, x2, y2: the extent of the labelled keypoints (K, 3) grown by `grow` about its
    centre: rtmlib's PoseTracker box, written out here. A detector that returns this box
    gives the box a video carries to the next frame."""
    xy = keypoints[keypoints[:, 2] > 0, :2]
    lo, hi = xy.min(0), xy.max(0)
    centre, half = (lo + hi) / 2, (hi - lo) / 2 * grow
    return np.r_[centre - half, centre + half]


def annotated_set(root: Path, folder: Path, image_ids: Optional[Sequence[int]] = None, half: float = 0.0,
                  tracked_boxes: bool = False):
    """(truth, {image_id: painted frame}, detector oracle path, pose oracle path) for the
    COCO images of `root` (../shared/annotations/coco): each frame painted with its image
    number and each person's number at its box centre; the detector oracle returns the
    annotated boxes, the pose oracle each person's annotated keypoints (scores 0.95 where
    visible, 0.8 where occluded, 0 where not labelled). `image_ids`: those images only;
    `half`: the person-number square's half side as a share of the box's smaller side
    (0: ID_HALF pixels); `tracked_boxes`: the detector returns each person's keypoint_box
    instead of the annotated box (the box video mode carries: the oracle's crops then stay
    those it was written for)."""
    import cv2
    gt = Truth(Path(root) / "test_coco.json")
    frames, det_rows, rows_x, rows_y, number = {}, [], [], [], 0
    for i, image_id in enumerate(sorted(image_ids or gt.getImgIds()), start=1):
        info = gt.loadImgs(image_id)[0]
        frame = cv2.imread(str(Path(root) / info["file_name"]))
        paint_image_number(frame, i)
        ratio = min(DET_HW[0] / frame.shape[0], DET_HW[1] / frame.shape[1])
        boxes = []
        for ann in gt.loadAnns(gt.getAnnIds(imgIds=image_id)):
            number += 1
            x, y, w, h = ann["bbox"]
            box = np.array([x, y, x + w, y + h])
            kp = np.array(ann["keypoints"], np.float64).reshape(17, 3)
            if tracked_boxes:
                box = keypoint_box(kp)
            side = int(half * min(w, h)) if half else ID_HALF
            paint_person_number(frame, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), number, side)
            boxes.append(np.r_[box * ratio, 0.9])
            scores = np.array([SCORE_BY_VISIBILITY[int(v)] for v in kp[:, 2]])
            sx, sy = simcc_rows(mmpose_crop_xy(kp[:, :2], box), scores, (W, H))
            rows_x.append(sx)
            rows_y.append(sy)
        frames[image_id] = frame
        det_rows.append(np.array(boxes))
    det = write_detector_oracle(Path(folder) / "det_oracle.onnx", det_rows, DET_HW)
    pose = write_pose_oracle(Path(folder) / "pose_oracle.onnx", np.stack(rows_x), np.stack(rows_y))
    return gt, frames, det, pose


def coco_ap(gt_path: Path, results_path: Path):
    """COCOeval's keypoint AP of a results file, or None where pycocotools is not installed."""
    try:
        from pycocotools import cocoeval
        from pycocotools.coco import COCO
    except ImportError:
        return None
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):  # its tables would fill the test log
        truth = COCO(str(gt_path))
        ev = cocoeval.COCOeval(truth, truth.loadRes(str(results_path)), "keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0])
