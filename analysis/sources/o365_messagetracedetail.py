"""Exchange Online `Get-MessageTraceDetail` / `Get-MessageTraceDetailV2` exported with Export-Csv.

Layout: ../shared/formats/office365.md section 6 — one row per event of one message and
recipient: Date (UTC, culture-formatted), Event, Action, Detail, Data (XML of `<MEP>`
items), MessageId, MessageTraceId. The recipient is a parameter of the cmdlet, not a
column, so it is filled only when the export has a recipient column.
"""

from __future__ import annotations

import duckdb

from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._trace_common import (
    columns,
    csv_head,
    day_first,
    finish,
    has_cols,
    read_ps_csv,
    stage_table,
    stamp_sql,
    txt,
    words_case,
)

SPEC: dict[str, tuple[str, ...]] = {
    "time": ("Date", "DateTime"),
    "event": ("Event",),
    "action": ("Action",),
    "detail": ("Detail", "Description"),
    "data": ("Data",),
    "message_id": ("MessageId", "Message ID"),
    "network_id": ("MessageTraceId", "Message Trace ID"),
    "server": ("Organization",),
    "recipient": ("RecipientAddress", "Recipient Address"),
    "sender": ("SenderAddress", "Sender Address"),
    "start": ("StartDate",),
    "end": ("EndDate",),
}
REQUIRED = ("time", "event")

# Event names as the cmdlet shows them (office365.md section 6; friendly names such as
# "Send external" are [U] there) -> trace_events.event.
EVENTS: dict[str, str] = {
    "receive": "received", "deliver": "delivered", "fail": "failed", "expand": "expanded",
    "defer": "deferred", "pending": "deferred", "resolve": "forwarded", "resolved": "forwarded",
    "redirect": "forwarded", "send external": "delivered", "sendexternal": "delivered",
    "drop": "dropped", "quarantine": "quarantined", "quarantined": "quarantined",
}


def _mep(data: str, name: str) -> str:
    """SQL: the String value of one `<MEP Name="..."/>` item of the Data XML."""
    return f"nullif(regexp_extract({data}, 'Name=\"{name}\" String=\"([^\"]*)\"', 1), '')"


@register
class O365MessageTraceDetail:
    NAME = "o365_messagetracedetail"
    SIDE = "trace"
    DESCRIPTION = "Exchange Online Get-MessageTraceDetail / Get-MessageTraceDetailV2 exported with Export-Csv"

    def sniff(self, src: SourceFile) -> float:
        headers, _ = csv_head(src)
        if not has_cols(headers, "MessageTraceId", "Event", "Detail"):
            return 0.0
        return 0.97 if has_cols(headers, "Data") else 0.9

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        headers, line = csv_head(src)
        cols = columns(src, headers, SPEC, REQUIRED, line)
        table = read_ps_csv(src, con)
        c = {f: txt(h) for f, h in cols.items()}
        dayfirst = day_first(con, table.name, [cols["time"] or "", cols["start"] or "",
                                               cols["end"] or ""])
        time_sql = stamp_sql(c["time"], "UTC", dayfirst)  # cmdlet output is UTC (section 6)
        action, detail = f"lower(coalesce({c['action']}, ''))", f"lower(coalesce({c['detail']}, ''))"
        event = (
            f"CASE WHEN {action} LIKE '%quarantin%' THEN 'quarantined' "
            f"WHEN {action} LIKE '%delete%' THEN 'dropped' "
            f"WHEN lower({c['event']}) = 'deliver' AND {detail} LIKE '%junk%' THEN 'junk' "
            f"ELSE {words_case(c['event'], EVENTS)} END"
        )
        # "Reason: [{LED=550 5.4.310 DNS domain ... does not exist ...};{MSG=};..." (section 6)
        led = f"regexp_extract({c['detail']}, 'LED=([2-5][0-9][0-9])[ -]+([245]\\.[0-9]{{1,3}}\\.[0-9]{{1,3}})?', "
        name, ip = _mep(c["data"], "ClientName"), _mep(c["data"], "ClientIP")
        exprs = {
            "event_time": time_sql, "server": c["server"], "message_id": c["message_id"],
            "network_id": c["network_id"], "recipient": c["recipient"], "sender": c["sender"],
            "event": event, "detail": c["detail"],
            "smtp_code": f"TRY_CAST(nullif({led}1), '') AS INTEGER)",
            "enhanced_code": f"nullif({led}2), '')",
            "client": f"CASE WHEN {name} IS NULL THEN {ip} WHEN {ip} IS NULL THEN {name} "
                      f"ELSE {name} || '[' || {ip} || ']' END",
        }
        staged = stage_table(con, table, src.sha256[:12], exprs, time_text=c["time"],
                             time_sql=time_sql, label=repr(cols["time"]),
                             example="11/4/2025 9:00:03 AM")
        return finish(con, staged, f"SELECT * EXCLUDE (_error) FROM {staged} WHERE _error IS NULL",
                      extra_rejected=table.rejected, rows_read=table.rows_read, tz="UTC",
                      notes={"date_order": "day/month" if dayfirst else "month/day"})
