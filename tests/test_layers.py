"""The engine cannot see the UI: importing all of `analysis` never imports streamlit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_analysis_never_imports_streamlit() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import analysis\n"
        "for m in pkgutil.walk_packages(analysis.__path__, 'analysis.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'streamlit' or n.startswith('streamlit.'))\n"
        "print(len(list(pkgutil.walk_packages(analysis.__path__))))\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) >= 10  # the walk really imported the engine's modules


def test_pages_import_no_private_engine_state() -> None:
    """Pages are thin: no SQL DDL or DuckDB connections of their own."""
    for page in (ROOT / "pages").glob("*.py"):
        text = page.read_text(encoding="utf-8")
        assert "duckdb.connect" not in text, page.name
        assert "CREATE TABLE" not in text.upper().replace("  ", " "), page.name
