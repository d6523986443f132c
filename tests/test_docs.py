"""Docs that cannot drift: every format, CLI command and reason is in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis import sources
from analysis.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(s.NAME for s in sources.formats()))
def test_every_registered_format_is_in_the_readme_table(name: str) -> None:
    assert re.search(rf"^\| `{re.escape(name)}` \|", README, re.MULTILINE), name


def test_every_cli_command_is_documented() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for command in sub.choices:
        assert f"delivery-trace {command}" in README, command


def test_every_reason_and_category_is_documented() -> None:
    from analysis.rules import CATEGORIES, REASONS

    for reason in REASONS:
        assert reason in README, reason
    for category in CATEGORIES:
        assert category in README, category


def test_first_screen_has_exactly_the_two_commands() -> None:
    first_screen = README.split("---", 1)[0]
    blocks = re.findall(r"```\n(.*?)```", first_screen, re.DOTALL)
    commands = [line.split("#")[0].strip() for b in blocks for line in b.splitlines()
                if line.strip()]
    assert commands == ["make run", "make test"]


def test_readme_image_exists() -> None:
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (ROOT / target).exists(), target
