"""Engines: where and with what the network runs (cv2.dnn, onnxruntime), chosen once."""
from pose.engine.backends import Engine, cpu_cores
from pose.engine.device import CPU, DEVICES, Placement, parse_device, select_placement
from pose.engine.select import ENGINES, available, choose, load, parse_engine

__all__ = ["CPU", "DEVICES", "ENGINES", "Engine", "Placement", "available", "choose", "cpu_cores", "load",
           "parse_device", "parse_engine", "select_placement"]
