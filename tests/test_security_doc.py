"""docs/security.md cannot drift: every test it cites exists, every limit it lists is real."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from analysis import settings

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "security.md"


def test_every_cited_test_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    cited = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text))
    assert len(cited) >= 40
    missing = []
    for file, name in sorted(cited):
        path = ROOT / file
        tree = ast.parse(path.read_text(encoding="utf-8")) if path.exists() else None
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)} if tree else set()
        if name not in names:
            missing.append(f"{file}::{name}")
    assert missing == []


def test_every_limit_is_listed_with_its_default() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = {m.group(2): m.group(1) for m in re.finditer(r"\| ([^|]+?) \| `(DELIVERY_TRACE_\w+)`",
                                                         text)}
    assert set(rows) == {var for var, _ in settings.LIMIT_ENV.values()}
    shown = {"2 GiB": 2 * 1024**3, "4 GiB": 4 * 1024**3, "200": 200, "64 MiB": 64 * 1024**2,
             "1000": 1000, "20,000,000": 20_000_000}
    for var, default in settings.LIMIT_ENV.values():
        assert shown[rows[var].strip()] == default, var
