"""The model facts in pose.families.openpose.spec against OpenPose's published tables."""
import csv

import pytest

from pose.families.openpose.spec import DOWNLOADS, MODELS

BODY_25 = MODELS["BODY_25"]


def _table(shared_dir, name):
    with open(shared_dir / "docs" / name, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _rgb(text):
    return tuple(int(v) for v in text.split(","))


def test_grouping_only_pairs_are_not_drawn():
    coco, mpi = MODELS["COCO"], MODELS["MPI"]
    assert coco.drawn == tuple(range(17)) and coco.drawn_pairs == 17
    assert [coco.pairs[k] for k in coco.grouping_only] == [(2, 16), (5, 17)]  # shoulder-ear
    assert mpi.drawn_pairs == len(mpi.pairs) == 14 and MODELS["MPI_4"].drawn == mpi.drawn
    assert coco.colors_rgb is None and mpi.colors_rgb is None  # the layouts hold theirs (pose.layouts)


def test_body25_keypoints_and_colours(shared_dir):
    rows = _table(shared_dir, "body25-keypoints.tsv")
    assert rows[-1]["name"] == "Background" and int(rows[-1]["heatmap_channel"]) == BODY_25.n_keypoints
    parts = rows[:-1]
    assert BODY_25.keypoints == tuple(r["name"] for r in parts)
    assert all(int(r["heatmap_channel"]) == int(r["index"]) == i for i, r in enumerate(parts))
    assert BODY_25.colors_rgb == tuple(_rgb(r["render_rgb"]) for r in parts)
    assert (BODY_25.n_heatmaps, BODY_25.n_pafs, BODY_25.n_channels) == (26, 52, 78)


def test_body25_pairs_paf_channels_and_drawing(shared_dir):
    rows = _table(shared_dir, "body25-pairs.tsv")
    assert len(rows) == len(BODY_25.pairs) == 26
    for k, r in enumerate(rows):
        a, b = BODY_25.pairs[k]
        assert (int(r["pair_idx"]), a, b) == (k, int(r["partA"]), int(r["partB"]))
        assert (BODY_25.keypoints[a], BODY_25.keypoints[b]) == (r["nameA"], r["nameB"])
        assert BODY_25.paf_channels[k] == (int(r["paf_x_channel_rel"]), int(r["paf_y_channel_rel"]))
        assert BODY_25.paf_channels_absolute()[k] == (int(r["paf_x_channel_abs(net_output)"]),
                                                      int(r["paf_y_channel_abs(net_output)"]))
        assert (k in BODY_25.drawn) == (r["rendered"] == "yes")
        assert BODY_25.colors_rgb[b] == _rgb(r["render_rgb(colour of partB)"])  # a limb takes part B's
    assert sorted(c for xy in BODY_25.paf_channels for c in xy) == list(range(52))
    assert len(BODY_25.drawn) == 24 and BODY_25.grouping_only == (18, 19)
    with pytest.raises(ValueError, match="use spec.drawn"):  # a count cannot say which 24
        BODY_25.drawn_pairs


def test_body25_network_weights_and_thresholds(shared_dir):
    reference = (shared_dir / "docs" / "openpose-reference.md").read_text()
    weights = BODY_25.weights
    assert DOWNLOADS["BODY_25"] is weights and weights.path.name == "pose_iter_584000.caffemodel"
    assert weights.path.parent.name == "body_25" and BODY_25.prototxt.name == "pose_deploy.prototxt"
    assert f"{weights.size:,}" in reference and weights.md5 in reference and weights.sha256 is None
    assert all(url in reference for url in weights.urls) and weights.urls
    assert BODY_25.output_name == "net_output" and BODY_25.stages == 6
    assert BODY_25.thresholds == MODELS["COCO"].thresholds  # "Decoding defaults are COCO's"
