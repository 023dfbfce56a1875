"""OpenPose's flags, row by row of pose.cli.OPENPOSE_FLAGS: each is accepted and put in
our terms, or refused in one line that says why and what to use."""
from __future__ import annotations

import pytest

from pose.cli import OPENPOSE_FLAGS, openpose_to_ours, parse_args
from pose.core.errors import UsageError

# flag -> (tool, OpenPose's arguments, what the parsed options then hold)
ACCEPTED = {
    "--model_pose": ("image", ["--model_pose", "BODY_25"], {"mode": "BODY_25"}),
    "--image_dir": ("image", ["--image_dir", "shots/"], {"image_file": ["shots/"]}),
    "--video": ("video", ["--video", "clip.mp4"], {"video_file": ["clip.mp4"]}),
    "--camera": ("video", ["--camera", "0"], {"video_file": ["0"]}),
    "--number_people_max": ("image", ["--number_people_max", "2"], {"max_people": 2}),
    "--render_pose": ("image", ["--render_pose", "0"], {"no_render": True}),
    "--write_images": ("image", ["--write_images", "pics"], {"output_dir": "pics"}),
    "--frame_first": ("video", ["--frame_first", "10"], {"start_frame": 10}),
    "--frame_last": ("video", ["--frame_first", "10", "--frame_last", "19"], {"start_frame": 10, "max_frames": 10}),
    "--model_folder": ("image", ["--model_folder", "models", "--model_pose", "MPI"],
                       {"weights": "models/pose/mpi/pose_iter_160000.caffemodel", "mode": "MPI"}),
    "--display": ("image", ["--display", "0"], {"display": False}),
    "--scale_number": ("image", ["--scale_number", "3", "--scale_gap", "0.25"], {"scales": (1.0, 0.75, 0.5)}),
    "--scale_gap": ("image", ["--scale_gap=0.5", "--scale_number=2"], {"scales": (1.0, 0.5)}),
    "--write_json": ("image", ["--write_json", "json/"], {"json_dir": "json/"}),
    "--net_resolution": ("image", ["--net_resolution", "-1x368"], {}),
    "--keypoint_scale": ("image", ["--keypoint_scale", "3"], {"keypoint_scale": 3}),
    "--hand": ("image", ["--hand"], {"hand": True}),
    "--face": ("image", ["--face"], {"face": True}),
    "--write_coco_json": ("image", ["--write_coco_json", "r.json"], {"coco_json": "r.json"}),
    "--write_heatmaps": ("image", ["--write_heatmaps", "maps/"], {"heatmaps_dir": "maps/"}),
}
# flag -> what the one line must name (why, and what to use)
REFUSED = {
    "--write_video": ("video", ["--write_video", "out.avi"], "--output_dir"),
    "--frame_step": ("video", ["--frame_step", "2"], "--every"),
    "--part_candidates": ("image", ["--part_candidates"], "PoseEstimator.infer"),
}


def test_every_row_of_the_table_is_tested():
    assert {f.name for f in OPENPOSE_FLAGS} == set(ACCEPTED) | set(REFUSED)
    assert all(f.refused for f in OPENPOSE_FLAGS if f.name in REFUSED)


@pytest.mark.parametrize("flag", list(ACCEPTED))
def test_accepted_flag_maps_to_ours(flag):
    tool, argv, expected = ACCEPTED[flag]
    args = parse_args(tool, argv)
    for dest, value in expected.items():
        got = getattr(args, dest)
        if dest == "scales":
            assert tuple(got) == pytest.approx(value)
        else:
            assert str(got) == str(value) if isinstance(value, str) else got == value, (dest, got)


@pytest.mark.parametrize("flag", list(REFUSED))
def test_refused_flag_says_why_and_what_to_use(flag):
    tool, argv, names = REFUSED[flag]
    with pytest.raises(UsageError) as err:
        parse_args(tool, argv)
    assert str(err.value).startswith(flag) and names in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("argv, ours", [
    (["--mode", "body25"], ["--mode", "BODY_25"]),
    (["--model_pose", "MPI_4_layers"], ["--model", "MPI_4"]),
    (["--display"], ["--display"]),  # ours, without a value: show
    (["--display", "1"], ["--display"]),
    (["--number_people_max", "-1"], []),
    (["--render_pose", "2"], []),
    (["--frame_last", "-1"], []),
])
def test_openpose_values(argv, ours):
    assert openpose_to_ours("video", argv) == ours


@pytest.mark.parametrize("tool, argv, words", [
    ("image", ["--video", "a.mp4"], "get_hpe_video.py"),
    ("video", ["--image_dir", "d/"], "get_hpe_image.py"),
    ("video", ["--frame_first", "9", "--frame_last", "3"], "before"),
    ("image", ["--render_pose", "5"], "choose 0"),
    ("image", ["--scale_number", "5", "--scale_gap", "0.3"], "above 0"),
    ("image", ["--model_pose"], "needs a value"),
    ("image", ["--number_people_max", "many"], "whole number"),
])
def test_bad_openpose_values_are_one_line(tool, argv, words):
    with pytest.raises(UsageError, match=words):
        openpose_to_ours(tool, argv)
