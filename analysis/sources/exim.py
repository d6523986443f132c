"""Exim main log (`mainlog`, or Exim lines in a syslog), stitched per Exim message id.

Layout: ../shared/formats/posix.md sections 3 and 4. Each `<=` arrival is a `received`
event (sender, Message-ID from `id=`, client `H=`), each `=>`/`->`/`>>`/`**`/`==` line
an event for its recipient, `rejected RCPT` / `rejected after DATA` lines rejections.
As in postfix.py rows are EVENTS: `rows_read` = events loaded + lines rejected, and
line counts are in the notes.
"""

from __future__ import annotations

import re

import duckdb

from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._syslog import (
    Tables,
    YearChoice,
    choose_year,
    finish,
    numbered,
    read_lines,
    sniff_programs,
    split_syslog,
)
from ._tabular import sql_str, valid_tz

# posix.md 3.2: local time, optional milliseconds, optional +HHMM (log_timezone),
# optional [pid] (log selector +pid).
MAINLOG_RE = (r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?)"
              r"(?: ([+-][0-9]{4}))?(?: \[[0-9]+\])? (.*)$")
MAINLOG_PREFIX_RE = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?"
                     r"(?: [+-][0-9]{4})?(?: \[[0-9]+\])? ")
PROGRAMS = r"^exim[0-9]*$"
# posix.md 3.1: 6-11-4 (Exim >= 4.97) or 6-6-2 base-62 ids.
XID = r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}"
ID_RE = r"^(" + XID + r") (.*)$"
FLAG_RE = r"^(<=|\(=|=>|->|>>|\*>|\*\*|==) (.*)$"
HOST_RE = r"\bH=(\S+(?: \([^)]*\))? \[[^\]]+\](?::[0-9]+)?|\([^)]*\) \[[^\]]+\](?::[0-9]+)?)"
ADDR_RE = r"^(\S+)(?: \(([^)]*)\))?(?: <([^>]*)>)?"
DATA_REJECT_RE = r"(temporarily rejected|rejected) after DATA(?: \([^)]*\))?: (.*)$"
RCPT_REJECT_RE = r"(temporarily rejected|rejected) (RCPT|MAIL) <?([^>:\s]*)>?: (.*)$"
CONTEXT_RE = (r"^(Completed|Frozen|Unfrozen|Message is frozen|SMTP error from remote|"
              r"retry time not reached|Spool file is locked|removed by|cancelled by|"
              r"error ignored|SMTP connection|no immediate delivery|Remote host|H=|DKIM|"
              r"SA:|routing defer|timed out|TLS|Warning|warning|ignoring|ident|"
              r"SMTP data timeout|lost connection|== |\*\* |tls)")
SESSION_RE = (r"^(TLS error|SMTP connection|SMTP command timeout|no MAIL in SMTP connection|"
              r"unexpected disconnection|Start queue run|End queue run|exim [0-9.]+ daemon|"
              r"SMTP protocol|SMTP call from|no host name found|H=|Connection from|DKIM|"
              r"SMTP syntax error|rejected|TLS|SMTP data timeout|cwd=|[0-9]+ messages? |"
              r"Warning|warning|daemon|pid|LOG:|host name alias|Failed to|Spool|"
              r"lowest numbered|listening|queue run)")


def _is_mainlog(text: str) -> bool:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return bool(re.match(MAINLOG_RE, first))


@register
class EximLog:
    NAME = "exim"
    SIDE = "trace"
    DESCRIPTION = "Exim main log (mainlog, or Exim lines in a syslog), stitched per message id"

    def sniff(self, src: SourceFile) -> float:
        if src.is_zip:
            return 0.0
        text = src.text_head
        if not _is_mainlog(text):
            return sniff_programs(text, PROGRAMS)
        lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
        ours = [ln for ln in lines if (m := re.match(MAINLOG_RE, ln))
                and (re.match(ID_RE, m.group(4)) or re.match(SESSION_RE, m.group(4)))]
        if len(ours) < 0.5 * len(lines):
            return 0.0
        return round(0.6 + 0.35 * len(ours) / len(lines), 3)

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        tz = valid_tz(opts.tz, src.name)
        tag = src.sha256[:12]
        lines, parsed, m = f"_ex_l_{tag}", f"_ex_p_{tag}", f"_ex_m_{tag}"
        read_lines(src, con, lines)
        mainlog = _is_mainlog(src.text_head)
        (_split_mainlog if mainlog else split_syslog)(con, lines, parsed)
        con.execute(f"DROP TABLE {lines}")
        _classify(con, parsed, m)
        if mainlog:
            year = YearChoice(None, "not needed (every time stamp carries its year)")
        else:
            ids = f"_ex_ids_{tag}"
            con.execute(f"CREATE OR REPLACE TEMP TABLE {ids} AS SELECT xid AS qid, "  # noqa: S608
                        f"min(row_no) AS row_no FROM {m} WHERE xid IS NOT NULL GROUP BY xid")
            year = choose_year(con, src, parsed, ids, tz, opts.year)
            con.execute(f"DROP TABLE {ids}")
        events = f"_ex_e_{tag}"
        _events(con, m, events)
        return finish(con, src, self.NAME, Tables(lines, parsed, m, events), tz, year, {})


def _split_mainlog(con: duckdb.DuckDBPyConnection, lines: str, out: str) -> None:
    """TEMP TABLE `out` shaped like split_syslog's, from mainlog stamps (which have a year)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "  # noqa: S608
        f"SELECT row_no, line, NULL::INTEGER AS mon, NULL::INTEGER AS day, NULL::VARCHAR AS hms, "
        f"CASE WHEN pfx <> '' THEN regexp_replace(trim(pfx), '^(\\S+) (\\S+)(?: ([+-][0-9]{{4}}))?"
        f"(?: \\[[0-9]+\\])?$', '\\1T\\2\\3') END AS iso, NULL::VARCHAR AS host, "
        f"CASE WHEN pfx <> '' THEN 'exim' END AS prog, "
        f"CASE WHEN pfx <> '' THEN length(pfx) + 1 END AS moff, NULL::VARCHAR AS qid, "
        f"NULL::BIGINT AS yoff FROM (SELECT row_no, line, "
        f"regexp_extract(line, {sql_str(MAINLOG_PREFIX_RE)}) AS pfx FROM {numbered(lines)})")


def _classify(con: duckdb.DuckDBPyConnection, parsed: str, out: str) -> None:
    """TEMP TABLE `out`: every line's kind and the fields of its kind."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "  # noqa: S608
        f"WITH q AS (SELECT row_no, host, prog, line, moff, "
        f"nullif(regexp_extract(substr(line, moff, 40), {sql_str('^(' + XID + ') ')}, 1), '') AS xid "
        f"FROM {parsed}), "
        f"r AS (SELECT *, CASE WHEN xid IS NOT NULL THEN substr(line, moff + length(xid) + 1) "
        f"ELSE substr(line, moff) END AS rest FROM q), "
        f"k AS (SELECT row_no, host, prog, xid, rest, "
        f"CASE WHEN moff IS NULL THEN (CASE WHEN trim(coalesce(line, '')) = '' THEN 'blank' "
        f"ELSE 'broken' END) "
        f"WHEN NOT regexp_matches(prog, {sql_str(PROGRAMS)}) THEN 'other_daemon' "
        f"WHEN xid IS NOT NULL AND regexp_matches(rest, {sql_str(FLAG_RE)}) THEN 'flag' "
        f"WHEN xid IS NOT NULL AND regexp_matches(rest, {sql_str(DATA_REJECT_RE)}) THEN 'data_reject' "
        f"WHEN xid IS NOT NULL AND regexp_matches(rest, {sql_str(CONTEXT_RE)}) THEN 'context' "
        f"WHEN xid IS NULL AND regexp_matches(rest, {sql_str(RCPT_REJECT_RE)}) THEN 'rcpt_reject' "
        f"WHEN xid IS NULL AND regexp_matches(rest, {sql_str(SESSION_RE)}) THEN 'session' "
        f"ELSE 'unknown' END AS kind FROM r) "
        f"SELECT row_no, host, xid, kind, CASE WHEN kind = 'other_daemon' THEN prog END AS prog, "
        f"CASE WHEN kind IN ('data_reject', 'rcpt_reject') THEN rest END AS rest, "
        f"CASE WHEN kind = 'flag' THEN regexp_extract(rest, {sql_str(FLAG_RE)}, "
        f"['flag', 'body']) END AS fl, "
        f"CASE WHEN kind IN ('flag', 'data_reject', 'rcpt_reject') THEN "
        f"nullif(regexp_extract(rest, {sql_str(HOST_RE)}, 1), '') END AS h, "
        f"CASE WHEN kind IN ('data_reject', 'rcpt_reject') THEN "
        f"nullif(regexp_extract(rest, '\\bF=<([^>]*)>', 1), '') END AS f FROM k")


def _events(con: duckdb.DuckDBPyConnection, m: str, out: str) -> None:
    """TEMP TABLE `out`: arrivals, one event per delivery line, rejections (posix.md 3.2)."""
    arr = f"{out}_a"
    # Arrivals: sender, Message-ID (`id=`, without brackets in Exim), and for bounce
    # messages (`<= <> R=orig`) the id of the message they report on.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {arr} AS SELECT xid, row_no, "  # noqa: S608
        f"nullif(nullif(regexp_extract(fl.body, '^(\\S+)', 1), '<>'), '') AS sender, h AS client, "
        f"nullif('<' || trim(regexp_extract(fl.body, '\\bid\\*?=(\\S+)', 1), '<>') || '>', '<>') "
        f"AS message_id, nullif(regexp_extract(fl.body, '\\bR=(\\S+)', 1), '') AS about "
        f"FROM {m} WHERE kind = 'flag' AND fl.flag IN ('<=', '(=')")
    per_x = (f"(SELECT xid, arg_min(message_id, row_no) AS message_id, arg_min(sender, row_no) "
             f"AS sender, arg_min(client, row_no) AS client FROM {arr} GROUP BY xid)")
    bounces = f"(SELECT about AS xid, min(xid) AS bounce_id FROM {arr} WHERE sender IS NULL " \
              f"AND about IS NOT NULL GROUP BY about)"
    addr = f"regexp_extract(d.body, {sql_str(ADDR_RE)}, ['a', 'parent', 'orig'])"
    conf = "replace(regexp_extract(d.body, '\\bC=\"((?:[^\"\\\\]|\\\\.)*)\"', 1), '\\\"', '\"')"
    transport = "regexp_extract(d.body, '\\bT=(\\S+)', 1)"
    ok_event = (f"CASE WHEN regexp_matches({transport}, '(?i)smtp') AND NOT "
                f"regexp_matches({transport}, '(?i)lmtp') AND d.h IS NOT NULL "
                f"THEN 'forwarded' ELSE 'delivered' END")
    event = (f"CASE d.flag WHEN '**' THEN 'bounced' WHEN '==' THEN 'deferred' "
             f"WHEN '*>' THEN 'other' ELSE {ok_event} END")
    next_id = ("coalesce(nullif(regexp_extract(d.c, 'queued as ([0-9A-Za-z]+)', 1), ''), "
               "nullif(regexp_extract(d.c, '([0-9A-Za-z]{8}[0-9]{6,7}) Message accepted', 1), ''), "
               "nullif(regexp_extract(d.c, 'id=([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})', "
               "1), ''))")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "  # noqa: S608
        f"SELECT a.row_no, NULL::VARCHAR AS server, a.xid AS queue_id, a.message_id, a.sender, "
        f"NULL::VARCHAR AS recipient, NULL::VARCHAR AS orig_recipient, 'received' AS event, "
        f"NULL::VARCHAR AS enhanced_code, NULL::VARCHAR AS detail, NULL::VARCHAR AS related_id, "
        f"a.client, NULL::VARCHAR AS relay, NULL::VARCHAR AS raw FROM {arr} a "
        f"UNION ALL SELECT d.row_no, d.host, d.xid, x.message_id, x.sender, "
        f"CASE WHEN d.ad.a LIKE '%@%' OR d.ad.orig = '' THEN d.ad.a ELSE d.ad.orig END, "
        f"CASE WHEN d.ad.orig <> '' AND d.ad.a LIKE '%@%' AND d.ad.orig <> d.ad.a THEN d.ad.orig "
        f"WHEN d.ad.parent LIKE '%@%' THEN d.ad.parent END, {event}, NULL, "
        f"CASE WHEN d.flag IN ('**', '==') THEN nullif(regexp_extract(d.body, ': (.*)$', 1), '') "
        f"ELSE nullif(d.c, '') END, "
        f"CASE WHEN d.flag = '**' THEN b.bounce_id ELSE {next_id} END, x.client, d.h, NULL "
        f"FROM (SELECT d.*, {addr} AS ad, {conf} AS c FROM (SELECT row_no, host, xid, h, "
        f"fl.flag AS flag, fl.body AS body FROM {m} WHERE kind = 'flag' "
        f"AND fl.flag NOT IN ('<=', '(=')) d) d "
        f"LEFT JOIN {per_x} x USING (xid) LEFT JOIN {bounces} b USING (xid) "
        # content rejected after DATA: no recipient on the line (STORY.md M14)
        f"UNION ALL SELECT r.row_no, r.host, r.xid, x.message_id, coalesce(r.f, x.sender), NULL, "
        f"NULL, CASE WHEN r.dr.how LIKE 'temporarily%' THEN 'deferred' ELSE 'rejected' END, NULL, "
        f"r.dr.text, NULL, coalesce(r.h, x.client), NULL, NULL FROM (SELECT *, "
        f"regexp_extract(rest, {sql_str(DATA_REJECT_RE)}, ['how', 'text']) AS dr FROM {m} "
        f"WHERE kind = 'data_reject') r LEFT JOIN {per_x} x USING (xid) "
        # RCPT / MAIL refused in the SMTP session (no message id yet)
        f"UNION ALL SELECT r.row_no, r.host, NULL, NULL, CASE WHEN r.rr.cmd = 'MAIL' "
        f"THEN nullif(r.rr.addr, '') ELSE r.f END, CASE WHEN r.rr.cmd = 'RCPT' "
        f"THEN nullif(r.rr.addr, '') END, NULL, CASE WHEN r.rr.how LIKE 'temporarily%' "
        f"THEN 'deferred' ELSE 'rejected' END, NULL, r.rr.text, NULL, r.h, NULL, NULL "
        f"FROM (SELECT *, regexp_extract(rest, {sql_str(RCPT_REJECT_RE)}, ['how', 'cmd', 'addr', "
        f"'text']) AS rr FROM {m} WHERE kind = 'rcpt_reject') r")
    con.execute(f"DROP TABLE {arr}")
