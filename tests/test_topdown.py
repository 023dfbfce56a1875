"""The shared top-down crop machinery (pose.families.topdown): MMPose's box padding and
aspect, the warp and its inverse, rotation clockwise on screen as MediaPipe's."""
import numpy as np
import pytest

from pose.families.topdown import Roi, crop, crops, roi_from_box, to_frame, warp_matrix


def test_box_is_padded_and_fixed_to_the_input_aspect_as_mmpose_does():
    # A 100x100 box for a 192x256 input (aspect 0.75): padded to 125, then made taller.
    roi = roi_from_box([10, 20, 110, 120], aspect=192 / 256)
    assert (roi.cx, roi.cy, roi.width) == (60, 70, 125) and roi.height == pytest.approx(125 / 0.75)
    wide = roi_from_box([0, 0, 300, 100], aspect=0.75)  # too wide: heightened, never shrunk
    assert wide.width == 375 and wide.height == 500


def test_warp_and_back_agree_with_rtmlibs_formula():
    roi, size = roi_from_box([37, 52, 181, 290], 0.75), (192, 256)
    pts = np.array([[0.0, 0.0], [96.0, 128.0], [191.5, 17.25]])
    scale, centre = np.array([roi.width, roi.height]), np.array([roi.cx, roi.cy])
    expected = pts / size * scale + centre - scale / 2  # rtmlib's post-processing
    assert np.allclose(to_frame(pts, roi, size), expected)
    forward = warp_matrix(roi, size) @ np.c_[expected, np.ones(3)].T
    assert np.allclose(forward.T, pts)


def test_rotation_is_clockwise_on_screen_and_the_round_trip_is_exact():
    # A quarter turn clockwise: the crop's "up" points to the frame's right.
    roi = Roi(100, 50, 40, 40, angle=np.pi / 2)
    top_middle = to_frame(np.array([20.0, 0.0]), roi, (40, 40))
    assert np.allclose(top_middle, [120, 50])
    rng = np.random.default_rng(1)
    roi = Roi(*rng.uniform(20, 200, 4), angle=0.7)
    pts = rng.uniform(0, 256, (50, 2))
    frame_pts = to_frame(pts, roi, (256, 256))
    back = (warp_matrix(roi, (256, 256)) @ np.c_[frame_pts, np.ones(50)].T).T
    assert np.allclose(back, pts)
    assert np.allclose(roi.corners()[0], to_frame(np.zeros(2), roi, (256, 256)))


def test_crop_cuts_the_roi_and_pads_with_black():
    image = np.zeros((100, 200, 3), np.uint8)
    image[40:60, 140:160] = 255  # a white square centred at (150, 50)
    patch = crop(image, Roi(150, 50, 40, 40), (80, 80))
    assert patch.shape == (80, 80, 3)
    assert patch[40, 40].tolist() == [255, 255, 255] and patch[5, 5].tolist() == [0, 0, 0]
    # No half-pixel shift (MMPose's convention): the 2x enlarged square spans crop pixels 20-58.
    assert patch[20:59, 20:59].min() == 255 and patch.mean() == pytest.approx(255 / 4, rel=0.05)
    outside = crop(image, Roi(-500, -500, 40, 40), (8, 8))
    assert not outside.any()
    batch = crops(image, [Roi(150, 50, 40, 40), Roi(10, 10, 20, 20)], (32, 16))
    assert batch.shape == (2, 16, 32, 3) and crops(image, [], (32, 16)).shape == (0, 16, 32, 3)
