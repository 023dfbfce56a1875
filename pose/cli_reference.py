"""The command-line reference, docs/cli.md, written from the parsers themselves so that it
cannot drift from them: `python -m pose.cli_reference > docs/cli.md`, and the table of
OpenPose's flags, `python -m pose.cli_reference openpose-flags > docs/openpose-flags.md`
(tests/test_docs.py checks both files against this output).

Tables are built from each parser's actions rather than argparse's help text, whose
layout changes between Python versions and terminal widths.
"""
from __future__ import annotations

import argparse
import sys
from typing import Iterable, List, Optional, Sequence

from pose.cli import OPENPOSE_FLAGS, build_parser
from pose.download.cli import models_parser
from pose.families import DEFAULT_FAMILY, FAMILIES

TOOLS = (("image", "get_hpe_image.py", "get-hpe-image"), ("video", "get_hpe_video.py", "get-hpe-video"))


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _help(action: argparse.Action, parser: argparse.ArgumentParser) -> str:
    text = action.help or ""
    if "%(" in text:
        text = text % dict(vars(action), prog=parser.prog, default=action.default)
    return _cell(text)


def _invocation(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    names = ", ".join(action.option_strings)
    if action.nargs != 0:
        metavar = action.metavar or action.dest.upper()
        names += " " + {"?": f"[{metavar}]", "+": f"{metavar}...", "*": f"[{metavar}...]"}.get(action.nargs, metavar)
    return f"`{_cell(names)}`"


def _groups(parser: argparse.ArgumentParser, skip: Iterable[str] = ()) -> List[str]:
    lines: List[str] = []
    for group in parser._action_groups:
        actions = [a for a in group._group_actions
                   if a.help is not argparse.SUPPRESS and not isinstance(a, argparse._HelpAction) and a.dest not in skip]
        if not actions:
            continue
        lines += ["", f"#### {group.title}", "", "| option | meaning |", "| --- | --- |"]
        lines += [f"| {_invocation(a)} | {_help(a, parser)} |" for a in actions]
    return lines


def reference() -> str:
    """The text of docs/cli.md."""
    out = ["# Command-line reference", "",
           "[Back to the README](../README.md)", "",
           "Generated from the tools' own parsers by `python -m pose.cli_reference > docs/cli.md`; do not edit by",
           "hand. The installed console commands take the same options under the names in brackets.", ""]
    for tool, script, command in TOOLS:
        parser = build_parser(tool, DEFAULT_FAMILY)
        out += [f"## {script} ({command})", "", _cell(parser.description), "",
                f"### Options ({DEFAULT_FAMILY}, the default family)"]
        out += _groups(parser)
        shared = {a.dest for a in parser._actions}
        for family in FAMILIES:
            if family == DEFAULT_FAMILY:
                continue
            other = build_parser(tool, family)
            out += ["", f"### Options of --family {family} (in place of {DEFAULT_FAMILY}'s own)"]
            out += _groups(other, skip=shared - {"mode", "family"})
        out += ["", "### Outputs and examples", "", "```", parser.epilog.rstrip(), "```", ""]
    models = models_parser()
    out += ["## getModels.sh (get-hpe-models)", "", _cell(models.description)]
    out += _groups(models)
    out += ["", "```", models.epilog.rstrip(), "```", ""]
    out += ["## OpenPose's flags", "",
            "Accepted by both tools beside their own; see [openpose-flags.md](openpose-flags.md).", ""]
    out += openpose_table()
    return "\n".join(out).rstrip() + "\n"


def openpose_table() -> List[str]:
    """The table of OpenPose's flags: what each becomes here, or why it is refused."""
    lines = ["| OpenPose flag | here | note |", "| --- | --- | --- |"]
    for flag in OPENPOSE_FLAGS:
        lines.append(f"| `{_cell(flag.usage)}` | {_cell(flag.ours)} | {_cell(flag.refused or flag.note)} |")
    return lines


def openpose_flags_page() -> str:
    """The text of docs/openpose-flags.md."""
    return "\n".join([
        "# OpenPose's flags", "", "[Back to the README](../README.md)", "",
        "Both tools accept OpenPose's own flags where they mean the same thing here, in either of gflags' forms",
        "(`--flag value`, `--flag=value`), and put them in their own terms; a flag that would mean something",
        "different is refused in one line that says why and what to use. Generated from the table in",
        "`pose/cli.py` (`OPENPOSE_FLAGS`) by `python -m pose.cli_reference openpose-flags`; every row is tested.",
        "",
        "For example, `python get_hpe_image.py --model_pose BODY_25 --image_dir shots/ --render_pose 0 --write_json json/`",
        "writes OpenPose's JSON files only, as OpenPose would, without drawing anything.", "",
        *openpose_table()]) + "\n"


PAGES = {"cli": reference, "openpose-flags": openpose_flags_page}


def main(argv: Optional[Sequence[str]] = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv) or ["cli"]
    if len(names) != 1 or names[0] not in PAGES:
        print(f"usage: python -m pose.cli_reference [{'|'.join(PAGES)}]", file=sys.stderr)
        return 2
    sys.stdout.write(PAGES[names[0]]())
    return 0


if __name__ == "__main__":
    sys.exit(main())
