"""A model family in a few lines (pose.families' interface): COCO-17 people that an
estimator returns fixed, wherever it is pointed. Registered by tests/test_families.py."""
from __future__ import annotations

import argparse
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from pose.core.estimator import Model
from pose.core.person import Person
from pose.layouts import COCO17

MODELS = {"TOY": Model("TOY", COCO17)}
DEFAULT_MODEL = "TOY"
MODEL_HELP = "the toy family's one model (COCO-17 people, always the same)"
NEGATIVE_OPTIONS: Tuple[str, ...] = ()
# A person standing with the right forearm raised, as fractions of the image (COCO-17 order).
STANDING_HELLO = np.array([
    (0.50, 0.10), (0.52, 0.08), (0.48, 0.08), (0.54, 0.09), (0.46, 0.09), (0.58, 0.20), (0.42, 0.20),
    (0.62, 0.32), (0.36, 0.24), (0.63, 0.44), (0.34, 0.12), (0.56, 0.50), (0.44, 0.50), (0.56, 0.70),
    (0.44, 0.70), (0.56, 0.90), (0.44, 0.90)])


def parse_model(text: str) -> Model:
    if str(text).strip().upper() not in MODELS:
        raise ValueError(f"unknown model {text!r}: choose TOY")
    return MODELS["TOY"]


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument_group("toy").add_argument("--people", type=int, default=1, help="people in every frame")


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    pass


class ToyEstimator:
    spec = MODELS["TOY"]
    engine, precision, device, engine_label = "toy", "f32", "cpu", "fixed people"
    in_flight = 1

    def __init__(self, people: int):
        self.people = people
        self._done: List[Tuple[Any, Tuple[int, int]]] = []

    def people_from(self, outputs: Tuple[int, int], image: Optional[np.ndarray] = None) -> List[Person]:
        w, h = outputs
        kp = np.column_stack([STANDING_HELLO * (w - 1, h - 1), np.full(len(STANDING_HELLO), 0.9)])
        return [Person(kp + (5 * k, 0, 0), 0.9 - 0.1 * k, box=np.array([0.3 * w, 0.05 * h, 0.7 * w, 0.95 * h]),
                       box_score=0.8) for k in range(self.people)]

    def estimate(self, image: np.ndarray) -> List[Person]:
        return self.people_from((image.shape[1], image.shape[0]))

    __call__ = estimate

    def submit(self, image: np.ndarray, tag: Any) -> None:
        self._done.append((tag, (image.shape[1], image.shape[0])))

    def collect(self, wait: bool = False) -> List[Tuple[Any, Tuple[int, int]]]:
        done, self._done = self._done, []
        return done

    def abandon(self) -> None:
        self._done = []

    def describe(self) -> str:
        return f"TOY, {self.people} fixed people"


def make_estimator(args: argparse.Namespace, say: Callable[[str], None] = lambda message: None,
                   throughput: bool = False, threads: Optional[int] = None,
                   device: Optional[str] = None) -> ToyEstimator:
    estimator = ToyEstimator(args.people)
    say(estimator.describe())
    return estimator


def identity(args: argparse.Namespace) -> Tuple[Dict[str, object], Dict[str, object]]:
    return {"name": "TOY"}, {"people": args.people}
