"""The runtime opens model files, not specs: any ONNX graph, with several named inputs and
outputs and free batch and spatial sizes, runs on every installed engine."""
import numpy as np
import pytest

from pose.runtime import Plan, available, open_onnx

onnx = pytest.importorskip("onnx")


def _two_in_two_out(path):
    """sum = a + b and product = a * b over (N, 3, H, W), every size but the channels free."""
    from onnx import TensorProto, helper

    shape = ["N", 3, "H", "W"]
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Mul", ["a", "b"], ["product"])], "two",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in ("a", "b")],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in ("sum", "product")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("engine", [e for e in available() if e != "caffe"])
def test_an_onnx_file_with_named_inputs_and_outputs_runs_at_any_batch_and_size(tmp_path, engine):
    net = open_onnx(Plan(engine, "cpu", "f32"), _two_in_two_out(tmp_path / "two.onnx"), threads=1)
    assert set(net.outputs) == {"sum", "product"}
    rng = np.random.default_rng(0)
    for shape in ((1, 3, 4, 5), (3, 3, 6, 2)):
        a, b = rng.random(shape, dtype=np.float32), rng.random(shape, dtype=np.float32)
        out = net.run({"a": a, "b": b})
        np.testing.assert_allclose(out["sum"], a + b, rtol=1e-6)
        np.testing.assert_allclose(out["product"], a * b, rtol=1e-6)
