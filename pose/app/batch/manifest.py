"""The batch's record of what was done: manifest.jsonl (one JSON record per video) and the
run's identity (model files by content, and the options that change outputs), which
together decide whether a video can be skipped on resume."""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
from pathlib import Path
from typing import Dict, Optional, Tuple

from pose.app.batch.jobs import Job
from pose.core.errors import InputError, OutputError
from pose.core.files import FileLock, write_atomic
from pose.core.paths import display_path
from pose.families import get_family
from pose.io.inputs import read_regular_file

log = logging.getLogger("pose")
MANIFEST_NAME = "manifest.jsonl"
MAX_MANIFEST_BYTES = 1 << 30  # a million videos' records

def run_identity(args: argparse.Namespace) -> Tuple[str, dict, dict]:
    """(key, model, options): what makes two runs' outputs the same. The key hashes the
    model's files by content and every option that changes the outputs (the family's
    own first: pose.families' `identity`), not the files' paths; the engine and
    device are recorded but not keyed, since every engine gives the same maps to float32
    rounding (README, Engines and speed): a run resumed on another machine keeps its work."""
    model, family_options = get_family(args.family).identity(args)
    options = {**family_options,
               "classify": not args.no_classify, "json": not args.no_json, "timeline": not args.no_timeline,
               "write_json": str(Path(args.json_dir).resolve()) if args.json_dir else None,
               "keypoint_scale": args.keypoint_scale,
               "start_frame": args.start_frame, "max_frames": args.max_frames, "every": args.every}
    # Keyed only when set, so that manifests written before these options keep resuming.
    if getattr(args, "heatmaps_dir", None):
        options["write_heatmaps"] = str(Path(args.heatmaps_dir).resolve())
    if getattr(args, "no_render", False):
        options["render"] = False
    keyed = {"model": {k: v for k, v in model.items() if k not in ("proto", "weights")}, "options": options}
    key = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]
    return key, model, options


# ---------------------------------------------------------------- the manifest

class Manifest:
    """manifest.jsonl: the latest record of every video, one JSON object per line.

    Only the driver writes it. Each update is an atomic rewrite under a lock, so two runs
    sharing an output folder (on different videos) merge their records instead of
    dropping each other's: a rewrite first reads back a file another run changed.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / MANIFEST_NAME
        self._lines: Dict[str, str] = {}  # source -> its record's line
        self._mine: Dict[str, str] = {}  # the records this run wrote
        self._seen: Optional[Tuple[int, int, int]] = None
        self._read()

    def _stat(self) -> Optional[Tuple[int, int, int]]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _read(self) -> None:
        self._seen = self._stat()
        self._lines = {}
        if self._seen is None:
            return
        try:  # a FIFO or a device under the manifest's name hung the batch
            data = read_regular_file(self.path, display_path(self.path), "a manifest", MAX_MANIFEST_BYTES)
        except InputError as exc:
            raise OutputError(str(exc)) from None
        bad = 0
        for raw in data.splitlines():
            try:  # line by line: one line that is not UTF-8 costs its video, not the folder's batches
                line = raw.decode("utf-8")
                record = json.loads(line)
                self._lines[record["source"]] = line
            except (ValueError, KeyError, TypeError):  # UnicodeDecodeError is a ValueError
                bad += bool(raw.strip())
        if bad:
            log.warning(f"{display_path(self.path)}: {bad} unreadable line(s) ignored; those videos will be redone")
        self._lines.update(self._mine)

    def get(self, source: str) -> Optional[dict]:
        line = self._lines.get(source)
        return json.loads(line) if line is not None else None

    def put(self, record: dict) -> None:
        line = json.dumps(record, separators=(",", ":"), allow_nan=False)
        self._mine[record["source"]] = line
        try:
            with FileLock(self.path):  # waits for the other run's rewrite
                if self._stat() != self._seen:  # another run wrote it since
                    self._read()
                self._lines[record["source"]] = line
                write_atomic(self.path, "".join(v + "\n" for v in self._lines.values()).encode())
                self._seen = self._stat()
        except OSError as exc:
            raise OutputError(f"cannot write {display_path(self.path)}: {exc.strerror or exc}") from None


def outputs_intact(record: dict, root: Path) -> bool:
    """Every output the record lists is there with its recorded size."""
    for output in record.get("outputs") or []:
        try:
            if (root / output["file"]).stat().st_size != output["bytes"]:
                return False
        except (OSError, KeyError, TypeError):
            return False
    return bool(record.get("outputs"))


def already_done(record: Optional[dict], job: Job, key: str, root: Path) -> bool:
    return (record is not None and record.get("status") == "done" and record.get("key") == key
            and record.get("source_bytes") == job.bytes and record.get("source_mtime_ns") == job.mtime_ns
            and outputs_intact(record, root))
