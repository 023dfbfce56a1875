"""BlazePose (MediaPipe's pose landmarker, full model) as a self-contained top-down family:
real trained weights (weights), the 33-landmark layout (layout), MediaPipe's pre- and
post-processing (pipeline) and the estimator (estimator.BlazePose)."""
from .estimator import ENGINES, BlazePerson, BlazePose
from .weights import WeightsError

__all__ = ["BlazePerson", "BlazePose", "ENGINES", "WeightsError"]
