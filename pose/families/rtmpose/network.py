"""The family's ONNX files on the project's runtime (pose.runtime): what a file's interface
is (read from the file, as rtmlib's users pass sizes: input name and size, output names
and shapes), which plan runs it, and one probe at load so that an engine that cannot run
the graph says so in one line before the first frame.

Every engine but the Caffe one reads ONNX: `--engine caffe` is refused in one line, and
`auto` never picks it (OpenCV 4 without OpenVINO and onnxruntime runs cv2.dnn's ONNX
importer instead). onnxruntime runs f16 only from a float16 graph, which these files are
not: `--precision f16` is refused with it in one line (OpenVINO and cv2.dnn's GPU
targets run f16 from the f32 file).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from pose.core.errors import EXIT_USAGE, NetworkError, UsageError
from pose.core.paths import display_path
from pose.runtime import Engine, Plan, open_onnx
from pose.runtime import plan as runtime_plan
from pose.runtime.backends import first_line

Dim = Union[int, str, None]


@dataclass(frozen=True)
class Signature:
    """An ONNX file's interface: its first input's name and dims, its outputs' names and
    dims (free dims are their symbolic name, or None)."""

    input: str
    input_dims: Tuple[Dim, ...]
    outputs: Tuple[str, ...]
    output_dims: Tuple[Tuple[Dim, ...], ...]

    @property
    def input_hw(self) -> Optional[Tuple[int, int]]:
        """(height, width) of the input, None where the file leaves them free."""
        hw = self.input_dims[2:4]
        return (int(hw[0]), int(hw[1])) if len(hw) == 2 and all(isinstance(d, int) and d > 0 for d in hw) else None

    @property
    def fixed_batch(self) -> Optional[int]:
        """The batch size the file fixes (1 for a file exported without a dynamic batch), None if free."""
        first = self.input_dims[0] if self.input_dims else None
        return first if isinstance(first, int) and first > 0 else None

    def output_dim(self, output: str, axis: int) -> Optional[int]:
        """A fixed dim of a named output (or the first output where the name is absent), None if free."""
        dims = self.output_dims[self.outputs.index(output)] if output in self.outputs else self.output_dims[0]
        value = dims[axis] if len(dims) > axis else None
        return value if isinstance(value, int) and value > 0 else None


def signature(path: Union[str, Path]) -> Signature:
    """The interface of the ONNX file at `path` (its weights are not needed and not read
    twice: external data stays on disk). NetworkError (exit 2) when it is not a readable ONNX file."""
    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"no such file: {display_path(path)}", EXIT_USAGE)
    try:
        import onnx

        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise NetworkError(f"{display_path(path)} is not a readable ONNX file ({first_line(exc)})", EXIT_USAGE) from None
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in inits]
    if not inputs or not graph.output:
        raise NetworkError(f"{display_path(path)} has no input or no output", EXIT_USAGE)

    def dims(value) -> Tuple[Dim, ...]:
        return tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                     for d in value.type.tensor_type.shape.dim)

    return Signature(inputs[0].name, dims(inputs[0]), tuple(o.name for o in graph.output),
                     tuple(dims(o) for o in graph.output))


def plan(engine: str = "auto", device: str = "cpu", precision: str = "auto") -> Plan:
    """pose.runtime.plan for an ONNX file: never the Caffe engine, f16 on onnxruntime refused."""
    if str(engine).strip().lower() == "caffe":
        raise UsageError("--engine caffe reads OpenPose's Caffe files; RTMPose, RTMO and their detectors are ONNX: "
                         "use --engine openvino, onnxruntime or onnx (cv2.dnn)")
    chosen = runtime_plan(engine, device, precision)
    if chosen.engine == "caffe":  # auto on OpenCV 4 without OpenVINO and onnxruntime: cv2.dnn reads ONNX too
        chosen = runtime_plan("onnx", device, precision)
    if chosen.engine == "onnxruntime" and chosen.precision == "f16":
        raise UsageError("--precision f16: onnxruntime runs f16 only from a float16 graph, and the published "
                         "RTMPose files are float32; use --engine openvino (CPU or Intel GPU) or onnx (CUDA)")
    return chosen


def open_file(chosen: Plan, path: Path, sig: Signature, threads: Optional[int] = None,
              probe: Optional[np.ndarray] = None, role: str = "network") -> Engine:
    """`path` on the planned engine, one frame's latency first (the video loop keeps one
    frame in flight: OpenVINO's throughput mode would only add requests that wait). With
    `probe` (an input for the file's `sig`), one run at load: an engine that cannot run
    this graph says so now, in one line, rather than on the first frame."""
    engine = open_onnx(chosen, Path(path), threads, throughput=False)
    if probe is not None:
        try:
            engine.run({sig.input: probe})
        except NetworkError as exc:
            reason = str(exc).replace("network forward pass failed: ", "")
            others = " or ".join(e for e in ("openvino", "onnxruntime", "onnx") if e != engine.name)
            raise NetworkError(f"{engine.name} cannot run the {role} {Path(path).name}: {reason} "
                               f"(try --engine {others})", EXIT_USAGE) from None
    return engine


def pick(outputs: Mapping[str, np.ndarray], names: Sequence[str]) -> Tuple[np.ndarray, ...]:
    """The outputs named `names`; by position where the engine named them otherwise (a
    graph whose outputs carry other names, as rtmlib reads them: by position)."""
    if all(n in outputs for n in names):
        return tuple(outputs[n] for n in names)
    values = list(outputs.values())
    if len(values) < len(names):
        raise NetworkError(f"the network gives {len(values)} outputs, expected {len(names)} ({', '.join(names)})")
    return tuple(values[:len(names)])


def run_batched(engine: Engine, input_name: str, blob: np.ndarray, names: Sequence[str],
                fixed_batch: Optional[int]) -> Tuple[np.ndarray, ...]:
    """The named outputs for a float32 batch: in one run, or one item at a time for a file
    exported with batch 1 fixed."""
    blob = np.ascontiguousarray(blob, np.float32)
    if fixed_batch == 1 and len(blob) != 1:
        parts = [run_batched(engine, input_name, blob[i:i + 1], names, 1) for i in range(len(blob))]
        return tuple(np.concatenate(p) for p in zip(*parts))
    return pick(engine.run({input_name: blob}), names)


__all__ = ["Signature", "open_file", "pick", "plan", "run_batched", "signature"]
