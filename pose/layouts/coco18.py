"""OpenPose's COCO-18: COCO's 17 keypoints in OpenPose's order, with a neck."""
from pose.core.layout import Layout
from pose.layouts.openpose_names import OPENPOSE_ALIASES

KEYPOINTS = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
)
# The limbs OpenPose draws, in its pair order (its two grouping-only pairs, shoulder to
# ear, are the network's: pose.families.openpose.spec).
BONES = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
    (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)
# OpenPose's POSE_COCO_COLORS_RENDER_GPU (RGB), in keypoint order.
COLORS_RGB = (
    (255, 0, 85), (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0),
    (85, 255, 0), (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255),
    (0, 85, 255), (0, 0, 255), (255, 0, 170), (170, 0, 255), (255, 0, 255), (85, 0, 255),
)
# Index of each COCO-17 keypoint, as OpenPose's --write_coco_json maps them.
TO_COCO17 = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)

COCO18 = Layout("COCO-18", KEYPOINTS, BONES, COLORS_RGB, OPENPOSE_ALIASES, TO_COCO17)
