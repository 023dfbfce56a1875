"""Choosing where and with what the network runs, once: `plan(engine, device, precision)`
resolves every "auto", falls back with one warning where something is missing, and
`open_onnx` (or `open_caffe`) loads a model file as planned.

The rule for `--engine auto` (measured: benchmarks/RESULTS_engines.md, from
`python -m benchmarks.engine_choice`):
- CPU: openvino, then onnxruntime, then caffe (OpenCV 4), then onnx (cv2.dnn), on every
  kind of CPU. OpenVINO runs bf16 where the CPU has AMX, 0.11 s against 0.96 s
  (onnxruntime) and 2.0 s (cv2.dnn Caffe) per 368x368 frame on a 2-core Sapphire Rapids;
  in f32 (every CPU without AMX, see pose.runtime.cpu.bf16_pays) it and onnxruntime are
  within 2-4% (OpenVINO ahead on AVX-512 emulated there, on a real AVX2-only AMD EPYC, and
  with another process busy on a core), both about twice cv2.dnn. A timing at first use
  was rejected: on a shared 2-core machine it would follow the neighbours' load.
- bf16 or f16 asked for on the CPU: only OpenVINO can, so openvino.
- GPU (--device gpu): cv2.dnn CUDA when this OpenCV has it, else onnxruntime-gpu's CUDA
  provider, else OpenVINO's GPU device (Intel GPUs), else the CPU with one warning that
  names what was missing.
An engine that is installed but fails to import (a missing shared library) is skipped
by auto with one warning; asked for by name it fails with one line.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2

from pose.core.errors import EXIT_USAGE, NetworkError, UsageError
from pose.core.paths import cache_dir
from pose.core.quiet import import_quietly
from pose.runtime import cpu
from pose.runtime.backends import (
    Engine,
    OnnxRuntimeEngine,
    OpenCVEngine,
    OpenVINOEngine,
    TFLiteOpenCVEngine,
    first_line,
    has_caffe_importer,
    load_caffe,
    load_onnx_cv2,
    load_tflite_cv2,
    set_opencv_threads,
)
from pose.runtime.device import CPU, Placement, cuda_available, opencl_available, parse_device

ENGINES = ("auto", "openvino", "onnxruntime", "caffe", "onnx")
PRECISIONS = ("auto", "f32", "bf16", "f16")
CPU_ORDER = ("openvino", "onnxruntime", "caffe", "onnx")
# Which precisions each engine can run where (auto is always allowed: the engine's native one).
_CAN = {
    ("openvino", "cpu"): {"f32", "bf16", "f16"}, ("openvino", "gpu"): {"f32", "f16"},
    ("onnxruntime", "cpu"): {"f32"}, ("onnxruntime", "cuda"): {"f32", "f16"},
    ("caffe", "cpu"): {"f32"}, ("caffe", "cuda"): {"f32", "f16"}, ("caffe", "opencl"): {"f32", "f16"},
    ("onnx", "cpu"): {"f32"}, ("onnx", "cuda"): {"f32", "f16"}, ("onnx", "opencl"): {"f32", "f16"},
}
_INSTALL = {"openvino": "pip install -r requirements.txt", "onnxruntime": "pip install -r requirements.txt",
            "onnx": "pip install -r requirements.txt"}
_CV2_FP16_TARGETS = (cv2.dnn.DNN_TARGET_CUDA_FP16, cv2.dnn.DNN_TARGET_OPENCL_FP16)
log = logging.getLogger("pose")
_IMPORTS: Dict[str, Optional[str]] = {}  # module -> None when it imports, else why not
NOT_INSTALLED = "not installed"  # the one import problem that is no news to the user


def import_problem(module: str) -> Optional[str]:
    """Why `module` cannot be imported (not installed, or a broken install), None if it can.
    Importing is the only honest check: a wheel can be installed and still miss a library."""
    if module not in _IMPORTS:
        try:
            import_quietly(module)
            _IMPORTS[module] = None
        except ImportError as exc:
            missing = getattr(exc, "name", None) == module
            _IMPORTS[module] = NOT_INSTALLED if missing else f"installed but fails to import ({first_line(exc)})"
        except Exception as exc:  # a broken native extension can raise anything
            _IMPORTS[module] = f"installed but fails to import ({type(exc).__name__}: {first_line(exc)})"
    return _IMPORTS[module]


def importable(module: str) -> bool:
    return import_problem(module) is None


def parse_engine(text: str) -> str:
    """--engine's value, checked: one of ENGINES, any case."""
    name = str(text).strip().lower()
    if name not in ENGINES:
        raise UsageError(f"unknown engine {text!r}: choose one of {', '.join(ENGINES)}")
    return name


def parse_precision(text: str) -> str:
    """--precision's value, checked: one of PRECISIONS, any case (fp16/fp32 accepted)."""
    name = str(text).strip().lower().replace("fp", "f")
    if name not in PRECISIONS:
        raise UsageError(f"unknown precision {text!r}: choose one of {', '.join(PRECISIONS)}")
    return name


@dataclass(frozen=True)
class Plan:
    """What will run: an engine on a device at a precision ("auto": the engine's native one)."""

    engine: str  # openvino | onnxruntime | caffe | onnx
    device: str  # cpu | cuda | opencl | gpu (OpenVINO's GPU plugin)
    precision: str  # auto | f32 | bf16 | f16, as asked
    placement: Placement = CPU  # cv2.dnn's backend and target (caffe and onnx)

    def can_run(self) -> bool:
        return self.precision == "auto" or self.precision in _CAN.get((self.engine, self.device), set())


def _needs(engine: str) -> Tuple[str, ...]:
    """The Python modules an engine needs (the converted engines also need onnx)."""
    return {"openvino": ("onnx", "openvino"), "onnxruntime": ("onnx", "onnxruntime"),
            "caffe": (), "onnx": ("onnx",)}[engine]


def _missing(engine: str) -> Optional[str]:
    """Why `engine` cannot run on this install, None if it can."""
    if engine == "caffe" and not has_caffe_importer():
        return f"OpenCV {cv2.__version__} has no Caffe importer (removed in OpenCV 5)"
    for module in _needs(engine):
        problem = import_problem(module)
        if problem:
            return f"{module} is {problem}"
    return None


def available(device: str = "cpu") -> List[str]:
    """Engines this install can run on the CPU, fastest first (see the module's rule)."""
    return [name for name in CPU_ORDER if _missing(name) is None] if device == "cpu" else []


def _gpu_route(engine: str, precision: str) -> Tuple[Optional[Plan], List[str]]:
    """The first GPU route in the documented order that `engine` (or auto) allows, and why
    each earlier one was not taken."""
    why: List[str] = []
    if engine in ("auto", "caffe", "onnx"):
        if cuda_available():
            target = cv2.dnn.DNN_TARGET_CUDA_FP16 if precision == "f16" else cv2.dnn.DNN_TARGET_CUDA
            names = [engine] if engine != "auto" else ["caffe", "onnx"]
            name = next((n for n in names if _missing(n) is None), None)
            if name:
                return Plan(name, "cuda", precision, Placement(cv2.dnn.DNN_BACKEND_CUDA, target,
                                                               "cuda-fp16" if precision == "f16" else "cuda")), why
        why.append("this OpenCV has no CUDA (pip's opencv-python never has)")
    if engine in ("auto", "onnxruntime"):
        if importable("onnxruntime") and importable("onnx"):
            import onnxruntime
            if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                return Plan("onnxruntime", "cuda", precision), why
        why.append("onnxruntime has no CUDA provider (pip install -r requirements-gpu.txt)")
    if engine in ("auto", "openvino"):
        if importable("openvino") and importable("onnx"):
            import openvino
            if any(d.startswith("GPU") for d in openvino.Core().available_devices):
                return Plan("openvino", "gpu", precision), why
        why.append("OpenVINO sees no GPU")
    return None, why


def plan(engine: str = "auto", device: str = "cpu", precision: str = "auto") -> Plan:
    """Resolve --engine, --device and --precision into one Plan (the only place they are
    decided). Usage errors and impossible requests raise; fallbacks warn once."""
    engine, device, precision = parse_engine(engine), parse_device(device), parse_precision(precision)
    if engine != "auto":
        problem = _missing(engine)
        if problem:
            install = f" ({_INSTALL[engine]})" if engine in _INSTALL else ""
            raise NetworkError(f"--engine {engine}: {problem}{install}", EXIT_USAGE)
    chosen: Optional[Plan] = None
    if device in ("gpu", "auto"):
        chosen, why = _gpu_route(engine, precision)
        if chosen is None and device == "gpu":
            log.warning(f"--device gpu: {'; '.join(why)}; running on the CPU")
    elif device == "opencl":
        if engine in ("auto", "caffe", "onnx") and opencl_available():
            name = engine if engine != "auto" else next(n for n in ("caffe", "onnx") if _missing(n) is None)
            target = cv2.dnn.DNN_TARGET_OPENCL_FP16 if precision == "f16" else cv2.dnn.DNN_TARGET_OPENCL
            chosen = Plan(name, "opencl", precision, Placement(cv2.dnn.DNN_BACKEND_OPENCV, target,
                                                               "opencl-fp16" if precision == "f16" else "opencl"))
        else:
            log.warning("--device opencl: no OpenCL device is available to OpenCV"
                        + ("" if engine in ("auto", "caffe", "onnx") else f" (and --engine {engine} does not use it)")
                        + "; running on the CPU")
    if chosen is None:
        chosen = _cpu_plan(engine, precision)
    if not chosen.can_run():
        raise NetworkError(f"--precision {precision}: {chosen.engine} cannot run {precision} on {chosen.device}"
                           f"{'; only openvino can, on the CPU' if chosen.device == 'cpu' else ''}", EXIT_USAGE)
    return chosen


def _cpu_plan(engine: str, precision: str) -> Plan:
    if engine != "auto":
        return Plan(engine, "cpu", precision)
    names = available("cpu")
    if precision in ("bf16", "f16"):
        names = [n for n in names if precision in _CAN[(n, "cpu")]]
    for name in CPU_ORDER:  # say once why a faster engine was passed over
        if name in names:
            break
        for module in _needs(name):
            if import_problem(module) not in (None, NOT_INSTALLED):
                log.warning(f"--engine auto: {module} is {import_problem(module)}; skipping {name}")
                break
    if not names:
        if precision in ("bf16", "f16"):
            raise NetworkError(f"--precision {precision} on the CPU needs OpenVINO: {_missing('openvino')} "
                               "(pip install -r requirements.txt)", EXIT_USAGE)
        raise NetworkError(f"no engine can run here: OpenCV {cv2.__version__} has no Caffe importer and "
                           f"onnx is {import_problem('onnx')}: pip install -r requirements.txt", EXIT_USAGE)
    return Plan(names[0], "cpu", precision)


def _openvino_cache(path: Path, configuration: str) -> Optional[Path]:
    """OpenVINO's folder for compiled blobs of `path` in one configuration; None (compile
    every time) where nothing beside the file or in the user cache can be written."""
    folder = cache_dir(path)
    return None if folder is None else folder / "openvino" / configuration


def open_onnx(chosen: Plan, path: Path, threads: Optional[int] = None, throughput: bool = False,
              half: bool = False) -> Engine:
    """An ONNX file on the planned engine (any engine but caffe). `half`: the graph computes
    in float16 (onnxruntime runs f16 only from such a graph). Inputs and outputs are the
    file's own, by name (Engine.run); `forward` feeds the first and returns the first."""
    threads = set_opencv_threads(threads)
    if chosen.engine == "onnxruntime":
        return OnnxRuntimeEngine(path, threads, cuda=chosen.device == "cuda", half=half)
    if chosen.engine == "openvino":
        device = "GPU" if chosen.device == "gpu" else "CPU"
        # One cache folder per configuration: OpenVINO's own cache key, measured with
        # 2026.4, does not tell an f16 compile from an f32 one and would run the wrong blob.
        mode = "throughput" if throughput else "latency"
        precision = cpu_precision(chosen.precision) if device == "CPU" else chosen.precision
        cache = _openvino_cache(path, f"{device.lower()}-{precision}-{mode}")
        return OpenVINOEngine(path, device, precision, threads, cache, throughput)
    if chosen.engine == "caffe":
        raise ValueError("open_onnx: the caffe engine reads Caffe files (open_caffe)")
    cv2_precision = _cv2_precision(chosen)
    return OpenCVEngine(load_onnx_cv2(path, chosen.placement), "onnx",
                        f"OpenCV {cv2.__version__} dnn, ONNX ({chosen.placement.label}, {cv2_precision})", cv2_precision)


def open_tflite(chosen: Plan, path: Path, threads: Optional[int] = None) -> Engine:
    """A TFLite file on the planned engine, with the file's own inputs and outputs
    (Engine.run, NHWC as the file declares them): OpenVINO reads it directly (its CPU or
    GPU plugin; compiled blobs cached as for ONNX), cv2.dnn (the engine named onnx: OpenCV's
    DNN module) through its TFLite importer, which lacks some operators (it refuses
    BlazePose's detector: DENSIFY). onnxruntime and caffe read no TFLite: one line."""
    threads = set_opencv_threads(threads)
    if chosen.engine == "openvino":
        device = "GPU" if chosen.device == "gpu" else "CPU"
        precision = cpu_precision(chosen.precision) if device == "CPU" else chosen.precision
        cache = _openvino_cache(path, f"{device.lower()}-{precision}-latency")
        return OpenVINOEngine(path, device, precision, threads, cache)
    if chosen.engine == "onnx":
        cv2_precision = _cv2_precision(chosen)
        return TFLiteOpenCVEngine(load_tflite_cv2(path, chosen.placement), "onnx",
                                  f"OpenCV {cv2.__version__} dnn, TFLite ({chosen.placement.label}, {cv2_precision})",
                                  cv2_precision)
    raise NetworkError(f"--engine {chosen.engine} cannot read TFLite files ({path.name}): use openvino, or onnx "
                       "(cv2.dnn)", EXIT_USAGE)


def open_caffe(chosen: Plan, prototxt: Path, weights: Path, hint: Optional[str] = None,
               threads: Optional[int] = None) -> Engine:
    """A Caffe pair (deploy file and .caffemodel) on cv2.dnn, where the plan put it."""
    set_opencv_threads(threads)
    net = load_caffe(prototxt, weights, chosen.placement, hint)
    cv2_precision = _cv2_precision(chosen)
    return OpenCVEngine(net, "caffe", f"OpenCV {cv2.__version__} dnn, Caffe files "
                                      f"({chosen.placement.label}, {cv2_precision})", cv2_precision)


def _cv2_precision(chosen: Plan) -> str:
    # cv2.dnn computes in f16 exactly on its FP16 targets (CUDA, OpenCL).
    return "f16" if chosen.placement.target in _CV2_FP16_TARGETS else "f32"


def cpu_precision(precision: str) -> str:
    """What OpenVINO is asked for on the CPU: `precision`, or for "auto" bf16 where it is
    the faster one (with AMX: pose.runtime.cpu.bf16_pays) and f32 on every other CPU whose
    flags are known: OpenVINO's own default is a slower bf16 with AVX512-BF16 alone, and
    one that fails to compile where ONEDNN_MAX_CPU_ISA holds an AMX CPU below bf16. Where
    the flags cannot be read (not Linux), "auto" stays OpenVINO's own choice."""
    if precision in ("bf16", "f16") and cpu.isa_cap() and not cpu.flags() & cpu.HARDWARE[precision]:
        # OpenVINO would plan for the CPU's own flags and fail to compile under the cap.
        log.warning(f"--precision {precision}: OpenVINO runs f32 on this CPU (ONEDNN_MAX_CPU_ISA={cpu.isa_cap()})")
        return "f32"
    if precision != "auto":
        return precision
    if cpu.bf16_pays():
        return "bf16"
    return "f32" if cpu.flags() else "auto"


__all__ = ["CPU_ORDER", "ENGINES", "PRECISIONS", "Plan", "available", "cpu", "import_problem", "importable",
           "open_caffe", "open_onnx", "open_tflite", "parse_engine", "parse_precision", "plan"]
