"""YOLOX (mmdet's CSPDarknet + YOLOXPAFPN + YOLOXHead) as an ONNX graph of the exact
architecture with random weights, for the speed benchmark: the person detector's cost in
the top-down pipeline. The graph ends at the raw head outputs (B, A, 4 + 1 + classes); the
decode and NMS that mmdeploy appends cost little next to the convolutions and are left out,
so this file is timed, not run through `Detector` (which needs the NMS inside).

Followed: mmdet/models/backbones/csp_darknet.py (Focus stem, P5 stages, SPP),
mmdet/models/layers/csp_layer.py (DarknetBottleneck), mmdet/models/necks/yolox_pafpn.py
(reduce, top-down and bottom-up CSP blocks, out_convs to the neck width),
mmdet/models/dense_heads/yolox_head.py (two stacked 3x3 convs for classes and two for
boxes per level, then 1x1 predictions with bias; no stem: the neck's out_convs are
Megvii's head stems). configs/yolox: tiny = deepen 0.33, widen 0.375, neck 96, input 416;
nano = deepen 0.33, widen 0.25, neck 64, input 416, and every 3x3 conv depthwise-separable
(use_depthwise=True: a depthwise 3x3 ConvModule then a pointwise 1x1 ConvModule) except
the Focus stem's; m = deepen 0.67, widen 0.75, neck 192, input 640. The parameter counts
(BN kept, 80 classes) are checked against the published 0.91 M (nano) and 5.06 M (tiny)
in the tests.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple, Union

import numpy as np

from pose.families.rtmpose.architecture import IR_VERSION, OPSET, PRODUCER, _Graph
from pose.families.rtmpose.facts import INPUT_NAME

# Bump when the graph written here changes, so cached files are rebuilt (2: no head stem).
YOLOX_VERSION = 2
DARKNET_P5 = ((64, 128, 3, True, False), (128, 256, 9, True, False), (256, 512, 9, True, False),
              (512, 1024, 3, False, True))
# name: (deepen, widen, neck channels, input side, depthwise)
YOLOX_SIZES: Dict[str, Tuple[float, float, int, int, bool]] = {
    "yolox-nano": (0.33, 0.25, 64, 416, True),
    "yolox-tiny": (0.33, 0.375, 96, 416, False),
    "yolox-m": (0.67, 0.75, 192, 640, False),
}


class _Counted:
    """The graph and, beside its folded count, how many BN channels folding removed (BN
    keeps gamma and beta per channel where the folded graph has one bias)."""

    def __init__(self, g: _Graph, depthwise: bool):
        self.g, self.depthwise, self.bn = g, depthwise, 0

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, what: str = "conv") -> str:
        """A ConvModule; a 3x3 one depthwise-separable when the model says so."""
        if k == 3 and self.depthwise:
            x = self.g.conv(x, cin, cin, 3, stride=stride, groups=cin, what=f"{what} dw")
            self.bn += cin
            return self.conv(x, cin, cout, 1, what=f"{what} pw")
        self.bn += cout
        return self.g.conv(x, cin, cout, k, stride=stride, what=what)

    def plain(self, x: str, cin: int, cout: int, k: int, stride: int = 1, what: str = "conv", act: bool = True,
              groups: int = 1) -> str:
        self.bn += cout
        return self.g.conv(x, cin, cout, k, stride=stride, groups=groups, act=act, what=what)


def _csp(c: _Counted, x: str, cin: int, cout: int, blocks: int, identity: bool) -> str:
    mid = int(cout * 0.5)
    short = c.conv(x, cin, mid, 1, what="csp short")
    main = c.conv(x, cin, mid, 1, what="csp main")
    for _ in range(blocks):
        y = c.conv(c.conv(main, mid, mid, 1, what="bottleneck"), mid, mid, 3, what="bottleneck")
        main = c.g.op("Add", [y, main]) if identity else y
    return c.conv(c.g.op("Concat", [main, short], axis=1), 2 * mid, cout, 1, what="csp final")


def darknet(c: _Counted, side: int, deepen: float, widen: float) -> List[Tuple[str, int]]:
    """mmdet's CSPDarknet (P5): (output, channels) of each of its four stages, strides 4 to 32."""
    # Focus: the four pixel phases side by side in channels, then a 3x3 conv (never depthwise).
    phases = []
    for dy, dx in ((0, 0), (1, 0), (0, 1), (1, 1)):
        phases.append(c.g.op("Slice", [INPUT_NAME, c.g.const([dy, dx], np.int64), c.g.const([side, side], np.int64),
                                     c.g.const([2, 3], np.int64), c.g.const([2, 2], np.int64)]))
    x = c.plain(c.g.op("Concat", phases, axis=1), 12, int(64 * widen), 3, what="focus")
    feats = []
    for cin, cout, n, identity, spp in DARKNET_P5:
        cin, cout, n = int(cin * widen), int(cout * widen), max(round(n * deepen), 1)
        x = c.conv(x, cin, cout, 3, stride=2, what="down")
        if spp:
            mid = cout // 2
            y = c.conv(x, cout, mid, 1, what="spp")
            pools = [c.g.op("MaxPool", [y], kernel_shape=[k, k], strides=[1, 1], pads=[k // 2] * 4) for k in (5, 9, 13)]
            x = c.conv(c.g.op("Concat", [y] + pools, axis=1), mid * 4, cout, 1, what="spp")
        x = _csp(c, x, cout, cout, n, identity)
        feats.append((x, cout))
    return feats


def build_yolox(name: str = "yolox-tiny", n_classes: int = 1, seed: int = 0):
    """(onnx.ModelProto, parameter count with BN folded, with BN kept) of a YOLOX with
    `n_classes` (HumanArt: 1 person)."""
    from onnx import TensorProto, helper
    deepen, widen, neck, side, depthwise = YOLOX_SIZES[name]
    g = _Graph(np.random.default_rng(seed))
    c = _Counted(g, depthwise)
    feats = darknet(c, side, deepen, widen)[1:]  # out_indices (2, 3, 4): strides 8, 16, 32
    chans = [ch for _, ch in feats]
    n_blocks = max(round(3 * deepen), 1)
    # YOLOXPAFPN top-down
    inner = [feats[-1][0]]
    for idx in range(len(feats) - 1, 0, -1):
        high = c.conv(inner[0], chans[idx], chans[idx - 1], 1, what="reduce")
        inner[0] = high
        up = g.op("Resize", [high, "", g.const([1, 1, 2, 2])], mode="nearest")
        inner.insert(0, _csp(c, g.op("Concat", [up, feats[idx - 1][0]], axis=1), 2 * chans[idx - 1],
                             chans[idx - 1], n_blocks, False))
    outs = [inner[0]]
    for idx in range(len(feats) - 1):
        down = c.conv(outs[-1], chans[idx], chans[idx], 3, stride=2, what="downsample")
        outs.append(_csp(c, g.op("Concat", [down, inner[idx + 1]], axis=1), 2 * chans[idx], chans[idx + 1],
                         n_blocks, False))
    outs = [c.conv(o, ch, neck, 1, what="out") for o, ch in zip(outs, chans)]
    # YOLOXHead: per level two 3x3 convs for classes, two for boxes, then 1x1 predictions with bias.
    level_outputs = []
    for o in outs:
        cls = c.conv(c.conv(o, neck, neck, 3, what="cls"), neck, neck, 3, what="cls")
        reg = c.conv(c.conv(o, neck, neck, 3, what="reg"), neck, neck, 3, what="reg")
        preds = [g.conv(reg, neck, 4, 1, act=False, what="reg pred"), g.conv(reg, neck, 1, 1, act=False, what="obj"),
                 g.op("Sigmoid", [g.conv(cls, neck, n_classes, 1, act=False, what="cls pred")])]
        level = g.op("Concat", preds, axis=1)
        level_outputs.append(g.op("Reshape", [level, g.const([1, 5 + n_classes, -1], np.int64)]))
    raw = g.op("Transpose", [g.op("Concat", level_outputs, axis=2)], perm=[0, 2, 1])
    graph = helper.make_graph(
        g.nodes + [helper.make_node("Identity", [raw], ["raw"])], f"{name}-random",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("raw", TensorProto.FLOAT, [1, None, 5 + n_classes])], g.inits)
    model = helper.make_model(graph, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version, model.model_version = IR_VERSION, YOLOX_VERSION
    return model, g.params, g.params + c.bn


def cached_yolox(name: str, folder: Union[str, Path], seed: int = 0) -> Path:
    from pose.core.files import write_atomic
    path = Path(folder) / f"{name}-random-s{seed}-v{YOLOX_VERSION}.onnx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, build_yolox(name, seed=seed)[0].SerializeToString())
    return path
