"""The sample story (tests/fixtures/samples/STORY.md): every message's verdict and match."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.journeys import journeys_df, match_report
from analysis.sources._base import ParseOptions
from analysis.store import Store
from tests.conftest import SAMPLE_TZ, SAMPLES

# Every sample that describes the TouchBasePro campaign (the other ESP files re-tell it
# and must not be loaded together with it: STORY.md "Where the same event appears twice").
STORY_FILES = [
    "esp/touchbasepro_activity.csv",
    "office365/get-messagetrace_export.csv",
    "office365/get-messagetracedetail_export.csv",
    "office365/historical_search_messagetrace.csv",
    "office365/historical_search_messagetracedetail.csv",
    "office365/eac_message_trace_export.csv",
    "google/email_log_search_export.csv",
    "google/bigquery_gmail_logs_daily.jsonl",
    "exchange/MSGTRK20251104-1.LOG",
    "exchange/MSGTRKMD20251104-1.LOG",
    "exchange/get-messagetrackinglog_export.csv",
    "posix/postfix_syslog.log",
    "posix/postfix_maillog_file.log",
    "posix/postfix_rfc3339.log",
    "posix/sendmail_maillog.log",
    "posix/exim_mainlog.log",
    "dsn/dsn_m17_postfix.eml",
    "dsn/ndr_m10_exchange.eml",
]

# (recipient, verdict, match) from STORY.md "Message-by-message ground truth".
EXPECTED = {
    "M01": ("alice.nguyen@alpine.example.org", "delivered", "exact"),
    "M02": ("ben.okafor@alpine.example.org", "junk", "exact"),
    "M03": ("carla.mendes@harbor.example.org", "quarantined", "approximate"),
    "M04": ("dev.patel@harbor.example.org", "rejected", "none"),
    "M05": ("erin.walsh@maplegrove.example.com", "delivered", "approximate"),
    "M06": ("farid.haddad@maplegrove.example.com", "junk", "approximate"),
    "M07": ("grace.kim@riverbend.example.net", "rejected", "approximate"),
    "M08": ("hiro.tanaka@riverbend.example.net", "expired", "approximate"),
    "M09": ("ivan.petrov@fabrikam.example.net", "delivered", "exact"),
    "M10": ("julia.schmidt@fabrikam.example.net", "bounced_after_accept", "exact"),
    "M11": ("kofi.mensah@oakridge.example.org", "delivered", "exact"),
    "M12": ("lena.fischer@oakridge.example.org", "delivered", "exact"),
    "M13": ("marco.rossi@pine.example.org", "rejected", "approximate"),
    "M14": ("nadia.ali@tinker.example.com", "rejected", "approximate"),
    "M15": ("oscar.lind@legacy.example.net", "delivered", "exact"),
    "M16": ("paula.diaz@alpine.example.org", "accepted_no_trace", "none"),
    "M17": ("rita.costa@quarry.example.net", "bounced_after_accept", "exact"),
    "M18": ("quentin.moreau@tinker.example.com", "delivered", "exact"),
}


def load_story(store: Store, files: list[str] = STORY_FILES) -> None:
    for rel in files:
        (r,) = store.load_files([SAMPLES / rel], opts=ParseOptions(tz=SAMPLE_TZ.get(rel, "UTC")))
        assert r.error is None, r.error
        assert r.rows_loaded > 0, rel


@pytest.fixture(scope="module")
def story() -> pd.DataFrame:
    store = Store(":memory:")
    load_story(store)
    df = journeys_df(store.cursor()).set_index("recipient")
    yield df, store
    store.close()


@pytest.mark.parametrize("msg", sorted(EXPECTED))
def test_story_verdicts(story, msg: str) -> None:
    df, _ = story
    recipient, verdict, match = EXPECTED[msg]
    row = df.loc[recipient]
    assert (row["verdict"], row["match"]) == (verdict, match), (msg, row.to_dict())


def test_story_verdict_totals(story) -> None:
    df, _ = story
    assert len(df) == 18
    assert df["verdict"].value_counts().to_dict() == {
        "delivered": 7, "junk": 2, "rejected": 4, "bounced_after_accept": 2,
        "quarantined": 1, "expired": 1, "accepted_no_trace": 1}


def test_story_failure_classification(story) -> None:
    df, _ = story
    m04 = df.loc["dev.patel@harbor.example.org"]
    assert (m04["reason"], m04["category"], m04["permanent"], m04["suppress"]) == (
        "userunknown", "invalid_address", True, True)
    m07 = df.loc["grace.kim@riverbend.example.net"]
    assert (m07["reason"], m07["category"], m07["suppress"]) == (
        "authfailure", "authentication", False)
    m14 = df.loc["nadia.ali@tinker.example.com"]
    assert (m14["reason"], m14["category"], m14["suppress"]) == (
        "spamdetected", "spam_or_reputation", False)
    m17 = df.loc["rita.costa@quarry.example.net"]
    assert (m17["reason"], m17["permanent"], m17["suppress"]) == ("mailboxfull", False, False)


def test_match_report_lists_the_unmatched(story) -> None:
    _, store = story
    report = match_report(store.cursor())
    assert report.journeys == 18
    assert [r["recipient"] for r in report.unmatched_ids] == ["paula.diaz@alpine.example.org"]
    x1 = [r for r in report.trace_unmatched
          if r["trace_message"] == "20251103154210.5c0ffee1d2a3@mta4.esp.example.net"]
    # The PowerShell 5.1 export writes Recipients as "System.String[]": X1 is listed by its
    # Message-ID, with its events, but without a recipient.
    assert len(x1) == 1 and x1[0]["events"] == "delivered, other, received"
    assert not [c for c in report.clock if c.warning]


def test_timeline_shows_each_trace_event_with_its_input_row(story) -> None:
    """queries.timeline reads each trace event's raw input row from trace_events (the
    journey tables keep none), also where one row holds several events."""
    from analysis.queries import timeline

    _, store = story
    cur = store.cursor()
    journeys = [j for (j,) in cur.execute(
        "SELECT DISTINCT journey_id FROM journey_events ORDER BY 1").fetchall()]
    assert len(journeys) >= 10
    for jid in journeys:
        trace = timeline(cur, jid).query("side == 'trace'")
        assert len(trace) == cur.execute("SELECT count(*) FROM journey_events WHERE "
                                         "journey_id = ?", [jid]).fetchall()[0][0]
        for row in trace.itertuples():
            raws = {r for (r,) in cur.execute(
                "SELECT t.raw FROM trace_events t JOIN imports i USING (import_id) WHERE "
                "i.file_name = ? AND t.row_no = ?", [row.file_name, row.row_no]).fetchall()}
            assert raws == {row.raw}, (jid, row)


def test_failure_classes_are_kept_and_redone_when_the_rules_change(story) -> None:
    """journeys.rebuild classifies only failures it has not classified under these rules."""
    from analysis import classify_bulk, journeys

    _, store = story
    cur = store.cursor()
    before = cur.execute("SELECT count(*) FROM failure_classes").fetchall()[0][0]
    assert before == cur.execute(
        "SELECT count(*) FROM (SELECT DISTINCT failure_code, failure_enhanced, failure_text "
        "FROM journeys WHERE failure_code IS NOT NULL OR failure_text IS NOT NULL)"
    ).fetchall()[0][0] > 0
    calls: list[int] = []
    real = classify_bulk.classify_keys

    def counted(con, keys, out):  # noqa: ANN001, ANN202
        calls.append(con.execute(f"SELECT count(*) FROM {keys}").fetchall()[0][0])  # noqa: S608
        return real(con, keys, out)

    classify_bulk.classify_keys = counted
    try:
        journeys.rebuild(cur)
        assert calls == []  # nothing new
        cur.execute("UPDATE failure_classes SET rules_version = 'old'")
        journeys.rebuild(cur)
        assert calls == [before]  # all of them again
    finally:
        classify_bulk.classify_keys = real
    assert cur.execute("SELECT count(*) FROM failure_classes").fetchall()[0][0] == before


def test_latency_is_send_to_last_trace_event(story) -> None:
    df, _ = story
    m11 = df.loc["kofi.mensah@oakridge.example.org"]
    assert 0 <= m11["latency_s"] < 60


def test_wrong_time_zone_is_detected(tmp_path: Path) -> None:
    store = Store(":memory:")
    load_story(store, ["esp/touchbasepro_activity.csv"])
    # The Postfix syslog is in CET; loading it as UTC puts it an hour late.
    (r,) = store.load_files([SAMPLES / "posix/postfix_syslog.log"], opts=ParseOptions(tz="UTC"))
    assert r.error is None
    warnings = [c.warning for c in match_report(store.cursor()).clock if c.warning]
    assert len(warnings) == 1 and "postfix_syslog.log" in warnings[0] and "+1 h" in warnings[0]


def test_cli_journeys_and_matches(tmp_path: Path, capsys) -> None:
    ws = str(tmp_path / "w.duckdb")
    for rel in STORY_FILES:
        assert main(["load", str(SAMPLES / rel), "--workspace", ws,
                     "--tz", SAMPLE_TZ.get(rel, "UTC")]) == 0, rel
    capsys.readouterr()
    assert main(["journeys", "--workspace", ws, "--csv", "-"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split(",")
    assert header[:16] == ["campaign", "recipient", "recipient_domain", "sent_at", "remote_id",
                           "esp_event", "smtp_code", "enhanced_code", "smtp_text",
                           "trace_format", "trace_server", "trace_events", "trace_final_event",
                           "match", "verdict", "latency_s"]
    assert main(["matches", "--workspace", ws, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["journeys"] == 18 and report["unmatched"] == 2
    n = report["totals"]["trace_unmatched"]
    assert n == len(report["trace_unmatched"]) > 2  # fewer than 50: every row
    assert main(["matches", "--workspace", ws, "--limit", "2"]) == 0
    text = capsys.readouterr().out
    assert f"  ... and {n - 2:,} more (--limit N lists more)" in text
    assert main(["matches", "--workspace", ws, "--limit", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["trace_unmatched"]) == 2 and report["totals"]["trace_unmatched"] == n
    assert main(["matches", "--workspace", ws]) == 0  # 50 lines a list: all of the story's
    assert "more (--limit" not in capsys.readouterr().out
    assert main(["matches", "--workspace", ws, "--limit", "0"]) == 0
    assert f"trace messages with no ESP row:\n  ... and {n:,} more" in capsys.readouterr().out
    assert main(["matches", "--workspace", ws, "--limit", "-1"]) == 2
    assert "--limit must be 0 or more" in capsys.readouterr().err


def test_match_report_limit_keeps_the_first_rows_and_counts_them_all(story) -> None:
    _, store = story
    whole, first = match_report(store.cursor()), match_report(store.cursor(), limit=1)
    for name in ("esp_unmatched", "unmatched_ids", "trace_unmatched"):
        assert getattr(first, name) == getattr(whole, name)[:1], name
        assert first.totals[name] == whole.totals[name] == len(getattr(whole, name)), name


def test_a_journeys_reply_comes_from_one_event(tmp_path: Path) -> None:
    # Deferred with 4.7.0, then delivered with a bare "250 ok": the journey shows the
    # delivery's reply whole, not its code with the deferral's enhanced code.
    csv_path = tmp_path / "activity.csv"
    csv_path.write_text(
        '"Email Address","Campaign","Event","Date","SMTP Response"\n'
        '"a@x.example","C","Deferred","2025-11-04 10:00:00","421 4.7.0 try again later"\n'
        '"a@x.example","C","Delivered","2025-11-04 11:00:00","250 ok dirdel"\n',
        encoding="utf-8")
    store = Store(str(tmp_path / "w.duckdb"))
    store.load_files([str(csv_path)], opts=ParseOptions(tz="UTC"))
    (j,) = journeys_df(store.cursor()).to_dict("records")
    assert (j["esp_event"], j["smtp_code"], j["enhanced_code"], j["smtp_text"]) == (
        "delivered", 250, None, "250 ok dirdel")
