"""MMPose's RTMPose (top-down, with a person detector) and RTMO (one stage), through the
project's engines. Self-contained family: facts and layouts as data, an architecture-exact
ONNX builder (random weights) for proofs and benchmarks, MMPose's pre/post-processing,
the end2end.onnx interfaces of the published files.

    from pose.families.rtmpose import RTMPose, RTMO
    est = RTMPose("rtmpose-m.onnx", "yolox-tiny.onnx", engine="openvino")
    people = est.estimate(frame_bgr)     # or est.track(frame) for video
"""
from pose.families.rtmpose.detector import Detector
from pose.families.rtmpose.estimator import RTMPose, TopDownPerson
from pose.families.rtmpose.layouts import COCO17, HALPE26, layout_for
from pose.families.rtmpose.rtmo import RTMO
from pose.families.rtmpose.runtime import Runner, RuntimeRefused

__all__ = ["COCO17", "HALPE26", "Detector", "RTMO", "RTMPose", "Runner", "RuntimeRefused", "TopDownPerson", "layout_for"]
