"""On-premises Exchange traces: raw MSGTRK*.LOG files and Get-MessageTrackingLog | Export-Csv.
Expected values: samples/STORY.md (M09, M10, X1 and the noise rows)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest

from analysis.store import Store
from tests.conftest import SAMPLE_TZ, SAMPLES
from tests.trace_harness import (
    Case,
    best_format,
    check_case,
    decode,
    load,
    same_result,
    sample,
    scores,
    variants,
)

MSGTRK = "exchange/MSGTRK20251104-1.LOG"
MSGTRKMD = "exchange/MSGTRKMD20251104-1.LOG"
EXPORT = "exchange/get-messagetrackinglog_export.csv"
M09 = "<20251104090013.f62afa46e397@mta4.esp.example.net>"
M10 = "<20251104090014.29f318a58bdb@mta4.esp.example.net>"
NDR = "<b7e2c1d04a9f4e6c8d3b2a1f0e9d8c7b@EXCH01.fabrikam.example.net>"
X1 = "<20251103154210.5c0ffee1d2a3@mta4.esp.example.net>"

CASES = [
    Case(MSGTRK, "exchange_msgtrk", 8,
         {"received": 2, "other": 4, "failed": 1, "delivered": 1}, kind="msgtrk",
         checks=[
             # M09: RECEIVE on line 6 (after five header lines) with the reply's InternalId.
             (f"message_id = '{M09}' AND event = 'received'",
              {"row_no": 6, "internal_id": "3083786518529", "server": "EXCH01",
               "network_id": "50ab7f88-7ead-a4f4-217e-ca148d7f081d",
               "sender": "bnc-6ff4077e@bounce.esp.example.net",
               "client": "mta4.esp.example.net[198.51.100.24]",
               "event_time": "2025-11-04T09:00:13.288000+00:00",
               "subject": "November Newsletter – Trail season is here"}),
             # M10: FAIL after accept, pointing at the NDR; the DSN points back.
             ("event = 'failed'",
              {"row_no": 11, "message_id": M10, "recipient": "julia.schmidt@fabrikam.example.net",
               "smtp_code": 550, "enhanced_code": "5.1.1", "related_id": NDR,
               "detail": "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"}),
             ("row_no = 12", {"message_id": NDR, "related_id": M10, "event": "other",
                              "internal_id": "3083786518541", "sender": "<>"}),
             # The NDR goes out to the ESP's VERP address.
             ("row_no = 13", {"event": "delivered",
                              "recipient": "bnc-b2ab33fe@bounce.esp.example.net",
                              "relay": "mx.bounce.esp.example.net[198.51.100.30]"}),
         ]),
    Case(MSGTRKMD, "exchange_msgtrk", 5, {"delivered": 5}, kind="msgtrk",
         checks=[(f"message_id = '{M09}'",
                  {"row_no": 8, "internal_id": "3083786518530",
                   "recipient": "ivan.petrov@fabrikam.example.net",
                   "event_time": "2025-11-04T09:00:13.735000+00:00"})]),
    Case(EXPORT, "exchange_trackinglog_csv", 16,
         {"received": 3, "other": 5, "delivered": 7, "failed": 1}, tz="America/New_York",
         checks=[
             # X1: the test send only this export knows; local EST stamps read as such.
             (f"message_id = '{X1}' AND event = 'received'",
              {"event_time": "2025-11-03T15:42:10+00:00", "row_no": 2,
               "internal_id": "3083786503301", "recipient": None,
               "subject": "[TEST] November Newsletter ? Trail season is here"}),
             (f"message_id = '{M09}' AND event = 'received'",
              {"event_time": "2025-11-04T09:00:13+00:00", "internal_id": "3083786518529"}),
             (f"message_id = '{M10}' AND event = 'failed'", {"related_id": None}),
         ]),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_sample_is_sniffed_and_parsed(store: Store, case: Case) -> None:
    assert best_format(sample(case.sample)) == case.fmt
    r = check_case(store, case, sample(case.sample))
    assert r.tz == case.tz
    if case.sample == MSGTRKMD:  # STORY.md "Noise": internal deliveries
        assert store.df("SELECT count(*) AS n FROM trace_events WHERE sender = "
                        "'hr@fabrikam.example.net'")["n"].iloc[0] == 4
    if case.sample == EXPORT:
        assert store.df(f"SELECT count(*) AS n FROM trace_events WHERE message_id = '{X1}'"
                        )["n"].iloc[0] == 3
        assert r.notes["recipients_not_exported"] == 16  # every Recipients is System.String[]


VARIANTS = ["utf8_bom", "utf8_plain", "utf16le_bom", "line_ends", "gz", "zip", "reordered",
            "extra_column"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_variants_give_the_same_events(store: Store, tmp_path: Path, case: Case,
                                       variant: str) -> None:
    base = check_case(store, case, sample(case.sample))
    path = variants(sample(case.sample), case.kind)[variant](tmp_path)
    same_result(store, case, path, base.import_id)


def test_one_server_s_files_load_together(store: Store, tmp_path: Path) -> None:
    bundle = tmp_path / "MessageTracking.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        for rel in (MSGTRK, MSGTRKMD):
            zf.write(sample(rel), Path(rel).name)
    results = store.load_files([bundle])
    assert [(r.format, r.rows_loaded, r.rows_rejected) for r in results] == [
        ("exchange_msgtrk", 8, 0), ("exchange_msgtrk", 5, 0)]
    m09 = store.df(f"SELECT event FROM trace_events WHERE message_id = '{M09}' "
                   "ORDER BY event_time")
    assert m09["event"].tolist() == ["received", "other", "other", "delivered"]


def _log_with(tmp_path: Path, extra_lines: list[str], name: str = "MSGTRK-x.LOG") -> Path:
    text = decode(sample(MSGTRK)).rstrip("\r\n")
    path = tmp_path / name
    path.write_bytes(("\ufeff" + text + "\r\n" + "\r\n".join(extra_lines) + "\r\n")
                     .encode("utf-8"))
    return path


def _data_line(n: int) -> list[str]:
    return decode(sample(MSGTRK)).splitlines()[n - 1].split(",")


def test_multi_recipient_lines_give_one_row_per_recipient(store: Store, tmp_path: Path) -> None:
    f = _data_line(8)  # SEND of M09
    f[12] = "a@fabrikam.example.net;b@fabrikam.example.net;c@fabrikam.example.net"
    f[13] = ("250 2.1.5 Recipient OK;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found;"
             "250 2.1.5 Recipient OK")
    restart = "#Fields: " + decode(sample(MSGTRK)).splitlines()[4].split(": ", 1)[1]
    path = _log_with(tmp_path, ["#Software: Microsoft Exchange Server", restart, ",".join(f)])
    (r,) = load(store, path)
    assert (r.rows_loaded, r.rows_rejected, r.notes["fields_lines"]) == (11, 0, [5, 15])
    rows = store.df("SELECT recipient, detail, enhanced_code FROM trace_events "
                    "WHERE row_no = 16 ORDER BY recipient")
    assert rows.values.tolist() == [
        ["a@fabrikam.example.net", "250 2.1.5 Recipient OK", "2.1.5"],
        ["b@fabrikam.example.net", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "5.1.1"],
        ["c@fabrikam.example.net", "250 2.1.5 Recipient OK", "2.1.5"]]


def test_agentinfo_spam_verdicts(store: Store, tmp_path: Path) -> None:
    """Content filter data on on-premises AGENTINFO rows reads like EXO's (office365.md 7.3)."""
    lines = []
    for di in ("SJ", "SQ", "SD"):
        f = _data_line(7)
        f[26] = f"S:SFA=SUM|SFV=SPM|SCL=6|DI={di}"
        lines.append(",".join(f))
    deliver = decode(sample(MSGTRKMD)).splitlines()[7]  # M09 DELIVER
    path = _log_with(tmp_path, lines + [deliver])
    (r,) = load(store, path)
    assert r.rows_rejected == 0
    got = store.df("SELECT row_no, event FROM trace_events WHERE row_no >= 14 ORDER BY 1")
    assert got["event"].tolist() == ["junk", "quarantined", "dropped", "junk"]


def test_broken_lines_are_rejected_with_their_line_number(store: Store, tmp_path: Path) -> None:
    short = ",".join(_data_line(6)[:20])
    bad_time = ",".join(["2025-11-04 nine o'clock"] + _data_line(6)[1:])
    quote = _data_line(6)
    quote[18] = '"Unclosed subject'
    path = _log_with(tmp_path, [short, bad_time, ",".join(quote)])
    (r,) = load(store, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("exchange_msgtrk", 8, 3)
    rej = store.rejected(r.import_id)
    assert rej["row_no"].tolist() == [14, 15, 16]
    assert rej["error"].iloc[0] == "expected 30 fields (#Fields: line 5), found 20"
    assert "unreadable date-time 2025-11-04 nine o'clock" in rej["error"].iloc[1]
    assert rej["error"].iloc[2] == "malformed CSV quoting"
    assert rej["raw"].iloc[0] == short


def test_fields_line_without_required_field_names_the_line(store: Store, tmp_path: Path) -> None:
    text = decode(sample(MSGTRK)).replace("#Fields: date-time,", "#Fields: when,", 1)
    path = tmp_path / "MSGTRK-nodate.LOG"
    path.write_text(text, encoding="utf-8", newline="")
    (r,) = load(store, path)
    assert r.error and "MSGTRK-nodate.LOG, line 5" in r.error and "date-time" in r.error


def test_export_in_day_first_culture_and_joined_recipients(store: Store, tmp_path: Path) -> None:
    """Export-Csv in en-GB, recipients joined with `-join ';'` (exchange_onprem.md 2.2)."""
    def en_gb(m: re.Match[str]) -> str:
        d = dt.datetime.strptime(m.group(1), "%m/%d/%Y %I:%M:%S %p")
        return d.strftime('"%d/%m/%Y %H:%M:%S"')

    text = re.sub(r'"(\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M)"', en_gb,
                  decode(sample(EXPORT)))
    text = text.replace('"System.String[]","System.String[]","48219"',
                        '"ivan.petrov@fabrikam.example.net;x@fabrikam.example.net",'
                        '"250 2.1.5 Recipient OK;250 2.1.5 Recipient OK","48219"', 1)
    path = tmp_path / "tracking-en-GB.csv"
    path.write_text(text, encoding="utf-8", newline="")
    (r,) = load(store, path, tz="America/New_York")
    # Every day is <= 12 here, so the 24-hour clock is what tells day/month apart.
    assert (r.rows_loaded, r.notes["date_order"]) == (17, "day/month")
    got = store.df(f"SELECT recipient, event_time FROM trace_events WHERE message_id = '{M09}' "
                   "AND event = 'received' ORDER BY recipient")
    assert got["recipient"].tolist() == ["ivan.petrov@fabrikam.example.net",
                                         "x@fabrikam.example.net"]
    assert got["event_time"].iloc[0].isoformat() == "2025-11-04T09:00:13+00:00"


MINE = {"exchange_msgtrk", "exchange_trackinglog_csv", "o365_eac", "o365_messagetrace",
        "o365_messagetracedetail", "o365_historical_summary", "o365_historical_detail",
        "google_els", "google_bigquery_json", "google_bigquery_csv"}
OTHERS = sorted(str(p.relative_to(SAMPLES)) for p in SAMPLES.glob("*/*")
                if p.parent.name in ("esp", "posix", "dsn"))


@pytest.mark.parametrize("rel", OTHERS)
def test_trace_sniffers_leave_other_samples_alone(rel: str) -> None:
    """ESP, Posix and DSN samples score low with every trace sniffer of this family."""
    claimed = {f: s for f, s in scores(SAMPLES / rel).items() if f in MINE and s >= 0.3}
    assert not claimed, f"{rel} claimed by {claimed}"
    assert rel in SAMPLE_TZ or rel.startswith(("esp/", "dsn/", "posix/"))
