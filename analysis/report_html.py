"""The HTML report: one self-contained file (plotly.js inside, no external request).

Every value passes through `html.escape`; chart data strings are escaped for plotly's
pseudo-HTML labels and the figure JSON is written with plotly's script-safe encoder
(`<`, `>` and `/` as \\u escapes), so a reply or subject containing `<script>` shows as
text. Print styles make the browser's "Save as PDF" a clean A4 document.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.io.json import to_json_plotly
from plotly.offline import get_plotlyjs

from . import charts
from .report import PREVIEW_ROWS, ReportData

CHART_WIDTH = 700  # px: fits an A4 page with 10 mm margins (190 mm ≈ 718 px)
APPENDIX_ROWS = PREVIEW_ROWS  # the report's data holds this many rows of a table
LIST_ROWS = 200
# (kpis key, label, tone: "good" when high is good, "bad" when high is bad, None neutral)
TILES = [
    ("sent", "Sent", None), ("accepted", "Accepted", "good"),
    ("inbox", "Delivered to inbox", "good"), ("junk", "Junk", "bad"),
    ("quarantined", "Quarantined", "bad"), ("dropped", "Dropped", "bad"),
    ("bounced_hard", "Bounced (hard)", "bad"), ("bounced_soft", "Bounced (soft)", "bad"),
    ("rejected", "Rejected", "bad"), ("deferred", "Deferred", "bad"),
    ("accepted_no_trace", "Accepted, no trace", None), ("match_rate", "Matched to a trace", None),
]
# Nothing may leave the file: inline script and styles only, images only as data: URIs.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'")
# Keys whose strings are our own plotly templates (with <br>), not data.
_TEMPLATE_KEYS = ("hovertemplate", "texttemplate")


def e(value: Any) -> str:
    """Escaped text of any value ('—' for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA \
            or value is pd.NaT:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime | pd.Timestamp):
        ts = pd.Timestamp(value)
        ts = ts.tz_convert("UTC") if ts.tzinfo else ts
        return ts.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value), quote=True)


@cache
def _css() -> str:
    return resources.files("analysis").joinpath("templates/report.css").read_text("utf-8")


def _escape_labels(obj: Any, key: str = "") -> Any:
    """Escape '<' and '>' in a figure's data strings (plotly reads them as markup)."""
    if isinstance(obj, str):
        if key in _TEMPLATE_KEYS:
            return obj
        return obj.replace("<", "&lt;").replace(">", "&gt;")
    if isinstance(obj, dict):
        return {k: _escape_labels(v, k) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_escape_labels(v, key) for v in obj]
    if isinstance(obj, np.ndarray) and obj.dtype.kind == "O":
        return [_escape_labels(v, key) for v in obj.tolist()]
    return obj


def figures(data: ReportData) -> dict[str, go.Figure]:
    """The report's charts (from analysis.charts), built from the redacted data."""
    out = {"funnel": charts.chart_funnel(data.kpis),
           "verdicts": charts.chart_verdicts(data.verdicts)}
    if not data.by_code.empty:
        out |= {
            "failures_by_code": charts.chart_failures_by_code(data.by_code),
            "failures_by_domain": charts.chart_failures_by_domain(data.by_domain),
            "domain_heatmap": charts.chart_domain_heatmap(data.heatmap),
            "category_sunburst": charts.chart_category_sunburst(data.tree),
            "failures_over_time": charts.chart_failures_over_time(data.over_time),
            "domain_incidents": charts.chart_domain_incidents(data.incidents),
        }
    for fig in out.values():
        fig.update_layout(width=CHART_WIDTH, autosize=False, template="plotly_white")
    return out


def figure_json(data: ReportData, fig: go.Figure) -> str:
    """Script-safe JSON of a figure with redacted, markup-escaped strings."""
    spec = data.redactor.deep(_escape_labels(fig.to_plotly_json()))
    return to_json_plotly(spec)  # escapes <, > and / so no string can close the script


def safe_figures(data: ReportData) -> dict[str, go.Figure]:
    """The report's charts as the HTML draws them (redacted, labels escaped), for the app."""
    return {name: go.Figure(json.loads(figure_json(data, fig)))
            for name, fig in figures(data).items()}


def _chart_divs(data: ReportData) -> tuple[str, str]:
    """The chart containers and the script that draws them."""
    divs, calls = [], []
    config = '{"displayModeBar": false, "responsive": false}'
    for i, (name, fig) in enumerate(figures(data).items()):
        divs.append((name, f'<div class="chart" id="chart-{i}" data-chart="{e(name)}"></div>'))
        calls.append(f"draw('chart-{i}', {figure_json(data, fig)});")
    script = ("function draw(id, fig) { Plotly.newPlot(id, fig.data, fig.layout || {}, "
              f"{config}); }}\n" + "\n".join(calls))
    return "\n".join(d for _, d in divs), script


def _table(df: pd.DataFrame, columns: list[tuple[str, str]], limit: int | None = None,
           code_cols: tuple[str, ...] = (), total: int | None = None) -> str:
    """An HTML table of `columns` ((column, header)); numbers right-aligned. `total`: how
    many rows the table has in full, when `df` holds only its first rows."""
    if df is None or df.empty:
        return '<p class="note">None.</p>'
    rows = df if limit is None else df.head(limit)
    num = {c for c, _ in columns if c in df and pd.api.types.is_numeric_dtype(df[c])
           and not pd.api.types.is_bool_dtype(df[c])}
    head = "".join(f'<th class="num">{e(h)}</th>' if c in num else f"<th>{e(h)}</th>"
                   for c, h in columns)
    body = []
    for rec in rows[[c for c, _ in columns]].itertuples(index=False):
        cells = []
        for (c, _), v in zip(columns, rec, strict=True):
            cls = ' class="num"' if c in num else ' class="code"' if c in code_cols else ""
            cells.append(f"<td{cls}>{e(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    total = len(df) if total is None else total
    if limit is not None and total > limit:
        more = (f'<p class="note">Showing the first {limit:,} of {total:,} rows; the Excel '
                "report and the CSV downloads have all of them.</p>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _tiles(data: ReportData) -> str:
    k = data.kpis
    sent = k.get("sent", 0) or 0
    out = []
    for key, lab, tone in TILES:
        value = k.get(key, 0)
        if key == "match_rate":
            shown, share = f"{value:.0%}", ""
        elif key == "sent":
            shown, share = f"{int(value):,}", ""
        else:
            shown = f"{int(value):,}"
            p = value / sent if sent else 0
            share = f"{p:.1%}" if 0 < p < 0.1 else f"{p:.0%}"
        cls = f" {tone}" if tone and (tone == "good" or value) else ""
        out.append(f'<div class="tile{cls}"><div class="label">{e(lab)}</div>'
                   f'<div class="value">{e(shown)}</div><div class="share">{e(share)}</div></div>')
    return '<div class="tiles">' + "".join(out) + "</div>"


def _summary(data: ReportData) -> str:
    s = data.summary
    parts = [f'<p class="headline">{e(s.headline)}</p>']
    parts += [f"<p>{e(p)}</p>" for p in s.paragraphs]
    if s.causes:
        parts.append("<h3>Top causes</h3><ul>" + "".join(f"<li>{e(c)}</li>" for c in s.causes)
                     + "</ul>")
    if s.actions:
        parts.append('<h3>What to do first</h3><ol class="actions">'
                     + "".join(f"<li>{e(a)}</li>" for a in s.actions) + "</ol>")
    return '<section class="summary" id="summary">' + "".join(parts) + "</section>"


def _categories(data: ReportData) -> str:
    if data.categories.empty:
        return '<p class="note">No failures in this selection.</p>'
    out = []
    for row in data.categories.itertuples():
        color = charts.CATEGORY_COLORS.get(row.category, "#8c8c8c")
        facts = [f"{row.failures:,} failures ({row.share:.0%})", f"reasons: {row.reasons}"]
        if row.hard:
            facts.append(f"{row.hard:,} permanent")
        if row.delivered_later:
            facts.append(f"{row.delivered_later:,} delivered after a retry")
        if row.to_suppress:
            facts.append(f"{row.to_suppress:,} addresses to remove")
        advice = "".join(f"<li>{e(a)}</li>" for a in row.advice) or "<li>—</li>"
        example = (f'<p class="note">Example reply:</p><div class="reply">{e(row.example)}</div>'
                   if isinstance(row.example, str) else "")
        out.append(f'<div class="category"><h3><span class="swatch" style="background:{color}">'
                   f"</span>{e(charts.label(row.category))}</h3><p>{e(' · '.join(facts))}</p>"
                   f"<ul>{advice}</ul>{example}</div>")
    return "".join(out)


def _match(data: ReportData) -> str:
    m = data.match
    parts = [f"<p>{m['journeys']:,} messages: {m['exact']:,} matched a trace by ID, "
             f"{m['approximate']:,} approximately (recipient and time), {m['none']:,} not at "
             f"all — {m['match_rate']:.0%} matched.</p>"]
    parts += [f'<p class="warning">{e(w)}</p>' for w in m["warnings"]]
    ids = data.esp_unmatched[data.esp_unmatched["remote_id"].notna()]
    parts.append(f"<h3>ESP IDs found in no trace ({m['unmatched_ids']:,})</h3>")
    parts.append('<p class="note">“trace of domain” says whether any trace of the recipient\'s '
                 "domain was loaded: if yes, the message should be in it.</p>")
    parts.append(_table(ids, [("recipient", "recipient"), ("remote_id", "remote ID"),
                              ("verdict", "verdict"), ("trace_covers_domain", "trace of domain")],
                        LIST_ROWS, code_cols=("remote_id",), total=m["unmatched_ids"]))
    t = data.trace_unmatched
    parts.append(f"<h3>Trace messages with no ESP row ({data.total('trace_unmatched'):,})</h3>")
    parts.append('<p class="note">Mail the recipient side logged that matches no ESP send in '
                 "this workspace (other senders, or sends missing from the ESP export); filtered "
                 "by date and domain only.</p>")
    parts.append(_table(t, [("first_event_at", "first event (UTC)"),
                            ("trace_message", "trace message"), ("format", "source"),
                            ("senders", "sender"), ("recipients", "recipients"),
                            ("subject", "subject"), ("events", "events")],
                        LIST_ROWS, code_cols=("trace_message",),
                        total=data.total("trace_unmatched")))
    return "".join(parts)


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document."""
    filters = ("<ul>" + "".join(f"<li>{e(x)}</li>" for x in data.filters) + "</ul>"
               if data.filters else " none: every campaign, date, domain and code.")
    divs, script = _chart_divs(data)
    failing = data.incidents.assign(
        share=data.incidents["failures"] / max(1, int(data.incidents["failures"].sum())))
    failing["share"] = failing["share"].map(lambda p: f"{p:.0%}")
    body = f"""
<header>
<h1>{e(data.title)}</h1>
<p class="meta">Generated {e(data.generated_at)} UTC by Delivery Trace {e(data.version)}.
Times are UTC.</p>
<p class="meta">{e(data.redaction_note)}</p>
<div class="filters"><strong>Filters:</strong>{filters}</div>
</header>
<h2>Executive summary</h2>
{_summary(data)}
<h2>Key figures</h2>
{_tiles(data)}
<h2>Charts</h2>
{divs}
<h2>Top failing domains</h2>
{_table(failing, [("domain", "domain"), ("failures", "failures"), ("share", "share"),
                  ("main_category", "main category"), ("deferred", "deferred / expired"),
                  ("first_failure", "first failure (UTC)"),
                  ("last_failure", "last failure (UTC)")], 15)}
<h2>Top failing codes</h2>
{_table(data.codes, [("smtp_code", "SMTP code"), ("meaning", "meaning"),
                     ("enhanced_codes", "enhanced codes"), ("categories", "categories"),
                     ("failures", "failures")], 15)}
<h2>What to do, by category</h2>
{_categories(data)}
<h2>Match report</h2>
{_match(data)}
<section class="appendix">
<h2>Appendix: failed messages ({data.total("failures"):,})</h2>
{_table(data.failures, [("sent_at", "sent (UTC)"), ("recipient", "recipient"),
                        ("verdict", "verdict"), ("failure_code", "code"),
                        ("failure_enhanced", "enhanced"), ("reason", "reason"),
                        ("failure_text", "reply")], APPENDIX_ROWS, code_cols=("failure_text",),
                        total=data.total("failures"))}
</section>
<footer>Delivery Trace report · {e(data.generated_at)} UTC · {e(data.redaction_note)}</footer>
"""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="generator" content="Delivery Trace {e(data.version)}">
<title>{e(data.title)}</title>
<style>{_css()}</style>
<script>{get_plotlyjs()}</script>
</head><body>{body}<script>{script}</script></body></html>
"""
