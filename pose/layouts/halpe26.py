"""Halpe-26 (AlphaPose, RTMPose body-26): COCO-17, then head, neck, mid-hip and six foot points."""
from pose.core.layout import COCO17_NAMES, Layout, sided_colors

KEYPOINTS = COCO17_NAMES + ("head", "neck", "hip", "left_big_toe", "right_big_toe", "left_small_toe",
                            "right_small_toe", "left_heel", "right_heel")
BONES = (
    (15, 13), (13, 11), (11, 19), (16, 14), (14, 12), (12, 19), (17, 18), (18, 19), (18, 5), (5, 7),
    (7, 9), (18, 6), (6, 8), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    (15, 20), (15, 22), (15, 24), (16, 21), (16, 23), (16, 25),
)

HALPE26 = Layout("Halpe-26", KEYPOINTS, BONES, sided_colors(KEYPOINTS), (("mid_hip", "hip"),), tuple(range(17)))
