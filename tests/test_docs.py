"""The documentation: the CLI reference and OpenPose's flag table are generated from the
parsers and must equal what the parsers say now; the README stays a README, and every
link between the pages lands on a file and heading that exist."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pose.cli_reference import PAGES, main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Pages other branches add (RTMPose, BlazePose, evaluation); the README links them already.
PENDING = {"docs/models-rtmpose.md", "docs/models-blazepose.md", "docs/eval.md"}
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", list(PAGES))
def test_generated_pages_equal_the_parsers(page):
    text = (DOCS / f"{page}.md").read_text()
    assert text == PAGES[page](), f"docs/{page}.md is stale: python -m pose.cli_reference {page} > docs/{page}.md"


def test_reference_names_every_option_of_every_parser():
    from pose.cli import build_parser
    from pose.download.cli import models_parser

    text = PAGES["cli"]()
    for parser in (build_parser("image"), build_parser("video"), models_parser()):
        for action in parser._actions:
            for option in action.option_strings if action.help != "show this help message and exit" else ():
                assert f"`{option}" in text or f", {option}" in text, option


def test_reference_command_line(capsys):
    assert main(["nothing"]) == 2 and "usage" in capsys.readouterr().err
    assert main([]) == 0 and capsys.readouterr().out == PAGES["cli"]()


def test_readme_is_a_readme():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    assert "\nruff check . && python -m pytest -q\n" in text  # CI runs this line
    assert "**Licence of the weights.**" in text
    assert text.index("--demo") < text.index("./getModels.sh")  # a newcomer tries it first
    assert "python3 -m venv .venv" in text


def test_user_docs_hold_no_development_notes():
    for path in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = path.read_text()
        for phrase in ("development machine", "| room |", "python -m tests.pose_accuracy", "tests/render_fields.py"):
            assert phrase not in text, f"{path.name}: {phrase!r}"


def _slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set:
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", path.read_text(), re.M)}


def test_links_land_on_pages_and_headings():
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if str(dest.relative_to(ROOT)) in PENDING:
                continue
            assert dest.exists(), f"{page.name}: {target}"
            if anchor and dest.suffix == ".md":
                assert anchor in _anchors(dest), f"{page.name}: {target}"


def test_caches_beside_the_weights_are_ignored_by_git():
    import shutil
    import subprocess

    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("pose/coco/openvino/cpu-bf16-latency/123.blob", "pose/body_25/openvino/x.blob",
                 "pose/coco/pose_iter_440000.caffemodel.0123456789ab.6.onnx"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
