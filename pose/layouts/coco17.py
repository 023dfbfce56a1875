"""COCO-17, the COCO keypoint challenge's layout (MMPose, RTMPose, RTMO, YOLO-pose).

Colours are MMPose's (configs/_base_/datasets/coco.py, RGB): keypoints blue on the face,
green on the person's left, orange on the right; each bone its own colour there
(the torso's and the face's blue). Sigmas: COCO's OKS sigmas, as cocoeval and MMPose use them.
"""
from pose.core.layout import COCO17_NAMES, Layout, sided_colors

KEYPOINTS = COCO17_NAMES
# COCO's skeleton (its 1-based "skeleton" field, 0-based here), in MMPose's skeleton_info order.
BONES = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
    (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)
# MMPose's three colours (RGB).
MIDDLE, LEFT, RIGHT = (51, 153, 255), (0, 255, 0), (255, 128, 0)
COLORS_RGB = (MIDDLE,) * 5 + sided_colors(KEYPOINTS[5:], LEFT, RIGHT, MIDDLE)
BONE_COLORS_RGB = (LEFT, LEFT, RIGHT, RIGHT, MIDDLE, MIDDLE, MIDDLE, MIDDLE, LEFT, RIGHT, LEFT, RIGHT,
                   MIDDLE, MIDDLE, MIDDLE, MIDDLE, MIDDLE, MIDDLE, MIDDLE)
SIGMAS = (0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
          0.107, 0.107, 0.087, 0.087, 0.089, 0.089)

COCO17 = Layout("COCO-17", KEYPOINTS, BONES, COLORS_RGB, coco17=tuple(range(17)),
                bone_colors_rgb=BONE_COLORS_RGB, sigmas=SIGMAS)
