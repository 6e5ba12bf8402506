"""README.md stays short and true: its commands, make targets, links and example output are checked."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from bot.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_LINES = 200
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`]+)`")


def readme() -> str:
    """README.md's text."""
    return README.read_text(encoding="utf-8")


def code_lines(text: str) -> list[str]:
    """Every inline code span and every line inside a fenced block."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            lines.append(line.lstrip("$ ").strip())
        else:
            lines.extend(CODE_SPAN.findall(line))
    return lines


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """resbot's subcommands and their parsers."""
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def options(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string a parser accepts."""
    return {option for action in parser._actions for option in action.option_strings}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of every heading in a markdown file."""
    return {slug(line.lstrip("#")) for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("#") and not line.startswith("#!")}


def test_readme_is_short() -> None:
    assert len(readme().splitlines()) <= MAX_LINES


def test_every_resbot_command_and_option_readme_names_exists() -> None:
    commands = subcommands()
    named = [line for line in code_lines(readme()) if line.startswith("resbot ")]
    assert len(named) >= 8
    for line in named:
        words = shlex.split(line.replace("…", "x"))
        command = words[1]
        assert command in commands, line
        accepted = options(commands[command]) | {"--config"}
        for word in words[2:]:
            if word.startswith("--"):
                assert word.split("=")[0] in accepted, (line, word)


def test_every_make_target_readme_names_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = {m for line in code_lines(readme()) for m in re.findall(r"(?:^|\s)make ([a-z][\w-]*)", line)}
    assert {"run", "test"} <= named
    assert named <= targets, named - targets


def links(path: Path) -> list[str]:
    """Relative links of a markdown file (no web addresses, no mail)."""
    return [t for t in LINK.findall(path.read_text(encoding="utf-8")) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("path", [README, *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_every_relative_link_resolves(path: Path) -> None:
    for target in links(path):
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file) if file else path
        assert resolved.exists(), f"{path.name}: {target}"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{path.name}: {target}"


def test_readme_links_into_docs_for_each_guide() -> None:
    linked = {t.partition("#")[0] for t in links(README)}
    for name in ("cli", "web", "api", "telegram", "evaluation", "benchmarks", "configuration", "deployment",
                 "unanswered", "design"):
        assert f"docs/{name}.md" in linked, name


def prose_lines(text: str) -> list[str]:
    """Lines of running text (not code, tables, headings or lists of links) long enough to be telling."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced and len(line) >= 60 and not line.startswith(("|", "#", "<!--")):
            lines.append(line.strip())
    return lines


def test_no_readme_text_repeats_a_doc() -> None:
    docs = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    repeated = [line for line in prose_lines(readme()) if line in docs]
    assert repeated == []


def example_blocks() -> list[tuple[str, str]]:
    """Each ``$ resbot ask "..."`` block in README: (question, the output shown)."""
    blocks = re.findall(r"```text\n\$ resbot ask \"([^\"]+)\"\n(.*?)```", readme(), re.S)
    return [(question, output) for question, output in blocks]


def test_the_ask_example_is_what_the_code_prints(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = example_blocks()
    assert blocks
    for question, shown in blocks:
        assert main(["ask", question]) == 0
        assert capsys.readouterr().out == shown
