"""The Python API: one object that turns BGR images into people.

    import cv2, pose
    est = pose.PoseEstimator("COCO")
    people = est(cv2.imread("Input/example_image1.png"))

The image and video tools are thin wrappers around this class. Warnings (a device
that is not there, weights that are not the published ones) go to the "pose" logger.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np

from pose import engine as engine_module
from pose.decode.people import DecodeOptions, NetOutput, decode, decode_multiscale
from pose.decode.preprocess import (
    DEFAULT_NET_RESOLUTION,
    Geometry,
    NetResolution,
    parse_net_resolution,
    parse_scales,
    prepare_input,
)
from pose.errors import EXIT_USAGE, NetworkError
from pose.model.architecture import check_stages
from pose.model.weights import check_weights
from pose.paths import models_command
from pose.person import Person
from pose.spec import DOWNLOADS, STRIDE, ModelSpec, get_spec

log = logging.getLogger("pose")


def _scaled_resolution(res: NetResolution, scale: float) -> NetResolution:
    """The net resolution for one extra scale of multi-scale inference."""
    def side(v: int) -> int:
        return -1 if v == -1 else max(STRIDE, int(round(v * scale / STRIDE)) * STRIDE)
    return NetResolution(side(res.width), side(res.height))


class PoseEstimator:
    """OpenPose body estimation: `people = est(image)` for a BGR image.

    model: "COCO", "MPI" or "MPI_4" (case-insensitive) or a ModelSpec. proto/weights: run
    any OpenPose-format Caffe body model instead of the model's default files (keypoint
    layout still from `model`). device: cpu | gpu | opencl | auto. stages: cut the
    built-in definition after stage 1..6 (default: the model's). scales: multi-scale
    averaging factors, e.g. (1.0, 0.75, 0.5). engine: auto | caffe | onnx | onnxruntime;
    `self.engine` and `self.engine_label` say which one runs. threads: inference threads
    (default: every core this process may use; batch workers split the cores between
    them). Bad values raise ValueError.
    """

    def __init__(self, model: Union[str, ModelSpec] = "COCO", *, proto: Optional[Union[str, Path]] = None,
                 weights: Optional[Union[str, Path]] = None, device: str = "cpu", fp16: bool = False,
                 net_resolution: Union[str, NetResolution] = DEFAULT_NET_RESOLUTION,
                 stages: Optional[int] = None, scales: Union[str, Sequence[float]] = (1.0,),
                 engine: str = "auto", decode_options: Optional[DecodeOptions] = None,
                 threads: Optional[int] = None):
        self.spec = model if isinstance(model, ModelSpec) else get_spec(model)
        self.resolution = (net_resolution if isinstance(net_resolution, NetResolution)
                           else parse_net_resolution(net_resolution))
        self.scales = parse_scales(scales)
        stages = check_stages(stages, proto, self.spec)
        self.stages = self.spec.stages if stages is None else stages
        self.decode_options = decode_options
        requested = engine_module.parse_engine(engine)
        engine_module.parse_device(device)
        weights = Path(weights) if weights else self.spec.weights.path
        official = weights == self.spec.weights.path
        hint = f"{models_command()} {self._download_name()}" if official else None
        check_weights(weights, hint)  # before any device warning: the fix comes first
        self.placement = engine_module.select_placement(device, fp16)
        if official and weights.is_file() and weights.stat().st_size != self.spec.weights.size:
            log.warning(f"{weights.name} is {weights.stat().st_size} bytes, the published file is "
                        f"{self.spec.weights.size}: not the official weights (check: {models_command()} --verify)")
        # Loaded once; every frame reuses it (and its buffers).
        self.net = engine_module.load(requested, self.spec, self.stages, weights,
                                      Path(proto) if proto else None, self.placement, hint, threads)
        self.engine = self.net.name  # the engine that runs: caffe | onnx | onnxruntime
        self.engine_label = self.net.label  # what runs it, for the tools' first output line
        self._probe(weights)
        self._geometries: dict = {}
        self._blobs: dict = {}  # net resolution -> the last blob, refilled in place

    def _download_name(self) -> str:
        return next((n for n, w in DOWNLOADS.items() if w == self.spec.weights), "all")

    def _probe(self, weights: Path) -> None:
        """One tiny forward pass, so mismatched files fail here with a clear message
        rather than on the first frame (cv2.dnn binds blobs by name without checking shapes)."""
        cells = 4
        try:
            output = self.net.forward(np.zeros((1, 3, cells * STRIDE, cells * STRIDE), np.float32))
        except NetworkError as exc:
            raise NetworkError(f"the weights {weights.name} do not fit the network definition ({exc})",
                               EXIT_USAGE) from None
        self._check_channels(output)
        if output.shape[2:] != (cells, cells):
            raise NetworkError(
                f"the network maps a {cells * STRIDE}x{cells * STRIDE} input to {output.shape[3]}x"
                f"{output.shape[2]} outputs; OpenPose body models reduce by {STRIDE}", EXIT_USAGE)

    def _check_channels(self, output: np.ndarray) -> None:
        if output.ndim != 4 or output.shape[1] != self.spec.n_channels:
            raise NetworkError(
                f"the network outputs {output.shape[1] if output.ndim > 1 else '?'} channels but "
                f"{self.spec.name} needs {self.spec.n_channels}: wrong --mode for this model?", EXIT_USAGE)

    def _geometry_cached(self, image: np.ndarray, res: NetResolution) -> Optional[Geometry]:
        return self._geometries.get((image.shape[1], image.shape[0], res))

    def forward(self, image: np.ndarray, scale: float = 1.0) -> NetOutput:
        """Network output (1, C, H/8, W/8) for one BGR image, and its geometry."""
        res = self.resolution if scale == 1.0 else _scaled_resolution(self.resolution, scale)
        blob, geometry = prepare_input(image, res, self._geometry_cached(image, res),
                                       self._blobs.get(res))
        self._geometries[(image.shape[1], image.shape[0], res)] = geometry
        # The engines consume the blob before returning, so the next frame refills it.
        self._blobs[res] = blob
        return NetOutput(self.net.forward(blob), geometry)

    def infer(self, image: np.ndarray) -> List[NetOutput]:
        """The network's output at every scale: the costly half of `estimate`."""
        return [self.forward(image, s) for s in self.scales]

    def people_from(self, outputs: Sequence[NetOutput]) -> List[Person]:
        """Decode what `infer` returned (a separate step so video can decode off the
        inference thread)."""
        if len(outputs) == 1:
            return decode(outputs[0].maps, outputs[0].geometry, self.spec, self.decode_options)
        return decode_multiscale(outputs, self.spec, self.decode_options)

    def estimate(self, image: np.ndarray) -> List[Person]:
        """Every person in a BGR image, best first (see pose.decode)."""
        return self.people_from(self.infer(image))

    __call__ = estimate

