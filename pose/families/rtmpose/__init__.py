"""MMPose's RTMPose (top-down, with a person detector) and RTMO (one stage) as a family of
the tools (pose.families.rtmpose.family), through the project's runtime (pose.runtime):
facts as data, an architecture-exact ONNX builder (random weights) for proofs and
benchmarks, MMPose's pre/post-processing, the end2end.onnx interfaces of the published files.

    from pose.families.rtmpose import RTMPose, RTMO
    est = RTMPose("pose/rtmpose/rtmpose-m.onnx", "pose/rtmpose/yolox-tiny.onnx", engine="openvino")
    people = est.estimate(frame_bgr)     # or est.track(frame) for video
"""
from pose.families.rtmpose.detector import Detector
from pose.families.rtmpose.estimator import RTMPose
from pose.families.rtmpose.rtmo import RTMO

__all__ = ["Detector", "RTMO", "RTMPose"]
