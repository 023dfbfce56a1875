"""The Python API: one object that turns BGR images into people.

    from pose.estimator import PoseEstimator
    est = PoseEstimator("COCO", device="cpu", net_resolution="-1x368")
    people = est.estimate(cv2.imread("Input/example_image1.png"))

The image and video tools are thin wrappers around this class.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from . import engines, network
from .decode import DecodeOptions, decode, decode_multiscale
from .person import Person
from .preprocess import DEFAULT_NET_RESOLUTION, Geometry, NetResolution, parse_net_resolution, prepare_input
from .spec import FULL_STAGES, STRIDE, ModelSpec, get_spec


def _scaled_resolution(res: NetResolution, scale: float) -> NetResolution:
    """The net resolution for one extra scale of multi-scale inference."""
    def side(v: int) -> int:
        return -1 if v == -1 else max(STRIDE, int(round(v * scale / STRIDE)) * STRIDE)
    return NetResolution(side(res.width), side(res.height))


class PoseEstimator:
    """OpenPose body estimation through cv2.dnn.

    model: "COCO", "MPI" or "MPI_4" (case-insensitive). proto/weights: run any
    OpenPose-format Caffe body model instead of the model's default files (keypoint
    layout still from `model`). device: cpu | gpu | opencl | auto. stages: cut the
    built-in definition after stage 1..6 (default: the model's). scales: multi-scale
    averaging factors, e.g. (1.0, 0.75, 0.5). engine: auto | caffe | onnx | onnxruntime
    (pose.engines); `self.engine` and `self.engine_label` say which one runs.
    """

    def __init__(self, model: Union[str, ModelSpec] = "COCO", *, proto: Optional[Union[str, Path]] = None,
                 weights: Optional[Union[str, Path]] = None, device: str = "cpu", fp16: bool = False,
                 net_resolution: Union[str, NetResolution] = DEFAULT_NET_RESOLUTION,
                 stages: Optional[int] = None, scales: Sequence[float] = (1.0,), engine: str = "auto",
                 decode_options: Optional[DecodeOptions] = None, warn: network.Warn = network.warn_stderr):
        self.spec = model if isinstance(model, ModelSpec) else get_spec(model)
        self.resolution = (net_resolution if isinstance(net_resolution, NetResolution)
                           else parse_net_resolution(net_resolution))
        # Largest first: multi-scale decoding maps everything onto the first run's geometry.
        self.scales = tuple(sorted((float(s) for s in scales), reverse=True)) or (1.0,)
        if any(not 0 < s <= 4 for s in self.scales):
            raise ValueError(f"scales must be in (0, 4], got {self.scales}")
        if stages is not None and not 1 <= stages <= FULL_STAGES:
            raise ValueError(f"stages must be 1..{FULL_STAGES}, got {stages}")
        if stages is not None and proto is not None:
            raise ValueError("--stages cuts the built-in definitions; it cannot be combined with --proto")
        self.stages = self.spec.stages if stages is None else stages
        self.decode_options = decode_options
        if engine.lower() not in network.ENGINES:
            raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(network.ENGINES)}")
        weights = Path(weights) if weights else self.spec.weights.path
        official = weights == self.spec.weights.path
        hint = f"./getModels.sh {self._download_name()}" if official else None
        network.check_weights(weights, hint)  # before any device warning: the fix comes first
        self.placement = network.select_placement(device, fp16, warn)
        if official and weights.is_file() and weights.stat().st_size != self.spec.weights.size:
            warn(f"{weights.name} is {weights.stat().st_size} bytes, the published file is "
                 f"{self.spec.weights.size}: not the official weights (check: ./getModels.sh --verify)")
        # Loaded once; every frame reuses it (and its buffers).
        self.net = engines.load(engine, self.spec, self.stages, weights, Path(proto) if proto else None,
                                self.placement, hint, warn)
        self.engine = self.net.name  # the engine that runs: caffe | onnx | onnxruntime
        self.engine_label = self.net.label  # what runs it, for the tools' first output line
        self._probe(weights)
        self._geometries: dict = {}
        self._blobs: dict = {}  # net resolution -> the last blob, refilled in place

    def _download_name(self) -> str:
        from .spec import DOWNLOADS
        return next((n for n, w in DOWNLOADS.items() if w == self.spec.weights), "all")

    def _probe(self, weights: Path) -> None:
        """One tiny forward pass, so mismatched files fail here with a clear message
        rather than on the first frame (cv2.dnn binds blobs by name without checking shapes)."""
        cells = 4
        try:
            output = self.net.forward(np.zeros((1, 3, cells * STRIDE, cells * STRIDE), np.float32))
        except network.NetworkError as exc:
            raise network.NetworkError(f"the weights {weights.name} do not fit the network definition "
                                       f"({exc})", 2) from None
        self._check_channels(output)
        if output.shape[2:] != (cells, cells):
            raise network.NetworkError(
                f"the network maps a {cells * STRIDE}x{cells * STRIDE} input to {output.shape[3]}x"
                f"{output.shape[2]} outputs; OpenPose body models reduce by {STRIDE}", 2)

    def _check_channels(self, output: np.ndarray) -> None:
        if output.ndim != 4 or output.shape[1] != self.spec.n_channels:
            raise network.NetworkError(
                f"the network outputs {output.shape[1] if output.ndim > 1 else '?'} channels but "
                f"{self.spec.name} needs {self.spec.n_channels}: wrong --mode for this model?", 2)

    def _geometry_cached(self, image: np.ndarray, res: NetResolution) -> Optional[Geometry]:
        return self._geometries.get((image.shape[1], image.shape[0], res))

    def forward(self, image: np.ndarray, scale: float = 1.0) -> Tuple[np.ndarray, Geometry]:
        """Network output (1, C, H/8, W/8) for one BGR image, and its geometry."""
        res = self.resolution if scale == 1.0 else _scaled_resolution(self.resolution, scale)
        blob, geometry = prepare_input(image, res, self._geometry_cached(image, res),
                                       self._blobs.get(res))
        self._geometries[(image.shape[1], image.shape[0], res)] = geometry
        # The engines consume the blob before returning, so the next frame refills it.
        self._blobs[res] = blob
        return self.net.forward(blob), geometry

    def infer(self, image: np.ndarray) -> List[Tuple[np.ndarray, Geometry]]:
        """The network's output and geometry at every scale: the costly half of `estimate`."""
        return [self.forward(image, s) for s in self.scales]

    def people_from(self, runs: Sequence[Tuple[np.ndarray, Geometry]]) -> List[Person]:
        """Decode what `infer` returned (a separate step so video can decode off the
        inference thread)."""
        if len(runs) == 1:
            return decode(runs[0][0], runs[0][1], self.spec, self.decode_options)
        return decode_multiscale(runs, self.spec, self.decode_options)

    def estimate(self, image: np.ndarray) -> List[Person]:
        """Every person in a BGR image, best first (see pose.decode)."""
        return self.people_from(self.infer(image))
