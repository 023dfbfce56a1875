"""BlazePose with its real weights on real annotated photos: OKS AP (pycocotools) and
per-joint PCK against the annotations, and the same images through MediaPipe's own
pipeline (`mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)`, in its own
environment) side by side: median pixel difference per joint, AP of both; and the speed
per frame on this CPU.

Not part of the test suite (timing, and a second environment). Reproduce with:

    python -m venv /work/mp-venv && /work/mp-venv/bin/pip install mediapipe==0.10.21 "numpy<2"
    python -m benchmarks.blazepose_accuracy --mediapipe-python /work/mp-venv/bin/python

Data: ../shared/annotations: coco/test_coco.json (4 COCO val2017 images, 14 people) and
h36m/h36m_coco.json (4 Human3.6M frames, one person each, in H36M's 17-joint order, mapped
to COCO's: neck_base as the nose, no eyes or ears). Scores: each person's score is the mean
visibility of its 17 COCO joints, for both pipelines alike.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import cv2
import numpy as np

from pose.core.layout import COCO17_NAMES
from pose.eval.scoring import PCK_ALPHAS, coco_ap, match, oks, pck
from pose.families.blazepose import BlazePose, pipeline, weights
from pose.layouts import BLAZEPOSE33

ROOT = Path(__file__).resolve().parents[1]
SHARED_ANNOTATIONS = ROOT.parent / "shared" / "annotations"
# H36M's standard order (0 pelvis 1 rhip 2 rknee 3 rfoot 4 lhip 5 lknee 6 lfoot 7 spine 8 thorax
# 9 neck_base 10 head 11 lsho 12 lelb 13 lwri 14 rsho 15 relb 16 rwri; the file's category names
# index 1 left_hip, but the frames show the standard order: tests/support/annotations.py) ->
# COCO-17; None where H36M has no such joint.
H36M_TO_COCO17 = [9, None, None, None, None, 11, 14, 12, 15, 13, 16, 4, 1, 5, 2, 6, 3]
SWEEP = (0.5, 0.3, 0.1, 0.05)  # detector score thresholds: how many people it finds as it is loosened


def load_ground_truth(root: Path) -> Dict[str, dict]:
    """{'coco': COCO dict, 'h36m': COCO dict}, both in COCO-17, image file names resolved."""
    out = {}
    coco = json.loads((root / "coco" / "test_coco.json").read_text())
    for im in coco["images"]:
        im["path"] = str(root / "coco" / im["file_name"])
    out["coco"] = coco
    h36m = json.loads((root / "h36m" / "h36m_coco.json").read_text())
    for im in h36m["images"]:
        im["path"] = str(next((root / "h36m").rglob(im["file_name"])))
    for ann in h36m["annotations"]:
        kp = np.asarray(ann["keypoints"], np.float64).reshape(-1, 3)
        mapped = np.array([kp[j] if j is not None else (0, 0, 0) for j in H36M_TO_COCO17])
        mapped[:, 2] = np.where(mapped[:, 2] > 0, 2, 0)
        ann["keypoints"] = mapped.ravel().tolist()
        ann["num_keypoints"] = int((mapped[:, 2] > 0).sum())
    h36m["categories"] = [dict(coco["categories"][0])]
    out["h36m"] = h36m
    return out


def coco_eval(gt: dict, preds: Dict[int, List[np.ndarray]]) -> Dict[str, float]:
    """pycocotools' keypoint AP and AR over every image of the set (pose.eval's scoring)."""
    return coco_ap(gt, results_of(preds), [im["id"] for im in gt["images"]])


def results_of(preds: Dict[int, List[np.ndarray]]) -> List[dict]:
    return [{"image_id": image_id, "category_id": 1, "keypoints": np.column_stack([p[:, :2], np.ones(17)]).ravel().tolist(),
             "score": float(p[:, 2].mean())} for image_id, people in preds.items() for p in people]


def run_mediapipe(python: str, paths: List[str], repeats: int) -> Dict[str, dict]:
    worker = Path(__file__).with_name("blazepose_mediapipe_worker.py")
    done = subprocess.run([python, str(worker), f"--repeats={repeats}", *paths], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"MediaPipe worker failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def time_ours(est: BlazePose, frame: np.ndarray, repeats: int) -> Dict[str, float]:
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    det, lmk, full, track = [], [], [], []
    est.estimate(frame)  # warm-up
    for _ in range(repeats):
        t0 = time.perf_counter()
        found = est._detect(rgb)
        t1 = time.perf_counter()
        if len(found):
            est._landmarks(rgb, pipeline.roi_from_points(found.keypoints[0][0], found.keypoints[0][1]))
        t2 = time.perf_counter()
        est.estimate(frame)
        t3 = time.perf_counter()
        est.track(frame)
        t4 = time.perf_counter()
        det.append(t1 - t0)
        lmk.append(t2 - t1)
        full.append(t3 - t2)
        track.append(t4 - t3)
    return {k: float(np.median(v)) * 1000 for k, v in (("detector", det), ("landmarks", lmk), ("estimate", full),
                                                       ("track", track))}


def table(header: List[str], rows: List[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(x: Optional[float], digits: int = 3) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=None, help="folder with the two .tflite files (default: the cache)")
    ap.add_argument("--annotations", type=Path, default=SHARED_ANNOTATIONS)
    ap.add_argument("--mediapipe-python", help="a Python with mediapipe==0.10.21 (its own venv)")
    ap.add_argument("--repeats", type=int, default=10, help="timed runs per image")
    ap.add_argument("--engine", default="openvino", choices=("openvino", "onnx"),
                    help="landmark model's engine (onnx: cv2.dnn; the detector stays on OpenVINO)")
    args = ap.parse_args(argv)

    from pose.runtime import cpu

    weights.ensure(args.models)
    est = BlazePose(args.models, engine=args.engine)
    gts = load_ground_truth(args.annotations)
    paths = [im["path"] for gt in gts.values() for im in gt["images"]]
    mp = run_mediapipe(args.mediapipe_python, paths, args.repeats) if args.mediapipe_python else None

    print("# BlazePose (full) with real weights: accuracy and speed\n")
    print(f"CPU: {cpu.describe()}; OpenVINO f32, landmark engine {args.engine}; "
          f"MediaPipe {mp['mediapipe'] if mp else '(not run)'} (XNNPACK, its default)")
    print("Reproduce: python -m benchmarks.blazepose_accuracy" + (" --mediapipe-python " + args.mediapipe_python
                                                                   if args.mediapipe_python else "")
          + (f" --engine {args.engine}" if args.engine != "openvino" else "") + "\n")

    ap_rows, pck_tables, diffs, people_rows = [], {}, [], []
    for name, gt in gts.items():
        ours_all: Dict[int, List[np.ndarray]] = {}
        ours_top: Dict[int, List[np.ndarray]] = {}
        theirs: Dict[int, List[np.ndarray]] = {}
        for im in gt["images"]:
            frame = cv2.imread(im["path"])
            people = est.estimate(frame)
            ours_all[im["id"]] = [p.coco17() for p in people]
            ours_top[im["id"]] = [p.coco17() for p in people[:1]]
            n_gt = sum(a["image_id"] == im["id"] for a in gt["annotations"])
            low = len(pipeline.decode_detections(*_raw_detector(est, frame), min_score=0.3))
            people_rows.append([name, im["file_name"][-24:], n_gt, len(est.detect(frame)), low, len(people)])
            if mp:
                marks = mp["images"][im["path"]]["landmarks"]
                theirs[im["id"]] = [] if marks is None else [_mp_coco17(np.asarray(marks))]
                if marks is not None and people:
                    diffs.append(np.hypot(*(people[0].keypoints[:, :2] - np.asarray(marks)[:, :2]).T))
        runs = {"ours (all people)": ours_all, "ours (top-1, as MediaPipe)": ours_top}
        if mp:
            runs["MediaPipe 0.10.21"] = theirs
        for label, preds in runs.items():
            stats = coco_eval(gt, preds)
            pairs = match(gt["annotations"], results_of(preds))
            p05, p10 = (pck(pairs).rate(a) for a in PCK_ALPHAS)
            matched = sum(p is not None for _, p in pairs)
            # the landmarks' own accuracy: the annotated people that were found
            found10 = pck([(a, p) for a, p in pairs if p is not None]).rate(0.1)
            ap_rows.append([name, label, fmt(stats["AP"]), fmt(stats["AP50"]), fmt(stats["AR"]),
                            f"{matched}/{len(pairs)}", fmt(np.nanmean(p05)), fmt(np.nanmean(p10)),
                            fmt(np.nanmean(found10))])
            pck_tables.setdefault(name, {})[label] = p10

    print("## OKS AP (pycocotools, 17 COCO joints) and PCK (alpha x the box's longer side)\n")
    print(table(["set", "pipeline", "AP", "AP50", "AR", "people matched", "PCK@0.05", "PCK@0.1",
                 "PCK@0.1 of the people found"], ap_rows))
    for name, cols in pck_tables.items():
        print(f"\n## PCK@0.1 per joint, {name}\n")
        labels = list(cols)
        rows = [[COCO17_NAMES[j]] + [fmt(cols[k][j], 2) for k in labels] for j in range(17)]
        print(table(["joint"] + labels, rows))
    if diffs:
        d = np.array(diffs)
        print(f"\n## Ours vs MediaPipe, same images ({len(d)} people, top-1 each): pixel distance per landmark\n")
        rows = [[BLAZEPOSE33.keypoints[i], fmt(float(np.median(d[:, i])), 2), fmt(float(d[:, i].max()), 2)]
                for i in range(BLAZEPOSE33.n_keypoints)]
        rows.append(["all 33", fmt(float(np.median(d)), 2), fmt(float(d.max()), 2)])
        rows.append(["the 17 COCO joints", fmt(float(np.median(d[:, list(BLAZEPOSE33.coco17)])), 2),
                     fmt(float(d[:, list(BLAZEPOSE33.coco17)].max()), 2)])
        print(table(["landmark", "median px", "max px"], rows))

    print("\n## People per image (detector after weighted NMS)\n")
    print(table(["set", "image", "annotated", "detected (score>=0.5)", "detected (>=0.3)", "with landmarks"], people_rows))

    print("\n## People found on the COCO photos (14 annotated in 4 images) vs the detector's score threshold\n")
    rows = []
    for threshold in SWEEP:
        sweep = BlazePose(args.models, engine=args.engine, min_detection_confidence=threshold)
        gt = gts["coco"]
        preds = {im["id"]: [p.coco17() for p in sweep.estimate(cv2.imread(im["path"]))] for im in gt["images"]}
        good = sum(1 for ann, p in match(gt["annotations"], results_of(preds))
                   if p is not None and oks(np.asarray(ann["keypoints"], np.float64).reshape(-1, 3), ann["area"], p) >= 0.5)
        found = sum(len(v) for v in preds.values())
        rows.append([threshold, found, good, found - good, fmt(coco_eval(gt, preds)["AP"])])
    print(table(["min score", "people returned", "match an annotation (OKS>=0.5)", "others", "AP"], rows))

    print(f"\n## Speed per frame, median of {args.repeats} (ms)\n")
    rows = []
    for path in paths:
        t = time_ours(est, cv2.imread(path), args.repeats)
        rows.append([Path(path).name[-24:], fmt(t["detector"], 1), fmt(t["landmarks"], 1), fmt(t["estimate"], 1),
                     fmt(t["track"], 1), fmt(mp["images"][path]["ms"], 1) if mp else "-"])
    med = np.median(np.array([[float(c) for c in r[1:5]] for r in rows]), axis=0)
    rows.append(["median"] + [fmt(v, 1) for v in med] + [fmt(float(np.median([mp["images"][p]["ms"] for p in paths])), 1)
                                                         if mp else "-"])
    print(table(["image", "detector", "landmarks (1 person)", "estimate (all people)", "track (still frame)",
                 "MediaPipe static mode"], rows))


def _raw_detector(est: BlazePose, frame: np.ndarray):
    tensor, letterbox = pipeline.detector_input(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    from pose.families.blazepose.estimator import _DETECTOR_OUTPUTS, _pick, _run
    out = _pick(_run(est._detector, tensor), _DETECTOR_OUTPUTS)
    return out["boxes"], out["scores"], letterbox


def _mp_coco17(marks: np.ndarray) -> np.ndarray:
    return np.column_stack([marks[list(BLAZEPOSE33.coco17), :2], marks[list(BLAZEPOSE33.coco17), 2]])


if __name__ == "__main__":
    main(sys.argv[1:])
