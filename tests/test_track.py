"""pose.analysis.track: ids across frames and label smoothing, on synthetic sequences."""
import numpy as np
import pytest

from pose.analysis.track import LabelSmoother, Tracker, body_size, greedy_match, match_costs
from pose.core.person import PoseClass
from pose.families.openpose.spec import MODELS
from tests.support import skeletons as S

COCO = MODELS["COCO"]
FPS = 10.0


def walker(x, pose=S.STANDING, y=150.0, scale=1.0, spec=COCO, **kw):
    return S.make(spec, at=(x, y), scale=scale, **{**pose, **kw})


def run(tracker, frames):
    """Feed frames (lists of people) at FPS; return the ids of each frame."""
    return [[p.track_id for p in tracker.update(people, k / FPS)]
            for k, people in enumerate(frames)]


# --- matching -----------------------------------------------------------------------

def test_cost_is_mean_joint_distance_over_body_size():
    a = walker(300.0).keypoints
    b = a.copy()
    b[:, 0] += 20.0  # every visible joint moves 20 px
    b[b[:, 2] == 0] = 0
    cost = match_costs(a[None], b[None])[0, 0]
    assert cost == pytest.approx(20.0 / body_size(a))
    # The same motion is a smaller step for a person twice the size.
    big = walker(300.0, scale=2.0).keypoints
    moved = big.copy()
    moved[:, 0] += 20.0
    assert match_costs(big[None], moved[None])[0, 0] == pytest.approx(cost / 2, rel=0.01)


def test_people_with_no_joint_in_common_never_match():
    a = walker(300.0, missing=[n for n in COCO.keypoints if n != "Nose"]).keypoints
    b = walker(300.0, missing=["Nose"]).keypoints
    assert np.isinf(match_costs(a[None], b[None])[0, 0])


def test_greedy_match_takes_the_cheapest_pairs_within_the_gate():
    costs = np.array([[0.1, 0.2], [0.05, 0.9], [0.4, 0.45]])
    assert greedy_match(costs, 0.5) == [(1, 0), (0, 1)]
    assert greedy_match(costs, 0.08) == [(1, 0)]
    assert greedy_match(np.zeros((0, 3)), 0.5) == []


# --- ids ----------------------------------------------------------------------------

def test_ids_persist_while_people_walk():
    frames = [[walker(100 + 8 * k), walker(500 - 5 * k, S.STOP)] for k in range(20)]
    assert run(Tracker(COCO), frames) == [[1, 2]] * 20


@pytest.mark.parametrize("pose_b", [S.STOP, S.STANDING], ids=["different", "identical"])
def test_people_crossing_keep_their_ids(pose_b):
    # A walks right, B walks left; they meet at x=300 in frame 10 (identical poses
    # coincide exactly there), and the detector lists them in a shuffled order.
    tracker = Tracker(COCO)
    seen = []  # per frame: walker -> id (the score field names the walker)
    for k in range(21):
        a, b = walker(100 + 20 * k), walker(500 - 20 * k, pose_b)
        a.score, b.score = 1.0, 2.0
        people = [a, b] if k % 3 else [b, a]
        tracker.update(people, k / FPS)
        seen.append({p.score: p.track_id for p in people})
    assert seen[0] == {1.0: 2, 2.0: 1} or seen[0] == {1.0: 1, 2.0: 2}
    after = [s for k, s in enumerate(seen) if k != 10]  # where they coincide either is right
    assert all(s == seen[0] for s in after), seen


def test_a_new_person_gets_a_new_id_and_ids_are_never_reused():
    frames = ([[walker(100)]] * 5 + [[walker(100), walker(500)]] * 5  # B enters
              + [[walker(500)]] * 15  # A leaves for good
              + [[walker(500), walker(100)]] * 2)  # someone enters where A was
    ids = run(Tracker(COCO, max_missing=10), frames)
    assert ids[:5] == [[1]] * 5
    assert ids[5:10] == [[1, 2]] * 5
    assert ids[10:25] == [[2]] * 15
    assert ids[25:] == [[2, 3]] * 2


def test_one_missing_frame_keeps_the_id():
    frames = [[walker(100 + 10 * k), walker(500)] for k in range(12)]
    frames[6] = [frames[6][1]]  # the walker is not detected in frame 6
    frames[8] = []  # nobody is detected in frame 8
    ids = run(Tracker(COCO), frames)
    assert ids[6] == [2] and ids[8] == []
    assert all(i == [1, 2] for k, i in enumerate(ids) if k not in (6, 8))


def test_a_track_ends_after_max_missing_frames():
    frames = [[walker(100)]] * 3 + [[]] * 3 + [[walker(100)]]
    assert run(Tracker(COCO, max_missing=3), frames)[-1] == [1]
    assert run(Tracker(COCO, max_missing=2), frames)[-1] == [2]


def test_a_jump_beyond_max_distance_is_a_new_person():
    frames = [[walker(100)], [walker(400)]]
    assert run(Tracker(COCO), frames) == [[1], [2]]
    assert run(Tracker(COCO, max_distance=2.0), frames) == [[1], [1]]


def test_mpi_layout_tracks_too():
    spec = MODELS["MPI"]
    frames = [[walker(100 + 10 * k, spec=spec), walker(500, spec=spec)] for k in range(5)]
    assert run(Tracker(spec), frames) == [[1, 2]] * 5


def test_an_empty_first_frame_and_bad_input():
    tracker = Tracker(COCO)
    assert tracker.update([], 0.0) == []
    tracker.update([walker(100)], 0.1)
    with pytest.raises(ValueError, match="earlier"):
        tracker.update([walker(100)], 0.05)
    with pytest.raises(ValueError, match="shape"):
        tracker.update([walker(100, spec=MODELS["MPI"])], 0.2)
    for kw, word in ((dict(window=0), "window"), (dict(method="median"), "method"),
                     (dict(max_distance=0), "max_distance"), (dict(max_missing=-1), "max_missing")):
        with pytest.raises(ValueError, match=word):
            Tracker(COCO, **kw)


# --- smoothing ----------------------------------------------------------------------

def push_all(smoother, labels, conf=0.9):
    return [smoother.push(lab, conf)[0] for lab in labels]


@pytest.mark.parametrize("method, window", [("majority", 3), ("majority", 5),
                                             ("hysteresis", 2), ("hysteresis", 3)])
def test_a_single_frame_flip_does_not_change_the_label(method, window):
    raw = ["standing"] * 6 + ["sitting"] + ["standing"] * 6
    assert push_all(LabelSmoother(window, method), raw) == ["standing"] * len(raw)


def test_majority_switches_once_the_new_label_has_most_votes():
    raw = ["standing"] * 5 + ["sitting"] * 5
    out = push_all(LabelSmoother(5, "majority"), raw)
    assert out == ["standing"] * 7 + ["sitting"] * 3  # the 3rd sitting frame wins 3 of 5


def test_hysteresis_switches_after_window_frames_in_a_row():
    s = LabelSmoother(3, "hysteresis")
    raw = ["standing"] * 3 + ["sitting", "sitting", "standing"] + ["sitting"] * 3
    assert push_all(s, raw) == ["standing"] * 8 + ["sitting"]


def test_unknown_frames_abstain():
    s = LabelSmoother(5, "majority")
    push_all(s, ["hello"] * 3)
    assert s.push("unknown", 0.0) == ("hello", pytest.approx(3 * 0.9 / 4))
    assert s.push("unknown", 0.0) == ("hello", pytest.approx(3 * 0.9 / 5))
    for _ in range(2):
        s.push("unknown", 0.0)
    assert s.push("unknown", 0.0) == ("unknown", 0.0)  # nothing known left in the window
    h = LabelSmoother(2, "hysteresis")
    assert push_all(h, ["none", "hello", "unknown", "hello"]) == ["none", "none", "none", "hello"]


def test_smoothed_confidence_counts_the_agreeing_frames():
    s = LabelSmoother(5, "majority")
    for lab, c in (("stop", 0.8), ("stop", 0.6), ("hello", 1.0), ("stop", 0.7)):
        label, conf = s.push(lab, c)
    assert (label, conf) == ("stop", pytest.approx((0.8 + 0.6 + 0.7) / 4))


def test_majority_tie_keeps_the_current_label():
    s = LabelSmoother(4, "majority")
    assert push_all(s, ["sitting", "sitting", "standing", "standing"]) == ["sitting"] * 4


def test_window_of_one_is_no_smoothing():
    raw = ["standing", "sitting", "standing", "lying"]
    assert push_all(LabelSmoother(1, "majority"), raw) == raw
    assert push_all(LabelSmoother(1, "hysteresis"), raw) == raw


def test_tracker_smooths_a_one_frame_gesture_flicker():
    frames = [[walker(100, S.HELLO_RIGHT if k == 5 else S.STANDING)] for k in range(12)]
    tracker = Tracker(COCO, window=5)
    raw = []
    for k, people in enumerate(frames):
        tracker.update(people, k / FPS)
        raw.append(people[0].pose_class.gesture)
    assert raw == ["none"] * 12
    assert tracker.timeline() == ["person 1: standing 0.0-1.2 s"]


def test_tracker_uses_a_given_raw_pose_class():
    p = walker(100)
    p.pose_class = PoseClass("stop", 0.7, "sitting", 0.6)
    Tracker(COCO).update([p], 0.0)
    assert p.pose_class == PoseClass("stop", 0.7, "sitting", 0.6)
    assert p.track_id == 1


def test_without_classification_only_ids_are_set():
    tracker = Tracker(COCO, classify_people=False)
    people = [walker(100), walker(500)]
    tracker.update(people, 0.0)
    tracker.update(people, 0.5)
    assert [(p.track_id, p.pose_class) for p in people] == [(1, None), (2, None)]
    assert tracker.timeline() == [
        "person 1: seen 0.0-1.0 s, no gesture or posture recognised",
        "person 2: seen 0.0-1.0 s, no gesture or posture recognised"]


# --- timeline -----------------------------------------------------------------------

def _stander_and_sitter() -> list:
    """Person 1 stands for 4.2 s and waves from 1.5 s to 3.0 s; person 2 enters at 1.0 s
    sitting, is missed for one frame, and leaves at 2.0 s (30 fps)."""
    frames = []
    for k in range(42):
        a = walker(100, S.HELLO_RIGHT if 15 <= k < 30 else S.STANDING)
        b = walker(500, S.SITTING_SIDE)
        frames.append([a, b] if 10 <= k < 20 and k != 14 else [a])
    return frames


def test_timeline_lists_labelled_spans_per_person():
    tracker = Tracker(COCO, window=1)
    run(tracker, _stander_and_sitter())
    assert tracker.timeline() == [
        "person 1: standing 0.0-4.2 s, hello 1.5-3.0 s",
        "person 2: sitting 1.0-2.0 s"]


def test_timeline_with_smoothing_lag():
    frames = [[walker(100, S.HELLO_RIGHT if 15 <= k < 30 else S.STANDING)] for k in range(42)]
    tracker = Tracker(COCO, window=5)
    run(tracker, frames)
    # Majority of 5: the label turns on the 3rd Hello frame and off on the 3rd after.
    assert tracker.timeline() == ["person 1: standing 0.0-4.2 s, hello 1.7-3.2 s"]


def test_timeline_splits_on_label_changes():
    poses = [S.STANDING] * 10 + [S.SITTING_SIDE] * 10 + [S.STANDING] * 10
    tracker = Tracker(COCO, window=1)
    run(tracker, [[walker(100, p)] for p in poses])
    assert tracker.timeline() == [
        "person 1: standing 0.0-1.0 s, sitting 1.0-2.0 s, standing 2.0-3.0 s"]


def test_ids_survive_jitter_and_dropped_joints():
    # Three people, two crossing close in front of a third; every joint jitters by
    # 3 px (sd) and each is lost with probability 0.2 in any frame.
    rng = np.random.default_rng(1)
    tracker = Tracker(COCO)
    seen = []
    for k in range(60):
        people = [walker(100 + 6 * k, S.HELLO_RIGHT), walker(460 - 6 * k, y=170.0),
                  walker(280 + 2 * np.sin(k), S.SITTING_SIDE, y=120.0, scale=0.7)]
        for n, p in enumerate(people):
            p.score = float(n)
            vis = p.keypoints[:, 2] > 0
            p.keypoints[vis, :2] += rng.normal(0, 3, (vis.sum(), 2))
            p.keypoints[rng.random(len(p.keypoints)) < 0.2] = 0
        rng.shuffle(people)
        tracker.update(people, k / 30)
        seen.append({p.score: p.track_id for p in people})
    assert all(s == seen[0] for s in seen), [k for k, s in enumerate(seen) if s != seen[0]]
    assert sorted(seen[0].values()) == [1, 2, 3]


def test_runs_give_every_label_over_time_split_where_a_person_went_unseen():
    tracker = Tracker(COCO, window=1)
    run(tracker, _stander_and_sitter())
    one, two = tracker.runs()
    assert (one.track_id, two.track_id) == (1, 2)
    rounded = lambda runs: [(label, round(a, 3), round(b, 3)) for label, a, b in runs]
    assert rounded(one.gesture) == [("none", 0.0, 1.5), ("hello", 1.5, 3.0), ("none", 3.0, 4.2)]
    assert rounded(one.posture) == [("standing", 0.0, 4.2)]
    # frame 14 is missing: the strip has a hole there (the text timeline bridges it)
    assert rounded(two.posture) == [("sitting", 1.0, 1.4), ("sitting", 1.5, 2.0)]
    assert rounded(two.gesture) == [("none", 1.0, 1.4), ("none", 1.5, 2.0)]
