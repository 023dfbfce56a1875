"""The inference backends, side by side, behind one interface: `Engine.forward(blob)`,
and `submit`/`collect` to keep several frames in flight where the backend can.

    openvino     OpenVINO on the ONNX (bf16 on CPUs with AMX; Intel GPUs)
    onnxruntime  onnxruntime on the same ONNX (CPU; CUDA with onnxruntime-gpu)
    caffe        cv2.dnn on the Caffe files (OpenCV 4 only: OpenCV 5 has no Caffe importer)
    onnx         cv2.dnn on the ONNX converted from the Caffe weights (OpenCV 4 or 5)

A TFLite file (BlazePose's) is read as it is by OpenVINO and by cv2.dnn's TFLite importer
(`TFLiteOpenCVEngine`, which keeps the file's NHWC tensors); see select.open_tflite.

Every backend runs the same weights and agrees with the Caffe route to float32 rounding
(tests/test_engines.py; benchmarks/bench_speed.py reports the full-size figure). Which
one runs is chosen once, in pose.runtime.select.
"""
from __future__ import annotations

import logging
import os
import queue
from collections import deque
from pathlib import Path
from typing import Any, Deque, Dict, List, Mapping, Optional, Tuple, Union

import cv2
import numpy as np

from pose.core.errors import EXIT_USAGE, NetworkError
from pose.core.paths import display_path
from pose.runtime.caffe_files import check_prototxt, check_weights
from pose.runtime.device import CPU, Placement

log = logging.getLogger("pose")


def cpu_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def set_opencv_threads(threads: Optional[int] = None) -> int:
    threads = threads or cpu_cores()
    cv2.setNumThreads(threads)
    return threads


def first_line(exc: BaseException) -> str:
    """The useful line of a library's exception (cv2.error spans several)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # cv2.error's useful part is the "error: (-N:...) message" line
    for line in lines:
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    return lines[0] if lines else type(exc).__name__


class Engine:
    """One loaded network. `name` is the engine's --engine name, `label` says what runs it,
    `precision` the arithmetic that really runs (f32, bf16, f16), `requests` how many
    frames `submit` keeps in flight.

    A model may have any number of named inputs and outputs, static or dynamic shapes:
    `run({input name: array})` returns every output by name. `forward(blob)` is the
    one-input, one-output case (the first of each), which `submit`/`collect` pipeline."""

    name = ""
    label = ""
    precision = "f32"
    requests = 1
    inputs: Tuple[str, ...] = ()
    outputs: Tuple[str, ...] = ()

    def forward(self, blob: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        raise NotImplementedError

    # Backends without asynchronous requests run each frame when it is submitted; the
    # callers' loop is the same for all.
    def submit(self, blob: np.ndarray, tag: Any = None) -> None:
        """Start `blob` (the caller may refill it at once)."""
        if not hasattr(self, "_done"):
            self._done: Deque[Tuple[Any, np.ndarray]] = deque()
        self._done.append((tag, self.forward(blob)))

    def collect(self, wait: bool = False) -> List[Tuple[Any, np.ndarray]]:
        """Finished (tag, output) pairs in submission order; `wait`: every frame in flight."""
        done = list(getattr(self, "_done", ()))
        if done:
            self._done.clear()
        return done

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"


# ---------------------------------------------------------------- cv2.dnn

def has_caffe_importer() -> bool:
    return hasattr(cv2.dnn, "readNetFromCaffe")


def require_caffe_importer() -> None:
    """OpenCV 5 removed readNetFromCaffe: say so instead of failing with AttributeError."""
    if not has_caffe_importer():
        raise NetworkError(
            f"OpenCV {cv2.__version__} has no Caffe importer (removed in OpenCV 5); "
            "install OpenCV 4: pip install 'opencv-python>=4.8,<5'", EXIT_USAGE)


def load_caffe(prototxt: Union[str, Path], weights: Union[str, Path], placement: Placement = CPU,
               hint: Optional[str] = None) -> cv2.dnn.Net:
    """A cv2.dnn network from Caffe files, placed on `placement`.

    `hint` is the command that fetches official weights (see check_weights).
    """
    require_caffe_importer()
    prototxt, weights = Path(prototxt), Path(weights)
    check_prototxt(prototxt)
    check_weights(weights, hint)
    try:
        net = cv2.dnn.readNetFromCaffe(str(prototxt), str(weights))
    except cv2.error as exc:
        fix = f"; run {hint} --verify" if hint else ""
        raise NetworkError(f"OpenCV could not load {display_path(weights)} with {display_path(prototxt)}: "
                           f"{first_line(exc)} (weights that do not match this definition, or a "
                           f"truncated file){fix}", EXIT_USAGE) from None
    if net.empty():
        raise NetworkError(f"OpenCV loaded an empty network from {display_path(prototxt)}", EXIT_USAGE)
    net.setPreferableBackend(placement.backend)
    net.setPreferableTarget(placement.target)
    return net


# cv2.dnn 4.14 and 5.1 both collapse a HardSigmoid of shape (N, C, 1, 1) that feeds a
# broadcasting Mul to (N, C, 1, 1) output: a channel attention (CSPNeXt's, in RTMPose and
# RTMDet) then fails in the next Reshape (measured on both). The same function written as
# Clip(alpha * x + beta, 0, 1) runs right.
_CV2_REWRITES = (b"HardSigmoid",)


def _mentions(path: Path, words: Tuple[bytes, ...]) -> bool:
    """Whether the file's bytes hold any of `words` (an op type in an ONNX graph), without
    parsing it: 0.15-0.2 s for a 200 MB OpenPose graph (measured), next to the seconds
    cv2.dnn takes to load it."""
    import mmap

    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return any(data.find(word) >= 0 for word in words)
    except (OSError, ValueError):  # empty or unreadable: cv2.dnn says why
        return False


def hard_sigmoid_as_clip(model) -> bool:
    """Rewrite every HardSigmoid node of an onnx.ModelProto as Mul, Add and Clip (the same
    function, which every engine runs); True when there was one."""
    from onnx import helper, numpy_helper

    nodes, extra = [], []
    for node in model.graph.node:
        if node.op_type != "HardSigmoid":
            nodes.append(node)
            continue
        attrs = {a.name: a.f for a in node.attribute}
        x, y = node.input[0], node.output[0]
        consts = {"alpha": attrs.get("alpha", 0.2), "beta": attrs.get("beta", 0.5), "lo": 0.0, "hi": 1.0}
        extra += [numpy_helper.from_array(np.array(v, np.float32), f"{y}/{k}") for k, v in consts.items()]
        nodes += [helper.make_node("Mul", [x, f"{y}/alpha"], [f"{y}/scaled"]),
                  helper.make_node("Add", [f"{y}/scaled", f"{y}/beta"], [f"{y}/shifted"]),
                  helper.make_node("Clip", [f"{y}/shifted", f"{y}/lo", f"{y}/hi"], [y])]
    if not extra:
        return False
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    model.graph.initializer.extend(extra)
    return True


def _cv2_source(path: Path) -> Union[str, np.ndarray]:
    """What cv2.dnn reads for an ONNX file: its path, or the rewritten graph's bytes where
    it holds an op cv2.dnn gets wrong (_CV2_REWRITES)."""
    if not _mentions(path, _CV2_REWRITES):
        return str(path)
    try:
        import onnx

        model = onnx.load(str(path))
    except Exception:  # not readable as ONNX: cv2.dnn gives its own reason
        return str(path)
    if not hard_sigmoid_as_clip(model):
        return str(path)
    return np.frombuffer(model.SerializeToString(), np.uint8)


def load_onnx_cv2(path: Path, placement: Placement = CPU) -> cv2.dnn.Net:
    """cv2.dnn network from an ONNX file; on OpenCV 5 the classic engine for non-CPU targets.
    Ops cv2.dnn computes wrongly are rewritten first (_CV2_REWRITES)."""
    args = [_cv2_source(Path(path))]
    if placement != CPU and hasattr(cv2.dnn, "ENGINE_CLASSIC"):
        args.append(cv2.dnn.ENGINE_CLASSIC)  # OpenCV 5's new engine runs on the CPU only
    try:
        net = cv2.dnn.readNetFromONNX(*args)
    except cv2.error as exc:
        raise NetworkError(f"OpenCV could not load {display_path(path)}: {first_line(exc)}", EXIT_USAGE) from None
    if placement != CPU:  # the CPU is the default; OpenCV 5's new engine warns on any set
        net.setPreferableBackend(placement.backend)
        net.setPreferableTarget(placement.target)
    return net


def forward(net: cv2.dnn.Net, blob: np.ndarray) -> np.ndarray:
    """Run one blob through a cv2.dnn network; errors become NetworkError."""
    try:  # setInput too: OpenCV 5 refuses a graph with ops it lacks there
        net.setInput(blob)
        return net.forward()
    except cv2.error as exc:
        raise NetworkError(f"network forward pass failed: {first_line(exc)}") from None


class OpenCVEngine(Engine):
    def __init__(self, net: cv2.dnn.Net, name: str, label: str, precision: str = "f32"):
        self.net, self.name, self.label, self.precision = net, name, label, precision
        # cv2.dnn names a graph's outputs but not its inputs: run() sets them by the caller's names.
        self.outputs = tuple(net.getUnconnectedOutLayersNames())

    def forward(self, blob: np.ndarray) -> np.ndarray:
        return forward(self.net, blob)

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        try:  # OpenCV 5 loads a graph with ops it lacks and refuses it here
            for name, array in feeds.items():
                self.net.setInput(array, name)
            return dict(zip(self.outputs, self.net.forward(list(self.outputs))))
        except cv2.error as exc:
            raise NetworkError(f"network forward pass failed: {first_line(exc)}") from None


def load_tflite_cv2(path: Path, placement: Placement = CPU) -> cv2.dnn.Net:
    """A cv2.dnn network from a TFLite file (OpenCV's TFLite importer, 4.8 and later)."""
    if not hasattr(cv2.dnn, "readNetFromTFLite"):
        raise NetworkError(f"OpenCV {cv2.__version__} has no TFLite importer (OpenCV 4.8 or later has)", EXIT_USAGE)
    try:
        net = cv2.dnn.readNetFromTFLite(str(path))
    except cv2.error as exc:
        raise NetworkError(f"OpenCV {cv2.__version__} dnn cannot read {display_path(path)}: "
                           f"{_cv2_reason(exc)}", EXIT_USAGE) from None
    if placement != CPU:
        net.setPreferableBackend(placement.backend)
        net.setPreferableTarget(placement.target)
    return net


def _cv2_reason(exc: BaseException) -> str:
    """The reason in an OpenCV error ("... error: (-213:...) Unsupported operator type X in
    function 'y'" -> "Unsupported operator type X")."""
    text = first_line(exc)
    reason = text.split(") ", 1)[1] if ") " in text and "error: (" in text else text
    return reason.split(" in function ")[0].strip()


class TFLiteOpenCVEngine(OpenCVEngine):
    """cv2.dnn on a TFLite file, with the file's own tensor layout: its TFLite importer
    takes NCHW and gives 4-D outputs NCHW, so inputs and 4-D outputs are transposed back to
    the NHWC the file declares (and OpenVINO gives). One input, fed by position."""

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        if len(feeds) != 1:
            raise NetworkError(f"cv2.dnn TFLite: one input expected, got {len(feeds)}")
        (array,) = feeds.values()
        array = np.asarray(array)
        self.net.setInput(np.ascontiguousarray(array.transpose(0, 3, 1, 2)) if array.ndim == 4 else array)
        try:
            outs = self.net.forward(list(self.outputs))
        except cv2.error as exc:
            raise NetworkError(f"network forward pass failed: {first_line(exc)}") from None
        return {name: o.transpose(0, 2, 3, 1) if o.ndim == 4 else o for name, o in zip(self.outputs, outs)}

    def forward(self, blob: np.ndarray) -> np.ndarray:
        return next(iter(self.run({"": blob}).values()))


# ---------------------------------------------------------------- onnxruntime

class OnnxRuntimeEngine(Engine):
    name = "onnxruntime"

    def __init__(self, path: Path, threads: Optional[int] = None, cuda: bool = False, half: bool = False):
        import onnxruntime as ort

        ort.set_default_logger_severity(4)  # its own coloured lines would precede ours
        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.intra_op_num_threads = threads or cpu_cores()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle workers would otherwise spin between frames and steal the cores that the
        # video pipeline's reading, decoding and writing threads need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else ["CPUExecutionProvider"]
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise NetworkError(f"onnxruntime could not load {display_path(path)}: {first_line(exc)}",
                               EXIT_USAGE) from None
        self.inputs = tuple(i.name for i in self.session.get_inputs())
        self.outputs = tuple(o.name for o in self.session.get_outputs())
        where = ("CUDA" if "CUDAExecutionProvider" in self.session.get_providers()
                 else f"CPU, {options.intra_op_num_threads} threads")
        self.precision = "f16" if half else "f32"
        self.label = f"onnxruntime {ort.__version__} ({where}, {self.precision})"

    def forward(self, blob: np.ndarray) -> np.ndarray:
        try:
            return self.session.run(self.outputs[:1], {self.inputs[0]: blob})[0]
        except Exception as exc:
            raise NetworkError(f"network forward pass failed: {first_line(exc)}") from None

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        try:
            return dict(zip(self.outputs, self.session.run(list(self.outputs), dict(feeds))))
        except Exception as exc:
            raise NetworkError(f"network forward pass failed: {first_line(exc)}") from None


# ---------------------------------------------------------------- OpenVINO

class OpenVINOEngine(Engine):
    """The converted ONNX on OpenVINO. `precision` is read back from the compiled model:
    the plugin ignores a hint it cannot honour, and "auto" is its own choice (the CPU's
    "auto" is resolved before, in pose.runtime.select).

    The input keeps its free height and width: measured on the 2-core Sapphire Rapids,
    static shapes were no faster for bf16 (0.143 s against 0.135 s at 368x368) and would
    need a recompile for every new image size. Compiled blobs are cached in `cache_dir`
    (OpenVINO's CACHE_DIR), so a second start skips compilation.
    """

    name = "openvino"

    def __init__(self, path: Path, device: str = "CPU", precision: str = "auto", threads: Optional[int] = None,
                 cache_dir: Optional[Path] = None, throughput: bool = False):
        import openvino as ov

        config = {"PERFORMANCE_HINT": "THROUGHPUT" if throughput else "LATENCY"}
        if precision != "auto":
            config["INFERENCE_PRECISION_HINT"] = precision  # OpenVINO takes our names as they are
        if threads and device == "CPU":
            config["INFERENCE_NUM_THREADS"] = int(threads)
        if cache_dir is not None:
            config["CACHE_DIR"] = str(cache_dir)
        try:
            # A path, not a read model: with a warm cache the 200 MB ONNX is not even parsed.
            self.compiled = ov.Core().compile_model(str(path), device, config)
        except Exception as exc:  # OpenVINO raises RuntimeError with a multi-line C++ trace
            raise NetworkError(f"OpenVINO could not load {display_path(path)} on {device}: {first_line(exc)}",
                               EXIT_USAGE) from None
        self.precision = _ov_precision(self.compiled.get_property("INFERENCE_PRECISION_HINT"))
        if precision != "auto" and self.precision != precision:  # the plugin ignores what it cannot do
            log.warning(f"--precision {precision}: OpenVINO runs {self.precision} on this {device}")
        self.requests = int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")) if throughput else 1
        streams = f", {self.requests} requests in flight" if self.requests > 1 else ""
        self.label = f"OpenVINO {ov.get_version().split('-')[0]} ({device}, {self.precision}{streams})"
        self.inputs = tuple(port.any_name for port in self.compiled.inputs)
        self.outputs = tuple(_graph_name(port) for port in self.compiled.outputs)
        self._sync = self.compiled.create_infer_request()
        # Asynchronous requests: a request that finishes is reused at once, whichever it
        # is. Waiting for the oldest instead would leave a stream idle whenever another
        # thread (the video tool's decoding) delays the stream running the oldest frame.
        self._pool = [self.compiled.create_infer_request() for _ in range(self.requests)]
        self._finished: "queue.SimpleQueue[int]" = queue.SimpleQueue()  # request indices, from OpenVINO's threads
        for index, request in enumerate(self._pool):
            request.set_callback(self._finished.put, index)
        self._free: Deque[int] = deque(range(self.requests))
        self._running: dict = {}  # request index -> submission number
        self._order: Deque[Tuple[int, Any]] = deque()  # (submission number, tag), oldest first
        self._results: dict = {}  # submission number -> output, or the exception it raised
        self._count = 0

    def forward(self, blob: np.ndarray) -> np.ndarray:
        try:
            # share_inputs=True would let OpenVINO later write other inputs into the caller's array.
            return self._sync.infer({0: blob}, share_inputs=False)[0]
        except Exception as exc:
            raise NetworkError(f"network forward pass failed: {first_line(exc)}") from None

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        try:
            result = self._sync.infer(dict(feeds), share_inputs=False)
        except Exception as exc:
            raise NetworkError(f"network forward pass failed: {first_line(exc)}") from None
        return {name: result[k] for k, name in enumerate(self.outputs)}

    def submit(self, blob: np.ndarray, tag: Any = None) -> None:
        while not self._free:
            self._reap(block=True)  # any request: results are put back in order by collect
        index = self._free.popleft()
        try:
            self._pool[index].start_async({0: blob}, share_inputs=False)  # copied: the caller refills blob
        except Exception as exc:
            self._free.append(index)
            raise NetworkError(f"network forward pass failed: {first_line(exc)}") from None
        self._running[index] = self._count
        self._order.append((self._count, tag))
        self._count += 1

    def collect(self, wait: bool = False) -> List[Tuple[Any, np.ndarray]]:
        while True:  # what finished meanwhile
            try:
                self._reap(block=False)
            except queue.Empty:
                break
        while wait and self._running:
            self._reap(block=True)
        done = []
        while self._order and self._order[0][0] in self._results:
            number, tag = self._order[0]
            if isinstance(self._results[number], BaseException):
                if done:  # hand over the frames before it first; it raises on the next call
                    break
                self._order.popleft()
                raise NetworkError(f"network forward pass failed: {first_line(self._results.pop(number))}")
            self._order.popleft()
            done.append((tag, self._results.pop(number)))
        return done

    def _reap(self, block: bool) -> None:
        """Take one finished request's output (queue.Empty when none has finished and not
        `block`) and free the request."""
        while True:
            try:
                index = self._finished.get(block=block, timeout=0.5 if block else None)
                break
            except queue.Empty:
                if not block:
                    raise
                # A request that failed may not have called back: its wait_for raises.
                failed = next((i for i in self._running if self._failed(i)), None)
                if failed is not None:
                    index = failed
                    break
        request = self._pool[index]
        number = self._running.pop(index)
        try:
            request.wait()  # raises what the inference raised
            self._results[number] = request.get_output_tensor(0).data.copy()
        except BaseException as exc:
            # Recorded whatever it is, so the frames after it are not stuck behind it;
            # an interruption (Ctrl-C) still goes on up.
            self._results[number] = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            self._free.append(index)

    def _failed(self, index: int) -> bool:
        try:
            self._pool[index].wait_for(0)
            return False
        except Exception:
            return True


def _graph_name(port: Any) -> str:
    """The name the model file gives an output. A compiled output carries every name its
    tensor had (an Identity folded away leaves two: `any_name` may be the inner one); the
    Result node keeps the file's, as "<name>/sink_port_0"."""
    names = port.get_names()
    result = port.get_node().get_friendly_name().rsplit("/sink_port_", 1)[0]
    return result if result in names else port.any_name


def _ov_precision(value: Any) -> str:
    """OpenVINO's element type (Type.bf16, 'bf16', ...) as this project names it."""
    name = getattr(value, "get_type_name", lambda: str(value))()
    return {"bf16": "bf16", "bfloat16": "bf16", "f16": "f16", "float16": "f16"}.get(name, "f32")
