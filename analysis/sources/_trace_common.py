"""Helpers shared by the recipient-side trace parsers (Office 365, Google, Exchange).

PowerShell CSVs (`#TYPE` line, culture-formatted dates), log files read as numbered
lines, header lookup by normalised name, one row per recipient, and the final split
into loaded and rejected rows. Sources: ../shared/formats/office365.md,
exchange_onprem.md, google_workspace.md and README.md ("Cross-cutting rules").
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ..errors import InputError
from ._base import ParseResult
from ._io import HEAD_BYTES, SourceFile
from ._tabular import (
    Table,
    copy_without_first_line,
    header_record,
    normalise_header,
    read_csv,
    sql_str,
    timestamp_sql,
)
from ._tabular import _unique as unique_headers
from ._tabular import sql_ident as q

# Windows PowerShell 5.1 Export-Csv writes this line first unless -NoTypeInformation
# (office365.md section 1).
TYPE_PREFIX = "#TYPE"
# PowerShell's rendering of an array property (exchange_onprem.md section 2.2).
PS_ARRAY = "System.String[]"


def txt(col: str | None) -> str:
    """SQL for a trimmed text column, NULL when absent or empty."""
    return f"nullif(trim({q(col)}), '')" if col else "NULL::VARCHAR"


def find_col(headers: list[str], *names: str) -> str | None:
    """The first header matching one of `names` (compared with normalise_header)."""
    keys: dict[str, str] = {}
    for h in headers:
        keys.setdefault(normalise_header(h), h)
    for name in names:
        if (h := keys.get(normalise_header(name))) is not None:
            return h
    return None


def has_cols(headers: list[str], *names: str) -> bool:
    """True when every name is a header (normalised comparison)."""
    return all(find_col(headers, n) for n in names)


def csv_head(src: SourceFile) -> tuple[list[str], int]:
    """The header names of a CSV (skipping a PowerShell `#TYPE` line) and its line number."""
    if src.is_zip:
        return [], 1
    text = src.text_head
    skip = 0
    if text.startswith(TYPE_PREFIX):
        nl = text.find("\n")
        text, skip = (text[nl + 1:] if nl >= 0 else ""), 1
    try:
        headers, _, _ = header_record(text)
    except InputError:
        return [], 1 + skip
    # The names read_csv gives the table's columns (stray quotes, a BOM or a duplicate
    # kept/renamed alike), so a matched header is always a column (tests/test_properties.py).
    return unique_headers(headers), 1 + skip


def columns(src: SourceFile, headers: list[str], spec: dict[str, tuple[str, ...]],
            required: tuple[str, ...], line: int) -> dict[str, str | None]:
    """Field -> header for every field of `spec`; InputError naming the missing required ones."""
    found = {field: find_col(headers, *names) for field, names in spec.items()}
    missing = [spec[f][0] for f in required if not found.get(f)]
    if missing:
        raise InputError(
            src.name,
            f"missing column(s) {', '.join(map(repr, missing))}; the header has "
            f"{', '.join(map(repr, headers))}",
            line=line, hint="export the file again with all columns")
    return found


def read_ps_csv(src: SourceFile, con: duckdb.DuckDBPyConnection,
                project: Callable[[list[str], str, str], str] | None = None) -> Table:
    """read_csv for PowerShell exports: skips a `#TYPE` line and keeps row numbers true.

    `project` as in _tabular.read_csv (the parser's columns built while reading).
    """
    if not src.text_head.startswith(TYPE_PREFIX):
        return read_csv(src, con, project)
    workdir = src.workdir or Path(tempfile.mkdtemp(prefix="delivery-trace-"))
    out = workdir / f"notype-{src.sha256[:16]}.csv"
    copy_without_first_line(src.utf8_path(), out)
    head = out.read_bytes()[:HEAD_BYTES]
    copy = SourceFile(name=src.name, path=out, size=out.stat().st_size, head=head,
                      sha256=hashlib.sha256((src.sha256 + TYPE_PREFIX).encode()).hexdigest(),
                      mtime=src.mtime, workdir=workdir, _encoding="utf-8")
    table = read_csv(copy, con, project)
    src.notes.update(copy.notes)
    con.execute(f"UPDATE {table.name} SET row_no = row_no + 1")  # the #TYPE line was line 1
    rejected = table.rejected.copy()
    rejected["row_no"] = rejected["row_no"] + 1
    return Table(name=table.name, headers=table.headers, rows_read=table.rows_read,
                 rejected=rejected)


def day_first(con: duckdb.DuckDBPyConnection, table: str, cols: list[str]) -> bool:
    """True when slash dates in these columns are day/month (en-GB), not month/day (en-US)."""
    # PowerShell formats dates with the exporting machine's culture (office365.md
    # section 4). A first number above 12 proves day/month, a second one month/day;
    # when every date is ambiguous (`4/11/2025`), a 24-hour clock means a day-first
    # culture (en-US always writes AM/PM).
    cols = [c for c in cols if c]
    if not cols:
        return False
    slash = "'^\\s*[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}'"
    tests = {
        "dmy": "'^\\s*(1[3-9]|2[0-9]|3[01])/[0-9]{1,2}/[0-9]{4}'",
        "mdy": "'^\\s*[0-9]{1,2}/(1[3-9]|2[0-9]|3[01])/[0-9]{4}'",
        "ampm": "'^\\s*[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}.*[0-9]\\s*[AaPp]\\.?[Mm]\\.?\\s*$'",
        "slash": slash,
    }
    # Each test stops at its first hit (LIMIT 1), so a large file is rarely read to the
    # end: a month/day proof decides at once, then a day/month proof.
    def found(rx: str) -> bool:
        where = " OR ".join(f"regexp_matches({q(c)}, {rx})" for c in cols)
        return bool(con.execute(f"SELECT 1 FROM {table} WHERE {where} LIMIT 1").fetchall())  # noqa: S608

    if found(tests["mdy"]):
        return False
    if found(tests["dmy"]):
        return True
    return not found(tests["ampm"]) and found(tests["slash"])


def stamp_sql(expr: str, tz: str, dayfirst: bool = False) -> str:
    """timestamp_sql, after swapping day and month when the file is day-first."""
    if dayfirst:
        expr = f"regexp_replace({expr}, '^\\s*([0-9]{{1,2}})/([0-9]{{1,2}})/', '\\2/\\1/')"
    return timestamp_sql(expr, tz)


def read_lines(src: SourceFile, con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Temp table `name(line_no, line)`: every physical line, CR stripped, BOM removed."""
    # A UTF-8 file is read in place (csv_path): its BOM is dropped from line 1 here, as
    # utf8_path's copy would have (every leading U+FEFF), without copying the file.
    path = src.csv_path()
    if any(c in str(path) for c in "*?[{"):  # read_text takes globs
        safe = (src.workdir or Path(tempfile.mkdtemp(prefix="delivery-trace-"))) / \
            f"lines-{src.sha256[:16]}.txt"
        shutil.copyfile(path, safe)
        path = safe
    line = ("CASE WHEN line_no = 1 THEN ltrim(l, chr(65279)) ELSE l END"
            if path == src.path and src.has_bom() else "l")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT line_no, "  # noqa: S608
            f"CASE WHEN ends_with(line, chr(13)) THEN left(line, length(line) - 1) ELSE line "
            f"END AS line FROM (SELECT line_no, {line} AS line FROM (SELECT "
            f"unnest(generate_series(1, len(p))) AS line_no, unnest(p) AS l FROM "
            f"(SELECT string_split(content, chr(10)) AS p FROM read_text({sql_str(str(path))}))))")
    except duckdb.Error as e:
        raise InputError(src.name, f"could not be read: {str(e).splitlines()[0]}") from e


def blank_sql(line: str) -> str:
    """SQL: trim(line) = '' (only spaces), without trimming (copying) every line."""
    return f"({line} = '' OR (starts_with({line}, ' ') AND trim({line}) = ''))"


def csv_fields_sql(line: str) -> str:
    """SQL splitting one CSV line into its raw fields (quotes kept), RFC 4180 quoting."""
    return f"regexp_extract_all(',' || {line}, ',(\"(?:[^\"]|\"\")*\"|[^,]*)', 1)"


def unquote_sql(field: str) -> str:
    """SQL removing CSV quotes from one raw field."""
    return (f"CASE WHEN length({field}) >= 2 AND {field} LIKE '\"%\"' "
            f"THEN replace(substr({field}, 2, length({field}) - 2), '\"\"', '\"') "
            f"ELSE {field} END")


def csv_ok_sql(fields: str, line: str) -> str:
    """SQL: true when the split fields cover the whole line and every quote is paired."""
    return (f"(list_sum(list_transform({fields}, lambda f: length(f) + 1)) = length({line}) + 1 "
            f"AND len(list_filter({fields}, lambda f: contains(f, '\"') AND NOT "
            "regexp_full_match(f, '\"(?:[^\"]|\"\")*\"'))) = 0)")


def raw_csv_sql(headers: list[str]) -> str:
    """SQL re-assembling a row as a CSV line (the 'raw line behind the event')."""
    # A field is quoted when it holds '"', ',', CR or LF: four contains() tests give
    # the same lines as one regexp_matches(x, '[",\r\n]') in half the time (benchmarks.md).
    def quoted(name: str) -> str:
        col = q(name)
        special = " OR ".join(f"contains({col}, {ch})" for ch in ("'\"'", "','", "chr(13)", "chr(10)"))
        return (f"CASE WHEN {special} THEN '\"' || replace({col}, '\"', '\"\"') || '\"' "
                f"ELSE coalesce({col}, '') END")

    parts = [quoted(name) for name in headers]
    return "concat_ws(',', " + ", ".join(parts) + ")"


def addr_list_sql(addresses: str, seps: str = ";") -> str:
    """SQL: the LIST of addresses in a multi-recipient field (PowerShell's `System.String[]` → empty)."""
    return (f"list_filter(list_transform(regexp_split_to_array(coalesce({addresses}, ''), "
            f"{sql_str('[' + seps + ']')}), lambda a: nullif(trim(a), '')), "
            f"lambda a: a IS NOT NULL AND a <> {sql_str(PS_ARRAY)})")


def status_list_sql(statuses: str) -> str:
    """SQL: the LIST of per-recipient statuses of a tracking-log `recipient-status` field."""
    # exchange_onprem.md 1.4: statuses are `;`-separated in the order of the addresses,
    # but one may itself contain ';' (`550 5.1.1 RESOLVER.ADR.RecipNotFound; not found`),
    # so the field is split only before a reply code or To/Cc/Bcc.
    # Without a ';' the regexp has nothing to replace, so it is skipped (most rows).
    s = f"coalesce({statuses}, '')"
    return (f"string_split(CASE WHEN contains({s}, ';') THEN regexp_replace({s}, "
            "';\\s*([2-5][0-9][0-9][ -]|(?:To|Cc|Bcc)\\b)', chr(31) || '\\1', 'g') "
            f"ELSE {s} END, chr(31))")


def pair_sql(addrs: str, stats: str, status: str) -> str:
    """SQL: LIST of STRUCT(recipient, status), one per address, statuses paired by position."""
    # When the counts differ each recipient keeps the whole status text; no address
    # gives one element with a NULL recipient (the row is kept, never dropped).
    return (
        f"CASE WHEN len({addrs}) = 0 THEN [{{'recipient': NULL::VARCHAR, 'status': {status}}}] "
        f"ELSE list_transform(generate_series(1, len({addrs})), lambda i: {{'recipient': "
        f"{addrs}[i], 'status': CASE WHEN len({addrs}) > 1 AND len({stats}) = len({addrs}) "
        f"THEN nullif(trim({stats}[i]), '') ELSE {status} END}}) END"
    )


def agent_event_sql(custom: str) -> str:
    """SQL: the verdict an AGENTINFO row's custom data carries, else NULL."""
    # office365.md section 7.3: spam filter `DI=SJ` junk folder, `SQ` quarantined, `SD`
    # deleted, `SB` sender blocked; malware agent `action=s` deleted, `b`/`ni`/`ne`
    # blocked or rejected, `d` deferred.
    c = f"coalesce({custom}, '')"
    sfa = f"regexp_extract({c}, 'S:SFA=[^;]*[|]DI=([A-Z]+)', 1)"
    ama = f"regexp_extract({c}, 'S:AMA=[^;]*[|]action=([a-z]+)', 1)"
    return (f"CASE {sfa} WHEN 'SJ' THEN 'junk' WHEN 'SQ' THEN 'quarantined' "
            f"WHEN 'SD' THEN 'dropped' WHEN 'SB' THEN 'rejected' ELSE "
            f"CASE {ama} WHEN 's' THEN 'dropped' WHEN 'b' THEN 'rejected' WHEN 'ni' THEN 'rejected' "
            f"WHEN 'ne' THEN 'rejected' WHEN 'd' THEN 'deferred' END END")


def words_case(expr: str, words: dict[str, str], default: str = "'other'") -> str:
    """SQL CASE mapping a lower-cased, space-normalised word to a canonical event."""
    key = f"lower(regexp_replace(trim({expr}), '\\s+', ' ', 'g'))"
    whens = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in words.items())
    return f"CASE {key} {whens} ELSE {default} END"


def empty_rejected() -> pd.DataFrame:
    """A rejected frame with no rows."""
    return pd.DataFrame({"row_no": pd.Series([], dtype="int64"),
                         "raw": pd.Series([], dtype="object"),
                         "error": pd.Series([], dtype="object")})


def finish(con: duckdb.DuckDBPyConnection, staged: str, rows_sql: str, *,
           extra_rejected: pd.DataFrame | None = None, rows_read: int | None = None,
           tz: str | None, notes: dict[str, Any] | None = None,
           canonical: bool = False) -> ParseResult:
    """ParseResult from a staged table with `_error`/`raw`: `rows_sql` selects the good rows."""
    # Rows whose `_error` is set become Rejected (row_no, raw, error), plus the CSV
    # reader's own rejects. `rows_read` is left to the store (loaded + rejected) when a
    # record expands into one row per recipient. In a canonical table `raw` went through
    # nullif(raw, ''); the rejected row keeps the line as it was.
    line_sql = "coalesce(raw, '')" if canonical else "raw"
    rejected = con.execute(
        f"SELECT row_no, {line_sql} AS raw, _error AS error FROM {staged} "  # noqa: S608
        "WHERE _error IS NOT NULL ORDER BY row_no").df()
    if extra_rejected is not None and len(extra_rejected):
        rejected = pd.concat([rejected, extra_rejected], ignore_index=True)
    return ParseResult(rows=con.sql(rows_sql), rejected=rejected, rows_read=rows_read, tz=tz,
                       notes=notes or {}, canonical=canonical)


def stage_select(headers: list[str], rel: str, exprs: dict[str, str], *, time_text: str,
                 time_sql: str, label: str, example: str, keep: tuple[str, ...] = ()) -> str:
    """SELECT over `rel` of canonical columns (`exprs`: name -> SQL) + raw + _error."""
    # A row is in error when its date is missing or unreadable; everything else loads.
    # When event_time is the parsed stamp, `_error` reads that column: DuckDB does not
    # share an expression inside a CASE with another column, and parsing stamps is the
    # dearest part of the statement.
    kept = "".join(f", {q(k)}" for k in keep)
    cols = ", ".join(f"({sql}) AS {q(name)}" for name, sql in exprs.items())
    line_sql = raw_csv_sql(headers)
    parsed = time_sql
    if exprs.get("event_time") == time_sql:
        rel = (f"(SELECT row_no, {line_sql} AS raw, {cols}, "  # noqa: S608
               f"({time_text}) AS _time_text{kept} FROM {rel})")
        cols = "raw, " + ", ".join(q(name) for name in exprs)
        parsed, time_text = "event_time", "_time_text"
    else:
        cols = f"{line_sql} AS raw, {cols}"
    return (
        f"SELECT row_no, {cols}, "  # noqa: S608
        f"CASE WHEN ({time_text}) IS NULL THEN {sql_str('no date in column ' + label)} "
        f"WHEN ({parsed}) IS NULL THEN 'unreadable date ' || ({time_text}) || "
        f"{sql_str(' in column ' + label + ' (expected e.g. ' + example + ')')} END AS _error"
        f"{kept} FROM {rel}")


def stage_table(con: duckdb.DuckDBPyConnection, table: Table, tag: str,
                exprs: dict[str, str], *, time_text: str, time_sql: str, label: str,
                example: str) -> str:
    """Temp table of canonical columns (`exprs`: name -> SQL over `table`) + raw + _error."""
    staged = f"_st_{tag}"
    select = stage_select(table.headers, table.name, exprs, time_text=time_text,
                          time_sql=time_sql, label=label, example=example)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS {select}")  # noqa: S608
    return staged
