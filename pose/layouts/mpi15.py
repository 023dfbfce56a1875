"""OpenPose's MPI-15 (MPII's joints, a head top and a chest); no COCO export."""
from pose.core.layout import Layout
from pose.layouts.openpose_names import OPENPOSE_ALIASES

KEYPOINTS = (
    "Head", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Chest",
)
BONES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 14), (14, 8), (8, 9),
    (9, 10), (14, 11), (11, 12), (12, 13),
)
# OpenPose's POSE_MPI_COLORS_RENDER_GPU (RGB).
COLORS_RGB = (
    (255, 0, 85), (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0),
    (85, 255, 0), (43, 255, 0), (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255),
    (0, 170, 255), (0, 85, 255), (0, 0, 255),
)

MPI15 = Layout("MPI-15", KEYPOINTS, BONES, COLORS_RGB, OPENPOSE_ALIASES)
