"""The family's models as the tools name them (--model), where each one's files live, and
what `./getModels.sh NAME` fetches for them.

    human              MMPose's alias (rtmpose_body8-coco.yml): RTMPose-m 256x192 + a person detector
    rtmpose-t|s|m|l    RTMPose 256x192, COCO-17, + a person detector
    rtmpose-m-384x288, rtmpose-l-384x288
    rtmo-s|m|l         RTMO, one stage: no detector
    body_with_feet     RTMPose-m Halpe-26 (COCO-17 + head, neck, hip, six foot points) + a detector

Files: models_dir()/rtmpose/<network>.onnx (pose/rtmpose/ in a checkout), each the
end2end.onnx of mmpose's published zip, with <network>.onnx.sha256.json beside it: what
the first download was (pose.download.archive). `human` and `rtmpose-m` share one file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from pose.core.layout import Layout
from pose.core.paths import models_dir
from pose.families.rtmpose import facts
from pose.layouts import COCO17, HALPE26

FOLDER = "rtmpose"  # below models_dir()
# MMPose's visualiser draws keypoints scoring above kpt_thr=0.3 (rtmlib's examples: 0.3-0.5):
# every keypoint of a SimCC network has a place and a score, the low ones are guesses.
KEYPOINT_THRESHOLD = 0.3


@dataclass(frozen=True)
class RTMModel:
    """One --model: its name (outputs' "model", the output folder), keypoint layout, the
    network file it runs (facts' name: a POSE_MODELS or RTMO_MODELS key), and whether it is
    one stage (RTMO: no detector). pose.core.estimator.ModelInfo, with the score under
    which its keypoints are not drawn nor classified (pose.core.estimator.keypoint_threshold)."""

    name: str
    layout: Layout
    network: str
    one_stage: bool = False
    summary: str = ""
    keypoint_threshold: float = KEYPOINT_THRESHOLD

    @property
    def input_size(self) -> Tuple[int, int]:
        """(width, height) of the network's input, as published."""
        if self.one_stage:
            return facts.RTMO_MODELS[self.network].input_size
        return facts.POSE_MODELS[self.network].input_size

    @property
    def coco_ap(self) -> Optional[float]:
        if self.one_stage:
            return facts.RTMO_MODELS[self.network].coco_ap
        return facts.POSE_MODELS[self.network].coco_ap


def _pose(name: str, network: Optional[str] = None, layout: Layout = COCO17, summary: str = "") -> RTMModel:
    return RTMModel(name, layout, network or name, False, summary)


MODELS: Dict[str, RTMModel] = {m.name: m for m in (
    _pose("human", "rtmpose-m", summary="MMPose's human alias: RTMPose-m 256x192 + a person detector"),
    _pose("rtmpose-t"), _pose("rtmpose-s"), _pose("rtmpose-m"), _pose("rtmpose-l"),
    _pose("rtmpose-m-384x288"), _pose("rtmpose-l-384x288"),
    RTMModel("rtmo-s", COCO17, "rtmo-s", True), RTMModel("rtmo-m", COCO17, "rtmo-m", True),
    RTMModel("rtmo-l", COCO17, "rtmo-l", True),
    _pose("body_with_feet", "rtmpose-m-halpe26", HALPE26,
          "RTMPose-m Halpe-26: COCO-17 + head, neck, hip and six foot points (what BODY_25 users want)"),
)}


def _key(name: str) -> str:
    return str(name).strip().lower().replace("_", "-")


def get_model(name: str) -> RTMModel:
    """A model by name, case-insensitively, - and _ alike; ValueError names the choices."""
    key = _key(name)
    for model in MODELS.values():
        if _key(model.name) == key:
            return model
    raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}")


def network_path(network: str) -> Path:
    """Where a network's ONNX file goes (pose models, RTMO and detectors alike)."""
    return models_dir() / FOLDER / f"{network}.onnx"


def get_detector(name: str) -> facts.DetectorModel:
    key = _key(name)
    for detector in facts.DETECTORS.values():
        if detector.name == key:
            return detector
    raise ValueError(f"unknown detector {name!r}: choose one of {', '.join(facts.DETECTORS)} or an .onnx file")


# ---------------------------------------------------------------- downloads


@dataclass(frozen=True)
class Archive:
    """A published network file with no published checksum or size (pose.download.archive
    fetches it): `name` as getModels takes it, `relpath` of the ONNX below models_dir(),
    the zip's file name, `urls` in order (zips are unpacked, their `member` taken; a URL
    ending in .onnx is the file itself), and the licence line printed on download."""

    name: str
    relpath: Path
    zip_name: str
    urls: Tuple[str, ...]
    licence: str
    member: str = "end2end.onnx"

    @property
    def path(self) -> Path:
        return models_dir() / self.relpath

    @property
    def record(self) -> Path:
        """What the first download was: SHA-256 and size of the ONNX and of the zip."""
        return self.path.with_name(self.path.name + ".sha256.json")


def recorded(archive: Archive) -> Optional[dict]:
    """The record of the file's first download (pose.download.archive writes it), None
    where there is none or it is unreadable."""
    import json
    try:
        data = json.loads(Path(archive.record).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("sha256"), str) else None


def _archive(network: str, zip_name: str, rtmo: bool = False) -> Archive:
    return Archive(network, Path(FOLDER) / f"{network}.onnx", zip_name,
                   (facts.weights_url(zip_name, rtmo), facts.mirror_url(zip_name, rtmo)), facts.LICENCE)


def archives() -> Dict[str, Archive]:
    """Every network file, by its name (rtmpose-m, rtmo-s, yolox-tiny, ...)."""
    out = {name: _archive(name, m.zip_name) for name, m in facts.POSE_MODELS.items() if m.zip_name}
    out.update({name: _archive(name, m.zip_name, rtmo=True) for name, m in facts.RTMO_MODELS.items()})
    out.update({name: _archive(name, d.zip_name) for name, d in facts.DETECTORS.items() if d.zip_name})
    return out


def download_names() -> Dict[str, List[str]]:
    """What `./getModels.sh NAME` fetches, by NAME: each --model (a pose model with the
    default detector), each detector, each network by its own name."""
    names: Dict[str, List[str]] = {}
    for model in MODELS.values():
        names[model.name] = [model.network] + ([] if model.one_stage else [facts.DEFAULT_DETECTOR])
    for network in archives():
        names.setdefault(network, [network])
    return names


def download_command(model: RTMModel, detector: Optional[str] = None) -> str:
    """The getModels line that fetches what `model` needs (with `detector`, a name)."""
    from pose.core.paths import models_command
    names = [model.name] + ([detector] if detector and detector != facts.DEFAULT_DETECTOR else [])
    return f"{models_command()} {' '.join(names)}"
