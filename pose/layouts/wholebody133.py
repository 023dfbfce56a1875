"""COCO-WholeBody-133 (RTMPose / RTMW whole-body): COCO-17, six foot points, the 68 face
landmarks, then the left and the right hand (21 each, pose.layouts.hand21's order)."""
from pose.core.layout import COCO17_NAMES, Layout, sided_colors
from pose.layouts import hand21
from pose.layouts.coco17 import BONES as COCO17_BONES
from pose.layouts.face70 import IBUG68_BONES

FEET = ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
FACE, LEFT_HAND, RIGHT_HAND = 23, 91, 112  # where each block starts
KEYPOINTS = (COCO17_NAMES + FEET + tuple(f"face_{k}" for k in range(68))
             + tuple(f"left_hand_{name}" for name in hand21.KEYPOINTS)
             + tuple(f"right_hand_{name}" for name in hand21.KEYPOINTS))


def _shifted(bones, by: int):
    return tuple((a + by, b + by) for a, b in bones)


BONES = (COCO17_BONES + ((15, 17), (15, 18), (15, 19), (16, 20), (16, 21), (16, 22))
         + _shifted(IBUG68_BONES, FACE) + _shifted(hand21.BONES, LEFT_HAND) + _shifted(hand21.BONES, RIGHT_HAND))

WHOLEBODY133 = Layout("COCO-WholeBody-133", KEYPOINTS, BONES, sided_colors(KEYPOINTS), coco17=tuple(range(17)))
