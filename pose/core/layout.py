"""Keypoint layouts as data: what a family's people are made of, apart from how any
network finds them.

A `Layout` names its keypoints, the bones drawn between them, a colour per keypoint (a
bone takes its second keypoint's colour, as OpenPose draws, unless the layout gives each
bone its own, as MMPose's do), COCO's OKS sigmas where the dataset defines them (how
far a keypoint may stray for a given similarity, per keypoint), where each COCO-17 keypoint
sits in it (for COCO results; None where the layout cannot say), and which of its
keypoints are the semantic joints that classification, tracking and drawing look up
(`JOINTS`: "right_elbow", "neck", ...), so those layers work for any layout. The layouts
themselves are in pose.layouts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

RGB = Tuple[int, int, int]

# The semantic joints the shared layers ask for. A layout maps those it has (by equal
# name, or through `Layout.aliases`); "neck" and "mid_hip" a layout lacks are derived
# from both shoulders / both hips where both are found (pose.analysis.classify.Joints).
JOINTS = (
    "nose", "head", "neck", "right_eye", "left_eye", "right_ear", "left_ear",
    "right_shoulder", "left_shoulder", "right_elbow", "left_elbow", "right_wrist", "left_wrist",
    "right_hip", "left_hip", "mid_hip", "right_knee", "left_knee", "right_ankle", "left_ankle",
    "right_heel", "left_heel", "right_big_toe", "left_big_toe", "right_small_toe", "left_small_toe",
)
# COCO-17's keypoints in COCO's order (COCO results, `Layout.coco17`).
COCO17_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)


@dataclass(frozen=True)
class Layout:
    """One keypoint layout. `aliases`: (semantic joint, keypoint name) for the joints whose
    keypoint is named otherwise (OpenPose's "RElbow" is "right_elbow"). `bone_colors_rgb`:
    one colour per bone, None where each bone takes its second keypoint's. `sigmas`: the
    OKS sigma per keypoint (COCO's keypoint evaluation), None where none is defined."""

    name: str
    keypoints: Tuple[str, ...]
    bones: Tuple[Tuple[int, int], ...]
    colors_rgb: Tuple[RGB, ...]
    aliases: Tuple[Tuple[str, str], ...] = ()
    coco17: Optional[Tuple[int, ...]] = None
    bone_colors_rgb: Optional[Tuple[RGB, ...]] = None
    sigmas: Optional[Tuple[float, ...]] = None
    joints: Dict[str, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        n = len(self.keypoints)
        if len(set(self.keypoints)) != n or len(self.colors_rgb) != n:
            raise ValueError(f"{self.name}: keypoint names must be unique, one colour each")
        if any(not (0 <= a < n and 0 <= b < n) for a, b in self.bones):
            raise ValueError(f"{self.name}: a bone joins a keypoint the layout lacks")
        if self.coco17 is not None and (len(self.coco17) != len(COCO17_NAMES) or not all(0 <= i < n for i in self.coco17)):
            raise ValueError(f"{self.name}: coco17 needs 17 indices into the layout")
        if self.bone_colors_rgb is not None and len(self.bone_colors_rgb) != len(self.bones):
            raise ValueError(f"{self.name}: bone_colors_rgb needs one colour per bone")
        if self.sigmas is not None and (len(self.sigmas) != n or min(self.sigmas) <= 0):
            raise ValueError(f"{self.name}: sigmas needs one positive value per keypoint")
        named = dict(self.aliases)
        unknown = set(named) - set(JOINTS)
        if unknown:
            raise ValueError(f"{self.name}: no such semantic joint: {', '.join(sorted(unknown))}")
        index = {name: i for i, name in enumerate(self.keypoints)}
        joints = {j: index[named.get(j, j)] for j in JOINTS if named.get(j, j) in index}
        object.__setattr__(self, "joints", joints)

    @property
    def n_keypoints(self) -> int:
        return len(self.keypoints)

    @property
    def limb_colors_rgb(self) -> Tuple[RGB, ...]:
        """The colour each bone is drawn in, in the bones' order."""
        if self.bone_colors_rgb is not None:
            return self.bone_colors_rgb
        return tuple(self.colors_rgb[b] for _, b in self.bones)

    def index(self, keypoint: str) -> Optional[int]:
        """Index of a keypoint by its name in this layout, None where it has none."""
        try:
            return self.keypoints.index(keypoint)
        except ValueError:
            return None

    def joint(self, name: str) -> Optional[int]:
        """Index of a semantic joint (JOINTS), None where this layout has none."""
        return self.joints.get(name)


def layout_of(described: object) -> Layout:
    """The layout of a Layout, or of anything that carries one (a family's model spec)."""
    return described if isinstance(described, Layout) else described.layout


def chain(first: int, last: int, closed: bool = False) -> Tuple[Tuple[int, int], ...]:
    """Bones along first..last, and back to first when closed (a face's eyes and lips)."""
    links = tuple((k, k + 1) for k in range(first, last))
    return links + ((last, first),) if closed else links


def sided_colors(keypoints: Tuple[str, ...], left: RGB = (0, 255, 0), right: RGB = (255, 128, 0),
                 middle: RGB = (51, 153, 255)) -> Tuple[RGB, ...]:
    """MMPose's convention for layouts without a palette of their own: left keypoints green,
    right orange, the rest blue (by the name's "left"/"right")."""
    return tuple(left if "left" in k else right if "right" in k else middle for k in keypoints)
