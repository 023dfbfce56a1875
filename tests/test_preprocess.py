"""OpenPose's preprocessing geometry and normalization."""
import cv2
import numpy as np
import pytest

from pose.core.image import to_bgr
from pose.families.openpose.preprocess import NetResolution, compute_geometry, parse_net_resolution, prepare_input
from tests.support.inverses import image_to_input


def test_default_resolution_follows_aspect_ratio():
    geo = compute_geometry((640, 480), parse_net_resolution("-1x368"))
    assert geo.resized_size == (491, 368) and geo.input_size == (496, 368)
    assert geo.output_size == (62, 46)
    assert geo.scale == pytest.approx(368 / 480)
    # pixel centres: input pixel x covers image pixels around (x + 0.5) * ratio - 0.5
    np.testing.assert_allclose(geo.input_to_image([[-0.5, -0.5], [490.5, 367.5]]), [[-0.5, -0.5], [639.5, 479.5]])
    np.testing.assert_allclose(image_to_input(geo, geo.input_to_image([[12.3, 45.6]])), [[12.3, 45.6]])


def test_keypoint_mapping_matches_cv2_resize():
    """A bright pixel found in the resized image maps back onto the original one."""
    image = np.zeros((2160, 3840), np.float32)
    image[1000:1010, 3000:3010] = 1.0  # centre (3004.5, 1004.5)
    geo = compute_geometry((3840, 2160), parse_net_resolution("-1x368"))
    small = cv2.resize(image, geo.resized_size, interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(small > 0)
    w = small[ys, xs]
    centre = np.array([[np.sum(xs * w) / w.sum(), np.sum(ys * w) / w.sum()]])
    np.testing.assert_allclose(geo.input_to_image(centre), [[3004.5, 1004.5]], atol=0.6)


def test_explicit_resolution_fits_inside_and_pads():
    geo = compute_geometry((640, 480), parse_net_resolution("368x368"))
    assert geo.resized_size == (368, 276) and geo.input_size == (368, 368)


def test_blob_is_openpose_normalized_and_padded_with_grey():
    image = np.full((100, 50, 3), 200, np.uint8)
    blob, geo = prepare_input(image, NetResolution(-1, 104))
    assert geo.resized_size == (52, 104) and geo.input_size == (56, 104)
    assert blob.shape == (1, 3, 104, 56) and blob.dtype == np.float32
    assert blob[0, :, :, :52] == pytest.approx(200 / 256 - 0.5)
    assert np.all(blob[0, :, :, 52:] == 0)  # 128 / 256 - 0.5


def test_no_resampling_at_net_size():
    image = np.random.default_rng(0).integers(0, 256, (368, 368, 3), np.uint8)
    blob, geo = prepare_input(image, NetResolution(368, 368))
    assert geo.scale == 1.0
    np.testing.assert_array_equal(blob[0].transpose(1, 2, 0), image / 256.0 - 0.5)


@pytest.mark.parametrize("text", ["368", "x368", "-1x-1", "367x368", "0x368", "abcx368", "-2x368"])
def test_bad_net_resolution(text):
    with pytest.raises(ValueError, match="bad net resolution"):
        parse_net_resolution(text)


def test_to_bgr_converts_gray_alpha_and_16_bit():
    assert to_bgr(np.zeros((4, 4), np.uint8)).shape == (4, 4, 3)
    assert to_bgr(np.zeros((4, 4, 4), np.uint8)).shape == (4, 4, 3)
    deep = to_bgr(np.full((4, 4, 3), 65535, np.uint16))
    assert deep.dtype == np.uint8 and deep.max() == 255
