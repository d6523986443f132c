"""Mailchimp Marketing API email activity (`GET /3.0/reports/{campaign_id}/email-activity`).

Layout: ../shared/formats/esp_exports.md section 6 and
https://mailchimp.com/developer/marketing/api/email-activity/ .
`{"emails": [{campaign_id, email_address, activity: [{action, type, timestamp, ...}]}]}`:
one row per activity; no SMTP text and no remote ID exist in this API.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ._base import ParseOptions, ParseResult, Rejected, register
from ._io import SourceFile
from ._json import dumps, finish, head_keys, not_object, read_records, text, time_text

ACTIONS = {"open": "opened", "click": "clicked", "bounce": "bounced"}
BOUNCE_TYPES = {"hard": "hard", "soft": "soft"}
_EMAIL_KEYS = ("campaign_id", "list_id", "email_id", "email_address")


def _rows(rec_no: int, email: dict[str, Any]) -> list[dict[str, Any]]:
    head = {k: email[k] for k in _EMAIL_KEYS if k in email}
    activity = email.get("activity")
    if not isinstance(activity, list):
        activity = [activity] if activity else []
    rows = []
    for act in activity:
        act = act if isinstance(act, dict) else {"action": act}
        word = text(act.get("action"))
        kind = (word or "").lower()
        rows.append({
            "row_no": rec_no, "raw": dumps({**head, **act}), "event": ACTIONS.get(kind),
            "_word": word, "recipient": text(email.get("email_address")),
            "_time": time_text(act.get("timestamp")),
            "campaign": text(email.get("campaign_id")),
            "bounce_type": BOUNCE_TYPES.get(text(act.get("type")) or "")
            if kind == "bounce" else None,
        })
    return rows


@register
class MailchimpActivity:
    NAME = "mailchimp_json"
    SIDE = "esp"
    DESCRIPTION = "Mailchimp campaign email activity (Marketing API JSON)"

    def sniff(self, src: SourceFile) -> float:
        keys = head_keys(src)
        if {"emails", "activity"} <= keys and keys & {"email_address", "campaign_id"}:
            return 0.95
        if {"email_address", "activity", "action"} <= keys:
            return 0.9
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        rows: list[dict[str, Any]] = []
        rejected: list[Rejected] = []
        quiet = 0
        for rec in read_records(src, "emails"):
            if not isinstance(rec.obj, dict):
                rejected.append(not_object(rec, "a Mailchimp email entry"))
                continue
            found = _rows(rec.row_no, rec.obj)
            if not found and text(rec.obj.get("email_address")):
                # Every recipient is listed, most with `activity: []`; without a time
                # stamp there is no row to make, so they are only counted.
                quiet += 1
            elif not found:
                rejected.append(Rejected(rec.row_no, rec.raw, "no email_address and no activity"))
            rows.extend(found)
        return finish(src, con, rows, rejected, opts, time_field="timestamp", offsets=True,
                      events="action " + ", ".join(ACTIONS),
                      notes={"emails_without_activity": quiet} if quiet else {})
