"""describe_journey: one journey told in words, from its row and its timeline."""

from __future__ import annotations

import pandas as pd

from analysis.journeys import VERDICTS
from analysis.narrative import VERDICT_WORDS, describe_journey

COLUMNS = ["event_time", "side", "source", "file_name", "row_no", "event", "smtp_code",
           "enhanced_code", "detail", "server", "match", "raw"]


def timeline(*rows: tuple) -> pd.DataFrame:
    """Rows of (time, side, event, server, code, enhanced) in the queries.timeline shape."""
    out = []
    for i, (when, side, event, server, code, enhanced) in enumerate(rows):
        out.append({"event_time": pd.Timestamp(when, tz="UTC"), "side": side,
                    "source": "touchbasepro_csv" if side == "ESP" else "o365_trace",
                    "file_name": "f.csv", "row_no": i + 2, "event": event, "smtp_code": code,
                    "enhanced_code": enhanced, "detail": None, "server": server,
                    "match": None if side == "ESP" else "exact", "raw": None})
    return pd.DataFrame(out, columns=COLUMNS)


def test_junk_in_words() -> None:
    t = timeline(("2025-11-04 10:02:00", "ESP", "delivered", None, 250, "2.6.0"),
                 ("2025-11-04 10:02:01", "trace", "received", "mx.example.com", None, None),
                 ("2025-11-04 10:02:03", "trace", "junk", "mx.example.com", None, None))
    text = describe_journey({"verdict": "junk", "match": "exact"}, t)
    assert text.startswith("The ESP handed it over and the receiving server accepted it on "
                           "2025-11-04 at 10:02:00 UTC (250 2.6.0), accepted by mx.example.com "
                           "at 10:02:01, then moved to Junk by the spam filter on "
                           "mx.example.com at 10:02:03.")
    assert "Verdict: junk — delivered to the junk / spam folder." in text
    assert "approximate" not in text


def test_approximate_match_is_flagged() -> None:
    t = timeline(("2025-11-04 09:00:21", "ESP", "bounced", None, 550, "5.1.1"),
                 ("2025-11-04 09:00:21", "trace", "rejected", "mx1", 550, "5.1.1"))
    text = describe_journey({"verdict": "rejected", "match": "approximate"}, t)
    # The server's refusal comes before the ESP's record of it, even in the same second.
    assert text.startswith("Rejected by mx1 on 2025-11-04 at 09:00:21 UTC (550 5.1.1), then "
                           "the ESP recorded a bounce at 09:00:21 (550 5.1.1).")
    assert "approximate" in text


def test_repeated_deferrals_collapse_and_a_new_day_is_dated() -> None:
    t = timeline(("2025-11-04 09:00:11", "ESP", "deferred", None, 452, "4.2.2"),
                 ("2025-11-04 09:00:11", "trace", "deferred", "gmail", 452, None),
                 ("2025-11-04 09:15:11", "trace", "deferred", "gmail", 452, None),
                 ("2025-11-07 09:00:12", "ESP", "bounced", None, 452, "4.2.2"))
    text = describe_journey({"verdict": "expired", "match": "approximate"}, t)
    assert text.lower().count("temporarily refused by gmail") == 1
    assert "Temporarily refused by gmail on 2025-11-04 at 09:00:11 UTC (452) (2 times)" in text
    assert "on 2025-11-07 at 09:00:12 UTC (452 4.2.2)" in text
    assert "Verdict: expired" in text


def test_no_trace_says_what_to_upload() -> None:
    t = timeline(("2025-11-04 09:00:27", "ESP", "delivered", None, 250, "2.6.0"))
    j = {"verdict": "accepted_no_trace", "match": "none", "recipient_domain": "alpine.example.org",
         "trace_covers_domain": False}
    assert "No trace of alpine.example.org is loaded" in describe_journey(j, t)
    j["trace_covers_domain"] = True
    assert "none of its rows carries this message's ID" in describe_journey(j, t)


def test_trace_without_server_name_names_the_source_and_opens_are_kept_plain() -> None:
    t = timeline(("2025-11-04 09:00:03", "ESP", "delivered", None, 250, None),
                 ("2025-11-04 09:00:04", "trace", "delivered", None, None, None),
                 ("2025-11-04 11:42:07", "ESP", "opened", None, 250, None))
    text = describe_journey({"verdict": "delivered", "match": "exact"}, t)
    assert "delivered to the mailbox by the server (o365_trace trace) at 09:00:04" in text
    assert "the ESP recorded an open at 11:42:07." in text  # no reply code on an open


def test_every_verdict_has_words_and_an_empty_timeline_still_gives_the_verdict() -> None:
    assert set(VERDICTS) <= set(VERDICT_WORDS)
    text = describe_journey({"verdict": "unknown", "match": "none"}, timeline())
    assert text == "Verdict: unknown — not enough evidence for a verdict."


def test_one_fact_from_several_files_is_told_once_in_lifecycle_order() -> None:
    # M10: the tracking log export (seconds) and the raw log (milliseconds) and the NDR
    # all describe EXCH01 taking the message and failing it.
    t = timeline(("2025-11-04 09:00:14", "ESP", "delivered", None, 250, "2.6.0"),
                 ("2025-11-04 09:00:14", "trace", "failed", "EXCH01", 550, "5.1.1"),
                 ("2025-11-04 09:00:14", "trace", "received", "EXCH01", None, None),
                 ("2025-11-04 09:00:14.25", "trace", "received", "EXCH01", None, None),
                 ("2025-11-04 09:00:14.40", "trace", "bounced", "EXCH01.fabrikam.example.net",
                  550, "5.1.1"),
                 ("2025-11-04 09:00:18", "ESP", "bounced", None, 550, "5.1.1"))
    text = describe_journey({"verdict": "bounced_after_accept", "match": "exact"}, t)
    assert text.startswith(
        "The ESP handed it over and the receiving server accepted it on 2025-11-04 at "
        "09:00:14 UTC (250 2.6.0), accepted by EXCH01 at 09:00:14, failed on EXCH01 "
        "at 09:00:14 (550 5.1.1), then the ESP recorded a bounce at 09:00:18 "
        "(550 5.1.1).")
