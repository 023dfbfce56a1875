"""opencv-hpe: OpenPose body models through OpenCV's DNN module."""
