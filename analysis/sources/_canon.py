"""The canonical columns of `sends` / `trace_events` as SQL over a parser's rows.

The store loads a parser's rows through these expressions (cast, lower-case, derive the
recipient domain, extract reply codes from the text). A parser that already stages its
rows in a temp table can apply them in that same statement (`canonical_sql`) and mark
its ParseResult `canonical=True`; the store's INSERT is then a plain copy, and the rows
are materialised once instead of twice (benchmarks.md, "ESP CSV ingest").
"""

from __future__ import annotations

import duckdb

from ..smtp import enhanced_code_sql, reply_code_sql
from ._base import SENDS_COLUMNS, TRACE_COLUMNS
from ._tabular import sql_ident as q
from ._tabular import sql_str


def columns_of(side: str) -> dict[str, str]:
    """The canonical columns (name -> SQL type) of a side, in table order."""
    return SENDS_COLUMNS if side == "esp" else TRACE_COLUMNS


def text_column(side: str) -> str:
    """The column whose reply text gives missing reply and enhanced codes."""
    return "smtp_text" if side == "esp" else "detail"


def column_expr(col: str, typ: str, present: dict[str, str], fmt: str, text_col: str,
                tz_sql: str = "?") -> str:
    """SQL for one canonical column: cast what the parser gave, normalise, or derive.

    Reply and enhanced codes missing from the parser's rows are extracted from the
    reply text (`text_col`) over the whole column at once. A naive TIMESTAMP
    event_time is read in the zone `tz_sql` (a bound `?` or a quoted, validated zone).
    """
    c = q(col)
    if col == "row_no":
        return c if col in present else "row_number() OVER () + 1"
    if col == "event_time":
        if col not in present:
            return "NULL::TIMESTAMPTZ"
        if present[col] == "TIMESTAMP":
            return f"timezone({tz_sql}, {c})"
        if present[col].startswith("TIMESTAMP WITH TIME ZONE") or present[col] == "TIMESTAMPTZ":
            return c
        raise TypeError(f"{fmt}: event_time must be TIMESTAMP or TIMESTAMPTZ, not {present[col]}")
    if col in ("recipient", "sender", "orig_recipient"):
        return f"nullif(lower(trim({c}::VARCHAR)), '')" if col in present else "NULL"
    if col == "recipient_domain":
        base = f"nullif(lower(trim({c}::VARCHAR)), '')" if col in present else "NULL"
        if "recipient" not in present:
            return f"coalesce({base}, NULL)"
        r = "recipient::VARCHAR"
        # The domain is what follows the first '@' that a domain character follows, up
        # to '@', '>' or RE2's \s (tab, LF, FF, CR, space). When nothing after the first
        # '@' is one of those (the usual address) that is simply the rest of the string,
        # found with strpos/contains instead of the regexp; anything else still goes
        # through the regexp, so the result is the same (compared on the bench inputs).
        d = f"substr({r}, strpos({r}, '@') + 1)"
        bad = " OR ".join(f"contains({d}, {ch})" for ch in
                          ("'@'", "'>'", "' '", "chr(9)", "chr(10)", "chr(12)", "chr(13)"))
        derived = (f"nullif(lower(trim(CASE WHEN strpos({r}, '@') > 0 AND {d} <> '' AND NOT "
                   f"({bad}) THEN {d} ELSE split_part(regexp_extract({r}, '@([^@>\\s]+)', 1), "
                   "'>', 1) END)), '')")
        return f"coalesce({base}, {derived})"
    if col == "format":
        return c if col in present else sql_str(fmt)
    if col == "smtp_code":
        own = f"TRY_CAST({c} AS INTEGER)" if col in present else "NULL::INTEGER"
        if text_col in present:
            return (f"CASE WHEN {own} IS NOT NULL THEN {own} "
                    f"ELSE {reply_code_sql(q(text_col))} END")
        return own
    if col == "enhanced_code":
        own = f"nullif(trim({c}::VARCHAR), '')" if col in present else "NULL::VARCHAR"
        if text_col in present:
            return (f"CASE WHEN {own} IS NOT NULL THEN {own} "
                    f"ELSE {enhanced_code_sql(q(text_col))} END")
        return own
    if col not in present:
        return f"NULL::{typ}"
    if typ == "VARCHAR":
        return f"nullif({c}::VARCHAR, '')"
    return f"{c}::{typ}"


def describe(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, str]:
    """Column name -> type of a query's result (binds the query, reads nothing)."""
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {sql}").fetchall()}  # noqa: S608


def canonical_sql(con: duckdb.DuckDBPyConnection, side: str, inner_sql: str, fmt: str,
                  tz: str, keep: tuple[str, ...] = ()) -> str:
    """SELECT giving the side's canonical columns (as the store loads them) from `inner_sql`.

    `tz` must come from valid_tz. `keep` names extra columns of `inner_sql` passed
    through unchanged after the canonical ones (e.g. `_error`, `_raw`).
    """
    present = describe(con, f"SELECT * FROM ({inner_sql}) _c")
    text_col = text_column(side)
    select = [f"{column_expr(c, t, present, fmt, text_col, sql_str(tz))} AS {q(c)}"
              for c, t in columns_of(side).items()]
    select += [q(k) for k in keep]
    return f"SELECT {', '.join(select)} FROM ({inner_sql}) _c"  # noqa: S608
