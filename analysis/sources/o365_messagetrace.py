"""Exchange Online `Get-MessageTrace` / `Get-MessageTraceV2` exported with Export-Csv.

Layout: ../shared/formats/office365.md sections 4 and 5 — one row per recipient, the
cmdlet's properties as columns (mapped by name; `PS*` columns and a `#TYPE` line may be
present). `Received` is UTC (the cmdlet pages say so) but culture-formatted with no
zone marker, so it is read as UTC whatever zone the user picked.
"""

from __future__ import annotations

import duckdb

from ._base import ParseOptions, ParseResult, register
from ._canon import canonical_sql
from ._io import SourceFile
from ._trace_common import (
    columns,
    csv_head,
    day_first,
    finish,
    has_cols,
    read_ps_csv,
    stage_select,
    stamp_sql,
    txt,
    words_case,
)

SPEC: dict[str, tuple[str, ...]] = {
    "time": ("Received", "ReceivedDateTime", "Received Time"),
    "recipient": ("RecipientAddress", "Recipient Address"),
    "status": ("Status", "Delivery Status"),
    "sender": ("SenderAddress", "Sender Address"),
    "message_id": ("MessageId", "Message ID"),
    "network_id": ("MessageTraceId", "Message Trace ID"),
    "subject": ("Subject",),
    "server": ("Organization",),
    "to_ip": ("ToIP", "To IP"),
    "from_ip": ("FromIP", "From IP"),
    "start": ("StartDate",),
    "end": ("EndDate",),
}
REQUIRED = ("time", "recipient", "status")

# Status values of V1 and V2 (office365.md sections 4, 5 and the table in section 9).
# FilteredAsSpam: the EAC page says "rejected or blocked (not quarantined)" and the
# historical summary shows such a message as `Receive, Fail`, so it is a rejection.
STATUS: dict[str, str] = {
    "delivered": "delivered", "expanded": "expanded", "failed": "failed",
    "pending": "deferred", "quarantined": "quarantined", "filteredasspam": "rejected",
    "filtered as spam": "rejected", "gettingstatus": "other", "getting status": "other",
    "none": "other",
}


def summary_rows(con: duckdb.DuckDBPyConnection, src: SourceFile, fmt: str,
                 table_cols: dict[str, str | None], *, tz: str, result_tz: str,
                 label_example: str) -> ParseResult:
    """Rows of a one-row-per-recipient summary (V1/V2 cmdlets, the new EAC export).

    Reading, the columns and the store's canonical columns are one statement over the
    file (read_ps_csv with a projection): the rows are materialised once.
    """
    c = {f: txt(h) for f, h in table_cols.items()}
    dates = [h for f, h in table_cols.items() if f in ("time", "start", "end") and h]
    label = repr(table_cols["time"])
    facts: dict[str, bool] = {}

    def project(headers: list[str], rel: str, reader: str) -> str:
        dayfirst = day_first(con, reader, dates)
        facts["dayfirst"] = dayfirst
        time_sql = stamp_sql(c["time"], tz, dayfirst)
        exprs = {
            "event_time": time_sql, "server": c.get("server", "NULL"),
            "message_id": c.get("message_id", "NULL"), "network_id": c.get("network_id", "NULL"),
            "sender": c.get("sender", "NULL"), "recipient": c["recipient"],
            "subject": c.get("subject", "NULL"), "event": words_case(c["status"], STATUS),
            "detail": c["status"], "client": c.get("from_ip", "NULL"),
            "relay": c.get("to_ip", "NULL"),
        }
        inner = stage_select(headers, rel, exprs, time_text=c["time"], time_sql=time_sql,
                             label=label, example=label_example, keep=("_rn",))
        return canonical_sql(con, "trace", inner, fmt, result_tz, keep=("_error", "_rn"))

    table = read_ps_csv(src, con, project)
    return finish(con, table.name,
                  f"SELECT * EXCLUDE (_error, _rn) FROM {table.name} WHERE _error IS NULL",
                  extra_rejected=table.rejected, rows_read=table.rows_read, tz=result_tz,
                  notes={"date_order": "day/month" if facts["dayfirst"] else "month/day"},
                  canonical=True)


@register
class O365MessageTrace:
    NAME = "o365_messagetrace"
    SIDE = "trace"
    DESCRIPTION = "Exchange Online Get-MessageTrace / Get-MessageTraceV2 exported with Export-Csv"

    def sniff(self, src: SourceFile) -> float:
        headers, _ = csv_head(src)
        if not has_cols(headers, "Received", "SenderAddress", "RecipientAddress", "Status"):
            return 0.0
        if has_cols(headers, "MessageTraceId"):
            return 0.97
        return 0.9 if has_cols(headers, "MessageId") else 0.8

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        headers, line = csv_head(src)
        cols = columns(src, headers, SPEC, REQUIRED, line)
        return summary_rows(con, src, self.NAME, cols, tz="UTC", result_tz="UTC",
                            label_example="11/4/2025 9:00:03 AM")
