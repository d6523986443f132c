"""The Excel report (openpyxl, write-only): Summary with native charts, then one sheet per table.

Every text cell is cleaned (control characters openpyxl would refuse are removed, text is
cut at Excel's 32,767 characters) and neutralised like the CSV export, so no cell built
from input is ever a formula. Times are real Excel dates in UTC (naive, as Excel has no
zones; the headers say UTC).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
import zipfile
from typing import IO, Any

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .charts import CATEGORY_ORDER, label
from .export import FORMULA_PREFIXES, neutralise
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
TABLE_SHEETS = ("By code", "By domain", "Failures", "Journeys", "Unmatched", "Suppressions")
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
                 columns: list[tuple[str, str]],
                 deferred: dict[str, tuple[pd.DataFrame, list[str]]] | None = None) -> None:
    """A sheet with a frozen, filterable header row and sized columns. With `deferred`, only
    the header is written here and the rows are left for `_splice_rows` (kept in `deferred`
    by sheet name), unless a column holds values of mixed kinds."""
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
    names = [c for c, _ in columns]
    if deferred is not None and None not in (_kind(rows[c]) for c in names):
        deferred[name] = (rows, names)  # not rows[names]: a copy of every row
        return
    for rec in rows[names].itertuples(index=False):
        ws.append([_cell(ws, v) for v in rec])


# --- the table sheets' rows, written by DuckDB --------------------------------------------
# openpyxl builds a Python object per cell, ~30k cells/s: the workbook of 100k bench sends
# (4.3M cells) took 142 s, that of 1M sends would take ~25 min. The rows of the table
# sheets are written as SpreadsheetML by SQL instead (one statement per SLICE rows), the XML
# openpyxl writes for the same values (text cleaned and neutralised as clean_text does,
# dates as Excel serial days in UTC, numbers, booleans; tests/test_report.py reads both
# workbooks back and compares them), and spliced into the workbook openpyxl saved.

def _kind(s: pd.Series) -> str | None:
    """How a column's values are written: date, bool, num or text; None when mixed."""
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_numeric_dtype(s):
        return "num"
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    return {"string": "text", "empty": "text", "boolean": "bool", "integer": "num",
            "floating": "num", "mixed-integer-float": "num", "datetime": "date",
            "datetime64": "date"}.get(inferred)


def _typed(df: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Columns `names` as c0, c1 ... in the type DuckDB reads as their kind (none may be
    mixed), and the row number _rn."""
    out, kinds = {}, [_kind(df[c]) for c in names]
    for i, (col, kind) in enumerate(zip(names, kinds, strict=True)):
        s = df[col].reset_index(drop=True)
        if kind == "date" and not pd.api.types.is_datetime64_any_dtype(s):
            s = pd.to_datetime(s, utc=True)
        elif kind == "bool" and not pd.api.types.is_bool_dtype(s):
            s = s.astype("boolean")
        elif kind == "num" and not pd.api.types.is_numeric_dtype(s):
            s = pd.to_numeric(s)
        elif kind == "text":
            s = s.astype(object).where(s.notna(), None)
        out[f"c{i}"] = s
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(df)))
    frame["_rn"] = range(2, len(df) + 2)  # row 1 is the header
    frame.attrs["kinds"] = kinds
    return frame


SLICE = 50_000  # rows turned into XML per statement
# What clean_text removes: openpyxl's ILLEGAL_CHARACTERS_RE, in RE2. A CR is kept, as
# openpyxl writes it (an XML reader reads it as LF).
_REFUSED = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_ESCAPED = "replace(replace(replace({v}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"


def _clean_sql(col: str) -> str:
    """clean_text() in SQL: drop the refused characters, neutralise, cut at MAX_TEXT."""
    x = f"regexp_replace({col}, '{_REFUSED}', '', 'g')"
    first = ", ".join(f"chr({ord(c)})" for c in FORMULA_PREFIXES)
    return (f"left(CASE WHEN left({x}, 1) IN ({first}) THEN chr(39) || {x} ELSE {x} END, "
            f"{MAX_TEXT})")


def _cell_sql(col: str, letter: str, kind: str, date_style: int) -> str:
    """One cell's XML, or NULL for an empty cell (concat skips NULLs)."""
    ref = f"'<c r=\"{letter}' || _rn || '\"'"
    if kind == "bool":
        return f"CASE WHEN {col} IS NOT NULL THEN {ref} || ' t=\"b\"><v>' || {col}::INT || '</v></c>' END"
    if kind == "date":  # Excel's serial day (1899-12-30 is 0), as openpyxl computes it
        return (f"CASE WHEN {col} IS NOT NULL THEN {ref} || ' s=\"{date_style}\" t=\"n\"><v>' || "
                f"(epoch_us({col}) / 86400000000.0 + 25569)::VARCHAR || '</v></c>' END")
    if kind == "num":
        return (f"CASE WHEN isfinite({col}::DOUBLE) THEN {ref} || ' t=\"n\"><v>' || "
                f"{col}::VARCHAR || '</v></c>' END")
    # Text, already cleaned: an inline string, whitespace at its edges kept, and '' an empty
    # one, as openpyxl writes them.
    return (f"CASE WHEN {col} = '' THEN {ref} || ' t=\"inlineStr\" />' WHEN {col} IS NOT NULL "
            f"THEN {ref} || ' t=\"inlineStr\"><is><t' || CASE WHEN {col} <> trim({col}, ' ' || "
            f"chr(9) || chr(10) || chr(13)) THEN ' xml:space=\"preserve\"' ELSE '' END || '>' || "
            f"{_ESCAPED.format(v=col)} || '</t></is></c>' END")


def _rows_sql(frame: pd.DataFrame, date_style: int) -> str:
    """SELECT of one `<row>` element per row of a _typed frame, in order."""
    kinds = frame.attrs["kinds"]
    inner = ", ".join(_clean_sql(f"c{i}") + f" AS c{i}" if k == "text" else f"c{i}"
                      for i, k in enumerate(kinds))
    cells = ", ".join(_cell_sql(f"c{i}", get_column_letter(i + 1), k, date_style)
                      for i, k in enumerate(kinds))
    # ORDER BY: a streamed result comes in the order the threads finish (rows out of order
    # are a broken sheet); _splice_rows passes SLICE rows at a time, so each sort is small.
    return (f"SELECT '<row r=\"' || _rn || '\">' || concat({cells}) || '</row>' "
            f"FROM (SELECT _rn, {inner} FROM src) ORDER BY _rn")


def _date_style(styles_xml: str) -> int | None:
    """The index of the cell format (cellXfs) that shows DATE_FORMAT, in styles.xml."""
    fmt = re.search(rf'<numFmt numFmtId="(\d+)" formatCode="{re.escape(DATE_FORMAT)}"',
                    styles_xml)
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles_xml, re.S)
    if not fmt or not xfs:
        return None
    for i, xf in enumerate(re.findall(r"<xf [^>]*>", xfs.group(1))):
        if (f'numFmtId="{fmt.group(1)}"' in xf and 'fontId="0"' in xf
                and 'fillId="0"' in xf):
            return i
    return None


def _sheet_paths(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the worksheet's path in the package (workbook.xml and its rels)."""
    book = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {m.group(2): m.group(1).lstrip("/") for m in re.finditer(
        r'<Relationship [^>]*Target="([^"]+)" Id="([^"]+)"', rels)}
    return {html.unescape(m.group(1)): targets[m.group(2)] for m in re.finditer(
        r'<sheet name="([^"]*)" [^>]*r:id="([^"]+)"', book)}


def _splice_rows(saved: bytes, deferred: dict[str, tuple[pd.DataFrame, list[str]]],
                 out: IO[bytes]) -> None:
    """Copy the saved workbook to `out`, writing each deferred sheet's rows after its header."""
    zin = zipfile.ZipFile(io.BytesIO(saved))
    style = _date_style(zin.read("xl/styles.xml").decode("utf-8"))
    if style is None:
        raise ValueError("the workbook has no cell format for dates")  # see _summary_sheet
    paths = {path: name for name, path in _sheet_paths(zin).items() if name in deferred}
    # In memory, only to turn the frames into XML; no progress bar on the server's stderr.
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename not in paths:
                zout.writestr(item, data, compresslevel=6)
                continue
            head, sep, tail = data.decode("utf-8").partition("</sheetData>")
            if not sep:
                raise ValueError(f"{item.filename}: no sheetData to add rows to")
            frame = _typed(*deferred.pop(paths[item.filename]))  # one sheet's copy at a time
            sql = _rows_sql(frame, style)
            with zout.open(item.filename, "w") as fh:
                fh.write(head.encode("utf-8"))
                for start in range(0, len(frame), SLICE):
                    con.register("src", frame.iloc[start:start + SLICE])
                    rows = con.execute(sql).fetchall()
                    fh.write("".join(r[0] for r in rows).encode("utf-8"))
                    con.unregister("src")
                fh.write((sep + tail).encode("utf-8"))
            del frame
    con.close()


def _summary_sheet(wb: Workbook, data: ReportData, notes: list[str] | None = None) -> None:
    """Title, filters, the executive summary, key figures and two native charts; `notes`
    below the filters."""
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
    # A date cell in the plain date format: its cell format is the one the table sheets'
    # dates use (_splice_rows finds it in styles.xml).
    put("Generated (UTC)", data.generated_at)
    put(data.redaction_note)
    put("Filters: " + ("; ".join(data.filters) or "none (every campaign, date, domain, code)"))
    for note in notes or []:
        put(note)
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


def build_workbook(data: ReportData,
                   deferred: dict[str, tuple[pd.DataFrame, list[str]]] | None = None) -> Workbook:
    """The report as an openpyxl workbook (write-only; save it once). With `deferred`, the
    table sheets get only their header row, and their rows are kept there for _splice_rows
    (as workbook_bytes does); without it openpyxl writes every cell."""
    if not data.complete:
        raise ValueError("the workbook lists every row: build its data with "
                         "build_report(..., rows=None), not a preview's first rows")
    from .report import JOURNEY_COLUMNS

    tables = {name: (getattr(data, SHEETS[name][0]), SHEETS[name][1]) for name in SHEETS}
    tables["By domain"] = _by_domain(data)
    tables["Journeys"] = (data.journeys, [(c, JOURNEY_HEADERS.get(c, c.replace("_", " ")))
                                          for c in JOURNEY_COLUMNS])
    tables["Unmatched"] = (_unmatched(data), UNMATCHED_COLUMNS)
    wb = Workbook(write_only=True)
    wb.properties.creator = "Delivery Trace"
    wb.properties.title = clean_text(data.title)
    # Excel holds 1,048,576 rows a sheet: say which sheets are cut (the CSVs are not).
    cut = [f"The sheet {name} holds the first {MAX_ROWS:,} of its {len(df):,} rows (Excel's "
           "limit); the Report page's CSV downloads have every row."
           for name, (df, _) in tables.items() if len(df) > MAX_ROWS]
    _summary_sheet(wb, data, cut)
    for name in TABLE_SHEETS:
        _table_sheet(wb, name, *tables[name], deferred)
    return wb


def workbook_bytes(data: ReportData) -> bytes:
    """The .xlsx file's bytes: openpyxl writes the workbook, DuckDB the table sheets' rows."""
    deferred: dict[str, tuple[pd.DataFrame, list[str]]] = {}
    saved = io.BytesIO()
    build_workbook(data, deferred).save(saved)
    if not deferred:
        return saved.getvalue()
    out = io.BytesIO()
    _splice_rows(saved.getvalue(), deferred, out)
    return out.getvalue()
