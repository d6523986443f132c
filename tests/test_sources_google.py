"""Google Workspace traces: Email Log Search export and Gmail logs in BigQuery (JSON lines
and CSV). Expected values: samples/STORY.md (M05-M08 and the noise rows)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from analysis.store import Store
from tests.trace_harness import (
    Case,
    best_format,
    check_case,
    load,
    same_result,
    sample,
    variants,
    with_rows_changed,
)

ELS = "google/email_log_search_export.csv"
BQ = "google/bigquery_gmail_logs_daily.jsonl"
M05 = "20251104090008.bad53dfdbb01@mta4.esp.example.net"

CASES = [
    Case(ELS, "google_els", 10, {"delivered": 5, "received": 3, "junk": 1, "rejected": 1},
         checks=[
             # M05: SMTP_IN then GMAIL_INBOX; the Message-ID is written without brackets.
             (f"message_id = '{M05}' AND event = 'received'",
              {"recipient": "erin.walsh@maplegrove.example.com", "row_no": 3,
               "event_time": "2025-11-04T09:00:08.221000+00:00",
               "sender": "bnc-5c3b7dd1@bounce.esp.example.net"}),
             (f"message_id = '{M05}' AND row_no = 4", {"event": "delivered"}),
             # M06: GMAIL_SPAM is junk.
             ("recipient = 'farid.haddad@maplegrove.example.com' AND row_no = 6",
              {"event": "junk", "detail": "GMAIL_SPAM (Received)"}),
             # Noise: the SMTPIN_ADDED_REJECT_SESSION row, every other column N/A.
             ("message_id LIKE '%SMTPIN_ADDED_REJECT_SESSION%'",
              {"event": "rejected", "recipient": None, "sender": None, "row_no": 8}),
         ]),
    Case(BQ, "google_bigquery_json", 10,
         {"received": 3, "delivered": 2, "junk": 1, "rejected": 1, "deferred": 3},
         kind="jsonl",
         checks=[
             (f"message_id = '<{M05}>' AND row_no = 2",
              {"event": "delivered", "recipient": "erin.walsh@maplegrove.example.com",
               "event_time": "2025-11-04T09:00:08.612000+00:00"}),
             ("recipient = 'farid.haddad@maplegrove.example.com' AND row_no = 4",
              {"event": "junk"}),
             # M07: refused at SMTP time with 550 (DMARC); no reply text in the log.
             ("recipient = 'grace.kim@riverbend.example.net'",
              {"event": "rejected", "smtp_code": 550, "row_no": 5, "client": "198.51.100.24"}),
             # M08: three temporary refusals.
             ("recipient = 'hiro.tanaka@riverbend.example.net'",
              {"event": "deferred", "smtp_code": 452, "enhanced_code": "4.2.2"}),
         ]),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_sample_is_sniffed_and_parsed(store: Store, case: Case) -> None:
    assert best_format(sample(case.sample)) == case.fmt
    check_case(store, case, sample(case.sample))
    noise = store.df("SELECT count(*) AS n, count(DISTINCT message_id) AS m FROM trace_events "
                     "WHERE message_id NOT LIKE '%@mta4.esp.example.net%'").iloc[0].tolist()
    # STORY.md "Noise": ELS 4 other messages plus the reject-session row (6 steps);
    # BigQuery action 1 + 3 of one other inbound message.
    assert noise == ([6, 5] if case.fmt == "google_els" else [2, 1])


VARIANTS = ["utf8_bom", "utf16le_bom", "line_ends", "gz", "zip", "reordered", "extra_column"]
# JSON lines have no column order: their key order is tested below.
PAIRS = [(c, v) for c in CASES for v in VARIANTS
         if c.kind != "jsonl" or v not in ("reordered", "extra_column")]


@pytest.mark.parametrize(("case", "variant"), PAIRS, ids=[f"{c.id}-{v}" for c, v in PAIRS])
def test_variants_give_the_same_events(store: Store, tmp_path: Path, case: Case,
                                       variant: str) -> None:
    base = check_case(store, case, sample(case.sample))
    path = variants(sample(case.sample), case.kind)[variant](tmp_path)
    same_result(store, case, path, base.import_id)


def test_els_with_local_times_uses_the_given_zone(store: Store, tmp_path: Path) -> None:
    def local(rows: list[list[str]]) -> None:
        for row in rows[1:]:
            for i in (1, 2):
                row[i] = row[i].replace("T", " ")[:19]  # no offset, no milliseconds

    path = with_rows_changed(sample(ELS), tmp_path, local, "els-local.csv")
    (r,) = load(store, path, tz="America/Los_Angeles")
    assert (r.format, r.tz, r.rows_loaded) == ("google_els", "America/Los_Angeles", 10)
    t = store.df("SELECT event_time FROM trace_events WHERE row_no = 3")["event_time"].iloc[0]
    assert t.isoformat() == "2025-11-04T17:00:08+00:00"  # 09:00:08 PST


def test_els_resaved_by_excel_with_semicolons(store: Store, tmp_path: Path) -> None:
    """Excel in some locales re-saves with `;` and a BOM (google_workspace.md 1.2)."""
    base = check_case(store, CASES[0], sample(ELS))
    rows = list(csv.reader(sample(ELS).open(encoding="utf-8", newline="")))
    path = tmp_path / "els-semicolon.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\r\n").writerows(rows)
    same_result(store, CASES[0], path, base.import_id)


def test_els_missing_column_and_bad_date(store: Store, tmp_path: Path) -> None:
    def drop_recipient(rows: list[list[str]]) -> None:
        i = rows[0].index("Recipient address")
        for row in rows:
            del row[i]

    (r,) = load(store, with_rows_changed(sample(ELS), tmp_path, drop_recipient, "norcpt.csv"))
    assert r.error and "norcpt.csv, line 1" in r.error and "'Recipient address'" in r.error

    def bad_date(rows: list[list[str]]) -> None:
        rows[5][2] = "soon"

    (r,) = load(store, with_rows_changed(sample(ELS), tmp_path, bad_date, "baddate.csv"))
    assert (r.rows_loaded, r.rows_rejected) == (9, 1)
    rej = store.rejected(r.import_id)
    assert rej["row_no"].tolist() == [6] and "unreadable date soon" in rej["error"].iloc[0]


def _jsonl_lines() -> list[str]:
    return sample(BQ).read_text(encoding="utf-8").splitlines()


def test_bigquery_json_key_order_extra_keys_and_activity_table(store: Store,
                                                               tmp_path: Path) -> None:
    base = check_case(store, CASES[1], sample(BQ))
    reordered, activity = [], []
    for line in _jsonl_lines():
        rec = json.loads(line)
        reordered.append(json.dumps({"extra": {"x": 1}, **dict(reversed(list(rec.items())))}))
        # Workspace logs `activity` table: Gmail fields under `gmail.`, time in time_usec.
        activity.append(json.dumps({"time_usec": rec["event_info"]["timestamp_usec"],
                                    "email": None, "gmail": rec}))
    for name, lines in (("reordered.jsonl", reordered), ("activity.jsonl", activity)):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert best_format(path) == "google_bigquery_json"
        same_result(store, CASES[1], path, base.import_id)


def test_bigquery_json_bad_lines_are_rejected_with_their_line(store: Store,
                                                               tmp_path: Path) -> None:
    lines = _jsonl_lines()
    lines[3] = lines[3][:80]  # truncated record
    lines[6] = json.dumps({"id": {"time": "2025-11-04"}, "events": []})  # not Gmail
    rec = json.loads(lines[7])
    rec["event_info"]["timestamp_usec"] = "later"
    lines[7] = json.dumps(rec)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    (r,) = load(store, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("google_bigquery_json", 7, 3)
    rej = store.rejected(r.import_id)
    assert rej["row_no"].tolist() == [4, 7, 8]
    assert "not valid JSON" in rej["error"].iloc[0]
    assert "not a Gmail log record" in rej["error"].iloc[1]
    assert "unreadable event time later" in rej["error"].iloc[2]
    assert rej["raw"].iloc[1] == lines[6]


def _flatten(rec: dict, prefix: str = "") -> dict[str, object]:
    """A record as BigQuery's CSV download writes it: dotted names, repeated fields as JSON."""
    out: dict[str, object] = {}
    for key, value in rec.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            out[prefix + key] = json.dumps(value)
        elif isinstance(value, bool):
            out[prefix + key] = str(value).lower()
        else:
            out[prefix + key] = "" if value is None else value
    return out


def _bigquery_csv(tmp_path: Path, name: str, rename=lambda c: c, drop=()) -> Path:
    rows = [_flatten(json.loads(line)) for line in _jsonl_lines()]
    cols = [c for c in dict.fromkeys(k for r in rows for k in r) if c not in drop]
    path = tmp_path / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([rename(c) for c in cols])
        w.writerows([[r.get(c, "") for c in cols] for r in rows])
    return path


@pytest.mark.parametrize("shape", ["dotted", "underscored", "flattened_destinations_only"])
def test_bigquery_csv_gives_the_json_events(store: Store, tmp_path: Path, shape: str) -> None:
    base = check_case(store, CASES[1], sample(BQ))
    if shape == "dotted":
        path = _bigquery_csv(tmp_path, "bq.csv")
    elif shape == "underscored":
        path = _bigquery_csv(tmp_path, "bq.csv", rename=lambda c: c.replace(".", "_"))
    else:
        path = _bigquery_csv(tmp_path, "bq.csv", drop=("message_info.destination",))
    assert best_format(path) == "google_bigquery_csv"
    csv_case = Case("", "google_bigquery_csv", 10, CASES[1].events)
    if shape != "flattened_destinations_only":
        # CSV rows are numbered from 2 (the header is row 1); otherwise identical.
        same_result(store, csv_case, path, base.import_id, row_shift=1)
        return
    # Without the destination records the per-recipient reply text is gone; recipients
    # come from `service:selector:address` and the events stay the same.
    (r,) = load(store, path)
    got = store.df("SELECT row_no - 1 AS row_no, recipient, event, smtp_code FROM trace_events "
                   "WHERE import_id = ? ORDER BY 1", [r.import_id])
    want = store.df("SELECT row_no, recipient, event, smtp_code FROM trace_events "
                    "WHERE import_id = ? ORDER BY 1", [base.import_id])
    assert got.to_dict("records") == want.to_dict("records")


def test_bigquery_csv_unreadable_time_is_rejected(store: Store, tmp_path: Path) -> None:
    path = _bigquery_csv(tmp_path, "bq.csv")
    text = path.read_text(encoding="utf-8").replace("1762246809047000", "not-a-time", 1)
    path.write_text(text, encoding="utf-8")
    (r,) = load(store, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("google_bigquery_csv", 9, 1)
    assert store.rejected(r.import_id)["row_no"].tolist() == [4]
