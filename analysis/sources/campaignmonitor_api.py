"""Campaign Monitor / TouchBasePro API v3.3 campaign pages: bounces (and opens, clicks).

Layout: ../shared/formats/esp_exports.md section 1.2-1.3 and
https://www.campaignmonitor.com/api/v3-3/campaigns/ . A page is `{"Results": [...],
"ResultsOrderedBy", "PageNumber", ...}`; a bounce result is {EmailAddress, ListID,
BounceType, Date, Reason}. Dates are in the **client's time zone** without an offset
(opts.tz); TouchBasePro also writes `2010-10-25T10:28:00.0000000+00:00`, which keeps its
own offset. The API has no SMTP reply and no message ID: only recipient + time join.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ._base import ParseOptions, ParseResult, Rejected, register
from ._io import SourceFile
from ._json import finish, head_keys, not_object, read_records, text, time_text

BOUNCE_TYPES = {"hard": "hard", "soft": "soft"}
_PAGE_KEYS = {"ResultsOrderedBy", "NumberOfPages", "TotalNumberOfRecords", "RecordsOnThisPage"}


def _event(rec: dict[str, Any]) -> tuple[str | None, str]:
    """The sends.event of one result, told apart by its fields (bounces/opens/clicks pages)."""
    if "BounceType" in rec or "Reason" in rec:
        return "bounced", "bounce"
    if "URL" in rec:
        return "clicked", "click"
    if "IPAddress" in rec:
        return "opened", "open"
    # recipients/unsubscribes/spam pages share {EmailAddress, ListID, Date}: the record
    # alone cannot say which of them it is.
    return None, "missing (no BounceType, URL or IPAddress: a recipients, unsubscribes or spam page?)"


def _row(rec_no: int, raw: str, rec: dict[str, Any]) -> dict[str, Any]:
    event, word = _event(rec)
    bounced = event == "bounced"
    return {
        "row_no": rec_no, "raw": raw, "event": event, "_word": word,
        "recipient": text(rec.get("EmailAddress")), "_time": time_text(rec.get("Date")),
        "bounce_type": BOUNCE_TYPES.get((text(rec.get("BounceType")) or "").lower())
        if bounced else None,
        # Reasons such as "Bounce - But No Email Address Returned " end in a space
        # (CM's own client fixtures): text() trims it.
        "bounce_reason": text(rec.get("Reason")) if bounced else None,
        "campaign": text(rec.get("CampaignName")) or text(rec.get("CampaignID")),
    }


@register
class CampaignMonitorApi:
    NAME = "campaignmonitor_api_json"
    SIDE = "esp"
    DESCRIPTION = "Campaign Monitor / TouchBasePro API campaign bounces (or opens, clicks) page (JSON)"

    def sniff(self, src: SourceFile) -> float:
        keys = head_keys(src)
        if {"Results", "EmailAddress"} <= keys and keys & _PAGE_KEYS:
            return 0.95
        if {"EmailAddress", "BounceType", "Date"} <= keys:
            return 0.9
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        rows: list[dict[str, Any]] = []
        rejected: list[Rejected] = []
        for rec in read_records(src, "Results"):
            if not isinstance(rec.obj, dict):
                rejected.append(not_object(rec, "a Campaign Monitor result"))
                continue
            rows.append(_row(rec.row_no, rec.raw, rec.obj))
        return finish(src, con, rows, rejected, opts, time_field="Date", offsets=False,
                      events="a bounce, open or click result")
