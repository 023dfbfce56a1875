"""OpenPose's keypoint names for the semantic joints (pose.core.layout.JOINTS): the
aliases its three body layouts share."""
OPENPOSE_ALIASES = (
    ("nose", "Nose"), ("head", "Head"), ("neck", "Neck"), ("right_eye", "REye"), ("left_eye", "LEye"),
    ("right_ear", "REar"), ("left_ear", "LEar"), ("right_shoulder", "RShoulder"), ("left_shoulder", "LShoulder"),
    ("right_elbow", "RElbow"), ("left_elbow", "LElbow"), ("right_wrist", "RWrist"), ("left_wrist", "LWrist"),
    ("right_hip", "RHip"), ("left_hip", "LHip"), ("mid_hip", "MidHip"), ("right_knee", "RKnee"),
    ("left_knee", "LKnee"), ("right_ankle", "RAnkle"), ("left_ankle", "LAnkle"), ("right_heel", "RHeel"),
    ("left_heel", "LHeel"), ("right_big_toe", "RBigToe"), ("left_big_toe", "LBigToe"),
    ("right_small_toe", "RSmallToe"), ("left_small_toe", "LSmallToe"),
)
