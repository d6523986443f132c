"""Shared plumbing for Posix mail logs: lines into DuckDB, the syslog prefix, years, counts.

Layouts: ../shared/formats/posix.md section 0 (prefix styles) and section 5 (quirks).
Everything here is SQL over whole columns; Python only assembles the statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from ._base import ParseOptions, ParseResult
from ._io import SourceFile
from ._tabular import rowid_number_sql, sql_str, valid_tz

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_SQL = "[" + ", ".join(sql_str(m) for m in MONTHS) + "]"

# posix.md section 0: traditional `Nov  4 10:00:17` (space-padded, rsyslog) or `Nov 04`
# (postlogd, journalctl -o short); RFC 3339 `2025-11-04T10:00:29.812345+01:00` or
# journalctl short-iso `+0100`. Then host, program (may hold `/`), optional [pid], `: `.
# Without capture groups: DuckDB extracts one group cheaply but pays per extra group, so
# the fields are cut out of the matched prefix with substr (fixed positions).
STAMP_RE = (r"(?:[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}"
            r"|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
            r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?)")
PREFIX_RE = STAMP_RE + r" \S+ [^\[:\s]+(?:\[[0-9]+\])?: ?"
SYSLOG_RE = "^" + PREFIX_RE + "(.*)$"  # for sniffing in Python (group 1 = message)

# How many unknown lines to show in the import notes.
EXAMPLES = 10


@dataclass(frozen=True)
class YearChoice:
    """The year of a log's first year-less line and where it came from."""

    year: int | None
    source: str


def read_lines(src: SourceFile, con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Read the file into TEMP TABLE `table`(line), one row per line in file order; returns
    the number of lines. Lines are numbered from their rowid (`numbered(table)`): numbering
    in SQL with row_number() OVER () would hold every line in one window (4M lines: 1.8 s).

    DuckDB's CSV reader splits on CR as well as LF, which would shift line numbers when
    a stray CR sits inside a line; files with any CR are therefore split with
    string_split (exact, but the whole text is held in memory once).
    """
    path = str(src.utf8_path())
    if _has_cr(path):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "  # noqa: S608 - path is quoted
            f"SELECT rtrim(unnest(l), chr(13)) AS line FROM ("
            f"SELECT string_split(content, chr(10)) AS l FROM read_text({sql_str(path)}))")
        # A final LF leaves one empty element behind it: not a line.
        con.execute(f"DELETE FROM {table} WHERE rowid = (SELECT max(rowid) FROM {table}) "  # noqa: S608
                    f"AND line = ''")
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "  # noqa: S608
            f"SELECT line FROM read_csv("
            f"{sql_str(path)}, columns={{'line': 'VARCHAR'}}, header=false, auto_detect=false, "
            f"delim=chr(0), quote='', escape='', new_line='\\n', strict_mode=false, "
            f"max_line_size=20000000)")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # noqa: S608


def numbered(lines: str) -> str:
    """SQL subquery: read_lines' table as (row_no, line), row_no counting from 1."""
    return f"(SELECT {rowid_number_sql(lines)} AS row_no, line FROM {lines})"


def _has_cr(path: str) -> bool:
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            if b"\r" in chunk:
                return True
    return False


def split_syslog(con: duckdb.DuckDBPyConnection, lines: str, out: str,
                 qid_re: str | None = None) -> None:
    """TEMP TABLE `out`: row_no, line, stamp fields, host, prog, moff, qid, yoff.

    The message is `substr(line, moff)`; with `qid_re` (an alternation without groups)
    `qid` is the queue ID that starts it (`QID: ...`) and `rest` starts at `qoff`.
    `yoff` counts the year boundaries crossed before a traditional stamp: a month more
    than six below the previous stamped line's month is the next year, one more than
    six above it (a late December line after January ones) steps back (posix.md s. 0).
    """
    qid = (f"nullif(regexp_extract(substr(line, moff, 40), {sql_str('^(' + qid_re + '): ')}, 1), '')"
           if qid_re else "NULL::VARCHAR")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "  # noqa: S608 - our identifiers
        f"WITH p AS (SELECT row_no, line, regexp_extract(line, {sql_str('^' + PREFIX_RE)}) AS pfx "
        f"FROM {numbered(lines)}), "
        f"q AS (SELECT *, pfx <> '' AND substr(pfx, 4, 1) = ' ' AS trad FROM p), "
        f"r AS (SELECT *, CASE WHEN pfx = '' THEN NULL WHEN trad THEN substr(pfx, 17) "
        f"ELSE substr(pfx, strpos(pfx, ' ') + 1) END AS hp FROM q), "
        f"s AS (SELECT row_no, line, "
        f"CASE WHEN trad THEN list_position({MONTHS_SQL}, substr(pfx, 1, 3)) END AS mon, "
        f"CASE WHEN trad THEN TRY_CAST(trim(substr(pfx, 5, 2)) AS INTEGER) END AS day, "
        f"CASE WHEN trad THEN substr(pfx, 8, 8) END AS hms, "
        f"CASE WHEN pfx <> '' AND NOT trad THEN substr(pfx, 1, strpos(pfx, ' ') - 1) END AS iso, "
        f"substr(hp, 1, strpos(hp, ' ') - 1) AS host, "
        # The program: after the host, up to its [pid] or colon (PREFIX_RE matched it).
        f"split_part(split_part(substr(hp, strpos(hp, ' ') + 1), ':', 1), '[', 1) AS prog, "
        f"CASE WHEN pfx <> '' THEN length(pfx) + 1 END AS moff FROM r) "
        f"SELECT *, {qid} AS qid, CASE WHEN mon IS NOT NULL THEN 0::HUGEINT END AS yoff FROM s")
    # When the log's months lie within six of each other no line crosses a year, and
    # every yoff is 0; only otherwise do the windows run, over (row_no, mon) alone
    # rather than every line's text (4M lines: benchmarks.md).
    span = con.execute(f"SELECT max(mon) - min(mon) FROM {out}").fetchall()[0][0]  # noqa: S608
    if span is not None and span > 6:
        con.execute(
            f"UPDATE {out} SET yoff = w.yoff FROM (SELECT row_no, sum(CASE WHEN mon < pm - 6 "  # noqa: S608
            f"THEN 1 WHEN mon > pm + 6 THEN -1 ELSE 0 END) OVER (ORDER BY row_no) AS yoff "
            f"FROM (SELECT row_no, mon, lag(mon IGNORE NULLS) OVER (ORDER BY row_no) AS pm "
            f"FROM {out})) w WHERE {out}.row_no = w.row_no AND {out}.mon IS NOT NULL")


def event_time_sql(tz: str, year: int | None, t: str = "") -> str:
    """SQL for a line's TIMESTAMPTZ: RFC 3339 stamps keep their offset, the rest use `year`.

    `tz` must come from valid_tz; `t` is the table alias prefix (e.g. "l.").
    """
    iso = f"{t}iso"
    with_off = (f"TRY_CAST(regexp_replace({iso}, '([+-][0-9]{{2}})([0-9]{{2}})$', '\\1:\\2') "
                f"AS TIMESTAMPTZ)")
    no_off = f"timezone({sql_str(tz)}, TRY_CAST({iso} AS TIMESTAMP))"
    iso_expr = (f"CASE WHEN regexp_matches({iso}, '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') "
                f"THEN {with_off} ELSE {no_off} END")
    if year is None:
        trad = "NULL::TIMESTAMPTZ"
    else:
        trad = (f"timezone({sql_str(tz)}, try_strptime(printf('%04d-%02d-%02d %s', "
                f"{int(year)} + {t}yoff, {t}mon, {t}day, {t}hms), '%Y-%m-%d %H:%M:%S'))")
    return f"CASE WHEN {iso} IS NOT NULL THEN {iso_expr} ELSE {trad} END"


def _naive_sql(year: str, t: str = "") -> str:
    return (f"try_strptime(printf('%04d-%02d-%02d %s', {year} + {t}yoff, {t}mon, {t}day, "
            f"{t}hms), '%Y-%m-%d %H:%M:%S')")


def has_sends(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection holds a workspace `sends` table with dated rows."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'sends' AND NOT temporary"
    ).fetchall()[0][0]
    if not found:
        return False
    return bool(con.execute("SELECT count(*) FROM sends WHERE event_time IS NOT NULL")
                .fetchall()[0][0])


# Keys the ESP stores from the receiving server's 250 reply (smtp_responses.md s. 3,
# rules 3-5): Postfix `queued as X`, Sendmail `X Message accepted`, Exim `id=X`.
SEND_KEYS_SQL = r"""
SELECT DISTINCT k AS key, event_time FROM (
  SELECT event_time, unnest([trim(remote_id),
    regexp_extract(smtp_text, 'queued as ([0-9A-Za-z]+)', 1),
    regexp_extract(smtp_text, '([0-9A-Za-z]{8}[0-9]{6,7})\s+Message accepted', 1),
    regexp_extract(smtp_text, '\bid=([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})', 1)]) AS k
  FROM sends WHERE event_time IS NOT NULL)
WHERE k IS NOT NULL AND k <> ''
"""


def choose_year(con: duckdb.DuckDBPyConnection, src: SourceFile, parsed: str, ids: str,
                tz: str, user_year: int | None) -> YearChoice:
    """The year of the first year-less line: the user's, the workspace's, the file date's.

    `parsed` is a split_syslog table; `ids` a table (row_no, qid) of the log's queue IDs.
    Workspace rule (issue 4): the year that lines the exact-ID matches up with the ESP's
    sends, else the one that brings the log's dates closest to theirs.
    """
    trad = con.execute(f"SELECT count(*) FROM {parsed} WHERE mon IS NOT NULL").fetchall()[0][0]  # noqa: S608
    if not trad:
        return YearChoice(None, "not needed (every time stamp carries its year)")
    if user_year:
        return YearChoice(int(user_year), "given by the user (--year)")
    if has_sends(con):
        got = _year_from_matches(con, parsed, ids, tz)
        if got:
            return got
        got = _year_from_closeness(con, parsed, tz)
        if got:
            return got
    return _year_from_clock(con, parsed, src)


def _year_from_matches(con: duckdb.DuckDBPyConnection, parsed: str, ids: str,
                       tz: str) -> YearChoice | None:
    z = sql_str(tz)
    rows = con.execute(
        f"WITH k AS ({SEND_KEYS_SQL}), "  # noqa: S608
        f"m AS (SELECT p.row_no, p.mon, p.day, p.hms, p.yoff, timezone({z}, k.event_time) AS st "
        f"FROM {ids} i JOIN k ON k.key = i.qid JOIN {parsed} p ON p.row_no = i.row_no "
        f"WHERE p.mon IS NOT NULL), "
        f"c AS (SELECT m.*, year(m.st) + dd.d - m.yoff AS base FROM m "
        f"CROSS JOIN (SELECT unnest([-1, 0, 1]) AS d) dd), "
        f"e AS (SELECT row_no, base, abs(epoch({_naive_sql('c.base', 'c.')}) - epoch(c.st)) AS dist "
        f"FROM c), "
        f"best AS (SELECT row_no, arg_min(base, dist) AS base FROM e WHERE dist IS NOT NULL "
        f"GROUP BY row_no) "
        f"SELECT base, count(*) AS n FROM best GROUP BY base ORDER BY n DESC, base DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    base, n = rows[0]
    return YearChoice(int(base), f"workspace: {n} queue ID(s) of this log match ESP sends")


def _year_from_closeness(con: duckdb.DuckDBPyConnection, parsed: str,
                         tz: str) -> YearChoice | None:
    z = sql_str(tz)
    rows = con.execute(
        f"WITH s AS (SELECT median(epoch(event_time)) AS mid, min(year(timezone({z}, event_time))) "  # noqa: S608
        f"AS y0, max(year(timezone({z}, event_time))) AS y1 FROM sends WHERE event_time IS NOT NULL), "
        f"f AS (SELECT * FROM {parsed} WHERE mon IS NOT NULL ORDER BY row_no LIMIT 1), "
        f"c AS (SELECT g.y, abs(epoch(timezone({z}, {_naive_sql('g.y', 'f.')})) - s.mid) AS dist "
        f"FROM s, f, LATERAL (SELECT unnest(range(s.y0 - 1, s.y1 + 2)) AS y) g) "
        f"SELECT y FROM c WHERE dist IS NOT NULL ORDER BY dist, y DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    return YearChoice(int(rows[0][0]), "workspace: closest to the dates of the ESP sends")


def _year_from_clock(con: duckdb.DuckDBPyConnection, parsed: str, src: SourceFile) -> YearChoice:
    """The last line is no later than the file's modification time (or now, for uploads)."""
    if src.mtime is not None:
        ref = dt.datetime.fromtimestamp(src.mtime)
        source = "file modification time"
    else:
        ref = dt.datetime.now()
        source = "current year (an upload carries no file date; give --year to be sure)"
    mon, day, yoff = con.execute(
        f"SELECT mon, day, yoff FROM {parsed} WHERE mon IS NOT NULL "  # noqa: S608
        f"ORDER BY row_no DESC LIMIT 1").fetchall()[0]
    # One day of slack for a zone difference between the stamps and the file date.
    limit = (ref + dt.timedelta(days=1)).date()
    try:
        last = dt.date(limit.year, mon, day)
    except ValueError:  # 29 February in a common year, or a broken day
        last = dt.date(limit.year, mon, 28)
    year = limit.year if last <= limit else limit.year - 1
    return YearChoice(year - int(yoff or 0), source)


def program_counts(con: duckdb.DuckDBPyConnection, parsed: str, where: str,
                   limit: int = 10) -> dict[str, int]:
    """The most frequent programs among lines matching `where` (for the notes)."""
    rows = con.execute(
        f"SELECT regexp_replace(prog, '[0-9]+$', '') AS p, count(*) AS n FROM {parsed} "  # noqa: S608
        f"WHERE {where} GROUP BY p ORDER BY n DESC, p LIMIT {int(limit)}").fetchall()
    return {p: int(n) for p, n in rows}


def examples(con: duckdb.DuckDBPyConnection, table: str, where: str) -> list[dict[str, Any]]:
    """A few lines (line number and text) matching `where`, for the notes."""
    rows = con.execute(
        f"SELECT row_no, left(line, 300) FROM {table} WHERE {where} "  # noqa: S608
        f"ORDER BY row_no LIMIT {EXAMPLES}").fetchall()
    return [{"line": int(r), "text": t} for r, t in rows]


def sniff_programs(text: str, programs: str) -> float:
    """Confidence that a text head is a syslog of `programs` (a regex on the program name)."""
    import re

    lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # the head may cut the last line
    if not lines:
        return 0.0
    prefix = re.compile("^" + PREFIX_RE)
    prog_re = re.compile(programs)
    matches = [prefix.match(ln) for ln in lines]
    syslog = [m for m in matches if m]
    progs = [re.match("^" + STAMP_RE + r" \S+ ([^\[:\s]+)", m.group(0)) for m in syslog]
    ours = [p for p in progs if p and prog_re.match(p.group(1))]
    if not ours or len(syslog) < 0.5 * len(lines):
        return 0.0
    return round(0.6 + 0.35 * len(ours) / len(syslog), 3)


@dataclass(frozen=True)
class Tables:
    """The temp tables of one log parse: lines, prefix split, classified lines, events."""

    lines: str
    parsed: str
    kinds: str  # row_no, line, kind (+ the parser's fields)
    events: str  # row_no + the trace columns the parser fills, without event_time


# Line kinds that carry no event; every other kind except blank/broken*/unknown is "used".
NOT_USED = ("blank", "other_daemon", "session", "context", "unknown")


# A parser's own stages: classify(con, parsed, kinds) and events(con, parsed, kinds, events),
# each creating its output table from the named input tables.
ClassifySQL = Callable[[duckdb.DuckDBPyConnection, str, str], None]
EventsSQL = Callable[[duckdb.DuckDBPyConnection, str, str, str], None]


def parse_syslog(src: SourceFile, con: duckdb.DuckDBPyConnection, opts: ParseOptions, *,
                 fmt: str, prefix: str, qid_re: str, classify: ClassifySQL, events: EventsSQL,
                 broken: dict[str, str]) -> ParseResult:
    """The pipeline a queue-ID syslog parser shares: lines, prefix split, the parser's own
    line classification (`classify(con, parsed, kinds)`), the year, the parser's events
    (`events(con, parsed, kinds, events)`), then `finish`."""
    tz = valid_tz(opts.tz, src.name)
    tag = src.sha256[:12]
    t = Tables(f"_{prefix}_l_{tag}", f"_{prefix}_p_{tag}", f"_{prefix}_m_{tag}",
               f"_{prefix}_e_{tag}")
    read_lines(src, con, t.lines)
    split_syslog(con, t.lines, t.parsed, qid_re)
    con.execute(f"DROP TABLE {t.lines}")
    classify(con, t.parsed, t.kinds)
    ids = f"_{prefix}_ids_{tag}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ids} AS SELECT qid, min(row_no) AS row_no "  # noqa: S608
                f"FROM {t.kinds} WHERE qid IS NOT NULL GROUP BY qid")
    year = choose_year(con, src, t.parsed, ids, tz, opts.year)
    con.execute(f"DROP TABLE {ids}")
    events(con, t.parsed, t.kinds, t.events)
    return finish(con, src, fmt, t, tz, year, broken)


def finish(con: duckdb.DuckDBPyConnection, src: SourceFile, fmt: str, t: Tables, tz: str,
           year: YearChoice, broken: dict[str, str]) -> ParseResult:
    """Stamp the events, fill IDs from earlier imports, reject what is broken, count lines."""
    final = f"{t.events}_f"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {final} AS SELECT e.* EXCLUDE (raw), "  # noqa: S608
        f"coalesce(e.raw, p.line) AS raw, {event_time_sql(tz, year.year, 'p.')} AS event_time "
        f"FROM {t.events} e JOIN {t.parsed} p USING (row_no)")
    con.execute(f"DROP TABLE {t.events}")
    _prefill_from_workspace(con, final, fmt)
    errors = {"broken": "not a log line: expected a time stamp, host, program[pid]: message",
              **broken}
    cases = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in errors.items())
    rejected = con.execute(
        f"SELECT row_no, p.line AS raw, CASE kind {cases} END AS error FROM {t.kinds} "  # noqa: S608
        f"JOIN {t.parsed} p USING (row_no) WHERE kind IN ({', '.join(sql_str(k) for k in errors)}) "
        f"UNION ALL SELECT row_no, raw, 'unreadable time stamp (no such date?)' FROM {final} "
        f"WHERE event_time IS NULL ORDER BY row_no").df()
    counts = dict(con.execute(f"SELECT kind, count(*) FROM {t.kinds} GROUP BY kind").fetchall())  # noqa: S608
    n = {k: int(counts.get(k, 0)) for k in NOT_USED}
    n_broken = sum(int(v) for k, v in counts.items() if k in errors)
    total = sum(int(v) for v in counts.values())
    events = dict(con.execute(f"SELECT event, count(*) FROM {final} WHERE event_time IS NOT NULL "  # noqa: S608
                              f"GROUP BY event ORDER BY event").fetchall())
    loaded = sum(int(v) for v in events.values())
    notes: dict[str, Any] = {
        "rows": "events (log lines stitched per queue ID); rows_read = events + rejected lines",
        "lines_total": total,
        "lines_used": total - sum(n.values()) - n_broken,
        "lines_context": n["session"] + n["context"],
        "lines_skipped_other_daemon": n["other_daemon"],
        "lines_unknown": n["unknown"],
        "lines_rejected": n_broken,
        "lines_blank": n["blank"],
        "events": {k: int(v) for k, v in events.items()},
        "year": year.year,
        "year_source": year.source,
    }
    if n["other_daemon"]:
        notes["skipped_programs"] = program_counts(con, t.kinds, "kind = 'other_daemon'")
    if n["unknown"]:
        notes["unknown_examples"] = examples(
            con, f"{t.kinds} JOIN {t.parsed} USING (row_no)", "kind = 'unknown'")
    for table in (t.lines, t.parsed, t.kinds):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    rows = con.sql(f"SELECT * FROM {final} WHERE event_time IS NOT NULL ORDER BY row_no")  # noqa: S608
    return ParseResult(rows=rows, rejected=rejected, rows_read=loaded + len(rejected), tz=tz,
                       notes=notes)


def _prefill_from_workspace(con: duckdb.DuckDBPyConnection, final: str, fmt: str) -> None:
    """Message-ID and sender for queue IDs whose first lines sit in an earlier-loaded file.

    A rotated log (mail.log.1 then mail.log) splits messages; Postfix logs the Message-ID
    once per queue ID (posix.md section 5). Same server, same ID, within two days.
    """
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'trace_events' "
                        "AND NOT temporary").fetchall()[0][0]
    if not found:
        return
    con.execute(
        f"UPDATE {final} e SET message_id = coalesce(e.message_id, p.message_id), "  # noqa: S608
        f"sender = coalesce(e.sender, p.sender) FROM (SELECT server, queue_id, "
        f"any_value(message_id) AS message_id, any_value(sender) AS sender, "
        f"min(event_time) AS t0, max(event_time) AS t1 FROM trace_events "
        f"WHERE format = ? AND message_id IS NOT NULL AND queue_id IN (SELECT queue_id "
        f"FROM {final} WHERE message_id IS NULL) GROUP BY server, queue_id) p WHERE e.queue_id = p.queue_id "
        f"AND e.server IS NOT DISTINCT FROM p.server AND e.message_id IS NULL "
        f"AND e.event_time BETWEEN p.t0 - INTERVAL 2 DAY AND p.t1 + INTERVAL 2 DAY", [fmt])
