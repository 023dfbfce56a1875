"""The ONNX the faster engines run, converted from the Caffe weights on first use and
cached.

Converted models are cached next to the weights as `<weights>.<sha256[:12]>.s<stages>.onnx`
(`.p<hash of the deploy file>.onnx` for a custom definition): a new checksum or another
cut is another file, files made from an older checksum of the same weights path are
removed when a new one is written, and files from an older converter (model_version
below CONVERTER_VERSION) are rebuilt. Where the weights' folder is read-only the files go
to the user cache (pose.core.paths.user_cache) instead; where that is read-only too, the
tools convert into a temporary folder for the one run (pose.families.openpose.net.load).

The key is the weights' SHA-256, computed once per process (0.15-0.2 s for 200 MB):
weights replaced by other contents of the same size and mtime are never mistaken for
the old ones, which a size-and-mtime key would do.

    python -m pose.families.openpose.net.convert pose/coco/pose_iter_440000.caffemodel --model COCO --stages 6
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import sys
from pathlib import Path
from typing import Optional, Sequence, Union

from pose.core.errors import EXIT_USAGE, NetworkError
from pose.core.files import FileLock, file_sha256, remove_stale_temps
from pose.core.paths import cache_dir, display_path
from pose.families.openpose.net.onnx_export import CONVERTER_VERSION, ConversionError, WeightsMismatch, convert
from pose.families.openpose.spec import ModelSpec, get_spec
from pose.runtime.caffe_files import check_prototxt, check_weights
from pose.runtime.caffemodel import CaffeModelError, _read_varint

_MODEL_VERSION_FIELD, _MODEL_GRAPH_FIELD = 5, 7  # onnx.proto ModelProto


class UnsupportedDefinition(NetworkError):
    """The ONNX converter cannot express this network (only the Caffe route can run it)."""

    exit_code = EXIT_USAGE


class NoCacheFolder(NetworkError):
    """Neither the weights' folder nor the user cache can be written: nowhere to keep the
    converted file (the caller converts for one run instead)."""

    exit_code = EXIT_USAGE


def cache_path(weights: Union[str, Path], sha256: str, cut: str, folder: Optional[Path] = None) -> Path:
    """`<weights>.<sha256[:12]>.<cut>.onnx` in `folder`, by default `cache_dir`; `cut` is
    s<stages> or p<deploy file hash>."""
    weights = Path(weights)
    folder = folder or cache_dir(weights)
    if folder is None:
        raise NoCacheFolder(f"no writable folder for the ONNX converted from {display_path(weights)} "
                            "(its own folder and the user cache are read-only)")
    return folder / f"{weights.name}.{sha256[:12]}.{cut}.onnx"


def _converter_version(path: Path) -> Optional[int]:
    """model_version of an ONNX file, read from its first bytes (protobuf writes it before the graph)."""
    try:
        with open(path, "rb") as f:
            head = memoryview(f.read(256))
        pos = 0
        while pos < len(head):
            key, pos = _read_varint(head, pos)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, pos = _read_varint(head, pos)
                if field == _MODEL_VERSION_FIELD:
                    return value
            elif wire == 2 and field != _MODEL_GRAPH_FIELD:
                size, pos = _read_varint(head, pos)
                pos += size
            else:
                return None
    except (OSError, CaffeModelError):
        return None
    return None


def _is_current(path: Path) -> bool:
    return path.is_file() and _converter_version(path) == CONVERTER_VERSION


def _remove_stale(folder: Path, weights: Path, keep_sha: str) -> None:
    """Drop converted files of this weights name in `folder` that were made from other contents."""
    for old in folder.glob(f"{glob.escape(weights.name)}.*.onnx"):
        if old.name[len(weights.name) + 1:].split(".", 1)[0] != keep_sha[:12]:
            old.unlink(missing_ok=True)


def onnx_for(weights: Union[str, Path], spec: ModelSpec, stages: Optional[int] = None,
             proto: Optional[Union[str, Path]] = None, half: bool = False, folder: Optional[Path] = None) -> Path:
    """The ONNX file of `weights` (`spec` cut after `stages`, or the deploy file `proto`),
    converted on first use and cached next to the weights (or in `folder`)."""
    weights = Path(weights)
    sha = file_sha256(weights)
    if proto is None:
        cut = f"s{spec.stages if stages is None else stages}"
    else:
        cut = "p" + hashlib.sha256(Path(proto).read_bytes()).hexdigest()[:8]
    path = cache_path(weights, sha, cut + (".f16" if half else ""), folder)
    if not _is_current(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # One conversion per file at a time: a second run waits and reuses the result;
        # the one holding the lock deletes what a killed conversion left (200 MB each).
        with FileLock(path):
            if not _is_current(path):
                remove_stale_temps(path)
                convert(weights, spec, stages, path, proto, half)
                _remove_stale(path.parent, weights, sha)
    return path


def converted(spec: ModelSpec, stages: int, weights: Path, proto: Optional[Path] = None,
              hint: Optional[str] = None, half: bool = False, folder: Optional[Path] = None) -> Path:
    """`onnx_for` with every failure as a NetworkError the tools print in one line
    (NoCacheFolder where nothing can hold the cache and no `folder` is given)."""
    check_weights(weights, hint)
    if proto is not None:
        check_prototxt(proto)
    try:
        return onnx_for(weights, spec, stages, proto, half, folder)
    except WeightsMismatch as exc:
        raise NetworkError(f"the weights {Path(weights).name} do not fit the network definition "
                           f"({exc})", EXIT_USAGE) from None
    except ConversionError as exc:
        raise UnsupportedDefinition(f"cannot convert to ONNX: {exc}") from None
    except OSError as exc:
        raise NetworkError(f"cannot write the ONNX converted from {display_path(weights)}: "
                           f"{exc.strerror or exc}", EXIT_USAGE) from None


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pose.families.openpose.net.convert",
                                     description="Convert OpenPose Caffe weights to ONNX (no Caffe needed).")
    parser.add_argument("weights", help=".caffemodel file")
    parser.add_argument("--model", default="COCO", help="COCO, MPI or MPI_4 (default COCO)")
    parser.add_argument("--stages", type=int, help="cut after this stage, 1-6 (default: the model's)")
    parser.add_argument("--proto", help="convert this Caffe deploy file instead of the built-in network")
    parser.add_argument("-o", "--output", help="write here instead of the cache file next to the weights")
    args = parser.parse_args(argv)
    try:
        spec = get_spec(args.model)
        if not Path(args.weights).is_file():
            raise ConversionError(f"weights not found: {args.weights}")
        path = (convert(args.weights, spec, args.stages, args.output, args.proto) if args.output
                else onnx_for(args.weights, spec, args.stages, args.proto))
    except (ConversionError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
