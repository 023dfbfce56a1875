"""--demo, the JSON-only mode and the console commands' own names: what a newcomer meets
first. --demo runs the real tools on the generated oracle network
(pose.families.openpose.demo), so no weights are needed here either."""
from __future__ import annotations

import json

import pytest

from pose import cli, entry
from pose.families.openpose.demo import DEMO_LABEL
from tests.support.cli_tools import run_tool


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # where --demo writes its network


def test_image_demo_finds_the_two_people_and_says_demo_everywhere(tmp_path):
    r = run_tool("image", "--demo", "--output_dir", tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith(DEMO_LABEL + ": COCO")
    folder = tmp_path / "images" / "COCO"
    data = json.loads((folder / "demo_COCO-COCO.json").read_text())
    assert data["network"] == DEMO_LABEL and len(data["people"]) == 2
    assert sorted(p["pose_class"]["gesture"] for p in data["people"]) == ["hello", "none"]
    assert (folder / "demo_COCO-Skeleton-COCO.jpg").stat().st_size > 0


def test_demo_label_is_drawn_on_the_pictures(tmp_path, monkeypatch):
    import pose.app.images as images

    captions = []
    monkeypatch.setattr(images, "draw_caption", lambda image, text: captions.append(text))
    assert cli.image_main(["--demo", "--mode", "BODY_25", "--output_dir", str(tmp_path), "--quiet"]) == 0
    assert captions == [DEMO_LABEL]


def test_video_demo(tmp_path, capsys):
    assert cli.video_main(["--demo", "--output_dir", str(tmp_path), "--max_frames", "5"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(DEMO_LABEL)
    lines = (tmp_path / "videos" / "COCO" / "demo_COCO_COCO.jsonl").read_text().splitlines()
    assert len(lines) == 5 and all(json.loads(line)["network"] == DEMO_LABEL for line in lines)


@pytest.mark.parametrize("argv, words", [
    (["--demo", "--image_file", "a.png"], "not with --image_file"),
    (["--demo", "--weights", "w.caffemodel"], "not with --weights"),
])
def test_demo_refuses_inputs_of_its_own(argv, words, capsys):
    assert cli.image_main(argv) == 2
    assert words in capsys.readouterr().err


def test_json_only_draws_and_encodes_nothing(tmp_path, monkeypatch):
    """OpenPose's --render_pose 0 (our --no_render): only JSON is written, and no drawing
    or encoding work is done at all."""
    import pose.app.images as images
    import pose.app.video as video
    import pose.io.writers as writers

    def forbidden(*args, **kwargs):
        raise AssertionError("drew or encoded in JSON-only mode")

    for module, name in ((images, "keypoints_view"), (images, "skeleton_view"), (video, "skeleton_view"),
                         (writers, "VideoFileWriter"), (writers, "write_image")):
        monkeypatch.setattr(module, name, forbidden)
    assert cli.image_main(["--demo", "--render_pose", "0", "--output_dir", str(tmp_path), "--quiet",
                           "--write_json", str(tmp_path / "op")]) == 0
    assert [p.name for p in (tmp_path / "images" / "COCO").iterdir()] == ["demo_COCO-COCO.json"]
    assert [p.name for p in (tmp_path / "op").iterdir()] == ["demo_COCO_keypoints.json"]
    assert cli.video_main(["--demo", "--no_render", "--output_dir", str(tmp_path), "--quiet", "--max_frames", "3"]) == 0
    assert [p.name for p in (tmp_path / "videos" / "COCO").iterdir()] == ["demo_COCO_COCO.jsonl"]


@pytest.mark.parametrize("command, tool", [("get-hpe-image", "image"), ("get-hpe-video", "video")])
def test_console_commands_speak_with_their_own_names(command, tool, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", [command, "--help"])
    with pytest.raises(SystemExit):
        (entry.image if tool == "image" else entry.video)()
    assert capsys.readouterr().out.startswith(f"usage: {command} ")
    monkeypatch.setattr("sys.argv", [command, "--frame_step", "2"])
    assert (entry.image if tool == "image" else entry.video)() == 2
    assert capsys.readouterr().err.startswith(f"{command}: error: --frame_step")


def test_models_command_speaks_with_its_own_name(capsys, monkeypatch, tmp_path):
    from pose.download.cli import main
    from pose.families.openpose.spec import Weights

    monkeypatch.setattr("sys.argv", ["get-hpe-models", "--help"])
    assert entry.models() == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: get-hpe-models ") and "getModels.sh" not in out
    missing = Weights(tmp_path / "w.caffemodel", 3, "0" * 64, ())
    assert main(["--verify"], downloads={"TEST": missing}, prog="get-hpe-models") == 1
    assert "run get-hpe-models TEST" in capsys.readouterr().err


@pytest.mark.parametrize("tool", ["image", "video"])
def test_no_argument_without_the_checkout_example_says_how_to_start(tool, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli, "DEFAULT_IMAGE" if tool == "image" else "DEFAULT_VIDEO", tmp_path / "absent")
    main = cli.image_main if tool == "image" else cli.video_main
    assert main([], prog=f"get-hpe-{tool}") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: get-hpe-{tool}") and f"get-hpe-{tool} --demo" in out


def test_ray_auto_without_a_cluster_says_what_to_do_in_our_terms():
    from pose.app.batch.ray_pool import _connect
    from pose.core.errors import PoseError

    class NoCluster:
        @staticmethod
        def is_initialized():
            return False

        @staticmethod
        def init(**kwargs):  # Ray 2.x's words when nothing runs
            raise ConnectionError("Could not find any running Ray instance. Please specify the one to connect to by "
                                  "setting `--address` flag or `RAY_ADDRESS` environment variable.")

    with pytest.raises(PoseError) as err:
        _connect(NoCluster, "auto", lambda line: None)
    assert "`--address`" not in str(err.value) and "ray start --head" in str(err.value) and "--ray ray://" in str(err.value)


def test_video_tool_prints_the_people_its_picture_shows_and_counts_the_rest():
    from types import SimpleNamespace

    from pose.app.timeline import MAX_PEOPLE_DRAWN
    from pose.app.video import VideoSummary

    summary = VideoSummary()
    n = MAX_PEOPLE_DRAWN + 5
    summary.runs = [SimpleNamespace(track_id=k, posture=[("standing", 0.0, float(k))], gesture=[]) for k in range(1, n + 1)]
    summary.timeline = [f"person {k}: standing 0.0-{k}.0 s" for k in range(1, n + 1)]
    lines = cli.timeline_lines(summary)
    assert len(lines) == MAX_PEOPLE_DRAWN + 1 and lines[0] == "person 6: standing 0.0-6.0 s"
    assert lines[-1].startswith("... and 5 more people seen briefly")


@pytest.mark.parametrize("tool", ["image", "video"])
def test_a_run_failing_on_missing_weights_leaves_no_empty_folders(tool, tmp_path, capsys):
    main = cli.image_main if tool == "image" else cli.video_main
    out = tmp_path / "out"
    source = "--image_file" if tool == "image" else "--video_file"
    from tests.support.cli_tools import EXAMPLE_IMAGE, ROOT

    media = EXAMPLE_IMAGE if tool == "image" else ROOT / "Input" / "example_video1.mp4"
    code = main([source, str(media), "--weights", str(tmp_path / "absent.caffemodel"), "--output_dir", str(out),
                 "--write_json", str(tmp_path / "json" / "frames")])
    assert code == 2 and "absent.caffemodel" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "json").exists()


@pytest.mark.parametrize("engine", ["caffe", "openvino"])
def test_a_narrow_caffemodel_without_a_deploy_file_runs_on_every_engine_alike(engine, tmp_path, model_dir):
    """The ONNX route sizes the network from the weights; the Caffe route now does too."""
    from pose.families.openpose.spec import MODELS
    from pose.runtime.backends import has_caffe_importer
    from tests.support.nets import write_model

    if engine == "caffe" and not has_caffe_importer():
        pytest.skip("this OpenCV has no Caffe importer (OpenCV 5)")
    if engine == "openvino":
        pytest.importorskip("openvino")
    weights = write_model(model_dir, MODELS["COCO"], stages=2)[1]
    from tests.support.cli_tools import EXAMPLE_IMAGE

    assert cli.image_main(["--image_file", str(EXAMPLE_IMAGE), "--weights", str(weights), "--stages", "2",
                           "--engine", engine, "--net_resolution", "96x96", "--output_dir", str(tmp_path), "--quiet"]) == 0
