"""Mailgun events: Events API pages, webhook posts and JSON lines of event-data.

Layout: ../shared/formats/esp_exports.md section 3 and
https://documentation.mailgun.com/docs/mailgun/user-manual/events/ .
A page is `{"items": [...], "paging": {...}}`; a webhook body is
`{"signature": {...}, "event-data": {...}}`. `timestamp` is Unix seconds with fraction.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from ._base import ParseOptions, ParseResult, Rejected, register
from ._io import SourceFile
from ._json import (
    address,
    bracketed,
    display_name,
    finish,
    get,
    head_keys,
    not_object,
    read_records,
    text,
    time_text,
)

# esp_exports.md 3: `failed` is split by `severity` (temporary = Mailgun retries).
EVENTS = {
    "accepted": "sent", "rejected": "bounced", "delivered": "delivered",
    "opened": "opened", "clicked": "clicked", "unsubscribed": "unsubscribed",
    "complained": "complained",
}
SEVERITY = {"permanent": ("bounced", "hard"), "temporary": ("deferred", None)}
_CODE_AT_START = re.compile(r"^\s*[2-5][0-9][0-9][ -]")


def smtp_reply(status: Any) -> tuple[int | None, str | None]:
    """(reply code, reply text) of a delivery-status: `code` + `message`, as the server sent it.

    Mailgun stores the remote reply without its code (`message` "5.1.1 ..."); codes of
    600 and above are Mailgun's own (605 = suppressed) and are not put in front.
    """
    if not isinstance(status, dict):
        return None, None
    code = text(status.get("code"))
    smtp = int(code) if code and code.isdigit() and 200 <= int(code) < 600 else None
    message = text(status.get("message")) or text(status.get("description"))
    if message and smtp is not None and not _CODE_AT_START.match(message):
        message = f"{smtp} {message}"
    return smtp, message


def _campaign(ev: dict[str, Any]) -> str | None:
    tags = text(ev.get("tags"))
    if tags:
        return tags
    names = [get(c, "name") for c in ev.get("campaigns") or [] if isinstance(c, dict)]
    return text(names)


def _row(rec_no: int, raw: str, ev: dict[str, Any]) -> dict[str, Any]:
    word = text(ev.get("event"))
    kind = (word or "").lower()
    event = EVENTS.get(kind)
    bounce_type = None
    reason = None
    code, reply = smtp_reply(ev.get("delivery-status"))
    if kind == "failed":
        severity = (text(ev.get("severity")) or "").lower()
        event, bounce_type = SEVERITY.get(severity, (None, None))
        if event is None:
            word = f"failed with severity {severity or '(none)'}"
        elif bounce_type == "hard" and code is not None and code < 500:
            # Permanent only because Mailgun stopped retrying a 4xx ("Too old"): the
            # remote refusal itself was temporary, as in the sample's M08 (STORY.md).
            bounce_type = "soft"
        reason = text(ev.get("reason"))
    elif kind == "rejected":
        reason = text(get(ev, "reject", "reason")) or text(ev.get("reason"))
    headers = get(ev, "message", "headers") or {}
    to = headers.get("to") if isinstance(headers, dict) else None
    return {
        "row_no": rec_no, "raw": raw, "event": event, "_word": word,
        "recipient": address(ev.get("recipient")), "_time": time_text(ev.get("timestamp")),
        "campaign": _campaign(ev), "smtp_code": code, "smtp_text": reply,
        "bounce_type": bounce_type, "bounce_reason": reason,
        "name": display_name(to) if address(to) == address(ev.get("recipient")) else None,
        "subject": text(get(headers, "subject")),
        "sender": address(get(ev, "envelope", "sender")) or address(get(headers, "from")),
        "message_id": bracketed(get(headers, "message-id")),
        "esp_message_id": text(ev.get("id")),
    }


@register
class MailgunEvents:
    NAME = "mailgun_json"
    SIDE = "esp"
    DESCRIPTION = "Mailgun Events API pages, webhook posts or JSON lines of event-data"

    def sniff(self, src: SourceFile) -> float:
        keys = head_keys(src)
        if "event-data" in keys or "delivery-status" in keys:
            return 0.95
        if {"items", "paging"} <= keys and "event" in keys and (
                "recipient" in keys or "log-level" in keys):
            return 0.95
        if {"event", "recipient", "log-level"} <= keys:
            return 0.9
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        rows: list[dict[str, Any]] = []
        rejected: list[Rejected] = []
        for rec in read_records(src, "items"):
            ev = rec.obj
            if isinstance(ev, dict) and isinstance(ev.get("event-data"), dict):
                ev = ev["event-data"]  # a webhook body: the signature is not kept
            if not isinstance(ev, dict):
                rejected.append(not_object(rec, "a Mailgun event"))
                continue
            rows.append(_row(rec.row_no, rec.raw, ev))
        words = sorted([*EVENTS, "failed (permanent or temporary)"])
        return finish(src, con, rows, rejected, opts, time_field="timestamp", offsets=True,
                      events=", ".join(words))
