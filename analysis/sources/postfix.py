"""Postfix mail logs: syslog (traditional or RFC 3339 stamps) and `maillog_file` (postlogd).

Layout: ../shared/formats/posix.md sections 0, 1 and 4. The log is read as lines into
DuckDB; regular expressions split every line at once and window functions stitch each
queue ID's lines (client=, message-id=, qmgr from=, one to= line per recipient and
attempt, bounce notifications, removed) into trace events.

Rows are EVENTS, not lines: several lines make one event (the `received` event stitches
client=, message-id= and qmgr from=) and many lines make none (connect, TLS, ...). So
`rows_read` = events loaded + lines rejected, and the line accounting lives in
`notes`: lines_total = lines_used + lines_context + lines_skipped_other_daemon +
lines_unknown + lines_rejected + lines_blank (unknown lines are shown as examples).
"""

from __future__ import annotations

import duckdb

from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._syslog import parse_syslog, sniff_programs
from ._tabular import sql_str

PROGRAMS = r"^postfix[^\s/]*(/|$)"

# posix.md 1.1: short IDs are upper-case hex; long IDs are base-52 time, `z`, inode.
QID_RE = (r"NOQUEUE|[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{6,}z"
          r"[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]+")

# Postfix lines without a queue ID that carry no event (sessions, TLS, daemon start).
SESSION_RE = (
    r"^(connect from|disconnect from|lost connection|timeout after|(Anonymous|Trusted|"
    r"Untrusted|Verified) TLS connection|warning:|error:|fatal:|panic:|statistics:|"
    r"daemon started|starting the Postfix|stopping the Postfix|refreshing the Postfix|"
    r"reload|terminating on signal|too many errors|improper command pipelining|"
    r"SSL_accept error|setting up TLS|table .* has changed|(CONNECT|PASS NEW|PASS OLD|"
    r"DNSBL rank|HANGUP|WHITELISTED|ALLOWLISTED|BLACKLISTED|DENYLISTED|PREGREET|DISCONNECT|"
    r"COMMAND|NON-SMTP|BARE NEWLINE|PASS) |NOQUEUE: (reject_warning|warn|info):|"
    r"Postfix is running|the Postfix mail system is|connect to |conversation with |"
    r"host \S+ (said|refused)|lost connection with|Connection refused)"
)
# Lines with a queue ID that belong to a message but make no event (posix.md 1.2).
CONTEXT_RE = (
    r"^(reject_warning|warning|warn|info|replace|prepend|bcc|strip|milter-[a-z-]+|"
    r"resent-message-id=|host |lost connection|conversation with|connect to |enabling |"
    r"Cannot start TLS|SASL|passing |skipped|placed on hold|released from hold|requeued|"
    r"expired|sender (delivery status|delay) notification|postmaster|cancelled|"
    r"tls|TLS|orig_queue_id|address not listed|delay notification|client=)"
)
# Actions from access maps (smtpd, postscreen) and header/body checks (cleanup).
ACTION_RE = r"^(reject|milter-reject|hold|discard|redirect|filter): (.*)$"
SMTPD_ACTION_RE = (r"^([A-Z-]+) from (\S*?\[[^\]]*\](?::[0-9]+)?): (.*?)"
                   r"(?:; (?:from=<([^>]*)>,? to=<([^>]*)>|proto=).*)?$")
CLEANUP_ACTION_RE = (r"^(header|body|[A-Za-z-]+) (.*?)(?: from ([^ ;]+))?; from=<([^>]*)>,? "
                     r"to=<([^>]*)>(?:,? proto=[^ :]+)?(?:,? helo=<[^>]*>)?(?:: (.*))?$")
DELIVERY_RE = (r"^to=<([^>]*)>, (?:orig_to=<([^>]*)>, )?relay=([^,]*), (?:[a-z_]+=[^,]*, )*?"
               r"(?:dsn=([0-9]\.[0-9]{1,3}\.[0-9]{1,3}), )?status=([A-Za-z-]+)(?: (.*))?$")
_DL = (f"regexp_extract(rest, {sql_str(DELIVERY_RE)}, "
       f"['to', 'orig', 'relay', 'dsn', 'status', 'reply'])")
NOTIFY_RE = r"^(sender|postmaster) (non-delivery|delivery status|delay) notification: ([0-9A-Za-z]+)"


@register
class PostfixLog:
    NAME = "postfix"
    SIDE = "trace"
    DESCRIPTION = ("Postfix mail log (syslog with traditional or RFC 3339 stamps, or "
                   "maillog_file), stitched per queue ID")

    def sniff(self, src: SourceFile) -> float:
        if src.is_zip:
            return 0.0
        return sniff_programs(src.text_head, PROGRAMS)

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        return parse_syslog(src, con, opts, fmt=self.NAME, prefix="pf", qid_re=QID_RE,
                            classify=_classify, events=_events,
                            broken={"broken_delivery": "Postfix to= line without status= (cut short?)"})


def _classify(con: duckdb.DuckDBPyConnection, parsed: str, out: str) -> None:
    """TEMP TABLE `out`: every line's kind and fields (NULL where a field does not apply)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "  # noqa: S608
        f"WITH b AS (SELECT row_no, host, prog, qid, line, "
        f"CASE WHEN qid IS NOT NULL THEN substr(line, moff + length(qid) + 2) END AS rest, "
        f"CASE WHEN moff IS NULL THEN (CASE WHEN trim(coalesce(line, '')) = '' THEN 'blank' "
        f"ELSE 'broken' END) "
        f"WHEN NOT regexp_matches(prog, {sql_str(PROGRAMS)}) THEN 'other_daemon' "
        f"WHEN qid IS NULL THEN CASE WHEN regexp_matches(substr(line, moff), {sql_str(SESSION_RE)}) "
        f"THEN 'session' ELSE 'unknown' END END AS k0 FROM {parsed}), "
        f"k AS (SELECT row_no, host, prog, nullif(qid, 'NOQUEUE') AS qid, rest, line, coalesce(k0, CASE "
        f"WHEN starts_with(rest, 'to=<') THEN 'delivery' "
        f"WHEN starts_with(rest, 'client=') AND qid <> 'NOQUEUE' THEN 'client' "
        f"WHEN starts_with(rest, 'message-id=') THEN 'msgid' "
        f"WHEN starts_with(rest, 'from=<') AND contains(rest, ', status=') THEN 'expired' "
        f"WHEN starts_with(rest, 'from=<') THEN 'qmgr' "
        f"WHEN starts_with(rest, 'uid=') THEN 'pickup' "
        f"WHEN rest = 'removed' THEN 'removed' "
        f"WHEN regexp_matches(rest, {sql_str(NOTIFY_RE)}) THEN 'notify' "
        f"WHEN regexp_matches(rest, {sql_str(ACTION_RE)}) THEN 'action' "
        f"WHEN regexp_matches(rest, {sql_str(CONTEXT_RE)}) THEN 'context' "
        f"ELSE 'unknown' END) AS kind FROM b) "
        f"SELECT row_no, host, qid, kind, CASE WHEN kind = 'other_daemon' THEN prog END AS prog, "
        f"CASE WHEN kind = 'delivery' THEN regexp_extract(prog, '([^/]+)$', 1) END AS service, "
        f"CASE WHEN kind = 'delivery' THEN {_DL} END AS dl, "
        f"CASE WHEN kind = 'action' THEN regexp_extract(rest, {sql_str(ACTION_RE)}, ['act', 'body']) "
        f"END AS ac, CASE WHEN kind IN ('qmgr', 'pickup', 'expired') "
        f"THEN regexp_extract(rest, 'from=<([^>]*)>', 1) END AS sender, "
        f"CASE WHEN kind = 'client' THEN split_part(substr(rest, 8), ',', 1) END AS client, "
        f"CASE WHEN kind = 'msgid' THEN nullif(trim(substr(rest, 12)), '') END AS msgid, "
        f"CASE WHEN kind = 'notify' THEN regexp_extract(rest, {sql_str(NOTIFY_RE)}, ['who', 'what', 'id']) "
        f"END AS nt, "
        f"CASE WHEN kind = 'expired' THEN regexp_extract(rest, ', status=(.*)$', 1) END AS expired, "
        # The lines of a `received` event (its raw), kept here so no join fetches them.
        f"CASE WHEN kind IN ('client', 'msgid', 'pickup', 'qmgr') THEN line END AS recv_line, "
        f"0 AS inst FROM k")
    _number_instances(con, out)
    # A to= line without status= (cut at 2,000 characters, posix.md 1.2) cannot be an event.
    con.execute(f"UPDATE {out} SET kind = 'broken_delivery' "  # noqa: S608
                f"WHERE kind = 'delivery' AND dl.status = ''")


def _number_instances(con: duckdb.DuckDBPyConnection, m: str) -> None:
    """Number the lives of a re-used queue ID (posix.md 1.1): `removed` ends one life.

    The window runs only when some ID has lines after its first `removed` line.
    """
    reused = con.execute(
        f"SELECT count(*) FROM (SELECT max(row_no) AS last, min(row_no) FILTER "  # noqa: S608
        f"(WHERE kind = 'removed') AS gone FROM {m} WHERE qid IS NOT NULL GROUP BY host, qid) "
        f"WHERE last > gone").fetchall()[0][0]
    if reused:
        con.execute(
            f"UPDATE {m} SET inst = w.inst FROM (SELECT row_no, coalesce(sum(CASE WHEN kind = "  # noqa: S608
            f"'removed' THEN 1 END) OVER (PARTITION BY host, qid ORDER BY row_no ROWS BETWEEN "
            f"UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS inst FROM {m} WHERE qid IS NOT NULL) w "
            f"WHERE {m}.row_no = w.row_no AND w.inst > 0")


_SENT_DELIVERED = (
    "(d.relay IN ('local', 'virtual') OR d.service IN ('local', 'virtual', 'pipe') "
    "OR d.reply LIKE 'delivered to %' OR d.reply LIKE 'delivered via %' "
    "OR d.relay LIKE '%[private/%' OR d.relay LIKE '%[public/%' OR d.relay LIKE '%[/%' "
    "OR (d.relay NOT LIKE '%[%' AND d.relay <> 'none'))"
)


def _events(con: duckdb.DuckDBPyConnection, parsed: str, m: str, out: str) -> None:
    """TEMP TABLE `out`: trace events stitched per queue-ID instance (posix.md 1.2-1.3, 4)."""
    inst = f"{out}_i"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {inst} AS SELECT host, qid, inst, "  # noqa: S608
        f"arg_min(msgid, row_no) FILTER (WHERE msgid IS NOT NULL) AS message_id, "
        f"arg_min(client, row_no) FILTER (WHERE kind = 'client') AS client, "
        f"coalesce(arg_min(sender, row_no) FILTER (WHERE kind = 'qmgr'), "
        f"arg_min(sender, row_no) FILTER (WHERE kind = 'pickup')) AS sender, "
        f"arg_min(nt.id, row_no) FILTER (WHERE kind = 'notify' AND nt.what = 'non-delivery') "
        f"AS ndr_id, min(row_no) FILTER (WHERE kind = 'qmgr') AS recv_row, "
        f"string_agg(recv_line, chr(10) ORDER BY row_no) FILTER (WHERE kind IN "
        f"('client', 'msgid', 'pickup', 'qmgr')) AS recv_raw "
        f"FROM {m} WHERE qid IS NOT NULL AND kind IN ('client', 'msgid', 'qmgr', 'pickup', 'notify') "
        f"GROUP BY host, qid, inst")
    reply = "regexp_replace(dl.reply, '^\\((.*)\\)$', '\\1')"
    queued_as = "nullif(regexp_extract(d.reply, 'queued as ([0-9A-Za-z]+)\\)?$', 1), '')"
    sent = (f"CASE WHEN d.service = 'discard' THEN 'dropped' WHEN {queued_as} IS NOT NULL "
            f"THEN 'forwarded' WHEN {_SENT_DELIVERED} THEN 'delivered' ELSE 'forwarded' END")
    status_event = (
        f"CASE d.status WHEN 'sent' THEN {sent} WHEN 'deferred' THEN 'deferred' "
        f"WHEN 'bounced' THEN 'bounced' WHEN 'expired' THEN 'bounced' "
        f"WHEN 'force-expired' THEN 'bounced' ELSE 'other' END")
    acts = _actions(con, m, out)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "  # noqa: S608
        # received: the first qmgr from= line of each instance, with the lines before it
        f"SELECT i.recv_row AS row_no, i.host AS server, i.qid AS queue_id, i.message_id, "
        f"i.sender, NULL::VARCHAR AS recipient, NULL::VARCHAR AS orig_recipient, "
        f"'received' AS event, NULL::VARCHAR AS enhanced_code, NULL::VARCHAR AS detail, "
        f"NULL::VARCHAR AS related_id, i.client, NULL::VARCHAR AS relay, i.recv_raw AS raw "
        f"FROM {inst} i WHERE i.recv_row IS NOT NULL "
        # one event per to= line (recipient and attempt)
        f"UNION ALL SELECT d.row_no, d.host, d.qid, i.message_id, i.sender, d.to, d.orig, "
        f"{status_event}, nullif(d.dsn, ''), d.reply, "
        f"CASE WHEN d.status = 'sent' THEN {queued_as} WHEN d.status IN ('bounced', 'expired', "
        f"'force-expired') THEN i.ndr_id END, i.client, d.relay, NULL "
        f"FROM (SELECT row_no, host, qid, inst, service, dl.to AS to, "
        f"nullif(dl.orig, '') AS orig, dl.relay AS relay, dl.dsn AS dsn, dl.status AS status, "
        f"{reply} AS reply FROM {m} WHERE kind = 'delivery') d "
        f"LEFT JOIN {inst} i USING (host, qid, inst) "
        # qmgr expired / force-expired: one event per recipient seen for that instance
        f"UNION ALL SELECT x.row_no, x.host, x.qid, i.message_id, coalesce(x.sender, i.sender), "
        f"r.to, r.orig, 'bounced', NULL, x.expired, i.ndr_id, i.client, NULL, NULL "
        f"FROM {m} x LEFT JOIN {inst} i USING (host, qid, inst) "
        f"LEFT JOIN (SELECT DISTINCT host, qid, inst, dl.to AS to, nullif(dl.orig, '') AS orig "
        f"FROM {m} WHERE kind = 'delivery' AND dl.status <> 'sent') r USING (host, qid, inst) "
        f"WHERE x.kind = 'expired' "
        # access-map and header/body-check actions, with or without a queue ID
        f"UNION ALL SELECT a.row_no, a.host, a.qid, i.message_id, coalesce(a.sender, i.sender), "
        f"a.to, NULL, a.event, NULL, a.detail, NULL, coalesce(a.client, i.client), NULL, NULL "
        f"FROM {acts} a LEFT JOIN {inst} i USING (host, qid, inst)")
    con.execute(f"DROP TABLE {acts}")
    con.execute(f"DROP TABLE {inst}")


def _actions(con: duckdb.DuckDBPyConnection, m: str, out: str) -> str:
    """TEMP TABLE of reject/hold/discard lines: smtpd `STAGE from client: reply; from= to=`
    or cleanup `header|body text from client; from= to= ...: text` (posix.md 1.2)."""
    acts = f"{out}_a"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {acts} AS "  # noqa: S608
        f"WITH a AS (SELECT row_no, host, qid, inst, ac.act AS act, ac.body AS body, "
        f"regexp_matches(ac.body, '^[A-Z-]+ from ') AS smtpd FROM {m} WHERE kind = 'action'), "
        f"b AS (SELECT *, CASE WHEN smtpd THEN regexp_extract(body, {sql_str(SMTPD_ACTION_RE)}, "
        f"['stage', 'client', 'reply', 'sender', 'to']) END AS sm, "
        f"CASE WHEN NOT smtpd THEN regexp_extract(body, {sql_str(CLEANUP_ACTION_RE)}, "
        f"['where', 'what', 'client', 'sender', 'to', 'text']) END AS cl FROM a), "
        f"c AS (SELECT row_no, host, qid, inst, act, "
        f"CASE WHEN smtpd THEN nullif(sm.reply, '') "
        f"ELSE act || ': ' || coalesce(nullif(cl.where, ''), 'content') || ' check' "
        f"|| coalesce(': ' || nullif(cl.text, ''), '') END AS detail, "
        f"CASE WHEN smtpd THEN nullif(sm.reply, '') ELSE nullif(cl.text, '') END AS reply, "
        f"nullif(CASE WHEN smtpd THEN sm.client ELSE cl.client END, '') AS client, "
        f"nullif(CASE WHEN smtpd THEN sm.sender ELSE cl.sender END, '') AS sender, "
        f"nullif(CASE WHEN smtpd THEN sm.to ELSE cl.to END, '') AS to FROM b) "
        f"SELECT *, CASE act WHEN 'hold' THEN 'held' WHEN 'discard' THEN 'dropped' "
        f"WHEN 'redirect' THEN 'other' WHEN 'filter' THEN 'other' "
        # A 4xx refusal is temporary: the sender retries (greylisting, STORY.md M12).
        f"ELSE CASE WHEN regexp_matches(coalesce(reply, ''), '^4') THEN 'deferred' "
        f"ELSE 'rejected' END END AS event FROM c")
    return acts
