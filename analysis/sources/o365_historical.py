"""Exchange Online downloadable reports: historical search / Enhanced summary / Extended.

Layout: ../shared/formats/office365.md section 7 — snake_case columns, UTF-16LE with BOM
straight from the service (UTF-8 after an Excel re-save), stamps in ISO 8601 UTC.
The summary packs every recipient into `recipient_status` (`addr##Receive, Deliver;...`,
7.1); the extended report has the message-tracking fields (7.2) and is mapped like the
on-premises logs, including AGENTINFO spam verdicts (7.3).
"""

from __future__ import annotations

import duckdb

from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._trace_common import (
    addr_list_sql,
    columns,
    csv_head,
    finish,
    has_cols,
    q,
    raw_csv_sql,
    read_ps_csv,
    stage_table,
    stamp_sql,
    txt,
    words_case,
)
from ._tracking import FIELDS, REQUIRED, tracking_result

SUMMARY: dict[str, tuple[str, ...]] = {
    "time": ("origin_timestamp",),
    "recipient_status": ("recipient_status",),
    "sender": ("sender_address",),
    "subject": ("message_subject",),
    "message_id": ("message_id",),
    "network_id": ("network_message_id",),
    "client": ("original_client_ip",),
}
# The last status word of a recipient is where the message ended (7.1: `Receive, Send`,
# `Receive, Fail`, `Receive, Deliver`; others follow the event names).
LAST_WORD: dict[str, str] = {
    "deliver": "delivered", "fail": "failed", "defer": "deferred", "expand": "expanded",
    "resolve": "forwarded", "redirect": "forwarded", "receive": "received", "drop": "dropped",
    "sendexternal": "delivered",
}


@register
class O365HistoricalSummary:
    NAME = "o365_historical_summary"
    SIDE = "trace"
    DESCRIPTION = "Exchange Online historical search / Enhanced summary report (MessageTrace CSV)"

    def sniff(self, src: SourceFile) -> float:
        headers, _ = csv_head(src)
        if not has_cols(headers, "origin_timestamp", "sender_address", "recipient_status"):
            return 0.0
        return 0.97 if has_cols(headers, "network_message_id") else 0.9

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        headers, line = csv_head(src)
        cols = columns(src, headers, SUMMARY, ("time", "recipient_status"), line)
        table = read_ps_csv(src, con)
        c = {f: txt(h) for f, h in cols.items()}
        time_sql = stamp_sql(c["time"], "UTC")
        exprs = {
            "event_time": time_sql, "sender": c["sender"], "subject": c["subject"],
            "message_id": c["message_id"], "network_id": c["network_id"], "client": c["client"],
            "_parts": addr_list_sql(c["recipient_status"], ";"),
        }
        staged = stage_table(con, table, src.sha256[:12], exprs, time_text=c["time"],
                             time_sql=time_sql, label=repr(cols["time"]),
                             example="2025-11-04T09:00:03.412Z")
        status = "nullif(trim(split_part(p, '##', 2)), '')"
        last = f"trim(regexp_extract({status}, '([^,]*)$', 1))"
        rows = (
            f"SELECT * EXCLUDE (_error, _parts, p), nullif(trim(split_part(p, '##', 1)), '') "  # noqa: S608
            f"AS recipient, {status} AS detail, {words_case(last, LAST_WORD)} AS event "
            f"FROM {staged}, unnest(CASE WHEN len(_parts) = 0 THEN [NULL::VARCHAR] ELSE _parts END)"
            " AS u(p) WHERE _error IS NULL"
        )
        return finish(con, staged, rows, extra_rejected=table.rejected, tz="UTC",
                      notes={"records": table.rows_read})


@register
class O365HistoricalDetail:
    NAME = "o365_historical_detail"
    SIDE = "trace"
    DESCRIPTION = "Exchange Online historical search / Extended report (MessageTraceDetail CSV)"

    def sniff(self, src: SourceFile) -> float:
        headers, _ = csv_head(src)
        if not has_cols(headers, "date_time_utc", "event_id"):
            return 0.0
        return 0.97 if has_cols(headers, "network_message_id") else 0.9

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        headers, line = csv_head(src)
        cols = columns(src, headers, FIELDS, REQUIRED, line)
        table = read_ps_csv(src, con)
        base = (
            "SELECT row_no, " + raw_csv_sql(table.headers) + " AS raw, NULL::VARCHAR AS _pre_error, "
            + ", ".join(f"nullif(trim({q(h)}), '') AS {f}" for f, h in cols.items() if h)
            + f" FROM {table.name}"
        )
        return tracking_result(con, base, src.sha256[:12], tz="UTC", result_tz="UTC",
                               present={f for f, h in cols.items() if h},
                               extra_rejected=table.rejected, notes={"records": table.rows_read})
