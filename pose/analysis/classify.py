"""Gesture (hello / stop) and posture (sitting / standing / lying) of one person.

Geometric rules on the keypoints, looked up by semantic joint (pose.core.layout.JOINTS)
so every layout shares them; a neck or mid-hip the layout lacks is the midpoint of both
shoulders / hips where both are found. Image coordinates: x right, y down; "up" is -y.

Every rule returns a `Decision`: a yes/no answer and a confidence in [0, 1], the
product of
- the weakest keypoint confidence the rule used (clipped to [0, 1]), and
- a margin factor: 0.5 exactly at a threshold (a coin flip), rising linearly to 1.0
  once the measurement is one "band" (angle_band_deg, ratio_band, length_band) away
  from it.
A rule whose joints are missing or below `min_keypoint_confidence` answers None and
the label that needs it is "unknown" with confidence 0: never a guess.

With hand keypoints (--hand), the gesture also looks at the raised arms' hands
(`hand_gesture`): hello needs a raised open hand, stop both arms raised and an open hand
showing its palm; raised fists are "none". Where the hands cannot tell (not found, too
few points, a palm seen edge-on) the arm rules decide; `PoseClass.gesture_rule` says
which did.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from pose.core.estimator import keypoint_threshold
from pose.core.layout import layout_of
from pose.core.person import Person, PoseClass

GESTURES = ("hello", "stop", "none", "unknown")
POSTURES = ("sitting", "standing", "lying", "unknown")
# Labels that say nothing worth drawing or listing in a timeline.
SILENT_LABELS = ("none", "unknown")


@dataclass(frozen=True)
class ClassifyThresholds:
    """Every number the rules use. The seed's values are the defaults.

    The improvements over the seed (`wrist_below_shoulder`, `knee_drop_sitting`,
    `lying_torso_deg`) are on by default; setting them to None restores the seed's
    rules exactly (SEED_THRESHOLDS).
    """

    # A keypoint below this confidence counts as missing (0 is always missing).
    min_keypoint_confidence: float = 0.1
    # Gesture: a forearm (elbow -> wrist) is raised when its angle above the
    # horizontal lies in [min, max] degrees (90 = wrist straight above the elbow).
    forearm_min_deg: float = 30.0
    forearm_max_deg: float = 150.0
    # Improvement: a raised hand must also be at or above shoulder height: the wrist at
    # most this many upper-arm lengths below the shoulder. None = seed (no check).
    wrist_below_shoulder: Optional[float] = 0.0
    # Posture, seed rule per leg (hip, knee, ankle): sitting when shin / thigh >= this
    # (a thigh foreshortened toward the camera) ...
    shin_thigh_ratio: float = 1.5
    # ... or when the knee angle (between thigh and shin, 180 = straight) is in [min, max].
    knee_min_deg: float = 40.0
    knee_max_deg: float = 120.0
    # Improvement, replaces the seed's leg rule: sitting when no knee is at least this
    # many torso lengths (neck -> mid-hip) below its hip. Standing, a thigh hangs down;
    # sitting, it is level or points at the camera, so the knee is barely below the hip
    # in the image. Needs no ankle. None = seed leg rule.
    knee_drop_sitting: Optional[float] = 0.5
    # Improvement: lying when the torso (mid-hip -> neck) leans at least this far from
    # vertical AND the legs (mid-hip -> mid-ankle) point at least `lying_legs_deg` away
    # from straight down. None = seed (no lying check; a lying body reads "standing").
    lying_torso_deg: Optional[float] = 50.0
    lying_legs_deg: float = 50.0
    # Margin bands: how far past a threshold a measurement must be for full confidence.
    angle_band_deg: float = 15.0
    ratio_band: float = 0.3
    length_band: float = 0.25  # in upper-arm lengths (wrist height), torso lengths (knee drop)
    # Hands (--hand). A finger is extended when its tip is at least `finger_reach` times
    # as far from the wrist as the finger's base, and its joints nearly in line: the
    # base-to-tip distance at least `finger_straightness` of the summed segments (1 =
    # straight). An open hand has at least `open_fingers` of its 5 fingers extended.
    finger_reach: float = 1.3
    finger_straightness: float = 0.85
    open_fingers: int = 4
    # The palm faces the camera when, seen from the wrist, the turn from the index
    # finger's base to the little finger's has a palm's sense for that hand, with a sine
    # of at least `palm_turn`; less is a hand seen edge-on (unknown).
    palm_turn: float = 0.15
    # Margin bands of the hand measures (full confidence one band past the threshold):
    # finger reach uses ratio_band; straightness and the palm's sine these.
    straightness_band: float = 0.1
    palm_band: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_keypoint_confidence <= 1.0:
            raise ValueError(f"min_keypoint_confidence must lie in [0, 1], "
                             f"got {self.min_keypoint_confidence}")
        for lo, hi in (("forearm_min_deg", "forearm_max_deg"), ("knee_min_deg", "knee_max_deg")):
            if getattr(self, lo) > getattr(self, hi):
                raise ValueError(f"{lo} ({getattr(self, lo)}) exceeds {hi} ({getattr(self, hi)})")
        for band in ("angle_band_deg", "ratio_band", "length_band", "straightness_band", "palm_band"):
            if getattr(self, band) <= 0:
                raise ValueError(f"{band} must be positive, got {getattr(self, band)}")
        if not 1 <= self.open_fingers <= 5:
            raise ValueError(f"open_fingers must be 1..5, got {self.open_fingers}")


DEFAULT_THRESHOLDS = ClassifyThresholds()
# The seed's rules, for comparison: no shoulder-height check, the per-leg sitting rule,
# no lying check. (Missing joints still read as missing, unlike the seed.)
SEED_THRESHOLDS = ClassifyThresholds(
    wrist_below_shoulder=None, knee_drop_sitting=None, lying_torso_deg=None)


@dataclass(frozen=True)
class Decision:
    """A yes/no answer of one rule; value None = the rule could not be evaluated."""

    value: Optional[bool]
    confidence: float = 0.0


UNKNOWN = Decision(None, 0.0)


def _margin(distance: float, band: float) -> float:
    """0.5 at a threshold, rising to 1.0 once the distance from it reaches `band`."""
    return 0.5 + 0.5 * min(max(abs(float(distance)) / band, 0.0), 1.0)


def _in_range(x: float, lo: float, hi: float, band: float, kp_conf: float) -> Decision:
    inside = lo <= x <= hi
    distance = min(x - lo, hi - x) if inside else max(lo - x, x - hi)
    return Decision(inside, kp_conf * _margin(distance, band))


def _at_least(x: float, threshold: float, band: float, kp_conf: float) -> Decision:
    return Decision(x >= threshold, kp_conf * _margin(x - threshold, band))


def _all(decisions: Iterable[Decision]) -> Decision:
    """AND: true when every part is; unknown if any part is unknown.

    A true answer is as sure as its least sure part; a false one as sure as its
    surest failing part (one clear failure is enough).
    """
    ds = list(decisions)
    if any(d.value is None for d in ds):
        return UNKNOWN
    failing = [d.confidence for d in ds if not d.value]
    if failing:
        return Decision(False, max(failing))
    return Decision(True, min(d.confidence for d in ds))


def _any(decisions: Iterable[Decision]) -> Decision:
    """OR: true as soon as a known part is true (with the surest such part's confidence);
    false only when every part is known and false; otherwise unknown."""
    ds = list(decisions)
    passing = [d.confidence for d in ds if d.value]
    if passing:
        return Decision(True, max(passing))
    if any(d.value is None for d in ds):
        return UNKNOWN
    return Decision(False, min(d.confidence for d in ds))


# Joints a layout may lack, and the two whose midpoint stands in for them.
DERIVED = {"neck": ("right_shoulder", "left_shoulder"), "mid_hip": ("right_hip", "left_hip")}
SIDES = {"R": "right", "L": "left"}


class Joints:
    """Keypoints of one person looked up by semantic joint name (pose.core.layout.JOINTS)."""

    def __init__(self, person: Person, spec: object, min_confidence: float):
        # Python floats: every frame asks ~20 lookups of each person, and numpy scalars
        # made them the classifier's main cost.
        self._kp = np.asarray(person.keypoints, dtype=np.float64).tolist()
        self._layout = layout_of(spec)
        self._min = min_confidence

    def get(self, name: str) -> Optional[Tuple[np.ndarray, float]]:
        """(xy, confidence) of a joint, None when it is missing, or the layout lacks it and
        it cannot be derived (DERIVED)."""
        i = self._layout.joint(name)
        if i is None:
            return self._derived(name)
        x, y, c = self._kp[i]
        if c <= 0.0 or c < self._min:
            return None
        return np.array([x, y]), float(min(c, 1.0))

    def _derived(self, name: str) -> Optional[Tuple[np.ndarray, float]]:
        if name not in DERIVED:
            return None
        ends = [self.get(end) for end in DERIVED[name]]
        if any(end is None for end in ends):
            return None
        return np.mean([end[0] for end in ends], axis=0), min(end[1] for end in ends)

    def first(self, *names: str) -> Optional[Tuple[np.ndarray, float]]:
        """The first of several joints that is present."""
        for name in names:
            hit = self.get(name)
            if hit is not None:
                return hit
        return None

    def middle(self, *names: str) -> Optional[Tuple[np.ndarray, float]]:
        """Mean of those of `names` that are present (None if none is)."""
        hits = [h for h in (self.get(n) for n in names) if h is not None]
        if not hits:
            return None
        return np.mean([h[0] for h in hits], axis=0), min(h[1] for h in hits)


def forearm_angle(elbow: np.ndarray, wrist: np.ndarray) -> float:
    """Angle of elbow -> wrist above the image horizontal, degrees in (-180, 180]."""
    dx, dy = (wrist - elbow).tolist()
    return math.degrees(math.atan2(-dy, dx))


def knee_angle(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> float:
    """Angle at the knee between thigh and shin, degrees: 180 = straight leg."""
    a, b = hip - knee, ankle - knee
    cos = np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def tilt_from(direction: np.ndarray, reference: Tuple[float, float]) -> float:
    """Angle in degrees between a vector and a reference direction (0..180)."""
    n = np.linalg.norm(direction)
    if n < 1e-9:
        return 0.0
    cos = np.dot(direction / n, np.asarray(reference))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


UP, DOWN = (0.0, -1.0), (0.0, 1.0)


def arm_raised(j: Joints, side: str, th: ClassifyThresholds) -> Decision:
    """Is the forearm of side "R"/"L" raised (and, improved rule, the hand high)?"""
    elbow, wrist = j.get(f"{SIDES[side]}_elbow"), j.get(f"{SIDES[side]}_wrist")
    if elbow is None or wrist is None:
        return UNKNOWN
    conf = min(elbow[1], wrist[1])
    angle = _in_range(forearm_angle(elbow[0], wrist[0]), th.forearm_min_deg,
                      th.forearm_max_deg, th.angle_band_deg, conf)
    if th.wrist_below_shoulder is None:
        return angle
    shoulder = j.first(f"{SIDES[side]}_shoulder", "neck")
    if shoulder is None:
        return UNKNOWN
    upper_arm = max(float(np.linalg.norm(shoulder[0] - elbow[0])), 1e-6)
    # Positive when the wrist is higher than the allowed lowest point (y down).
    room = (shoulder[0][1] + th.wrist_below_shoulder * upper_arm - wrist[0][1]) / upper_arm
    height = _at_least(room, 0.0, th.length_band, min(conf, shoulder[1]))
    return _all([angle, height])


def gesture(j: Joints, th: ClassifyThresholds) -> Tuple[str, float]:
    """hello (one forearm raised), stop (both), none; unknown unless both arms are seen."""
    right, left = arm_raised(j, "R", th), arm_raised(j, "L", th)
    if right.value is None or left.value is None:
        return "unknown", 0.0
    conf = min(right.confidence, left.confidence)
    raised = int(right.value) + int(left.value)
    return ("none", "hello", "stop")[raised], conf


# Hand keypoint indices (pose.layouts.hand21): the wrist, then 4 per finger, base to tip.
_WRIST, _FINGERS = 0, tuple(tuple(range(1 + 4 * f, 5 + 4 * f)) for f in range(5))
_INDEX_BASE, _PINKY_BASE = _FINGERS[1][0], _FINGERS[4][0]


def _hand_points(hand: Optional[np.ndarray], th: ClassifyThresholds) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(xy (21, 2), found (21,)) of a hand's keypoints, None when not estimated."""
    if hand is None:
        return None
    kp = np.asarray(hand, dtype=np.float64)
    return kp[:, :2], (kp[:, 2] > 0) & (kp[:, 2] >= th.min_keypoint_confidence)


def finger_extended(hand: np.ndarray, finger: int, th: ClassifyThresholds) -> Decision:
    """Is finger 0 (thumb) .. 4 (little) of (21, 3) hand keypoints stretched out?"""
    points = _hand_points(hand, th)
    idx = (_WRIST, *_FINGERS[finger])
    if points is None or not points[1][list(idx)].all():
        return UNKNOWN
    xy = points[0][list(idx)]
    conf = float(np.clip(np.asarray(hand)[list(idx), 2].min(), 0.0, 1.0))
    wrist, base, tip = xy[0], xy[1], xy[-1]
    path = float(np.linalg.norm(np.diff(xy[1:], axis=0), axis=1).sum())
    reach = np.linalg.norm(tip - wrist) / max(float(np.linalg.norm(base - wrist)), 1e-6)
    straight = np.linalg.norm(tip - base) / max(path, 1e-6)
    return _all([_at_least(float(reach), th.finger_reach, th.ratio_band, conf),
                 _at_least(float(straight), th.finger_straightness, th.straightness_band, conf)])


def hand_open(hand: Optional[np.ndarray], th: ClassifyThresholds) -> Decision:
    """At least `open_fingers` fingers extended; unknown until enough fingers are seen."""
    if hand is None:
        return UNKNOWN
    fingers = [finger_extended(hand, f, th) for f in range(5)]
    extended = sorted((d.confidence for d in fingers if d.value), reverse=True)
    bent = sorted((d.confidence for d in fingers if d.value is False), reverse=True)
    if len(extended) >= th.open_fingers:
        return Decision(True, extended[th.open_fingers - 1])  # the weakest of the needed ones
    if len(bent) > 5 - th.open_fingers:
        return Decision(False, bent[5 - th.open_fingers])
    return UNKNOWN


def palm_facing(hand: Optional[np.ndarray], side: str, th: ClassifyThresholds) -> Decision:
    """Does hand `side` ("R"/"L", the person's) show its palm to the camera?

    Seen from the wrist, a right palm facing the camera has its index base on one side
    of the little finger's and the back of the hand the other; a left hand, mirrored,
    the reverse (image y points down: a right palm turns negatively). Any rotation of
    the hand in the image keeps the sense.
    """
    points = _hand_points(hand, th)
    idx = [_WRIST, _INDEX_BASE, _PINKY_BASE]
    if points is None or not points[1][idx].all():
        return UNKNOWN
    xy = points[0]
    a, b = xy[_INDEX_BASE] - xy[_WRIST], xy[_PINKY_BASE] - xy[_WRIST]
    turn = float(a[0] * b[1] - a[1] * b[0]) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9)
    palm = -turn if side == "R" else turn
    if abs(palm) < th.palm_turn:
        return UNKNOWN  # edge-on: which side shows cannot be told
    conf = float(np.clip(np.asarray(hand)[idx, 2].min(), 0.0, 1.0))
    return Decision(palm > 0, conf * _margin(abs(palm) - th.palm_turn, th.palm_band))


def hand_gesture(person: Person, j: Joints, th: ClassifyThresholds) -> Optional[Tuple[str, float]]:
    """The gesture by the hands of the raised arms, None where they cannot tell (the arm
    rule then stands): hello = a raised open hand; stop = both arms raised and an open
    hand showing its palm; none = only closed hands raised."""
    arms = {side: arm_raised(j, side, th) for side in "RL"}
    raised = [side for side in "RL" if arms[side].value]
    if any(d.value is None for d in arms.values()) or not raised:
        return None  # unknown arms, or none raised: nothing for the hands to add
    hands = {"R": person.hand_right_keypoints, "L": person.hand_left_keypoints}
    opened = {side: hand_open(hands[side], th) for side in raised}
    if any(d.value is None for d in opened.values()):
        return None
    arm_conf = min(d.confidence for d in arms.values())
    open_sides = [side for side in raised if opened[side].value]
    if not open_sides:
        return "none", min(arm_conf, max(opened[side].confidence for side in raised))
    conf = min(arm_conf, max(opened[side].confidence for side in open_sides))
    if len(raised) < 2:
        return "hello", conf
    palms = {side: palm_facing(hands[side], side, th) for side in open_sides}
    facing = [side for side in open_sides if palms[side].value]
    if facing:
        return "stop", min(conf, max(palms[side].confidence for side in facing))
    if any(palms[side].value is None for side in open_sides):
        return None
    return "hello", min(conf, max(palms[side].confidence for side in open_sides))


def leg_sitting(j: Joints, side: str, th: ClassifyThresholds) -> Decision:
    """The seed's per-leg test: foreshortened thigh or a clearly bent knee."""
    parts = [j.get(f"{SIDES[side]}_{p}") for p in ("hip", "knee", "ankle")]
    if any(p is None for p in parts):
        return UNKNOWN
    (hip, ch), (knee, ck), (ankle, ca) = parts
    conf = min(ch, ck, ca)
    thigh = float(np.linalg.norm(knee - hip))
    shin = float(np.linalg.norm(ankle - knee))
    ratio = _at_least(shin / max(thigh, 1e-6), th.shin_thigh_ratio, th.ratio_band, conf)
    bent = _in_range(knee_angle(hip, knee, ankle), th.knee_min_deg, th.knee_max_deg,
                     th.angle_band_deg, conf)
    return _any([ratio, bent])


def _torso(j: Joints) -> Optional[Tuple[np.ndarray, np.ndarray, float]]:
    """(mid-hip, neck, confidence). The mid-hip is the layout's own where it has one and
    found it (BODY_25: a keypoint the net finds, not an average of one or two hips), else
    the hips' midpoint (of one hip where only one is found); the shoulders' likewise
    stand in for a missing neck."""
    hips = j.get("mid_hip") or j.middle("right_hip", "left_hip")
    top = j.get("neck") or j.middle("right_shoulder", "left_shoulder")
    if hips is None or top is None:
        return None
    return hips[0], top[0], min(hips[1], top[1])


# Where the legs end, best first: the ankles; BODY_25's feet (heels, big toes) where the
# ankles were not found, since a foot continues the shin and so points the same way
# from the hips; the knees last (a bent leg's knee points elsewhere).
LEG_ENDS = (("right_ankle", "left_ankle"), ("right_heel", "left_heel", "right_big_toe", "left_big_toe"),
            ("right_knee", "left_knee"))


def lying(j: Joints, th: ClassifyThresholds) -> Decision:
    """Torso far from upright and legs not hanging below the hips (legs: hips -> the
    first of LEG_ENDS found)."""
    assert th.lying_torso_deg is not None
    torso = _torso(j)
    feet = next((end for end in (j.middle(*names) for names in LEG_ENDS) if end is not None), None)
    if torso is None or feet is None:
        return UNKNOWN
    hips, top, conf = torso
    leaning = _at_least(tilt_from(top - hips, UP), th.lying_torso_deg, th.angle_band_deg, conf)
    legs = _at_least(tilt_from(feet[0] - hips, DOWN), th.lying_legs_deg, th.angle_band_deg,
                     min(conf, feet[1]))
    return _all([leaning, legs])


def knees_high(j: Joints, th: ClassifyThresholds) -> Decision:
    """Sitting: no knee clearly below its hip, in torso lengths (the improved rule)."""
    assert th.knee_drop_sitting is not None
    torso = _torso(j)
    if torso is None:
        return UNKNOWN
    hips, top, conf = torso
    length = max(float(np.linalg.norm(top - hips)), 1e-6)
    drops = []
    for side in "RL":
        hip, knee = j.get(f"{SIDES[side]}_hip"), j.get(f"{SIDES[side]}_knee")
        if hip is not None and knee is not None:
            drops.append(((knee[0][1] - hip[0][1]) / length, min(hip[1], knee[1])))
    if not drops:
        return UNKNOWN
    # A standing person has at least one leg under them: the lowest knee decides.
    drop, leg_conf = max(drops)
    return Decision(drop < th.knee_drop_sitting,
                    min(conf, leg_conf) * _margin(drop - th.knee_drop_sitting, th.length_band))


def posture(j: Joints, th: ClassifyThresholds) -> Tuple[str, float]:
    """lying (improved rule), else sitting / standing by the knee-drop or the seed leg rule."""
    lie = None
    if th.lying_torso_deg is not None:
        lie = lying(j, th)
        if lie.value is None:
            return "unknown", 0.0
        if lie.value:
            return "lying", lie.confidence
    if th.knee_drop_sitting is not None:
        sits = knees_high(j, th)
    else:  # the seed: sitting if either leg sits, standing only if both legs stand
        sits = _any([leg_sitting(j, "R", th), leg_sitting(j, "L", th)])
    if sits.value is None:
        return "unknown", 0.0
    conf = sits.confidence if lie is None else min(sits.confidence, lie.confidence)
    return ("sitting" if sits.value else "standing"), conf


def classify(person: Person, spec: object,
             thresholds: ClassifyThresholds = DEFAULT_THRESHOLDS) -> PoseClass:
    """Gesture and posture of one person, each with a confidence in [0, 1]; `spec` is the
    layout (or anything carrying one)."""
    # A model's own bound for keypoints it places but does not trust (pose.core.estimator).
    j = Joints(person, spec, max(thresholds.min_keypoint_confidence, keypoint_threshold(spec)))
    g, gc = gesture(j, thresholds)
    rule = None
    if person.hand_left_keypoints is not None or person.hand_right_keypoints is not None:
        by_hands = hand_gesture(person, j, thresholds)
        rule = "arms" if by_hands is None else "hands"
        g, gc = by_hands or (g, gc)
    p, pc = posture(j, thresholds)
    return PoseClass(gesture=g, gesture_confidence=gc, posture=p, posture_confidence=pc, gesture_rule=rule)


def label_text(pc: Optional[PoseClass]) -> str:
    """Short text to draw by the head, e.g. "Hello | Standing"; "" when nothing is known."""
    if pc is None:
        return ""
    parts = [label for label in (pc.gesture, pc.posture) if label not in SILENT_LABELS]
    return " | ".join(label.capitalize() for label in parts)


def pose_class_json(pc: PoseClass) -> Dict[str, object]:
    """The "pose_class" object of the JSON output."""
    out: Dict[str, object] = {
        "gesture": pc.gesture,
        "gesture_confidence": round(float(pc.gesture_confidence), 3),
        "posture": pc.posture,
        "posture_confidence": round(float(pc.posture_confidence), 3),
    }
    if pc.gesture_rule is not None:  # hands were estimated: say whether they decided
        out["gesture_rule"] = pc.gesture_rule
    return out


def classify_people(people: Iterable[Person], spec: object) -> None:
    """Set every person's pose_class. `spec`: the people's layout, or anything carrying one
    (an estimator's spec)."""
    for person in people:
        person.pose_class = classify(person, spec)
