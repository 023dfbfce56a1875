"""Halpe-26 (AlphaPose, RTMPose body-26): COCO-17, then head, neck, mid-hip and six foot points.

Colours are MMPose's (configs/_base_/datasets/halpe26.py, RGB): COCO-17's keypoints as
in pose.layouts.coco17, all nine added points orange; bones green on the left, orange on
the right, blue in the middle and the face. Sigmas: MMPose's for the dataset (COCO's for
the first 17).
"""
from pose.core.layout import COCO17_NAMES, Layout
from pose.layouts.coco17 import COLORS_RGB as COCO17_COLORS
from pose.layouts.coco17 import LEFT, MIDDLE, RIGHT
from pose.layouts.coco17 import SIGMAS as COCO17_SIGMAS

KEYPOINTS = COCO17_NAMES + ("head", "neck", "hip", "left_big_toe", "right_big_toe", "left_small_toe",
                            "right_small_toe", "left_heel", "right_heel")
BONES = (
    (15, 13), (13, 11), (11, 19), (16, 14), (14, 12), (12, 19), (17, 18), (18, 19), (18, 5), (5, 7),
    (7, 9), (18, 6), (6, 8), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    (15, 20), (15, 22), (15, 24), (16, 21), (16, 23), (16, 25),
)
COLORS_RGB = COCO17_COLORS + (RIGHT,) * 9
BONE_COLORS_RGB = ((LEFT,) * 3 + (RIGHT,) * 3 + (MIDDLE,) * 2 + (LEFT,) * 3 + (RIGHT,) * 3 + (MIDDLE,) * 7
                   + (LEFT,) * 3 + (RIGHT,) * 3)
SIGMAS = COCO17_SIGMAS + (0.026, 0.026, 0.066, 0.079, 0.079, 0.079, 0.079, 0.079, 0.079)

HALPE26 = Layout("Halpe-26", KEYPOINTS, BONES, COLORS_RGB, (("mid_hip", "hip"),), tuple(range(17)),
                 bone_colors_rgb=BONE_COLORS_RGB, sigmas=SIGMAS)
