"""Loading OpenPose-topology Caffe files through cv2.dnn, and choosing the device."""
import cv2
import numpy as np
import pytest

from pose.core.errors import NetworkError
from pose.families.openpose.estimator import PoseEstimator
from pose.families.openpose.net.architecture import build_layers
from pose.families.openpose.spec import MODELS
from pose.runtime import device as network
from pose.runtime.backends import forward, load_caffe
from tests.support.nets import reference_forward, reference_weights, requires_caffe, write_model

SIZES = [(368, 368), (656, 368), (200, 96)]
# Output channels by model, from OpenPose's documentation rather than from pose.families.openpose.spec.
CHANNELS = {"COCO": 57, "MPI": 44, "MPI_4": 44, "BODY_25": 78}


@requires_caffe
@pytest.mark.parametrize("name", MODELS)
def test_narrow_random_weights_load_and_give_openpose_output_shape(name, model_dir):
    spec = MODELS[name]
    net = load_caffe(*write_model(model_dir, spec))
    channels = CHANNELS[name]
    assert spec.n_channels == channels
    for w, h in SIZES:
        out = forward(net, np.random.default_rng(0).uniform(-0.5, 0.5, (1, 3, h, w)).astype(np.float32))
        assert out.shape == (1, channels, h // 8, w // 8)
        assert np.isfinite(out).all() and out.std() > 0


@requires_caffe
@pytest.mark.parametrize("name,stages", [*(("COCO", s) for s in range(1, 7)), ("BODY_25", 5), ("BODY_25", 6)])
def test_every_stage_cut_has_the_same_output_layout(name, stages, model_dir):
    net = load_caffe(*write_model(model_dir, MODELS[name], stages=stages))
    out = forward(net, np.zeros((1, 3, 64, 96), np.float32))
    assert out.shape == (1, CHANNELS[name], 8, 12)


@requires_caffe
@pytest.mark.parametrize("name,stages", [("COCO", 2), ("BODY_25", 6)])
def test_cv2_applies_the_weights_we_wrote(name, stages, model_dir):
    """cv2.dnn output equals an independent NumPy forward pass: weights bind by name
    (BODY_25: PReLU slopes included)."""
    spec, width = MODELS[name], 0.0625
    net = load_caffe(*write_model(model_dir, spec, stages=stages, width=width, seed=5))
    blob = np.random.default_rng(1).uniform(-0.5, 0.5, (1, 3, 48, 40)).astype(np.float32)
    ours = forward(net, blob)
    ref = reference_forward(build_layers(spec, stages, width), reference_weights(spec, stages, width, 5), blob)
    assert np.abs(ours - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())


# ---------------------------------------------------------------- devices

@requires_caffe
def test_backend_and_target_are_set_with_the_right_calls(monkeypatch, model_dir):
    """The seed passed a target constant to setPreferableBackend; keep the two apart."""
    calls = []

    class Recorder:
        def empty(self):
            return False

        def setPreferableBackend(self, v):
            calls.append(("backend", v))

        def setPreferableTarget(self, v):
            calls.append(("target", v))

    monkeypatch.setattr(cv2.dnn, "readNetFromCaffe", lambda *a: Recorder())
    load_caffe(*write_model(model_dir, MODELS["MPI_4"]), placement=network.CPU)
    assert calls == [("backend", cv2.dnn.DNN_BACKEND_OPENCV), ("target", cv2.dnn.DNN_TARGET_CPU)]


# ---------------------------------------------------------------- bad weights

def test_missing_default_weights_point_to_getmodels(monkeypatch, tmp_path):
    spec = MODELS["COCO"]
    if spec.weights.path.exists():
        pytest.skip("real weights present")
    with pytest.raises(NetworkError) as err:
        PoseEstimator("COCO")
    assert err.value.exit_code == 2
    assert str(err.value) == ("weights not found: pose/coco/pose_iter_440000.caffemodel "
                              "(run ./getModels.sh COCO to download them)")


@requires_caffe
def test_html_page_as_weights(tmp_path, model_dir):
    proto, _ = write_model(model_dir, MODELS["COCO"])
    page = tmp_path / "w.caffemodel"
    page.write_text("<html><head><title>Dropbox</title></head></html>")
    with pytest.raises(NetworkError, match="is not a Caffe .caffemodel file") as err:
        load_caffe(proto, page)
    assert err.value.exit_code == 2


@requires_caffe
def test_truncated_weights_give_a_clear_error(tmp_path, model_dir):
    proto, weights = write_model(model_dir, MODELS["COCO"])
    cut = tmp_path / "cut.caffemodel"
    cut.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(NetworkError, match="OpenCV could not load"):
        load_caffe(proto, cut)


def test_weights_of_another_model(model_dir):
    proto, _ = write_model(model_dir, MODELS["COCO"])
    _, mpi_weights = write_model(model_dir, MODELS["MPI"])
    with pytest.raises(NetworkError, match="do not fit the network definition") as err:
        PoseEstimator("COCO", proto=proto, weights=mpi_weights)
    assert err.value.exit_code == 2


def test_wrong_mode_for_model(model_dir):
    proto, weights = write_model(model_dir, MODELS["COCO"])
    with pytest.raises(NetworkError, match="outputs 57 channels but MPI needs 44"):
        PoseEstimator("MPI", proto=proto, weights=weights)


@requires_caffe
def test_opencv_without_caffe_importer(monkeypatch, model_dir):
    monkeypatch.delattr(cv2.dnn, "readNetFromCaffe")
    with pytest.raises(NetworkError, match=r"no Caffe importer.*pip install 'opencv-python>=4.8,<5'"):
        load_caffe(*write_model(model_dir, MODELS["COCO"]))


# ---------------------------------------------------------------- estimator

def test_estimator_forward_geometry_and_stages(model_dir, monkeypatch):
    proto, weights = write_model(model_dir, MODELS["MPI"])
    est = PoseEstimator("mpi", proto=proto, weights=weights, net_resolution="-1x184")
    out, geo = est.forward(np.zeros((480, 640, 3), np.uint8))
    assert geo.input_size == (248, 184) and out.shape == (1, 44, 23, 31)
    with pytest.raises(ValueError, match="cannot be combined with --proto"):
        PoseEstimator("MPI", proto=proto, weights=weights, stages=2)
    with pytest.raises(ValueError, match="stages must be 1..6"):
        PoseEstimator("MPI", stages=0)


def test_estimate_runs_every_scale_and_maps_to_image_pixels(model_dir):
    proto, weights = write_model(model_dir, MODELS["COCO"])
    est = PoseEstimator("COCO", proto=proto, weights=weights, net_resolution="-1x96", scales=(0.5, 1.0))
    assert est.scales == (1.0, 0.5)
    image = np.random.default_rng(2).integers(0, 256, (120, 160, 3), np.uint8)
    people = est.estimate(image)  # random weights: any number of people, but well-formed
    for p in people:
        assert p.keypoints.shape == (18, 3)
        found = p.keypoints[:, 2] > 0
        assert np.all(p.keypoints[found, 0] <= 160) and np.all(p.keypoints[found, 1] <= 120)
    _, geo_half = est.forward(image, 0.5)
    assert geo_half.input_size[1] == 48


def test_a_definition_with_another_stride_is_refused_at_load(tmp_path):
    from pose.families.openpose.net.architecture import INPUT_NAME, Layer, to_prototxt
    from pose.runtime.caffemodel import write_caffemodel

    spec = MODELS["COCO"]
    layer = Layer("conv", "Convolution", (INPUT_NAME,), spec.output_name, spec.n_channels, 4, 0, 4)
    proto = tmp_path / "s4.prototxt"
    proto.write_text(to_prototxt([layer], "stride4"))
    weights = write_caffemodel(tmp_path / "s4.caffemodel", [(
        "conv", "Convolution", (INPUT_NAME,), (spec.output_name,),
        [np.zeros((spec.n_channels, 3, 4, 4), np.float32), np.zeros(spec.n_channels, np.float32)])])
    with pytest.raises(NetworkError, match="reduce by 8") as err:
        PoseEstimator("COCO", proto=proto, weights=weights, engine="caffe" if hasattr(cv2.dnn, "readNetFromCaffe") else "onnx")
    assert err.value.exit_code == 2
