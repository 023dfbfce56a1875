"""RTMPose of the exact architecture, built by the project (random weights): its parameter
count against MMPose's published figures, its interface against mmdeploy's end2end.onnx,
and every engine of this install running it and agreeing."""
import numpy as np
import pytest

from pose.core.errors import NetworkError
from pose.families.rtmpose.architecture import bn_parameters, build_model, cached_model
from pose.families.rtmpose.facts import POSE_MODELS
from pose.families.rtmpose.network import open_file, plan, signature
from pose.runtime import available


def _engines():
    """Every engine of this install that reads ONNX (cv2.dnn's is "onnx")."""
    return [e for e in available("cpu") if e != "caffe"]


def _run(path, engine, blob):
    sig = signature(path)
    outputs = open_file(plan(engine, "cpu", "f32"), path, sig).run({sig.input: blob})
    return [outputs[name] for name in sig.outputs]


@pytest.mark.parametrize("name", ["rtmpose-t", "rtmpose-s", "rtmpose-m", "rtmpose-l"])
def test_parameters_match_the_published_counts(name):
    # Folded (what an exported ONNX holds): equal to the published 3-decimal figure, i.e.
    # within half its last digit. BN kept (+ gamma and beta per channel, minus the folded
    # bias): equal to the README's 2-decimal figure the same way. Both are exact counts of
    # the graph, so any wrong width, depth or layer shows at once (one 3x3 conv of the
    # smallest stage is > 1,000 parameters).
    spec = POSE_MODELS[name]
    _, folded, table = build_model(name)
    assert abs(folded / 1e6 - spec.params_folded_m) <= 0.0005, folded
    assert abs((folded + bn_parameters(table)) / 1e6 - spec.params_m) <= 0.005


@pytest.mark.parametrize("name", ["rtmpose-m-384x288", "rtmpose-l-384x288", "rtmpose-t-halpe26", "rtmpose-m-halpe26"])
def test_variants_match_the_published_counts(name):
    # Only BN-kept figures are published for the 384x288 and Halpe-26 models.
    spec = POSE_MODELS[name]
    _, folded, table = build_model(name)
    assert abs((folded + bn_parameters(table)) / 1e6 - spec.params_m) <= 0.005


@pytest.fixture(scope="module")
def rtmpose_t(model_dir):
    return cached_model("rtmpose-t", model_dir)


def test_interface_is_mmdeploys(rtmpose_t):
    sig = signature(rtmpose_t)
    assert sig.input == "input" and sig.input_dims[1:] == (3, 256, 192) and sig.fixed_batch is None
    assert sig.outputs == ("simcc_x", "simcc_y") and sig.output_dim("simcc_x", 1) == 17
    assert sig.input_hw == (256, 192)
    x, y = _run(rtmpose_t, "onnxruntime", np.zeros((2, 3, 256, 192), np.float32))
    assert x.shape == (2, 17, 384) and y.shape == (2, 17, 512)  # SimCC split 2.0


def test_every_engine_runs_it_and_they_agree(rtmpose_t):
    blob = np.random.default_rng(1).standard_normal((3, 3, 256, 192)).astype(np.float32)
    results = {e: _run(rtmpose_t, e, blob) for e in _engines()}
    assert "onnx" in results  # cv2.dnn runs it (HardSigmoid rewritten: pose.runtime.backends)
    ref = results.pop("onnxruntime" if "onnxruntime" in results else "onnx")
    spread = max(float(np.abs(o).max()) for o in ref)
    assert spread > 10  # the random net's logits are far from flat
    for engine, outs in results.items():
        for a, b in zip(outs, ref):
            # float32 through ~100 layers: measured 3e-4 on logits up to 80 (4e-6 relative)
            assert np.abs(a - b).max() <= 1e-5 * spread + 1e-4, engine
            assert (a.argmax(-1) == b.argmax(-1)).mean() > 0.99, engine


def test_benchmark_detector_is_yolox_tiny_sized():
    # The speed benchmark's detector (mmdet's YOLOX-tiny layers, random weights, 80 classes
    # here for the published count): with BN's gamma and beta kept (as the paper counts),
    # 5.056 M against the published 5.06 M.
    from pose.families.rtmpose.yolox_architecture import build_yolox
    _, folded, kept = build_yolox("yolox-tiny", n_classes=80)
    assert abs(kept / 1e6 - 5.06) <= 0.005 and folded < kept  # published 5.06 M: BN kept, 80 classes


def test_benchmark_nano_detector_matches_the_published_count():
    # YOLOX-nano: depthwise-separable 3x3 convolutions (mmdet's use_depthwise), published 0.91 M.
    from pose.families.rtmpose.yolox_architecture import build_yolox
    _, _, kept = build_yolox("yolox-nano", n_classes=80)
    assert abs(kept / 1e6 - 0.91) <= 0.005


@pytest.mark.parametrize("engine", ["onnxruntime", "onnx"])
def test_an_engine_that_cannot_run_a_graph_says_so_in_one_line(tmp_path, rtmpose_t, engine):
    import onnx
    model = onnx.load(str(rtmpose_t))
    model.graph.node[0].op_type = "NoSuchOp"  # a graph no engine knows
    path = tmp_path / "broken.onnx"
    onnx.save(model, str(path))
    with pytest.raises(NetworkError) as info:
        open_file(plan(engine), path, signature(path), probe=np.zeros((1, 3, 256, 192), np.float32))
    message = str(info.value)
    assert "\n" not in message and "broken.onnx" in message and info.value.exit_code == 2
