"""The command-line reference, docs/cli.md, written from the parsers themselves so that it
cannot drift from them: `python -m pose.cli_reference > docs/cli.md` (tests/test_docs.py
checks the file against this output).

Tables are built from each parser's actions rather than argparse's help text, whose
layout changes between Python versions and terminal widths.
"""
from __future__ import annotations

import argparse
import sys
from typing import Iterable, List

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
        lines.append(f"| `{_cell(flag.usage)}` | {_cell(flag.ours)} | {_cell(flag.note)} |")
    return lines


if __name__ == "__main__":
    sys.stdout.write(reference())
