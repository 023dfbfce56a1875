"""Choosing the engine, device and precision once (pose.runtime.select.plan): the auto rule,
the GPU fallback chain without a GPU, broken installs, precision reporting, the caches."""
import os
import queue
import subprocess
import sys
import time
import types
from collections import deque
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose.core.errors import NetworkError
from pose.families.openpose.estimator import PoseEstimator
from pose.families.openpose.net.load import open_plan
from pose.families.openpose.spec import MODELS
from pose.runtime import cpu, device
from pose.runtime import select as engines
from tests.support import open_nets
from tests.support.cli_tools import SCRIPTS, make_image
from tests.support.nets import write_model

ROOT = Path(__file__).resolve().parent.parent
HAS_OV = engines.importable("openvino") and engines.importable("onnx")
needs_openvino = pytest.mark.skipif(not HAS_OV, reason="openvino is not installed")


@pytest.fixture
def imports(monkeypatch):
    """Pretend modules are missing or broken: imports(onnxruntime="not installed")."""
    def set_state(**states):
        for module, state in states.items():
            monkeypatch.setitem(engines._IMPORTS, module, state)
    return set_state


@pytest.fixture
def no_gpu(monkeypatch):
    """No CUDA in OpenCV, no CUDA provider in onnxruntime, no GPU for OpenVINO."""
    monkeypatch.setattr(engines, "cuda_available", lambda: False)
    if engines.importable("onnxruntime"):
        import onnxruntime
        monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    if engines.importable("openvino"):
        import openvino

        class CpuOnly:
            available_devices = ["CPU"]
        monkeypatch.setattr(openvino, "Core", CpuOnly)


# ---------------------------------------------------------------- the auto rule

def test_auto_on_the_cpu_follows_the_measured_order(imports, pose_warnings):
    imports(openvino=None, onnxruntime=None, onnx=None)
    assert engines.plan().engine == "openvino"
    imports(openvino="not installed")
    assert engines.plan().engine == "onnxruntime"
    imports(onnxruntime="not installed")
    expected = "caffe" if engines.has_caffe_importer() else "onnx"
    assert engines.plan().engine == expected
    assert pose_warnings() == []  # what is simply not installed is no news


def test_bf16_and_f16_on_the_cpu_need_openvino(imports):
    imports(openvino=None, onnx=None)
    assert engines.plan(precision="bf16") == engines.Plan("openvino", "cpu", "bf16")
    imports(openvino="not installed")
    with pytest.raises(NetworkError, match=r"--precision f16 on the CPU needs OpenVINO: openvino is not installed"):
        engines.plan(precision="f16")
    with pytest.raises(NetworkError, match=r"onnxruntime cannot run bf16 on cpu; only openvino can") as err:
        engines.plan("onnxruntime", precision="bf16")
    assert err.value.exit_code == 2


def test_a_broken_engine_is_skipped_by_auto_with_a_warning_and_refused_by_name(imports, pose_warnings):
    broken = "installed but fails to import (libopenvino.so.2541: cannot open shared object file)"
    imports(openvino=broken, onnxruntime=None, onnx=None)
    assert engines.plan().engine == "onnxruntime"
    assert pose_warnings() == [f"--engine auto: openvino is {broken}; skipping openvino"]
    with pytest.raises(NetworkError) as err:
        engines.plan("openvino")
    assert str(err.value) == f"--engine openvino: openvino is {broken} (pip install -r requirements.txt)"
    assert err.value.exit_code == 2


def test_broken_onnxruntime_import_through_the_real_tool(tmp_path, model_dir):
    """An onnxruntime whose import fails (a stub package first on sys.path): auto falls back
    with one warning, --engine onnxruntime fails with one line, neither with a traceback."""
    stub = tmp_path / "stub" / "onnxruntime"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('libonnxruntime.so.1: cannot open shared object file')\n")
    proto, weights = write_model(model_dir, MODELS["MPI_4"])
    image = make_image(tmp_path / "a.png")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'stub'}{os.pathsep}{ROOT}"}
    base = [sys.executable, str(ROOT / SCRIPTS["image"]), "--image_file", str(image), "--mode", "MPI_4",
            "--proto", str(proto), "--weights", str(weights), "--net_resolution", "-1x64",
            "--output_dir", str(tmp_path / "out")]
    auto = subprocess.run(base + ["--engine", "auto", "--precision", "f32"], env=env, capture_output=True, text=True)
    explicit = subprocess.run(base + ["--engine", "onnxruntime"], env=env, capture_output=True, text=True)
    assert explicit.returncode == 2 and "Traceback" not in explicit.stderr
    assert explicit.stderr.strip() == ("get_hpe_image.py: error: --engine onnxruntime: onnxruntime is installed but "
                                       "fails to import (libonnxruntime.so.1: cannot open shared object file) "
                                       "(pip install -r requirements.txt)")
    assert auto.returncode == 0, auto.stderr
    if HAS_OV:  # openvino comes first: the broken onnxruntime is never needed, so no warning
        assert "openvino" in auto.stdout.lower() and auto.stderr == ""
    else:
        assert auto.stderr.count("warning:") == 1 and "skipping onnxruntime" in auto.stderr


# ---------------------------------------------------------------- devices

def test_gpu_without_any_gpu_route_falls_back_with_one_warning_naming_each(no_gpu, pose_warnings):
    chosen = engines.plan(device="gpu")
    assert chosen.device == "cpu"
    warnings = pose_warnings()
    assert len(warnings) == 1 and warnings[0].endswith("; running on the CPU")
    for missing in ("this OpenCV has no CUDA", "onnxruntime has no CUDA provider (pip install -r requirements-gpu.txt)",
                    "OpenVINO sees no GPU"):
        if missing.startswith("this OpenCV") or engines.importable(missing.split()[0].lower()):
            assert missing in warnings[0]


def test_gpu_routes_in_order(monkeypatch, no_gpu, pose_warnings):
    monkeypatch.setattr(engines, "cuda_available", lambda: True)
    chosen = engines.plan(device="gpu", precision="f16")
    assert (chosen.device, chosen.placement.target) == ("cuda", cv2.dnn.DNN_TARGET_CUDA_FP16)
    assert chosen.engine in ("caffe", "onnx") and chosen.can_run()
    assert engines.plan(device="auto").placement.target == cv2.dnn.DNN_TARGET_CUDA
    monkeypatch.setattr(engines, "cuda_available", lambda: False)
    if engines.importable("onnxruntime"):
        import onnxruntime
        monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
        assert engines.plan(device="gpu") == engines.Plan("onnxruntime", "cuda", "auto")
        monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    if engines.importable("openvino"):
        import openvino

        class WithGpu:
            available_devices = ["CPU", "GPU.0"]
        monkeypatch.setattr(openvino, "Core", WithGpu)
        assert engines.plan(device="gpu") == engines.Plan("openvino", "gpu", "auto")
    assert pose_warnings() == []


def test_auto_device_without_a_gpu_is_the_cpu_silently(no_gpu, pose_warnings):
    assert engines.plan(device="auto").device == "cpu"
    assert pose_warnings() == []


def test_opencl_works_or_falls_back(pose_warnings):
    chosen = engines.plan("auto", "opencl")
    if device.opencl_available():
        assert chosen.placement.target == cv2.dnn.DNN_TARGET_OPENCL and not pose_warnings()
    else:
        assert chosen.device == "cpu" and len(pose_warnings()) == 1 and "OpenCL" in pose_warnings()[0]


def test_unknown_values_are_usage_errors():
    for kwargs, text in (({"engine": "tensorrt"}, "unknown engine 'tensorrt'"), ({"device": "tpu"}, "unknown device"),
                         ({"precision": "int4"}, "unknown precision 'int4'")):
        with pytest.raises(ValueError, match=text):
            engines.plan(**kwargs)
    assert engines.parse_precision("FP16") == "f16"


# ---------------------------------------------------------------- precision and caches

@needs_openvino
def test_precision_is_reported_and_f32_gives_the_f32_maps(model_dir, tmp_path):
    spec = MODELS["MPI_4"]
    proto, weights = write_model(model_dir, spec)
    image = np.random.default_rng(0).integers(0, 256, (48, 64, 3), np.uint8)
    f32 = PoseEstimator(spec, proto=proto, weights=weights, net_resolution="-1x64", engine="openvino", precision="f32")
    ref = PoseEstimator(spec, proto=proto, weights=weights, net_resolution="-1x64", engine="onnx")
    auto = PoseEstimator(spec, proto=proto, weights=weights, net_resolution="-1x64")
    assert f32.precision == "f32" and "f32" in f32.engine_label
    assert auto.engine == "openvino" and auto.precision == ("bf16" if cpu.bf16_pays() else "f32")
    assert f"{auto.precision}" in auto.engine_label
    exact = np.abs(f32.forward(image).maps - ref.forward(image).maps).max()
    assert exact < 1e-4
    if auto.precision == "bf16":  # bf16 keeps 8 bits of mantissa: close, never equal
        rough = np.abs(auto.forward(image).maps - ref.forward(image).maps).max()
        assert 1e-4 < rough < 0.1


@needs_openvino
def test_openvino_compiled_cache_is_reused_and_follows_the_weights(tmp_path):
    spec = MODELS["MPI_4"]
    proto, weights = write_model(tmp_path / "m", spec, seed=1)
    cache = tmp_path / "m" / "openvino" / "cpu-f32-latency"
    t0 = time.perf_counter()
    open_nets.open_engine("openvino", spec, 4, weights)
    first = time.perf_counter() - t0
    blobs = sorted(p.name for p in cache.iterdir())
    assert blobs, "the compiled model was not cached beside the ONNX"
    open_nets.open_engine("openvino", spec, 4, weights)
    assert sorted(p.name for p in cache.iterdir()) == blobs  # reused, nothing new
    # Other weights under the same name: another ONNX, so another compiled blob.
    _, other = write_model(tmp_path / "other", spec, seed=2)
    os.replace(other, weights)
    open_nets.open_engine("openvino", spec, 4, weights)
    assert len(list(cache.iterdir())) > len(blobs)
    assert first > 0


@needs_openvino
def test_async_requests_keep_frame_order(model_dir):
    spec = MODELS["MPI_4"]
    _, weights = write_model(model_dir, spec)
    plan = engines.Plan("openvino", "cpu", "f32")
    net = open_plan(plan, spec, 4, weights, throughput=True)
    rng = np.random.default_rng(3)
    blobs = [rng.uniform(-0.5, 0.5, (1, 3, 32, 48)).astype(np.float32) for _ in range(7)]
    expected = [net.forward(b) for b in blobs]
    buf = np.empty_like(blobs[0])
    got = []
    for k, b in enumerate(blobs):
        buf[...] = b  # refilled at once: submit must not keep a reference
        net.submit(buf, k)
        got += net.collect()
    got += net.collect(wait=True)
    assert [tag for tag, _ in got] == list(range(7))
    assert all(np.array_equal(out, expected[tag]) for tag, out in got)


@pytest.mark.parametrize("flags, expected", [
    ({"amx_tile", "amx_bf16", "avx512_bf16", "avx512f"}, "bf16"),
    ({"avx512_bf16", "avx512f", "avx2"}, "f32"),  # OpenVINO's own default, bf16, is slower there
    ({"avx512f", "avx2"}, "f32"),
    ({"avx2"}, "f32"),
    (set(), "auto")])  # flags unknown (not Linux): OpenVINO decides
def test_auto_precision_on_the_cpu_is_bf16_only_where_it_is_faster(monkeypatch, flags, expected):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(cpu, "flags", lambda: frozenset(flags))
    assert engines.cpu_precision("auto") == expected
    assert engines.cpu_precision("f16") == "f16"  # asked for: passed on as it is


@pytest.mark.parametrize("cap, expected", [
    ("avx2", {"avx2"}), ("AVX512_CORE_VNNI", {"avx2", "avx512f"}),
    ("AVX512_CORE_BF16", {"avx2", "avx512f", "avx512_bf16"}), ("ALL", None), ("", None), ("NOT_AN_ISA", None)])
def test_an_isa_cap_holds_the_flags_and_the_precision_back(monkeypatch, cap, expected):
    """ONEDNN_MAX_CPU_ISA makes the engines run as on an older CPU, so auto chooses as for
    that CPU; OpenVINO, which reads the CPU's own flags, is never asked for a precision the
    cap forbids (it would fail to compile)."""
    amx = "amx_tile amx_bf16 avx512_bf16 avx512_fp16 avx512f avx2 sse4_2"
    monkeypatch.setattr(cpu, "_cpuinfo", lambda: {"model name": "Test CPU", "flags": amx})
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    full = frozenset(amx.split()) & frozenset(cpu.SPEED_FLAGS)
    assert cpu.flags() == (full if expected is None else expected)
    assert ("ONEDNN_MAX_CPU_ISA" in cpu.describe()) == (expected is not None)
    assert engines.cpu_precision("auto") == ("bf16" if expected is None else "f32")
    if expected == {"avx2"}:
        assert engines.cpu_precision("bf16") == engines.cpu_precision("f16") == "f32"
    if expected and "avx512_bf16" in expected:
        assert engines.cpu_precision("bf16") == "bf16" and engines.cpu_precision("f16") == "f32"


@needs_openvino
def test_auto_precision_runs_f32_with_avx512_bf16_alone(model_dir, monkeypatch):
    # On this machine's real hardware OpenVINO would pick its default; the flags say
    # AVX512-BF16 without AMX, so auto must ask it for f32, and the compiled model is
    # cached under the precision that ran.
    monkeypatch.setattr(cpu, "flags", lambda: frozenset({"avx512_bf16", "avx512f", "avx2"}))
    spec = MODELS["MPI_4"]
    proto, weights = write_model(model_dir, spec)
    est = PoseEstimator(spec, proto=proto, weights=weights, net_resolution="-1x64")
    assert est.engine == "openvino" and est.precision == "f32"
    assert (weights.parent / "openvino" / "cpu-f32-latency").is_dir()


class _FakeRequest:
    """An OpenVINO infer request whose runs finish when the test says so."""

    def __init__(self, log):
        self.log, self.callback, self.blob, self.error = log, None, None, None

    def set_callback(self, callback, userdata):
        self.callback, self.userdata = callback, userdata

    def start_async(self, inputs, share_inputs=False):
        self.blob, self.error = inputs[0].copy(), None
        self.log.append(("start", float(self.blob[0])))

    def finish(self, error=None, call_back=True):
        self.error = error
        if call_back:
            self.callback(self.userdata)

    def wait(self):
        if self.error:
            raise RuntimeError(self.error)

    def wait_for(self, ms):
        self.wait()
        return True

    def get_output_tensor(self, i):
        return types.SimpleNamespace(data=self.blob * 10)


def _fake_openvino(requests: int):
    from pose.runtime.backends import OpenVINOEngine
    net = object.__new__(OpenVINOEngine)
    log = []
    net.requests = requests
    net._pool = [_FakeRequest(log) for _ in range(requests)]
    net._finished = queue.SimpleQueue()
    for index, request in enumerate(net._pool):
        request.set_callback(net._finished.put, index)
    net._free, net._running, net._order, net._results, net._count = deque(range(requests)), {}, deque(), {}, 0
    return net, log


def test_a_free_request_is_reused_whichever_finished_and_results_keep_their_order():
    net, log = _fake_openvino(2)
    net.submit(np.array([0.0]), "a")
    net.submit(np.array([1.0]), "b")
    net._pool[1].finish()  # the newer frame finishes first
    assert net.collect() == []  # "a" is still running: nothing handed out of order
    net.submit(np.array([2.0]), "c")  # runs on request 1 at once, not after "a"
    assert log[-1] == ("start", 2.0) and net._running == {0: 0, 1: 2}
    net._pool[0].finish()
    assert [(tag, out.tolist()) for tag, out in net.collect()] == [("a", [0.0]), ("b", [10.0])]
    net._pool[1].finish()
    assert [(tag, out.tolist()) for tag, out in net.collect(wait=True)] == [("c", [20.0])]


def test_a_failed_request_is_one_line_in_its_turn_even_without_a_callback():
    net, _ = _fake_openvino(1)
    net.submit(np.array([0.0]), "a")
    net._pool[0].finish(error="device lost\nC++ trace", call_back=False)
    with pytest.raises(NetworkError, match="^network forward pass failed: device lost$"):
        net.collect(wait=True)
    assert list(net._free) == [0]  # the request is free again


def test_frames_before_a_failed_one_are_handed_over_first():
    net, _ = _fake_openvino(2)
    net.submit(np.array([0.0]), "a")
    net.submit(np.array([1.0]), "b")
    net._pool[0].finish()
    net._pool[1].finish(error="device lost")
    assert [tag for tag, _ in net.collect(wait=True)] == ["a"]  # not lost with the failure
    with pytest.raises(NetworkError, match="device lost"):
        net.collect()
    assert net.collect(wait=True) == [] and sorted(net._free) == [0, 1]


def test_abandon_leaves_nothing_in_flight_for_the_next_video():
    # A video that fails with frames in the network must not leave them to the next one,
    # whose tags start at 0 again (batches reuse one estimator).
    net, _ = _fake_openvino(2)
    est = types.SimpleNamespace(net=net, _partial={"stale": []})
    net.submit(np.array([0.0]), 0)
    net.submit(np.array([1.0]), 1)
    net._pool[0].finish(error="device lost")
    net._pool[1].finish()
    PoseEstimator.abandon(est)
    assert est._partial == {} and not net._order and not net._results and sorted(net._free) == [0, 1]
    net.submit(np.array([5.0]), 0)
    net._pool[0].finish()
    assert [(tag, out.tolist()) for tag, out in net.collect(wait=True)] == [(0, [50.0])]


def test_float16_graph_for_onnxruntime_cuda_matches_f32(model_dir):
    """onnxruntime's CUDA provider runs f16 from a float16 graph. No GPU here, so the graph
    is checked for validity and run by cv2.dnn (which computes it in f32 from the f16
    weights): the result differs from f32 by weight rounding only."""
    onnx = pytest.importorskip("onnx")
    from pose.families.openpose.net import convert
    spec = MODELS["MPI_4"]
    _, weights = write_model(model_dir, spec)
    f32, f16 = convert.onnx_for(weights, spec), convert.onnx_for(weights, spec, half=True)
    assert f16 != f32 and f16.name.endswith(".s4.f16.onnx")
    model = onnx.load(str(f16))
    onnx.checker.check_model(model)
    assert {i.data_type for i in model.graph.initializer} == {onnx.TensorProto.FLOAT16}
    assert [n.op_type for n in model.graph.node][::len(model.graph.node) - 1] == ["Cast", "Cast"]
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # callers still pass f32
    blob = np.random.default_rng(5).uniform(-0.5, 0.5, (1, 3, 48, 64)).astype(np.float32)
    ref = cv2.dnn.readNetFromONNX(str(f32))
    ref.setInput(blob)
    half = cv2.dnn.readNetFromONNX(str(f16))
    half.setInput(blob)
    a, b = ref.forward(), half.forward()
    assert a.shape == b.shape == (1, 44, 6, 8)
    assert 0 < np.abs(a - b).max() < 0.02 * np.abs(a).max()
    chosen = engines.Plan("onnxruntime", "cuda", "f16")
    assert chosen.can_run() and not engines.Plan("onnxruntime", "cpu", "f16").can_run()


@needs_openvino
def test_each_precision_runs_its_own_compiled_model(tmp_path):
    """OpenVINO 2026.4's cache key does not tell an f16 compile from an f32 one: with one
    cache folder a later f16 run loaded the f32 blob and ran f32 under an f16 label. Each
    precision must compile into, and load from, its own folder, on every CPU."""
    spec = MODELS["MPI_4"]
    _, weights = write_model(tmp_path, spec, seed=4)
    cache = weights.parent / "openvino"
    # Named by what OpenVINO is asked for: f16 itself, unless ONEDNN_MAX_CPU_ISA holds
    # this CPU below it (then f32 is asked for and shares f32's blob, rightly).
    folders = {p: cache / f"cpu-{engines.cpu_precision(p)}-latency" for p in ("f32", "f16")}
    blobs = {}
    for precision in ("f32", "f16"):
        open_nets.open_engine("openvino", spec, 4, weights, precision=precision)
        blobs[precision] = {p.name for p in folders[precision].iterdir()}
    assert blobs["f32"] and blobs["f16"] and set(cache.iterdir()) == set(folders.values())
    # Opened again, each precision loads its own blob and compiles nothing new.
    for precision in ("f16", "f32"):
        open_nets.open_engine("openvino", spec, 4, weights, precision=precision)
        assert {p.name for p in folders[precision].iterdir()} == blobs[precision]


@needs_openvino
def test_f16_really_computes_in_f16_where_the_cpu_can(model_dir):
    """Where OpenVINO runs f16 on this CPU (it reports the precision it compiled), an f16
    engine loaded after an f32 one gives f16 numbers. Most CPUs (no AVX512-FP16 or AMX-FP16,
    or held below them by ONEDNN_MAX_CPU_ISA) run f16 as f32 and cannot show it."""
    spec = MODELS["MPI_4"]
    _, weights = write_model(model_dir, spec, seed=4)
    blob = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 3, 64, 64)).astype(np.float32)
    f32 = open_nets.open_engine("openvino", spec, 4, weights, precision="f32")
    f16 = open_nets.open_engine("openvino", spec, 4, weights, precision="f16")
    if f16.precision != "f16":
        pytest.skip(f"OpenVINO runs f16 as {f16.precision} on {cpu.describe()}")
    assert 1e-5 < np.abs(f16.forward(blob) - f32.forward(blob)).max() < 0.05
