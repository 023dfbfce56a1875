"""The .caffemodel codec: round trips, legacy files and broken input."""
import numpy as np
import pytest

from pose.families.openpose.net.architecture import Layer, build_layers
from pose.families.openpose.spec import MODELS
from pose.runtime.caffemodel import (
    CaffeModelError,
    _len_field,
    _varint,
    encode_blob,
    looks_like_caffemodel,
    parse_caffemodel,
    read_caffemodel,
)
from tests.support.random_weights import random_weights, write_random_caffemodel


@pytest.mark.parametrize("name, shapes", [
    ("MPI_4", {"conv1_1": (4, 3, 3, 3), "Mconv7_stage4_L1": (28, 8, 1, 1)}),
    ("BODY_25", {"conv1_1": (4, 3, 3, 3), "prelu4_2": (32,), "Mprelu1_stage0_L2_2": (6,),
                 "Mconv1_stage1_L2_0": (8, 8 + 52, 3, 3), "Mconv7_stage1_L1": (26, 32, 1, 1)}),
])
def test_random_weights_round_trip(name, shapes, tmp_path):
    layers = build_layers(MODELS[name], width=0.0625)
    path = write_random_caffemodel(tmp_path / "w.caffemodel", layers, seed=3)
    back = read_caffemodel(path)
    ref = random_weights(layers, seed=3)
    assert list(back) == list(ref)  # file order = layer order
    for layer, blobs in ref.items():
        assert len(back[layer]) == len(blobs)  # weights and bias, or PReLU's slopes
        for got, want in zip(back[layer], blobs):
            np.testing.assert_array_equal(got, want)
    assert {layer: back[layer][0].shape for layer in shapes} == shapes
    assert looks_like_caffemodel(path)


def test_prelu_slopes_are_random_per_channel_and_round_trip(tmp_path):
    layers = [Layer("c", "Convolution", ("image",), "c", 6, 3, 1), Layer("p", "PReLU", ("c",), "c")]
    ref = random_weights(layers, seed=2)
    (slope,) = ref["p"]
    assert slope.shape == (6,) and slope.dtype == np.float32 and len(set(slope.tolist())) == 6
    assert np.all((slope > 0) & (slope < 0.5))  # leaky, not a sign flip
    back = read_caffemodel(write_random_caffemodel(tmp_path / "p.caffemodel", layers, seed=2))
    np.testing.assert_array_equal(back["p"][0], slope)
    # The PReLU draws come after the convolution's: a net without PReLU draws what it did.
    np.testing.assert_array_equal(ref["c"][0], random_weights(layers[:1], seed=2)["c"][0])


def test_legacy_layers_field_and_legacy_blob_dims():
    # V1LayerParameter: name=4, blobs=6; BlobProto num/channels/height/width = 1..4, data=5
    data = np.arange(6, dtype="<f4")
    legacy_blob = (b"".join(_varint(f << 3) + _varint(v) for f, v in ((1, 1), (2, 2), (3, 3), (4, 1)))
                   + _len_field(5, data.tobytes()))
    layer = _len_field(4, b"conv1_1") + _len_field(6, legacy_blob)
    parsed = parse_caffemodel(_len_field(2, layer))
    assert parsed["conv1_1"][0].shape == (1, 2, 3, 1)
    np.testing.assert_array_equal(parsed["conv1_1"][0].ravel(), data)


def test_unpacked_doubles_and_shape():
    blob = _len_field(7, _len_field(1, _varint(2) + _varint(2))) + _len_field(8, np.ones(4, "<f8").tobytes())
    parsed = parse_caffemodel(_len_field(100, _len_field(1, b"x") + _len_field(7, blob)))
    np.testing.assert_array_equal(parsed["x"][0], np.ones((2, 2), np.float32))


def test_bad_bytes(tmp_path):
    html = tmp_path / "page.caffemodel"
    html.write_text("<!DOCTYPE html><html><body>Moved</body></html>")
    assert not looks_like_caffemodel(html)
    empty = tmp_path / "empty.caffemodel"
    empty.write_bytes(b"")
    assert not looks_like_caffemodel(empty)
    with pytest.raises(CaffeModelError):
        parse_caffemodel(_len_field(100, encode_blob(np.ones(3)))[:-2])
