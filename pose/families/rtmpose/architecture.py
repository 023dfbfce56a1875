"""RTMPose as an ONNX graph of the exact architecture, written by this project's own code:
CSPNeXt-P5 backbone + RTMCCHead (one GAU block) + SimCC outputs, with the interface of the
end2end.onnx files mmdeploy writes (input "input" (N, 3, H, W), outputs "simcc_x"
(N, K, 2W) and "simcc_y" (N, K, 2H)).

The real weights cannot be downloaded where the project is tested, so the weights here are
random (seeded): the files prove the engines, the batch, the speed and the parameter
count, not accuracy. Batch norm is folded into the convolutions, as in an exported ONNX,
so every convolution carries a bias.

Followed line by line (mmpose, github.com/open-mmlab/mmpose):
  mmpose/models/backbones/cspnext.py       stem, stages, SPP on the last stage
  mmpose/models/utils/csp_layer.py         CSPLayer, CSPNeXtBlock, ChannelAttention
  mmpose/models/backbones/csp_darknet.py   SPPBottleneck
  mmpose/models/heads/coord_cls_heads/rtmcc_head.py, mmpose/models/utils/rtmcc_block.py,
  mmpose/models/utils/transformer.py (ScaleNorm)

    python -m pose.families.rtmpose.architecture --print m        # layer table and counts
    python -m pose.families.rtmpose.architecture --write s out.onnx
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

from pose.families.rtmpose.facts import INPUT_NAME, POSE_MODELS, POSE_OUTPUTS, SIMCC_SPLIT_RATIO, SIZES, PoseModel

OPSET = 13
IR_VERSION = 7
# Stored as model_version: bump when the graph written here changes, so cached files are rebuilt.
BUILDER_VERSION = 1
PRODUCER = "opencv-hpe"

# CSPNeXt-P5 (cspnext.py arch_settings): in, out, blocks, add_identity, use_spp.
P5_STAGES = ((64, 128, 3, True, False), (128, 256, 6, True, False), (256, 512, 6, True, False),
             (512, 1024, 3, False, True))
SPP_KERNELS = (5, 9, 13)
EXPAND_RATIO = 0.5
BLOCK_KERNEL = 5            # CSPNeXtBlock's depthwise kernel
HEAD_KERNEL = 7             # RTMCCHead final_layer_kernel_size in every rtmpose config
GAU_HIDDEN, GAU_S, GAU_EXPANSION = 256, 128, 2
SCALENORM_EPS = 1e-5


@dataclass
class _Graph:
    """Nodes and initialisers of one ONNX graph; `params` counts the learned numbers
    (convolution weights and folded biases, linear layers, norms, GAU's gamma/beta/scale),
    leaving out the few constants the graph needs (shapes, epsilons)."""

    rng: np.random.Generator
    nodes: list = field(default_factory=list)
    inits: list = field(default_factory=list)
    params: int = 0
    table: List[Tuple[str, str, int]] = field(default_factory=list)  # (name, what, parameters)
    _n: int = 0

    def name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}_{self._n}"

    def tensor(self, stem: str, array: np.ndarray, learned: bool = True) -> str:
        from onnx import numpy_helper
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        if learned:
            self.params += array.size
        return name

    def op(self, op: str, inputs: List[str], stem: Optional[str] = None, outputs: int = 1, **attrs) -> Union[str, List[str]]:
        from onnx import helper
        outs = [self.name(stem or op.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=outs[0], **attrs))
        return outs[0] if outputs == 1 else outs

    def const(self, values, dtype=np.float32) -> str:
        return self.tensor("const", np.asarray(values, dtype), learned=False)

    # ---- layers

    def silu(self, x: str) -> str:
        return self.op("Mul", [x, self.op("Sigmoid", [x])], "silu")

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: bool = True,
             what: str = "conv") -> str:
        """mmcv's ConvModule (conv without bias, BN, SiLU) with the BN folded: weight + bias."""
        fan_in = cin // groups * k * k
        # He-scaled for the SiLU stack; a folded BN would give each channel its own gain.
        w = self.rng.standard_normal((cout, cin // groups, k, k), dtype=np.float32)
        w *= np.float32(math.sqrt(2.0 / fan_in)) * self.rng.uniform(0.6, 1.0, (cout, 1, 1, 1)).astype(np.float32)
        b = self.rng.uniform(-0.1, 0.1, cout).astype(np.float32)
        before = self.params
        y = self.op("Conv", [x, self.tensor("w", w), self.tensor("b", b)], "conv", kernel_shape=[k, k],
                    strides=[stride, stride], pads=[k // 2] * 4, group=groups)
        self.table.append((y, f"{what} {cin}->{cout} {k}x{k}/{stride}" + (f" g{groups}" if groups > 1 else ""),
                           self.params - before))
        return self.silu(y) if act else y

    def linear(self, x: str, cin: int, cout: int, what: str) -> str:
        """nn.Linear without bias, as MatMul with the transposed weight."""
        w = (self.rng.standard_normal((cin, cout), dtype=np.float32) * np.float32(1 / math.sqrt(cin)))
        before = self.params
        y = self.op("MatMul", [x, self.tensor("linear", w)], "linear")
        self.table.append((y, f"{what} linear {cin}->{cout}", self.params - before))
        return y

    def scale_norm(self, x: str, dim: int) -> str:
        """mmpose's ScaleNorm: x / max(||x|| * dim^-0.5, eps) * g (g one learned number)."""
        norm = self.op("ReduceL2", [x], "norm", axes=[-1], keepdims=1)
        norm = self.op("Max", [self.op("Mul", [norm, self.const([dim ** -0.5])]), self.const([SCALENORM_EPS])])
        before = self.params
        y = self.op("Mul", [self.op("Div", [x, norm]), self.tensor("g", np.ones(1, np.float32))], "scalenorm")
        self.table.append((y, f"ScaleNorm({dim})", self.params - before))
        return y


def _stage_plan(size: str) -> Tuple[List[int], List[Tuple[int, int, int, bool, bool]]]:
    """(stem widths, [(in, out, blocks, identity, spp)]) after deepen/widen, as cspnext.py rounds them."""
    f = SIZES[size]
    stem0 = int(P5_STAGES[0][0] * f.widen // 2)
    stem = [stem0, stem0, int(P5_STAGES[0][0] * f.widen)]
    stages = [(int(i * f.widen), int(o * f.widen), max(round(n * f.deepen), 1), ident, spp)
              for i, o, n, ident, spp in P5_STAGES]
    return stem, stages


def _csp_layer(g: _Graph, x: str, channels: int, blocks: int, identity: bool) -> str:
    mid = int(channels * EXPAND_RATIO)
    short = g.conv(x, channels, mid, 1, what="csp short")
    main = g.conv(x, channels, mid, 1, what="csp main")
    for _ in range(blocks):
        # CSPNeXtBlock(expansion=1.0): 3x3 conv, then depthwise-separable 5x5 (dw + pw).
        y = g.conv(main, mid, mid, 3, what="block")
        y = g.conv(y, mid, mid, BLOCK_KERNEL, groups=mid, what="block dw")
        y = g.conv(y, mid, mid, 1, what="block pw")
        main = g.op("Add", [y, main]) if identity else y
    cat = g.op("Concat", [main, short], axis=1)
    # ChannelAttention: global average -> 1x1 conv with bias -> HardSigmoid (torch's: relu6(x+3)/6).
    w = g.rng.standard_normal((2 * mid, 2 * mid, 1, 1), dtype=np.float32) * np.float32(1 / math.sqrt(2 * mid))
    before = g.params
    att = g.op("Conv", [g.op("GlobalAveragePool", [cat]), g.tensor("w", w),
                        g.tensor("b", np.zeros(2 * mid, np.float32))], "attention", kernel_shape=[1, 1])
    g.table.append((att, f"channel attention {2 * mid}", g.params - before))
    cat = g.op("Mul", [cat, g.op("HardSigmoid", [att], alpha=1 / 6, beta=0.5)])
    return g.conv(cat, 2 * mid, channels, 1, what="csp final")


def _spp(g: _Graph, x: str, channels: int) -> str:
    mid = channels // 2
    y = g.conv(x, channels, mid, 1, what="spp")
    pools = [g.op("MaxPool", [y], kernel_shape=[k, k], strides=[1, 1], pads=[k // 2] * 4) for k in SPP_KERNELS]
    return g.conv(g.op("Concat", [y] + pools, axis=1), mid * (len(SPP_KERNELS) + 1), channels, 1, what="spp")


def _gau(g: _Graph, x: str, dim: int = GAU_HIDDEN, pos: Optional[str] = None) -> str:
    """RTMCCBlock, self-attention, SiLU, no relative bias, no rope (the rtmpose configs), on
    (B, tokens, dim). `pos`: a (tokens, s) encoding added to q and k (GAUEncoder's
    pos_enc='add', as RTMO's DCC uses it)."""
    e = dim * GAU_EXPANSION
    h = g.scale_norm(x, dim)
    uv = g.silu(g.linear(h, dim, 2 * e + GAU_S, "gau uv"))
    u, v, base = g.op("Split", [uv, g.const([e, e, GAU_S], np.int64)], "split", outputs=3, axis=2)
    # q, k = base * gamma[i] + beta[i]: gamma and beta are (2, s) in mmpose, stored row by row here.
    qk_params = g.params
    gamma = g.rng.uniform(0.5, 1.5, (2, GAU_S)).astype(np.float32)
    beta = g.rng.uniform(-0.1, 0.1, (2, GAU_S)).astype(np.float32)
    q = g.op("Add", [g.op("Mul", [base, g.tensor("gamma", gamma[0])]), g.tensor("beta", beta[0])], "q")
    k = g.op("Add", [g.op("Mul", [base, g.tensor("gamma", gamma[1])]), g.tensor("beta", beta[1])], "k")
    g.table.append((q, f"gau gamma/beta 2x2x{GAU_S}", g.params - qk_params))
    if pos is not None:
        q, k = g.op("Add", [q, pos], "q"), g.op("Add", [k, pos], "k")
    qk = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 2, 1])])
    kernel = g.op("Relu", [g.op("Mul", [qk, g.const([1 / math.sqrt(GAU_S)])])])
    kernel = g.op("Mul", [kernel, kernel], "kernel")
    y = g.op("Mul", [u, g.op("MatMul", [kernel, v])])
    y = g.linear(y, e, dim, "gau o")
    before = g.params
    scale = g.tensor("res_scale", g.rng.uniform(0.5, 1.0, dim).astype(np.float32))
    g.table.append((scale, f"gau residual scale {dim}", g.params - before))
    return g.op("Add", [g.op("Mul", [x, scale]), y], "gau")


def build_model(name: str, seed: int = 0, n_keypoints: Optional[int] = None):
    """The onnx.ModelProto of `name` (a key of facts.POSE_MODELS, or t/s/m/l/x for 256x192
    COCO) with seeded random weights. Returns (model, parameter count, layer table)."""
    from onnx import TensorProto, helper

    spec = resolve(name)
    k_out = n_keypoints or spec.n_keypoints
    w_in, h_in = spec.input_size
    g = _Graph(np.random.default_rng(seed))
    stem, stages = _stage_plan(spec.size)

    x = g.conv(INPUT_NAME, 3, stem[0], 3, stride=2, what="stem")
    x = g.conv(x, stem[0], stem[1], 3, what="stem")
    x = g.conv(x, stem[1], stem[2], 3, what="stem")
    for cin, cout, blocks, identity, spp in stages:
        x = g.conv(x, cin, cout, 3, stride=2, what="down")
        if spp:
            x = _spp(g, x, cout)
        x = _csp_layer(g, x, cout, blocks, identity)

    # RTMCCHead
    cin = stages[-1][1]
    tokens = (w_in // 32) * (h_in // 32)
    w = g.rng.standard_normal((k_out, cin, HEAD_KERNEL, HEAD_KERNEL), dtype=np.float32)
    w *= np.float32(1 / math.sqrt(cin * HEAD_KERNEL ** 2))
    before = g.params
    x = g.op("Conv", [x, g.tensor("w", w), g.tensor("b", np.zeros(k_out, np.float32))], "final_layer",
             kernel_shape=[HEAD_KERNEL] * 2, pads=[HEAD_KERNEL // 2] * 4)
    g.table.append((x, f"head final_layer {cin}->{k_out} {HEAD_KERNEL}x{HEAD_KERNEL}", g.params - before))
    x = g.op("Reshape", [x, g.const([-1, k_out, tokens], np.int64)], "flatten")
    x = g.linear(g.scale_norm(x, tokens), tokens, GAU_HIDDEN, "head mlp")
    x = _gau(g, x)
    wx, wy = int(w_in * SIMCC_SPLIT_RATIO), int(h_in * SIMCC_SPLIT_RATIO)
    # The classifiers' last MatMul writes straight into the named outputs.
    sx, sy = g.linear(x, GAU_HIDDEN, wx, "cls_x"), g.linear(x, GAU_HIDDEN, wy, "cls_y")
    g.nodes.append(helper.make_node("Identity", [sx], [POSE_OUTPUTS[0]], name=POSE_OUTPUTS[0]))
    g.nodes.append(helper.make_node("Identity", [sy], [POSE_OUTPUTS[1]], name=POSE_OUTPUTS[1]))

    graph = helper.make_graph(
        g.nodes, f"{spec.name}-random",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, h_in, w_in])],
        [helper.make_tensor_value_info(POSE_OUTPUTS[0], TensorProto.FLOAT, ["batch", k_out, wx]),
         helper.make_tensor_value_info(POSE_OUTPUTS[1], TensorProto.FLOAT, ["batch", k_out, wy])],
        g.inits)
    model = helper.make_model(graph, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.model_version = BUILDER_VERSION
    return model, g.params, g.table


def resolve(name: str) -> PoseModel:
    """A POSE_MODELS entry from its name, or from a bare size letter (256x192, COCO-17)."""
    if name in SIZES:
        name = f"rtmpose-{name}"
    try:
        return POSE_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown RTMPose model {name!r}; known: {', '.join(POSE_MODELS)} or {'/'.join(SIZES)}") from None


def parameter_count(name: str) -> int:
    """Learned parameters of the BN-folded graph (what an exported ONNX holds)."""
    return build_model(name)[1]


def bn_parameters(table: List[Tuple[str, str, int]]) -> int:
    """What folding removed, from build_model's layer table: one per output channel of each
    ConvModule (BN's learned gamma and beta are 2 a channel, the folded bias 1)."""
    return sum(int(what.split("->")[1].split()[0]) for _, what, _ in table
               if what.split()[0] in ("stem", "down", "csp", "block", "spp"))


def write_model(name: str, path: Union[str, Path], seed: int = 0) -> Path:
    """Build `name` and write it atomically to `path`."""
    from pose.core.files import write_atomic
    model = build_model(name, seed)[0]
    return write_atomic(path, model.SerializeToString())


def cached_model(name: str, folder: Union[str, Path], seed: int = 0) -> Path:
    """`folder`/<name>-random-s<seed>-v<version>.onnx, built once."""
    spec = resolve(name)
    path = Path(folder) / f"{spec.name}-random-s{seed}-v{BUILDER_VERSION}.onnx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_model(spec.name, path, seed)
    return path


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", dest="show", metavar="MODEL", help="layer table and parameter count")
    parser.add_argument("--write", nargs=2, metavar=("MODEL", "FILE"), help="write a random-weight ONNX")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.show:
        spec = resolve(args.show)
        _, params, table = build_model(spec.name, args.seed)
        for _, what, n in table:
            print(f"{n:>10,d}  {what}")
        folded = f"{spec.params_folded_m} M" if spec.params_folded_m else "not published"
        published = f"{spec.params_m} M" if spec.params_m else "not published"
        print(f"{spec.name}: {params:,d} parameters with BN folded (published: {folded}); "
              f"{params + bn_parameters(table):,d} with BN's gamma/beta kept (published: {published})")
    if args.write:
        print(write_model(args.write[0], args.write[1], args.seed))
    if not (args.show or args.write):
        parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
