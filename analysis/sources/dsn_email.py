"""Bounce e-mails: RFC 3464 delivery status notifications and Exchange NDRs (.eml).

Layout: ../shared/formats/dsn.md sections 1-2. Parsed with Python's `email` package
(a bounce is one small message, not a bulk file): one trace event per per-recipient
block of the `message/delivery-status` part; the original Message-ID comes from the
returned headers (`text/rfc822-headers` or `message/rfc822`), else In-Reply-To.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import re
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any

import duckdb
import pandas as pd

from ..errors import InputError
from ._base import ParseOptions, ParseResult, Rejected, register
from ._io import SourceFile

# dsn.md section 2 "Mapping": Action -> trace event.
ACTIONS = {"failed": "bounced", "delayed": "deferred", "delivered": "delivered",
           "relayed": "forwarded", "expanded": "expanded"}
_STATUS_PARTS = ("message/delivery-status", "message/global-delivery-status")


class _TextHeaders(email.policy.Compat32):
    """compat32, but a header with raw 8-bit bytes is text too, never an email.header.Header
    (which re.sub and .strip() refuse; tests/test_properties.py)."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return str(super().header_fetch_parse(name, value))


_POLICY = _TextHeaders()
_HEADER_PARTS = ("text/rfc822-headers", "message/global-headers")


@register
class DsnEmail:
    NAME = "dsn_email"
    SIDE = "trace"
    DESCRIPTION = "Bounce e-mail (.eml): RFC 3464 delivery status notification or Exchange NDR"

    def sniff(self, src: SourceFile) -> float:
        text = src.text_head
        if src.is_zip or not text:
            return 0.0
        head = text[:20000].lower()
        if not re.match(r"^([a-z0-9-]+:[^\n]*\n([ \t][^\n]*\n)*)+", head.replace("\r\n", "\n")):
            return 0.0  # an e-mail starts with header fields
        if "message/delivery-status" in head or "message/global-delivery-status" in head:
            return 0.95
        if "report-type=delivery-status" in head:
            return 0.9
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        raw = src.path.read_bytes()
        msg = email.message_from_bytes(raw, policy=_POLICY)
        status = next((p for p in msg.walk() if p.get_content_type() in _STATUS_PARTS), None)
        if status is None:
            raise InputError(src.name, "no message/delivery-status part: not an RFC 3464 bounce",
                             hint="only standard bounce messages (DSN/NDR) can be read")
        blocks = [b for b in (status.get_payload() or []) if isinstance(b, Message)]
        if not blocks:
            raise InputError(src.name, "the delivery-status part is empty")
        text = raw.decode("utf-8", errors="replace")
        per_msg, recipients = blocks[0], blocks[1:]
        common = _message_fields(msg, per_msg)
        rows: list[dict[str, Any]] = []
        rejected: list[Rejected] = []
        for block in recipients:
            final = _typed(block.get("Final-Recipient"))
            line = _line_of(text, final or block.get("Action") or "") or 1  # never line 0
            action = (block.get("Action") or "").strip().lower()
            if not final or action not in ACTIONS:
                what = "Final-Recipient" if not final else f"a known Action (got {action!r})"
                rejected.append(Rejected(line, _block_text(block), f"recipient block without {what}"))
                continue
            diag = _unfold(_typed(block.get("Diagnostic-Code")))
            when = _date(block.get("Last-Attempt-Date")) or common["event_time"]
            rows.append({
                **common, "row_no": line, "recipient": final,
                "orig_recipient": _typed(block.get("Original-Recipient")),
                "event": ACTIONS[action], "enhanced_code": (block.get("Status") or "").strip() or None,
                "detail": diag, "relay": _typed(block.get("Remote-MTA")), "event_time": when,
                "queue_id": _typed(block.get("Final-Log-ID")) or common["queue_id"],
                "raw": _block_text(block),
            })
        frame = pd.DataFrame(rows, columns=[
            "row_no", "server", "event_time", "message_id", "queue_id", "internal_id", "sender",
            "recipient", "orig_recipient", "event", "enhanced_code", "detail", "related_id",
            "subject", "relay", "raw"])
        frame["event_time"] = pd.to_datetime(frame["event_time"], utc=True)
        frame["row_no"] = frame["row_no"].astype("int64")
        return ParseResult(rows=frame, rejected=rejected, tz="file",
                           notes={"recipients": len(recipients), "message_id": common["message_id"]})


def _message_fields(msg: Message, per_msg: Message) -> dict[str, Any]:
    """Fields every recipient of this DSN shares (dsn.md section 2, per-message fields)."""
    orig = _returned_headers(msg)
    message_id = (orig.get("Message-ID") if orig is not None else None) \
        or msg.get("In-Reply-To") or _first_id(msg.get("References"))
    reporting = _typed(per_msg.get("Reporting-MTA"))
    sender = _typed(per_msg.get("X-Postfix-Sender"))
    if not sender and orig is not None:
        sender = (orig.get("Return-Path") or "").strip().strip("<>") or None
    if not sender:
        sender = email.utils.parseaddr(msg.get("To") or "")[1] or None
    return {
        "server": reporting,
        "event_time": _date(per_msg.get("Arrival-Date")) or _date(msg.get("Date")),
        "message_id": message_id.strip() if message_id else None,
        "queue_id": (per_msg.get("X-Postfix-Queue-ID") or "").strip()
        or (per_msg.get("Original-Envelope-Id") or "").strip() or None,
        "internal_id": (per_msg.get("Original-Envelope-Id") or "").strip() or None,
        "sender": sender,
        "subject": _subject(orig),
        "related_id": _ndr_id(msg, reporting) or (msg.get("Message-ID") or "").strip() or None,
    }


def _returned_headers(msg: Message) -> Message | None:
    """The original message's headers (part 3 of the report), if returned."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in _HEADER_PARTS:
            payload = part.get_payload(decode=True) or b""
            return email.message_from_bytes(payload, policy=_POLICY)
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
    return None


def _ndr_id(msg: Message, reporting: str | None) -> str | None:
    """The bounce's own queue ID from its first Received header (`by REPORTING ... id X`)."""
    for received in msg.get_all("Received") or []:
        flat = _unfold(received) or ""
        by = re.search(r"\bby\s+(\S+)", flat)
        found = re.search(r"\bid\s+([0-9A-Za-z][0-9A-Za-z-]{4,})\s*;", flat)
        if found and (reporting is None or (by and by.group(1).lower() == reporting.lower())):
            return found.group(1)
    return None


def _typed(value: str | None) -> str | None:
    """A `type; value` field (rfc822; a@b, dns; host, smtp; 550 ...) without its type."""
    if value is None:
        return None
    text = _unfold(value) or ""
    return (text.split(";", 1)[1] if ";" in text else text).strip() or None


def _unfold(value: str | None) -> str | None:
    return re.sub(r"\s*\r?\n\s+", " ", value).strip() if value else None


def _date(value: str | None) -> Any:
    if not value:
        return None
    try:
        return parsedate_to_datetime(_unfold(value) or "")
    except (TypeError, ValueError):
        return None


def _first_id(value: str | None) -> str | None:
    found = re.search(r"<[^>]+>", value or "")
    return found.group(0) if found else None


def _subject(orig: Message | None) -> str | None:
    if orig is None or not orig.get("Subject"):
        return None
    parts = email.header.decode_header(orig.get("Subject"))
    return "".join(p.decode(c or "utf-8", errors="replace") if isinstance(p, bytes) else p
                   for p, c in parts).strip() or None


def _block_text(block: Message) -> str:
    return "\n".join(f"{k}: {_unfold(v)}" for k, v in block.items())


def _line_of(text: str, needle: str) -> int:
    """The 1-based line of the Final-Recipient field with this address (0 if not found)."""
    pattern = re.compile(r"^Final-Recipient:[^\n]*" + re.escape(needle), re.I | re.M)
    found = pattern.search(text) if needle else None
    return text.count("\n", 0, found.start()) + 1 if found else 0
