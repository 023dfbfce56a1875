"""get-hpe-eval (`python -m pose.eval`): measure any model of any family on a folder of
images with a COCO keypoint annotation file: OKS AP / AR (pycocotools), per-joint PCK and
the speed per image (cli); the scoring itself is in scoring."""
