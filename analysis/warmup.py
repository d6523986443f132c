"""Pay the engine's one-off start-up costs at server start, not on the first page load.

A fresh Python spends ~3-4 s importing pandas, DuckDB, Plotly and the rule tables, and
Plotly builds its validators the first time it meets each trace type (~0.2-0.6 s). Streamlit
runs every session's script in the server process, so `serve.py` calls `warm()` before it
starts the server and the first visitor's Overview finds it all in memory.
"""

from __future__ import annotations

import importlib
import time

# Every analysis module a page imports (tests/test_layers.py checks the list is complete).
PAGE_MODULES = (
    "analysis.charts", "analysis.classify", "analysis.demo", "analysis.errors", "analysis.export",
    "analysis.guide_content", "analysis.journeys", "analysis.narrative", "analysis.queries",
    "analysis.redact", "analysis.report", "analysis.report_html", "analysis.report_pdf",
    "analysis.report_xlsx", "analysis.settings", "analysis.smtp", "analysis.sources",
    "analysis.sources._base", "analysis.sources._espmap", "analysis.store",
)


def warm() -> float:
    """Import the pages' engine modules and serialise one figure per trace type; seconds."""
    t0 = time.perf_counter()
    for name in PAGE_MODULES:
        importlib.import_module(name)
    import plotly.graph_objects as go

    fig = go.Figure([go.Bar(x=["a"], y=[1]), go.Funnel(x=[1], y=["a"]), go.Heatmap(z=[[1]]),
                     go.Sunburst(labels=["a"], parents=[""], values=[1])])
    fig.update_layout(title="warm-up")
    fig.to_json()
    return time.perf_counter() - t0
