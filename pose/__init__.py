"""opencv-hpe: OpenPose body models through OpenCV's DNN module and faster engines.

    import cv2, pose
    est = pose.PoseEstimator("COCO")          # or MPI, MPI_4; engine="auto" picks the fastest
    image = cv2.imread("Input/example_image1.png")
    people = est(image)                       # [pose.Person], best first
    pose.classify_people(people, est.spec)    # Hello / Stop, Sitting / Standing / Lying
    cv2.imwrite("out.jpg", pose.draw_skeleton(image, people, est.spec))
    est = pose.RTMPose("pose/rtmpose/rtmpose-m.onnx", "pose/rtmpose/yolox-tiny.onnx")   # MMPose's

The package reads in layers, each importing only those before it: core (person, layout,
estimator protocol, errors, files) and layouts (keypoint layouts as data) -> runtime
(model files on OpenVINO, onnxruntime or cv2.dnn) -> families (the registry; openpose/:
its networks, pre- and post-processing) -> analysis (classify, track) -> io (inputs,
formats, drawing, writers) -> app (image and video runs, timeline, batch) -> cli.
"""
from importlib import import_module

# Public name -> (module, attribute). Loaded on first use, so that `import pose` (and the
# entry scripts' import guard in pose.entry) works before cv2 and NumPy are imported.
_EXPORTS = {
    "PoseEstimator": ("pose.families.openpose.estimator", "PoseEstimator"),
    "RTMPose": ("pose.families.rtmpose.estimator", "RTMPose"),
    "RTMO": ("pose.families.rtmpose.rtmo", "RTMO"),
    "HandFaceEstimator": ("pose.families.openpose.handface", "HandFaceEstimator"),
    "draw_hands_and_faces": ("pose.io.render", "draw_hands_and_faces"),
    "Person": ("pose.core.person", "Person"),
    "Layout": ("pose.core.layout", "Layout"),
    "LAYOUTS": ("pose.layouts", "LAYOUTS"),
    "FAMILIES": ("pose.families", "FAMILIES"),
    "PoseClass": ("pose.core.person", "PoseClass"),
    "DecodeOptions": ("pose.families.openpose.people", "DecodeOptions"),
    "classify": ("pose.analysis.classify", "classify"),
    "classify_people": ("pose.analysis.classify", "classify_people"),
    "draw_skeleton": ("pose.io.render", "skeleton_view"),
    "draw_keypoints": ("pose.io.render", "keypoints_view"),
    "MODELS": ("pose.families.openpose.spec", "MODELS"),
    "ModelSpec": ("pose.families.openpose.spec", "ModelSpec"),
    "get_spec": ("pose.families.openpose.spec", "get_spec"),
    "PoseError": ("pose.core.errors", "PoseError"),
    "NetworkError": ("pose.core.errors", "NetworkError"),
    "InputError": ("pose.core.errors", "InputError"),
    "OutputError": ("pose.core.errors", "OutputError"),
    "UsageError": ("pose.core.errors", "UsageError"),
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'pose' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
