"""The image tool's work: each image through the estimator, then the keypoint view,
the skeleton view and the JSON written under OUT/images/<MODE>/; with --write_json DIR
also OpenPose's `<stem>_keypoints.json` in DIR, with --write_heatmaps DIR the network's
maps as `<stem>_pose_heatmaps.npy` there, and with --write_coco_json FILE the COCO
results of every image in FILE (written once, at the end, with its image-id mapping).
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from pose.analysis.classify import classify_people
from pose.core.errors import InputError, UsageError
from pose.core.estimator import Estimator
from pose.core.paths import display_path
from pose.io import display
from pose.io import writers as output
from pose.io.formats import (
    coco_image_ids,
    coco_results,
    openpose_frame_json,
    openpose_frame_name,
    result_json,
    run_info,
)
from pose.io.inputs import read_image
from pose.io.render import draw_caption, keypoints_view, skeleton_view

Say = Callable[[str], None]
# How long an image's outputs wait for another run writing the same names (it holds them
# only while it writes three files).
OUTPUT_WAIT_S = 30.0
HEATMAPS = "pose_heatmaps.npy"  # OpenPose's --write_heatmaps name: <stem>_pose_heatmaps.npy


@dataclass
class ImageOptions(output.OutputOptions):
    """The image tool's outputs (out_dir: e.g. Output/images/COCO); nothing of its own."""


@dataclass
class ImageSummary:
    images: int = 0
    people: int = 0
    files: List[Path] = field(default_factory=list)
    failed: List[str] = field(default_factory=list)  # one message per unusable input
    seconds: float = 0.0  # estimation time, all images
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM after a whole image
    json_files: int = 0  # OpenPose per-image files written to --write_json DIR
    heatmaps_dir: Optional[Path] = None  # where --write_heatmaps wrote one .npy per image
    json_dir: Optional[Path] = None
    coco_json: Optional[Path] = None  # the COCO results file, once written

    def line(self, folder: Path) -> str:
        per = f", {self.seconds / self.images:.2f} s per image" if self.images else ""
        bad = f", {len(self.failed)} failed" if self.failed else ""
        more = ""
        if self.json_dir is not None:
            more += f", {self.json_files} OpenPose JSON to {display_path(self.json_dir)}"
        if self.heatmaps_dir is not None:
            more += f", {self.images} heatmap file{'s' * (self.images != 1)} to {display_path(self.heatmaps_dir)}"
        if self.coco_json is not None:
            more += f", COCO results to {display_path(self.coco_json)}"
        return (f"{'interrupted' if self.interrupted else 'done'}: {self.images} image{'s' * (self.images != 1)}{bad}, {self.people} "
                f"{'person' if self.people == 1 else 'people'}, {len(self.files)} files written "
                f"to {display_path(folder)}{more}{per}")


def output_paths(out_dir: Path, stem: str, mode: str) -> dict:
    return {"keypoints": out_dir / f"{stem}-Keypoints-{mode}.jpg",
            "skeleton": out_dir / f"{stem}-Skeleton-{mode}.jpg",
            "json": out_dir / f"{stem}-{mode}.json"}


def output_stems(paths: Sequence[Path]) -> List[str]:
    """A distinct output name for every input: its stem, or, where stems collide
    (a.jpg and a.png, or x.png in two folders), the stem plus its extension and then a
    number, so no run silently overwrites another image's results. A number never gives
    a name another input has (`x_png_1.png` beside two `x.png`)."""
    stems = [p.stem for p in paths]
    counts = Counter(stems)
    stems = [f"{p.stem}_{p.suffix.lstrip('.')}" if counts[s] > 1 else s for p, s in zip(paths, stems)]
    counts = Counter(stems)
    used: set = set()
    out = []
    for stem in stems:
        name = stem
        if counts[stem] > 1:
            k = 1
            while f"{stem}_{k}" in used or f"{stem}_{k}" in counts:
                k += 1
            name = f"{stem}_{k}"
        used.add(name)
        out.append(name)
    return out


def _outputs_of(stem: str, options: ImageOptions) -> List[Tuple[str, Path]]:
    mode = options.out_dir.name  # out_dir is the mode's folder, OUT/images/<MODE>
    named = output_paths(options.out_dir, stem, mode)
    out = [(f"its {what} output", named[what]) for what in ("keypoints", "skeleton")]
    if options.write_json:
        out.append(("its JSON output", named["json"]))
    if options.json_dir is not None:
        out.append(("its --write_json file", options.json_dir / openpose_frame_name(stem)))
    if options.heatmaps_dir is not None:
        out.append(("its --write_heatmaps file", options.heatmaps_dir / openpose_frame_name(stem, kind=HEATMAPS)))
    return out


def write_results(image: np.ndarray, people: list, spec, path: Path, options: ImageOptions,
                  keep_views: bool = False, stem: Optional[str] = None,
                  info: Optional[dict] = None, maps: Optional[np.ndarray] = None) -> Tuple[List[Path], Dict[str, np.ndarray]]:
    """Write one image's outputs as one set (none takes its final name unless all could):
    the keypoint view, the skeleton view, the JSON, with --write_json DIR OpenPose's
    `<stem>_keypoints.json` there and, given `maps` (--write_heatmaps DIR), the network's
    maps as `<stem>_pose_heatmaps.npy` there, last. Returns the files written and, if `keep_views`, the two
    views (drawing reuses `image`)."""
    h, w = image.shape[:2]
    stem = stem or path.stem
    files = output_paths(options.out_dir, stem, spec.name)
    staged: List[output.StagedFile] = []
    views: Dict[str, np.ndarray] = {}
    try:
        if options.render:  # else JSON only (--no_render): nothing drawn or encoded
            if (info or {}).get("network"):  # --demo: said on both pictures
                draw_caption(image, info["network"])
            keypoints = keypoints_view(image.copy(), people, spec)
            staged.append(output.stage_image(files["keypoints"], keypoints))
            views = {"Keypoints": keypoints} if keep_views else {}
            del keypoints  # a large input: one rendered copy at a time
            views["Skeleton"] = skeleton_view(image, people, spec)
            staged.append(output.stage_image(files["skeleton"], views["Skeleton"]))
        if options.write_json:
            staged.append(output.StagedFile(files["json"], (output.dumps(result_json(
                people, spec, (w, h), keypoint_scale=options.keypoint_scale, **(info or {}), image=path.name)) + "\n").encode()))
        if options.json_dir is not None:
            staged.append(output.StagedFile(options.json_dir / openpose_frame_name(stem), (output.dumps(
                openpose_frame_json(people, (w, h), keypoint_scale=options.keypoint_scale)) + "\n").encode()))
        if maps is not None and options.heatmaps_dir is not None:
            staged.append(output.StagedFile(options.heatmaps_dir / openpose_frame_name(stem, kind=HEATMAPS), output.npy_bytes(maps)))
    except BaseException:
        for file in staged:
            file.discard()
        raise
    return output.commit_together(staged), views if keep_views else {}


def _estimate(estimator: Estimator, image: np.ndarray, with_maps: bool) -> Tuple[list, Optional[np.ndarray]]:
    """The image's people and, `with_maps`, the network's maps (the estimator's optional
    `maps` hook, pose.core.estimator): through submit and collect, which hand out the
    network's outputs that `estimate` keeps to itself."""
    if not with_maps:
        return estimator.estimate(image), None
    maps_of = getattr(estimator, "maps", None)
    if maps_of is None:
        raise UsageError("--write_heatmaps: only OpenPose's networks output heatmaps")
    estimator.submit(image, 0)
    (_, outputs), = estimator.collect(wait=True)
    return estimator.people_from(outputs, image), maps_of(outputs)


def run_images(paths: Sequence[Path], get_estimator: Callable[[], Estimator], options: ImageOptions,
               say: Say, on_failure: Say, stop: Optional[threading.Event] = None) -> ImageSummary:
    """Process every image; unreadable ones are passed to `on_failure` and skipped.

    `get_estimator` is called once, at the first readable image, so that a run whose
    inputs are all unusable fails fast without loading the network. `stop` (set by
    Ctrl-C or SIGTERM) ends the run after the image in hand, whose files are all written.
    """
    summary = ImageSummary(json_dir=options.json_dir, heatmaps_dir=options.heatmaps_dir)
    estimator = None
    viewer = display.Viewer(options.display)
    coco = output.CocoResultsWriter(options.coco_json, {"source": "images"}) if options.coco_json else None
    image_ids = coco_image_ids([p.name for p in paths])
    # An image whose outputs would land on another input (`a.jpg` beside last run's
    # `a-Keypoints-COCO.jpg`, both given) or on the COCO results is refused alone.
    ours = [(f"the input {display_path(p)}", p) for p in paths]
    if options.coco_json is not None:
        ours += [("--write_coco_json", options.coco_json), ("the COCO image-id mapping", coco.mapping_path)]
    for path, stem, image_id in zip(paths, output_stems(paths), image_ids):
        if stop is not None and stop.is_set():
            summary.interrupted = True
            break
        try:
            clash = output.first_clash(_outputs_of(stem, options), ours)
            if clash is not None:
                raise InputError(f"{display_path(path)}: {clash}")
            image = read_image(path)
        except InputError as exc:
            summary.failed.append(str(exc))
            on_failure(str(exc))
            continue
        if estimator is None:
            estimator = get_estimator()
        spec = estimator.spec
        t0 = time.perf_counter()
        people, maps = _estimate(estimator, image, options.heatmaps_dir is not None)
        if options.classify:
            classify_people(people, spec)
        dt = time.perf_counter() - t0
        # One image's files come from one run: another run writing the same names waits.
        with output.claim_outputs(list(output_paths(options.out_dir, stem, spec.name).values()),
                                  wait=OUTPUT_WAIT_S):
            h, w = image.shape[:2]  # before drawing: the views reuse `image`
            written, views = write_results(image, people, spec, path, options, keep_views=viewer.enabled,
                                           info=run_info(estimator), stem=stem, maps=maps)
        # --write_json's and --write_heatmaps' files, written last
        extra = (options.json_dir is not None) + (maps is not None)
        written, elsewhere = written[:len(written) - extra], written[len(written) - extra:]
        if options.json_dir is not None:
            summary.json_files += 1
        if coco is not None:
            coco.add(coco_results(people, spec, image_id),
                     {"id": image_id, "file_name": path.name, "path": str(path), "width": w, "height": h})
        summary.images += 1
        summary.people += len(people)
        summary.files += written
        summary.seconds += dt
        say(f"{display_path(path)}: {len(people)} {'person' if len(people) == 1 else 'people'} "
            f"({dt:.2f} s) -> {', '.join(p.name for p in written + elsewhere)}")
        viewer.show_and_wait(views)
    viewer.close()
    if coco is not None and estimator is not None:
        coco.about = {"source": "images", "model": estimator.spec.name}
        summary.coco_json = coco.commit()
    return summary
