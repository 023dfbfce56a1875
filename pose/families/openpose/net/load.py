"""OpenPose's networks on the runtime: a model's spec, stage cut and weights become the
file the planned engine reads (the Caffe pair for cv2.dnn's caffe engine, the converted
ONNX for every other), and pose.runtime opens that file."""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Optional

from pose.families.openpose.net.architecture import deploy_text
from pose.families.openpose.net.convert import NoCacheFolder, UnsupportedDefinition, converted
from pose.families.openpose.net.onnx_export import width_of
from pose.families.openpose.spec import ModelSpec
from pose.runtime import Engine, Plan
from pose.runtime.backends import has_caffe_importer
from pose.runtime.select import open_caffe, open_onnx

log = logging.getLogger("pose")


def open_plan(chosen: Plan, spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
              hint: Optional[str] = None, threads: Optional[int] = None, throughput: bool = False) -> Engine:
    """Load the network of `spec` cut after `stages` (or the deploy file `proto`) as planned."""
    if chosen.engine == "caffe":
        # Other weights than the official file may be a narrowed net: the deploy file is made
        # to their width, as the ONNX conversion does, so both routes accept the same files.
        width = 1.0 if proto is not None or Path(weights) == spec.weights.path else width_of(weights, spec, stages)
        if proto is not None or (stages == spec.stages and width == 1.0):
            return open_caffe(chosen, proto or spec.prototxt, Path(weights), hint, threads)
        # A stage cut or width is generated on the fly; cv2.dnn wants a file path.
        fd, tmp = tempfile.mkstemp(suffix=".prototxt")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(deploy_text(spec, stages, width))
            return open_caffe(chosen, Path(tmp), Path(weights), hint, threads)
        finally:
            os.unlink(tmp)
    # onnxruntime runs f16 only from a float16 graph (converted and cached on its own).
    half = chosen.engine == "onnxruntime" and chosen.precision == "f16"
    try:
        path = converted(spec, stages, Path(weights), proto, hint, half)
    except NoCacheFolder as exc:
        # Read-only weights and home (a shared install, a locked-down container): convert
        # for this run only. Every engine has read the file once it is open, so it goes.
        try:
            folder = tempfile.TemporaryDirectory(prefix="opencv-hpe-")
        except OSError as error:
            raise NoCacheFolder(f"{exc}, nor the temporary folder ({error.strerror or error})") from None
        log.warning(f"{exc}: converting for this run only (a few seconds each run; point "
                    "XDG_CACHE_HOME at a writable folder to keep it)")
        with folder:
            path = converted(spec, stages, Path(weights), proto, hint, half, Path(folder.name))
            return open_onnx(chosen, path, threads, throughput, half)
    return open_onnx(chosen, path, threads, throughput, half)


def open_planned(chosen: Plan, auto: bool, spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
                 hint: Optional[str] = None, threads: Optional[int] = None, throughput: bool = False) -> Engine:
    """`open_plan`; when the engine was chosen by auto, a definition the converter cannot
    express, or a conversion with no folder to write to, runs from the Caffe files instead
    (one warning)."""
    try:
        return open_plan(chosen, spec, stages, weights, proto, hint, threads, throughput)
    except (UnsupportedDefinition, NoCacheFolder) as exc:
        if not auto or not has_caffe_importer():
            raise
        log.warning(f"{exc}; running the Caffe files instead")
        fallback = Plan("caffe", chosen.device if chosen.device != "gpu" else "cpu", "auto",
                        chosen.placement)
        return open_plan(fallback, spec, stages, weights, proto, hint, threads)
