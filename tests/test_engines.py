"""Engines (caffe, onnx, onnxruntime) and the Caffe -> ONNX converter on narrow random nets."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose.core import files, paths
from pose.core.errors import NetworkError
from pose.families.openpose.estimator import PoseEstimator
from pose.families.openpose.net import convert as convert_module
from pose.families.openpose.net import onnx_export
from pose.families.openpose.net.architecture import build_layers
from pose.families.openpose.preprocess import prepare_input
from pose.families.openpose.spec import MODELS
from pose.runtime import select as engines
from pose.runtime.backends import cpu_cores, forward, load_caffe
from pose.runtime.caffemodel import _LAYER_V1, _NET_LAYERS_V1, _key, _len_field, _varint, write_caffemodel
from tests.support import open_nets
from tests.support.nets import reference_forward, requires_caffe, write_model
from tests.support.random_weights import random_weights

HAS_CAFFE = engines.has_caffe_importer()
HAS_ORT = engines.importable("onnxruntime")
HAS_OV = engines.importable("openvino")
ONNX_ENGINES = ["onnx", pytest.param("onnxruntime", marks=pytest.mark.skipif(not HAS_ORT, reason="no onnxruntime")),
                pytest.param("openvino", marks=pytest.mark.skipif(not HAS_OV, reason="no openvino"))]
TOLERANCE = 1e-4
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytest.importorskip("onnx")


def _blob(w=64, h=48, seed=1):
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (1, 3, h, w)).astype(np.float32)


_REFERENCES = {}


def _reference(spec, stages, weights_path, proto, blob):
    """The Caffe route where this OpenCV has it, else an independent NumPy forward pass
    (seconds for a 6-stage net, so each is computed once)."""
    if HAS_CAFFE:
        return forward(load_caffe(proto, weights_path), blob)
    key = (str(weights_path), str(proto), blob.tobytes())
    if key not in _REFERENCES:
        from pose.runtime.caffemodel import read_caffemodel
        _REFERENCES[key] = reference_forward(onnx_export.read_prototxt(proto)[1], read_caffemodel(weights_path), blob)
    return _REFERENCES[key]


def _assert_close(ours, ref):
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() <= TOLERANCE * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("engine", ONNX_ENGINES)
@pytest.mark.parametrize("name,stages,size", [
    ("COCO", 1, (64, 48)), ("COCO", 3, (64, 48)), ("COCO", 6, (64, 48)), ("MPI", 2, (64, 48)),
    ("MPI_4", 4, (64, 48)), ("BODY_25", 5, (64, 48)), ("BODY_25", 6, (64, 48)), ("BODY_25", 6, (96, 56)),
])
def test_engine_agrees_with_caffe_route(engine, name, stages, size, model_dir):
    spec = MODELS[name]
    proto, weights = write_model(model_dir, spec, stages=stages)
    blob = _blob(*size)
    ref = _reference(spec, stages, weights, proto, blob)
    net = open_nets.open_engine(engine, spec, stages, weights)
    assert net.name == engine
    out = net.forward(blob)
    assert out.shape == (1, spec.n_channels, size[1] // 8, size[0] // 8)
    _assert_close(out, ref)
    assert out.std() > 0.01  # a real, non-constant output


@requires_caffe
@pytest.mark.parametrize("engine", ONNX_ENGINES)
def test_sides_not_multiple_of_8_pool_like_caffe(engine, model_dir):
    """Caffe rounds pooled sizes up (44 -> 22 -> 11 -> 6); ceil_mode pooling must too."""
    spec = MODELS["COCO"]
    proto, weights = write_model(model_dir, spec, stages=2)
    blob = _blob(60, 44)
    out = open_nets.open_engine(engine, spec, 2, weights).forward(blob)
    assert out.shape == (1, 57, 6, 8)
    _assert_close(out, forward(load_caffe(proto, weights), blob))


@requires_caffe
@pytest.mark.parametrize("name,stages", [("COCO", 2), ("BODY_25", 5), ("BODY_25", 6)])
def test_caffe_engine_is_the_caffe_route(name, stages, model_dir):
    spec = MODELS[name]
    proto, weights = write_model(model_dir, spec, stages=stages)
    blob = _blob()
    net = open_nets.open_engine("caffe", spec, stages, weights, proto)
    np.testing.assert_array_equal(net.forward(blob), forward(load_caffe(proto, weights), blob))


@pytest.mark.parametrize("name, convs, prelus", [
    ("MPI_4", 12 + 2 * 5 + 3 * 2 * 7, 0),
    ("BODY_25", 12 + 6 * (5 * 3 + 2), 3 + 6 * (5 * 3 + 1)),  # 3 in the front, all but Mconv7 after it
])
def test_converted_model_is_valid_onnx_with_free_input_size(name, convs, prelus, model_dir):
    import onnx

    spec = MODELS[name]
    _, weights = write_model(model_dir, spec)
    model = onnx.load(str(convert_module.onnx_for(weights, spec)))
    onnx.checker.check_model(model, full_check=True)
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Conv") == convs and ops.count("PRelu") == prelus
    assert set(ops) == {"Conv", "Relu", "MaxPool", "Concat"} | ({"PRelu"} if prelus else set())
    slopes = {i.name: tuple(i.dims) for i in model.graph.initializer if i.name.endswith(".slope")}
    assert len(slopes) == prelus and all(len(d) == 3 and d[1:] == (1, 1) for d in slopes.values())
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert model.graph.input[0].name == "image" and [d.dim_param or d.dim_value for d in dims] == \
        ["batch", 3, "height", "width"]
    assert model.graph.output[0].name == "net_output"
    assert model.model_version == onnx_export.CONVERTER_VERSION


@pytest.mark.parametrize("name,stages", [("COCO", 3), ("BODY_25", 5)])
def test_custom_deploy_file_converts_like_the_builtin(name, stages, model_dir):
    spec = MODELS[name]
    proto, weights = write_model(model_dir, spec, stages=stages)
    builtin = open_nets.open_engine("onnx", spec, stages, weights).forward(_blob())
    custom_path = convert_module.onnx_for(weights, spec, proto=proto)
    assert custom_path.name.split(".")[-2].startswith("p")
    custom = open_nets.open_engine("onnx", spec, stages, weights, proto).forward(_blob())
    np.testing.assert_array_equal(custom, builtin)


@pytest.mark.parametrize("name", MODELS)
def test_deploy_file_reader_gives_back_the_built_layers(name):
    def plain(layers):  # unset pad/stride mean Caffe's defaults, 0 and 1
        return [(l.name, l.type, l.bottoms, l.top, l.num_output, l.kernel, l.pad or 0, l.stride or 1)
                for l in layers]

    spec = MODELS[name]
    blob, layers = onnx_export.read_prototxt(spec.prototxt)
    assert blob == "image" and plain(layers) == plain(build_layers(spec))


def test_deploy_file_reader_legacy_and_rectangular_forms(tmp_path):
    proto = tmp_path / "v1.prototxt"
    proto.write_text('name: "old"  # a comment\ninput: "data"\n'
                     'layers { name: "c" type: CONVOLUTION bottom: "data" top: "c"\n'
                     '  convolution_param { num_output: 4 kernel_h: 3 kernel_w: 3 pad: 1 pad: 1 stride: 2 } }\n'
                     'layers { name: "r" type: RELU bottom: "c" top: "c" }\n'
                     'layers { name: "p" type: POOLING bottom: "c" top: "p" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }\n'
                     'layers { name: "j" type: CONCAT bottom: "p" bottom: "p" top: "j" }\n')
    blob, layers = onnx_export.read_prototxt(proto)
    assert blob == "data" and [(l.name, l.type) for l in layers] == [
        ("c", "Convolution"), ("r", "ReLU"), ("p", "Pooling"), ("j", "Concat")]
    assert (layers[0].num_output, layers[0].kernel, layers[0].pad, layers[0].stride) == (4, 3, 1, 2)
    proto.write_text('input: "data"\nlayer { name: "c" type: "Convolution" bottom: "data" top: "c"\n'
                     '  convolution_param { num_output: 4 kernel_h: 3 kernel_w: 5 } }\n')
    with pytest.raises(onnx_export.ConversionError, match="layer c: a non-square kernel is not supported"):
        onnx_export.read_prototxt(proto)
    proto.write_text('nput: "image"\nlayer { name: "c" type: "ReLU" bottom: "image" top: "image" }\n')
    with pytest.raises(onnx_export.ConversionError, match="has no input"):  # the seed's broken file
        onnx_export.read_prototxt(proto)


_PRELU_DEPLOY = ('input: "image"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 8\ninput_dim: 8\n'
                 'layer { name: "c1" type: "Convolution" bottom: "image" top: "c1"\n'
                 '  convolution_param { num_output: 5 kernel_size: 3 pad: 1 } }\n'
                 'layer { name: "p1" type: "PReLU" bottom: "c1" top: "c1" }\n'
                 'layer { name: "c2" type: "Convolution" bottom: "c1" top: "c2"\n'
                 '  convolution_param { num_output: 4 kernel_size: 1 } }\n'
                 'layer { name: "p2" type: "PReLU" bottom: "c2" top: "c2" prelu_param { channel_shared: true } }\n')


@pytest.mark.parametrize("engine", ONNX_ENGINES)
def test_prelu_in_a_deploy_file_converts_per_channel_and_shared(engine, tmp_path):
    import onnx

    proto = tmp_path / "prelu.prototxt"
    proto.write_text(_PRELU_DEPLOY)
    _, layers = onnx_export.read_prototxt(proto)
    assert [l.type for l in layers] == ["Convolution", "PReLU", "Convolution", "PReLU"]
    weights = random_weights(layers, seed=7)
    weights["p2"] = [np.array([0.3], np.float32)]  # channel_shared: one slope for all
    path = write_caffemodel(tmp_path / "prelu.caffemodel", ((l.name, l.type, l.bottoms, (l.top,), weights[l.name])
                                                           for l in layers))
    blob = _blob(16, 8)
    out = open_nets.open_engine(engine, MODELS["COCO"], 6, path, proto).forward(blob)
    ref = reference_forward(layers, weights, blob)
    _assert_close(out, ref)
    assert (ref < 0).mean() > 0.2  # the negative side, where PReLU differs from ReLU, is tested
    model = onnx.load(str(convert_module.onnx_for(path, MODELS["COCO"], proto=proto)))
    slopes = {i.name: tuple(i.dims) for i in model.graph.initializer if i.name.endswith(".slope")}
    assert slopes == {"p1.slope": (5, 1, 1), "p2.slope": (1, 1, 1)}
    if HAS_CAFFE:
        _assert_close(out, forward(load_caffe(proto, path), blob))


def test_prelu_slopes_that_fit_no_channel_count_are_refused(tmp_path):
    proto = tmp_path / "prelu.prototxt"
    proto.write_text(_PRELU_DEPLOY)
    _, layers = onnx_export.read_prototxt(proto)
    weights = random_weights(layers, seed=7)
    weights["p1"] = [np.ones(3, np.float32)]
    with pytest.raises(onnx_export.WeightsMismatch, match="layer p1: 3 slopes for 5 channels"):
        onnx_export.build_model(layers, weights)


def test_deploy_file_ending_in_an_in_place_layer(tmp_path):
    """The last layer's top is an earlier layer's name: the ONNX graph must still be SSA."""
    import onnx

    proto = tmp_path / "relu_last.prototxt"
    proto.write_text('input: "image"\nlayer { name: "c" type: "Convolution" bottom: "image" top: "c"\n'
                     '  convolution_param { num_output: 4 kernel_size: 1 } }\n'
                     'layer { name: "r" type: "ReLU" bottom: "c" top: "c" }\n')
    _, layers = onnx_export.read_prototxt(proto)
    weights = random_weights(layers, seed=1)
    model = onnx_export.build_model(layers, weights)
    onnx.checker.check_model(model, full_check=True)
    path = write_caffemodel(tmp_path / "relu_last.caffemodel", [("c", "Convolution", ("image",), ("c",), weights["c"])])
    blob = _blob(8, 8)
    out = open_nets.open_engine("onnx", MODELS["COCO"], 6, path, proto).forward(blob)
    _assert_close(out, reference_forward(layers, weights, blob))
    assert out.min() == 0 and out.max() > 0


# ---------------------------------------------------------------- legacy weights

def _v1_blob(array):
    """A BlobProto in the pre-2015 form: num/channels/height/width fields (a bias is 1x1x1xN)."""
    dims = (1,) * (4 - array.ndim) + array.shape
    head = b"".join(_key(f, 0) + _varint(d) for f, d in zip((1, 2, 3, 4), dims))
    return head + _len_field(5, array.astype("<f4").tobytes())


def _write_v1_caffemodel(path, layers, weights):
    conv_v1 = 4  # V1LayerParameter.LayerType.CONVOLUTION
    out = b""
    for layer in layers:
        if layer.name not in weights:
            continue
        body = (_len_field(_LAYER_V1["name"], layer.name.encode()) + _key(_LAYER_V1["type"], 0) + _varint(conv_v1)
                + b"".join(_len_field(_LAYER_V1["bottom"], b.encode()) for b in layer.bottoms)
                + _len_field(_LAYER_V1["top"], layer.top.encode())
                + b"".join(_len_field(_LAYER_V1["blobs"], _v1_blob(b)) for b in weights[layer.name]))
        out += _len_field(_NET_LAYERS_V1, body)
    path.write_bytes(out)


def test_legacy_layers_caffemodel_converts(tmp_path):
    spec, stages, width = MODELS["MPI"], 2, 0.0625
    layers = build_layers(spec, stages, width)
    weights = random_weights(layers, seed=3)
    modern, legacy = tmp_path / "modern.caffemodel", tmp_path / "legacy.caffemodel"
    write_caffemodel(modern, ((l.name, l.type, l.bottoms, (l.top,), weights[l.name]) for l in layers
                              if l.name in weights))
    _write_v1_caffemodel(legacy, layers, weights)
    assert legacy.read_bytes()[:1] == bytes([_NET_LAYERS_V1 << 3 | 2])  # really the `layers` field
    blob = _blob(40, 32)
    out_legacy = open_nets.open_engine("onnx", spec, stages, legacy).forward(blob)
    out_modern = open_nets.open_engine("onnx", spec, stages, modern).forward(blob)
    np.testing.assert_array_equal(out_legacy, out_modern)
    _assert_close(out_legacy, reference_forward(layers, weights, blob))


# ---------------------------------------------------------------- cache

def test_cache_reused_then_rebuilt_when_weights_or_cut_change(tmp_path, monkeypatch):
    spec = MODELS["MPI_4"]
    proto, weights = write_model(tmp_path, spec, seed=0)
    conversions, hashes = [], []
    real_convert, real_sha = convert_module.convert, files.sha256_of
    monkeypatch.setattr(convert_module, "convert", lambda *a, **k: conversions.append(a[2]) or real_convert(*a, **k))
    monkeypatch.setattr(files, "sha256_of", lambda p: hashes.append(p) or real_sha(p))

    first = convert_module.onnx_for(weights, spec)
    assert first.name == f"{weights.name}.{real_sha(weights)[:12]}.s4.onnx"
    assert first.parent == weights.parent and len(conversions) == 1
    hashes.clear()
    assert convert_module.onnx_for(weights, spec) == first
    assert len(conversions) == 1 and hashes == []  # checksum hashed once per process, file from the cache

    cut = convert_module.onnx_for(weights, spec, stages=2)
    assert cut != first and cut.name.endswith(".s2.onnx") and len(conversions) == 2 and first.exists()

    # New contents under the same name: new checksum, new file, the old ones removed.
    _, other = write_model(tmp_path / "other", spec, seed=9)
    os.replace(other, weights)
    rebuilt = convert_module.onnx_for(weights, spec)
    assert rebuilt != first and len(conversions) == 3
    assert not first.exists() and not cut.exists()
    blob = _blob()
    _assert_close(open_nets.open_engine("onnx", spec, 4, weights).forward(blob),
                  _reference(spec, 4, weights, proto, blob))


def test_cache_from_an_older_converter_is_rebuilt(tmp_path, monkeypatch):
    spec = MODELS["MPI_4"]
    _, weights = write_model(tmp_path, spec)
    path = convert_module.onnx_for(weights, spec)
    monkeypatch.setattr(convert_module, "CONVERTER_VERSION", onnx_export.CONVERTER_VERSION + 1)
    monkeypatch.setattr(onnx_export, "CONVERTER_VERSION", onnx_export.CONVERTER_VERSION + 1)
    assert convert_module._converter_version(path) == convert_module.CONVERTER_VERSION - 1
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    convert_module.onnx_for(weights, spec)
    assert convert_module._converter_version(path) == convert_module.CONVERTER_VERSION
    assert path.stat().st_mtime_ns > before - 10**9


def test_read_only_weights_folder_caches_in_the_user_cache(tmp_path, monkeypatch, model_dir):
    spec = MODELS["MPI_4"]
    _, weights = write_model(model_dir, spec)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(paths.os, "access", lambda path, mode: Path(path) != weights.parent)
    path = convert_module.onnx_for(weights, spec)
    assert path.parent == tmp_path / "xdg" / "opencv-hpe" and path.name.startswith(weights.name + ".")
    assert open_nets.open_engine("onnx", spec, 4, weights).forward(_blob()).shape == (1, 44, 6, 8)


def test_weights_replaced_with_the_same_size_and_mtime_are_hashed_again(tmp_path):
    """A size-and-mtime key would reuse the old checksum (and the old converted model)."""
    weights = tmp_path / "w.caffemodel"
    weights.write_bytes(b"a" * 100)
    sha_a = files.file_sha256(weights)
    weights.write_bytes(b"b" * 101)
    assert files.file_sha256(weights) != sha_a
    stat = weights.stat()
    weights.write_bytes(b"c" * 101)  # same size, and the same mtime restored
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert files.file_sha256(weights) == hashlib.sha256(b"c" * 101).hexdigest()
    replacement = tmp_path / "new"
    replacement.write_bytes(b"d" * 101)
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, weights)  # swapped in by rename, size and mtime as before
    assert files.file_sha256(weights) == hashlib.sha256(b"d" * 101).hexdigest()


# ---------------------------------------------------------------- choosing

@pytest.mark.parametrize("engine", ["auto", *ONNX_ENGINES])
def test_estimator_engines_agree(engine, model_dir):
    proto, weights = write_model(model_dir, MODELS["MPI"])
    image = np.random.default_rng(0).integers(0, 256, (45, 60, 3), np.uint8)
    # f32 everywhere: this compares arithmetic, bf16 is checked on its own
    est = PoseEstimator("MPI", proto=proto, weights=weights, net_resolution="-1x48", engine=engine, precision="f32")
    assert est.engine in engines.available() and est.engine_label and est.precision == "f32"
    out, geo = est.forward(image)
    blob = prepare_input(image, est.resolution)[0]
    _assert_close(out, _reference(MODELS["MPI"], 6, weights, proto, blob))


def test_stage_cut_through_estimator_on_onnx(model_dir):
    spec = MODELS["COCO"]
    _, weights = write_model(model_dir, spec)
    # The built-in definitions at full width need full-width weights; the converter reads
    # the width from the weights, so a narrow file cut at any stage runs without a proto.
    est = PoseEstimator("COCO", weights=weights, stages=2, engine="onnx", net_resolution="-1x64")
    out, _ = est.forward(np.full((64, 64, 3), 90, np.uint8))
    assert out.shape == (1, 57, 8, 8)
    six = PoseEstimator("COCO", weights=weights, engine="onnx", net_resolution="-1x64").forward(
        np.full((64, 64, 3), 90, np.uint8))[0]
    assert np.abs(out - six).max() > 1e-3  # a different cut gives different maps


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("engine", ONNX_ENGINES)
def test_bad_weights_on_onnx_engines(engine, tmp_path, model_dir):
    spec = MODELS["COCO"]
    page = tmp_path / "w.caffemodel"
    page.write_text("<html><head><title>Dropbox</title></head></html>")
    with pytest.raises(NetworkError, match="is not a Caffe .caffemodel file") as err:
        open_nets.open_engine(engine, spec, 6, page)
    assert err.value.exit_code == 2
    _, mpi = write_model(model_dir, MODELS["MPI"])
    with pytest.raises(NetworkError, match=r"do not fit the network definition \(layer conv5_5_CPM_L1") as err:
        open_nets.open_engine(engine, spec, 6, mpi)
    proto, weights = write_model(model_dir, spec)
    cut = tmp_path / "cut.caffemodel"
    cut.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(NetworkError, match="not a readable .caffemodel"):
        open_nets.open_engine(engine, spec, 6, cut)


def test_unsupported_layer_in_custom_definition(tmp_path, monkeypatch, caplog):
    spec = MODELS["COCO"]
    proto = tmp_path / "tanh.prototxt"
    proto.write_text('input: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 8\ninput_dim: 8\n'
                     'layer { name: "c" type: "Convolution" bottom: "data" top: "c"\n'
                     '  convolution_param { num_output: 57 kernel_size: 1 } }\n'
                     'layer { name: "t" type: "TanH" bottom: "c" top: "c" }\n')
    weights = tmp_path / "tanh.caffemodel"
    write_caffemodel(weights, [("c", "Convolution", ("data",), ("c",),
                                [np.ones((57, 3, 1, 1), np.float32), np.zeros(57, np.float32)])])
    with pytest.raises(NetworkError, match=r"cannot convert to ONNX: layer t: type TanH is not supported"):
        open_nets.load("onnx", spec, 6, weights, proto)
    if HAS_CAFFE:
        # auto tries the faster ONNX route first and falls back to the Caffe files
        monkeypatch.setattr(engines, "available", lambda placement=None: ["onnx", "caffe"])
        with caplog.at_level("WARNING", logger="pose"):
            net = open_nets.load("auto", spec, 6, weights, proto)
        warnings = [r.getMessage() for r in caplog.records]
        assert net.name == "caffe" and len(warnings) == 1 and "TanH" in warnings[0]
        assert np.allclose(net.forward(np.full((1, 3, 8, 8), 0.1, np.float32)), np.tanh(0.3), atol=1e-6)


def test_threads_follow_the_cores(model_dir):
    spec = MODELS["MPI_4"]
    _, weights = write_model(model_dir, spec)
    open_nets.open_engine("onnx", spec, 4, weights)
    assert cv2.getNumThreads() == cpu_cores()
    if HAS_ORT:
        net = open_nets.open_engine("onnxruntime", spec, 4, weights)
        assert f"{cpu_cores()} threads" in net.label


def test_command_line_converter(tmp_path, model_dir):
    spec = MODELS["MPI_4"]
    _, weights = write_model(model_dir, spec)
    out = tmp_path / "x.onnx"
    run = subprocess.run([sys.executable, "-m", "pose.families.openpose.net.convert", str(weights), "--model", "mpi_4",
                          "-o", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == str(out) and out.stat().st_size > 100_000
    run = subprocess.run([sys.executable, "-m", "pose.families.openpose.net.convert", str(tmp_path / "nope.caffemodel")],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "weights not found" in run.stderr


# ---------------------------------------------------------------- per-frame buffers

def test_blob_is_refilled_in_place_with_identical_values():
    from pose.families.openpose.preprocess import parse_net_resolution
    rng = np.random.default_rng(4)
    res = parse_net_resolution("-1x64")
    first, geo = prepare_input(rng.integers(0, 256, (50, 70, 3), np.uint8), res)
    frame = rng.integers(0, 256, (50, 70, 3), np.uint8)
    fresh, _ = prepare_input(frame, res, geo)
    reused, _ = prepare_input(frame, res, geo, out=first)
    np.testing.assert_array_equal(reused, fresh)
    assert np.shares_memory(reused, first)
    other, _ = prepare_input(frame, parse_net_resolution("-1x32"), out=first)  # wrong shape: a new blob
    assert other.shape == (1, 3, 32, 48) and not np.shares_memory(other, first)


def test_estimator_reuses_network_and_blob_across_frames(model_dir, monkeypatch):
    proto, weights = write_model(model_dir, MODELS["MPI_4"])
    est = PoseEstimator("MPI_4", proto=proto, weights=weights, net_resolution="-1x64")
    seen = []
    real = est.net.forward
    monkeypatch.setattr(est.net, "forward", lambda blob: seen.append(blob) or real(blob))
    net = est.net
    frames = np.random.default_rng(5).integers(0, 256, (3, 48, 64, 3), np.uint8)
    outs = [est.forward(f)[0] for f in frames]
    assert est.net is net and len(seen) == 3
    assert all(np.shares_memory(b, seen[0]) for b in seen)
    assert not np.array_equal(outs[0], outs[1])  # each frame's own input, not a stale one
