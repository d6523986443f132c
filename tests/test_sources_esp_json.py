"""ESP JSON exports (SendGrid, Mailgun, SES, Postmark, Mailchimp, Campaign Monitor API).

One harness over a table of files -> format, counts, events and exact field values.
Expected values come from samples/STORY.md ("Where the same event appears twice" lists
which messages each ESP file re-tells); the counts are the records in each file.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from analysis import sources
from analysis.cli import main
from analysis.sources import _json
from analysis.sources._base import ParseOptions
from analysis.sources._io import open_inputs
from analysis.store import Store
from tests.conftest import FIXTURES, SAMPLE_TZ, SAMPLES

ESP = SAMPLES / "esp"
VARIANTS_DIR = FIXTURES / "esp_json"
SAST = "Africa/Johannesburg"

# samples/STORY.md, message-by-message ground truth.
M = {
    "M01": "alice.nguyen@alpine.example.org", "M02": "ben.okafor@alpine.example.org",
    "M04": "dev.patel@harbor.example.org", "M05": "erin.walsh@maplegrove.example.com",
    "M07": "grace.kim@riverbend.example.net", "M08": "hiro.tanaka@riverbend.example.net",
    "M09": "ivan.petrov@fabrikam.example.net", "M10": "julia.schmidt@fabrikam.example.net",
    "M11": "kofi.mensah@oakridge.example.org", "M13": "marco.rossi@pine.example.org",
    "M14": "nadia.ali@tinker.example.com", "M15": "oscar.lind@legacy.example.net",
    "M17": "rita.costa@quarry.example.net", "M18": "quentin.moreau@tinker.example.com",
}
SUBJECT = "November Newsletter \u2013 Trail season is here"
M01_REPLY = ("250 2.6.0 <20251104090003.98a552b127c2@mta4.esp.example.net> [InternalId=13915694305542, "
             "Hostname=AM9PR05MB8421.eurprd05.prod.outlook.com] 48211 bytes in 0.214, 219.935 KB/sec "
             "Queued mail for delivery")
M04_REPLY = ("550 5.4.1 Recipient address rejected: Access denied. For more information see "
             "https://aka.ms/EXOSmtpErrors [MW2NAM12FT031.eop-nam12.prod.protection.outlook.com "
             "2025-11-04T09:00:06.884Z 08DE1B7C2A94F3E1]")
M08_REPLY = ("452-4.2.2 The recipient's inbox is out of storage space. Please direct the 452-4.2.2 "
             "recipient to 452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp "
             "6a1803df08f44-88d6c3a1b2fsi41250946d6.301 - gsmtp")
M13_REPLY = ("550 5.1.1 <marco.rossi@pine.example.org>: Recipient address rejected: User unknown in "
             "virtual mailbox table")
M11_REPLY = "250 2.0.0 Ok: queued as 4F2A91C0B37"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Row:
    """Expected fields of the nth row (by event_time) of one recipient and event."""

    who: str  # an M-number or an address
    event: str
    fields: dict[str, Any]
    nth: int = 0


@dataclass(frozen=True)
class Case:
    path: Path
    format: str
    counts: tuple[int, int, int]  # rows read, loaded, rejected
    events: dict[str, int]
    story: tuple[str, ...] = ()  # the messages the file re-tells (all of its recipients)
    rows: tuple[Row, ...] = ()
    sql: tuple[tuple[str, Any], ...] = ()  # (query giving one value, expected)
    rejected: tuple[tuple[int, str], ...] = ()  # (row_no, error prefix)
    tz: str = "UTC"
    file_tz: str = "file"
    notes: dict[str, Any] = field(default_factory=dict)


SAMPLE_CASES = [
    Case(ESP / "sendgrid_event_webhook.json", "sendgrid_json", (15, 15, 0),
         {"sent": 5, "delivered": 3, "opened": 1, "clicked": 1, "deferred": 2, "bounced": 2,
          "unsubscribed": 1},
         story=("M01", "M04", "M05", "M08", "M11"),
         rows=(
             Row("M01", "delivered", {
                 "row_no": 2, "event_time": utc(2025, 11, 4, 9, 0, 3), "smtp_text": M01_REPLY,
                 "smtp_code": 250, "enhanced_code": "2.6.0", "remote_id": None,
                 "campaign": "november-newsletter",
                 "message_id": "<20251104090003.98a552b127c2@mta4.esp.example.net>",
                 "esp_message_id": "e8f9b7f6de4c466489c66e.recvd-7f9c4b6d58-x2k4q-1-6909C057-35.0"}),
             Row("M01", "sent", {"row_no": 1, "smtp_text": None, "smtp_code": None}),
             Row("M04", "bounced", {
                 "event_time": utc(2025, 11, 4, 9, 0, 6), "smtp_text": M04_REPLY, "smtp_code": 550,
                 "enhanced_code": "5.4.1", "bounce_type": "hard",
                 "bounce_reason": "Invalid Address"}),
             Row("M05", "clicked", {"event_time": utc(2025, 11, 4, 10, 3, 40)}),
             Row("M08", "deferred", {"event_time": utc(2025, 11, 4, 9, 15, 11), "smtp_code": 452,
                                     "bounce_type": None}, nth=1),
             Row("M08", "bounced", {
                 "event_time": utc(2025, 11, 7, 9, 0, 12), "smtp_text": M08_REPLY, "smtp_code": 452,
                 "enhanced_code": "4.2.2", "bounce_type": "soft",
                 "bounce_reason": "Mailbox Unavailable"}),
             Row("M11", "delivered", {"smtp_text": M11_REPLY, "smtp_code": 250}),
             Row("M11", "unsubscribed", {"event_time": utc(2025, 11, 5, 7, 15)}),
         )),
    Case(ESP / "mailgun_events.json", "mailgun_json", (6, 6, 0),
         {"sent": 1, "delivered": 2, "bounced": 2, "deferred": 1},
         story=("M01", "M04", "M08", "M11"),
         rows=(
             Row("M01", "delivered", {
                 "row_no": 2, "event_time": utc(2025, 11, 4, 9, 0, 3, 412000),
                 "smtp_text": M01_REPLY, "smtp_code": 250, "enhanced_code": "2.6.0",
                 "campaign": "november-newsletter", "subject": SUBJECT, "name": "Alice Nguyen",
                 "sender": "bnc-778e0023@bounce.esp.example.net",
                 "message_id": "<20251104090003.98a552b127c2@mta4.esp.example.net>",
                 "esp_message_id": "f8a952f0963c4aa24077f8", "remote_id": None}),
             Row("M01", "sent", {"row_no": 1, "event_time": utc(2025, 11, 4, 9, 0, 1, 412000)}),
             Row("M04", "bounced", {
                 "smtp_text": M04_REPLY, "smtp_code": 550, "enhanced_code": "5.4.1",
                 "bounce_type": "hard", "bounce_reason": "bounce"}),
             Row("M08", "deferred", {
                 "event_time": utc(2025, 11, 4, 9, 0, 11, 902000), "smtp_code": 452,
                 "enhanced_code": "4.2.2", "bounce_type": None, "bounce_reason": "generic"}),
             # severity permanent only because Mailgun gave up on a 452: soft (STORY M08).
             Row("M08", "bounced", {"event_time": utc(2025, 11, 7, 9, 0, 12), "smtp_code": 452,
                                    "bounce_type": "soft", "row_no": 6}),
             Row("M11", "delivered", {"smtp_text": M11_REPLY}),
         )),
    Case(ESP / "ses_sns_notifications.jsonl", "ses_json", (10, 10, 0),
         {"delivered": 6, "bounced": 3, "complained": 1},
         story=("M01", "M05", "M09", "M11", "M15", "M18", "M04", "M13", "M08", "M02"),
         rows=(
             Row("M01", "delivered", {
                 "row_no": 1, "smtp_text": M01_REPLY, "smtp_code": 250,
                 "event_time": utc(2025, 11, 4, 9, 0, 4, 52000),
                 "esp_message_id": "0102019a4e864886-8648865f-d4e0-0b10-1f54-aa4fefa3aac8-000000",
                 "sender": "bnc-778e0023@bounce.esp.example.net", "message_id": None}),
             Row("M04", "bounced", {
                 "row_no": 7, "smtp_text": M04_REPLY, "smtp_code": 550, "enhanced_code": "5.4.1",
                 "bounce_type": "hard", "bounce_reason": "General",
                 "event_time": utc(2025, 11, 4, 9, 0, 7, 385000)}),
             Row("M13", "bounced", {"smtp_text": M13_REPLY, "smtp_code": 550,
                                    "enhanced_code": "5.1.1", "bounce_type": "hard",
                                    "bounce_reason": "NoEmail"}),
             Row("M08", "bounced", {"smtp_text": M08_REPLY, "smtp_code": 452,
                                    "enhanced_code": "4.2.2", "bounce_type": "soft",
                                    "bounce_reason": "MailboxFull"}),
             Row("M02", "complained", {"row_no": 10, "event_time": utc(2025, 11, 4, 16, 27, 45),
                                       "smtp_text": None}),
             Row("M15", "delivered", {
                 "smtp_text": "250 2.0.0 5A490Pb7004187 Message accepted for delivery"}),
             Row("M18", "delivered", {"smtp_text": "250 OK id=1vGCu1-00000000L8K-3mS2",
                                      "smtp_code": 250, "enhanced_code": None}),
         ),
         sql=(("SELECT count(*) FROM sends WHERE event = 'delivered' AND smtp_code = 250 "
               "AND smtp_text LIKE '250 %'", 6),)),
    Case(ESP / "postmark_bounces.json", "postmark_json", (4, 4, 0), {"bounced": 4},
         story=("M04", "M13", "M08", "M14"),
         rows=(
             Row("M04", "bounced", {
                 "row_no": 1, "smtp_text": M04_REPLY, "smtp_code": 550, "enhanced_code": "5.4.1",
                 "bounce_type": "hard", "bounce_reason": "Hard bounce",
                 "event_time": utc(2025, 11, 4, 9, 0, 6, 884000),
                 "esp_message_id": "1199a8a7-590a-fb9f-9331-6a738dc78c0d",
                 "campaign": "november-newsletter", "subject": SUBJECT,
                 "sender": "news@brightpath.example.com", "message_id": None}),
             Row("M13", "bounced", {"smtp_text": M13_REPLY, "bounce_type": "hard"}),
             Row("M08", "bounced", {"event_time": utc(2025, 11, 7, 9, 0, 12), "smtp_code": 452,
                                    "bounce_type": "soft",
                                    "bounce_reason": "Soft bounce/Undeliverable"}),
             Row("M14", "bounced", {
                 "smtp_text": "550 Your message scored 12.4 SpamAssassin points and was "
                              "classified as spam",
                 "smtp_code": 550, "enhanced_code": None, "bounce_type": None,
                 "bounce_reason": "Spam notification",
                 "event_time": utc(2025, 11, 4, 9, 0, 23, 412345)}),
         )),
    Case(ESP / "mailchimp_email_activity.json", "mailchimp_json", (5, 5, 0),
         {"bounced": 3, "opened": 1, "clicked": 1},
         story=("M04", "M05", "M08", "M13"),
         rows=(
             Row("M04", "bounced", {"row_no": 1, "bounce_type": "hard", "campaign": "4e1b9c7d2a",
                                    "event_time": utc(2025, 11, 4, 9, 0, 6), "smtp_text": None}),
             Row("M05", "opened", {"row_no": 2, "event_time": utc(2025, 11, 4, 10, 3, 11)}),
             Row("M05", "clicked", {"row_no": 2, "event_time": utc(2025, 11, 4, 10, 3, 40),
                                    "bounce_type": None}),
             Row("M08", "bounced", {"row_no": 3, "bounce_type": "soft",
                                    "event_time": utc(2025, 11, 7, 9, 0, 12)}),
             Row("M13", "bounced", {"row_no": 4, "bounce_type": "hard"}),
         ),
         sql=(("SELECT count(*) FROM sends WHERE smtp_text IS NOT NULL OR remote_id IS NOT NULL",
               0),)),
    Case(ESP / "campaignmonitor_api_campaign_bounces.json", "campaignmonitor_api_json",
         (7, 7, 0), {"bounced": 7},
         story=("M04", "M07", "M10", "M13", "M14", "M17", "M08"),
         tz=SAMPLE_TZ["esp/campaignmonitor_api_campaign_bounces.json"], file_tz=SAST,
         rows=(
             # 11:00:06 in the client's zone (SAST, UTC+2) is 09:00:06 UTC.
             Row("M04", "bounced", {"row_no": 1, "event_time": utc(2025, 11, 4, 9, 0, 6),
                                    "bounce_type": "hard", "bounce_reason": "Hard Bounce",
                                    "smtp_text": None, "smtp_code": None}),
             Row("M07", "bounced", {"event_time": utc(2025, 11, 4, 9, 0, 10), "bounce_type": "hard"}),
             Row("M10", "bounced", {"event_time": utc(2025, 11, 4, 9, 0, 18), "bounce_type": "hard"}),
             Row("M13", "bounced", {"event_time": utc(2025, 11, 4, 9, 0, 21), "bounce_type": "hard"}),
             Row("M14", "bounced", {"event_time": utc(2025, 11, 4, 9, 0, 23), "bounce_type": "soft",
                                    "bounce_reason": "Soft Bounce - General"}),
             Row("M17", "bounced", {"event_time": utc(2025, 11, 4, 9, 0, 33), "bounce_type": "soft",
                                    "bounce_reason": "Soft Bounce - Mailbox Full"}),
             Row("M08", "bounced", {"row_no": 7, "event_time": utc(2025, 11, 7, 9, 0, 12),
                                    "bounce_type": "soft"}),
         )),
]

V = VARIANTS_DIR
FIXTURE_CASES = [
    Case(V / "ses-01-sns-envelopes.jsonl", "ses_json", (4, 3, 1), {"bounced": 2, "delivered": 1},
         rows=(
             Row("M04", "bounced", {
                 "row_no": 2, "smtp_text": M04_REPLY, "campaign": "November Newsletter",
                 "subject": SUBJECT, "bounce_type": "hard",
                 "message_id": "<20251104090006.ee85d8164be5@mta4.esp.example.net>"}),
             # `"Marco Rossi" <marco.rossi@...>` in bouncedRecipients: the address is kept.
             Row("M13", "bounced", {"row_no": 2, "smtp_text": M13_REPLY, "enhanced_code": "5.1.1"}),
             Row("M11", "delivered", {"row_no": 3, "smtp_text": M11_REPLY}),
         ),
         rejected=((4, "the SNS Message is not JSON"),),
         notes={"skipped_sns_messages": 1}),
    Case(V / "ses-02-sns-envelope.json", "ses_json", (2, 2, 0), {"bounced": 2},
         rows=(Row("M04", "bounced", {"row_no": 1, "smtp_code": 550}),
               Row("M13", "bounced", {"row_no": 1, "smtp_code": 550}))),
    Case(V / "ses-03-event-publishing.json", "ses_json", (6, 5, 1),
         {"sent": 1, "deferred": 1, "bounced": 1, "opened": 1, "clicked": 1},
         rows=(
             Row("M08", "sent", {"row_no": 1, "event_time": utc(2025, 11, 4, 9, 0, 11, 902000),
                                 "campaign": SUBJECT}),
             Row("M08", "deferred", {"event_time": utc(2025, 11, 4, 9, 15, 11), "smtp_code": 452,
                                     "enhanced_code": "4.2.2", "bounce_reason": "MailboxFull",
                                     "smtp_text": M08_REPLY}),
             Row("M08", "bounced", {"event_time": utc(2025, 11, 7, 9, 0, 12),
                                    "bounce_type": "soft"}),
             Row("M08", "clicked", {"row_no": 5, "event_time": utc(2025, 11, 7, 10, 0, 30)}),
         ),
         rejected=((6, "unknown event Rendering Failure"),)),
    Case(V / "mailgun-01-webhook.json", "mailgun_json", (1, 1, 0), {"bounced": 1},
         rows=(Row("M04", "bounced", {"row_no": 1, "smtp_text": M04_REPLY,
                                      "esp_message_id": "3e40c4c356f29f51fd996f"}),)),
    Case(V / "mailgun-02-event-data.jsonl", "mailgun_json", (6, 5, 1),
         {"opened": 1, "clicked": 1, "complained": 1, "bounced": 1, "unsubscribed": 1},
         rows=(
             Row("M05", "clicked", {"row_no": 2, "event_time": utc(2025, 11, 4, 10, 3, 40, 250000),
                                    "campaign": "November Newsletter"}),
             # Mailgun's own 605 (suppressed) is not an SMTP reply code.
             Row("M04", "bounced", {"row_no": 4, "smtp_code": None, "bounce_reason": "suppress-bounce",
                                    "smtp_text": "Not delivering to previously bounced address"}),
         ),
         rejected=((5, "unknown event stored"),)),
    Case(V / "sendgrid-01-posts.jsonl", "sendgrid_json", (5, 3, 2),
         {"sent": 1, "delivered": 1, "bounced": 1},
         rows=(
             Row("M01", "delivered", {"row_no": 1, "smtp_text": M01_REPLY}),
             Row("M04", "bounced", {"row_no": 2, "smtp_text": None, "bounce_type": None,
                                    "bounce_reason": "Bounced Address",
                                    "campaign": "november-newsletter, resend"}),
         ),
         rejected=((4, "unknown event group_resubscribe"), (5, "no recipient address"))),
    Case(V / "sendgrid-02-email-activity-reconstructed.csv", "sendgrid_csv", (3, 3, 0),
         {"delivered": 1, "bounced": 1, "deferred": 1}, file_tz="UTC",
         rows=(Row("M04", "bounced", {"row_no": 3, "smtp_code": 550, "enhanced_code": "5.4.1",
                                      "event_time": utc(2025, 11, 4, 9, 0, 6)}),)),
    Case(V / "postmark-01-webhooks.jsonl", "postmark_json", (5, 5, 0),
         {"delivered": 1, "complained": 1, "opened": 1, "clicked": 1, "unsubscribed": 1},
         rows=(
             Row("M01", "delivered", {"row_no": 1, "smtp_text": M01_REPLY + " -> 250 2.1.5",
                                      "event_time": utc(2025, 11, 4, 9, 0, 3, 412000)}),
             Row("M02", "complained", {"event_time": utc(2025, 11, 4, 16, 27, 45),
                                       "smtp_text": None, "bounce_type": None}),
             Row("M11", "unsubscribed", {"row_no": 5, "event_time": utc(2025, 11, 5, 7, 15)}),
         )),
    Case(V / "campaignmonitor-01-touchbasepro-page.json", "campaignmonitor_api_json",
         (6, 4, 2), {"bounced": 2, "opened": 1, "clicked": 1}, tz=SAST, file_tz=SAST,
         rows=(
             # A stamp with its own offset keeps it; naive ones are read in the client zone.
             Row("M07", "bounced", {"event_time": utc(2025, 11, 4, 9, 0, 10)}),
             Row("nobody@riverbend.example.net", "bounced", {
                 "event_time": utc(2010, 10, 25, 10, 28), "bounce_type": "soft",
                 "bounce_reason": "Bounce - But No Email Address Returned"}),
             Row("M05", "opened", {"event_time": utc(2025, 11, 4, 10, 3, 11)}),
             Row("M05", "clicked", {"row_no": 4}),
         ),
         rejected=((5, "unknown event missing (no BounceType"), (6, "no recipient address"))),
]
ALL_CASES = SAMPLE_CASES + FIXTURE_CASES
MINE = {"sendgrid_json", "sendgrid_csv", "mailgun_json", "ses_json", "postmark_json",
        "mailchimp_json", "campaignmonitor_api_json"}


def _id(case: Case) -> str:
    return case.path.name


def load(store: Store, path: Path | str, tz: str = "UTC"):
    (r,) = store.load_files([path], opts=ParseOptions(tz=tz))
    return r


def event_counts(store: Store) -> dict[str, int]:
    df = store.df("SELECT event, count(*) AS n FROM sends GROUP BY event")
    return dict(zip(df["event"], df["n"].astype(int), strict=True))


def plain(value: Any) -> Any:
    """A frame cell as a plain Python value (NULL -> None, stamps -> datetime)."""
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    try:
        if value is None or value != value:  # NaN / NaT
            return None
    except TypeError:  # pd.NA
        return None
    return value.item() if hasattr(value, "item") else value


def the_row(store: Store, row: Row) -> dict[str, Any]:
    rcpt = M.get(row.who, row.who)
    df = store.df("SELECT * FROM sends WHERE recipient = ? AND event = ? "
                  "ORDER BY event_time, row_no", [rcpt, row.event])
    assert len(df) > row.nth, f"no row {row.nth} for {rcpt} {row.event}"
    return {k: plain(v) for k, v in df.iloc[row.nth].to_dict().items()}


def check_case(store: Store, case: Case, r) -> None:
    assert r.error is None, r.error
    assert (r.format, r.side) == (case.format, "esp")
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == case.counts
    assert event_counts(store) == case.events
    for row in case.rows:
        actual = the_row(store, row)
        for key, expected in row.fields.items():
            assert actual[key] == expected, (row.who, row.event, key)


@pytest.mark.parametrize("case", ALL_CASES, ids=_id)
def test_file_loads_as_the_story_says(store: Store, case: Case) -> None:
    r = load(store, case.path, case.tz)
    check_case(store, case, r)
    assert r.tz == case.file_tz
    if case.story:
        got = set(store.df("SELECT DISTINCT recipient FROM sends")["recipient"])
        assert got == {M[m] for m in case.story}
    for sql, expected in case.sql:
        assert store.df(sql).iloc[0, 0] == expected, sql
    rej = store.rejected(r.import_id)
    assert len(rej) == len(case.rejected)
    for (row_no, prefix), (_, got) in zip(case.rejected, rej.iterrows(), strict=True):
        assert (int(got["row_no"]), got["error"][: len(prefix)]) == (row_no, prefix)
        assert got["raw"]
    for key, value in case.notes.items():
        assert r.notes[key] == value
    if case.format != "sendgrid_csv":  # every JSON row keeps its record's JSON text
        raws = store.df("SELECT recipient, raw FROM sends")
        for recipient, raw in zip(raws["recipient"], raws["raw"], strict=True):
            assert recipient in json.dumps(json.loads(raw), ensure_ascii=False).lower()


# --- sniffing: every file goes to its own parser, none claims another's -------------------
SNIFF_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix != ".md")
SNIFF_FILES += sorted(VARIANTS_DIR.iterdir())
OWNER = {c.path.name: c.format for c in ALL_CASES}


@pytest.mark.parametrize("path", SNIFF_FILES, ids=lambda p: p.name)
def test_sniffing_is_exclusive(path: Path) -> None:
    own = OWNER.get(path.name)
    with open_inputs([path]) as (src,):
        scores = {name: sources.REGISTRY[name].sniff(src) for name in sorted(MINE)}
        chosen = sources.sniff(src)[0].format if own else None
    assert {n: s for n, s in scores.items() if n != own and s} == {}
    if own:
        assert scores[own] >= 0.9
        assert chosen == own


# --- the same bytes wrapped differently load the same ------------------------------------
def _bytes(case: Case) -> bytes:
    return case.path.read_bytes()


def _text(case: Case) -> str:
    return case.path.read_text(encoding="utf-8")


def _zip(case: Case) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"export/{case.path.name}", _bytes(case))
    return buf.getvalue()


WRAPS = {
    "bom": (lambda c: codecs.BOM_UTF8 + _bytes(c), ""),
    "crlf": (lambda c: _text(c).replace("\n", "\r\n").encode("utf-8"), ""),
    "utf16": (lambda c: codecs.BOM_UTF16_LE + _text(c).encode("utf-16-le"), ""),
    "gz": (lambda c: gzip.compress(_bytes(c), mtime=0), ".gz"),
    "zip": (_zip, ".zip"),
}


@pytest.mark.parametrize("wrap", sorted(WRAPS))
@pytest.mark.parametrize("case", SAMPLE_CASES, ids=_id)
def test_variants_load_the_same(store: Store, tmp_path: Path, case: Case, wrap: str) -> None:
    make, suffix = WRAPS[wrap]
    path = tmp_path / (case.path.name + suffix)
    path.write_bytes(make(case))
    r = load(store, path, case.tz)
    check_case(store, case, r)
    if wrap == "zip":
        assert r.file == f"{path.name}:export/{case.path.name}"


# --- bad records and bad files ------------------------------------------------------------
def _first(doc: Any, key: str | None) -> list[Any]:
    return doc[key] if key else doc


# Per sample: the list of records, and how to take away a record's recipient, its time
# and make its event unknown (None where the format has no event word).
BREAK: dict[str, tuple[str | None, Any, Any, Any]] = {
    "sendgrid_json": (None, lambda r: r.pop("email"), lambda r: r.pop("timestamp"),
                      lambda r: r.update(event="exploded")),
    "mailgun_json": ("items", lambda r: r.pop("recipient"), lambda r: r.pop("timestamp"),
                     lambda r: r.update(event="exploded")),
    "ses_json": (None, lambda r: r["delivery"].update(recipients=[]),
                 lambda r: (r["delivery"].pop("timestamp"), r["mail"].pop("timestamp")),
                 lambda r: r.update(notificationType="Exploded")),
    "postmark_json": ("Bounces", lambda r: r.pop("Email"), lambda r: r.pop("BouncedAt"),
                      lambda r: r.update(RecordType="Exploded")),
    "mailchimp_json": ("emails", lambda r: r.pop("email_address"),
                       lambda r: r["activity"][0].pop("timestamp"),
                       lambda r: r["activity"][0].update(action="exploded")),
    "campaignmonitor_api_json": ("Results", lambda r: r.pop("EmailAddress"),
                                 lambda r: r.update(Date="31/31/2025 99:00"), None),
}


@pytest.mark.parametrize("case", SAMPLE_CASES, ids=_id)
def test_bad_records_are_rejected_with_reasons(store: Store, tmp_path: Path, case: Case) -> None:
    key, no_rcpt, no_time, bad_event = BREAK[case.format]
    if case.path.suffix == ".jsonl":
        records = [json.loads(line) for line in _text(case).splitlines()]
    else:
        doc = json.loads(_text(case))
        records = _first(doc, key)
    no_rcpt(records[0])
    no_time(records[1])
    if bad_event:
        bad_event(records[2])
    path = tmp_path / case.path.name
    if case.path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        path.write_text(json.dumps(doc, indent=2))
    r = load(store, path, case.tz)
    n_bad = 3 if bad_event else 2
    read = case.counts[0]
    assert (r.format, r.rows_read, r.rows_loaded, r.rows_rejected) == (
        case.format, read, read - n_bad, n_bad)
    rej = store.rejected(r.import_id)
    assert rej["row_no"].tolist() == [1, 2, 3][:n_bad]
    errors = rej["error"].tolist()
    assert errors[0] == "no recipient address"
    assert errors[1].startswith(("no time in", "unreadable time 31/31/2025 99:00 in Date"))
    if bad_event:
        assert errors[2].lower().startswith("unknown event exploded (expected ")
    assert all(rej["raw"].str.len() > 10)


def _broken(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BROKEN = [
    # A missing comma in the second record of an array.
    ("sendgrid.json",
     '[\n  {"email": "a@example.com", "event": "open", "timestamp": 1762246802, '
     '"sg_event_id": "x1"},\n  {"email": "b@example.com" "event": "open"}\n]\n',
     "sendgrid.json, line 3: invalid JSON: Expecting ',' delimiter"),
    # JSON lines whose fifth line was cut.
    ("ses.jsonl",
     "".join((ESP / "ses_sns_notifications.jsonl").read_text().splitlines(True)[:4])
     + (ESP / "ses_sns_notifications.jsonl").read_text().splitlines(True)[4][:150] + "\n"
     + (ESP / "ses_sns_notifications.jsonl").read_text().splitlines(True)[5],
     "ses.jsonl, line 5: invalid JSON: Unterminated string"),
    # A page cut in the middle of line 35 (a truncated download).
    ("postmark.json", (ESP / "postmark_bounces.json").read_text()[:1500],
     "postmark.json, line 35: invalid JSON: Unterminated string"),
]


@pytest.mark.parametrize(("name", "text", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_json_names_the_line(store: Store, tmp_path: Path, name: str, text: str,
                                    message: str) -> None:
    r = load(store, _broken(tmp_path, name, text))
    assert r.error is not None and r.error.startswith(message), r.error
    assert "\n" not in r.error and "Traceback" not in r.error
    assert store.df("SELECT count(*) AS n FROM imports")["n"][0] == 0


@pytest.mark.parametrize("case", SAMPLE_CASES, ids=_id)
def test_reload_is_skipped(store: Store, case: Case) -> None:
    first = load(store, case.path, case.tz)
    again = load(store, case.path, case.tz)
    assert again.skipped and again.import_id == first.import_id
    assert again.rows_loaded == case.counts[1]
    assert store.df("SELECT count(*) AS n FROM sends")["n"][0] == case.counts[1]


# --- through the CLI ----------------------------------------------------------------------
@pytest.mark.parametrize("case", SAMPLE_CASES, ids=_id)
def test_cli_load_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: Case) -> None:
    ws = str(tmp_path / "w.duckdb")
    args = ["load", str(case.path), "--workspace", ws, "--json", "--tz", case.tz]
    assert main(args) == 0
    (out,) = json.loads(capsys.readouterr().out)
    read, loaded, rejected = case.counts
    assert {k: out[k] for k in ("file", "format", "side", "rows_read", "rows_loaded",
                                "rows_rejected", "skipped")} == {
        "file": case.path.name, "format": case.format, "side": "esp", "rows_read": read,
        "rows_loaded": loaded, "rows_rejected": rejected, "skipped": False}
    assert main(args) == 0
    (again,) = json.loads(capsys.readouterr().out)
    assert (again["skipped"], again["rows_loaded"]) == (True, loaded)


def test_cli_broken_json_exits_2_with_one_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    name, text, message = BROKEN[0]
    path = _broken(tmp_path, name, text)
    assert main(["load", str(path), "--workspace", str(tmp_path / "w.duckdb")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"delivery-trace: {message}") and "\n" not in err


# --- the shared helpers -------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    (1762246802, "1762246802"), (1762246801.412, "1762246801.412"),
    (1762246802000, "1762246802"), ("1762246802123", "1762246802.123"),
    ("2014-01-15T16:09:19.6421112-05:00", "2014-01-15T16:09:19.6421112-05:00"),
    (None, None), (True, None), ("", None),
])
def test_time_text(value: Any, expected: str | None) -> None:
    assert _json.time_text(value) == expected


def test_text_helpers() -> None:
    assert _json.strip_smtp("smtp; 550 5.1.1 unknown") == "550 5.1.1 unknown"
    assert _json.strip_smtp("SMTP;250 2.0.0 OK") == "250 2.0.0 OK"
    assert _json.strip_smtp("smtp;") is None
    assert _json.bracketed("abc@host") == "<abc@host>"
    assert _json.bracketed("<abc@host>") == "<abc@host>"
    assert _json.address('"Rossi, Marco" <marco.rossi@pine.example.org>') == \
        "marco.rossi@pine.example.org"
    assert _json.display_name("Alice Nguyen <alice@example.org>") == "Alice Nguyen"
    assert _json.text(["a", None, "b"]) == "a, b"
    assert _json.text(2.0) == "2"


def test_json_lines_keep_line_separators_inside_strings(store: Store, tmp_path: Path) -> None:
    event = {"email": "a@example.com", "timestamp": 1762246802, "event": "delivered",
             "sg_event_id": "x", "response": "250 ok\u2028queued"}
    path = tmp_path / "sg.jsonl"
    path.write_text(json.dumps(event, ensure_ascii=False) + "\n" + json.dumps(event) + "\n")
    r = load(store, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("sendgrid_json", 2, 0)
    assert store.df("SELECT row_no FROM sends ORDER BY 1")["row_no"].tolist() == [1, 2]
