"""OpenPose networks opened the ways the tests compare them: one engine by name, no
choosing (f32 unless asked, so their arithmetic is comparable), or planned from names."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from pose.families.openpose.net.load import open_plan, open_planned
from pose.families.openpose.spec import ModelSpec
from pose.runtime import Engine, Plan, parse_engine, parse_precision, plan


def open_engine(name: str, spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
                threads: Optional[int] = None, precision: str = "f32") -> Engine:
    """Engine `name` on the CPU at `precision`."""
    return open_plan(Plan(parse_engine(name), "cpu", parse_precision(precision)), spec, stages, weights, proto,
                     threads=threads)


def load(engine: str, spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
         device: str = "cpu", precision: str = "auto") -> Engine:
    """`plan` then `open_planned`, as PoseEstimator does."""
    return open_planned(plan(engine, device, precision), engine == "auto", spec, stages, weights, proto)
