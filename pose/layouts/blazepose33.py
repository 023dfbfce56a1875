"""BlazePose's 33 landmarks (MediaPipe Pose): names and bones as MediaPipe gives them
(`mediapipe/python/solutions/pose_connections.py`, `PoseLandmark`), colours by the
person's side as MediaPipe's default pose style draws them, and where COCO-17's keypoints
sit among them (every COCO body joint has a BlazePose twin). Its foot index (the toes'
tip) stands for the big toe among the semantic joints; neck and mid-hip are derived from
the shoulders and hips (pose.analysis.classify)."""
from pose.core.layout import COCO17_NAMES, Layout

KEYPOINTS = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
# MediaPipe's POSE_CONNECTIONS, in its order.
BONES = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13),
    (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18), (16, 20),
    (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)
# MediaPipe's get_default_pose_landmarks_style (RGB): the person's left orange, right
# cyan, the middle of the face grey. A bone takes its second landmark's colour (as every
# layout draws), so the bones across the body (shoulders, hips, mouth) are the right's.
SIDE_COLORS_RGB = {"left": (255, 138, 0), "right": (0, 217, 231), "middle": (224, 224, 224)}
COLORS_RGB = tuple(SIDE_COLORS_RGB["left" if k.startswith("left") else "right" if k.startswith("right") else "middle"]
                   for k in KEYPOINTS)
# COCO-17 keypoint i is landmark TO_COCO17[i] (nose, eyes, ears, shoulders, elbows,
# wrists, hips, knees, ankles): by name.
TO_COCO17 = tuple(KEYPOINTS.index(name) for name in COCO17_NAMES)

BLAZEPOSE33 = Layout("BlazePose-33", KEYPOINTS, BONES, COLORS_RGB,
                     (("left_big_toe", "left_foot_index"), ("right_big_toe", "right_foot_index")), TO_COCO17)
