"""Exchange Online new EAC message trace: Mail flow -> Message trace -> "Export results".

Layout: ../shared/formats/office365.md section 3 — Date, Sender, Recipient, Subject,
Status (display words such as "Filtered as spam"); further columns (Message ID, From
IP, To IP ...) are mapped when present. Dates are in the zone chosen in the EAC query,
written without an offset, so they are read in the zone the user gives.
"""

from __future__ import annotations

import duckdb

from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._tabular import valid_tz
from ._trace_common import columns, csv_head, has_cols
from .o365_messagetrace import summary_rows

SPEC: dict[str, tuple[str, ...]] = {
    "time": ("Date", "Date (UTC)", "Received"),
    "recipient": ("Recipient", "Recipient address"),
    "status": ("Status",),
    "sender": ("Sender", "Sender address"),
    "subject": ("Subject",),
    "message_id": ("Message ID", "MessageId"),
    "network_id": ("Message trace ID", "Network message ID", "MessageTraceId"),
    "to_ip": ("To IP", "ToIP"),
    "from_ip": ("From IP", "FromIP"),
}
REQUIRED = ("time", "recipient", "status")
# Status words only Exchange Online shows (office365.md section 3).
_EAC_WORDS = ("quarantined", "filtered as spam", "getting status", "expanded", "pending")
# Columns of ESP exports: a file with them is not a message trace.
_ESP_COLUMNS = ("Campaign", "Campaign Name", "Bounce Type", "Email Address", "Opened")


@register
class O365Eac:
    NAME = "o365_eac"
    SIDE = "trace"
    DESCRIPTION = "Exchange Online message trace exported from the new Exchange admin center (CSV)"

    def sniff(self, src: SourceFile) -> float:
        headers, _ = csv_head(src)
        if not has_cols(headers, "Date", "Sender", "Recipient", "Subject", "Status"):
            return 0.0
        if any(has_cols(headers, h) for h in _ESP_COLUMNS):
            return 0.0
        score = 0.85
        body = src.text_head.lower()
        if any(f'"{w}"' in body or f",{w}\n" in body or f",{w}\r" in body for w in _EAC_WORDS):
            score += 0.1
        return score

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        tz = valid_tz(opts.tz, src.name)
        headers, line = csv_head(src)
        cols = columns(src, headers, SPEC, REQUIRED, line)
        return summary_rows(con, src, self.NAME, cols, tz=tz, result_tz=tz,
                            label_example="11/4/2025 9:00:05 AM")
