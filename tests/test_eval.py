"""get-hpe-eval (python -m pose.eval) for any family: the scoring on hand-made people, and
OpenPose end to end on the annotated COCO people drawn into an oracle network's input
(tests/support/oracle.py: the real decoder sees the maps rendered from the annotations, so
the score is the decoder's and the scoring's), and on random weights (a number, near 0).
BlazePose's real-weights score is in tests/test_blazepose_tools.py."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose.eval import scoring
from pose.eval.cli import main as eval_main
from pose.families.openpose.preprocess import NetResolution, compute_geometry
from pose.families.openpose.spec import MODELS
from tests.support.annotations import COCO17_TO, convert
from tests.support.cli_tools import model_args
from tests.support.nets import write_model
from tests.support.oracle import encode, write_oracle_model
from tests.support.render_fields import render_output

ROOT = Path(__file__).resolve().parent.parent
SIZE = 368
# The OpenCV 5 suite has no pycocotools: there the tool scores PCK and says why not AP.
NO_AP = scoring.pycocotools_problem()


def _person(points, box=(0, 0, 100, 200), image_id=1, **extra):
    kp = np.zeros((17, 3))
    for k, (x, y) in points.items():
        kp[k] = (x, y, 2)
    return {"id": len(points), "image_id": image_id, "category_id": 1, "iscrowd": 0, "bbox": list(box),
            "area": box[2] * box[3], "keypoints": kp.ravel().tolist(), "num_keypoints": len(points), **extra}


def test_pck_counts_annotated_joints_within_alpha_of_the_box_side():
    truth = _person({0: (50, 20), 5: (30, 60), 6: (70, 60)})
    found = np.zeros((17, 3))
    found[[0, 5, 6]] = [(53, 20, 1), (30, 75, 1), (70, 60, 0)]  # 3 px, 15 px, not found
    pck = scoring.pck([(truth, found), (_person({0: (10, 10)}), None)])
    # box side 200: alpha 0.05 -> 10 px, 0.1 -> 20 px; the unmatched person misses its nose
    assert pck.labelled[[0, 5, 6]].tolist() == [2, 1, 1] and pck.labelled.sum() == 4
    assert pck.hits[0.05][[0, 5, 6]].tolist() == [1, 0, 0]
    assert pck.hits[0.1][[0, 5, 6]].tolist() == [1, 1, 0]
    assert pck.overall(0.1) == 0.5 and np.isnan(pck.rate(0.1)[1])


def test_people_are_matched_greedily_by_oks_per_image():
    a = _person({0: (50, 20), 5: (30, 60), 6: (70, 60), 11: (35, 120), 12: (65, 120)})
    b = _person({0: (250, 20), 5: (230, 60), 6: (270, 60)}, box=(200, 0, 100, 200))
    near_b = {"image_id": 1, "keypoints": (np.asarray(b["keypoints"]).reshape(17, 3) + (2, 0, 0)).ravel().tolist()}
    elsewhere = {"image_id": 2, "keypoints": a["keypoints"]}
    pairs = scoring.match([a, b], [near_b, elsewhere])
    matched = {id(ann): found for ann, found in pairs}
    assert matched[id(a)] is None and matched[id(b)][0, 0] == 252


def test_an_annotation_file_that_is_not_coco_17_is_refused_in_one_line(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"images": [], "annotations": [{"id": 1, "keypoints": [0] * 42}]}))
    with pytest.raises(Exception, match="has 14 keypoints, not COCO-17's 17"):
        scoring.load_annotations(path)
    path.write_text("{")
    with pytest.raises(Exception, match="not a readable JSON file"):
        scoring.load_annotations(path)


@pytest.fixture(scope="module")
def oracle_set(tmp_path_factory):
    """The annotated COCO people (../shared) scaled into 368x368 oracle images, and their
    annotation file scaled alike."""
    coco = Path(__file__).resolve().parents[2] / "shared" / "annotations" / "coco"
    if not coco.is_dir():
        pytest.skip("../shared is not present")
    folder = tmp_path_factory.mktemp("oracle_eval")
    data = json.loads((coco / "test_coco.json").read_text())
    spec = MODELS["COCO"]
    geometry = compute_geometry((SIZE, SIZE), NetResolution(SIZE, SIZE))
    images, annotations = [], []
    for im in data["images"]:
        scale = SIZE / max(im["width"], im["height"])
        people = []
        for ann in (a for a in data["annotations"] if a["image_id"] == im["id"]):
            kp = np.asarray(ann["keypoints"], np.float64).reshape(17, 3)
            kp[:, :2] *= scale
            people.append(convert(kp[:, :2], kp[:, 2] > 0, COCO17_TO["COCO"]))
            annotations.append({**ann, "keypoints": np.where(kp[:, 2:] > 0, kp, 0).ravel().tolist(),
                                "bbox": [v * scale for v in ann["bbox"]], "area": ann["area"] * scale ** 2,
                                "segmentation": []})
        name = Path(im["file_name"]).with_suffix(".png").name
        assert cv2.imwrite(str(folder / name), encode(render_output(people, spec, geometry), spec))
        images.append({**im, "file_name": name, "width": SIZE, "height": SIZE})
    (folder / "oracle.json").write_text(json.dumps({**data, "images": images, "annotations": annotations}))
    return folder, model_args(*write_oracle_model(folder / "net", spec))


def test_openpose_on_the_oracle_scores_as_the_annotations(oracle_set, tmp_path, capsys):
    folder, net = oracle_set
    assert eval_main(["--model", "COCO", *net, "--net_resolution", f"{SIZE}x{SIZE}", "--images", str(folder),
                      "--annotations", str(folder / "oracle.json"), "--write_json", str(tmp_path / "s.json"),
                      "--quiet"]) == 0
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["model"] == "COCO" and scores["images"] == 4 and scores["annotated_people"] == 14
    # measured: AP 0.990, PCK@0.05 0.994; 12 of the 14 people matched (the other two have no
    # labelled joint: nothing to draw, nothing to find)
    assert scores["pck"]["0.05"]["all"] > 0.98 and scores["matched_people"] >= 12
    if NO_AP:
        assert scores["ap"] is None and f"warning: no AP/AR: {NO_AP}" in capsys.readouterr().err
    else:
        assert scores["ap"]["AP"] > 0.95
        assert "OKS (pycocotools, 17 COCO keypoints): AP 0.9" in capsys.readouterr().out


def test_python_m_pose_eval_runs_openpose_on_random_weights(oracle_set, model_dir, tmp_path):
    """Any model: narrow random weights give a real, near-zero AP, through `python -m pose.eval`."""
    folder, _ = oracle_set
    proto, weights = write_model(model_dir, MODELS["COCO"])
    run = subprocess.run([sys.executable, "-m", "pose.eval", "--model", "coco", "--proto", str(proto), "--weights",
                          str(weights), "--net_resolution", "-1x96", "--images", str(folder), "--annotations",
                          str(folder / "oracle.json"), "--max_images", "2", "--write_json", str(tmp_path / "s.json")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["images"] == 2 and (NO_AP or 0.0 <= scores["ap"]["AP"] < 0.2)
    assert "PCK per joint" in run.stdout and run.stdout.count("ms)") == 2  # a line per image


def test_missing_images_are_counted_and_a_model_without_coco_17_refused(oracle_set, tmp_path, capsys):
    folder, net = oracle_set
    data = json.loads((folder / "oracle.json").read_text())
    data["images"].append({"id": 99, "file_name": "gone.png", "width": SIZE, "height": SIZE})
    (tmp_path / "more.json").write_text(json.dumps(data))
    assert eval_main(["--model", "COCO", *net, "--net_resolution", f"{SIZE}x{SIZE}", "--images", str(folder),
                      "--annotations", str(tmp_path / "more.json"), "--quiet"]) == 0
    assert "warning: 1 of 5 images are not in" in capsys.readouterr().err
    assert eval_main(["--model", "MPI", "--images", str(folder), "--annotations", str(folder / "oracle.json")]) == 2
    assert "MPI has no COCO-17 mapping" in capsys.readouterr().err
