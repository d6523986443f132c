"""List hygiene: syntax, domain typos, and the suppression list with its keep/review rows."""

from __future__ import annotations

import csv
import io

import pytest

from analysis import hygiene
from analysis.cli import main
from analysis.sources._base import ParseOptions
from analysis.store import Store
from tests.conftest import SAMPLE_TZ, sample

ACTIVITY = "esp/touchbasepro_activity.csv"


@pytest.mark.parametrize(("address", "problem"), [
    ("alice@example.com", None),
    ("first.last+tag@sub.example.co.uk", None),
    ("müller@example.de", None),
    ("a..b@example.com", "dots"),
    (".a@example.com", "dots"),
    ("a@b", "needs a dot"),
    ("@example.com", "nothing before"),
    ("two@@example.com", "exactly one @"),
    ("no-at-sign.example.com", "exactly one @"),
    ("a b@example.com", "characters not allowed"),
    ("jo@exa_mple.com", "domain"),
    ("jo@-example.com", "domain"),
    ("jo@example.123", "ends in a number"),
    ("x" * 65 + "@example.com", "64"),
    ("", "empty"),
])
def test_syntax_problem(address: str, problem: str | None) -> None:
    got = hygiene.syntax_problem(address)
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got


def test_the_sql_prefilter_passes_only_addresses_python_finds_valid() -> None:
    """suppressions() checks in Python only the addresses PLAIN_ADDRESS_SQL does not match:
    whatever it matches must be valid for syntax_problem(), on the edges of every rule."""
    import itertools

    import duckdb

    locals_ = ["a", "first.last", "x+tag", "o'neil", "a..b", ".a", "a.", "a_b%c-d", "-", "é",
               "a b", "x" * 64, "x" * 65, "a@b", ""]
    labels = ["example", "ex-ample", "-ex", "ex-", "e" * 63, "e" * 64, "123", "exa_mple", "",
              "müller", "a"]
    tlds = ["com", "c", "123", "c0m", "co-uk", "x" * 63, "x" * 64, ""]
    addresses = {f"{lo}@{la}.{t}" for lo, la, t in itertools.product(locals_, labels, tlds)}
    addresses |= {f"{lo}@{la}" for lo, la in itertools.product(locals_, labels)}
    addresses |= {"a@" + ".".join(["b" * 63] * 3) + ".com", "a@" + ".".join(["b" * 63] * 4)
                  + ".com", " a@example.com", "a@example.com ", "a@example.com.", "a@@x.com",
                  "a@x..com", "a@.x.com"}
    con = duckdb.connect()
    con.execute("CREATE TABLE t (recipient VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[a] for a in sorted(addresses)])
    plain = {a for (a,) in con.execute(
        f"SELECT recipient FROM t WHERE {hygiene.PLAIN_ADDRESS_SQL}").fetchall()}
    wrong = {a: hygiene.syntax_problem(a) for a in plain if hygiene.syntax_problem(a)}
    assert not wrong
    valid = {a for a in addresses if hygiene.syntax_problem(a) is None}
    assert {"first.last@example.com", "x+tag@ex-ample.com", "a_b%c-d@a.com"} <= plain
    assert len(plain) > 50 and len(valid - plain) > 10  # both paths are exercised


@pytest.mark.parametrize(("domain", "suggestion"), [
    ("gmial.com", "gmail.com"), ("gmai.com", "gmail.com"), ("gnail.com", "gmail.com"),
    ("gmail.con", "gmail.com"), ("gmail.co", "gmail.com"), ("hotmial.com", "hotmail.com"),
    ("yahooo.com", "yahoo.com"), ("yaho.com", "yahoo.com"), ("outlok.com", "outlook.com"),
    ("iclod.com", "icloud.com"), ("example.con", "example.com"),
    ("gmail.com", None), ("gmx.net", None), ("gmx.de", None), ("example.org", None),
    ("brightpath.example.com", None), ("company.co", None), (None, None),
])
def test_suggest_domain(domain: str | None, suggestion: str | None) -> None:
    assert hygiene.suggest_domain(domain) == suggestion


def test_check_address() -> None:
    c = hygiene.check_address("jane@gmial.com")
    assert (c.valid, c.problem, c.suggestion) == (True, None, "gmail.com")
    assert hygiene.check_address("jane@@x").valid is False


@pytest.fixture
def story(store: Store) -> Store:
    results = store.load_files([sample(ACTIVITY)], opts=ParseOptions(tz=SAMPLE_TZ[ACTIVITY]))
    assert results[0].ok, results[0].error
    return store


def test_suppressions_of_the_sample_story(story: Store) -> None:
    df = hygiene.suppressions(story.cursor())
    actions = dict(zip(df["recipient"], df["action"], strict=True))
    # samples/STORY.md: M04, M10, M13 are address failures; M07 is DMARC (a hard bounce that
    # must not be suppressed); the soft bounces (M08, M14, M17) are not listed.
    assert actions == {
        "dev.patel@harbor.example.org": "suppress",
        "julia.schmidt@fabrikam.example.net": "suppress",
        "marco.rossi@pine.example.org": "suppress",
        "grace.kim@riverbend.example.net": "keep_despite_hard_bounce",
    }
    grace = df[df["recipient"] == "grace.kim@riverbend.example.net"].iloc[0]
    assert (grace["reason"], grace["category"], grace["esp_bounce_type"]) == (
        "authfailure", "authentication", "hard")
    assert "DMARC" in grace["evidence"]
    marco = df[df["recipient"] == "marco.rossi@pine.example.org"].iloc[0]
    assert (marco["reason"], marco["smtp_code"], marco["enhanced_code"]) == (
        "userunknown", 550, "5.1.1")
    assert list(df["action"]) == sorted(df["action"], key=["suppress",
                                        "keep_despite_hard_bounce", "review"].index)
    conflicts = hygiene.hard_bounce_conflicts(story.cursor())
    assert list(conflicts["recipient"]) == ["grace.kim@riverbend.example.net"]


def test_syntax_errors_suppress_and_label_only_hard_bounces_need_review(store: Store) -> None:
    cur = store.cursor()
    cur.executemany(
        "INSERT INTO sends (import_id, row_no, recipient, recipient_domain, event, smtp_text, "
        "bounce_type, bounce_reason) VALUES (1, ?, ?, ?, ?, ?, ?, ?)", [
            (1, "broken..dots@example.com", "example.com", "sent", None, None, None),
            (2, "label.only@example.com", "example.com", "bounced", None, "Hard", "Hard Bounce"),
            (3, "full@example.com", "example.com", "bounced", "552 5.2.2 Mailbox full", "Hard",
             None),
            (4, "fine@gmial.com", "gmial.com", "sent", None, None, None),
            (5, "gone@gmial.com", "gmial.com", "bounced", "550 5.1.2 Host unknown", "Hard", None),
            (6, "maybe@example.com", "example.com", "bounced", "550 User unknown.", "Hard", None),
        ])
    df = hygiene.suppressions(cur).set_index("recipient")
    assert df.loc["broken..dots@example.com", "action"] == "suppress"
    assert df.loc["broken..dots@example.com", "reason"] == "syntax"
    assert df.loc["label.only@example.com", "action"] == "review"
    assert df.loc["full@example.com", "action"] == "keep_despite_hard_bounce"
    assert df.loc["gone@gmial.com", "action"] == "suppress"
    # An unknown user that nothing confirms (no 5.1.x, no RCPT stage) is neither dropped nor
    # declared fine: a person looks at it.
    assert (df.loc["maybe@example.com", "action"], df.loc["maybe@example.com", "reason"]) == (
        "review", "filtered")
    assert df.loc["gone@gmial.com", "suggested_domain"] == "gmail.com"
    assert "fine@gmial.com" not in df.index
    typos = hygiene.typo_suggestions(cur)
    assert typos.to_dict("records") == [{"domain": "gmial.com", "suggestion": "gmail.com",
                                         "addresses": 2}]


def test_empty_workspace_gives_empty_frames(store: Store) -> None:
    df = hygiene.suppressions(store.cursor())
    assert len(df) == 0 and "action" in df.columns
    assert len(hygiene.typo_suggestions(store.cursor())) == 0


def test_cli_suppressions_writes_csv(tmp_path, capsys) -> None:
    ws = tmp_path / "ws.duckdb"
    s = Store(ws)
    s.load_files([sample(ACTIVITY)], opts=ParseOptions(tz=SAMPLE_TZ[ACTIVITY]))
    s.close()
    out = tmp_path / "suppress.csv"
    assert main(["suppressions", "--workspace", str(ws), "--csv", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["recipient"]: r["action"] for r in rows}["grace.kim@riverbend.example.net"] == \
        "keep_despite_hard_bounce"
    assert sum(r["action"] == "suppress" for r in rows) == 3
    assert main(["suppressions", "--workspace", str(ws)]) == 0
    assert "marco.rossi@pine.example.org,suppress" in capsys.readouterr().out
