"""Google Workspace Email Log Search (Admin console -> Reporting -> Email log search -> Export).

Layout: ../shared/formats/google_workspace.md section 1 — one row per delivery step:
Message ID (without angle brackets), Start date, End date, Sender, Message size,
Subject, Direction, Attachments, Recipient address, Event target; `N/A` placeholders.
The date format is unverified: stamps with an offset keep it, others are read in the
zone the user gives.
"""

from __future__ import annotations

import duckdb

from ..errors import InputError
from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._tabular import valid_tz
from ._trace_common import (
    addr_list_sql,
    columns,
    csv_head,
    finish,
    has_cols,
    q,
    read_ps_csv,
    stage_table,
    stamp_sql,
    words_case,
)

SPEC: dict[str, tuple[str, ...]] = {
    "target": ("Event target",),
    "recipient": ("Recipient address", "Recipient"),
    "start": ("Start date",),
    "end": ("End date",),
    "message_id": ("Message ID",),
    "sender": ("Sender",),
    "subject": ("Subject",),
    "direction": ("Direction",),
}
# Event target -> trace_events.event (section 1.1, Google's table read in order).
TARGETS: dict[str, str] = {
    "smtp_in": "received", "smtp_out": "delivered", "list_server": "expanded",
    "gmail_inbox": "delivered", "gmail_spam": "junk", "internal_server": "other",
    "archive_list_server": "other",
}
# "message ID could not be determined and SMTP relay rejected the message" (section 1.1)
REJECT_SESSION = "SMTPIN_ADDED_REJECT_SESSION"


def _val(col: str | None) -> str:
    """SQL: a trimmed cell, NULL for empty or Google's `N/A`."""
    return f"nullif(nullif(trim({q(col)}), ''), 'N/A')" if col else "NULL::VARCHAR"


@register
class GoogleEmailLogSearch:
    NAME = "google_els"
    SIDE = "trace"
    DESCRIPTION = "Google Workspace Email Log Search export (CSV)"

    def sniff(self, src: SourceFile) -> float:
        headers, _ = csv_head(src)
        if not has_cols(headers, "Event target"):
            return 0.0
        if has_cols(headers, "Recipient address") and (
                has_cols(headers, "Start date") or has_cols(headers, "End date")):
            return 0.97
        return 0.9 if has_cols(headers, "Message ID") else 0.6

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        tz = valid_tz(opts.tz, src.name)
        headers, line = csv_head(src)
        cols = columns(src, headers, SPEC, ("target", "recipient"), line)
        if not (cols["start"] or cols["end"]):
            raise InputError(src.name, "no 'End date' or 'Start date' column", line=line,
                             hint="export the search results again with all columns")
        table = read_ps_csv(src, con)
        c = {f: _val(h) for f, h in cols.items()}
        # The step's end is when the message reached the target (it equals BigQuery's
        # event time in the samples); fall back to the start.
        when = f"coalesce({c['end']}, {c['start']})"
        time_sql = stamp_sql(when, tz)
        event = (f"CASE WHEN {c['message_id']} LIKE '%{REJECT_SESSION}%' THEN 'rejected' "
                 f"ELSE {words_case(c['target'], TARGETS)} END")
        exprs = {
            "event_time": time_sql, "message_id": c["message_id"], "sender": c["sender"],
            "subject": c["subject"], "event": event,
            "detail": f"concat_ws(' ', {c['target']}, '(' || {c['direction']} || ')')",
            "_rcpts": addr_list_sql(c["recipient"], ",;"),
        }
        staged = stage_table(con, table, src.sha256[:12], exprs, time_text=when,
                             time_sql=time_sql, label=repr(cols["end"] or cols["start"]),
                             example="2025-11-04T09:00:08.221Z")
        rows = (
            f"SELECT * EXCLUDE (_error, _rcpts), r AS recipient FROM {staged}, "  # noqa: S608
            "unnest(CASE WHEN len(_rcpts) = 0 THEN [NULL::VARCHAR] ELSE _rcpts END) AS u(r) "
            "WHERE _error IS NULL"
        )
        return finish(con, staged, rows, extra_rejected=table.rejected,
                      tz=tz, notes={"records": table.rows_read})
