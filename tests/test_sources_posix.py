"""Posix mail logs (Postfix syslog / RFC 3339 / maillog_file, Sendmail, Exim mainlog).

One harness over a table of samples -> sniffed format, counts, events and exact field
values from samples/STORY.md (M11-M15, M17, M18 and the noise rows), each read in its
inventory time zone (conftest.SAMPLE_TZ). Then year inference, New Year, rotated and
compressed logs, other daemons, unknown and broken lines, and negatives.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from analysis import sources
from analysis.cli import main
from analysis.sources._base import TRACE_EVENTS, ParseOptions
from analysis.sources._io import open_inputs
from analysis.store import LoadResult, Store
from tests.conftest import FIXTURES, SAMPLE_TZ, SAMPLES

POSIX = SAMPLES / "posix"
OWN = FIXTURES / "posix"
ESP_CSV = SAMPLES / "esp/touchbasepro_activity.csv"
SAST = "Africa/Johannesburg"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Row:
    """Expected fields of the one event matching `where` (column -> value)."""

    where: dict[str, Any]
    fields: dict[str, Any]


@dataclass(frozen=True)
class Case:
    rel: str
    format: str
    counts: tuple[int, int, int]  # rows read, loaded, rejected
    events: dict[str, int]
    lines: dict[str, int]  # notes: lines_total, lines_used, ...
    rows: tuple[Row, ...] = field(default=())


CASES = [
    Case("posix/postfix_syslog.log", "postfix", (8, 8, 0),
         {"received": 3, "delivered": 3, "deferred": 1, "rejected": 1},
         {"lines_total": 26, "lines_used": 17, "lines_context": 9, "lines_unknown": 0,
          "lines_skipped_other_daemon": 0},
         (
             # M11: 4F2A91C0B37 delivered over LMTP, Message-ID from the cleanup line.
             Row({"recipient": "kofi.mensah@oakridge.example.org"},
                 {"event": "delivered", "queue_id": "4F2A91C0B37", "row_no": 6, "server": "mx1",
                  "message_id": "<20251104090018.7468e84aab9a@mta4.esp.example.net>",
                  "sender": "bnc-5cb5e5c6@bounce.esp.example.net", "smtp_code": 250,
                  "enhanced_code": "2.0.0", "event_time": utc(2025, 11, 4, 9, 0, 18),
                  "client": "mta4.esp.example.net[198.51.100.24]",
                  "relay": "mail.oakridge.example.org[private/dovecot-lmtp]"}),
             Row({"queue_id": "4F2A91C0B37", "event": "received"},
                 {"row_no": 5, "sender": "bnc-5cb5e5c6@bounce.esp.example.net", "recipient": None,
                  "message_id": "<20251104090018.7468e84aab9a@mta4.esp.example.net>"}),
             # M12: the greylisting NOQUEUE reject (450 is temporary) ...
             Row({"recipient": "lena.fischer@oakridge.example.org", "event": "deferred"},
                 {"queue_id": None, "message_id": None, "smtp_code": 450, "enhanced_code": "4.2.0",
                  "row_no": 8, "event_time": utc(2025, 11, 4, 9, 0, 19),
                  "sender": "bnc-5b4e89b2@bounce.esp.example.net"}),
             # ... and 5B7C02D1E48 delivered six minutes later.
             Row({"recipient": "lena.fischer@oakridge.example.org", "event": "delivered"},
                 {"queue_id": "5B7C02D1E48", "event_time": utc(2025, 11, 4, 9, 6, 20),
                  "message_id": "<20251104090019.68d591d8143a@mta4.esp.example.net>"}),
             # noise: the relay-denied reject and the local cron mail to root
             Row({"recipient": "spamtrap@oakridge.example.org"},
                 {"event": "rejected", "smtp_code": 554, "enhanced_code": "5.7.1",
                  "client": "unknown[203.0.113.77]"}),
             Row({"recipient": "root@mx1.oakridge.example.org", "event": "delivered"},
                 {"orig_recipient": "root", "relay": "local", "detail": "delivered to mailbox"}),
         )),
    Case("posix/postfix_maillog_file.log", "postfix", (3, 3, 0),
         {"received": 1, "delivered": 1, "rejected": 1},
         {"lines_total": 13, "lines_used": 6, "lines_context": 7, "lines_unknown": 0},
         (
             # M13: NOQUEUE reject 550 5.1.1 at RCPT, `Nov 04` zero-padded (postlogd).
             Row({"recipient": "marco.rossi@pine.example.org"},
                 {"event": "rejected", "queue_id": None, "smtp_code": 550,
                  "enhanced_code": "5.1.1", "event_time": utc(2025, 11, 4, 9, 0, 21),
                  "sender": "bnc-442c6db1@bounce.esp.example.net", "row_no": 12}),
             Row({"recipient": "ops@pine.example.org"},
                 {"event": "delivered", "relay": "virtual", "queue_id": "3B0E61C2A4"}),
         )),
    Case("posix/postfix_rfc3339.log", "postfix", (8, 8, 0),
         {"received": 3, "forwarded": 2, "bounced": 1, "deferred": 2},
         {"lines_total": 22, "lines_used": 17, "lines_context": 5, "lines_unknown": 0},
         (
             # M17: 7D3B1C0E2A -> amavis -> 9F1E3C0A45 -> bounced 552 5.2.2 -> NDR 0A6D4C1F77
             Row({"queue_id": "7D3B1C0E2A", "event": "forwarded"},
                 {"recipient": "rita.costa@quarry.example.net", "related_id": "9F1E3C0A45",
                  "relay": "127.0.0.1[127.0.0.1]:10024", "smtp_code": 250,
                  "message_id": "<20251104090029.a53daedd9ad7@mta4.esp.example.net>"}),
             Row({"queue_id": "9F1E3C0A45", "event": "bounced"},
                 {"recipient": "rita.costa@quarry.example.net", "smtp_code": 552,
                  "enhanced_code": "5.2.2", "related_id": "0A6D4C1F77", "server": "mx",
                  "message_id": "<20251104090029.a53daedd9ad7@mta4.esp.example.net>",
                  "event_time": dt.datetime(2025, 11, 4, 9, 0, 31, 742345, tzinfo=dt.UTC)}),
             Row({"queue_id": "0A6D4C1F77", "event": "forwarded"},
                 {"recipient": "bnc-53299bab@bounce.esp.example.net", "sender": None,
                  "related_id": "4dBkQx0VnYz3sLm",
                  "message_id": "<20251104090031.0A6D4C1F77@mx.quarry.example.net>"}),
             # noise: two deferrals of other mail (4.4.2 timeout, 4.4.1 refused)
             Row({"queue_id": "1C9E2F0B33"}, {"event": "deferred", "enhanced_code": "4.4.2"}),
             Row({"queue_id": "5E2A7D1C90"}, {"event": "deferred", "enhanced_code": "4.4.1",
                                              "relay": "none"}),
         )),
    Case("posix/sendmail_maillog.log", "sendmail", (8, 8, 0),
         {"received": 4, "delivered": 1, "forwarded": 1, "deferred": 1, "bounced": 1},
         {"lines_total": 10, "lines_used": 9, "lines_context": 1, "lines_unknown": 0},
         (
             # M15: 5A490Pb7004187 Sent, local mailer; EST stamps.
             Row({"recipient": "oscar.lind@legacy.example.net"},
                 {"event": "delivered", "queue_id": "5A490Pb7004187", "server": "mail",
                  "message_id": "<20251104090025.7337fe476bf2@mta4.esp.example.net>",
                  "sender": "bnc-2fab652c@bounce.esp.example.net", "enhanced_code": "2.0.0",
                  "event_time": utc(2025, 11, 4, 9, 0, 25), "row_no": 3,
                  "client": "mta4.esp.example.net [198.51.100.24]"}),
             Row({"recipient": "trail.club@maplegrove.example.com"},
                 {"event": "forwarded", "relay": "mx.maplegrove.example.com. [192.0.2.27]"}),
             Row({"recipient": "info@tinker.example.com"},
                 {"event": "deferred", "smtp_code": 451, "enhanced_code": "4.0.0"}),
             Row({"recipient": "nobody@pine.example.org"},
                 {"event": "bounced", "enhanced_code": "5.1.1", "detail": "User unknown",
                  "related_id": "5A49ZAea004522"}),
         )),
    Case("posix/exim_mainlog.log", "exim", (12, 12, 0),
         {"received": 5, "delivered": 2, "forwarded": 2, "deferred": 1, "bounced": 1,
          "rejected": 1},
         {"lines_total": 18, "lines_used": 12, "lines_context": 6, "lines_unknown": 0},
         (
             # M18: 1vGCu1-00000000L8K-3mS2 delivered locally; Message-ID from `id=`.
             Row({"recipient": "quentin.moreau@tinker.example.com",
                  "queue_id": "1vGCu1-00000000L8K-3mS2"},
                 {"event": "delivered", "event_time": utc(2025, 11, 4, 9, 0, 33),
                  "message_id": "<20251104090033.cd02f795a317@mta4.esp.example.net>",
                  "sender": "bnc-7561f7e0@bounce.esp.example.net", "row_no": 9}),
             # M14: rejected after DATA, no recipient on the line.
             Row({"queue_id": "1vGCtr-00000000L8E-1jGj"},
                 {"event": "rejected", "recipient": None, "row_no": 7,
                  "sender": "bnc-563a640e@bounce.esp.example.net",
                  "client": "mta4.esp.example.net [198.51.100.24]",
                  "detail": "Your message scored 12.4 SpamAssassin points and was classified as spam",
                  "event_time": utc(2025, 11, 4, 9, 0, 23)}),
             # noise: outbound with C="250 ...", a defer, a bounce and its bounce message
             Row({"recipient": "orders@supplier.example.org"},
                 {"event": "forwarded", "related_id": "6A0F21B9C4", "smtp_code": 250}),
             Row({"recipient": "old.address@harbor.example.org"},
                 {"event": "bounced", "smtp_code": 550, "enhanced_code": "5.4.1",
                  "related_id": "1vGCyT-00000000L9e-0Mm1"}),
             Row({"recipient": "sales@legacy.example.net", "event": "deferred"},
                 {"smtp_code": 451, "enhanced_code": "4.7.1"}),
         )),
]


def load(store: Store, path: Path | tuple[str, bytes], **kw: Any) -> LoadResult:
    fmt = kw.pop("format", None)
    (r,) = store.load_files([path], format=fmt, opts=ParseOptions(**kw))
    assert r.error is None, r.error
    return r


def events(store: Store, import_id: int | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE import_id = ?", [import_id]) if import_id else ("", [])
    df = store.df(f"SELECT * FROM trace_events {where} ORDER BY import_id, row_no, recipient",
                  params)
    rows = df.astype(object).where(df.notna(), None).to_dict("records")
    for r in rows:
        if r["event_time"] is not None:
            r["event_time"] = r["event_time"].to_pydatetime()
    return rows


def pick(rows: list[dict[str, Any]], where: dict[str, Any]) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in where.items())]
    assert len(found) == 1, (where, found)
    return found[0]


@pytest.mark.parametrize("case", CASES, ids=[c.rel.split("/")[-1] for c in CASES])
def test_sample(store: Store, case: Case) -> None:
    with open_inputs([SAMPLES / case.rel]) as [src]:
        best = sources.sniff(src)[0]
    assert best.format == case.format and best.confidence >= 0.9
    r = load(store, SAMPLES / case.rel, tz=SAMPLE_TZ.get(case.rel, "UTC"), year=2025)
    assert (r.format, r.side) == (case.format, "trace")
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == case.counts
    assert r.notes["events"] == case.events
    assert {k: r.notes[k] for k in case.lines} == case.lines
    got = events(store, r.import_id)
    assert {e["event"] for e in got} <= set(TRACE_EVENTS)
    assert all(e["format"] == case.format for e in got)
    for row in case.rows:
        event = pick(got, row.where)
        assert {k: event[k] for k in row.fields} == row.fields, row.where


def test_rfc3339_offsets_win_over_the_import_zone(store: Store) -> None:
    r = load(store, POSIX / "postfix_rfc3339.log", tz="America/New_York")
    assert r.notes["year"] is None
    assert pick(events(store), {"queue_id": "9F1E3C0A45", "event": "bounced"})["event_time"] \
        == dt.datetime(2025, 11, 4, 9, 0, 31, 742345, tzinfo=dt.UTC)


# -- year of year-less stamps ------------------------------------------------------------

def _copy(tmp_path: Path, src: Path, mtime: dt.datetime | None = None) -> Path:
    out = tmp_path / src.name
    shutil.copyfile(src, out)
    if mtime:
        os.utime(out, (mtime.timestamp(), mtime.timestamp()))
    return out


def test_year_given_by_the_user(store: Store, tmp_path: Path) -> None:
    log = _copy(tmp_path, POSIX / "postfix_syslog.log", mtime=dt.datetime(2030, 6, 1))
    r = load(store, log, tz="Europe/Paris", year=2023)
    assert (r.notes["year"], r.notes["year_source"]) == (2023, "given by the user (--year)")
    kofi = pick(events(store), {"recipient": "kofi.mensah@oakridge.example.org"})
    assert kofi["event_time"] == utc(2023, 11, 4, 9, 0, 18)


def test_year_from_exact_id_matches_with_the_esp_sends(store: Store, tmp_path: Path) -> None:
    load(store, ESP_CSV, tz=SAST)
    log = _copy(tmp_path, POSIX / "postfix_syslog.log", mtime=dt.datetime(2030, 6, 1))
    r = load(store, log, tz="Europe/Paris")
    assert r.notes["year"] == 2025
    assert r.notes["year_source"] == "workspace: 2 queue ID(s) of this log match ESP sends"
    sendmail = _copy(tmp_path, POSIX / "sendmail_maillog.log", mtime=dt.datetime(2030, 6, 1))
    r = load(store, sendmail, tz="America/New_York")
    assert (r.notes["year"], r.notes["year_source"]) == (
        2025, "workspace: 1 queue ID(s) of this log match ESP sends")


def test_year_from_closeness_to_the_esp_sends(store: Store, tmp_path: Path) -> None:
    load(store, ESP_CSV, tz=SAST)
    # M13 was refused before a queue ID existed: no exact match, only dates.
    log = _copy(tmp_path, POSIX / "postfix_maillog_file.log", mtime=dt.datetime(2030, 6, 1))
    r = load(store, log, tz="Europe/Paris")
    assert (r.notes["year"], r.notes["year_source"]) == (
        2025, "workspace: closest to the dates of the ESP sends")


@pytest.mark.parametrize(("mtime", "year"), [
    (dt.datetime(2024, 11, 5, 3, 0), 2024),   # written the day after
    (dt.datetime(2025, 1, 3, 12, 0), 2024),   # November cannot lie after a January file date
    (dt.datetime(2025, 11, 3, 23, 0), 2025),  # one day of slack for the zone
])
def test_year_from_the_file_date(store: Store, tmp_path: Path, mtime: dt.datetime,
                                 year: int) -> None:
    log = _copy(tmp_path, POSIX / "postfix_syslog.log", mtime=mtime)
    r = load(store, log, tz="Europe/Paris")
    assert (r.notes["year"], r.notes["year_source"]) == (year, "file modification time")


def test_year_of_an_upload_is_the_current_one(store: Store) -> None:
    r = load(store, ("mail.log", (POSIX / "postfix_syslog.log").read_bytes()), tz="Europe/Paris")
    limit = dt.date.today() + dt.timedelta(days=1)
    expected = limit.year if (11, 4) <= (limit.month, limit.day) else limit.year - 1
    assert r.notes["year"] == expected
    assert r.notes["year_source"].startswith("current year (an upload carries no file date")


def test_new_year_rolls_over(store: Store, tmp_path: Path) -> None:
    load(store, OWN / "postfix-01-new-year.log", tz="Europe/Paris", year=2024)
    got = events(store)
    assert pick(got, {"event": "received"})["event_time"] == utc(2024, 12, 31, 22, 59, 59)
    assert pick(got, {"event": "delivered"})["event_time"] == utc(2024, 12, 31, 23, 0, 1)
    assert pick(got, {"event": "rejected"})["event_time"] == utc(2024, 12, 31, 23, 5, 0)


def test_new_year_from_the_file_date_and_a_late_december_line(tmp_path: Path) -> None:
    # The file date is the year of the LAST line: January 2025 -> the log began in 2024.
    store = Store(":memory:")
    log = _copy(tmp_path, OWN / "postfix-01-new-year.log", mtime=dt.datetime(2025, 1, 1, 6, 0))
    r = load(store, log, tz="UTC")
    assert r.notes["year"] == 2024
    assert pick(events(store), {"event": "delivered"})["event_time"] == utc(2025, 1, 1, 0, 0, 1)
    store.close()
    # A December line logged after January ones stays in December (no double roll-over).
    late = tmp_path / "late.log"
    late.write_text((OWN / "postfix-01-new-year.log").read_text().replace(
        "Jan  1 00:00:01 mx1 postfix/qmgr[905]: 1A2B3C4D5E: removed",
        "Dec 31 23:59:59 mx1 postfix/qmgr[905]: 1A2B3C4D5E: removed"))
    store = Store(":memory:")
    load(store, late, tz="UTC", year=2024)
    assert pick(events(store), {"event": "rejected"})["event_time"] == utc(2025, 1, 1, 0, 5, 0)
    store.close()


# -- rotated, compressed, CRLF -----------------------------------------------------------

def test_rotated_and_compressed_logs_load_together_in_order(store: Store, tmp_path: Path) -> None:
    lines = (POSIX / "postfix_syslog.log").read_text().splitlines(keepends=True)
    # mail.log.2.gz ends after 4F2A91C0B37's qmgr line; its delivery is in mail.log.1.
    parts = {"mail.log.2.gz": lines[:5], "mail.log.1": lines[5:15], "mail.log": lines[15:]}
    paths = []
    for name, part in parts.items():
        path = tmp_path / name
        data = "".join(part).encode()
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        paths.append(path)
    results = store.load_files(paths, opts=ParseOptions(tz="Europe/Paris", year=2025))
    assert [(r.file, r.format, r.rows_loaded, r.rows_rejected) for r in results] == [
        ("mail.log.2", "postfix", 1, 0), ("mail.log.1", "postfix", 3, 0),
        ("mail.log", "postfix", 4, 0)]
    kofi = pick(events(store), {"recipient": "kofi.mensah@oakridge.example.org"})
    assert kofi["row_no"] == 1 and kofi["import_id"] == results[1].import_id
    # The Message-ID was logged in mail.log.2 only; the delivery event still carries it.
    assert kofi["message_id"] == "<20251104090018.7468e84aab9a@mta4.esp.example.net>"
    assert kofi["sender"] == "bnc-5cb5e5c6@bounce.esp.example.net"


def test_crlf_log_keeps_its_line_numbers(store: Store, tmp_path: Path) -> None:
    text = (OWN / "postfix-02-mixed-daemons.log").read_text()
    crlf = tmp_path / "crlf.log"
    crlf.write_bytes(text.replace("\n", "\r\n").replace("cut in half", "cut\rin half").encode())
    r = load(store, crlf, tz="Europe/Paris", year=2025)
    assert r.notes["lines_total"] == 18
    assert store.rejected(r.import_id)["row_no"].tolist() == [11, 12]
    assert pick(events(store), {"event": "delivered"})["row_no"] == 8


# -- line accounting -------------------------------------------------------------------

def test_other_daemons_unknown_and_broken_lines_are_counted(store: Store) -> None:
    r = load(store, OWN / "postfix-02-mixed-daemons.log", tz="Europe/Paris", year=2025)
    n = r.notes
    assert (n["lines_total"], n["lines_used"], n["lines_context"], n["lines_skipped_other_daemon"],
            n["lines_unknown"], n["lines_rejected"], n["lines_blank"]) == (18, 5, 3, 5, 2, 2, 1)
    assert n["lines_total"] == sum(v for k, v in n.items()
                                   if k.startswith("lines_") and k != "lines_total")
    assert n["skipped_programs"] == {"dovecot": 2, "CRON": 1, "kernel": 1, "systemd": 1}
    assert [e["line"] for e in n["unknown_examples"]] == [10, 18]
    assert "frobnicated" in n["unknown_examples"][0]["text"]
    # rows are events: rows_read = events loaded + lines rejected
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (4, 2, 2)
    rejected = store.rejected(r.import_id)
    assert rejected[["row_no", "error"]].values.tolist() == [
        [11, "not a log line: expected a time stamp, host, program[pid]: message"],
        [12, "Postfix to= line without status= (cut short?)"]]
    assert rejected["raw"][0] == "this line was cut in half by a full disk"


def test_reused_queue_id_expiry_hold_discard_and_header_reject(store: Store) -> None:
    r = load(store, OWN / "postfix-03-reused-queue-id.log", tz="UTC")
    assert r.notes["events"] == {"bounced": 2, "deferred": 2, "delivered": 1, "dropped": 1,
                                 "held": 1, "received": 2, "rejected": 1}
    got = events(store)
    # `removed` ends the first life of 3C4D5E6F70; the second has its own Message-ID.
    assert pick(got, {"recipient": "ann@quarry.example.net"})["message_id"] == \
        "<first@mta4.esp.example.net>"
    cleo = pick(got, {"recipient": "cleo@remote.example.net", "event": "bounced"})
    assert (cleo["message_id"], cleo["orig_recipient"], cleo["detail"], cleo["related_id"]) == (
        "<second@mta4.esp.example.net>", "c@quarry.example.net", "expired, returned to sender",
        "8E9F0A1B2C")
    dora = pick(got, {"recipient": "dora@quarry.example.net"})  # long queue ID, header HOLD
    assert (dora["event"], dora["queue_id"], dora["message_id"]) == (
        "held", "4dBkQx0VnYz3sLm", "<long@mta4.esp.example.net>")
    assert pick(got, {"recipient": "eve@quarry.example.net"})["event"] == "dropped"
    fay = pick(got, {"recipient": "fay@quarry.example.net"})
    assert (fay["event"], fay["enhanced_code"], fay["sender"]) == (
        "rejected", "5.7.1", "bnc-00000005@bounce.esp.example.net")


# -- negatives -------------------------------------------------------------------------

def test_other_files_are_not_sniffed_as_posix_logs() -> None:
    others = [ESP_CSV, SAMPLES / "dsn/dsn_m17_postfix.eml",
              SAMPLES / "exchange/MSGTRK20251104-1.LOG",
              SAMPLES / "google/bigquery_gmail_logs_daily.jsonl"]
    with open_inputs(others) as srcs:
        for src in srcs:
            for name in ("postfix", "sendmail", "exim"):
                assert sources.get(name).sniff(src) == 0.0, (src.name, name)
    with open_inputs([POSIX / "postfix_syslog.log", POSIX / "sendmail_maillog.log"]) as (pf, sm):
        assert sources.get("sendmail").sniff(pf) == sources.get("exim").sniff(pf) == 0.0
        assert sources.get("postfix").sniff(sm) == 0.0


def test_a_non_log_forced_as_postfix_is_rejected_line_by_line(store: Store) -> None:
    r = load(store, ESP_CSV, format="postfix", tz="UTC", year=2025)
    assert r.rows_loaded == 0 and r.rows_rejected == r.notes["lines_total"]
    first = store.rejected(r.import_id).iloc[0]
    assert first["row_no"] == 1 and first["error"].startswith("not a log line")


def test_unknown_time_zone_is_an_input_error(store: Store) -> None:
    (r,) = store.load_files([POSIX / "postfix_syslog.log"], opts=ParseOptions(tz="Mars/Olympus"))
    assert r.error and "unknown time zone" in r.error


def test_cli_load_with_year_and_tz(tmp_path: Path, capsys) -> None:
    ws = str(tmp_path / "w.duckdb")
    assert main(["load", str(POSIX / "sendmail_maillog.log"), "--workspace", ws,
                 "--tz", "America/New_York", "--year", "2024", "--json"]) == 0
    assert '"format": "sendmail"' in capsys.readouterr().out
    store = Store(ws)
    try:
        oscar = pick(events(store), {"recipient": "oscar.lind@legacy.example.net"})
        assert oscar["event_time"] == utc(2024, 11, 4, 9, 0, 25)
        assert '"year_source": "given by the user (--year)"' in store.imports()["notes"][0]
    finally:
        store.close()


def test_cli_load_says_how_the_lines_were_used_and_where_the_year_came_from(
        tmp_path: Path, capsys) -> None:
    ws = str(tmp_path / "w.duckdb")
    assert main(["load", str(POSIX / "postfix_syslog.log"), "--workspace", ws,
                 "--tz", "Europe/Paris", "--year", "2024"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("postfix_syslog.log: postfix (trace) - 8 rows read")
    assert out[1] == "  26 lines: 17 used, 9 context"
    assert out[2] == "  year 2024: given by the user (--year)"


def test_exim_lines_in_a_syslog(store: Store, tmp_path: Path) -> None:
    text = (POSIX / "exim_mainlog.log").read_text()
    log = tmp_path / "mail.log"
    log.write_text("".join(f"Nov  4 {line[11:19]} tinker exim[4242]: {line[20:]}\n"
                           for line in text.splitlines()))
    r = load(store, log, tz="UTC", year=2025)
    assert (r.format, r.rows_loaded, r.notes["events"]) == ("exim", 12, CASES[-1].events)
    m18 = pick(events(store), {"queue_id": "1vGCu1-00000000L8K-3mS2", "event": "delivered"})
    assert (m18["server"], m18["event_time"]) == ("tinker", utc(2025, 11, 4, 9, 0, 33))


def test_exim_mainlog_messages_without_message_id_group_by_queue_id(store: Store) -> None:
    # The mainlog names no server; a message with no Message-ID header (1vGCyT: the bounce
    # notification, received then delivered) is still one unmatched trace message, not two.
    load(store, SAMPLES / "posix/exim_mainlog.log", tz="UTC")
    rows = dict(store.cursor().execute(
        "SELECT trace_message, rows FROM trace_unmatched").fetchall())
    assert rows["exim:1vGCyT-00000000L9e-0Mm1"] == 2
    assert not [m for m in rows if m.startswith("row:")]
    assert sum(rows.values()) == 12
