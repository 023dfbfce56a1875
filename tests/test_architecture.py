"""The generated deploy files are OpenPose's networks, layer for layer."""
import pytest

from pose.families.openpose.net.architecture import build_layers, deploy_text, valid_stages
from pose.families.openpose.net.architecture import main as architecture_main
from pose.families.openpose.spec import MODELS, PARTS

TABLES = {"COCO": "openpose-layers-coco.tsv", "MPI": "openpose-layers-mpi.tsv",
          "MPI_4": "openpose-layers-mpi-4-stages.tsv", "BODY_25": "openpose-layers-body25.tsv",
          "HAND": "openpose-layers-hand.tsv", "FACE": "openpose-layers-face.tsv"}
BODY_25 = MODELS["BODY_25"]
ALL = {**MODELS, **PARTS}


@pytest.mark.parametrize("name", ALL)
def test_committed_deploy_files_regenerate_byte_for_byte(name):
    spec = ALL[name]
    assert spec.prototxt.read_text() == deploy_text(spec)


@pytest.mark.parametrize("name", ALL)
def test_layers_equal_openpose_tables(name, shared_dir):
    rows = [l.rstrip("\n").split("\t") for l in (shared_dir / "docs" / TABLES[name]).open()][1:]
    dash = lambda v: "-" if v is None else str(v)
    mine = [[l.name, l.type, ",".join(l.bottoms), l.top, dash(l.num_output), dash(l.kernel),
             dash(l.pad), dash(l.stride)] for l in build_layers(ALL[name])]
    assert len(mine) == len(rows)
    for theirs, ours in zip(rows, mine):
        assert ours == theirs


def test_mpi_4_is_mpi_cut_after_stage_4():
    assert build_layers(MODELS["MPI"], stages=4) == build_layers(MODELS["MPI_4"])


@pytest.mark.parametrize("stages, convs", [(1, 12 + 10), (2, 22 + 14), (6, 22 + 5 * 14)])
def test_stage_cuts_keep_names_and_output(stages, convs):
    layers = build_layers(MODELS["COCO"], stages=stages)
    assert sum(l.type == "Convolution" for l in layers) == convs
    final = layers[-1]
    assert final.name == "concat_stage7" and final.top == "concat_stage7"
    assert final.bottoms == (f"Mconv7_stage{stages}_L2", f"Mconv7_stage{stages}_L1") if stages > 1 \
        else final.bottoms == ("conv5_5_CPM_L2", "conv5_5_CPM_L1")


def test_body25_cut_after_step_5_drops_the_second_heatmap_stage():
    full, cut = build_layers(BODY_25), build_layers(BODY_25, stages=5)
    assert [l.name for l in cut[:-1]] == [l.name for l in full if "stage1_L1" not in l.name][:-1]
    assert cut[-1].name == "net_output" and cut[-1].bottoms == ("Mconv7_stage0_L1", "Mconv7_stage3_L2")
    assert full[-1].bottoms == ("Mconv7_stage1_L1", "Mconv7_stage3_L2")
    assert list(valid_stages(BODY_25)) == [5, 6] and list(valid_stages(MODELS["COCO"])) == list(range(1, 7))


def test_body25_uses_prelu_past_conv4_1_and_keeps_the_output_width_when_narrowed():
    layers = build_layers(BODY_25, width=0.125)
    types = [l.type for l in layers]
    assert types.count("PReLU") == 99 and types.count("ReLU") == 9
    assert types.index("PReLU") == [l.name for l in layers].index("conv4_2") + 1
    by_name = {l.name: l for l in layers}
    assert by_name["Mconv1_stage0_L2_0"].num_output == 12 and by_name["Mconv6_stage3_L2"].num_output == 64
    assert by_name["Mconv7_stage3_L2"].num_output == 52 and by_name["Mconv7_stage1_L1"].num_output == 26


def test_narrow_width_scales_inner_layers_only():
    layers = {l.name: l for l in build_layers(MODELS["COCO"], width=0.125)}
    assert layers["conv1_1"].num_output == 8
    assert layers["conv4_4_CPM"].num_output == 16
    assert layers["Mconv7_stage6_L1"].num_output == 38
    assert layers["Mconv7_stage6_L2"].num_output == 19


def test_bad_cuts_are_refused():
    with pytest.raises(ValueError, match="stages must be 1..6"):
        build_layers(MODELS["COCO"], stages=7)
    with pytest.raises(ValueError, match="width"):
        build_layers(MODELS["COCO"], width=0)
    for stages in (4, 7):
        with pytest.raises(ValueError, match=r"^stages must be 5..6, got \d \(BODY_25's heatmap stages follow"):
            build_layers(BODY_25, stages=stages)


def test_print_command(capsys):
    assert architecture_main(["--print", "mpi", "--stages", "2"]) == 0
    assert "Mconv7_stage2_L1" in capsys.readouterr().out
    assert architecture_main(["--print", "body_25", "--stages", "5"]) == 0
    assert "Mconv7_stage0_L1" in capsys.readouterr().out
    assert architecture_main(["--print", "BODY_25", "--stages", "4"]) == 2
    assert architecture_main(["--print", "hand"]) == 0
    assert 'top: "net_output"' in capsys.readouterr().out
    assert architecture_main(["--print", "FOOT"]) == 2


@pytest.mark.parametrize("name, outputs", [("HAND", 22), ("FACE", 71)])
def test_hand_and_face_nets_keep_their_output_when_cut_or_narrowed(name, outputs):
    spec = PARTS[name]
    for stages in (1, 2, 6):
        layers = {l.name: l for l in build_layers(spec, stages=stages, width=0.125)}
        last = "conv6_2_CPM" if stages == 1 else f"Mconv7_stage{stages}"
        assert layers[last].num_output == outputs and layers[last].top == "net_output"
        assert list(layers)[-1] == last
    narrow = {l.name: l for l in build_layers(spec, width=0.125)}
    assert narrow["conv4_4"].num_output == 64 and narrow["conv5_3_CPM"].num_output == 16
    concats = [l for l in narrow.values() if l.type == "Concat"]
    assert len(concats) == 5 and concats[0].bottoms == ("conv6_2_CPM", "conv5_3_CPM")
    assert list(valid_stages(spec)) == list(range(1, 7))
