"""OpenPose: the body networks (COCO-18, MPI-15, BODY_25) and the hand and face networks,
from Caffe weights converted to ONNX (net/), with their own pre- and post-processing:
preprocess (image -> blob and geometry), peaks (heatmap maxima), people (limbs from the
PAFs, grouped into skeletons), crops and parts (hand and face boxes and their keypoints),
estimator (PoseEstimator) and handface (HandFaceEstimator)."""
