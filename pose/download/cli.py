"""getModels.sh: download and verify the OpenPose weights (`python -m pose.download`).

The procedure is pose.download.fetch's; this module is only the command line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Mapping, Optional, Sequence, Set

from pose.core.arguments import OneLineParser, argument_type, parse_float, parse_int
from pose.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from pose.core.paths import models_dir
from pose.core.signals import exit_code_of, sigterm_raises, word_for
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
  ./getModels.sh                      download every model's weights (same as "all")
  ./getModels.sh COCO                 only the COCO weights
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
weights' file name ({files}) is appended.
A mirror ending in .caffemodel names the file itself: it is used for the model of that
file name, or for the one model requested. Your mirrors are tried before the built-in
ones (pose/families/openpose/spec.py). HTTP(S) proxies are taken from HTTP_PROXY / HTTPS_PROXY.

exit status: 0 every requested model is present and verified; 1 some model could not be
downloaded or failed verification (the message says how to place it by hand); 2 bad
arguments; 130 interrupted (Ctrl-C), 143 terminated (SIGTERM) -- the .part is kept and
the next run resumes it. Two runs at once for one model: the second waits for the first
and then finds its file."""


def _parser(downloads: Mapping[str, Weights]) -> argparse.ArgumentParser:
    choices = list(downloads)
    files = ", ".join(Path(w.relpath).name for w in downloads.values())
    p = OneLineParser(
        prog="getModels.sh",
        description="Download the OpenPose weights, resuming and verifying them (size and\n"
                    "checksum). `python -m pose.download` takes the same arguments.",
        epilog=_EPILOG.format(env=MIRRORS_ENV, files=files),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help=f"{', '.join(choices)} or all (default: all); case does not matter")
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


def _select(names: Sequence[str], downloads: Mapping[str, Weights]) -> List[str]:
    chosen: List[str] = []
    for name in names or ["all"]:
        key = name.strip().upper()
        if key == "ALL":
            chosen.extend(downloads)
        elif key in downloads:
            chosen.append(key)
        else:
            raise ValueError(f"unknown model {name!r}: choose {', '.join(downloads)} or all")
    return list(dict.fromkeys(chosen))


def main(argv: Optional[Sequence[str]] = None,
         downloads: Mapping[str, Weights] = DOWNLOADS) -> int:
    """The getModels.sh command; returns the exit status. `downloads` maps names to weights."""
    if _MISSING:
        print(f"getModels.sh needs the Python package {_MISSING!r}: "
              "pip install -r requirements.txt", file=sys.stderr)
        return EXIT_FAILED
    parser = _parser(downloads)
    try:  # argparse exits on --help and on bad arguments; callers want a status instead
        args = parser.parse_args(argv)
        try:
            names = _select(args.models, downloads)
            mirrors = list(args.mirror) + mirrors_from_env()
            for mirror in mirrors:
                _as_url(mirror)
            _check_file_mirrors(mirrors, [downloads[n] for n in names])
            models_dir()  # $OPENCV_HPE_HOME naming a file or ~nouser: one line now, not "Not a directory" later
        except (ValueError, UsageError) as e:
            parser.error(str(e))
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    if args.verify:
        with sigterm_raises():
            return _verify_all(names, downloads)

    policy = Policy(connect_timeout=args.connect_timeout, read_timeout=args.read_timeout,
                    retries=args.retries, backoff=args.backoff, progress=not args.quiet)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))
    unreachable: Set[str] = set()
    failed = []
    told = False  # the licence line, once per run that downloads
    current: Optional[Weights] = None
    try:
        with sigterm_raises():  # SIGTERM keeps the .part as Ctrl-C does; exit 143
            for name in names:
                current = downloads[name]
                urls = urls_for(current, mirrors, len(names), args.only_mirrors)
                if not args.quiet:
                    print(f"{name}: {current.path}", flush=True)
                outcome = download(current, urls, force=args.force, policy=policy, say=say,
                                   unreachable=unreachable, on_wait=_note)
                if outcome.ok:
                    print(f"{name}: {outcome.detail}", flush=True)
                    if outcome.status == "downloaded" and not told:
                        print(WEIGHTS_LICENCE, flush=True)
                        told = True
                else:
                    failed.append(name)
                    print(f"{name}: {outcome.detail}", file=sys.stderr, flush=True)
    except KeyboardInterrupt as stop:
        print(_interrupted(current, word_for(stop)), file=sys.stderr, flush=True)
        return exit_code_of(stop)
    if failed:
        print(f"not installed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _note(message: str) -> None:
    """A line the user needs even with --quiet (waiting for another run), on stderr."""
    print(message, file=sys.stderr, flush=True)


def _interrupted(weights: Optional[Weights], word: str = "interrupted") -> str:
    part = part_path(weights) if weights else None
    if part is not None and part.exists():
        of = "" if weights.size is None else f" of {weights.size}"
        return (f"{word}: {_part_size(part)}{of} bytes kept in {part}; "
                "run the same command again to resume")
    return word


def _verify_all(names: Sequence[str], downloads: Mapping[str, Weights]) -> int:
    status = EXIT_OK
    for name in names:
        try:
            ok, detail = verify_file(downloads[name])
        except KeyboardInterrupt as stop:
            print(word_for(stop), file=sys.stderr)
            return exit_code_of(stop)
        print(f"{name}: {detail}", file=sys.stdout if ok else sys.stderr, flush=True)
        status = status if ok else EXIT_FAILED
    if status != EXIT_OK:
        print(f"run ./getModels.sh {' '.join(names)} to download what is missing or wrong",
              file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
