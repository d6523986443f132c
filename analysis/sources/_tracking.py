"""Exchange message-tracking rows to `trace_events`: shared by the raw MSGTRK logs, the
Get-MessageTrackingLog CSV and the Exchange Online extended (MessageTraceDetail) report.

All three carry the same fields (exchange_onprem.md section 1.4; office365.md section
7.2 writes them with `_`, the cmdlet CamelCases them), so the event mapping lives here.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from ._base import ParseResult
from ._trace_common import (
    PS_ARRAY,
    addr_list_sql,
    agent_event_sql,
    finish,
    pair_sql,
    stamp_sql,
    status_list_sql,
    words_case,
)

# Canonical field -> names it goes by (compared after normalise_header, so `date-time`,
# `date_time` and `DateTime` are one). Sources: exchange_onprem.md 1.4 and 2.1,
# office365.md 7.2.
FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("date-time", "date_time_utc", "Timestamp"),
    "client_ip": ("client-ip",),
    "client_hostname": ("client-hostname",),
    "server_ip": ("server-ip",),
    "server_hostname": ("server-hostname",),
    "source_context": ("source-context",),
    "source": ("source",),
    "event_id": ("event-id",),
    "internal_message_id": ("internal-message-id",),
    "message_id": ("message-id",),
    "network_message_id": ("network-message-id",),
    "recipient_address": ("recipient-address", "Recipients"),
    "recipient_status": ("recipient-status",),
    "related_recipient_address": ("related-recipient-address",),
    "reference": ("reference",),
    "message_subject": ("message-subject",),
    "sender_address": ("sender-address", "Sender"),
    "return_path": ("return-path",),
    "custom_data": ("custom-data",),
    "ps_computer": ("PSComputerName",),
}
REQUIRED = ("time", "event_id")

# event-id -> trace_events.event (exchange_onprem.md section 1.5; office365.md section 9).
# FAIL is refined below (a remote 5xx after SEND is a bounce); AGENTINFO reads its
# custom data; everything not listed is "other".
EVENTS: dict[str, str] = {
    "receive": "received", "deliver": "delivered", "sendexternal": "delivered",
    "deliverfail": "failed", "fail": "failed", "defer": "deferred", "drop": "dropped",
    "expand": "expanded", "redirect": "forwarded", "resolve": "forwarded",
    "submitdefer": "deferred", "submitfail": "failed", "resubmitdefer": "deferred",
    "resubmitfail": "failed", "poisonmessage": "held", "badmail": "dropped",
    "initmessagecreated": "held", "moderatorreject": "rejected",
    "moderationexpire": "rejected", "moderatorsallndr": "rejected", "suppressed": "dropped",
    "throttle": "deferred",
}


def _host(name: str, ip: str) -> str:
    """`host[ip]`, as Postfix writes a peer, from whichever part is present."""
    return (f"CASE WHEN {name} IS NULL THEN {ip} WHEN {ip} IS NULL THEN {name} "
            f"ELSE {name} || '[' || {ip} || ']' END")


def tracking_result(con: duckdb.DuckDBPyConnection, base_sql: str, tag: str, *, tz: str,
                    dayfirst: bool = False, result_tz: str | None, present: set[str],
                    extra_rejected: pd.DataFrame | None = None,
                    notes: dict[str, Any] | None = None) -> ParseResult:
    """Rows of `base_sql` (row_no, raw, _pre_error and the FIELDS as text) as trace events."""
    # One row per recipient (recipient-address is a `;` list paired with recipient-status);
    # an AGENTINFO `DI=SJ` makes the AGENTINFO row and the DELIVER rows of the same message
    # and recipient in this file `junk` (office365.md section 9).
    def f(name: str) -> str:
        return f"b.{name}" if name in present else "NULL::VARCHAR"

    staged = f"_trk_{tag}"
    time_text = f("time")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT *, CASE "  # noqa: S608
        "WHEN _pre_error IS NOT NULL THEN _pre_error "
        "WHEN _time IS NULL THEN 'no date-time' "
        "WHEN _ts IS NULL THEN 'unreadable date-time ' || _time "
        "|| ' (expected e.g. 2025-11-04T09:00:13.288Z or 11/4/2025 9:00:13 AM)' "
        "WHEN _eid IS NULL THEN 'no event-id' END AS _error FROM ("
        f"SELECT b.row_no, b.raw, b._pre_error, {time_text} AS _time, "
        f"{stamp_sql(time_text, tz, dayfirst)} AS _ts, upper({f('event_id')}) AS _eid, "
        + ", ".join(f"{f(n)} AS {n}" for n in FIELDS if n not in ("time", "event_id"))
        + f", {addr_list_sql(f('recipient_address'))} AS _addrs, "
        f"{status_list_sql(f('recipient_status'))} AS _stats FROM ({base_sql}) b)"
    )
    status = f"nullif(s.recipient_status, {_lit(PS_ARRAY)})"
    event = words_case("s._eid", EVENTS)
    refined = (
        f"CASE WHEN s._eid = 'AGENTINFO' THEN coalesce({agent_event_sql('s.custom_data')}, 'other') "
        "WHEN s._eid = 'FAIL' AND upper(coalesce(s.source, '')) = 'SMTP' "
        "AND regexp_matches(coalesce(r.status, ''), '^\\s*5[0-9][0-9]') THEN 'bounced' "
        f"ELSE {event} END"
    )
    detail = (
        "CASE WHEN s._eid = 'AGENTINFO' THEN s.custom_data "
        "WHEN r.status IS NOT NULL THEN r.status "
        "WHEN s._eid LIKE 'SEND%' THEN nullif(regexp_extract(s.source_context, "
        "'([2-5][0-9][0-9] [^;]*)', 1), '') END"
    )
    server = ("CASE WHEN s._eid LIKE 'SEND%' AND s.client_hostname IS NOT NULL "
              "THEN s.client_hostname ELSE coalesce(s.server_hostname, s.ps_computer) END")
    key = "coalesce(network_id, message_id)"
    rows_sql = (
        f"WITH x AS (SELECT s.row_no, s._ts AS event_time, {server} AS server, "  # noqa: S608
        "s.message_id, s.internal_message_id AS internal_id, s.network_message_id AS network_id, "
        "coalesce(s.return_path, s.sender_address) AS sender, r.recipient, "
        f"({refined}) AS event, s._eid AS _eid, {detail} AS detail, "
        f"nullif(s.reference, {_lit(PS_ARRAY)}) AS related_id, s.message_subject AS subject, "
        f"{_host('s.client_hostname', 's.client_ip')} AS client, "
        f"CASE WHEN s._eid LIKE 'SEND%' THEN {_host('s.server_hostname', 's.server_ip')} END "
        "AS relay, nullif(s.related_recipient_address, "
        f"{_lit(PS_ARRAY)}) AS orig_recipient, s.raw "
        f"FROM {staged} s, unnest({pair_sql('s._addrs', 's._stats', status)}) AS u(r) "
        "WHERE s._error IS NULL), "
        # The few (message, recipient) pairs with a junk verdict, joined back: the same
        # as bool_or(event = 'junk') OVER (PARTITION BY key, recipient), NULLs grouping
        # alike, without sorting every row and its raw line (benchmarks.md).
        f"j AS (SELECT DISTINCT {key} AS _jk, recipient AS _jr, true AS _hit FROM x "
        "WHERE event = 'junk') "
        "SELECT x.* EXCLUDE (_eid, event, detail), CASE WHEN x._eid = 'DELIVER' AND j._hit "
        "THEN 'junk' ELSE x.event END AS event, CASE WHEN x._eid = 'DELIVER' AND x.detail IS "
        "NULL AND j._hit THEN 'delivered to the Junk Email folder (spam filter DI=SJ)' "
        "ELSE x.detail END AS detail FROM x LEFT JOIN j ON j._jk IS NOT DISTINCT FROM "
        "coalesce(x.network_id, x.message_id) AND j._jr IS NOT DISTINCT FROM x.recipient"
    )
    return finish(con, staged, rows_sql, extra_rejected=extra_rejected, tz=result_tz,
                  notes=notes)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
