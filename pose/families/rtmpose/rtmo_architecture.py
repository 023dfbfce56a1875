"""RTMO (MMPose's one-stage pose model) as an ONNX graph of the exact architecture with
random (seeded) weights: CSPDarknet + HybridEncoder (RT-DETR's neck: one transformer
encoder layer on the stride-32 level, CSPRep FPN/PAN, a ChannelMapper projector) +
RTMOHead (YOLOX-style classification and pose branches per level, then the DCC: dynamic
coordinate classifier with a GAU and sinusoidal bin encodings), for engines, the estimator
and the speed benchmark; the real weights cannot be downloaded where the project is tested.

The graph is the deploy form mmdeploy exports (the model after `switch_to_deploy`): batch
norm folded into every convolution, each RepVGG block one 3x3 convolution with bias, DCC's
Linear+BatchNorm1d one Linear, the HybridEncoder's position encoding and the anchor grid
constants. Input "input" (1, 3, S, S), raw BGR letterboxed on 114 (S = 640; 416 for
RTMO-t). Outputs, one row per anchor (N = (S/16)^2 + (S/32)^2, stride 16 first):
"dets" (1, N, 5: x1, y1, x2, y2, sigmoid class score; no objectness at test time) and
"keypoints" (1, N, 17, 3: x, y in input pixels from the DCC's softmax-integral decode,
sigmoid visibility), i.e. mmdeploy's RTMOHead rewrite up to, not including, its
multiclass NMS (TopK inside). It stops there because the NMS is data-dependent (TopK is
what cv2.dnn refuses in the real files) and `rtmo.rtmo_people` does the same score
threshold + NMS in numpy. One difference in cost follows: mmdeploy runs the DCC only on
the boxes its NMS keeps (at most keep_top_k = 50), this graph on every anchor, and the
DCC costs about 11 M multiply-adds an anchor (mostly the x/y bin encodings): RTMO-s's
2,000 anchors make the graph several times slower than the real file (measured on 2
cores with onnxruntime: 1.1 s against 0.15 s). `build_rtmo(..., dcc_top_k=50)` keeps the
50 best-scoring anchors (a static TopK, which cv2.dnn 4.14 and 5.1 run) before the DCC,
so its cost is the real file's; its rows are the full graph's best 50, by score.

Followed (mmpose, github.com/open-mmlab/mmpose): configs/body_2d_keypoint/rtmo/body7/
rtmo-{t,s,m,l}_*.py, mmpose/models/necks/hybrid_encoder.py, necks/channel_mapper.py,
utils/reparam_layers.py (RepVGGBlock.switch_to_deploy), utils/transformer.py
(DetrTransformerEncoderLayer, SinePositionalEncoding, GAUEncoder, ScaleNorm),
heads/hybrid_heads/rtmo_head.py (RTMOHeadModule, DCC and its _convert_* deploy forms,
RTMOHead.switch_to_deploy), heads/hybrid_heads/yoloxpose_head.py (decode_bbox),
task_modules/prior_generators/mlvl_point_generator.py (centralize_points); the backbone is
mmdet's CSPDarknet, shared with yolox_architecture.

    python -m pose.families.rtmpose.rtmo_architecture rtmo-s out.onnx [--top-k 50]   # counts; writes
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from pose.core.arguments import OneLineParser
from pose.families.rtmpose.architecture import GAU_S, IR_VERSION, OPSET, PRODUCER, _gau, _Graph
from pose.families.rtmpose.facts import INPUT_NAME, RTMO_MODELS, RTMO_OUTPUTS
from pose.families.rtmpose.yolox_architecture import _Counted, darknet

# Bump when the graph written here changes, so cached files are rebuilt.
RTMO_VERSION = 1
# name: (deepen, widen, projector = pose vector channels), from the body7 configs.
RTMO_SIZES: Dict[str, Tuple[float, float, int]] = {
    "rtmo-t": (0.33, 0.375, 192),
    "rtmo-s": (0.33, 0.5, 256),
    "rtmo-m": (0.67, 0.75, 384),
    "rtmo-l": (1.0, 1.0, 512),
}
HIDDEN, HEADS, FFN, PE_TEMPERATURE, LN_EPS = 256, 8, 1024, 10000.0, 1e-5   # HybridEncoder
STRIDES = (16, 32)
N_KEYPOINTS = 17
CLS_FEAT, HEAD_IN, GROUPS, CHANNELS_PER_GROUP = 256, 256, 8, 36        # head_module_cfg (x widen)
DCC_FEAT, BINS, SPE_CHANNELS, SPE_TEMPERATURE = 128, (192, 256), 128, 300.0
BBOX_PADDING = 1.25
SOFTMAX_EPS, HM_CLAMP = 1e-8, 5e4   # DCC._apply_softmax


class _Rtmo(_Counted):
    """`_Counted` plus `extra`: the training-time parameters the deploy graph has no trace
    of (RepVGG's 1x1 branch and its BN, BatchNorm1d, out_kpt_reg, sigma_fc)."""

    def __init__(self, g: _Graph):
        super().__init__(g, depthwise=False)
        self.extra = 0

    def linear(self, x: str, cin: int, cout: int, what: str) -> str:
        """nn.Linear with bias."""
        y = self.g.linear(x, cin, cout, what)
        before = self.g.params
        y = self.g.op("Add", [y, self.g.tensor("bias", self.g.rng.uniform(-0.1, 0.1, cout).astype(np.float32))])
        self.g.table.append((y, f"{what} bias {cout}", self.g.params - before))
        return y

    def repvgg(self, x: str, channels: int) -> str:
        """RepVGGBlock after switch_to_deploy: the 3x3 and 1x1 branches (each conv + BN) as
        one 3x3 conv with bias, then SiLU."""
        self.extra += channels * channels + 3 * channels
        return self.g.conv(x, channels, channels, 3, what="repvgg")

    def csp_rep(self, x: str, cin: int, cout: int, blocks: int, widen: float) -> str:
        hidden = int(cout * widen)
        main = self.plain(x, cin, hidden, 1, what="csprep conv1")
        for _ in range(blocks):
            main = self.repvgg(main, hidden)
        y = self.g.op("Add", [main, self.plain(x, cin, hidden, 1, what="csprep conv2")])
        return self.plain(y, hidden, cout, 1, what="csprep conv3") if hidden != cout else y

    def layer_norm(self, x: str, dim: int) -> str:
        g = self.g
        mean = g.op("ReduceMean", [x], axes=[-1], keepdims=1)
        centred = g.op("Sub", [x, mean])
        var = g.op("ReduceMean", [g.op("Mul", [centred, centred])], axes=[-1], keepdims=1)
        y = g.op("Div", [centred, g.op("Sqrt", [g.op("Add", [var, g.const([LN_EPS])])])])
        before = g.params
        y = g.op("Add", [g.op("Mul", [y, g.tensor("ln_w", g.rng.uniform(0.8, 1.2, dim).astype(np.float32))]),
                         g.tensor("ln_b", g.rng.uniform(-0.1, 0.1, dim).astype(np.float32))], "layernorm")
        g.table.append((y, f"LayerNorm({dim})", g.params - before))
        return y

    def pred(self, x: str, cin: int, cout: int, what: str, gain: float = 1.0, bias: float = 0.0) -> str:
        """A head's 1x1 nn.Conv2d with bias. `gain` < 1 keeps the random outputs as small as
        trained heads' (finite box exp(), heatmaps not all one-hot); `bias`: an initial bias."""
        w = self.g.rng.standard_normal((cout, cin, 1, 1), dtype=np.float32) * np.float32(gain / math.sqrt(cin))
        before = self.g.params
        y = self.g.op("Conv", [x, self.g.tensor("w", w), self.g.tensor("b", np.full(cout, bias, np.float32))], "pred",
                      kernel_shape=[1, 1])
        self.g.table.append((y, f"{what} {cin}->{cout} 1x1", self.g.params - before))
        return y


def _sine(positions: np.ndarray, channels: int, temperature: float) -> np.ndarray:
    """SinePositionalEncoding (1-D): cos then sin of position / temperature^(i / (channels/2))."""
    half = channels // 2
    freq = positions[..., None] / temperature ** (np.arange(half, dtype=np.float32) / half)
    return np.concatenate([np.cos(freq), np.sin(freq)], -1).astype(np.float32)


def _encoder(c: _Rtmo, x: str, h: int, w: int) -> str:
    """DetrTransformerEncoderLayer (post-norm, 8-head attention with the 2-D sine encoding
    added to queries and keys, GELU FFN) on the (1, 256, h, w) map."""
    g = c.g
    tokens = h * w
    src = g.op("Transpose", [g.op("Reshape", [x, g.const([1, HIDDEN, tokens], np.int64)])], perm=[0, 2, 1])
    gy, gx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    pos = np.concatenate([_sine(gy.ravel(), HIDDEN // 2, PE_TEMPERATURE),
                          _sine(gx.ravel(), HIDDEN // 2, PE_TEMPERATURE)], -1)[None]
    qk_in = g.op("Add", [src, g.const(pos)])
    head_dim = HIDDEN // HEADS

    def heads(t: str) -> str:
        return g.op("Transpose", [g.op("Reshape", [t, g.const([1, tokens, HEADS, head_dim], np.int64)])],
                    perm=[0, 2, 1, 3])

    q = heads(c.linear(qk_in, HIDDEN, HIDDEN, "attn q"))
    k = heads(c.linear(qk_in, HIDDEN, HIDDEN, "attn k"))
    v = heads(c.linear(src, HIDDEN, HIDDEN, "attn v"))
    att = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])
    att = g.op("Softmax", [g.op("Mul", [att, g.const([1 / math.sqrt(head_dim)])])], axis=-1)
    y = g.op("Transpose", [g.op("MatMul", [att, v])], perm=[0, 2, 1, 3])
    y = c.linear(g.op("Reshape", [y, g.const([1, tokens, HIDDEN], np.int64)]), HIDDEN, HIDDEN, "attn out")
    y = c.layer_norm(g.op("Add", [src, y]), HIDDEN)
    f = c.linear(y, HIDDEN, FFN, "ffn")
    # GELU as torch exports it below opset 20: x * (1 + erf(x / sqrt 2)) / 2
    f = g.op("Mul", [g.op("Mul", [f, g.op("Add", [g.op("Erf", [g.op("Div", [f, g.const([math.sqrt(2)])])]),
                                                 g.const([1.0])])]), g.const([0.5])])
    y = c.layer_norm(g.op("Add", [y, c.linear(f, FFN, HIDDEN, "ffn")]), HIDDEN)
    return g.op("Reshape", [g.op("Transpose", [y], perm=[0, 2, 1]), g.const([1, HIDDEN, h, w], np.int64)])


def _hybrid_encoder(c: _Rtmo, feats: List[Tuple[str, int]], side: int, deepen: float, widen: float,
                    out_channels: int) -> List[str]:
    g = c.g
    proj = [c.plain(x, ch, HIDDEN, 1, act=False, what="input_proj") for x, ch in feats]
    proj[-1] = _encoder(c, proj[-1], side // 32, side // 32)
    blocks = round(3 * deepen)
    inner = [proj[-1]]
    for idx in range(len(proj) - 1, 0, -1):
        inner[0] = c.plain(inner[0], HIDDEN, HIDDEN, 1, what="lateral")
        up = g.op("Resize", [inner[0], "", g.const([1, 1, 2, 2])], mode="nearest")
        inner.insert(0, c.csp_rep(g.op("Concat", [up, proj[idx - 1]], axis=1), 2 * HIDDEN, HIDDEN, blocks, widen))
    outs = [inner[0]]
    for idx in range(len(proj) - 1):
        down = c.plain(outs[-1], HIDDEN, HIDDEN, 3, stride=2, what="downsample")
        outs.append(c.csp_rep(g.op("Concat", [down, inner[idx + 1]], axis=1), 2 * HIDDEN, HIDDEN, blocks, widen))
    # output_indices [1, 2] (strides 16, 32), then ChannelMapper: 1x1 conv + BN, no activation.
    return [c.plain(o, HIDDEN, out_channels, 1, act=False, what="projector") for o in outs[1:]]


def _flatten(g: _Graph, maps: List[str], channels: int) -> str:
    """Per-level (1, C, h, w) maps -> (1, N, C), levels in order (_flatten_predictions)."""
    flat = [g.op("Reshape", [m, g.const([1, channels, -1], np.int64)]) for m in maps]
    return g.op("Transpose", [g.op("Concat", flat, axis=2)], perm=[0, 2, 1])


def _dcc(c: _Rtmo, pose_vecs: str, boxes: str, grids: str, n: int, pose_channels: int) -> str:
    """DCC after _convert_forward_test on n anchors (grids: their (n, 2) points): keypoint
    features through the GAU, bins spread over the 1.25-padded box, sine-encoded and
    projected, 1-D heatmaps, softmax, integral. Returns (n, 17, 2) in input pixels."""
    g = c.g
    feats = c.linear(g.op("Reshape", [pose_vecs, g.const([n, pose_channels], np.int64)]), pose_channels,
                     N_KEYPOINTS * DCC_FEAT, "dcc pose_to_kpts")
    c.extra += 2 * N_KEYPOINTS * DCC_FEAT  # BatchNorm1d's gamma and beta, folded into the Linear
    feats = g.op("Reshape", [feats, g.const([n, N_KEYPOINTS, DCC_FEAT], np.int64)])
    before = g.params
    pos = g.tensor("dcc_pos_enc", g.rng.standard_normal((N_KEYPOINTS, GAU_S)).astype(np.float32))
    g.table.append((pos, f"dcc pos_enc {N_KEYPOINTS}x{GAU_S}", g.params - before))
    feats = _gau(g, feats, DCC_FEAT, pos)
    boxes = g.op("Reshape", [boxes, g.const([n, 4], np.int64)])
    lo, hi = g.op("Split", [boxes, g.const([2, 2], np.int64)], outputs=2, axis=1)
    centre = g.op("Sub", [g.op("Mul", [g.op("Add", [lo, hi]), g.const([0.5])]), grids])
    scale = g.op("Mul", [g.op("Sub", [hi, lo]), g.const([BBOX_PADDING])])
    half = SPE_CHANNELS // 2
    dim_t = (SPE_TEMPERATURE ** (np.arange(half, dtype=np.float32) / half)).reshape(1, 1, half)
    coords = []
    for axis, n_bins in enumerate(BINS):
        pick = g.const([axis], np.int64)
        bins = g.op("Add", [g.op("Mul", [g.const(np.linspace(-0.5, 0.5, n_bins, dtype=np.float32)[None]),
                                         g.op("Gather", [scale, pick], axis=1)]),
                            g.op("Gather", [centre, pick], axis=1)])                       # (N, bins)
        freq = g.op("Div", [g.op("Unsqueeze", [bins, g.const([2], np.int64)]), g.const(dim_t)])
        enc = g.op("Concat", [g.op("Cos", [freq]), g.op("Sin", [freq])], axis=2)
        enc = c.linear(enc, SPE_CHANNELS, DCC_FEAT, f"dcc {'xy'[axis]}_fc")
        hms = g.op("MatMul", [feats, g.op("Transpose", [enc], perm=[0, 2, 1])])           # (N, 17, bins)
        hms = g.op("Clip", [hms, g.const(-HM_CLAMP), g.const(HM_CLAMP)])
        hms = g.op("Exp", [g.op("Sub", [hms, g.op("ReduceMax", [hms], axes=[-1], keepdims=1)])])
        hms = g.op("Div", [hms, g.op("Add", [g.op("ReduceSum", [hms, g.const([-1], np.int64)], keepdims=1),
                                             g.const([SOFTMAX_EPS])])])
        coord = g.op("ReduceSum", [g.op("Mul", [hms, g.op("Unsqueeze", [bins, g.const([1], np.int64)])]),
                                   g.const([-1], np.int64)], keepdims=0)
        coord = g.op("Add", [coord, g.op("Gather", [grids, pick], axis=1)])                 # (N, 17)
        coords.append(g.op("Unsqueeze", [coord, g.const([2], np.int64)]))
    return g.op("Concat", coords, axis=2)


def _priors(side: int) -> Tuple[np.ndarray, np.ndarray]:
    """Anchor points (N, 2) and strides (N,): MlvlPointGenerator with centralize_points,
    offset 0, x fastest, stride 16 first."""
    points, strides = [], []
    for s in STRIDES:
        n = side // s
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        points.append(np.stack([xs.ravel(), ys.ravel()], 1) * s + (s - 1) / 2)
        strides.append(np.full(n * n, s))
    return np.concatenate(points).astype(np.float32), np.concatenate(strides).astype(np.float32)


def build_rtmo(name: str = "rtmo-s", seed: int = 0, dcc_top_k: Optional[int] = None):
    """(onnx.ModelProto, parameter count as the deploy ONNX holds it, count of the training
    model: BN gamma/beta kept, RepVGG's two branches, BatchNorm1d, the training-only
    out_kpt_reg and sigma_fc). `dcc_top_k`: keep only the k best-scoring anchors (a TopK)
    before the DCC, so its cost is the real file's (mmdeploy's keep_top_k is 50); None:
    every anchor."""
    from onnx import TensorProto, helper
    deepen, widen, pose_channels = RTMO_SIZES[name]
    side = RTMO_MODELS[name].input_size[0]
    g = _Graph(np.random.default_rng(seed))
    c = _Rtmo(g)
    feats = darknet(c, side, deepen, widen)[1:]  # out_indices (2, 3, 4)
    levels = _hybrid_encoder(c, feats, side, deepen, widen, pose_channels)

    # RTMOHeadModule: each level split in halves, classes and pose.
    head_in, cls_ch = int(HEAD_IN * widen), int(CLS_FEAT * widen)
    pose_ch = GROUPS * int(CHANNELS_PER_GROUP * widen)
    cls_maps, box_maps, vis_maps, vec_maps = [], [], [], []
    for x in levels:
        cls, reg = g.op("Split", [x, g.const([head_in, head_in], np.int64)], outputs=2, axis=1)
        cls = c.plain(c.plain(cls, head_in, cls_ch, 3, what="cls"), cls_ch, cls_ch, 3, what="cls")
        reg = c.plain(reg, head_in, pose_ch, 3, what="pose")
        for _ in range(3):
            reg = c.plain(reg, pose_ch, pose_ch, 3, groups=GROUPS, what="pose")
        # mmpose's init: bias_init_with_prob(0.01), so most random scores sit well below 1.
        cls_maps.append(c.pred(cls, cls_ch, 1, "out_cls", gain=0.1, bias=-math.log(99)))
        box_maps.append(c.pred(reg, pose_ch, 4, "out_bbox", gain=0.1))
        vis_maps.append(c.pred(reg, pose_ch, N_KEYPOINTS, "out_kpt_vis"))
        vec_maps.append(c.pred(reg, pose_ch, pose_channels, "out_pose", gain=0.1))
        c.extra += pose_ch * 2 * N_KEYPOINTS + 2 * N_KEYPOINTS  # out_kpt_reg: training only
    c.extra += pose_channels * N_KEYPOINTS + N_KEYPOINTS + 1     # DCC sigma_fc + Scale: training only

    # Test-time decode (mmdeploy's RTMOHead rewrite, before its NMS).
    grids, strides = _priors(side)
    n = len(grids)
    scores = g.op("Sigmoid", [_flatten(g, cls_maps, 1)])
    deltas = _flatten(g, box_maps, 4)
    xy, log_wh = g.op("Split", [deltas, g.const([2, 2], np.int64)], outputs=2, axis=2)
    stride = g.const(strides.reshape(1, n, 1))
    xy = g.op("Add", [g.op("Mul", [xy, stride]), g.const(grids[None])])
    half_wh = g.op("Mul", [g.op("Mul", [g.op("Exp", [log_wh]), stride]), g.const([0.5])])
    boxes = g.op("Concat", [g.op("Sub", [xy, half_wh]), g.op("Add", [xy, half_wh])], axis=2)
    dets = g.op("Concat", [boxes, scores], axis=2)
    vis = g.op("Sigmoid", [_flatten(g, vis_maps, N_KEYPOINTS)])
    vecs, anchors = _flatten(g, vec_maps, pose_channels), g.const(grids)
    if dcc_top_k is not None:
        if not 1 <= dcc_top_k <= n:
            raise ValueError(f"--top-k must be between 1 and {n} (the anchors of {name}), got {dcc_top_k}")
        n = dcc_top_k
        best = g.op("TopK", [g.op("Reshape", [scores, g.const([1, -1], np.int64)]), g.const([n], np.int64)],
                    outputs=2, axis=1)[1]
        best = g.op("Reshape", [best, g.const([n], np.int64)])
        dets, vis, vecs = (g.op("Gather", [t, best], axis=1) for t in (dets, vis, vecs))
        boxes, anchors = g.op("Gather", [boxes, best], axis=1), g.op("Gather", [anchors, best], axis=0)
    xy_kpts = _dcc(c, vecs, boxes, anchors, n, pose_channels)
    kpts = g.op("Concat", [xy_kpts, g.op("Reshape", [vis, g.const([n, N_KEYPOINTS, 1], np.int64)])], axis=2)
    kpts = g.op("Reshape", [kpts, g.const([1, n, N_KEYPOINTS, 3], np.int64)])

    graph = helper.make_graph(
        g.nodes + [helper.make_node("Identity", [dets], [RTMO_OUTPUTS[0]], name=RTMO_OUTPUTS[0]),
                   helper.make_node("Identity", [kpts], [RTMO_OUTPUTS[1]], name=RTMO_OUTPUTS[1])],
        f"{name}-random",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info(RTMO_OUTPUTS[0], TensorProto.FLOAT, [1, n, 5]),
         helper.make_tensor_value_info(RTMO_OUTPUTS[1], TensorProto.FLOAT, [1, n, N_KEYPOINTS, 3])], g.inits)
    model = helper.make_model(graph, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version, model.model_version = IR_VERSION, RTMO_VERSION
    return model, g.params, g.params + c.bn + c.extra


def cached_rtmo(name: str, folder: Union[str, Path], seed: int = 0, dcc_top_k: Optional[int] = None) -> Path:
    """`folder`/<name>[-top<k>]-random-s<seed>-v<version>.onnx, built once."""
    from pose.core.files import write_atomic
    top = f"-top{dcc_top_k}" if dcc_top_k else ""
    path = Path(folder) / f"{name}{top}-random-s{seed}-v{RTMO_VERSION}.onnx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, build_rtmo(name, seed, dcc_top_k)[0].SerializeToString())
    return path


def main(argv: Optional[List[str]] = None) -> int:
    parser = OneLineParser(prog="python -m pose.families.rtmpose.rtmo_architecture",
                           description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(RTMO_SIZES))
    parser.add_argument("file", nargs="?", help="write the random-weight ONNX here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top-k", type=int, default=None,
                        help="run the DCC on the k best-scoring anchors only, as mmdeploy's file does (it keeps 50)")
    args = parser.parse_args(argv)
    try:
        model, deploy, training = build_rtmo(args.model, args.seed, args.top_k)
        print(f"{args.model}: {deploy:,d} parameters in the deploy graph; {training:,d} in the training model")
        if args.file:
            from pose.core.files import write_atomic
            print(write_atomic(args.file, model.SerializeToString()))
    except (ValueError, OSError) as exc:
        parser.error(str(exc) if isinstance(exc, ValueError) else f"cannot write {args.file}: {exc.strerror or exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
