"""The model facts in pose.spec against OpenPose's published tables."""
from pose.spec import MODELS


def test_grouping_only_pairs_are_not_drawn():
    coco, mpi = MODELS["COCO"], MODELS["MPI"]
    assert coco.drawn == tuple(range(17)) and coco.drawn_pairs == 17
    assert [coco.pairs[k] for k in coco.grouping_only] == [(2, 16), (5, 17)]  # shoulder-ear
    assert mpi.drawn_pairs == len(mpi.pairs) == 14 and MODELS["MPI_4"].drawn == mpi.drawn
