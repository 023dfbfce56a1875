"""Accuracy of pose.analysis.classify on the real annotated people, against labels set by eye.

Labels: tests/data/pose_labels.json (how they were decided is written in the file).
Run `python -m tests.pose_accuracy` from the repository root for the per-class table
of the seed's rules and the improved defaults, in both layouts.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from pose.analysis.classify import DEFAULT_THRESHOLDS, SEED_THRESHOLDS, ClassifyThresholds, classify
from pose.core.person import Person
from pose.families.openpose.spec import MODELS
from tests.support.annotations import load_all

LABELS = Path(__file__).resolve().parents[1] / "data" / "pose_labels.json"


@dataclass
class Outcome:
    name: str  # image#person
    task: str  # gesture | posture
    truth: str
    predicted: str
    ambiguous: bool


def load_labels() -> List[dict]:
    return json.loads(LABELS.read_text())["people"]


def evaluate(layout: str, thresholds: ClassifyThresholds,
             root: Optional[Path] = None) -> List[Outcome]:
    """One outcome per labelled person and task."""
    images = {im.name: im for im in load_all(root)}
    spec = MODELS[layout]
    out = []
    for lab in load_labels():
        kp = images[lab["image"]].people[layout][lab["person"]]
        pc = classify(Person(kp, 1.0), spec, thresholds)
        name = f"{lab['image']}#{lab['person']}"
        for task, predicted in (("gesture", pc.gesture), ("posture", pc.posture)):
            out.append(Outcome(name, task, lab[task], predicted, task in lab["ambiguous"]))
    return out


def per_class(outcomes: List[Outcome], task: str) -> Dict[str, Dict[str, int]]:
    """True class -> counts of n, correct, unknown (no answer) and wrong."""
    table: Dict[str, Dict[str, int]] = {}
    for o in outcomes:
        if o.task != task:
            continue
        row = table.setdefault(o.truth, {"n": 0, "correct": 0, "unknown": 0, "wrong": 0})
        row["n"] += 1
        key = "correct" if o.predicted == o.truth else (
            "unknown" if o.predicted == "unknown" else "wrong")
        row[key] += 1
    return table


def markdown(outcomes: List[Outcome], task: str) -> str:
    rows = [f"| {task} (true class) | people | correct | unknown | wrong |",
            "|---|---|---|---|---|"]
    total = np.zeros(4, dtype=int)
    for cls, r in sorted(per_class(outcomes, task).items()):
        rows.append(f"| {cls} | {r['n']} | {r['correct']} | {r['unknown']} | {r['wrong']} |")
        total += [r["n"], r["correct"], r["unknown"], r["wrong"]]
    rows.append(f"| all | {total[0]} | {total[1]} | {total[2]} | {total[3]} |")
    clear = [o for o in outcomes if o.task == task and not o.ambiguous]
    rows.append(f"| all but ambiguous | {len(clear)} | "
                f"{sum(o.predicted == o.truth for o in clear)} | "
                f"{sum(o.predicted == 'unknown' for o in clear)} | "
                f"{sum(o.predicted not in (o.truth, 'unknown') for o in clear)} |")
    return "\n".join(rows)


def main() -> None:
    for title, th in (("improved defaults", DEFAULT_THRESHOLDS), ("seed rules", SEED_THRESHOLDS)):
        for layout in ("COCO", "MPI", "BODY_25"):
            outcomes = evaluate(layout, th)
            print(f"\n### {title}, {layout} layout\n")
            for task in ("gesture", "posture"):
                print(markdown(outcomes, task) + "\n")
            misses = [o for o in outcomes if o.predicted != o.truth]
            for o in misses:
                print(f"- {o.task} {o.name}: truth {o.truth}, said {o.predicted}"
                      + (" (ambiguous)" if o.ambiguous else ""))


if __name__ == "__main__":
    main()
