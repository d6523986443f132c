"""Reading CSV (through DuckDB) and XLSX (through openpyxl) into all-text relations.

Both give a DuckDB relation whose columns are the file's own header names (made unique)
plus `row_no`, the row number a spreadsheet shows (the header is row 1), and the
rejected records with DuckDB's own reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import tempfile
import zipfile
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ..errors import InputError
from ._io import SourceFile

_DELIMITERS = [",", ";", "\t", "|"]


@dataclass
class Table:
    """A file read as text columns."""

    name: str  # temp table with the original headers + row_no
    headers: list[str]
    rows_read: int
    rejected: pd.DataFrame  # row_no, raw, error (records DuckDB could not split)


def sql_str(value: str) -> str:
    """An SQL string literal (only for values we validated, such as a zone name)."""
    return "'" + value.replace("'", "''") + "'"


def rowid_number_sql(table: str) -> str:
    """SQL: a row's number from 1 in `table`'s insertion order, read from its rowid.

    A row_number() OVER () window would number the rows on one thread. Inside a transaction
    a new table's rowids start at a large offset, not 0, hence the subtraction.
    """
    return f"(rowid - (SELECT min(rowid) FROM {table}) + 1)"


def sql_ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def valid_tz(tz: str, file: str) -> str:
    """The IANA zone name, checked (so it can never carry SQL)."""
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise InputError(file, f"unknown time zone {tz!r}",
                         hint="use an IANA name such as Europe/Berlin or UTC") from e
    return tz


def normalise_header(name: str) -> str:
    """Header key for synonym lookup: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        h = (h or "").strip() or f"column_{i + 1}"
        key = h.lower()
        if key in seen:
            seen[key] += 1
            h = f"{h}_{seen[key]}"
        else:
            seen[key] = 1
        out.append(h)
    return out


def first_record(text: str) -> tuple[list[str], str]:
    """The header record of a CSV head and its delimiter."""
    if not text.strip():
        raise InputError("", "no header row")
    first_line = text.splitlines()[0]
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text), delimiter=delim, quotechar='"')
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        header = first_line.split(delim)
    return header, delim


def header_record(text: str) -> tuple[list[str], str, bool]:
    """(header names, delimiter, plain): the header record of a CSV head.

    A header with an unbalanced quote runs on into the rows below (a name then holds a
    line end); its names are then line 1 split as plain text, and `plain` is True.
    """
    header, delim = first_record(text)
    plain = any("\n" in h or "\r" in h for h in header)
    if plain:
        header = [h.strip().strip('"').strip() for h in text.splitlines()[0].split(delim)]
    return header, delim, plain


def csv_headers(src: SourceFile) -> list[str]:
    """The header names of a CSV (for sniffing), or [] when it is not text."""
    text = src.text_head
    if not text:
        return []
    try:
        return header_record(text)[0]
    except InputError:
        return []


def read_csv(src: SourceFile, con: duckdb.DuckDBPyConnection,
             project: Callable[[list[str], str, str], str] | None = None) -> Table:
    """Read a CSV with DuckDB, every column as text; malformed records become rejects.

    With `project`, the staged table is not the file's text columns but
    `project(headers, rel, probe)`: a SELECT over `rel` (the text columns plus `row_no`
    and `_rn`) that must pass `row_no` and `_rn` through. The reading and the parser's
    own columns are then one statement, and the rows are materialised once. `probe` is
    a plain reader of the same file (malformed records skipped) for quick looks first.
    """
    text = src.text_head
    try:
        header, delim, plain = header_record(text)
    except InputError as e:
        raise InputError(src.name, "the file has no header row", line=1) from e
    # A header with an unbalanced quote can run on into the rows below: DuckDB then reads
    # the whole file as its header (0 rows, none rejected). The records then start at
    # line 2 (`plain`).
    headers = _unique(header)
    tag = src.sha256[:12]
    rej, scan = f"_rej_{tag}", f"_rejscan_{tag}"
    staged = f"_csv_{tag}"

    def stage(path: str) -> pd.DataFrame:
        cols = "{" + ", ".join(f"{sql_str(h)}: 'VARCHAR'" for h in headers) + "}"
        # DuckDB's `skip` honours quotes too: with a broken header, read a copy without
        # line 1 instead.
        start = "header=true"
        if plain:
            path, start = str(_without_first_line(src, Path(path))), "header=false"
        reader = (
            f"read_csv({sql_str(path)}, auto_detect=false, {start}, columns={cols}, "
            f"delim={sql_str(delim)}, quote='\"', escape='\"', max_line_size=20000000, "
            f"store_rejects=true, rejects_table={sql_str(rej)}, rejects_scan={sql_str(scan)})"
        )
        # Record numbers come from the new table's rowid (its insertion order, which is
        # the file's): a row_number() window here would serialise the statement, and
        # with `project` every expression of the parser would run on one thread.
        if project is None:
            select = f"SELECT *, NULL::BIGINT AS _rn FROM {reader}"
        else:  # row_no is provisional until the rejects are known (see below)
            probe = (f"read_csv({sql_str(path)}, auto_detect=false, {start}, columns={cols}, "
                     f"delim={sql_str(delim)}, quote='\"', escape='\"', "
                     f"max_line_size=20000000, ignore_errors=true)")
            select = project(headers, f"(SELECT *, NULL::BIGINT AS _rn, NULL::BIGINT AS row_no "
                                      f"FROM {reader})", probe)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS {select}")  # noqa: S608
        rejects = con.execute(
            f"SELECT line, error_message, csv_line FROM {rej} ORDER BY line"  # noqa: S608
        ).df()
        if plain:  # the copy's line 1 is the file's line 2
            rejects["line"] = rejects["line"] + 1
        n = rowid_number_sql(staged)
        con.execute(f"UPDATE {staged} SET _rn = {n}"  # noqa: S608
                    + (f", row_no = {n} + 1" if project else ""))
        return rejects

    # DuckDB's reader stops with "state machine reached an invalid state" on mixed line
    # ends (an LF file with one CRLF line, or bare CRs among LFs) and glues records at a
    # bare CR it did not expect; an all-LF copy reads the same records (hostile corpus:
    # mixed_endings.csv). The copy is made only when needed. A UTF-8 file is read in
    # place, BOM or not (csv_path).
    mixed = src.mixed_line_ends()

    def read() -> pd.DataFrame:
        try:
            return stage(str(src.lf_path() if mixed else src.csv_path()))
        except duckdb.Error as e:
            first = str(e).splitlines()[0]
            if mixed or "invalid state" not in first:
                raise InputError(src.name, f"CSV could not be read: {first}") from e
            try:
                return stage(str(src.lf_path()))
            except duckdb.Error as e2:
                raise InputError(src.name, f"CSV could not be read: "
                                 f"{str(e2).splitlines()[0]}") from e2

    rejects = read()
    if (not plain and rejects.empty and any(line.strip() for line in text.splitlines()[1:])
            and not con.execute(f"SELECT count(*) FROM {staged}").fetchall()[0][0]):  # noqa: S608
        # Python's csv module and DuckDB disagree on some broken quotes ('""Name"'):
        # rows below the header that DuckDB read as nothing at all.
        plain = True
        rejects = read()
    if plain:
        src.notes["header_quote"] = ('line 1 has an unbalanced quote (\"); the column names '
                                     "were read from line 1 as plain text")
    n_good = con.execute(f"SELECT count(*) FROM {staged}").fetchall()[0][0]  # noqa: S608
    rejected = pd.DataFrame({
        "row_no": rejects["line"].astype("int64"),
        "raw": rejects["csv_line"].astype("object"),
        "error": ("malformed CSV record: " + rejects["error_message"].astype(str)).astype("object"),
    }).drop_duplicates("row_no")
    if len(rejected):
        # Good records keep their place in the file: the k-th good record sits at the
        # k-th row number that no rejected record took.
        con.register("_rej_rows", rejected[["row_no"]])
        drop = "_rn" if project is None else "row_no"  # a projection keeps its _rn
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged} AS "  # noqa: S608
            f"WITH free AS (SELECT g AS row_no, row_number() OVER (ORDER BY g) AS k "
            f"FROM range(2, {n_good + len(rejected) + 2}) t(g) "
            f"WHERE g NOT IN (SELECT row_no FROM _rej_rows)) "
            f"SELECT s.* EXCLUDE ({drop}), free.row_no FROM {staged} s JOIN free ON free.k = s._rn"
        )
        con.unregister("_rej_rows")
    elif project is None:
        con.execute(f"ALTER TABLE {staged} RENAME COLUMN _rn TO row_no")
        con.execute(f"UPDATE {staged} SET row_no = row_no + 1")  # the header is line 1
    return Table(name=staged, headers=headers, rows_read=n_good + len(rejected),
                 rejected=rejected)


def copy_without_first_line(path: Path, out: Path) -> None:
    """Copy the UTF-8 text file `path` to `out` without its first line (any line end)."""
    with open(path, encoding="utf-8", newline="") as fin, \
            open(out, "w", encoding="utf-8", newline="") as fout:
        fin.readline()
        shutil.copyfileobj(fin, fout)


def _without_first_line(src: SourceFile, path: Path) -> Path:
    """A copy of the file at `path` without its first line (for a broken header)."""
    out = (src.workdir or Path(tempfile.mkdtemp(prefix="delivery-trace-"))) / \
        f"nohead-{src.sha256[:16]}.txt"
    copy_without_first_line(path, out)
    return out


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):  # calamine's date-only cell; openpyxl gives midnight
        return value.strftime("%Y-%m-%d 00:00:00")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text != "" else None


# What calamine reads differently from an XML parser (openpyxl): an error cell (`t="e"`:
# #DIV/0!, #N/A) comes out empty, and a carriage return is kept where XML turns it into a
# line feed, so the two cannot be told apart when the file also escapes real ones
# (`_x000D_`, `&#13;`). A workbook with any of these is read by openpyxl.
_CALAMINE_DIFFERS = re.compile(rb't="e"|_x000d_|&#0*13;|&#x0*d;', re.IGNORECASE)
_CALAMINE_HINTS = (b't="e"', b"_x000", b"_X000", b"&#")  # cheap tests before the regex


def _calamine_differs(path: Path) -> bool:
    """Whether calamine could read the workbook's cells differently from openpyxl."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename.lower()
            if not (name.startswith("xl/worksheets/") or name == "xl/sharedstrings.xml") \
                    or not name.endswith(".xml"):
                continue
            with zf.open(info) as member:
                tail = b""
                while chunk := member.read(1 << 22):
                    part = tail + chunk
                    if any(h in part for h in _CALAMINE_HINTS) and \
                            _CALAMINE_DIFFERS.search(part):
                        return True
                    tail = chunk[-16:]
    return False


def _calamine_rows(path: Path, sheet: str | None) -> list[list[Any]]:
    """Every row of the sheet from A1 on (index = Excel row - 1), read by calamine (Rust)."""
    from python_calamine import CalamineWorkbook

    with open(path, "rb") as fh:  # by content: a workbook saved as .csv still reads
        wb = CalamineWorkbook.from_filelike(fh)
    try:
        ws = wb.get_sheet_by_name(sheet) if sheet else wb.get_sheet_by_index(0)
        return ws.to_python(skip_empty_area=False)
    finally:
        wb.close()


def _openpyxl_rows(path: Path, sheet: str | None) -> list[tuple[Any, ...]]:
    """Every row of the sheet from A1 on, read by openpyxl (keeps error cells' text)."""
    import openpyxl

    # A file object, not the path: openpyxl refuses paths by their extension, and a
    # workbook saved as .csv (or under a scratch name) is still a workbook.
    with open(path, "rb") as fh:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        try:
            ws = wb[sheet] if sheet else wb.worksheets[0]
            return list(ws.iter_rows(values_only=True))
        finally:
            wb.close()


def _texts(values: Any) -> list[str | None]:
    # Most cells are non-empty text: no call for them (0.9M cells per 100k rows).
    return [v if v.__class__ is str and v else _cell_text(v) for v in values]


# XML reads a carriage return (CR LF or a lone CR) in text as a line feed; calamine keeps it.
# The cells are mended in SQL, the header here.
_XML_LINE_ENDS = "replace(replace({c}, chr(13) || chr(10), chr(10)), chr(13), chr(10))"


def _xml_line_ends(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def read_xlsx(src: SourceFile, con: duckdb.DuckDBPyConnection, *, sheet: str | None = None
              ) -> Table:
    """Read the first sheet (or `sheet`) of a workbook, every cell as text.

    calamine reads it (100k rows in 1.5 s; openpyxl took 27 s, issue 7), unless the file
    holds what calamine reads differently (_CALAMINE_DIFFERS): then openpyxl does. Both
    give the same text for every cell (tests/test_esp_touchbasepro.py).
    """
    try:
        fast = not _calamine_differs(src.path)
        if not fast:
            rows = _openpyxl_rows(src.path, sheet)
        elif sheet is None and src.sheet_rows is not None:
            rows = src.sheet_rows  # read while sniffing
        else:
            rows = _calamine_rows(src.path, sheet)
        src.sheet_rows = None
    except Exception as e:  # zipfile, XML and calamine errors of damaged files
        raise InputError(src.name, f"broken XLSX workbook ({e.__class__.__name__}: {e})",
                         hint="export it again, or open it in Excel and save it as .xlsx"
                         ) from e
    header: list[str] | None = None
    data: list[list[str | None]] = []
    row_nos: list[int] = []
    for excel_row, values in enumerate(rows, start=1):
        cells = _texts(values)
        if header is None:
            if any(c is not None for c in cells):
                header = [_xml_line_ends(c) if fast else c or "" for c in cells]
            continue
        if not any(c is not None for c in cells):
            continue
        data.append(cells)
        row_nos.append(excel_row)
    del rows
    if header is None:
        raise InputError(src.name, "the workbook's first sheet is empty")
    headers = _unique(header)
    width = len(headers)
    frame = pd.DataFrame([(r + [None] * width)[:width] for r in data], columns=headers,
                         dtype="object")
    frame["row_no"] = pd.Series(row_nos, dtype="int64")
    name = f"_xlsx_{src.sha256[:12]}"
    cols = ", ".join(_XML_LINE_ENDS.format(c=sql_ident(h)) + f" AS {sql_ident(h)}"
                     if fast else sql_ident(h) for h in headers)
    con.register(f"{name}_df", frame)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cols}, row_no "  # noqa: S608
                f"FROM {name}_df")
    con.unregister(f"{name}_df")
    return Table(name=name, headers=headers, rows_read=len(data),
                 rejected=pd.DataFrame({"row_no": pd.Series([], dtype="int64"),
                                        "raw": pd.Series([], dtype="object"),
                                        "error": pd.Series([], dtype="object")}))


def xlsx_headers(src: SourceFile) -> list[str]:
    """Header names of an XLSX workbook's first sheet (for sniffing), or [].

    calamine reads the sheet once per file and keeps it on `src` for read_xlsx (openpyxl's
    read-only mode parsed the whole sheet just to size it when the file does not say: 11 s
    for 100k rows, as long as reading it).
    """
    if not src.is_zip:
        return []
    if src.sheet_rows is None:
        try:
            src.sheet_rows = _calamine_rows(src.path, None)
        except Exception:
            return []
    for values in src.sheet_rows[:20]:
        cells = _texts(values)
        if any(c is not None for c in cells):
            return [c or "" for c in cells]
    return []


# Formats for stamps without an offset, most specific first; US month/day before
# day/month (what PowerShell's en-US culture and most ESP exports write).
NAIVE_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%d",
]
_OFFSET_RE = r"(Z|[+-][0-9][0-9]:?[0-9][0-9])$"


def _naive_sql(x: str) -> str:
    """SQL: try_strptime(x, NAIVE_FORMATS), each format tried only where it could match.

    try_strptime with a list returns the first format that parses, but a failed attempt
    costs 0.7-1.4 s per million stamps (an en-US stamp failed seven formats first). A
    format can only parse a stamp that holds its literal '-', '/', '.' and ':' and, for
    the formats without %p, no AM/PM letter M (every other field is digits), so
    skipping the others gives the same first match.
    """
    ampm = f"(contains({x}, 'M') OR contains({x}, 'm'))"
    parts = []
    for fmt in NAIVE_FORMATS:
        guard = [f"contains({x}, {sql_str(c)})" for c in "-/.:" if c in fmt]
        guard.append(ampm if "%p" in fmt else f"NOT {ampm}")
        parts.append(f"CASE WHEN {' AND '.join(guard)} THEN try_strptime({x}, {sql_str(fmt)}) END")
    return "coalesce(" + ", ".join(parts) + ")"


def timestamp_sql(col: str, tz: str) -> str:
    """SQL turning a text column into TIMESTAMPTZ.

    Stamps with an offset or `Z` keep it; epoch seconds are UTC; anything else is read
    in `tz` (a zone validated by valid_tz). Unreadable stamps give NULL.
    """
    x = f"trim({col})"
    fixed = (f"regexp_replace(regexp_replace({x}, '\\s+([+-][0-9][0-9]):?([0-9][0-9])$', '\\1:\\2'),"
             " '(\\.[0-9]{6})[0-9]+', '\\1')")
    return (
        f"CASE WHEN {x} IS NULL OR {x} = '' THEN NULL "
        f"WHEN regexp_matches({x}, '^[0-9]{{9,11}}(\\.[0-9]+)?$') "
        f"THEN to_timestamp(TRY_CAST({x} AS DOUBLE)) "
        f"WHEN regexp_matches({x}, '{_OFFSET_RE}') THEN TRY_CAST({fixed} AS TIMESTAMPTZ) "
        f"ELSE timezone({sql_str(tz)}, {_naive_sql(x)}) END"
    )
