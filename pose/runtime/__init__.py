"""Engines: where and with what the network runs, chosen once (select.plan): OpenVINO,
onnxruntime or cv2.dnn (backends) on the CPU or a GPU (device) at f32, bf16 or f16."""
from pose.runtime.backends import Engine, cpu_cores
from pose.runtime.device import CPU, DEVICES, Placement, parse_device
from pose.runtime.select import (
           ENGINES,
           PRECISIONS,
           Plan,
           available,
           load,
           open_plan,
           open_planned,
           parse_engine,
           parse_precision,
           plan,
)

__all__ = ["CPU", "DEVICES", "ENGINES", "PRECISIONS", "Engine", "Placement", "Plan", "available", "cpu_cores", "load",
           "open_plan", "open_planned", "parse_device", "parse_engine", "parse_precision", "plan"]
