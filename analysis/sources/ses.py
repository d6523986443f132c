"""Amazon SES notifications: SNS envelopes, unwrapped notifications, event publishing.

Layout: ../shared/formats/esp_exports.md section 4,
https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html and
https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html .
A notification names its kind in `notificationType`; event publishing uses `eventType`
and adds Send, Reject, Open, Click, DeliveryDelay, Subscription. Through SNS the object
is the JSON string in the envelope's `Message`. One row per affected recipient.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from ._base import ParseOptions, ParseResult, Rejected, register
from ._io import SourceFile
from ._json import (
    Record,
    address,
    finish,
    get,
    head_keys,
    not_object,
    read_records,
    strip_smtp,
    text,
    time_text,
)

# kind -> (sends.event, key of the kind's object, key of its recipient list or None
# for "every mail.destination").
KINDS: dict[str, tuple[str, str, str | None]] = {
    "Bounce": ("bounced", "bounce", "bouncedRecipients"),
    "Complaint": ("complained", "complaint", "complainedRecipients"),
    "Delivery": ("delivered", "delivery", "recipients"),
    "DeliveryDelay": ("deferred", "deliveryDelay", "delayedRecipients"),
    "Send": ("sent", "send", None),
    "Reject": ("bounced", "reject", None),  # SES refused to send (virus): no SMTP reply
    "Open": ("opened", "open", None),
    "Click": ("clicked", "click", None),
    "Subscription": ("unsubscribed", "subscription", None),
}
BOUNCE_TYPES = {"Permanent": "hard", "Transient": "soft"}  # Undetermined: neither
# SNS messages that are not about mail (subscription hand-shakes): counted, not rows.
_NOT_MAIL = {"SubscriptionConfirmation", "UnsubscribeConfirmation",
             "AmazonSnsSubscriptionSucceeded"}


def _unwrap(rec: Record) -> tuple[Any, str] | Rejected | None:
    """The notification object and its text; a Rejected; None for SNS hand-shakes."""
    obj, raw = rec.obj, rec.raw
    if isinstance(obj, dict) and isinstance(obj.get("Message"), str) and "Type" in obj:
        if obj["Type"] in _NOT_MAIL:
            return None
        raw = obj["Message"]
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            return Rejected(rec.row_no, rec.raw,
                            f"the SNS Message is not JSON: {e.msg} (column {e.colno})")
    if not isinstance(obj, dict):
        return not_object(rec, "an SES notification")
    if (obj.get("notificationType") or obj.get("eventType")) in _NOT_MAIL:
        return None
    return obj, raw


def _campaign(mail: Any) -> str | None:
    tags = get(mail, "tags")
    if isinstance(tags, dict):
        for key, value in tags.items():
            if "campaign" in key.lower() and text(value):
                return text(value)
    return text(get(mail, "commonHeaders", "subject"))


def _rows(row_no: int, raw: str, note: dict[str, Any]) -> list[dict[str, Any]]:
    word = text(note.get("notificationType")) or text(note.get("eventType"))
    event, key, list_key = KINDS.get(word or "", (None, "", None))
    mail = note.get("mail") if isinstance(note.get("mail"), dict) else {}
    detail = note.get(key) if isinstance(note.get(key), dict) else {}
    common = {
        "row_no": row_no, "raw": raw, "event": event, "_word": word,
        "_time": time_text(detail.get("timestamp")) or time_text(mail.get("timestamp")),
        "campaign": _campaign(mail), "subject": text(get(mail, "commonHeaders", "subject")),
        "sender": address(mail.get("source")),
        "message_id": text(get(mail, "commonHeaders", "messageId")),
        "esp_message_id": text(mail.get("messageId")),
    }
    if word == "Bounce":
        common["bounce_type"] = BOUNCE_TYPES.get(text(detail.get("bounceType")) or "")
        common["bounce_reason"] = text(detail.get("bounceSubType"))
    elif word == "DeliveryDelay":
        common["bounce_reason"] = text(detail.get("delayType"))
    elif word == "Reject":
        common["bounce_reason"] = text(detail.get("reason"))
    if list_key is None:  # the event concerns every recipient of the mail
        targets: list[Any] = mail.get("destination") or [None]
    else:
        targets = detail.get(list_key) or [None]
    rows = []
    for target in targets:
        row = dict(common)
        if isinstance(target, dict):  # bounced/complained/delayed recipient entries
            row["recipient"] = address(target.get("emailAddress"))
            row["smtp_text"] = strip_smtp(target.get("diagnosticCode"))
            row["enhanced_code"] = text(target.get("status"))
        else:
            row["recipient"] = address(target)
            if word == "Delivery":
                row["smtp_text"] = strip_smtp(detail.get("smtpResponse"))
        rows.append(row)
    return rows


@register
class SesNotifications:
    NAME = "ses_json"
    SIDE = "esp"
    DESCRIPTION = "Amazon SES bounce/complaint/delivery notifications and event publishing (SNS JSON)"

    def sniff(self, src: SourceFile) -> float:
        keys = head_keys(src)
        if "mail" in keys and keys & {"notificationType", "eventType"}:
            return 0.95
        head = src.text_head if keys else ""
        if {"Type", "Message"} <= keys and ("notificationType" in head or "eventType" in head):
            return 0.95  # an SNS envelope; the notification is an escaped string
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        rows: list[dict[str, Any]] = []
        rejected: list[Rejected] = []
        skipped = 0
        for rec in read_records(src):
            found = _unwrap(rec)
            if found is None:
                skipped += 1
            elif isinstance(found, Rejected):
                rejected.append(found)
            else:
                rows.extend(_rows(rec.row_no, found[1], found[0]))
        notes = {"skipped_sns_messages": skipped} if skipped else {}
        return finish(src, con, rows, rejected, opts, time_field="the event's timestamp",
                      offsets=True, events=", ".join(sorted(KINDS)), notes=notes)
