"""The OpenPose body networks, described compactly and written as Caffe deploy files.

Two topologies share the VGG front: COCO/MPI's, where every stage has a PAF (L1) and a
heatmap (L2) branch, and BODY_25's, where four PAF stages (L2) come first, then two
heatmap stages (L1) that read the last PAFs, with PReLU and blocks of 3x3 convolutions.
The hand and face networks (topologies "hand" and "face") are single-branch
convolutional pose machines: heatmaps only, identical shapes, different layer names.
`build_layers` lists the layers of the network for any model spec, stage cut and
channel width; `to_prototxt` writes them in Caffe's text format. Layer names must match
OpenPose's deploy files exactly: Caffe (and cv2.dnn) binds weights by layer name.

Regenerate the committed deploy files with `python -m pose.families.openpose.net.architecture`.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from pose.core.arguments import OneLineParser, argument_type, parse_float, parse_int
from pose.families.openpose.spec import FULL_STAGES, MODELS, PARTS, ModelSpec

INPUT_NAME = "image"
FEATURES = "conv4_4_CPM"  # the 128-channel map every stage reads

# VGG-19 front up to conv4_2, then the two CPM layers: (name, channels) or a pool name.
_FRONT: Tuple[object, ...] = (
    ("conv1_1", 64), ("conv1_2", 64), "pool1_stage1",
    ("conv2_1", 128), ("conv2_2", 128), "pool2_stage1",
    ("conv3_1", 256), ("conv3_2", 256), ("conv3_3", 256), ("conv3_4", 256), "pool3_stage1",
    ("conv4_1", 512), ("conv4_2", 512), ("conv4_3_CPM", 256), (FEATURES, 128),
)
# Stage 1 branch: conv5_1..conv5_5 as (channels or None for the branch output, kernel).
_STAGE1 = ((128, 3), (128, 3), (128, 3), (512, 1), (None, 1))
# Refinement-stage branch: Mconv1..Mconv7.
_STAGE_T = ((128, 7), (128, 7), (128, 7), (128, 7), (128, 7), (128, 1), (None, 1))

# BODY_25: the same front, with PReLU instead of ReLU from this convolution on.
_B25_PRELU_FROM = "conv4_2"
# Its refinement steps: PAF stages first, then heatmap stages (6 = FULL_STAGES in all).
_B25_PAF_STAGES, _B25_HEATMAP_STAGES = 4, 2
# A stage: Mconv1..Mconv5, each a block of three chained 3x3 convolutions whose outputs
# are concatenated, then Mconv6 (1x1) and Mconv7 (1x1, the stage's output).
_B25_BLOCKS = 5
# (channels of each 3x3 convolution, of Mconv6): a branch's first stage is narrower.
_B25_FIRST_STAGE, _B25_LATER_STAGE = (96, 256), (128, 512)

# Hand and face: VGG-19 up to conv5_2 at full width ("pool" marks the 2x2/2 poolings),
# then conv5_3_CPM, the 128-channel map every stage reads. Stage 1 is conv6_1_CPM (1x1)
# and conv6_2_CPM (1x1, the heatmaps); stages 2..6 run _STAGE_T on [previous heatmaps,
# conv5_3_CPM].
_CPM_FEATURES = "conv5_3_CPM"
_CPM_FRONT: Tuple[object, ...] = (
    ("conv1_1", 64), ("conv1_2", 64), "pool",
    ("conv2_1", 128), ("conv2_2", 128), "pool",
    ("conv3_1", 256), ("conv3_2", 256), ("conv3_3", 256), ("conv3_4", 256), "pool",
    ("conv4_1", 512), ("conv4_2", 512), ("conv4_3", 512), ("conv4_4", 512),
    ("conv5_1", 512), ("conv5_2", 512), (_CPM_FEATURES, 128),
)
_CPM_STAGE1 = (("conv6_1_CPM", 512), ("conv6_2_CPM", None))


@dataclass(frozen=True)
class _CpmNames:
    """How one CPM deploy file names what carries no weights (ReLUs, pools, concats).
    Only weighted layers bind by name, but the tables and regenerated files must match."""

    pool: str  # the k-th pooling, k = 1..3
    relu: str  # after a front or stage-1 convolution {conv}; {num} is its name without "conv"
    stage_relu: str  # after Mconv{i} of stage {t}; {j} = i + 1
    concat: str  # stage t's input
    renamed: Tuple[Tuple[str, str], ...] = ()  # (convolution, its ReLU) off the pattern


_CPM_NAMES = {
    "hand": _CpmNames("pool{k}_stage1", "relu{num}", "Mrelu1_{j}_stage{t}_{i}", "concat_stage{t}",
                      renamed=((_CPM_FEATURES, "relu5_4_stage1_3"), ("conv6_1_CPM", "relu6_4_stage1_1"))),
    "face": _CpmNames("pool{k}", "{conv}_re", "Mconv{i}_stage{t}_re", "features_in_stage_{t}"),
}


@dataclass(frozen=True)
class Layer:
    name: str
    type: str  # Convolution | ReLU | PReLU | Pooling | Concat
    bottoms: Tuple[str, ...]
    top: str
    num_output: Optional[int] = None
    kernel: Optional[int] = None
    pad: Optional[int] = None
    stride: Optional[int] = None


def _scaled(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


def _conv(name: str, bottom: str, channels: int, kernel: int, relu: Optional[str],
          activation: str = "ReLU") -> List[Layer]:
    layers = [Layer(name, "Convolution", (bottom,), name, channels, kernel, kernel // 2)]
    if relu:
        layers.append(Layer(relu, activation, (name,), name))
    return layers


def _front(width: float, prelu_from: Optional[str] = None) -> List[Layer]:
    """The VGG front and the two CPM layers; PReLU instead of ReLU from `prelu_from` on."""
    layers: List[Layer] = []
    prev = INPUT_NAME
    activation = "ReLU"
    for item in _FRONT:
        if isinstance(item, str):
            layers.append(Layer(item, "Pooling", (prev,), item, kernel=2, stride=2))
            prev = item
        else:
            name, channels = item
            activation = "PReLU" if name == prelu_from else activation
            relu = activation.lower() + name[len("conv"):]  # relu4_1, prelu4_2
            layers += _conv(name, prev, _scaled(channels, width), 3, relu, activation)
            prev = name
    return layers


def _branches(names, relus, bottom: str, table, outputs: Tuple[int, int], width: float) -> List[Layer]:
    """Both branches (L1 = PAFs, L2 = heatmaps) of one stage, interleaved as OpenPose lists them."""
    layers: List[Layer] = []
    prev = {1: bottom, 2: bottom}
    for i, (channels, kernel) in enumerate(table, start=1):
        for branch in (1, 2):
            name = names(i, branch)
            last = channels is None
            out = outputs[branch - 1] if last else _scaled(channels, width)
            layers += _conv(name, prev[branch], out, kernel, None if last else relus(i, branch))
            prev[branch] = name
    return layers


def valid_stages(spec: ModelSpec) -> range:
    """The stage cuts `spec`'s network allows.

    COCO/MPI: any of 1..6, each stage was trained with its own loss. BODY_25 counts its
    6 refinement steps in OpenPose's order, 4 PAF stages then 2 heatmap stages: a cut
    after step 5 drops the second heatmap stage and feeds every remaining stage what it
    was trained on; cutting any PAF stage would leave no heatmaps, or feed the heatmap
    stages PAFs they never saw, so 1..4 are refused.
    """
    if spec.topology == "body_25":
        return range(_B25_PAF_STAGES + 1, _B25_PAF_STAGES + _B25_HEATMAP_STAGES + 1)
    if spec.topology in ("two_branch", *_CPM_NAMES):  # every CPM stage has its own loss too
        return range(1, FULL_STAGES + 1)
    raise ValueError(f"{spec.name}: unknown network topology {spec.topology!r}")


def check_stages(stages: Optional[int], proto: Optional[object] = None,
                 spec: Optional[ModelSpec] = None) -> Optional[int]:
    """A stage cut as users give it: None (the model's own) or one of `valid_stages`
    (1..FULL_STAGES when the model is not known yet), and only for the built-in
    definitions. ValueError otherwise."""
    if stages is None:
        return None
    allowed = valid_stages(spec) if spec is not None else range(1, FULL_STAGES + 1)
    if isinstance(stages, bool) or not isinstance(stages, int) or stages not in allowed:
        why = (f" ({spec.name}'s heatmap stages follow all {_B25_PAF_STAGES} of its PAF stages)"
               if spec is not None and spec.topology == "body_25" else "")
        raise ValueError(f"stages must be {allowed[0]}..{allowed[-1]}, got {stages!r}{why}")
    if proto is not None:
        raise ValueError("--stages cuts the built-in definitions; it cannot be combined with --proto")
    return stages


def build_layers(spec: ModelSpec, stages: Optional[int] = None, width: float = 1.0) -> List[Layer]:
    """Every layer of `spec`'s network cut after `stages` (`valid_stages`), channels
    scaled by `width`.

    The branch outputs (PAFs and heatmaps) keep their full channel counts so that any
    cut or width gives the same output layout.
    """
    stages = check_stages(spec.stages if stages is None else stages, spec=spec)
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    if spec.topology == "body_25":
        return _body25_layers(spec, stages, width)
    if spec.topology in _CPM_NAMES:
        return _cpm_layers(spec, stages, width)
    outputs = (spec.n_pafs, spec.n_heatmaps)
    layers = _front(width)
    layers += _branches(lambda i, b: f"conv5_{i}_CPM_L{b}", lambda i, b: f"relu5_{i}_CPM_L{b}",
                        FEATURES, _STAGE1, outputs, width)
    last = ("conv5_5_CPM_L1", "conv5_5_CPM_L2")
    for t in range(2, stages + 1):
        concat = f"concat_stage{t}"
        layers.append(Layer(concat, "Concat", (*last, FEATURES), concat))
        layers += _branches(lambda i, b, t=t: f"Mconv{i}_stage{t}_L{b}",
                            lambda i, b, t=t: f"Mrelu{i}_stage{t}_L{b}", concat, _STAGE_T, outputs, width)
        last = (f"Mconv7_stage{t}_L1", f"Mconv7_stage{t}_L2")
    # Heatmaps (L2) first, then PAFs (L1): the layout every consumer of the output expects.
    layers.append(Layer("concat_stage7", "Concat", (last[1], last[0]), spec.output_name))
    return layers


def _body25_stage(stage: int, branch: int, bottom: str, channels: Tuple[int, int], outputs: int,
                  width: float) -> List[Layer]:
    """One BODY_25 stage of branch L`branch`, named as OpenPose names it."""
    tag = f"stage{stage}_L{branch}"
    block, mconv6 = (_scaled(c, width) for c in channels)
    layers: List[Layer] = []
    prev = bottom
    for k in range(1, _B25_BLOCKS + 1):
        parts = []
        for j in range(3):
            name = f"Mconv{k}_{tag}_{j}"
            layers += _conv(name, prev, block, 3, f"Mprelu{k}_{tag}_{j}", "PReLU")
            parts.append(name)
            prev = name
        concat = f"Mconv{k}_{tag}_concat"
        layers.append(Layer(concat, "Concat", tuple(parts), concat))
        prev = concat
    six, seven = f"Mconv{_B25_BLOCKS + 1}_{tag}", f"Mconv{_B25_BLOCKS + 2}_{tag}"
    layers += _conv(six, prev, mconv6, 1, f"Mprelu{_B25_BLOCKS + 1}_{tag}", "PReLU")
    layers += _conv(seven, six, outputs, 1, None)
    return layers


def _body25_layers(spec: ModelSpec, stages: int, width: float) -> List[Layer]:
    """BODY_25 cut after refinement step `stages`: PAF stages 0-3, heatmap stages from 0."""
    layers = _front(width, _B25_PRELU_FROM)
    paf = None
    for t in range(_B25_PAF_STAGES):
        bottom = FEATURES
        if paf:  # later PAF stages read the features and the previous PAFs
            bottom = f"concat_stage{t}_L2"
            layers.append(Layer(bottom, "Concat", (FEATURES, paf), bottom))
        widths = _B25_LATER_STAGE if paf else _B25_FIRST_STAGE
        layers += _body25_stage(t, 2, bottom, widths, spec.n_pafs, width)
        paf = layers[-1].top
    heat = None
    for t in range(stages - _B25_PAF_STAGES):
        # Heatmap stages read the features, the previous heatmaps (if any) and the last PAFs.
        bottom = f"concat_stage{t}_L1"
        layers.append(Layer(bottom, "Concat", (FEATURES, *((heat,) if heat else ()), paf), bottom))
        widths = _B25_LATER_STAGE if heat else _B25_FIRST_STAGE
        layers += _body25_stage(t, 1, bottom, widths, spec.n_heatmaps, width)
        heat = layers[-1].top
    # OpenPose's output: heatmaps, then PAFs, as for COCO/MPI.
    layers.append(Layer(spec.output_name, "Concat", (heat, paf), spec.output_name))
    return layers


def _cpm_layers(spec: ModelSpec, stages: int, width: float) -> List[Layer]:
    """The hand or face network cut after `stages`; the last convolution writes spec.output_name."""
    names = _CPM_NAMES[spec.topology]
    renamed = dict(names.renamed)

    def relu(conv: str) -> str:
        return renamed.get(conv) or names.relu.format(conv=conv, num=conv[len("conv"):])

    layers: List[Layer] = []
    prev, pools = INPUT_NAME, 0
    for item in _CPM_FRONT:
        if item == "pool":
            pools += 1
            name = names.pool.format(k=pools)
            layers.append(Layer(name, "Pooling", (prev,), name, kernel=2, stride=2))
            prev = name
        else:
            conv, channels = item
            layers += _conv(conv, prev, _scaled(channels, width), 3, relu(conv))
            prev = conv
    for conv, channels in _CPM_STAGE1:
        last = channels is None
        layers += _conv(conv, prev, spec.n_heatmaps if last else _scaled(channels, width), 1,
                        None if last else relu(conv))
        prev = conv
    for t in range(2, stages + 1):
        concat = names.concat.format(t=t)
        layers.append(Layer(concat, "Concat", (prev, _CPM_FEATURES), concat))
        prev = concat
        for i, (channels, kernel) in enumerate(_STAGE_T, start=1):
            conv, last = f"Mconv{i}_stage{t}", channels is None
            layers += _conv(conv, prev, spec.n_heatmaps if last else _scaled(channels, width), kernel,
                            None if last else names.stage_relu.format(i=i, j=i + 1, t=t))
            prev = conv
    # OpenPose names the output blob, not the layer: Mconv7_stage6 writes net_output.
    layers[-1] = replace(layers[-1], top=spec.output_name)
    return layers


def cost(layers: Sequence[Layer], side: int) -> Tuple[int, float]:
    """(parameters, GFLOP) of a network on one side x side input: weights and biases of
    every convolution, and 2 x its multiply-adds (what the benchmarks compare)."""
    channels, size = {INPUT_NAME: 3}, {INPUT_NAME: side}
    params, flop = 0, 0.0
    for layer in layers:
        src = layer.bottoms[0]
        if layer.type == "Convolution":
            params += layer.num_output * (channels[src] * layer.kernel ** 2 + 1)
            flop += 2.0 * channels[src] * layer.num_output * layer.kernel ** 2 * size[src] ** 2
            channels[layer.top] = layer.num_output
        elif layer.type == "Concat":
            channels[layer.top] = sum(channels[b] for b in layer.bottoms)
        else:
            channels[layer.top] = channels[src]
        size[layer.top] = -(-size[src] // 2) if layer.type == "Pooling" else size[src]  # Caffe rounds up
    return params, flop / 1e9


def to_prototxt(layers: Sequence[Layer], name: str, input_size: Tuple[int, int] = (368, 368)) -> str:
    """Caffe deploy text for `layers`. The input size is only a default: cv2.dnn reshapes."""
    w, h = input_size
    out = [f'name: "{name}"', f'input: "{INPUT_NAME}"', "input_dim: 1", "input_dim: 3",
           f"input_dim: {h}", f"input_dim: {w}"]
    for layer in layers:
        out += ["layer {", f'  name: "{layer.name}"', f'  type: "{layer.type}"']
        out += [f'  bottom: "{b}"' for b in layer.bottoms]
        out.append(f'  top: "{layer.top}"')
        if layer.type == "Convolution":
            out += ["  convolution_param {", f"    num_output: {layer.num_output}",
                    f"    pad: {layer.pad}", f"    kernel_size: {layer.kernel}"]
            out += [f"    stride: {layer.stride}"] if layer.stride else []
            out.append("  }")
        elif layer.type == "Pooling":
            out += ["  pooling_param {", "    pool: MAX", f"    kernel_size: {layer.kernel}",
                    f"    stride: {layer.stride}", "  }"]
        elif layer.type == "Concat":
            out += ["  concat_param {", "    axis: 1", "  }"]
        out.append("}")
    return "\n".join(out) + "\n"


def deploy_text(spec: ModelSpec, stages: Optional[int] = None, width: float = 1.0) -> str:
    """The deploy file of a model, cut and narrowed as asked."""
    stages = spec.stages if stages is None else stages
    suffix = "" if width == 1.0 else f"_w{width:g}"
    return to_prototxt(build_layers(spec, stages, width), f"OpenPose-{spec.name}-{stages}stages{suffix}")


def write_deploy_files(root: Optional[Path] = None) -> List[Path]:
    """(Re)write the committed deploy file of every model; returns the paths."""
    written = []
    for spec in (*MODELS.values(), *PARTS.values()):
        path = spec.prototxt if root is None else Path(root) / spec.prototxt.relative_to(spec.prototxt.parents[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(deploy_text(spec))
        written.append(path)
    return written


def main(argv: Optional[Sequence[str]] = None) -> int:
    networks = {**MODELS, **PARTS}

    def network(text: str) -> ModelSpec:
        if text.strip().upper() not in networks:
            raise ValueError(f"unknown model {text!r}: choose one of {', '.join(networks)}")
        return networks[text.strip().upper()]

    parser = OneLineParser(
        prog="python -m pose.families.openpose.net.architecture",
        description="Regenerate the OpenPose deploy files under pose/ (or print one model's).",
        epilog="e.g. python -m pose.families.openpose.net.architecture --print COCO --stages 4 --width 0.125 > narrow.prototxt")
    parser.add_argument("--print", type=argument_type(network, "model"), metavar="MODEL",
                        help=f"print MODEL's deploy file instead ({', '.join(networks)})")
    parser.add_argument("--stages", type=argument_type(lambda text: parse_int(text, 1, FULL_STAGES), "stages"),
                        metavar="N",
                        help="cut after this stage (1-6; BODY_25 5-6), with --print")
    parser.add_argument("--width", type=argument_type(lambda text: parse_float(text, 0.0, 4.0, low_open=True), "width"),
                        default=1.0,
                        metavar="W", help="channel width factor in (0, 4] (test nets use 0.125), with --print")
    try:  # argparse exits on --help and on usage errors; callers want a status
        args = parser.parse_args(argv)
        if args.print:
            try:
                sys.stdout.write(deploy_text(args.print, args.stages, args.width))
            except ValueError as exc:  # a stage cut this model does not allow (BODY_25: 5-6)
                parser.error(str(exc))
            return 0
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    for path in write_deploy_files():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
