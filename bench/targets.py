"""The issue's targets, judged on one size's results: measured value, limit, PASS/FAIL/SKIP.

Ratios use the minimum of the repeated runs on both sides (the least disturbed run on a
shared machine); medians are printed next to them in the tables.
"""

from __future__ import annotations

from typing import Any

from .measure_names import FILTERED, QUERY_NAMES

CSV_RATIO = 1.5
POSTFIX_RATIO = 5.0
DERIVED_S = 2.0
QUERY_S = 0.2
RSS_MB = 2048
RENDER_S = 3.0
CSV_INPUTS = (("esp", "ESP CSV (TouchBasePro)"), ("o365", "Office 365 CSV (Get-MessageTrace)"),
              ("exchange", "Exchange MSGTRK logs"))


def _row(name: str, measured: str, limit: str, ok: bool | None, note: str = "") -> dict[str, Any]:
    status = "SKIP" if ok is None else "PASS" if ok else "FAIL"
    return {"target": name, "measured": measured, "limit": limit, "status": status,
            "note": note}


def _why(*stats: dict[str, Any]) -> str:
    for s in stats:
        if not s.get("n"):
            return str(s.get("skipped") or s.get("error") or "not measured")
    return ""


def evaluate(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of issue 7, in the issue's order, for the results of one size."""
    rows = []
    ing, base = r.get("ingest", {}), r.get("read_csv", {})
    for key, label in CSV_INPUTS:
        a, b = ing.get(key, {}), base.get(key, {})
        if a.get("n") and b.get("n"):
            ratio = a["min"] / b["min"]
            rows.append(_row(f"CSV ingest {label} vs bare read_csv",
                             f"{ratio:.2f}x ({a['min']:.2f} s vs {b['min']:.2f} s)",
                             f"<= {CSV_RATIO}x", ratio <= CSV_RATIO))
        else:
            rows.append(_row(f"CSV ingest {label} vs bare read_csv", "-", f"<= {CSV_RATIO}x",
                             None, _why(a, b)))
    a, p = ing.get("postfix", {}), r.get("pflogsumm", {})
    lines = r.get("inputs", {}).get("postfix", {}).get("rows", 0)
    if a.get("n") and p.get("n"):
        ratio = p["min"] / a["min"]
        rows.append(_row("Postfix log ingest vs pflogsumm throughput",
                         f"{ratio:.2f}x ({lines / a['min']:,.0f} vs {lines / p['min']:,.0f} "
                         "lines/s)", f">= {POSTFIX_RATIO}x", ratio >= POSTFIX_RATIO))
    else:
        rows.append(_row("Postfix log ingest vs pflogsumm throughput", "-",
                         f">= {POSTFIX_RATIO}x", None, _why(a, p)))
    counts = r.get("postfix_counts")
    if counts:
        bad = [c["count"] for c in counts if not c["agree"]]
        rows.append(_row("Postfix counts agree with pflogsumm",
                         f"{len(counts) - len(bad)}/{len(counts)} agree", "all", not bad,
                         "differ: " + ", ".join(bad) if bad else ""))
    else:
        rows.append(_row("Postfix counts agree with pflogsumm", "-", "all", None,
                         _why(a, p) or "no Postfix rows in the workspace"))
    for key, label in (("classification", "classification (classify.refresh)"),
                       ("journeys", "journeys join + verdicts (journeys.rebuild)")):
        s = r.get(key, {})
        rows.append(_row(label, f"{s['min']:.2f} s" if s.get("n") else "-",
                         f"< {DERIVED_S:.0f} s", s["min"] < DERIVED_S if s.get("n") else None,
                         _why(s)))
    q = r.get("queries", {})
    for name in [*QUERY_NAMES, *(f + " [filtered]" for f in FILTERED)]:
        s = q.get(name, {})
        rows.append(_row(f"query {name}", f"{s['min']:.3f} s" if s.get("n") else "-",
                         f"< {QUERY_S} s", s["min"] < QUERY_S if s.get("n") else None, _why(s)))
    b = r.get("build", {})
    if b.get("ok"):
        rows.append(_row("peak RSS, loading every input + refresh", f"{b['peak_rss_mb']:,.0f} MB",
                         f"< {RSS_MB:,} MB", b["peak_rss_mb"] < RSS_MB))
    else:
        rows.append(_row("peak RSS, loading every input + refresh", "-", f"< {RSS_MB:,} MB",
                         None, str(b.get("error") or "not measured")))
    s = r.get("browser", {})
    bare = (s.get("mins") or {}).get("bare_seconds")
    note = _why(s) or (f"a bare Streamlit page drawing the same 8 figures: {bare:.2f} s"
                       if bare else str((s.get("last") or {}).get("bare_error") or ""))
    rows.append(_row("Overview first render (chromium)", f"{s['min']:.2f} s" if s.get("n")
                     else "-", f"< {RENDER_S:.0f} s", s["min"] < RENDER_S if s.get("n") else None,
                     note))
    return rows
