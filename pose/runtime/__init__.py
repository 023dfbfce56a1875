"""Where and with what a model file runs, chosen once (select.plan): OpenVINO, onnxruntime
or cv2.dnn (backends) on the CPU or a GPU (device) at f32, bf16 or f16. A family hands it
a file (select.open_onnx: any ONNX, named inputs and outputs, static or dynamic shapes;
select.open_caffe: a Caffe pair; select.open_tflite: a TFLite file, on OpenVINO or
cv2.dnn), never a model spec: OpenPose converts its Caffe weights first
(pose.families.openpose.net)."""
from pose.runtime.backends import Engine, cpu_cores
from pose.runtime.device import CPU, DEVICES, Placement, parse_device
from pose.runtime.select import (
    ENGINES,
    PRECISIONS,
    Plan,
    available,
    open_caffe,
    open_onnx,
    open_tflite,
    parse_engine,
    parse_precision,
    plan,
)

__all__ = ["CPU", "DEVICES", "ENGINES", "PRECISIONS", "Engine", "Placement", "Plan", "available", "cpu_cores",
           "open_caffe", "open_onnx", "open_tflite", "parse_device", "parse_engine", "parse_precision", "plan"]
