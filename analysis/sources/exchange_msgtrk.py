"""Exchange Server message tracking logs: raw `MSGTRK*.LOG` files (also MSGTRKMD/MS/MA).

Layout: ../shared/formats/exchange_onprem.md section 1 — `#` header lines, then one CSV
record per line in the order of the `#Fields:` line (which may reappear mid-file after a
restart; every `#` line is a header). Stamps are UTC. Each file is its own import, so
loading MSGTRK and MSGTRKMD files of one server together needs nothing special.
"""

from __future__ import annotations

import duckdb

from ..errors import InputError
from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._tabular import normalise_header, rowid_number_sql, sql_str
from ._trace_common import blank_sql, csv_fields_sql, csv_ok_sql, read_lines, unquote_sql
from ._tracking import FIELDS, REQUIRED, tracking_result


def _fields_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.lower().startswith("#fields:"):
            return line
    return None


def _line_base(lines: str, segments: list[tuple[int, dict[str, int], int]]) -> str:
    """SQL splitting every data line with a CSV regex (any number of `#Fields:` lines)."""
    def field(name: str) -> str:
        whens = " ".join(f"WHEN {ln} THEN {unquote_sql(f'_f[{ix[name]}]')}"
                         for ln, ix, _ in segments if name in ix)
        return f"nullif(trim(CASE _seg {whens} END), '')"

    present = set().union(*(set(ix) for _, ix, _ in segments))
    n_fields = "CASE _seg " + " ".join(f"WHEN {ln} THEN {n}" for ln, _, n in segments) + " END"
    return (
        f"SELECT line_no AS row_no, line AS raw, CASE "
        "WHEN _seg IS NULL THEN 'data line before the #Fields: header' "
        f"WHEN NOT {csv_ok_sql('_f', 'line')} THEN 'malformed CSV quoting' "
        f"WHEN len(_f) <> {n_fields} THEN 'expected ' || ({n_fields}) || ' fields (#Fields: "
        "line ' || _seg || '), found ' || len(_f) END AS _pre_error, "
        + ", ".join(f"{field(n)} AS {n}" for n in sorted(present))
        + f" FROM (SELECT *, {csv_fields_sql('line')} AS _f FROM (SELECT *, max(CASE WHEN "
        "line LIKE '#%' AND lower(line) LIKE '#fields:%' THEN line_no END) OVER (ORDER BY "
        "line_no ROWS BETWEEN "
        f"UNBOUNDED PRECEDING AND CURRENT ROW) AS _seg FROM {lines}) "
        f"WHERE line NOT LIKE '#%' AND NOT {blank_sql('line')})"
    )


def _fast_base(src: SourceFile, con: duckdb.DuckDBPyConnection, lines: str,
               segment: tuple[int, dict[str, int], int], tag: str,
               shape: tuple[int, int]) -> str | None:
    """SQL over DuckDB's own CSV reader, for the usual file: one header block on top."""
    # Used only when it provably maps record k to physical line `#Fields: line + k` (no
    # later `#` or blank lines, no rejects, same count, each record's first field starting
    # its line); otherwise None and the line-by-line split takes over (it names bad lines).
    # `shape`: (lines with text after the #Fields: line, '#' or inner blank lines there).
    fields_line, index, width = segment
    if shape[1] or not shape[0]:
        return None
    path = str(src.csv_path())  # read_csv skips a UTF-8 BOM itself
    if any(c in path for c in "*?[{"):
        return None
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, width + 1)) + "}"
    table, rej = f"_msgcsv_{tag}", f"_msgrej_{tag}"
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT *, NULL::BIGINT AS _k "  # noqa: S608
            f"FROM read_csv({sql_str(path)}, auto_detect=false, header=false, skip={fields_line}, "
            f"columns={cols}, delim=',', quote='\"', escape='\"', max_line_size=20000000, "
            f"store_rejects=true, rejects_table={sql_str(rej)}, "
            f"rejects_scan={sql_str(rej + '_scan')})")
        # Record numbers from the rowid: a row_number() window would read the file on one thread.
        con.execute(f"UPDATE {table} SET _k = {rowid_number_sql(table)}")  # noqa: S608
        n_rej = con.execute(f"SELECT count(*) FROM {rej}").fetchall()[0][0]  # noqa: S608
    except duckdb.Error:
        return None
    first = f"c{index['time']}"
    ok = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE starts_with(l.line, coalesce(t.{first}, '')) "  # noqa: S608
        f"OR starts_with(l.line, '\"')) FROM {table} t LEFT JOIN {lines} l "
        f"ON l.line_no = t._k + {fields_line}").fetchall()[0]
    if n_rej or ok[0] != shape[0] or ok[1] != ok[0]:
        return None
    return (
        f"SELECT t._k + {fields_line} AS row_no, l.line AS raw, NULL::VARCHAR AS _pre_error, "
        + ", ".join(f"nullif(trim(t.c{i}), '') AS {name}" for name, i in sorted(index.items()))
        + f" FROM {table} t JOIN {lines} l ON l.line_no = t._k + {fields_line}"
    )


@register
class ExchangeMsgtrk:
    NAME = "exchange_msgtrk"
    SIDE = "trace"
    DESCRIPTION = "Exchange Server message tracking log file (MSGTRK*.LOG, MSGTRKMD*.LOG ...)"

    def sniff(self, src: SourceFile) -> float:
        text = src.text_head
        if not text.startswith("#"):
            return 0.0
        fields = _fields_line(text[:16384])
        if not fields or "event-id" not in fields.lower():
            return 0.0
        lower = text[:4096].lower()
        score = 0.9
        if "#software: microsoft exchange" in lower:
            score += 0.05
        if "#log-type: message tracking log" in lower:  # `#Log-Type` in the docs (1.2)
            score += 0.05
        return score

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        tag = src.sha256[:12]
        lines = f"_lines_{tag}"
        read_lines(src, con, lines)
        hashes = con.execute(
            f"SELECT line_no, lower(line) LIKE '#fields:%', line FROM {lines} "  # noqa: S608
            "WHERE line LIKE '#%' ORDER BY line_no").fetchall()
        headers = [(n, line) for n, is_fields, line in hashes if is_fields]
        if not headers:
            raise InputError(src.name, "no '#Fields:' line, so the columns are unknown", line=1,
                             hint="upload the log file as Exchange wrote it, header lines included")
        segments: list[tuple[int, dict[str, int], int]] = []
        for line_no, line in headers:
            names = [normalise_header(n) for n in line.split(":", 1)[1].strip().split(",")]
            index = {}
            for field, aliases in FIELDS.items():
                for alias in aliases:
                    if normalise_header(alias) in names:
                        index[field] = names.index(normalise_header(alias)) + 1
                        break
            missing = [FIELDS[f][0] for f in REQUIRED if f not in index]
            if missing:
                raise InputError(src.name, f"the '#Fields:' line has no {', '.join(missing)}",
                                 line=line_no, hint="is this a message tracking log?")
            segments.append((line_no, index, len(names)))
        present = set().union(*(set(ix) for _, ix, _ in segments))

        # One pass counts what the notes and the fast path need (line_no runs 1..n).
        first = segments[0][0]
        n_lines, n_blank, blank_after, last_text = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE b), count(*) FILTER (WHERE b AND "  # noqa: S608
            f"line_no > {first}), max(line_no) FILTER (WHERE NOT b) FROM (SELECT line_no, "
            f"{blank_sql('line')} AS b FROM {lines})").fetchall()[0]
        base = None
        if len(segments) == 1:
            # Lines after the #Fields: line that are not blank, and the '#' lines and the
            # blank lines before the last line with text among them.
            text_after = n_lines - first - blank_after
            trailing = n_lines - last_text if last_text is not None else 0
            stray = sum(1 for n, _, _ in hashes if n > first) + blank_after - trailing
            base = _fast_base(src, con, lines, segments[0], tag, (text_after, stray))
        if base is None:
            base = _line_base(lines, segments)
        notes = {"lines": n_lines, "header_lines": len(hashes), "blank_lines": n_blank,
                 "records": n_lines - len(hashes) - n_blank,
                 "fields_lines": [ln for ln, _, _ in segments]}
        return tracking_result(con, base, tag, tz="UTC", result_tz="UTC", present=present,
                               notes=notes)
