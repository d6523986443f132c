"""The Excel report (openpyxl, write-only): Summary with native charts, then one sheet per table.

Every text cell is cleaned (control characters openpyxl would refuse are removed, text is
cut at Excel's 32,767 characters) and neutralised like the CSV export, so no cell built
from input is ever a formula. Times are real Excel dates in UTC (naive, as Excel has no
zones; the headers say UTC).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .charts import CATEGORY_ORDER, label
from .export import neutralise
from .report import ReportData

MAX_ROWS = 1_048_575  # Excel's row limit minus the header
MAX_TEXT = 32_767
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
# sheet name -> (ReportData attribute, [(column, header)])
SHEETS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "By code": ("codes", [("smtp_code", "SMTP code"), ("meaning", "meaning"),
                          ("enhanced_codes", "enhanced codes"), ("categories", "categories"),
                          ("failures", "failures")]),
    "Failures": ("failures", [
        ("sent_at", "sent (UTC)"), ("campaign", "campaign"), ("recipient", "recipient"),
        ("recipient_domain", "domain"), ("verdict", "verdict"), ("failure_code", "SMTP code"),
        ("failure_enhanced", "enhanced code"), ("category", "category"), ("reason", "reason"),
        ("permanent", "hard"), ("suppress", "suppress"), ("failure_text", "reply"),
        ("rule_id", "rule"), ("advice", "advice"), ("match", "match"),
        ("trace_format", "trace source"), ("journey_id", "journey ID")]),
    "Suppressions": ("suppressions", [
        ("recipient", "address"), ("reason", "reason"), ("category", "category"),
        ("smtp_code", "SMTP code"), ("enhanced_code", "enhanced code"), ("evidence", "evidence"),
        ("rule_id", "rule"), ("last_seen", "last seen (UTC)"),
        ("esp_bounce_type", "ESP bounce type"), ("syntax_problem", "syntax problem"),
        ("suggested_domain", "suggested domain")]),
}
JOURNEY_HEADERS = {"sent_at": "sent (UTC)", "first_trace_at": "first trace event (UTC)",
                   "last_trace_at": "last trace event (UTC)", "latency_s": "latency (s)"}


def clean_text(value: str) -> str:
    """Text safe for a cell: no control characters, no formula, at most 32,767 characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    return str(neutralise(text))[:MAX_TEXT]


def cell_value(value: Any) -> Any:
    """A Python value openpyxl writes as data (never a formula): naive UTC datetimes etc."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.to_pydatetime()
    if isinstance(value, list | tuple):
        value = " | ".join(str(v) for v in value)
    if isinstance(value, str):
        return clean_text(value)
    if hasattr(value, "item"):  # numpy scalars
        return cell_value(value.item())
    return value


def _cell(ws: Any, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    c = WriteOnlyCell(ws, value=cell_value(value))
    if c.data_type == "f":  # unreachable after neutralise; a formula must never slip through
        c.value, c.data_type = str(c.value), "s"
    if isinstance(c.value, dt.datetime):
        c.number_format = DATE_FORMAT
    if bold:
        c.font = HEADER_FONT
    return c


def _widths(df: pd.DataFrame, columns: list[tuple[str, str]]) -> list[float]:
    out = []
    sample = df.head(500)
    for col, header in columns:
        lengths = [len(header)]
        if col in sample:
            s = sample[col]
            if pd.api.types.is_datetime64_any_dtype(s):
                lengths.append(19)
            else:
                lengths += [len(str(v)) for v in s.dropna().head(500)]
        out.append(min(60.0, max(8.0, sorted(lengths)[int(len(lengths) * 0.9)] + 2.0)))
    return out


def _table_sheet(wb: Workbook, name: str, df: pd.DataFrame,
                 columns: list[tuple[str, str]]) -> None:
    """A sheet with a frozen, filterable header row and sized columns."""
    ws = wb.create_sheet(name)
    columns = [(c, h) for c, h in columns if c in df.columns]
    for i, width in enumerate(_widths(df, columns), 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    rows = df.head(MAX_ROWS)
    last = get_column_letter(max(1, len(columns)))
    ws.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    header = []
    for _, h in columns:
        c = _cell(ws, h, bold=True)
        c.fill = HEADER_FILL
        header.append(c)
    ws.append(header)
    for rec in rows[[c for c, _ in columns]].itertuples(index=False):
        ws.append([_cell(ws, v) for v in rec])


def _summary_sheet(wb: Workbook, data: ReportData) -> None:
    """Title, filters, the executive summary, key figures and two native charts."""
    ws = wb.create_sheet("Summary")
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 14
    row = 0

    def put(*values: Any, bold: bool = False, fmt: str | None = None) -> int:
        nonlocal row
        cells = [_cell(ws, v, bold=bold) for v in values]
        if fmt and len(cells) > 2:
            cells[2].number_format = fmt
        if cells:
            cells[0].alignment = Alignment(wrap_text=False, vertical="top")
        ws.append(cells)
        row += 1
        return row

    c = _cell(ws, data.title)
    c.font = Font(bold=True, size=14)
    ws.append([c])
    row += 1
    put(f"Generated {data.generated_at:%Y-%m-%d %H:%M:%S} UTC by Delivery Trace "
        f"{data.version}. Times are UTC.")
    put(data.redaction_note)
    put("Filters: " + ("; ".join(data.filters) or "none (every campaign, date, domain, code)"))
    put()
    put("Executive summary", bold=True)
    for line in data.summary.as_text().splitlines():
        put(line)
    put()
    charts_at = put("Key figure", "Messages", "Share of sent", bold=True)
    sent = data.kpis.get("sent", 0) or 0
    from .report_html import TILES

    for key, lab, _ in TILES:
        value = data.kpis.get(key, 0)
        if key == "match_rate":
            put(lab, None, float(value), fmt="0.0%")
        else:
            put(lab, int(value), (value / sent) if sent and key != "sent" else None, fmt="0.0%")
    put()
    first = put("Verdict", "Messages", bold=True)
    for v in data.verdicts.itertuples():
        put(v.verdict, int(v.journeys))
    last = row
    if last > first:
        chart = BarChart()
        chart.type, chart.title, chart.legend = "bar", "Messages by verdict", None
        chart.add_data(Reference(ws, min_col=2, min_row=first, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=last))
        chart.y_axis.title, chart.height, chart.width = "messages", 7.5, 16
        ws.add_chart(chart, f"E{charts_at}")  # beside the tables, below the summary text
    put()
    first = put("Failure category", "Failures", bold=True)
    cats = data.categories.set_index("category")["failures"] if len(data.categories) else {}
    for cat in [c for c in CATEGORY_ORDER if c in cats] + [c for c in cats.keys()
                                                            if c not in CATEGORY_ORDER]:
        put(label(cat), int(cats[cat]))
    last = row
    if last > first:
        pie = PieChart()
        pie.title = "Failures by category"
        pie.add_data(Reference(ws, min_col=2, min_row=first, max_row=last),
                     titles_from_data=True)
        pie.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=last))
        pie.height, pie.width = 7.5, 16
        ws.add_chart(pie, f"E{charts_at + 16}")


def _by_domain(data: ReportData) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Per-domain incidents with one failure-count column per category."""
    inc = data.incidents.copy()
    cols = [("domain", "domain"), ("failures", "failures"),
            ("deferred", "deferred / expired"), ("main_category", "main category"),
            ("first_failure", "first failure (UTC)"), ("last_failure", "last failure (UTC)"),
            ("median_latency_s", "median delivery time after deferral (s)")]
    m = data.domain_matrix
    if len(m):
        grid = m.pivot_table(index="domain", columns="category", values="failures",
                             aggfunc="sum", fill_value=0)
        order = [c for c in CATEGORY_ORDER if c in grid.columns] + \
            [c for c in grid.columns if c not in CATEGORY_ORDER]
        grid = grid[order].add_prefix("cat:")
        inc = inc.merge(grid, left_on="domain", right_index=True, how="left")
        cols += [(f"cat:{c}", label(c)) for c in order]
    return inc, cols


def _unmatched(data: ReportData) -> pd.DataFrame:
    """ESP sends no trace matched and trace messages no ESP row matched, in one table."""
    esp = data.esp_unmatched.rename(columns={"sent_at": "when", "remote_id": "message_id",
                                             "recipient": "recipients", "esp_event": "events"})
    esp = esp.assign(side="ESP send, no trace", source="ESP")
    tr = data.trace_unmatched.rename(columns={"first_event_at": "when",
                                              "trace_message": "message_id", "format": "source"})
    tr = tr.assign(side="trace message, no ESP row")
    return pd.concat([esp, tr], ignore_index=True, sort=False)


UNMATCHED_COLUMNS = [("side", "side"), ("when", "time (UTC)"), ("campaign", "campaign"),
                     ("recipients", "recipient(s)"), ("senders", "sender(s)"),
                     ("message_id", "message / remote ID"), ("source", "source"),
                     ("events", "events"), ("verdict", "verdict"),
                     ("trace_covers_domain", "trace of the domain loaded"),
                     ("subject", "subject")]


def build_workbook(data: ReportData) -> Workbook:
    """The report as an openpyxl workbook (write-only; save it once)."""
    if not data.complete:
        raise ValueError("the workbook lists every row: build its data with "
                         "build_report(..., rows=None), not a preview's first rows")
    wb = Workbook(write_only=True)
    wb.properties.creator = "Delivery Trace"
    wb.properties.title = clean_text(data.title)
    _summary_sheet(wb, data)
    attr, cols = SHEETS["By code"]
    _table_sheet(wb, "By code", getattr(data, attr), cols)
    df, cols = _by_domain(data)
    _table_sheet(wb, "By domain", df, cols)
    attr, cols = SHEETS["Failures"]
    _table_sheet(wb, "Failures", data.failures, cols)
    from .report import JOURNEY_COLUMNS

    _table_sheet(wb, "Journeys", data.journeys,
                 [(c, JOURNEY_HEADERS.get(c, c.replace("_", " "))) for c in JOURNEY_COLUMNS])
    _table_sheet(wb, "Unmatched", _unmatched(data), UNMATCHED_COLUMNS)
    attr, cols = SHEETS["Suppressions"]
    _table_sheet(wb, "Suppressions", data.suppressions, cols)
    return wb


def workbook_bytes(data: ReportData) -> bytes:
    """The .xlsx file's bytes."""
    buf = io.BytesIO()
    build_workbook(data).save(buf)
    return buf.getvalue()
