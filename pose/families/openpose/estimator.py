"""The Python API: one object that turns BGR images into people.

    import cv2, pose
    est = pose.PoseEstimator("COCO")
    people = est(cv2.imread("Input/example_image1.png"))

The image and video tools are thin wrappers around this class. Warnings (a device
that is not there, weights that are not the published ones) go to the "pose" logger.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np

from pose import runtime
from pose.core.errors import EXIT_USAGE, NetworkError
from pose.core.image import check_image
from pose.core.paths import models_command
from pose.core.person import Person
from pose.families.openpose.handface import HandFaceEstimator, check_downloaded
from pose.families.openpose.net.architecture import check_stages
from pose.families.openpose.net.load import open_planned
from pose.families.openpose.people import DecodeOptions, NetOutput, decode, decode_multiscale
from pose.families.openpose.preprocess import (
    DEFAULT_NET_RESOLUTION,
    Geometry,
    NetResolution,
    check_net_size,
    parse_net_resolution,
    parse_scales,
    prepare_input,
    scaled_side,
)
from pose.families.openpose.spec import DOWNLOADS, STRIDE, ModelSpec, get_spec
from pose.runtime.caffe_files import check_weights, warn_if_not_published


def _scaled_resolution(res: NetResolution, scale: float) -> NetResolution:
    """The net resolution for one extra scale of multi-scale inference."""
    return NetResolution(scaled_side(res.width, scale), scaled_side(res.height, scale))


def _default(value, default):
    return default if value is None else value


class PoseEstimator:
    """OpenPose body estimation: `people = est(image)` for a BGR image.

    model: "COCO", "MPI", "MPI_4" or "BODY_25" (case-insensitive) or a ModelSpec. proto/weights: run
    any OpenPose-format Caffe body model instead of the model's default files (keypoint
    layout still from `model`). device: cpu | gpu | opencl | auto. stages: cut the
    built-in definition after stage 1..6 (default: the model's). scales: multi-scale
    averaging factors, e.g. (1.0, 0.75, 0.5). engine: auto | openvino | onnxruntime | caffe |
    onnx; precision: auto | f32 | bf16 | f16 (auto: the engine's native one, bf16 for
    OpenVINO on CPUs with AMX); `self.engine`, `self.precision` and `self.engine_label` say
    what runs. throughput: keep several frames in flight where the engine can (video and
    batches; see `submit`). hand / face: also run OpenPose's hand and face networks on
    crops of each person (pose.families.openpose.handface; their crop sizes hand_net_resolution /
    face_net_resolution, default 368x368) with the same plan (engine, device,
    precision); `self.parts` holds them. Bad values raise ValueError; None for any
    option means its default, as for stages, proto and weights.
    """

    def __init__(self, model: Union[str, ModelSpec] = "COCO", *, proto: Optional[Union[str, Path]] = None,
                 weights: Optional[Union[str, Path]] = None, device: str = "cpu", precision: str = "auto",
                 net_resolution: Union[str, NetResolution] = DEFAULT_NET_RESOLUTION,
                 stages: Optional[int] = None, scales: Union[str, Sequence[float]] = (1.0,),
                 engine: str = "auto", decode_options: Optional[DecodeOptions] = None,
                 threads: Optional[int] = None, throughput: bool = False,
                 hand: bool = False, face: bool = False, hand_net_resolution: Union[int, str] = "368x368",
                 face_net_resolution: Union[int, str] = "368x368"):
        model, device, engine = _default(model, "COCO"), _default(device, "cpu"), _default(engine, "auto")
        net_resolution, scales = _default(net_resolution, DEFAULT_NET_RESOLUTION), _default(scales, (1.0,))
        precision = _default(precision, "auto")
        hand, face = bool(_default(hand, False)), bool(_default(face, False))
        hand_net_resolution = _default(hand_net_resolution, "368x368")
        face_net_resolution = _default(face_net_resolution, "368x368")
        if not isinstance(model, (str, ModelSpec)):
            raise ValueError(f"model must be a name such as 'COCO' or a ModelSpec, got {type(model).__name__}")
        self.spec = model if isinstance(model, ModelSpec) else get_spec(model)
        self.resolution = (net_resolution if isinstance(net_resolution, NetResolution)
                           else parse_net_resolution(net_resolution))
        self.scales = parse_scales(scales)
        check_net_size(self.resolution, self.scales)
        stages = check_stages(stages, proto, self.spec)
        self.stages = self.spec.stages if stages is None else stages
        self.decode_options = decode_options
        self.proto = Path(proto) if proto else None
        runtime.parse_engine(engine), runtime.parse_device(device)
        runtime.parse_precision(precision)
        weights = Path(weights) if weights else self.spec.weights.path
        official = weights == self.spec.weights.path
        hint = f"{models_command()} {self._download_name()}" if official else None
        check_weights(weights, hint)  # before any device warning: the fix comes first
        check_downloaded(hand, face)
        self.plan = runtime.plan(engine, device, precision)  # the one place it is decided
        self.placement = self.plan.placement
        if official:
            warn_if_not_published(weights, self.spec.weights.size, models_command())
        # Loaded once; every frame reuses it (and its buffers).
        self.net = open_planned(self.plan, runtime.parse_engine(engine) == "auto", self.spec,
                                              self.stages, weights, Path(proto) if proto else None, hint, threads,
                                              throughput)
        self.engine = self.net.name  # the engine that runs: openvino | onnxruntime | caffe | onnx
        self.precision = self.net.precision  # what really runs: f32 | bf16 | f16
        self.device = self.plan.device if self.net.name == self.plan.engine else "cpu"
        self.engine_label = self.net.label  # what runs it, for the tools' first output line
        self._probe(weights)
        # The hand and face networks follow the body's plan, so one run never mixes engines or precisions.
        self.parts = (HandFaceEstimator(self.spec, hand=hand, face=face, hand_net_resolution=hand_net_resolution,
                                        face_net_resolution=face_net_resolution, plan=self.plan, threads=threads)
                      if hand or face else None)
        self._geometries: dict = {}
        self._blobs: dict = {}  # net resolution -> the last blob, refilled in place
        self._partial: dict = {}  # submitted tag -> the scales' outputs collected so far

    def describe(self) -> str:
        """What runs, for the tools' first line: model, hands and faces, stages or
        definition, device and engine."""
        net = f"{self.stages} stages" if self.proto is None else f"definition {self.proto.name}"
        parts = f" + {self.parts.label()}" if self.parts is not None else ""
        return f"{self.spec.name}{parts}, {net}, on {self.device} with {self.engine_label}"

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

    def _prepare(self, image: np.ndarray, scale: float):
        res = self.resolution if scale == 1.0 else _scaled_resolution(self.resolution, scale)
        blob, geometry = prepare_input(image, res, self._geometry_cached(image, res),
                                       self._blobs.get(res))
        self._geometries[(image.shape[1], image.shape[0], res)] = geometry
        # The engines consume (or copy) the blob before returning, so the next frame refills it.
        self._blobs[res] = blob
        return blob, geometry

    def forward(self, image: np.ndarray, scale: float = 1.0) -> NetOutput:
        """Network output (1, C, H/8, W/8) for one BGR image, and its geometry."""
        blob, geometry = self._prepare(image, scale)
        return NetOutput(self.net.forward(blob), geometry)

    @property
    def in_flight(self) -> int:
        """How many images `submit` keeps in the network at once (1 unless throughput mode)."""
        return max(1, self.net.requests // len(self.scales))

    def submit(self, image: np.ndarray, tag: object) -> None:
        """Start `infer(image)` without waiting; `collect` returns it under `tag`. Engines
        with asynchronous requests keep several images in flight; results keep their order."""
        for scale in self.scales:
            blob, geometry = self._prepare(image, scale)
            self.net.submit(blob, (tag, geometry))

    def collect(self, wait: bool = False) -> List[tuple]:
        """(tag, [NetOutput per scale]) of the submitted images that are done, in order;
        `wait`: every image still in flight."""
        done = []
        for (tag, geometry), maps in self.net.collect(wait):
            outputs = self._partial.setdefault(tag, [])
            outputs.append(NetOutput(maps, geometry))
            if len(outputs) == len(self.scales):
                done.append((tag, self._partial.pop(tag)))
        return done

    def abandon(self) -> None:
        """Wait for every image still in flight and forget them, failures included (a run
        that stops on an error; the estimator may serve another video next)."""
        while True:
            try:
                if not self.net.collect(wait=True):
                    break
            except NetworkError:
                continue  # each failure is handed out once: the rest follow
        self._partial.clear()

    def infer(self, image: np.ndarray) -> List[NetOutput]:
        """The network's output at every scale: the costly half of `estimate`. Gray,
        BGRA and 16-bit images are converted; other arrays raise ValueError (check_image)."""
        image = check_image(image)
        return [self.forward(image, s) for s in self.scales]

    def people_from(self, outputs: Sequence[NetOutput], image: Optional[np.ndarray] = None) -> List[Person]:
        """Decode what `infer` returned (a separate step so video can decode off the
        inference thread). With hand or face on, `image` (the frame `infer` saw) gives
        the people their hand and face keypoints; without it they stay None."""
        if len(outputs) == 1:
            people = decode(outputs[0].maps, outputs[0].geometry, self.spec, self.decode_options)
        else:
            people = decode_multiscale(outputs, self.spec, self.decode_options)
        if self.parts is not None and image is not None:
            self.parts(image, people)
        return people

    def maps(self, outputs: Sequence[NetOutput]) -> np.ndarray:
        """The network's raw maps in `outputs` (what `collect` or `infer` returned), (1, C, H, W)
        float32: scale 1's, the one --net_resolution sets (else the largest), as
        OpenPose's --write_heatmaps writes the maps of its first scale."""
        return outputs[self.scales.index(1.0) if 1.0 in self.scales else 0].maps.astype(np.float32, copy=False)

    def estimate(self, image: np.ndarray) -> List[Person]:
        """Every person in a BGR image, best first (see pose.families.openpose), with hand and face
        keypoints when those are on."""
        return self.people_from(self.infer(image), image)

    __call__ = estimate

