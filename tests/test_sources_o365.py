"""Exchange Online trace exports: EAC, Get-MessageTrace(V2), Get-MessageTraceDetail,
historical summary and extended reports. Expected values: samples/STORY.md."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from analysis.store import Store
from tests.trace_harness import (
    Case,
    best_format,
    check_case,
    decode,
    events,
    load,
    same_result,
    sample,
    variants,
    with_rows_changed,
)

M01_ID = "<20251104090003.98a552b127c2@mta4.esp.example.net>"
M02_ID = "<20251104090004.6e692629ef13@mta4.esp.example.net>"
ESP_ROWS = "message_id LIKE '%@mta4.esp.example.net>'"

CASES = [
    Case("office365/eac_message_trace_export.csv", "o365_eac", 10,
         {"delivered": 3, "quarantined": 2, "deferred": 1, "failed": 1, "other": 1,
          "rejected": 1, "expanded": 1},
         checks=[
             # M03: quarantined, matched later by recipient + time (no Message-ID column).
             ("sender = 'bnc-a4d3a6fe@bounce.esp.example.net'",
              {"recipient": "carla.mendes@harbor.example.org", "event": "quarantined",
               "event_time": "2025-11-04T09:00:05+00:00", "row_no": 10, "message_id": None,
               "subject": "November Newsletter – Trail season is here"}),
             ("detail = 'Filtered as spam'", {"event": "rejected"}),
             ("detail = 'Getting status'", {"event": "other"}),
         ]),
    Case("office365/get-messagetrace_export.csv", "o365_messagetrace", 9,
         {"delivered": 4, "other": 1, "failed": 1, "expanded": 1, "deferred": 1, "rejected": 1},
         checks=[
             (f"message_id = '{M01_ID}'",
              {"recipient": "alice.nguyen@alpine.example.org", "event": "delivered",
               "network_id": "a7f8f7d6-2ac4-b4b2-14b9-08de1b262ff4",
               "server": "alpineexample.onmicrosoft.com", "client": "198.51.100.24",
               "sender": "bnc-778e0023@bounce.esp.example.net",
               "event_time": "2025-11-04T09:00:03+00:00", "row_no": 10,
               "subject": "November Newsletter ? Trail season is here"}),
             (f"message_id = '{M02_ID}'", {"event": "delivered"}),  # junk needs the extended report
             ("detail = 'FilteredAsSpam'", {"event": "rejected", "client": "203.0.113.199"}),
             ("detail = 'Pending'", {"event": "deferred", "relay": "192.0.2.80"}),
         ]),
    Case("office365/get-messagetracedetail_export.csv", "o365_messagetracedetail", 10,
         {"received": 2, "delivered": 3, "other": 3, "failed": 1, "expanded": 1},
         checks=[
             (f"message_id = '{M01_ID}' AND event = 'received'",
              {"client": "mta4.esp.example.net[198.51.100.24]", "recipient": None,
               "network_id": "a7f8f7d6-2ac4-b4b2-14b9-08de1b262ff4", "row_no": 2}),
             ("event = 'failed'", {"smtp_code": 550, "enhanced_code": "5.4.310", "row_no": 9}),
         ]),
    Case("office365/historical_search_messagetrace.csv", "o365_historical_summary", 9,
         {"delivered": 5, "failed": 2, "deferred": 1, "expanded": 1},
         checks=[
             (f"message_id = '{M02_ID}'",
              {"recipient": "ben.okafor@alpine.example.org", "detail": "Receive, Deliver",
               "event": "delivered", "network_id": "61475353-c833-2f2c-968a-08de1bb4bb2e",
               "event_time": "2025-11-04T09:00:04.118000+00:00", "client": "198.51.100.24"}),
             ("recipient = 'nobody@nowhere.example.net'", {"event": "failed"}),
         ]),
    Case("office365/historical_search_messagetracedetail.csv", "o365_historical_detail", 9,
         {"received": 3, "other": 2, "junk": 2, "delivered": 2},
         checks=[
             # M01: RECEIVE carries the InternalId of the ESP's 250 reply.
             (f"message_id = '{M01_ID}' AND event = 'received'",
              {"internal_id": "13915694305542", "smtp_code": 250, "enhanced_code": "2.1.5",
               "server": "AM9PR05MB8421.eurprd05.prod.outlook.com",
               "client": "mta4.esp.example.net[198.51.100.24]",
               "network_id": "a7f8f7d6-2ac4-b4b2-14b9-08de1b262ff4"}),
             (f"message_id = '{M01_ID}' AND internal_id = '13915694305561'",
              {"event": "delivered"}),
             # M02: AGENTINFO SFV=SPM ... DI=SJ, then DELIVER to the Junk Email folder.
             (f"message_id = '{M02_ID}' AND detail LIKE 'S:SFA=%DI=SJ%'",
              {"event": "junk", "internal_id": "13915694305617"}),
             (f"message_id = '{M02_ID}' AND internal_id = '13915694305636'", {"event": "junk"}),
             # Noise: 3 STOREDRIVER rows of one internal message.
             ("message_id LIKE '<PH0PR05MB7712%'", {"sender": "it-helpdesk@alpine.example.org"}),
         ]),
]
NOISE = {  # STORY.md "Noise": rows of other mail in each file
    "get-messagetrace_export.csv": 7,
    "get-messagetracedetail_export.csv": 6,
    "historical_search_messagetrace.csv": 7,
    "historical_search_messagetracedetail.csv": 3,
    "eac_message_trace_export.csv": 9,
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_sample_is_sniffed_and_parsed(store: Store, case: Case) -> None:
    assert best_format(sample(case.sample)) == case.fmt
    check_case(store, case, sample(case.sample))
    if case.fmt == "o365_eac":
        noise = store.df("SELECT count(*) AS n FROM trace_events "
                         "WHERE sender NOT LIKE 'bnc-%'")
    else:
        noise = store.df(f"SELECT count(*) AS n FROM trace_events WHERE NOT ({ESP_ROWS})")
    assert noise["n"].iloc[0] == NOISE[case.id]


VARIANTS = ["utf8_bom", "utf8_plain", "utf16le_bom", "line_ends", "gz", "zip", "reordered",
            "extra_column"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_variants_give_the_same_events(store: Store, tmp_path: Path, case: Case,
                                       variant: str) -> None:
    base = check_case(store, case, sample(case.sample))
    path = variants(sample(case.sample), case.kind)[variant](tmp_path)
    same_result(store, case, path, base.import_id)


@pytest.mark.parametrize("case", [c for c in CASES if c.fmt in (
    "o365_messagetrace", "o365_messagetracedetail")], ids=lambda c: c.id)
def test_type_line_of_windows_powershell_is_skipped(store: Store, tmp_path: Path,
                                                     case: Case) -> None:
    base = check_case(store, case, sample(case.sample))
    path = tmp_path / "typed.csv"
    text = decode(sample(case.sample))
    path.write_text("#TYPE Deserialized.Microsoft.Exchange.Management.Object\r\n" + text,
                    encoding="ascii", newline="")
    assert best_format(path) == case.fmt
    same_result(store, case, path, base.import_id, row_shift=1)  # the #TYPE line is line 1


@pytest.mark.parametrize("culture", ["en-GB", "de-DE"])
def test_culture_formatted_dates(store: Store, tmp_path: Path, culture: str) -> None:
    """Export-Csv writes dates in the machine's culture (office365.md section 4)."""
    case = CASES[1]
    base = check_case(store, case, sample(case.sample))

    def relocalise(rows: list[list[str]]) -> None:
        cols = [rows[0].index(c) for c in ("Received", "StartDate", "EndDate")]
        for row in rows[1:]:
            for i in cols:
                d = dt.datetime.strptime(row[i], "%m/%d/%Y %I:%M:%S %p")
                row[i] = d.strftime("%d/%m/%Y %H:%M:%S" if culture == "en-GB"
                                    else "%d.%m.%Y %H:%M:%S")

    path = with_rows_changed(sample(case.sample), tmp_path, relocalise, f"{culture}.csv")
    same_result(store, case, path, base.import_id)


def test_missing_required_column_names_file_and_line(store: Store, tmp_path: Path) -> None:
    path = with_rows_changed(sample("office365/get-messagetrace_export.csv"), tmp_path,
                             lambda rows: rows[0].__setitem__(rows[0].index("Status"), "State"),
                             "no-status.csv")
    (r,) = load(store, path, fmt="o365_messagetrace")
    assert r.error and "no-status.csv, line 1" in r.error and "'Status'" in r.error


def test_bad_dates_are_rejected_with_their_row(store: Store, tmp_path: Path) -> None:
    def spoil(rows: list[list[str]]) -> None:
        rows[2][rows[0].index("Received")] = "yesterday"
        rows[4][rows[0].index("Received")] = ""

    path = with_rows_changed(sample("office365/get-messagetrace_export.csv"), tmp_path, spoil,
                             "bad-dates.csv")
    (r,) = load(store, path)
    assert (r.format, r.rows_read, r.rows_loaded, r.rows_rejected) == ("o365_messagetrace", 9, 7, 2)
    rej = store.rejected(r.import_id)
    assert rej["row_no"].tolist() == [3, 5]
    assert "unreadable date yesterday" in rej["error"].iloc[0]
    assert "no date" in rej["error"].iloc[1] and "outlook.office365.com" in rej["raw"].iloc[0]


def test_historical_detail_bad_stamp_and_multi_recipient_row(store: Store, tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        h = rows[0]
        rows[1][h.index("date_time_utc")] = "2025-13-45T99:00:00Z"
        rows[2][h.index("recipient_address")] = "a@alpine.example.org;b@alpine.example.org"

    path = with_rows_changed(sample("office365/historical_search_messagetracedetail.csv"),
                             tmp_path, change, "detail.csv")
    (r,) = load(store, path)
    assert (r.rows_loaded, r.rows_rejected) == (9, 1)  # one row rejected, one split in two
    assert store.rejected(r.import_id)["row_no"].tolist() == [2]
    two = store.df("SELECT recipient FROM trace_events WHERE row_no = 3 ORDER BY 1")
    assert two["recipient"].tolist() == ["a@alpine.example.org", "b@alpine.example.org"]


def test_eac_reads_the_zone_the_user_gives(store: Store) -> None:
    (r,) = load(store, sample("office365/eac_message_trace_export.csv"), tz="Europe/Berlin")
    assert r.tz == "Europe/Berlin"
    t = store.df("SELECT event_time FROM trace_events WHERE row_no = 10")["event_time"].iloc[0]
    assert t.isoformat() == "2025-11-04T08:00:05+00:00"  # 09:00:05 CET


def test_exo_cmdlet_output_is_utc_whatever_zone_is_chosen(store: Store) -> None:
    (r,) = load(store, sample("office365/get-messagetrace_export.csv"), tz="Asia/Tokyo")
    assert r.tz == "UTC"
    t = store.df("SELECT min(event_time) AS t FROM trace_events")["t"].iloc[0]
    assert t.isoformat() == "2025-11-04T09:00:03+00:00"


def test_get_messagetracev2_shape_from_powershell_7(store: Store, tmp_path: Path) -> None:
    """V2 property set (office365.md section 5), UTF-8 without BOM, quotes only as needed."""
    rows = list(csv.reader(io.StringIO(decode(sample("office365/get-messagetrace_export.csv")))))
    keep = ["Received", "SenderAddress", "RecipientAddress", "Subject", "Status", "ToIP",
            "FromIP", "Size", "MessageId", "MessageTraceId"]
    idx = [rows[0].index(c) for c in keep]
    path = tmp_path / "v2.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([[r[i] for i in idx] for r in rows])
    assert best_format(path) == "o365_messagetrace"
    (r,) = load(store, path)
    assert (r.rows_loaded, r.rows_rejected) == (9, 0)
    assert events(store, r.import_id) == CASES[1].events
    m01 = store.df(f"SELECT * FROM trace_events WHERE message_id = '{M01_ID}'").iloc[0]
    assert (m01["network_id"], m01["server"]) == ("a7f8f7d6-2ac4-b4b2-14b9-08de1b262ff4", None)
