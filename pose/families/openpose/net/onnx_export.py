"""Caffe weights -> ONNX graph, without Caffe and without OpenCV 4.

The body networks use five Caffe layer types (Convolution with pad/stride, ReLU, PReLU
in BODY_25, 2x2/2 max pooling, channel Concat); each maps to one ONNX node. The topology
comes from `pose.families.openpose.net.architecture.build_layers` (any stage cut) or from a Caffe deploy file
that uses only those types (`read_prototxt`), the numbers from the .caffemodel read by
`pose.runtime.caffemodel` (both the `layer` and the legacy `layers` field), the channel counts
from the weights themselves (so narrowed test nets convert too).

Caching the converted files is pose.families.openpose.net.convert's job.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from pose.core.files import write_atomic
from pose.families.openpose.net.architecture import INPUT_NAME, Layer, build_layers
from pose.families.openpose.spec import ModelSpec
from pose.runtime.caffemodel import CaffeModelError, read_caffemodel

# Opset 13 / IR 7: read by OpenCV 4.8+, OpenCV 5 and every onnxruntime of the last years.
OPSET = 13
IR_VERSION = 7
# Stored as the model's model_version; bump it when the graph written here changes so
# that cached files from an older converter are rebuilt.
CONVERTER_VERSION = 2  # 2: deploy files ending in an in-place layer (ReLU, PReLU) convert correctly
PRODUCER = "opencv-hpe"


class ConversionError(ValueError):
    """The weights or the definition cannot be turned into an ONNX model."""


class WeightsMismatch(ConversionError):
    """The weights do not fit the network definition (another model's weights?)."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ConversionError("converting Caffe weights to ONNX needs the onnx package: "
                              "pip install -r requirements.txt") from None
    return onnx


# ---------------------------------------------------------------- prototxt

_V1_TYPES = {"CONVOLUTION": "Convolution", "RELU": "ReLU", "POOLING": "Pooling", "CONCAT": "Concat"}
_TOKEN = re.compile(r'\s+|#[^\n]*|"((?:[^"\\]|\\.)*)"|([{}:])|([^\s{}:"#]+)')


def _parse_text(text: str) -> Dict[str, list]:
    """Protobuf text format as nested {field: [values]} (strings, numbers and enums as str)."""
    stack: List[Dict[str, list]] = [{}]
    key: Optional[str] = None
    for m in _TOKEN.finditer(text):
        quoted, punct, word = m.group(1), m.group(2), m.group(3)
        if punct == "{":
            if key is None:
                raise ConversionError("unexpected '{' in the network definition")
            child: Dict[str, list] = {}
            stack[-1].setdefault(key, []).append(child)
            stack.append(child)
            key = None
        elif punct == "}":
            if len(stack) == 1:
                raise ConversionError("unbalanced '}' in the network definition")
            stack.pop()
        elif punct == ":":
            if key is None:
                raise ConversionError("unexpected ':' in the network definition")
        elif quoted is not None or word is not None:
            if key is None and quoted is None:
                key = word
            elif key is not None:
                stack[-1].setdefault(key, []).append(quoted if quoted is not None else word)
                key = None
            else:
                raise ConversionError(f"unexpected {quoted!r} in the network definition")
    if len(stack) != 1:
        raise ConversionError("unbalanced '{' in the network definition")
    return stack[0]


def _one(fields: Dict[str, list], name: str, default=None):
    values = fields.get(name)
    return values[-1] if values else default


def _square(param: Dict[str, list], layer: str, name: str, default: Optional[int]) -> Optional[int]:
    """kernel_size, pad or stride: one value, a repeated equal pair, or equal _h/_w fields."""
    base = name[:-len("_size")] if name.endswith("_size") else name
    values = set(param.get(name, [])) | {v for v in (_one(param, base + "_h"), _one(param, base + "_w")) if v}
    if len(values) > 1:
        raise ConversionError(f"layer {layer}: a non-square {base} is not supported")
    return int(values.pop()) if values else default


def _layer_from_text(fields: Dict[str, list]) -> Optional[Layer]:
    name = _one(fields, "name", "")
    type_ = _one(fields, "type", "")
    type_ = _V1_TYPES.get(type_, type_)
    bottoms, tops = tuple(fields.get("bottom", [])), fields.get("top", [])
    if type_ in ("Input", "Data"):
        return None
    if len(tops) != 1:
        raise ConversionError(f"layer {name}: {len(tops)} tops are not supported")
    if type_ == "Convolution":
        param = _one(fields, "convolution_param", {})
        for unsupported, default in (("group", "1"), ("dilation", "1")):
            if _one(param, unsupported, default) != default:
                raise ConversionError(f"layer {name}: convolution {unsupported} is not supported")
        kernel = _square(param, name, "kernel_size", None)
        if kernel is None:
            raise ConversionError(f"layer {name}: no kernel_size")
        return Layer(name, type_, bottoms, tops[0], int(_one(param, "num_output", 0)), kernel,
                     _square(param, name, "pad", 0), _square(param, name, "stride", 1))
    if type_ == "Pooling":
        param = _one(fields, "pooling_param", {})
        if _one(param, "pool", "MAX") != "MAX" or _one(param, "global_pooling", "false") != "false":
            raise ConversionError(f"layer {name}: only max pooling is supported")
        kernel = _square(param, name, "kernel_size", None)
        if kernel is None:
            raise ConversionError(f"layer {name}: no kernel_size")
        return Layer(name, type_, bottoms, tops[0], kernel=kernel, pad=_square(param, name, "pad", 0),
                     stride=_square(param, name, "stride", 1))
    if type_ == "ReLU":
        if float(_one(_one(fields, "relu_param", {}), "negative_slope", 0)) != 0:
            raise ConversionError(f"layer {name}: leaky ReLU is not supported")
        return Layer(name, type_, bottoms, tops[0])
    if type_ == "PReLU":
        # Per-channel or channel_shared: the slope blob's size tells, and is checked against
        # the channels when converting.
        return Layer(name, type_, bottoms, tops[0])
    if type_ == "Concat":
        param = _one(fields, "concat_param", {})
        if int(_one(param, "axis", _one(param, "concat_dim", 1))) != 1:
            raise ConversionError(f"layer {name}: only channel concatenation is supported")
        return Layer(name, type_, bottoms, tops[0])
    raise ConversionError(f"layer {name}: type {type_ or '?'} is not supported by the ONNX converter "
                          "(only Convolution, ReLU, PReLU, max Pooling and Concat are)")


def read_prototxt(path: Union[str, Path]) -> Tuple[str, List[Layer]]:
    """(input blob name, layers) of a Caffe deploy file that uses the five supported types."""
    fields = _parse_text(Path(path).read_text(errors="replace"))
    layers = [layer for block in fields.get("layer", []) + fields.get("layers", [])
              if (layer := _layer_from_text(block)) is not None]
    inputs = fields.get("input", []) + [t for block in fields.get("layer", [])
                                        if _one(block, "type") == "Input" for t in block.get("top", [])]
    if not layers or not inputs:
        raise ConversionError(f"{Path(path).name} has no input or no layers")
    return inputs[0], layers


# ---------------------------------------------------------------- graph

def _conv_params(layer: Layer, blobs: Sequence[np.ndarray], in_channels: int):
    """(weight OIHW, bias) of a convolution, checked against the layer and its input."""
    if not blobs:
        raise WeightsMismatch(f"the weights have no blobs for layer {layer.name}")
    k, out_channels = layer.kernel, layer.num_output
    shape = (out_channels, in_channels, k, k)
    # Legacy (V1) blobs are 4-D num/channels/height/width too, but may carry extra unit axes.
    if blobs[0].size != int(np.prod(shape)):
        raise WeightsMismatch(f"layer {layer.name}: weights of shape {tuple(blobs[0].shape)} where the "
                              f"definition needs {shape}")
    bias = blobs[1].reshape(-1) if len(blobs) > 1 else np.zeros(out_channels, np.float32)
    if bias.size != out_channels:
        raise WeightsMismatch(f"layer {layer.name}: {bias.size} biases for {out_channels} filters")
    return np.ascontiguousarray(blobs[0].reshape(shape), np.float32), np.ascontiguousarray(bias, np.float32)


def _prelu_slope(layer: Layer, blobs: Sequence[np.ndarray], channels: int) -> np.ndarray:
    """Caffe's PReLU slopes ([C], or [1] when channel_shared) shaped (C, 1, 1) for ONNX
    PRelu, whose slope broadcasts against (N, C, H, W) from the right."""
    if not blobs:
        raise WeightsMismatch(f"the weights have no blobs for layer {layer.name}")
    slope = blobs[0].reshape(-1)
    if slope.size not in (1, channels):
        raise WeightsMismatch(f"layer {layer.name}: {slope.size} slopes for {channels} channels")
    return np.ascontiguousarray(slope.reshape(-1, 1, 1), np.float32)


def _width(blobs: Dict[str, List[np.ndarray]], layers: Sequence[Layer]) -> float:
    """The channel width factor of a weights file (narrowed test nets): first conv's filters
    over the full network's."""
    first = next(layer for layer in layers if layer.type == "Convolution")
    if not blobs.get(first.name):
        raise WeightsMismatch(f"the weights have no layer {first.name}")
    return blobs[first.name][0].shape[0] / first.num_output


def width_of(weights: Union[str, Path], spec: ModelSpec, stages: Optional[int] = None) -> float:
    """The channel width factor of a weights file, as the conversion finds it: 1.0 for
    OpenPose's own, less for narrowed nets (read whole: for files other than the official)."""
    try:
        return _width(read_caffemodel(weights), build_layers(spec, stages or spec.stages))
    except (CaffeModelError, WeightsMismatch):
        return 1.0  # the engine that loads it says what is wrong, in its words


def build_model(layers: Sequence[Layer], blobs: Dict[str, List[np.ndarray]], output_name: Optional[str] = None,
                graph_name: str = "openpose", input_blob: str = INPUT_NAME):
    """An onnx.ModelProto computing Caffe `layers` with `blobs` (weights by layer name).

    The ONNX input is always `image` (N, 3, H, W) with free N, H and W, whatever the Caffe
    input blob (`input_blob`) was called; the output is `output_name` (default: the last
    layer's top).
    """
    _onnx()
    from onnx import TensorProto, helper, numpy_helper

    output_name = output_name or layers[-1].top
    nodes, initializers = [], []
    current: Dict[str, str] = {input_blob: INPUT_NAME}  # Caffe blob -> latest ONNX tensor
    channels: Dict[str, int] = {input_blob: 3}
    for layer in layers:
        missing = [b for b in layer.bottoms if b not in current]
        if missing:
            raise ConversionError(f"layer {layer.name} reads {missing[0]}, which no earlier layer writes")
        src = [current[b] for b in layer.bottoms]
        # Caffe's ReLU works in place (top == bottom); ONNX needs a fresh name each time,
        # and only the last node may write the output's name, which an in-place last
        # layer shares with the layer before it.
        out = output_name if layer is layers[-1] else layer.name
        if out == output_name and layer is not layers[-1]:
            out = f"{layer.name}/before_in_place"
        if layer.type == "Convolution":
            if layer.name not in blobs:
                raise WeightsMismatch(f"the weights have no layer {layer.name}")
            weight, bias = _conv_params(layer, blobs[layer.name], channels[layer.bottoms[0]])
            w_name, b_name = f"{layer.name}.weight", f"{layer.name}.bias"
            initializers += [numpy_helper.from_array(weight, w_name), numpy_helper.from_array(bias, b_name)]
            nodes.append(helper.make_node("Conv", [src[0], w_name, b_name], [out], name=layer.name,
                                          kernel_shape=[layer.kernel] * 2, pads=[layer.pad or 0] * 4,
                                          strides=[layer.stride or 1] * 2))
            channels[layer.top] = layer.num_output
        elif layer.type == "ReLU":
            nodes.append(helper.make_node("Relu", src, [out], name=layer.name))
            channels[layer.top] = channels[layer.bottoms[0]]
        elif layer.type == "PReLU":
            slope = _prelu_slope(layer, blobs.get(layer.name, []), channels[layer.bottoms[0]])
            s_name = f"{layer.name}.slope"
            initializers.append(numpy_helper.from_array(slope, s_name))
            nodes.append(helper.make_node("PRelu", [src[0], s_name], [out], name=layer.name))
            channels[layer.top] = channels[layer.bottoms[0]]
        elif layer.type == "Pooling":
            # Caffe rounds pooled sizes up; ceil_mode keeps odd sizes identical.
            nodes.append(helper.make_node("MaxPool", src, [out], name=layer.name,
                                          kernel_shape=[layer.kernel] * 2, strides=[layer.stride or 1] * 2,
                                          pads=[layer.pad or 0] * 4, ceil_mode=1))
            channels[layer.top] = channels[layer.bottoms[0]]
        elif layer.type == "Concat":
            nodes.append(helper.make_node("Concat", src, [out], name=layer.name, axis=1))
            channels[layer.top] = sum(channels[b] for b in layer.bottoms)
        else:
            raise ConversionError(f"layer {layer.name}: type {layer.type} is not supported")
        current[layer.top] = out
    graph = helper.make_graph(
        nodes, graph_name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT,
                                       ["batch", channels[layers[-1].top], "out_height", "out_width"])],
        initializers)
    model = helper.make_model(graph, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.model_version = CONVERTER_VERSION
    return model


def to_half(model):
    """The same network computing in float16 (weights stored as float16), its input and
    output still float32: for GPUs that run f16 (onnxruntime's CUDA provider), which
    cannot take an f16 request on an f32 graph the way OpenVINO and cv2.dnn can."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    for i, init in enumerate(graph.initializer):
        graph.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16),
                                                              init.name))
    output_name = graph.output[0].name
    half_in, half_out = f"{INPUT_NAME}/f16", f"{output_name}/f16"
    for node in graph.node:
        node.input[:] = [half_in if name == INPUT_NAME else name for name in node.input]
        node.output[:] = [half_out if name == output_name else name for name in node.output]
    nodes = [helper.make_node("Cast", [INPUT_NAME], [half_in], name="to_f16", to=TensorProto.FLOAT16),
             *graph.node,
             helper.make_node("Cast", [half_out], [output_name], name="to_f32", to=TensorProto.FLOAT)]
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def convert(weights: Union[str, Path], spec: ModelSpec, stages: Optional[int], out_path: Union[str, Path],
            proto: Optional[Union[str, Path]] = None, half: bool = False) -> Path:
    """Write the network with the Caffe `weights` as ONNX, atomically.

    The network is `spec`'s cut after `stages`, or the deploy file `proto` when given;
    `half`: computing in float16 (to_half).
    """
    try:
        blobs = read_caffemodel(weights)
    except CaffeModelError as exc:
        raise ConversionError(f"{Path(weights).name} is not a readable .caffemodel ({exc})") from None
    if proto is None:
        stages = spec.stages if stages is None else stages
        width = _width(blobs, build_layers(spec, stages))
        model = build_model(build_layers(spec, stages, width), blobs, spec.output_name,
                            f"OpenPose-{spec.name}-{stages}stages")
    else:
        input_blob, layers = read_prototxt(proto)
        model = build_model(layers, blobs, None, Path(proto).stem, input_blob)
    if half:
        model = to_half(model)
    data = model.SerializeToString()
    del model, blobs
    return write_atomic(Path(out_path), data)
