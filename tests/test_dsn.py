"""RFC 3464 bounce e-mails (.eml): the Postfix DSN of M17 and the Exchange NDR of M10.

Expected values from samples/STORY.md and the files themselves (dsn.md section 2):
one trace event per per-recipient block, the original Message-ID from the returned
headers, the reporting MTA's queue ID, and variants (CRLF/LF, .gz, message/rfc822).
"""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from analysis import sources
from analysis.sources._base import ParseOptions
from analysis.sources._io import open_inputs
from analysis.store import Store
from tests.conftest import SAMPLES

DSN = SAMPLES / "dsn"


@dataclass(frozen=True)
class Case:
    name: str
    fields: dict[str, Any]


CASES = [
    # M17: Postfix DSN for the amavis-relayed copy 9F1E3C0A45; the bounce itself is 0A6D4C1F77.
    Case("dsn_m17_postfix.eml", {
        "row_no": 46, "event": "bounced", "recipient": "rita.costa@quarry.example.net",
        "orig_recipient": "rita.costa@quarry.example.net", "queue_id": "9F1E3C0A45",
        "message_id": "<20251104090029.a53daedd9ad7@mta4.esp.example.net>",
        "related_id": "0A6D4C1F77", "server": "mx.quarry.example.net",
        "relay": "mail.quarry.example.net", "sender": "bnc-53299bab@bounce.esp.example.net",
        "smtp_code": 552, "enhanced_code": "5.2.2",
        "detail": "552 5.2.2 <rita.costa@quarry.example.net> Quota exceeded (mailbox for user is full)",
        "event_time": dt.datetime(2025, 11, 4, 9, 0, 31, tzinfo=dt.UTC),
        "subject": "November Newsletter \u2013 Trail season is here"}),
    # M10: Exchange NDR, CRLF; no queue ID, the NDR's own Message-ID as related_id.
    Case("ndr_m10_exchange.eml", {
        "row_no": 54, "event": "bounced", "recipient": "julia.schmidt@fabrikam.example.net",
        "queue_id": None, "message_id": "<20251104090014.29f318a58bdb@mta4.esp.example.net>",
        "related_id": "<b7e2c1d04a9f4e6c8d3b2a1f0e9d8c7b@EXCH01.fabrikam.example.net>",
        "server": "EXCH01.fabrikam.example.net", "sender": "bnc-b2ab33fe@bounce.esp.example.net",
        "smtp_code": 550, "enhanced_code": "5.1.1",
        "detail": "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found",
        "event_time": dt.datetime(2025, 11, 4, 9, 0, 14, tzinfo=dt.UTC)}),
]


def rows(store: Store) -> list[dict[str, Any]]:
    df = store.df("SELECT * FROM trace_events ORDER BY import_id, row_no")
    out = df.astype(object).where(df.notna(), None).to_dict("records")
    for r in out:
        r["event_time"] = r["event_time"].to_pydatetime()
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sample(store: Store, case: Case) -> None:
    with open_inputs([DSN / case.name]) as [src]:
        best = sources.sniff(src)[0]
    assert (best.format, best.side) == ("dsn_email", "trace") and best.confidence >= 0.9
    (r,) = store.load_files([DSN / case.name])
    assert r.error is None and (r.rows_read, r.rows_loaded, r.rows_rejected) == (1, 1, 0)
    assert r.tz == "file"
    (row,) = rows(store)
    assert {k: row[k] for k in case.fields} == case.fields
    assert row["raw"].startswith("Final-Recipient:")


def test_gzip_and_line_ends_do_not_matter(store: Store, tmp_path: Path) -> None:
    text = (DSN / "dsn_m17_postfix.eml").read_bytes()
    (tmp_path / "bounce.eml.gz").write_bytes(gzip.compress(text.replace(b"\n", b"\r\n")))
    (r,) = store.load_files([tmp_path / "bounce.eml.gz"])
    assert r.error is None and (r.file, r.format, r.rows_loaded) == ("bounce.eml", "dsn_email", 1)
    assert rows(store)[0]["queue_id"] == "9F1E3C0A45"


def _two_recipient_dsn() -> bytes:
    """The M17 DSN with a second, delayed recipient and the original as message/rfc822."""
    text = (DSN / "dsn_m17_postfix.eml").read_text()
    text = text.replace(
        "Diagnostic-Code: smtp; 552 5.2.2 <rita.costa@quarry.example.net> Quota exceeded (mailbox\n"
        "    for user is full)\n",
        "Diagnostic-Code: smtp; 552 5.2.2 <rita.costa@quarry.example.net> Quota exceeded (mailbox\n"
        "    for user is full)\n\n"
        "Final-Recipient: rfc822; sam.lee@quarry.example.net\n"
        "Action: delayed\nStatus: 4.4.1\n"
        "Last-Attempt-Date: Tue,  4 Nov 2025 10:30:00 +0100 (CET)\n"
        "Diagnostic-Code: X-Postfix; connect to mail.quarry.example.net: Connection refused\n\n"
        "Action: failed\nStatus: 5.0.0\n")
    return text.replace("Content-Type: text/rfc822-headers", "Content-Type: message/rfc822").encode()


def test_several_recipients_rfc822_part_and_a_broken_block(store: Store) -> None:
    (r,) = store.load_files([("two.eml", _two_recipient_dsn())])
    assert r.error is None and (r.rows_read, r.rows_loaded, r.rows_rejected) == (3, 2, 1)
    got = {x["recipient"]: x for x in rows(store)}
    sam = got["sam.lee@quarry.example.net"]
    assert (sam["event"], sam["enhanced_code"], sam["smtp_code"], sam["event_time"]) == (
        "deferred", "4.4.1", None, dt.datetime(2025, 11, 4, 9, 30, tzinfo=dt.UTC))
    assert sam["message_id"] == "<20251104090029.a53daedd9ad7@mta4.esp.example.net>"
    rejected = store.rejected(r.import_id)
    assert rejected["error"].tolist() == ["recipient block without Final-Recipient"]


def test_not_a_bounce(store: Store, tmp_path: Path) -> None:
    mail = b"From: a@example.com\nTo: b@example.com\nSubject: hi\n\nHello\n"
    with open_inputs([("hello.eml", mail)]) as [src]:
        assert sources.get("dsn_email").sniff(src) == 0.0
    (r,) = store.load_files([("hello.eml", mail)], format="dsn_email", opts=ParseOptions())
    assert r.error and "not an RFC 3464 bounce" in r.error
    with open_inputs([SAMPLES / "posix/postfix_syslog.log",
                      SAMPLES / "esp/touchbasepro_activity.csv"]) as srcs:
        assert [sources.get("dsn_email").sniff(s) for s in srcs] == [0.0, 0.0]
