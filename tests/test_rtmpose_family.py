"""The RTMPose family's pieces that need no oracle: its layouts (MMPose's colours and
sigmas), the score bound under which keypoints are neither drawn nor classified, the plan
it asks of the runtime, its run identity, and what the docs promise a reader of COCO-17."""
import argparse
import re
from pathlib import Path

import numpy as np
import pytest

from pose.analysis.classify import classify
from pose.core.errors import UsageError
from pose.core.estimator import Estimator, keypoint_threshold
from pose.core.person import Person
from pose.families import FAMILIES, get_family
from pose.families.rtmpose.models import MODELS, get_model
from pose.families.rtmpose.network import plan
from pose.io import render
from pose.layouts import COCO17, COCO18, HALPE26
from pose.runtime import available
from tests.support.toy_family import STANDING_HELLO

ROOT = Path(__file__).resolve().parent.parent


def test_coco17_and_halpe26_draw_in_mmposes_colours_and_carry_cocos_sigmas():
    blue, green, orange = (51, 153, 255), (0, 255, 0), (255, 128, 0)
    assert COCO17.colors_rgb[:5] == (blue,) * 5 and COCO17.colors_rgb[5] == green and COCO17.colors_rgb[6] == orange
    bones = dict(zip(COCO17.bones, COCO17.limb_colors_rgb))
    assert bones[(11, 12)] == bones[(5, 6)] == bones[(5, 11)] == blue  # hips, shoulders, torso sides
    assert bones[(15, 13)] == green and bones[(16, 14)] == orange
    assert render.limb_colors_bgr(COCO17)[4].tolist() == [255, 153, 51]  # BGR
    assert COCO17.sigmas[0] == 0.026 and COCO17.sigmas[-1] == 0.089 and len(HALPE26.sigmas) == 26
    assert HALPE26.colors_rgb[17:] == (orange,) * 9 and HALPE26.joint("mid_hip") == 19
    # OpenPose's layouts keep OpenPose's rule: a bone in its second keypoint's colour
    assert COCO18.bone_colors_rgb is None and COCO18.limb_colors_rgb[0] == COCO18.colors_rgb[2]


def _person(scores):
    kp = np.column_stack([STANDING_HELLO * (200, 300), scores])
    return Person(kp, 0.9)


def test_keypoints_under_the_models_bound_are_kept_but_neither_drawn_nor_classified():
    spec = get_model("rtmpose-s")
    assert keypoint_threshold(spec) == 0.3 and keypoint_threshold(COCO17) == 0.0
    sure = _person(np.full(17, 0.9))
    unsure = _person(np.full(17, 0.2))  # placed, as SimCC places every keypoint, but not trusted
    image = np.zeros((320, 220, 3), np.uint8)
    assert render.draw_bodies(image.copy(), [sure], spec).any()
    assert not render.draw_bodies(image.copy(), [unsure], spec).any()
    assert render.draw_bodies(image.copy(), [unsure], COCO17).any()  # a bare layout has no bound
    assert classify(sure, spec).posture == "standing"
    assert classify(unsure, spec).posture == "unknown" and classify(unsure, COCO17).posture == "standing"


def test_the_plan_never_takes_the_caffe_engine_and_refuses_what_cannot_run():
    with pytest.raises(UsageError, match="--engine caffe reads OpenPose's Caffe files"):
        plan("caffe")
    assert plan("auto").engine in ("openvino", "onnxruntime", "onnx")
    if "onnxruntime" in available("cpu"):
        # onnxruntime on the CPU cannot run f16 at all (the runtime says so); on CUDA the family would refuse it
        with pytest.raises(Exception, match="f16"):
            plan("onnxruntime", "cpu", "f16")


def _args(**given):
    values = dict(family="rtmpose", mode="rtmpose-s", weights=None, detector=None, detect_every=None,
                  engine="auto", device="cpu", precision="auto")
    values.update(given)
    return argparse.Namespace(**values)


def test_the_family_module_keeps_the_registry_interface(tmp_path, monkeypatch):
    family = get_family("rtmpose")
    assert sorted(FAMILIES["rtmpose"].models) == sorted(family.MODELS) == sorted(MODELS)
    assert family.DEFAULT_MODEL == "human" and get_model("HUMAN").network == "rtmpose-m"
    monkeypatch.setenv("OPENCV_HPE_HOME", str(tmp_path))
    model, options = family.identity(_args(detect_every=3))
    assert model["name"] == "rtmpose-s" and model["weights"].endswith("rtmpose/rtmpose-s.onnx")
    assert model["detector"].endswith("rtmpose/yolox-tiny.onnx") and options == {"detect_every": 3}
    model, options = family.identity(_args(mode="rtmo-m"))
    assert "detector" not in model and options == {}
    assert family.identity(_args(detector="my_rtmdet.onnx"))[0]["detector"].endswith("my_rtmdet.onnx")


def test_the_estimators_keep_the_protocol(tmp_path):
    from pose.families.rtmpose.architecture import cached_model
    from pose.families.rtmpose.estimator import RTMPose
    est = RTMPose(cached_model("t", tmp_path), None, "onnxruntime", spec=get_model("rtmpose-t"), detect_every=2)
    assert isinstance(est, Estimator) and est.in_flight == 1 and "rtmpose-t" in est.describe()
    frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), np.uint8)
    est.submit(frame, "a")
    est.submit(frame, "b")
    done = est.collect()
    assert [tag for tag, _ in done] == ["a", "b"] and len(est.people_from(done[0][1], frame)) == 1
    assert est.frame_index == 2
    est.abandon()  # a run that stops: nothing kept, the next video starts afresh
    assert est.collect() == [] and est.frame_index == 0


def test_the_docs_mapping_from_coco17_to_openposes_coco18_is_right():
    text = (ROOT / "docs" / "models-rtmpose.md").read_text()
    listed = re.search(r"`\[0, -, ([0-9, ]+)\]\[k\]`", text).group(1)
    documented = [0, None] + [int(v) for v in listed.split(",")]
    # COCO18.coco17[j] is the COCO-18 index of COCO-17 keypoint j: the documented list is its inverse
    inverse = [None] * 18
    for j, k in enumerate(COCO18.coco17):
        inverse[k] = j
    assert documented == inverse
