"""One ONNX file with several named outputs (SimCC x/y; dets/labels; dets/keypoints) on
any of the project's three engines, behind `Runner.run(blob) -> [outputs]`.

The project's Engine classes (pose.runtime.backends) return one output and feed the
OpenPose input name; the end2end.onnx files of this family have two outputs and their own
input name, so this family carries a small runner of its own until the restructure
(issue 20) gives pose/runtime a multi-output interface to move it into.

Input sizes are read from the file (as rtmlib's users pass them): `Runner.input_hw` is the
(height, width) of the first input, None where the file leaves them free.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from pose.runtime.backends import cpu_cores, first_line

ENGINES = ("openvino", "onnxruntime", "opencv")


class RuntimeRefused(RuntimeError):
    """This engine cannot load or run this graph (one line, the engine's own reason)."""


def input_signature(path: Union[str, Path]) -> Tuple[str, Tuple[Union[int, str, None], ...], List[str]]:
    """(input name, input dims, output names) read from the ONNX file; free dims are their
    symbolic name (or None)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    first = next(i for i in model.graph.input if i.name not in inits)
    dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                 for d in first.type.tensor_type.shape.dim)
    return first.name, dims, [o.name for o in model.graph.output]


def opencv_compatible(path: Union[str, Path]) -> bytes:
    """The ONNX file with every HardSigmoid written as Clip(alpha * x + beta, 0, 1), the
    same function. cv2.dnn 4.14 and 5.1 both collapse a HardSigmoid (N, C, 1, 1) that
    feeds a broadcasting Mul to (N, C, 1, 1) output, which is CSPNeXt's channel attention:
    without the rewrite an RTMPose fails in the next Reshape (measured on both)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    nodes, extra = [], []
    for node in model.graph.node:
        if node.op_type != "HardSigmoid":
            nodes.append(node)
            continue
        attrs = {a.name: a.f for a in node.attribute}
        x, y = node.input[0], node.output[0]
        consts = {"alpha": attrs.get("alpha", 0.2), "beta": attrs.get("beta", 0.5), "lo": 0.0, "hi": 1.0}
        extra += [numpy_helper.from_array(np.array(v, np.float32), f"{y}/{k}") for k, v in consts.items()]
        nodes += [helper.make_node("Mul", [x, f"{y}/alpha"], [f"{y}/scaled"]),
                  helper.make_node("Add", [f"{y}/scaled", f"{y}/beta"], [f"{y}/shifted"]),
                  helper.make_node("Clip", [f"{y}/shifted", f"{y}/lo", f"{y}/hi"], [y])]
    if extra:
        del model.graph.node[:]
        model.graph.node.extend(nodes)
        model.graph.initializer.extend(extra)
    return model.SerializeToString()


def available_engines() -> List[str]:
    out = []
    for name, module in (("openvino", "openvino"), ("onnxruntime", "onnxruntime")):
        try:
            __import__(module)
            out.append(name)
        except ImportError:
            pass
    return out + ["opencv"]


class Runner:
    """`path` on `engine` (openvino, onnxruntime or opencv = cv2.dnn), CPU. `precision`:
    f32 everywhere, or for OpenVINO "auto" (its own choice: bf16 on CPUs with AMX)."""

    def __init__(self, path: Union[str, Path], engine: str = "auto", threads: Optional[int] = None,
                 precision: str = "f32"):
        self.path = Path(path)
        self.input_name, dims, self.output_names = input_signature(self.path)
        self.input_hw = tuple(dims[2:4]) if all(isinstance(d, int) and d > 0 for d in dims[2:4]) else None
        # A file exported with batch 1 fixed takes one crop per call.
        self.fixed_batch = dims[0] if isinstance(dims[0], int) and dims[0] > 0 else None
        if engine == "auto":
            engine = available_engines()[0]
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
        self.engine = engine
        threads = threads or cpu_cores()
        try:
            if engine == "onnxruntime":
                import onnxruntime as ort
                options = ort.SessionOptions()
                options.log_severity_level = 4
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
            elif engine == "openvino":
                import openvino as ov
                config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads}
                if precision != "auto":  # f32 by default so that the engines agree
                    config["INFERENCE_PRECISION_HINT"] = precision
                self._compiled = ov.Core().compile_model(str(self.path), "CPU", config)
                self._request = self._compiled.create_infer_request()
            else:
                self._net = cv2.dnn.readNetFromONNX(np.frombuffer(opencv_compatible(self.path), np.uint8))
                self._cv_outputs = list(self._net.getUnconnectedOutLayersNames())
        except Exception as exc:  # each library raises its own untyped errors
            raise RuntimeRefused(f"{engine} cannot load {self.path.name}: {first_line(exc)}") from None

    def run(self, blob: np.ndarray) -> List[np.ndarray]:
        """The outputs, in the file's order, for a float32 NCHW blob."""
        blob = np.ascontiguousarray(blob, np.float32)
        if self.fixed_batch == 1 and len(blob) != 1:
            parts = [self.run(blob[i:i + 1]) for i in range(len(blob))]
            return [np.concatenate(p) for p in zip(*parts)] if parts else []
        try:
            if self.engine == "onnxruntime":
                return self._session.run(self.output_names, {self.input_name: blob})
            if self.engine == "openvino":
                result = self._request.infer({0: blob}, share_inputs=False)
                return [np.array(result[i]) for i in range(len(self.output_names))]
            self._net.setInput(blob)
            outs = self._net.forward(self._cv_outputs)
            by_name = dict(zip(self._cv_outputs, outs))
            # cv2.dnn names outputs by their producing layer: map back by position when the names differ.
            return [by_name.get(n, o) for n, o in zip(self.output_names, outs)]
        except Exception as exc:
            raise RuntimeRefused(f"{self.engine} cannot run {self.path.name}: {first_line(exc)}") from None

    def __repr__(self) -> str:
        return f"Runner({self.path.name}, {self.engine})"


def run_all(path: Union[str, Path], blob: np.ndarray, engines: Optional[Sequence[str]] = None) -> dict:
    """{engine: outputs or the RuntimeRefused line} for every engine: the agreement check."""
    out = {}
    for engine in engines or available_engines():
        try:
            out[engine] = Runner(path, engine).run(blob)
        except RuntimeRefused as exc:
            out[engine] = str(exc)
    return out
