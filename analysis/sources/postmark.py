"""Postmark Bounces API pages and webhook posts (bounce, delivery, open, click, ...).

Layout: ../shared/formats/esp_exports.md section 5, https://postmarkapp.com/developer/api/bounce-api
and https://postmarkapp.com/developer/webhooks/webhooks-overview .
`GET /bounces` returns `{"TotalCount": N, "Bounces": [...]}`; webhooks post one object
with a `RecordType`. Stamps carry the server's offset and 7 fraction digits.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ._base import ParseOptions, ParseResult, Rejected, register
from ._io import SourceFile
from ._json import (
    address,
    finish,
    head_keys,
    not_object,
    read_records,
    strip_smtp,
    text,
    time_text,
)

# RecordType -> (sends.event, time field). Bounce records are refined by `Type` below.
RECORDS = {
    "Bounce": ("bounced", "BouncedAt"), "SpamComplaint": ("complained", "BouncedAt"),
    "Delivery": ("delivered", "DeliveredAt"), "Open": ("opened", "ReceivedAt"),
    "Click": ("clicked", "ReceivedAt"), "SubscriptionChange": ("unsubscribed", "ChangedAt"),
}
# Bounce `Type` values that are not bounces of the send (esp_exports.md 5 type table).
TYPE_EVENTS = {"SpamComplaint": "complained", "Unsubscribe": "unsubscribed",
               "Subscribe": None}
HARD = {"HardBounce", "BadEmailAddress"}
SOFT = {"SoftBounce", "Transient", "DnsError"}


def _row(rec_no: int, raw: str, rec: dict[str, Any]) -> dict[str, Any]:
    kind = text(rec.get("RecordType")) or ("Bounce" if "BouncedAt" in rec else None)
    event, time_field = RECORDS.get(kind or "", (None, "BouncedAt"))
    word = kind
    btype = text(rec.get("Type"))
    if kind == "Bounce" and btype in TYPE_EVENTS:
        event, word = TYPE_EVENTS[btype], f"Bounce of type {btype}"
    if kind == "SubscriptionChange" and rec.get("SuppressSending") is False:
        event, word = None, "SubscriptionChange that re-activates the address"
    bounced = event == "bounced"
    return {
        "row_no": rec_no, "raw": raw, "event": event, "_word": word,
        "recipient": address(rec.get("Email")) or address(rec.get("Recipient")),
        "_time": time_text(rec.get(time_field)),
        "campaign": text(rec.get("Tag")),
        "smtp_text": strip_smtp(rec.get("Details")) if kind in ("Bounce", "Delivery") else None,
        "bounce_type": ("hard" if btype in HARD else "soft" if btype in SOFT else None)
        if bounced else None,
        "bounce_reason": (text(rec.get("Name")) or btype) if bounced else None,
        "subject": text(rec.get("Subject")), "sender": address(rec.get("From")),
        "esp_message_id": text(rec.get("MessageID")),
    }


@register
class PostmarkBounces:
    NAME = "postmark_json"
    SIDE = "esp"
    DESCRIPTION = "Postmark bounces (GET /bounces JSON) and webhook posts"

    def sniff(self, src: SourceFile) -> float:
        keys = head_keys(src)
        if {"Bounces", "TotalCount"} <= keys:
            return 0.95
        if "RecordType" in keys and keys & {"BouncedAt", "DeliveredAt", "MessageStream",
                                            "ServerID"}:
            return 0.95
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        rows: list[dict[str, Any]] = []
        rejected: list[Rejected] = []
        for rec in read_records(src, "Bounces"):
            if not isinstance(rec.obj, dict):
                rejected.append(not_object(rec, "a Postmark bounce"))
                continue
            rows.append(_row(rec.row_no, rec.raw, rec.obj))
        return finish(src, con, rows, rejected, opts, time_field="BouncedAt / DeliveredAt / "
                      "ReceivedAt", offsets=True, events="RecordType " + ", ".join(RECORDS))
