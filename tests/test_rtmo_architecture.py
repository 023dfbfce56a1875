"""RTMO of the exact architecture, built by the project (random weights): its parameter
count against one derived from MMPose's configs by hand, its interface against mmdeploy's
end2end.onnx, and the RTMO estimator running it on every engine of this install, agreeing."""
import numpy as np
import pytest

from pose.families.rtmpose.detector import letterbox, planar
from pose.families.rtmpose.network import signature
from pose.families.rtmpose.rtmo import RTMO
from pose.families.rtmpose.rtmo_architecture import build_rtmo, cached_rtmo, main
from pose.runtime import available


def _config_count(deepen, widen, pose_vec):
    """(deploy, training) parameters of RTMO summed module by module from the body7 config
    (CSPDarknet, HybridEncoder hidden 256 with one encoder layer, ChannelMapper to
    pose_vec, RTMOHeadModule, DCC), written independently of the builder. A ConvModule is
    conv + BN (2 a channel) when training, conv + bias when BN is folded; a RepVGG block
    is two convs + two BNs when training, one 3x3 conv + bias deployed."""
    def cm(cin, cout, k, groups=1):
        w = cin // groups * k * k * cout
        return w + cout, w + 2 * cout

    def add(*parts):
        return tuple(sum(p[i] for p in parts) for i in range(2))

    def csp(ch, blocks):  # mmdet CSPLayer(ch, ch), expand 0.5, DarknetBottleneck 1x1 then 3x3
        mid = ch // 2
        return add(cm(ch, mid, 1), cm(ch, mid, 1), cm(2 * mid, ch, 1),
                   *[add(cm(mid, mid, 1), cm(mid, mid, 3)) for _ in range(blocks)])

    w = lambda c: int(c * widen)  # noqa: E731
    total = cm(12, w(64), 3)
    for cin, cout, n, spp in ((64, 128, 3, 0), (128, 256, 9, 0), (256, 512, 9, 0), (512, 1024, 3, 1)):
        total = add(total, cm(w(cin), w(cout), 3), csp(w(cout), max(round(n * deepen), 1)))
        if spp:
            total = add(total, cm(w(cout), w(cout) // 2, 1), cm(w(cout) // 2 * 4, w(cout), 1))
    hidden, rep = w(256), round(3 * deepen)
    repvgg = (9 * hidden * hidden + hidden, 9 * hidden * hidden + 2 * hidden + hidden * hidden + 2 * hidden)
    csp_rep = add(cm(512, hidden, 1), cm(512, hidden, 1), *[repvgg] * rep,
                  cm(hidden, 256, 1) if hidden != 256 else (0, 0))
    linear = lambda i, o: (i * o + o,) * 2  # noqa: E731
    encoder = add(*[linear(256, 256)] * 4, linear(256, 1024), linear(1024, 256), (4 * 256,) * 2)
    total = add(total, *[cm(c, 256, 1) for c in (w(256), w(512), w(1024))], encoder,
                *[cm(256, 256, 1)] * 2, *[cm(256, 256, 3)] * 2, *[csp_rep] * 4, *[cm(256, pose_vec, 1)] * 2)
    head_in, cls, pose = w(256), w(256), 8 * int(36 * widen)
    level = add(cm(head_in, cls, 3), cm(cls, cls, 3), cm(head_in, pose, 3), *[cm(pose, pose, 3, 8)] * 3,
                linear(cls, 1), linear(pose, 4), linear(pose, 17), linear(pose, pose_vec),
                (0, pose * 34 + 34))                               # out_kpt_reg: training only
    gau = (128 * 640 + 256 * 128 + 4 * 128 + 1 + 128 + 17 * 128,) * 2
    dcc = add(linear(pose_vec, 17 * 128), (0, 2 * 17 * 128),       # BatchNorm1d folded
              linear(128, 128), linear(128, 128), gau, (0, pose_vec * 17 + 17 + 1))  # sigma_fc + Scale
    return add(total, level, level, dcc)


@pytest.mark.parametrize("name,factors", [("rtmo-t", (0.33, 0.375, 192)), ("rtmo-s", (0.33, 0.5, 256)),
                                          ("rtmo-m", (0.67, 0.75, 384)), ("rtmo-l", (1.0, 1.0, 512))])
def test_parameters_match_the_config_derived_counts(name, factors):
    # mmpose publishes no parameter count for RTMO (projects/rtmo/README.md and the
    # configs' .md/.yml list AP and latency only), so the reference is the count derived
    # from the configs above: both graphs' counts must equal it exactly (one 1x1 conv of
    # the narrowest layer is > 1,000 parameters, so a wrong width or depth shows).
    _, deploy, training = build_rtmo(name)
    assert (deploy, training) == _config_count(*factors)
    # RTMO-s: 9,771,821 deployed, 9,868,899 training (9.87 M)
    if name == "rtmo-s":
        assert (deploy, training) == (9_771_821, 9_868_899)


@pytest.fixture(scope="module")
def rtmo_t(model_dir):
    return cached_rtmo("rtmo-t", model_dir)


def test_interface_is_mmdeploys(rtmo_t):
    # One row per anchor before the NMS: (416/16)^2 + (416/32)^2 = 845.
    sig = signature(rtmo_t)
    assert sig.input == "input" and sig.input_dims == (1, 3, 416, 416) and sig.input_hw == (416, 416)
    assert sig.outputs == ("dets", "keypoints") and sig.output_dim("keypoints", 2) == 17


def test_the_estimator_runs_it_on_every_engine_and_they_agree(rtmo_t):
    frame = np.random.default_rng(3).integers(0, 255, (480, 640, 3), np.uint8)
    engines = [e for e in available("cpu") if e != "caffe"]
    assert {"onnxruntime", "openvino"} <= set(engines)
    canvas, _ = letterbox(frame, (416, 416))
    blob = planar(canvas)
    raw = {}
    for engine in engines:
        # cv2.dnn ("onnx") runs this graph (no TopK in it), in OpenCV 4 and 5 alike.
        # mmpose's test_cfg thresholds: the random net's scores sit near its 0.01 prior.
        estimator = RTMO(rtmo_t, engine, precision="f32", score_threshold=0.1, nms_threshold=0.65)
        people = estimator(frame)
        assert people and all(p.keypoints.shape == (17, 3) for p in people), engine
        raw[engine] = estimator.runner.run({"input": blob})
    ref = raw.pop("onnxruntime")
    assert ref["dets"].shape == (1, 845, 5) and ref["keypoints"].shape == (1, 845, 17, 3)
    scores = ref["dets"][0, :, 4]
    assert scores.min() > 1e-4 and 0.2 < scores.max() < 0.99  # spread, not saturated (measured 5e-4 to 0.45)
    for engine, out in raw.items():
        # float32 through ~150 layers, measured here: boxes 3e-4 px; keypoints (a softmax
        # integral, which amplifies logit noise) 8e-3 px at the 99.9th percentile, 0.32 px
        # at worst (cv2.dnn 5.1); visibility 3e-5. The three engines found the same 39 people.
        assert np.abs(out["dets"] - ref["dets"]).max() <= 5e-3, engine
        kp_err = np.abs(out["keypoints"] - ref["keypoints"])
        assert np.percentile(kp_err[..., :2], 99.9) <= 0.05 and kp_err[..., :2].max() <= 1.0, engine
        assert kp_err[..., 2].max() <= 1e-3, engine


def test_top_k_graph_keeps_the_best_anchors_rows(model_dir, rtmo_t):
    # dcc_top_k: the same network with a TopK before the DCC, as cheap as the real file.
    from pose.families.rtmpose.network import open_file, plan
    top = cached_rtmo("rtmo-t", model_dir, dcc_top_k=50)
    blob = np.random.default_rng(4).uniform(0, 255, (1, 3, 416, 416)).astype(np.float32)
    full, best = (open_file(plan("onnxruntime", "cpu", "f32"), p, signature(p)).run({"input": blob})
                  for p in (rtmo_t, top))
    order = np.argsort(-full["dets"][0, :, 4], kind="stable")[:50]
    assert best["dets"].shape == (1, 50, 5) and best["keypoints"].shape == (1, 50, 17, 3)
    np.testing.assert_allclose(best["dets"][0], full["dets"][0, order], atol=1e-4)
    np.testing.assert_allclose(best["keypoints"][0], full["keypoints"][0, order], atol=1e-3)


def test_cli_writes_the_graph(tmp_path, capsys):
    out = tmp_path / "rtmo-t.onnx"
    assert main(["rtmo-t", str(out)]) == 0
    assert "6,767,845 parameters in the deploy graph" in capsys.readouterr().out
    assert signature(out).outputs == ("dets", "keypoints")


@pytest.mark.parametrize("k", ["0", "846"])
def test_cli_refuses_a_top_k_outside_the_anchors_in_one_line(capsys, k):
    with pytest.raises(SystemExit) as exit_:
        main(["rtmo-t", "--top-k", k])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "python -m pose.families.rtmpose.rtmo_architecture: error: "
        f"--top-k must be between 1 and 845 (the anchors of rtmo-t), got {k} (see --help)"]
