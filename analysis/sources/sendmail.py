"""Sendmail mail logs via syslog (sendmail, sm-mta, sm-msp-queue), stitched per queue ID.

Layout: ../shared/formats/posix.md sections 0, 2 and 4. As for Postfix (see postfix.py)
rows are EVENTS: the `from=` line is the `received` event (Message-ID, sender, client),
each recipient of a `to=` line one delivery event, `ruleset=... reject=` lines rejections.
`rows_read` = events loaded + lines rejected; line counts are in the notes.
"""

from __future__ import annotations

import duckdb

from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._syslog import parse_syslog, sniff_programs
from ._tabular import sql_str

PROGRAMS = r"^(sendmail|sm-mta|sm-msp-queue|sm-[a-z0-9-]+)$"

# posix.md 2.1: six time characters, two sequence characters, a 6-7 digit process ID.
QID_RE = r"NOQUEUE|[0-9A-Za-z]{8}[0-9]{6,8}"
FROM_RE = r"^from=<?([^,>]*)>?, .*?(?:msgid=(<[^>]*>)|$)"
# posix.md 2.2: to, ctladdr, delay, xdelay, mailer, pri, relay, dsn, reply (8.17), stat.
TO_RE = (r"^to=(.*?), (?:ctladdr=.*?, )?delay=[^,]*, (?:xdelay=[^,]*, )?mailer=([^,]*), "
         r"(?:pri=[^,]*, )?(?:relay=([^,]*), )?(?:dsn=([0-9.]+), )?(?:reply=(.*?), )?stat=(.*)$")
NOTIFY_RE = r"^([0-9A-Za-z]{8}[0-9]{6,8}): (DSN|postmaster notify|return to sender|sender notify): "
CONTEXT_RE = (r"^(Milter|milter|lost input channel|timeout waiting|collect:|--- |clone|"
              r"done|discarded|setsender|headers too large|Authentication-Warning|"
              r"SYSERR|STARTTLS|AUTH=|tls_|<|did not issue|alias database|"
              r"[0-9A-Za-z]{8}[0-9]{6,8}: (sender|postmaster|return|DSN))")
# Mailers that hand the message to a program or a mailbox on this host.
SMTP_MAILERS = "('esmtp', 'smtp', 'smtp8', 'dsmtp', 'relay', 'esmtp-tls', 'uucp-dom')"


@register
class SendmailLog:
    NAME = "sendmail"
    SIDE = "trace"
    DESCRIPTION = "Sendmail mail log via syslog (sendmail / sm-mta lines), stitched per queue ID"

    def sniff(self, src: SourceFile) -> float:
        if src.is_zip:
            return 0.0
        return sniff_programs(src.text_head, PROGRAMS)

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        return parse_syslog(src, con, opts, fmt=self.NAME, prefix="sm", qid_re=QID_RE,
                            classify=_classify, events=_events,
                            broken={"broken_delivery":
                                    "Sendmail to= line without mailer=/stat= (cut short?)"})


def _classify(con: duckdb.DuckDBPyConnection, parsed: str, out: str) -> None:
    """TEMP TABLE `out`: every line's kind and the fields of its kind."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "  # noqa: S608
        f"WITH q AS (SELECT row_no, host, prog, line, moff, nullif(qid, 'NOQUEUE') AS qid, "
        f"CASE WHEN qid IS NOT NULL THEN substr(line, moff + length(qid) + 2) "
        f"ELSE substr(line, moff) END AS rest FROM {parsed}), "
        f"k AS (SELECT row_no, host, prog, qid, rest, "
        f"CASE WHEN moff IS NULL THEN (CASE WHEN trim(coalesce(line, '')) = '' THEN 'blank' "
        f"ELSE 'broken' END) "
        f"WHEN NOT regexp_matches(prog, {sql_str(PROGRAMS)}) THEN 'other_daemon' "
        f"WHEN contains(rest, 'reject=') THEN 'reject' "
        f"WHEN qid IS NULL THEN 'session' "
        f"WHEN starts_with(rest, 'from=') THEN 'from' "
        f"WHEN starts_with(rest, 'to=') THEN 'delivery' "
        f"WHEN regexp_matches(rest, {sql_str(NOTIFY_RE)}) THEN 'notify' "
        f"WHEN regexp_matches(rest, {sql_str(CONTEXT_RE)}) THEN 'context' "
        f"ELSE 'unknown' END AS kind FROM q) "
        f"SELECT row_no, host, qid, kind, CASE WHEN kind = 'other_daemon' THEN prog END AS prog, "
        f"CASE WHEN kind = 'reject' THEN rest END AS rest, "
        f"CASE WHEN kind = 'from' THEN regexp_extract(rest, {sql_str(FROM_RE)}, "
        f"['sender', 'msgid']) END AS fr, "
        f"CASE WHEN kind = 'from' THEN nullif(regexp_extract(rest, ', relay=(.*)$', 1), '') "
        f"END AS client, "
        f"CASE WHEN kind = 'delivery' THEN regexp_extract(rest, {sql_str(TO_RE)}, ['to', 'mailer', "
        f"'relay', 'dsn', 'reply', 'stat']) END AS dl, "
        f"CASE WHEN kind = 'notify' THEN regexp_extract(rest, {sql_str(NOTIFY_RE)}, 1) END AS notify_id "
        f"FROM k")
    con.execute(f"UPDATE {out} SET kind = 'broken_delivery' "  # noqa: S608
                f"WHERE kind = 'delivery' AND dl.stat = ''")


def _events(con: duckdb.DuckDBPyConnection, parsed: str, m: str, out: str) -> None:
    """TEMP TABLE `out`: received, one event per recipient of each to= line, rejections."""
    per_q = f"{out}_q"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {per_q} AS SELECT host, qid, "  # noqa: S608
        f"arg_min(nullif(fr.msgid, ''), row_no) FILTER (WHERE kind = 'from') AS message_id, "
        f"arg_min(nullif(fr.sender, ''), row_no) FILTER (WHERE kind = 'from') AS sender, "
        f"arg_min(client, row_no) FILTER (WHERE kind = 'from') AS client, "
        f"arg_min(notify_id, row_no) FILTER (WHERE kind = 'notify') AS dsn_id "
        f"FROM {m} WHERE qid IS NOT NULL AND kind IN ('from', 'notify') GROUP BY host, qid")
    stat = "d.stat"
    accepted_id = ("coalesce(nullif(regexp_extract(d.stat, 'queued as ([0-9A-Za-z]+)', 1), ''), "
                   "nullif(regexp_extract(d.stat, '([0-9A-Za-z]{8}[0-9]{6,7}) Message accepted', 1), ''), "
                   "nullif(regexp_extract(d.stat, 'id=([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-"
                   "[0-9A-Za-z]{2,4})', 1), ''))")
    event = (f"CASE WHEN {stat} LIKE 'Sent%' THEN CASE WHEN lower(d.mailer) IN {SMTP_MAILERS} "
             f"THEN 'forwarded' ELSE 'delivered' END WHEN {stat} LIKE 'Deferred%' THEN 'deferred' "
             f"WHEN lower({stat}) = 'queued' THEN 'other' ELSE 'bounced' END")
    reject = "regexp_extract(r.rest, 'reject=(.*)$', 1)"
    arg1 = "nullif(regexp_extract(r.rest, 'arg1=<?([^,>]*)>?', 1), '')"
    ruleset = "regexp_extract(r.rest, 'ruleset=([^,]+)', 1)"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "  # noqa: S608
        f"SELECT f.row_no, f.host AS server, f.qid AS queue_id, q.message_id, q.sender, "
        f"NULL::VARCHAR AS recipient, NULL::VARCHAR AS orig_recipient, 'received' AS event, "
        f"NULL::VARCHAR AS enhanced_code, NULL::VARCHAR AS detail, NULL::VARCHAR AS related_id, "
        f"q.client, NULL::VARCHAR AS relay, NULL::VARCHAR AS raw "
        f"FROM {m} f JOIN {per_q} q USING (host, qid) WHERE f.kind = 'from' "
        f"UNION ALL SELECT d.row_no, d.host, d.qid, q.message_id, q.sender, d.rcpt, NULL, "
        f"{event}, nullif(d.dsn, ''), coalesce(nullif(d.reply, ''), d.stat), "
        f"CASE WHEN {stat} LIKE 'Sent%' THEN {accepted_id} "
        f"WHEN {stat} NOT LIKE 'Deferred%' THEN q.dsn_id END, q.client, nullif(d.relay, ''), NULL "
        f"FROM (SELECT row_no, host, qid, dl.mailer AS mailer, dl.relay AS relay, "
        f"dl.dsn AS dsn, dl.reply AS reply, dl.stat AS stat, "
        # `to=` may list several recipients: to=<a@x>,<b@x> (posix.md 2.2)
        f"trim(unnest(string_split(dl.to, ',')), ' <>\"') AS rcpt FROM {m} "
        f"WHERE kind = 'delivery') d LEFT JOIN {per_q} q USING (host, qid) "
        f"UNION ALL SELECT r.row_no, r.host, r.qid, q.message_id, "
        f"coalesce(CASE WHEN {ruleset} = 'check_mail' THEN {arg1} END, q.sender), "
        f"coalesce(CASE WHEN {ruleset} = 'check_rcpt' THEN {arg1} END, "
        f"nullif(regexp_extract(r.rest, 'to=<([^>]*)>', 1), '')), NULL, "
        # A 4xx refusal is temporary: the sender retries.
        f"CASE WHEN regexp_matches({reject}, '^4') THEN 'deferred' ELSE 'rejected' END, "
        f"NULL, {reject}, NULL, coalesce(nullif(regexp_extract(r.rest, 'relay=([^,]+)', 1), ''), "
        f"q.client), NULL, NULL FROM {m} r LEFT JOIN {per_q} q USING (host, qid) "
        f"WHERE r.kind = 'reject'")
    con.execute(f"DROP TABLE {per_q}")
