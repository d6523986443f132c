"""Stakeholder reports: gather the filtered, redacted findings once, write HTML/XLSX/PDF.

`build_report(con, filters, redact, key)` runs every query a report needs and applies
the redaction to every text value; `report_html`, `report_xlsx` and `report_pdf` only
lay out a `ReportData`, so no output can skip the redaction. `write_report` is what
the CLI calls; the Report page calls the same pieces for its preview and downloads.

The row-level tables (ROW_TABLES: every failure, journey, unmatched message and address
to suppress) are whole only for the outputs that list every row, the workbook and the
CSV downloads. HTML, PDF, the PNG charts and the page's preview show at most the first
1,000 rows of any of them, so they ask for `build_report(..., rows=PREVIEW_ROWS)`: the
first rows of each and its full count (`ReportData.total`). At 1,000,000 sends the whole
tables are ~1.5 GB in pandas (issue 7's report export peaked at 2.5 GB).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from . import __version__, queries
from .errors import UsageError
from .queries import Filters
from .redact import Redactor, redactor

NO_FILTERS = Filters()
FORMATS = (".html", ".xlsx", ".pdf", ".zip")
TOP_DOMAINS = 15
ALL_DOMAINS = 10**9  # failures_by_domain's `top` that keeps every domain
JOURNEY_COLUMNS = [
    "journey_id", "campaign", "sent_at", "recipient", "recipient_domain", "esp_event",
    "verdict", "match", "trace_format", "trace_server", "trace_final_event",
    "trace_covers_domain", "failure_code", "failure_enhanced", "category", "reason",
    "permanent", "suppress", "failure_text", "smtp_text", "remote_id", "subject",
    "bounce_type", "bounce_reason", "latency_s", "first_trace_at", "last_trace_at", "rule_id",
    "advice"]
ESP_UNMATCHED_COLUMNS = ["journey_id", "campaign", "sent_at", "recipient", "recipient_domain",
                         "remote_id", "esp_event", "verdict", "trace_covers_domain"]
ROW_TABLES = ("failures", "journeys", "esp_unmatched", "trace_unmatched", "suppressions")
PREVIEW_ROWS = 1000  # the most rows of a table that HTML, PDF or the page's preview shows


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, already filtered and redacted."""

    title: str
    generated_at: dt.datetime
    filters: list[str]
    redaction: str
    redaction_note: str
    campaigns: list[str]
    first_sent: dt.datetime | None
    last_sent: dt.datetime | None
    kpis: dict[str, float]
    verdicts: pd.DataFrame
    by_code: pd.DataFrame
    codes: pd.DataFrame
    by_domain: pd.DataFrame
    domain_matrix: pd.DataFrame
    heatmap: pd.DataFrame
    incidents: pd.DataFrame
    over_time: pd.DataFrame
    bucket: str
    tree: pd.DataFrame
    reasons: pd.DataFrame
    categories: pd.DataFrame
    match: dict[str, Any]
    esp_unmatched: pd.DataFrame
    trace_unmatched: pd.DataFrame
    failures: pd.DataFrame
    journeys: pd.DataFrame
    suppressions: pd.DataFrame
    summary: Any  # report_summary.Summary
    domains: int = 0  # distinct recipient domains of the filtered journeys
    # Full row counts of the ROW_TABLES this data holds only the first rows of (see
    # build_report's `rows`); None: not counted (the suppressions of a preview).
    totals: dict[str, int | None] = field(default_factory=dict)
    version: str = __version__
    redactor: Redactor = field(default_factory=Redactor, repr=False)

    @property
    def empty(self) -> bool:
        """True when no journey matches the filters."""
        return not self.kpis.get("sent")

    def total(self, table: str) -> int | None:
        """How many rows `table` (one of ROW_TABLES) has in full, whatever this data holds."""
        return self.totals[table] if table in self.totals else len(getattr(self, table))

    @property
    def complete(self) -> bool:
        """Whether every row table is held whole (what the workbook and CSVs need)."""
        return all(self.total(t) == len(getattr(self, t)) for t in ROW_TABLES)


def _q(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pd.DataFrame:
    return con.execute(sql, params).df()


def _keep_ids(con: duckdb.DuckDBPyConnection, f: Filters) -> list[str]:
    """Message IDs shown in the report that look like addresses but are no known address."""
    where, params = f.where()
    rows = con.execute(f"""
        WITH ids AS (
          SELECT DISTINCT lower(trim(remote_id, '<> ')) AS id FROM journeys j
          WHERE remote_id LIKE '%@%' AND {where}
          UNION SELECT DISTINCT lower(trim(trace_message, '<> ')) FROM trace_unmatched
          WHERE trace_message LIKE '%@%')
        SELECT id FROM ids
        WHERE id NOT IN (SELECT lower(recipient) FROM sends WHERE recipient IS NOT NULL)
          AND id NOT IN (SELECT lower(recipient) FROM trace_events WHERE recipient IS NOT NULL)
          AND id NOT IN (SELECT lower(sender) FROM trace_events WHERE sender IS NOT NULL)
        """, params).fetchall()  # noqa: S608 - where is built from ? placeholders
    return [r[0] for r in rows]


def _reasons(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Failures per category and reason, with the advice and the most common reply."""
    where, params = f.where()
    return _q(con, f"""
        SELECT coalesce(category, 'unknown') AS category, coalesce(reason, 'undefined') AS reason,
               count(*) AS failures, count(DISTINCT recipient_domain) AS domains,
               count(DISTINCT recipient) FILTER (WHERE suppress) AS to_suppress,
               count(*) FILTER (WHERE permanent) AS hard,
               count(*) FILTER (WHERE verdict IN ('delivered', 'forwarded', 'junk',
                                                  'accepted_no_trace')) AS delivered_later,
               mode() WITHIN GROUP (ORDER BY advice) AS advice,
               mode() WITHIN GROUP (ORDER BY failure_text) AS example  -- ties: first by text
        FROM journeys j WHERE failure_code IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY failures DESC, category, reason""", params)  # noqa: S608


def _category_domains(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, list[str]]:
    """The three recipient domains with most failures of each category."""
    where, params = f.where()
    rows = con.execute(f"""
        SELECT category, recipient_domain FROM (
          SELECT coalesce(category, 'unknown') AS category, recipient_domain,
                 row_number() OVER (PARTITION BY coalesce(category, 'unknown')
                                    ORDER BY count(*) DESC, recipient_domain) AS rank
          FROM journeys j WHERE failure_code IS NOT NULL AND recipient_domain IS NOT NULL
            AND {where} GROUP BY 1, 2) WHERE rank <= 3 ORDER BY category, rank""",
                       params).fetchall()  # noqa: S608
    out: dict[str, list[str]] = {}
    for cat, dom in rows:
        out.setdefault(cat, []).append(dom)
    return out


def _categories(reasons: pd.DataFrame, domains: dict[str, list[str]]) -> pd.DataFrame:
    """One row per category: totals, its reasons, top domains and advice (by reason)."""
    rows = []
    total = int(reasons["failures"].sum()) if len(reasons) else 0
    for cat, g in reasons.groupby("category", sort=False):
        rows.append({
            "category": cat, "failures": int(g["failures"].sum()),
            "share": float(g["failures"].sum()) / total if total else 0.0,
            "to_suppress": int(g["to_suppress"].sum()), "hard": int(g["hard"].sum()),
            "delivered_later": int(g["delivered_later"].sum()),
            "reasons": ", ".join(g["reason"]), "domains": domains.get(cat, []),
            "advice": list(dict.fromkeys(a for a in g["advice"] if isinstance(a, str))),
            "example": next((x for x in g["example"] if isinstance(x, str)), None)})
    cols = ["category", "failures", "share", "to_suppress", "hard", "delivered_later",
            "reasons", "domains", "advice", "example"]
    return pd.DataFrame(rows, columns=cols)


def _codes(by_code: pd.DataFrame) -> pd.DataFrame:
    """Failures per SMTP code with its meaning and categories, most failures first."""
    from .smtp import describe

    if by_code.empty:
        return pd.DataFrame(columns=["smtp_code", "meaning", "enhanced_codes", "categories",
                                     "failures"])
    g = by_code.groupby("smtp_code", sort=False)
    out = pd.DataFrame({
        "failures": g["failures"].sum(),
        "enhanced_codes": g["enhanced_codes"].agg(
            lambda s: ", ".join(sorted({x.strip() for v in s.dropna() for x in v.split(",")}))),
        "categories": g["category"].agg(lambda s: ", ".join(dict.fromkeys(s)))}).reset_index()
    out["meaning"] = [describe(int(c)) for c in out["smtp_code"]]
    out = out.sort_values(["failures", "smtp_code"], ascending=[False, True])
    return out[["smtp_code", "meaning", "enhanced_codes", "categories", "failures"]
               ].reset_index(drop=True)


def _match(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, Any]:
    """Match counts of the filtered journeys, and clock warnings of the whole workspace."""
    from .journeys_report import clock_checks

    where, params = f.where()
    row = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE match = 'exact'),
               count(*) FILTER (WHERE match = 'approximate'),
               count(*) FILTER (WHERE match = 'none'),
               count(*) FILTER (WHERE match = 'none' AND remote_id IS NOT NULL),
               count(*) FILTER (WHERE verdict = 'accepted_no_trace' AND trace_covers_domain)
        FROM journeys j WHERE {where}""", params).fetchall()[0]  # noqa: S608
    total, exact, approx, none, ids, covered = (int(x) for x in row)
    return {"journeys": total, "exact": exact, "approximate": approx, "none": none,
            "unmatched_ids": ids, "no_trace_but_covered": covered,
            "match_rate": (exact + approx) / total if total else 0.0,
            "warnings": [c.warning for c in clock_checks(con) if c.warning]}


def _trace_unmatched(con: duckdb.DuckDBPyConnection, f: Filters,
                     rows: int | None = None) -> tuple[pd.DataFrame, int]:
    """Trace messages with no ESP row, within the filters' dates and domains (the first
    `rows` of them, None: all), and how many there are."""
    parts, params = ["TRUE"], []
    if f.since:
        parts.append("first_event_at >= ?")
        params.append(queries._parse_when(f.since, end=False))
    if f.until:
        parts.append("first_event_at <= ?")
        params.append(queries._parse_when(f.until, end=True))
    if f.domains:
        parts.append("list_has_any(list_transform(string_split(lower(coalesce(recipients, '')),"
                     " ', '), lambda x: split_part(x, '@', -1)), ?::VARCHAR[])")
        params.append([d.lower() for d in f.domains])
    where = " AND ".join(parts)
    df = _q(con, "SELECT trace_message, first_event_at, format, recipients, senders, subject, "
                 f"events, rows FROM trace_unmatched WHERE {where} "  # noqa: S608
                 f"ORDER BY first_event_at, trace_message{_limit(rows)}", params)
    if rows is None or len(df) < rows:
        return df, len(df)
    return df, int(con.execute(f"SELECT count(*) FROM trace_unmatched WHERE {where}",  # noqa: S608
                               params).fetchall()[0][0])


def _limit(rows: int | None) -> str:
    return "" if rows is None else f" LIMIT {int(rows)}"


def _journeys(con: duckdb.DuckDBPyConnection, f: Filters, rows: int | None) -> pd.DataFrame:
    """The filtered journeys in sent order (the first `rows`, None: all)."""
    where, params = f.where()
    return _q(con, f"SELECT {', '.join(JOURNEY_COLUMNS)} FROM journeys j "  # noqa: S608
                   f"WHERE {where} ORDER BY sent_at, recipient, journey_id{_limit(rows)}", params)


def _esp_unmatched(con: duckdb.DuckDBPyConnection, f: Filters, rows: int | None) -> pd.DataFrame:
    """The filtered journeys no trace row matched. A preview (`rows` set) puts those with a
    remote ID first: the HTML lists those (`match['unmatched_ids']` counts them)."""
    where, params = f.where()
    first = "" if rows is None else "remote_id IS NULL, "
    return _q(con, f"SELECT {', '.join(ESP_UNMATCHED_COLUMNS)} FROM journeys j "  # noqa: S608
                   f"WHERE match = 'none' AND {where} "
                   f"ORDER BY {first}sent_at, recipient, journey_id{_limit(rows)}", params)


def _suppressions(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Addresses to remove (hygiene.suppressions action 'suppress') among the filtered sends."""
    from .hygiene import suppressions

    df = suppressions(con)
    df = df[df["action"] == "suppress"]
    where, params = f.where()
    wanted = {r[0] for r in con.execute(
        f"SELECT DISTINCT recipient FROM journeys j WHERE {where}", params).fetchall()}  # noqa: S608
    return df[df["recipient"].isin(wanted)].reset_index(drop=True)


def _no_suppressions() -> pd.DataFrame:
    """A preview's suppressions: none (hygiene.suppressions reads every address)."""
    from .hygiene import SUPPRESSION_COLUMNS

    return pd.DataFrame(columns=SUPPRESSION_COLUMNS)


# Each row table with every row (what the workbook and the CSVs list).
_ROW_TABLE_SQL = {
    "failures": lambda con, f: queries.explorer_rows(con, f, limit=None),
    "journeys": lambda con, f: _journeys(con, f, None),
    "esp_unmatched": lambda con, f: _esp_unmatched(con, f, None),
    "trace_unmatched": lambda con, f: _trace_unmatched(con, f)[0],
    "suppressions": _suppressions,
}


def _redactor(con: duckdb.DuckDBPyConnection, f: Filters, redact: str | None,
              key: str | None) -> Redactor:
    """The redaction of a report for `f` (journeys rebuilt first if missing)."""
    from .journeys import _ensure

    _ensure(con)
    f.where()  # a bad date fails here, before any work
    r: Redactor = redactor(redact, key)
    return r.with_keep(_keep_ids(con, f)) if r.active else r


def row_table(con: duckdb.DuckDBPyConnection, name: str, filters: Filters = NO_FILTERS,
              redact: str | None = "none", key: str | None = None) -> pd.DataFrame:
    """One of ROW_TABLES with every row, redacted as build_report redacts it: a CSV
    download of one table without the rest of the report."""
    f = filters
    return _redactor(con, f, redact, key).frame(_ROW_TABLE_SQL[name](con, f))


def _title(f: Filters, campaigns: list[str]) -> str:
    names = list(f.campaigns) or campaigns
    if len(names) == 1:
        return f"Delivery report: {names[0]}"
    if names:
        return f"Delivery report: {len(names)} campaigns"
    return "Delivery report"


def build_report(con: duckdb.DuckDBPyConnection, filters: Filters = NO_FILTERS,
                 redact: str | None = "none", key: str | None = None, *,
                 now: dt.datetime | None = None, rows: int | None = None) -> ReportData:
    """Run every query of the report for `filters` and redact every text value.

    `rows` keeps only the first `rows` rows of each row table (ROW_TABLES) and their full
    counts (`ReportData.total`), for HTML, PDF, PNG and the preview; the suppressions are
    then not computed (no preview shows them; their count is None). None keeps every row,
    as the workbook and the CSV downloads need.
    """
    from .report_summary import summarise

    f = filters
    r = _redactor(con, f, redact, key)
    where, params = f.where()
    span = queries.time_span(con, f)
    campaigns = [c for (c,) in con.execute(
        f"SELECT DISTINCT campaign FROM journeys j WHERE campaign IS NOT NULL AND {where} "  # noqa: S608
        "ORDER BY 1", params).fetchall()]
    bucket = queries.auto_bucket(span)
    red = r.frame
    reasons = red(_reasons(con, f))
    by_code = red(queries.failures_by_code(con, f))
    match = _match(con, f)
    trace_unmatched, trace_total = _trace_unmatched(con, f, rows)
    failures = red(queries.explorer_rows(con, f, limit=rows))
    totals: dict[str, int | None] = {}
    if rows is not None:
        totals = {"journeys": match["journeys"], "esp_unmatched": match["none"],
                  "trace_unmatched": trace_total, "suppressions": None,
                  "failures": len(failures) if len(failures) < rows else
                  queries.explorer_count(con, f)}
    data = ReportData(
        title=r.text(_title(f, campaigns)),
        generated_at=(now or dt.datetime.now(dt.UTC)).replace(microsecond=0),
        filters=[r.text(s) for s in f.describe()], redaction=r.mode,
        redaction_note=r.describe(), campaigns=[r.text(c) for c in campaigns],
        first_sent=span["first"], last_sent=span["last"], kpis=queries.kpis(con, f),
        verdicts=queries.verdict_counts(con, f), by_code=by_code, codes=red(_codes(by_code)),
        by_domain=red(queries.failures_by_domain(con, f, TOP_DOMAINS)),
        domain_matrix=red(queries.failures_by_domain(con, f, ALL_DOMAINS)),
        heatmap=red(queries.domain_category_matrix(con, f, TOP_DOMAINS)),
        incidents=red(queries.domain_incidents(con, f)),
        over_time=red(queries.failures_over_time(con, f, bucket)), bucket=bucket,
        tree=red(queries.category_tree(con, f)), reasons=reasons,
        categories=_categories(reasons, {k: [r.text(d) for d in v] for k, v in
                                          _category_domains(con, f).items()}), match=match,
        esp_unmatched=red(_esp_unmatched(con, f, rows)), trace_unmatched=red(trace_unmatched),
        failures=failures, journeys=red(_journeys(con, f, rows)),
        suppressions=red(_suppressions(con, f) if rows is None else _no_suppressions()),
        summary=None, domains=int(con.execute(
            f"SELECT count(DISTINCT recipient_domain) FROM journeys j WHERE {where}",  # noqa: S608
            params).fetchall()[0][0]), totals=totals, redactor=r)
    summary = summarise(data)
    return _replace(data, summary=summary.redacted(r))


def _replace(data: ReportData, **changes: Any) -> ReportData:
    from dataclasses import replace

    return replace(data, **changes)


def report_tables(data: ReportData) -> dict[str, pd.DataFrame]:
    """The report's tables by name, for CSV downloads (already redacted; a preview's row
    tables hold only their first rows: build the data with rows=None for a download)."""
    return {"by_code": data.codes, "by_domain": data.incidents, "categories":
            data.categories.assign(advice=data.categories["advice"].map(" | ".join),
                                   domains=data.categories["domains"].map(", ".join)),
            "failures": data.failures, "journeys": data.journeys,
            "esp_unmatched": data.esp_unmatched, "trace_unmatched": data.trace_unmatched,
            "suppressions": data.suppressions}


def _atomic_write(out: Path, payload: bytes) -> None:
    """Write via a temporary file in the same folder, so a reader never sees half a report."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(con: duckdb.DuckDBPyConnection, out: Path, *, filters: Filters = NO_FILTERS,
                 redact: str | None = "none", key: str | None = None) -> Path:
    """Write the report as HTML, XLSX, PDF or a zip of PNG charts, chosen by `out`'s suffix."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{out}: the report is written as .html, .xlsx, .pdf or .zip "
                         f"(PNG charts), not {suffix or 'a file without extension'}")
    if suffix in (".pdf", ".zip"):
        from .report_pdf import require_chromium

        require_chromium("PDF" if suffix == ".pdf" else "PNG chart export")
    # Only the workbook lists every row; the others show the first rows of each table.
    data = build_report(con, filters, redact, key,
                        rows=None if suffix == ".xlsx" else PREVIEW_ROWS)
    if suffix == ".html":
        from .report_html import render_html

        payload = render_html(data).encode("utf-8")
    elif suffix == ".xlsx":
        from .report_xlsx import workbook_bytes

        payload = workbook_bytes(data)
    elif suffix == ".pdf":
        from .report_pdf import pdf_bytes

        payload = pdf_bytes(data)
    else:
        from .report_pdf import charts_zip

        payload = charts_zip(data)
    _atomic_write(out, payload)
    return out
