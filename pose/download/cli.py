"""getModels.sh: download and verify the model files (`python -m pose.download`):
OpenPose's weights (published checksums) and MMPose's RTMPose / RTMO / detector ONNX
(zips with no published checksum: checked against their first download).

The procedures are pose.download.fetch's and pose.download.archive's; this module is only
the command line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union

from pose.core.arguments import OneLineParser, argument_type, parse_float, parse_int
from pose.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from pose.core.signals import exit_code_of, sigterm_raises, word_for
from pose.download.archive import fetch_archive, urls_for_archive, verify_archive
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
    mirrors_from_env,
    part_path,
    urls_for,
    verify_file,
)
from pose.families.openpose.spec import DOWNLOADS, WEIGHTS_LICENCE

_EPILOG = """\
examples:
  ./getModels.sh                      download OpenPose's weights (same as "all")
  ./getModels.sh COCO                 only the COCO weights
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
A mirror ending in .caffemodel names the file itself: it is used for the model of that
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


def _parser(downloads: Mapping[str, Weights], groups: Mapping[str, Sequence[str]]) -> argparse.ArgumentParser:
    choices = list(downloads) + list(groups)
    files = ", ".join(w.path.name for w in downloads.values())
    p = OneLineParser(
        prog="getModels.sh",
        description="Download the model files, resuming and verifying them (size and\n"
                    "checksum). `python -m pose.download` takes the same arguments.",
        epilog=_EPILOG.format(env=MIRRORS_ENV, files=files),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help=f"{', '.join(choices)} or all (OpenPose's; default: all); case does not matter")
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


Item = Tuple[str, Union[Weights, object]]  # (name, Weights or pose.families.rtmpose.models.Archive)


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _select(names: Sequence[str], downloads: Mapping[str, Weights], archives: Mapping[str, object],
            groups: Mapping[str, Sequence[str]]) -> List[Item]:
    """(name, what to fetch) for the names asked: OpenPose's weights by their names (any
    case), MMPose's models by theirs (a pose model brings its detector), "all" = OpenPose's."""
    chosen: List[Item] = []
    by_key = {_key(g): g for g in groups}
    for name in names or ["all"]:
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


def main(argv: Optional[Sequence[str]] = None, downloads: Mapping[str, Weights] = DOWNLOADS,
         archives: Optional[Mapping[str, object]] = None, groups: Optional[Mapping[str, Sequence[str]]] = None) -> int:
    """The getModels.sh command; returns the exit status. `downloads` maps names to
    OpenPose-style weights; `archives` maps network names to MMPose-style archives and
    `groups` the names users give to the networks they fetch (default: the RTMPose family's)."""
    if _MISSING:
        print(f"getModels.sh needs the Python package {_MISSING!r}: "
              "pip install -r requirements.txt", file=sys.stderr)
        return EXIT_FAILED
    if archives is None or groups is None:
        default_archives, default_groups = _rtmpose_tables()
        archives = default_archives if archives is None else archives
        groups = default_groups if groups is None else groups
    parser = _parser(downloads, groups)
    try:  # argparse exits on --help and on bad arguments; callers want a status instead
        args = parser.parse_args(argv)
        try:
            items = _select(args.models, downloads, archives, groups)
            mirrors = list(args.mirror) + mirrors_from_env()
            for mirror in mirrors:
                _as_url(mirror)
            _check_file_mirrors(mirrors, [w for _, w in items if isinstance(w, Weights)])
        except ValueError as e:
            parser.error(str(e))
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    if args.verify:
        with sigterm_raises():
            return _verify_all(items)

    policy = Policy(connect_timeout=args.connect_timeout, read_timeout=args.read_timeout,
                    retries=args.retries, backoff=args.backoff, progress=not args.quiet)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))
    unreachable: Set[str] = set()
    failed = []
    told: Set[str] = set()  # each licence line once per run that downloads
    parts: List[Tuple[Path, Optional[int]]] = []  # where the file in hand is kept while it arrives, its size
    try:
        with sigterm_raises():  # SIGTERM keeps the .part as Ctrl-C does; exit 143
            for name, item in items:
                if not args.quiet:
                    print(f"{name}: {item.path}", flush=True)
                if isinstance(item, Weights):
                    parts[:] = [(part_path(item), item.size)]
                    urls = urls_for(item, mirrors, len(items), args.only_mirrors)
                    outcome = download(item, urls, force=args.force, policy=policy, say=say,
                                       unreachable=unreachable, on_wait=_note)
                    licence = WEIGHTS_LICENCE
                else:
                    urls = urls_for_archive(item, mirrors, args.only_mirrors)
                    parts[:] = [(_archive_part(item, url), None) for url in urls]
                    outcome = fetch_archive(item, urls, force=args.force, policy=policy, say=say,
                                            unreachable=unreachable, on_wait=_note)
                    licence = item.licence
                if outcome.ok:
                    print(f"{name}: {outcome.detail}", flush=True)
                    if outcome.status == "downloaded" and licence not in told:
                        print(licence, flush=True)
                        told.add(licence)
                else:
                    failed.append(name)
                    print(f"{name}: {outcome.detail}", file=sys.stderr, flush=True)
    except KeyboardInterrupt as stop:
        print(_interrupted(parts, word_for(stop)), file=sys.stderr, flush=True)
        return exit_code_of(stop)
    if failed:
        print(f"not installed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _archive_part(archive, url: str) -> Path:
    from pose.download.archive import _download_target
    target = _download_target(archive, url)
    return target.with_name(target.name + ".part")


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


def _verify_all(items: Sequence[Item]) -> int:
    status = EXIT_OK
    for name, item in items:
        try:
            ok, detail = verify_file(item) if isinstance(item, Weights) else verify_archive(item)
        except KeyboardInterrupt as stop:
            print(word_for(stop), file=sys.stderr)
            return exit_code_of(stop)
        print(f"{name}: {detail}", file=sys.stdout if ok else sys.stderr, flush=True)
        status = status if ok else EXIT_FAILED
    if status != EXIT_OK:
        names = " ".join(dict.fromkeys(name for name, _ in items))
        print(f"run ./getModels.sh {names} to download what is missing or wrong", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
