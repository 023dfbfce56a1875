"""BlazePose as a family (pose.families' interface): its model, its command-line options
(MediaPipe's names where MediaPipe has one), its estimator, and what identifies a run."""
from __future__ import annotations

import argparse
from typing import Callable, Dict, Optional, Tuple

from pose.core.arguments import MAX_COUNT, argument_type, parse_float, parse_int
from pose.core.errors import UsageError
from pose.core.estimator import Model
from pose.core.files import file_sha256
from pose.core.paths import display_path

from . import pipeline, weights
from .estimator import AUTO_PRECISION, MODEL, BlazePose, check_engine

MODELS: Dict[str, Model] = {MODEL.name: MODEL}
DEFAULT_MODEL = MODEL.name
# MediaPipe's lite and heavy landmark models: not in the mediapipe 0.10.21 wheel (only in
# MediaPipe's bucket, with no published checksum this project could check them against).
REFUSED = {"blazepose_lite": "lite", "blazepose_heavy": "heavy"}
MODEL_HELP = ("BlazePose: MediaPipe's pose detector and full landmark model (33 landmarks with hands and feet "
              "points), real trained weights (./getModels.sh blazepose; Apache-2.0). blazepose_lite and "
              "blazepose_heavy are not offered: their files are not in the mediapipe 0.10.21 wheel")
PRECISION_HELP = ("arithmetic of the networks: auto is f32 for BlazePose (OpenVINO's bf16 moved its landmarks "
                  "2 px median, 18 px at the 90th percentile, and lost a person: measured); bf16 or f16 only "
                  "when asked for (OpenVINO); e.g. --precision f32 (default: auto)")
ENGINE_HELP = ("inference engine: auto and openvino run both networks on OpenVINO; onnx (cv2.dnn) runs the "
               "landmark model, the detector staying on OpenVINO (cv2.dnn cannot read it: DENSIFY); onnxruntime "
               "and caffe read no TFLite files (default: auto)")
NEGATIVE_OPTIONS: Tuple[str, ...] = ()


def parse_model(text: str) -> Model:
    """The model by name (blazepose, any case, - or _); lite and heavy refused in one line."""
    key = str(text).strip().lower().replace("-", "_")
    if key in ("blazepose", "blazepose_full"):
        return MODEL
    if key in REFUSED:
        raise ValueError(f"{text}: MediaPipe's {REFUSED[key]} landmark model is not in the mediapipe "
                         f"{weights.WHEEL_VERSION} wheel (only in MediaPipe's bucket, with no published checksum); "
                         "use blazepose (full)")
    raise ValueError(f"unknown model {text!r}: choose blazepose")


_confidence = argument_type(lambda text: parse_float(text, 0, 1), "confidence")
_count = argument_type(lambda text: parse_int(text, 1, MAX_COUNT), "int")


def add_options(parser: argparse.ArgumentParser) -> None:
    """BlazePose's options: its files, MediaPipe's two thresholds, people, video mode."""
    group = parser.add_argument_group("BlazePose (MediaPipe's options, by MediaPipe's names)")
    group.add_argument("--model_dir", metavar="DIR",
                       help="the folder holding pose_detection.tflite and pose_landmark_full.tflite "
                            f"(default: {display_path(weights.default_dir())}, where ./getModels.sh blazepose puts them)")
    group.add_argument("--min_detection_confidence", "--min_detection_score", dest="min_detection_confidence",
                       type=_confidence, default=pipeline.DETECTOR.min_score, metavar="T",
                       help="the detector's score a person needs, in [0, 1]; lower finds more people in "
                            "groups and more false ones (measured: 2 of 4 people on the seed's group photo at "
                            "0.5, all 4 at 0.3; on 4 COCO photos 1 false person at 0.3, 3 at 0.05); e.g. "
                            f"--min_detection_confidence 0.3 (default: {pipeline.DETECTOR.min_score:g}, MediaPipe's)")
    group.add_argument("--min_tracking_confidence", type=_confidence, default=pipeline.LANDMARKS.presence_threshold,
                       metavar="T",
                       help="the landmark model's pose flag a person needs, in [0, 1]; in video, under it the "
                            "person is lost and the detector runs again; e.g. --min_tracking_confidence 0.7 "
                            f"(default: {pipeline.LANDMARKS.presence_threshold:g}, MediaPipe's)")
    group.add_argument("--max_people", "--num_poses", dest="max_people", type=_count, metavar="N",
                       help="keep the N best detections (MediaPipe's num_poses; its pose solution keeps 1); "
                            "e.g. --max_people 1 (default: every person the detector finds)")
    group.add_argument("--static_image_mode", action="store_true",
                       help="video: run the detector on every frame instead of carrying each person's ROI "
                            "from the last frame's landmarks (MediaPipe's static_image_mode; slower)")


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Nothing depends on another option; the engine is checked here so a wrong one is a
    usage line before any file is read."""
    try:
        check_engine(args.engine)
    except UsageError as exc:
        parser.error(str(exc))


def make_estimator(args: argparse.Namespace, say: Callable[[str], None] = lambda message: None,
                   throughput: bool = False, threads: Optional[int] = None,
                   device: Optional[str] = None) -> BlazePose:
    """The BlazePose the options describe (`throughput` changes nothing: each frame's ROIs
    come from the last one's landmarks, so frames go one at a time); rejected values
    become UsageError. `say` gets the tools' first line."""
    try:
        estimator = BlazePose(args.model_dir, engine=args.engine, device=device or args.device,
                              precision=args.precision, max_people=args.max_people,
                              min_detection_confidence=args.min_detection_confidence,
                              min_tracking_confidence=args.min_tracking_confidence,
                              static_image_mode=args.static_image_mode, threads=threads)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    say(estimator.describe())
    return estimator


def identity(args: argparse.Namespace) -> Tuple[Dict[str, object], Dict[str, object]]:
    """(model, options): the two files by content (a missing file is reported by the
    workers' model load) and the options that change BlazePose's outputs, the precision
    among them (bf16 moves the landmarks)."""
    files = weights.paths(args.model_dir)
    model: Dict[str, object] = {"name": MODEL.name, "weights": str(files["landmarks"].parent.resolve())}
    for role, path in files.items():
        model[f"{role}_sha256"] = file_sha256(path) if path.is_file() else None
    options = {"min_detection_confidence": args.min_detection_confidence,
               "min_tracking_confidence": args.min_tracking_confidence, "max_people": args.max_people,
               "static_image_mode": args.static_image_mode,
               "precision": AUTO_PRECISION if args.precision == "auto" else args.precision}
    return model, options
