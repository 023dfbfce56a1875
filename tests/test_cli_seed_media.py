"""The seed project's own photos and videos (../shared/media, real people, not ours to
redistribute) go through both tools: RGBA PNGs, JPEGs and phone-sized videos."""
import cv2
import pytest

from pose.families.openpose.spec import MODELS
from tests.support.cli_tools import FAST, load_json, model_args, run_tool, video_facts
from tests.support.nets import write_model


@pytest.fixture(scope="module")
def coco(model_dir):
    return model_args(*write_model(model_dir, MODELS["COCO"]))


def test_every_seed_photo(tmp_path, shared_dir, coco):
    photos = sorted((shared_dir / "media" / "seed-inputs").glob("*.png")) + \
        sorted((shared_dir / "media" / "seed-inputs").glob("*.jpeg"))
    r = run_tool("image", "--image_file", *photos, "--output_dir", tmp_path, "--quiet", *FAST, *coco)
    assert r.returncode == 0, r.stderr
    folder = tmp_path / "images" / "COCO"
    for photo in photos:
        h, w = cv2.imread(str(photo)).shape[:2]
        assert load_json(folder / f"{photo.stem}-COCO.json")["image_size"] == [w, h]
        assert cv2.imread(str(folder / f"{photo.stem}-Skeleton-COCO.jpg")).shape == (h, w, 3)


def test_a_seed_video_keeps_its_size_and_rate(tmp_path, shared_dir, coco):
    clip = shared_dir / "media" / "seed-inputs" / "example_video3.mp4"
    r = run_tool("video", "--video_file", clip, "--output_dir", tmp_path, "--max_frames", 6,
                 "--quiet", *FAST, *coco)
    assert r.returncode == 0, r.stderr
    src = cv2.VideoCapture(str(clip))
    frames, fps, size = video_facts(tmp_path / "videos" / "COCO" / "example_video3_skeleton_COCO.mp4")[:3]
    assert frames == 6
    assert fps == pytest.approx(src.get(cv2.CAP_PROP_FPS), rel=1e-3)
    assert size == (int(src.get(cv2.CAP_PROP_FRAME_WIDTH)), int(src.get(cv2.CAP_PROP_FRAME_HEIGHT)))
