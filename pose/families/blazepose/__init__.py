"""BlazePose (MediaPipe's pose landmarker, full model) as a top-down family: real trained
weights (weights), MediaPipe's pre- and post-processing (pipeline), the estimator
(estimator.BlazePose) and the family's options for the tools (family). Its 33-landmark
layout is pose.layouts.BLAZEPOSE33."""
from .estimator import ENGINES, MODEL, BlazePerson, BlazePose
from .weights import WeightsError

__all__ = ["BlazePerson", "BlazePose", "ENGINES", "MODEL", "WeightsError"]
