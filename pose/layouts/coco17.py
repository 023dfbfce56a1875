"""COCO-17, the COCO keypoint challenge's layout (MMPose, RTMPose, RTMO, YOLO-pose)."""
from pose.core.layout import COCO17_NAMES, Layout, sided_colors

KEYPOINTS = COCO17_NAMES
# COCO's skeleton (its 1-based "skeleton" field, 0-based here).
BONES = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
    (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)

COCO17 = Layout("COCO-17", KEYPOINTS, BONES, sided_colors(KEYPOINTS), coco17=tuple(range(17)))
