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


def _page_engine_imports() -> set[str]:
    """Every `analysis` module app.py and the pages import, by name or through engine()."""
    import ast

    names: set[str] = set()
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analysis"):
                # `from analysis import charts` imports analysis.charts
                subs = [f"{node.module}.{a.name}" for a in node.names]
                names.update(s for s in subs if (ROOT / (s.replace(".", "/") + ".py")).exists()
                             or (ROOT / s.replace(".", "/")).is_dir())
                if node.module != "analysis":
                    names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names if a.name.startswith("analysis."))
    from pages._common import ENGINE_MODULES

    return names | set(ENGINE_MODULES.values())


def test_serve_warms_every_engine_module_a_page_imports() -> None:
    """serve.py's warm-up covers the pages' imports, so no first visitor pays for one."""
    from analysis.warmup import PAGE_MODULES

    pages = _page_engine_imports()
    assert "analysis.charts" in pages and "analysis.store" in pages  # the scan works
    assert pages <= set(PAGE_MODULES), sorted(pages - set(PAGE_MODULES))
    code = ("import sys\nfrom analysis import warmup\nwarmup.warm()\n"
            "missing = [m for m in warmup.PAGE_MODULES if m not in sys.modules]\n"
            "assert not missing, missing\n"
            "from plotly.validator_cache import ValidatorCache\n"
            "kinds = {p for p, _ in ValidatorCache._cache}\n"
            "assert {'bar', 'funnel', 'heatmap', 'sunburst'} <= kinds, kinds\n"
            "assert 'streamlit' not in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
