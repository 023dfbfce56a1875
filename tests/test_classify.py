"""pose.analysis.classify on canonical skeletons built in code (tests/support/skeletons.py)."""
import numpy as np
import pytest

from pose.analysis.classify import (
    DEFAULT_THRESHOLDS,
    GESTURES,
    POSTURES,
    SEED_THRESHOLDS,
    ClassifyThresholds,
    classify,
    forearm_angle,
    knee_angle,
    label_text,
    pose_class_json,
)
from pose.core.person import Person, PoseClass
from pose.families.openpose.spec import MODELS
from tests.support import skeletons as S

LAYOUTS = ["COCO", "MPI", "MPI_4"]
BOTH = [DEFAULT_THRESHOLDS, SEED_THRESHOLDS]
C = 0.9  # keypoint confidence of the built skeletons


def _margin(distance, band):
    return 0.5 + 0.5 * min(abs(distance) / band, 1.0)


@pytest.fixture(params=LAYOUTS)
def spec(request):
    return MODELS[request.param]


# --- canonical poses ---------------------------------------------------------------

@pytest.mark.parametrize("th", BOTH, ids=["default", "seed"])
@pytest.mark.parametrize("pose, gesture, posture", [
    (S.STANDING, "none", "standing"),
    (S.HELLO_RIGHT, "hello", "standing"),
    (S.HELLO_LEFT, "hello", "standing"),
    (S.STOP, "stop", "standing"),
    (S.SITTING_SIDE, "none", "sitting"),
    (S.SITTING_FRONT, "none", "sitting"),
    ({**S.STOP, **S.SITTING_SIDE}, "stop", "sitting"),
    ({**S.HELLO_LEFT, **S.SITTING_FRONT}, "hello", "sitting"),
])
def test_canonical_pose(spec, th, pose, gesture, posture):
    pc = classify(S.make(spec, **pose), spec, th)
    assert (pc.gesture, pc.posture) == (gesture, posture)
    assert pc.gesture_confidence == pytest.approx(C, abs=0.01)
    assert pc.posture_confidence == pytest.approx(C, abs=0.01)


def test_layouts_agree_on_the_same_body():
    for pose in (S.STANDING, S.HELLO_RIGHT, S.STOP, S.SITTING_SIDE, S.SQUAT, S.LYING):
        results = {name: classify(S.make(MODELS[name], **pose), MODELS[name]) for name in LAYOUTS}
        assert len({(r.gesture, r.posture) for r in results.values()}) == 1, results


def test_confidence_follows_keypoint_confidence(spec):
    pc = classify(S.make(spec, confidence=0.6, **S.HELLO_RIGHT), spec)
    assert pc.gesture_confidence == pytest.approx(0.6)
    assert pc.posture_confidence == pytest.approx(0.6)
    # One weak joint of the raised arm lowers only the gesture's confidence.
    pc = classify(S.make(spec, low={"RWrist": 0.3}, **S.HELLO_RIGHT), spec)
    assert (pc.gesture, pc.gesture_confidence) == ("hello", pytest.approx(0.3))
    assert pc.posture_confidence == pytest.approx(C)


# --- gesture thresholds -------------------------------------------------------------

def _arm(spec, forearm_deg, th=DEFAULT_THRESHOLDS):
    """Right upper arm held out level (elbow at shoulder height), forearm at an angle."""
    return classify(S.make(spec, upper_arm=(180.0, S.DOWN), forearm=(forearm_deg, S.DOWN)),
                    spec, th)


@pytest.mark.parametrize("th", BOTH, ids=["default", "seed"])
@pytest.mark.parametrize("angle, gesture", [
    (29.5, "none"), (30.5, "hello"), (90.0, "hello"), (149.5, "hello"), (150.5, "none"),
    (0.0, "none"), (180.0, "none"), (-45.0, "none"),
])
def test_forearm_angle_thresholds(spec, th, angle, gesture):
    assert _arm(spec, angle, th).gesture == gesture


def test_confidence_is_a_coin_flip_at_the_threshold(spec):
    for angle in (29.5, 30.5, 149.5, 150.5):
        pc = _arm(spec, angle)
        assert pc.gesture_confidence == pytest.approx(C * _margin(0.5, 15.0))
    assert _arm(spec, 45.0).gesture_confidence == pytest.approx(C)  # one band inside
    assert _arm(spec, 37.5).gesture_confidence == pytest.approx(C * 0.75)  # half a band


def test_forearm_angle_measures_above_the_horizontal_with_y_down():
    assert forearm_angle(np.array([0.0, 0.0]), np.array([0.0, -1.0])) == pytest.approx(90)
    assert forearm_angle(np.array([0.0, 0.0]), np.array([1.0, 0.0])) == pytest.approx(0)
    assert forearm_angle(np.array([0.0, 0.0]), np.array([-1.0, -1.0])) == pytest.approx(135)
    assert forearm_angle(np.array([0.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(-90)


def _wrist_at(spec, below_shoulder_upper_arms, th=DEFAULT_THRESHOLDS):
    """Short forearm straight up (90 deg), wrist a given number of upper-arm lengths
    below the right shoulder (negative = above)."""
    j = S.joints()
    sh, forearm = j["RShoulder"], 20.0
    dy = below_shoulder_upper_arms * S.UPPER_ARM + forearm  # elbow below the shoulder
    j["RElbow"] = sh + [-np.sqrt(S.UPPER_ARM ** 2 - dy ** 2), dy]
    j["RWrist"] = j["RElbow"] - [0.0, forearm]
    assert np.linalg.norm(j["RElbow"] - sh) == pytest.approx(S.UPPER_ARM)
    return classify(S.person(spec, j), spec, th)


def test_improvement_hand_must_reach_shoulder_height(spec):
    # Case: forearm up but the hand at chest height (holding a phone, planting a ski
    # pole): the seed calls it Hello, the improved rule does not.
    low = _wrist_at(spec, 0.2)
    assert low.gesture == "none"
    assert low.gesture_confidence == pytest.approx(C * _margin(0.2, 0.25))
    assert _wrist_at(spec, 0.2, SEED_THRESHOLDS).gesture == "hello"
    assert _wrist_at(spec, -0.05).gesture == "hello"
    assert _wrist_at(spec, 0.05).gesture == "none"
    # A hand hanging at the chest with the elbow down, built from angles.
    chest = S.make(spec, upper_arm=(S.DOWN, S.DOWN), forearm=(S.UP, S.DOWN))
    assert classify(chest, spec).gesture == "none"
    assert classify(chest, spec, SEED_THRESHOLDS).gesture == "hello"


def test_hand_height_threshold_is_configurable(spec):
    lenient = ClassifyThresholds(wrist_below_shoulder=0.5)
    assert _wrist_at(spec, 0.2, lenient).gesture == "hello"
    assert _wrist_at(spec, 0.6, lenient).gesture == "none"


# --- posture thresholds (seed leg rule) ---------------------------------------------

def _legs(spec, knee_deg, thigh_scale=1.0, th=SEED_THRESHOLDS):
    """Both thighs straight down (scaled), shins bent forward to a knee angle."""
    shin_dir = 90.0 - knee_deg  # knee -> hip points up (90 deg); turn by the knee angle
    return classify(S.make(spec, shin=(shin_dir, shin_dir),
                           thigh_length=(thigh_scale, thigh_scale)), spec, th)


@pytest.mark.parametrize("knee, posture", [
    (180.0, "standing"), (121.0, "standing"), (119.0, "sitting"), (90.0, "sitting"),
    (41.0, "sitting"), (39.0, "standing"),
])
def test_seed_knee_angle_thresholds(spec, knee, posture):
    assert _legs(spec, knee).posture == posture


@pytest.mark.parametrize("ratio, posture", [(1.48, "standing"), (1.52, "sitting"), (3.0, "sitting")])
def test_seed_shin_thigh_ratio_threshold(spec, ratio, posture):
    pc = _legs(spec, 180.0, thigh_scale=1.0 / ratio)
    assert pc.posture == posture
    assert pc.posture_confidence == pytest.approx(C * _margin(ratio - 1.5, 0.3), abs=1e-6)


def test_knee_angle_is_180_for_a_straight_leg():
    hip, knee = np.array([0.0, 0.0]), np.array([0.0, 10.0])
    assert knee_angle(hip, knee, np.array([0.0, 20.0])) == pytest.approx(180)
    assert knee_angle(hip, knee, np.array([10.0, 10.0])) == pytest.approx(90)


# --- posture improvements -----------------------------------------------------------

@pytest.mark.parametrize("drop, posture", [(0.45, "sitting"), (0.55, "standing")])
def test_knee_drop_threshold(spec, drop, posture):
    pc = _legs(spec, 180.0, thigh_scale=drop * S.TORSO / S.THIGH, th=DEFAULT_THRESHOLDS)
    assert pc.posture == posture
    assert pc.posture_confidence == pytest.approx(C * _margin(0.05, 0.25))


def test_improvement_squat_is_not_standing(spec):
    # Case: knees folded tighter than 40 deg (catcher's crouch, coco 196141 #2):
    # the seed's angle window misses it and says standing.
    assert classify(S.make(spec, **S.SQUAT), spec, SEED_THRESHOLDS).posture == "standing"
    assert classify(S.make(spec, **S.SQUAT), spec).posture == "sitting"


def test_improvement_a_bent_swing_leg_is_not_sitting(spec):
    # Case: walking / batting stance, one knee bent to 110 deg, the other leg under the
    # body (coco 196141 #0): the seed's "either leg" angle rule says sitting.
    stride = S.make(spec, thigh=(-60.0, S.DOWN), shin=(-130.0, S.DOWN))
    assert classify(stride, spec, SEED_THRESHOLDS).posture == "sitting"
    assert classify(stride, spec).posture == "standing"


def test_improvement_a_foreshortened_leaning_thigh_is_not_sitting(spec):
    # Case: a skier leaning toward the camera, one thigh foreshortened (shin/thigh 1.8,
    # coco 197388 #1): the seed's ratio rule says sitting.
    lean = S.make(spec, thigh_length=(1 / 1.8, 1.0))
    assert classify(lean, spec, SEED_THRESHOLDS).posture == "sitting"
    assert classify(lean, spec).posture == "standing"


def test_improvement_ankles_hidden_behind_a_desk(spec):
    # Case: sitting at a table, ankles not visible (coco 40083 #1): the seed's leg rule
    # needs ankles and cannot decide; the knee drop needs none.
    desk = S.make(spec, missing=("RAnkle", "LAnkle"), **S.SITTING_SIDE)
    assert classify(desk, spec, SEED_THRESHOLDS).posture == "unknown"
    assert classify(desk, spec).posture == "sitting"


@pytest.mark.parametrize("rotate", [90.0, -90.0, 70.0, 110.0])
def test_improvement_lying_is_not_standing(spec, rotate):
    # Case: a body lying flat has straight legs: the seed says standing.
    body = S.make(spec, rotate=rotate)
    assert classify(body, spec, SEED_THRESHOLDS).posture == "standing"
    pc = classify(body, spec)
    assert pc.posture == "lying"
    assert pc.posture_confidence == pytest.approx(C)  # 20 deg or more past both thresholds


def test_lying_thresholds(spec):
    assert classify(S.make(spec, rotate=45.0), spec).posture != "lying"
    assert classify(S.make(spec, rotate=55.0), spec).posture == "lying"
    assert classify(S.make(spec, rotate=55.0), spec,
                    ClassifyThresholds(lying_torso_deg=60.0, lying_legs_deg=60.0)).posture != "lying"


def test_bending_over_is_standing_not_lying(spec):
    # Torso level (picking something up) but the legs still straight under the hips.
    j = S.joints()
    hips = (j["RHip"] + j["LHip"]) / 2
    a = np.radians(80.0)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    upper = ("Neck", "Nose", "Head", "REye", "LEye", "REar", "LEar", "Chest",
             "RShoulder", "LShoulder", "RElbow", "LElbow", "RWrist", "LWrist")
    j.update({n: hips + rot @ (j[n] - hips) for n in upper})
    assert classify(S.person(spec, j), spec).posture == "standing"


# --- missing joints -> unknown ------------------------------------------------------

@pytest.mark.parametrize("th", BOTH, ids=["default", "seed"])
@pytest.mark.parametrize("missing", [("RWrist",), ("LElbow",), ("RWrist", "LWrist")])
def test_a_missing_arm_joint_makes_gesture_unknown(spec, th, missing):
    pc = classify(S.make(spec, missing=missing, **S.HELLO_RIGHT), spec, th)
    assert (pc.gesture, pc.gesture_confidence) == ("unknown", 0.0)
    assert pc.posture == "standing"


def test_missing_is_not_read_as_the_image_corner(spec):
    # OpenPose writes a missing part as (0, 0, 0); read as a point, a hidden left wrist
    # would sit "above" the left elbow and turn this Hello into Stop.
    pc = classify(S.make(spec, missing=("LWrist",), **S.HELLO_RIGHT), spec, SEED_THRESHOLDS)
    assert pc.gesture == "unknown"


@pytest.mark.parametrize("confidence, gesture", [(0.05, "unknown"), (0.1, "hello"), (0.2, "hello")])
def test_keypoints_below_the_minimum_confidence_are_missing(spec, confidence, gesture):
    pc = classify(S.make(spec, low={"RWrist": confidence}, **S.HELLO_RIGHT), spec)
    assert pc.gesture == gesture
    stricter = ClassifyThresholds(min_keypoint_confidence=0.3)
    assert classify(S.make(spec, low={"RWrist": 0.2}, **S.HELLO_RIGHT), spec,
                    stricter).gesture == "unknown"


def test_neck_stands_in_for_a_missing_shoulder(spec):
    pc = classify(S.make(spec, missing=("RShoulder",), **S.HELLO_RIGHT), spec)
    assert pc.gesture == "hello"
    pc = classify(S.make(spec, missing=("RShoulder", "Neck"), **S.HELLO_RIGHT), spec)
    assert pc.gesture == "unknown"
    # The seed's rule needs no shoulder.
    pc = classify(S.make(spec, missing=("RShoulder", "Neck"), **S.HELLO_RIGHT), spec,
                  SEED_THRESHOLDS)
    assert pc.gesture == "hello"


@pytest.mark.parametrize("th", BOTH, ids=["default", "seed"])
@pytest.mark.parametrize("missing", [
    ("RHip", "LHip"), ("RKnee", "LKnee"), ("RHip", "LHip", "RKnee", "LKnee", "RAnkle", "LAnkle"),
])
def test_missing_leg_joints_make_posture_unknown(spec, th, missing):
    pc = classify(S.make(spec, missing=missing), spec, th)
    assert (pc.posture, pc.posture_confidence) == ("unknown", 0.0)


def test_posture_needs_a_torso_top_with_the_improved_rules(spec):
    assert classify(S.make(spec, missing=("Neck",)), spec).posture == "standing"
    gone = ("Neck", "RShoulder", "LShoulder")
    assert classify(S.make(spec, missing=gone), spec).posture == "unknown"
    assert classify(S.make(spec, missing=gone), spec, SEED_THRESHOLDS).posture == "standing"


def test_seed_leg_rule_needs_both_legs_to_say_standing(spec):
    one_leg = S.make(spec, missing=("LAnkle",))
    assert classify(one_leg, spec, SEED_THRESHOLDS).posture == "unknown"
    sitting_leg = S.make(spec, missing=("LAnkle",), **S.SITTING_SIDE)
    assert classify(sitting_leg, spec, SEED_THRESHOLDS).posture == "sitting"


def test_nothing_found_is_unknown(spec):
    pc = classify(Person(np.zeros((spec.n_keypoints, 3)), 0.0), spec)
    assert pc == PoseClass("unknown", 0.0, "unknown", 0.0)


def test_random_people_give_valid_labels_and_confidences(spec):
    rng = np.random.default_rng(0)
    for _ in range(300):
        kp = np.column_stack([rng.uniform(0, 640, spec.n_keypoints),
                              rng.uniform(0, 480, spec.n_keypoints),
                              rng.choice([0.0, 0.05, 0.3, 0.8, 1.2], spec.n_keypoints)])
        kp[rng.random(spec.n_keypoints) < 0.05, :2] = kp[0, :2]  # coincident joints
        pc = classify(Person(kp, 1.0), spec)
        assert pc.gesture in GESTURES and pc.posture in POSTURES
        for label, conf in ((pc.gesture, pc.gesture_confidence), (pc.posture, pc.posture_confidence)):
            assert 0.0 <= conf <= 1.0 and np.isfinite(conf)
            assert (conf == 0.0) == (label == "unknown")


def test_bad_thresholds_are_refused():
    with pytest.raises(ValueError, match="forearm_min_deg"):
        ClassifyThresholds(forearm_min_deg=160.0)
    with pytest.raises(ValueError, match="min_keypoint_confidence"):
        ClassifyThresholds(min_keypoint_confidence=1.5)
    with pytest.raises(ValueError, match="angle_band_deg"):
        ClassifyThresholds(angle_band_deg=0.0)


# --- text and JSON ------------------------------------------------------------------

@pytest.mark.parametrize("pc, text", [
    (PoseClass("hello", 0.9, "standing", 0.8), "Hello | Standing"),
    (PoseClass("stop", 0.9, "sitting", 0.8), "Stop | Sitting"),
    (PoseClass("none", 0.9, "sitting", 0.8), "Sitting"),
    (PoseClass("hello", 0.9, "unknown", 0.0), "Hello"),
    (PoseClass("none", 0.9, "lying", 0.7), "Lying"),
    (PoseClass("unknown", 0.0, "unknown", 0.0), ""),
    (None, ""),
])
def test_label_text(pc, text):
    assert label_text(pc) == text


def test_pose_class_json():
    pc = PoseClass("hello", 0.123456, "standing", np.float64(0.98765))
    out = pose_class_json(pc)
    assert out == {"gesture": "hello", "gesture_confidence": 0.123,
                   "posture": "standing", "posture_confidence": 0.988}
    assert all(type(v) in (str, float) for v in out.values())
