"""SendGrid (Twilio) Event Webhook JSON and Email Activity CSV.

Layout: ../shared/formats/esp_exports.md section 2 and
https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event .
The webhook POSTs a JSON array of events; a saved log of posts may also be JSON lines
(one event or one batch per line). Timestamps are Unix seconds.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ._base import ParseOptions, ParseResult, Rejected, register
from ._espmap import auto_mapping, to_sends
from ._io import SourceFile
from ._json import finish, get, head_keys, not_object, read_records, text, time_text
from ._tabular import csv_headers, normalise_header, read_csv

# esp_exports.md 2.1 event table. `group_resubscribe` has no `sends` event: rejected
# with the unknown-event reason so it stays visible.
EVENTS = {
    "processed": "sent", "dropped": "bounced", "delivered": "delivered",
    "deferred": "deferred", "bounce": "bounced", "open": "opened", "click": "clicked",
    "spamreport": "complained", "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
}
# `type` of a bounce event: `bounce` = the remote server refused the address for good,
# `blocked` = a block list / policy / temporary refusal SendGrid stopped retrying.
BOUNCE_TYPES = {"bounce": "hard", "blocked": "soft"}
_DISTINCT = {"sg_event_id", "sg_message_id", "smtp-id"}


def _row(rec_no: int, raw: str, ev: dict[str, Any]) -> dict[str, Any]:
    word = text(ev.get("event"))
    kind = (word or "").lower()
    event = EVENTS.get(kind)
    reply = None
    reason = None
    if kind in ("delivered", "deferred"):
        reply = ev.get("response")
    elif kind == "bounce":
        reply = ev.get("reason")  # the remote reply; `status` is its enhanced code
        reason = ev.get("bounce_classification")
    elif kind == "dropped":
        reason = ev.get("reason")  # a SendGrid label ("Bounced Address"): no SMTP reply
    return {
        "row_no": rec_no, "raw": raw, "event": event, "_word": word,
        "recipient": text(ev.get("email")), "_time": time_text(ev.get("timestamp")),
        "campaign": text(ev.get("category")), "smtp_text": text(reply),
        "enhanced_code": text(ev.get("status")) if kind in ("bounce", "deferred") else None,
        "bounce_type": BOUNCE_TYPES.get(text(ev.get("type")) or "") if kind == "bounce" else None,
        "bounce_reason": text(reason), "message_id": text(ev.get("smtp-id")),
        "esp_message_id": text(ev.get("sg_message_id")),
        "subject": text(ev.get("subject")) or text(get(ev, "unique_args", "subject")),
    }


@register
class SendGridEvents:
    NAME = "sendgrid_json"
    SIDE = "esp"
    DESCRIPTION = "SendGrid Event Webhook posts (JSON array or JSON lines)"

    def sniff(self, src: SourceFile) -> float:
        keys = head_keys(src)
        if keys & _DISTINCT and {"event", "email"} <= keys:
            return 0.95
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        rows: list[dict[str, Any]] = []
        rejected: list[Rejected] = []
        for rec in read_records(src):
            if not isinstance(rec.obj, dict):
                rejected.append(not_object(rec, "a SendGrid event"))
                continue
            rows.append(_row(rec.row_no, rec.raw, rec.obj))
        return finish(src, con, rows, rejected, opts, time_field="timestamp", offsets=True,
                      events=", ".join(sorted(EVENTS)))


# Email Activity CSV (esp_exports.md 2.2): column names not verified, so they are found
# by synonyms; the SendGrid-only `msg_id`/`sg_message_id` header identifies the file.
_CSV_IDS = {"msgid", "sgmessageid", "sgeventid"}
_CSV_SYNONYMS = {
    "recipient": ["email", "to_email", "recipient", "email address"],
    "event": ["event", "status", "event type"],
    "event_time": ["timestamp", "processed", "last_event_time", "event time", "date"],
    "smtp_text": ["response", "reason", "smtp response"],
    "campaign": ["category", "categories", "campaign"],
    "subject": ["subject"],
}


def _csv_mapping(headers: list[str]) -> dict[str, str]:
    by_key = {normalise_header(h): h for h in headers}
    mapping = {}
    for field, names in _CSV_SYNONYMS.items():
        found = next((by_key[k] for k in map(normalise_header, names) if k in by_key), None)
        if found and found not in mapping.values():
            mapping[field] = found
    return mapping


@register
class SendGridActivityCsv:
    NAME = "sendgrid_csv"
    SIDE = "esp"
    DESCRIPTION = "SendGrid Email Activity export (CSV; columns found by name)"

    def sniff(self, src: SourceFile) -> float:
        if src.is_zip:
            return 0.0
        headers = csv_headers(src)
        keys = {normalise_header(h) for h in headers}
        m = _csv_mapping(headers)
        if keys & _CSV_IDS and {"recipient", "event", "event_time"} <= set(m):
            return 0.97  # above the generic ESP CSV reader for the same headers
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        table = read_csv(src, con)
        mapping = opts.mapping or (_csv_mapping(table.headers) or auto_mapping(table.headers))
        return to_sends(src, con, table, mapping, opts)
