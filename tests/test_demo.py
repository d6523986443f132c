"""The demo data set: deterministic, big enough, every verdict and category, real layouts."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from analysis import demo, sources
from analysis.settings import DEMO_DIR
from analysis.sources import ParseOptions
from analysis.store import Store
from tests.conftest import SAMPLES

MANIFEST = json.loads((DEMO_DIR / demo.MANIFEST).read_text(encoding="utf-8"))
FILES = {f["path"]: f for f in MANIFEST["files"]}
ESP = next(f["path"] for f in MANIFEST["files"] if f["side"] == "esp")
KIND_OF = {f["path"]: f["kind"] for f in MANIFEST["files"]}

# Each file kind and the shared sample whose structure it copies.
SAMPLE_OF = {
    "esp": "esp/touchbasepro_activity.csv",
    "exo_extended": "office365/historical_search_messagetracedetail.csv",
    "exo_eac": "office365/eac_message_trace_export.csv",
    "exo_v1": "office365/get-messagetrace_export.csv",
    "google_els": "google/email_log_search_export.csv",
    "google_bq": "google/bigquery_gmail_logs_daily.jsonl",
    "msgtrk": "exchange/MSGTRK20251104-1.LOG",
    "msgtrk_md": "exchange/MSGTRKMD20251104-1.LOG",
    "postfix": "posix/postfix_syslog.log",
}

# Reply fragments the ESP export must contain, per failure category (the texts of the brief).
CATEGORY_TEXTS = {
    "invalid_address": ["550 5.1.1 ", "550-5.1.1 ", "550 5.4.1 Recipient address rejected: "
                        "Access denied", "553 5.1.2 ", "5.1.10 RESOLVER.ADR.RecipientNotFound",
                        "doesn't have a yahoo.example.com account"],
    "mailbox_unavailable": ["452-4.2.2 ", "552 5.2.2 ", "552-5.2.2 ", "550-5.2.1 ",
                            "This mailbox is disabled", "554 5.2.2 mailbox full"],
    "spam_or_reputation": ["550-5.7.1 ", "SpamAssassin", "zen.spamhaus.org", "[BL21]",
                           "554 5.7.1 Service unavailable", "550 5.7.606 Access denied, banned "
                           "sending IP", "(S3150)", "Message rejected as spam by Content Filtering"],
    "authentication": ["550-5.7.26 Unauthenticated email", "550 5.7.515 Access denied",
                       "550 5.7.23 ", "SPF fail", "550 5.7.9 "],
    "policy_or_configuration": ["Relay access denied", "Relaying denied", "550 5.7.133 ",
                                "552 5.3.4 Message size exceeds fixed limit", "[PH01]"],
    "connectivity": ["421 4.4.2 ", "timed out while receiving the initial server greeting",
                     "451 4.4.1 ", "Connection refused", "Host not found"],
    "throttling": ["421-4.7.28 ", "unusual rate of", "450-4.2.1 ", "receiving mail too quickly",
                   "[TSS04]", "421 RP-001"],
    "unknown": ["Administrative prohibition", "(ref. 0x80004005)",
                "Message could not be processed", "Message was not accepted"],
}
PROVIDER_SHAPES = [
    r"250 2\.6\.0 <[^>]+> \[InternalId=\d+, Hostname=[A-Z0-9]+\.[a-z]+prd\d+\.prod\.outlook\.com\] "
    r"\d+ bytes in [\d.]+, [\d.]+ KB/sec Queued mail for delivery",
    r"250 2\.0\.0 OK  \d{10} \S+ - gsmtp",
    r"250 2\.0\.0 Ok: queued as [0-9A-F]{10,11}\"",
    r"250 2\.6\.0 <[^>]+> \[InternalId=\d+, Hostname=EXCH01\.fabrikam\.example\.net\]",
    r"250 2\.0\.0 \w{14} Message accepted for delivery",
    r"250 OK id=\w{6}-\w{11}-\w{4}",
    r"250 ok dirdel",
]


def _esp_rows() -> list[dict[str, str]]:
    text = (DEMO_DIR / ESP).read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    a = demo.write_demo(tmp_path / "a")
    demo.write_demo(tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # ... and the committed data/demo is exactly what this generator writes
    for name in names:
        assert (DEMO_DIR / name).read_bytes() == (tmp_path / "a" / name).read_bytes(), (
            f"data/demo/{name} is stale: run python -c 'from analysis import demo; "
            "demo.write_demo()' and commit")
    assert {f.path.name for f in a} == set(FILES)
    assert all(f.tz == FILES[f.path.name]["tz"] for f in a)


def test_another_seed_gives_another_campaign(tmp_path: Path) -> None:
    demo.write_demo(tmp_path, recipients=600, seed=8)
    other = json.loads((tmp_path / demo.MANIFEST).read_text(encoding="utf-8"))
    assert other["expected"]["recipients"] == 600
    assert (tmp_path / ESP).read_bytes() != (DEMO_DIR / ESP).read_bytes()


def test_esp_export_size_and_layout() -> None:
    rows = _esp_rows()
    recipients = {r["Email Address"] for r in rows}
    domains = {a.split("@")[1] for a in recipients}
    assert len(recipients) >= 2000 and len(domains) >= 30
    assert {r["Campaign"] for r in rows} == {"October Newsletter", "November Newsletter"}
    assert Counter(r["Event"] for r in rows).keys() >= {
        "Delivered", "Bounced", "Deferred", "Opened", "Clicked", "Unsubscribed",
        "Marked as spam", "Sent"}
    assert all(re.fullmatch(r"2025-1[01]-\d\d \d\d:\d\d:\d\d", r["Date"]) for r in rows)
    raw = (DEMO_DIR / ESP).read_bytes()
    assert raw.startswith(b'\xef\xbb\xbf"Email Address","Name","Campaign","Event","Date",'
                          b'"Bounce Type","Bounce Reason","Message ID","SMTP Response"\r\n')
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only, also inside multi-line replies
    assert "Léna" in raw.decode("utf-8-sig") or "Zoë" in raw.decode("utf-8-sig")
    assert MANIFEST["expected"]["recipients"] == len(recipients)
    assert MANIFEST["expected"]["esp_rows"] == len(rows)


@pytest.mark.parametrize("category", sorted(CATEGORY_TEXTS))
def test_every_failure_category_has_its_texts(category: str) -> None:
    text = (DEMO_DIR / ESP).read_text(encoding="utf-8-sig")
    missing = [t for t in CATEGORY_TEXTS[category] if t not in text]
    assert not missing, missing
    assert MANIFEST["expected"]["failure_categories_intended"][category] >= 3


def test_250_replies_have_real_provider_shapes() -> None:
    text = (DEMO_DIR / ESP).read_text(encoding="utf-8-sig")
    for shape in PROVIDER_SHAPES:
        assert re.search(shape, text), shape
    rows = _esp_rows()
    for r in rows:
        if r["Event"] == "Delivered" and r["Message ID"]:
            assert r["Message ID"] in r["SMTP Response"]  # the ID comes from the reply


def test_every_verdict_occurs_and_truth_agrees_with_manifest() -> None:
    expected = MANIFEST["expected"]
    assert set(expected["verdicts"]) == set(demo.VERDICTS)
    assert all(n >= 3 for n in expected["verdicts"].values()), expected["verdicts"]
    truth = json.loads((DEMO_DIR / demo.TRUTH).read_text(encoding="utf-8"))
    verdict = truth["columns"].index("verdict")
    counts = Counter(row[verdict] for row in truth["rows"])
    assert dict(counts) == {v: n for v, n in expected["verdicts"].items() if n}
    assert len(truth["rows"]) == expected["journeys"]
    assert expected["accepted_no_trace_on_traced_domains"] >= 3
    assert all(n >= 3 for n in expected["trace_noise_messages"].values())


def test_esp_export_loads_without_rejects() -> None:
    store = Store(":memory:")
    try:
        f = FILES[ESP]
        [r] = store.load_files([DEMO_DIR / ESP], opts=ParseOptions(tz=f["tz"]), origin="demo")
        assert r.ok and r.format == "touchbasepro_csv"
        assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (f["rows"], f["rows"], 0)
        first = store.df("SELECT min(event_time) AS t FROM sends")["t"][0]
        assert first.isoformat() == MANIFEST["campaigns"][0]["first_send_utc"]
        # Verdicts that need no trace evidence already match the ground truth.
        got = dict(store.df("SELECT verdict, count(*) AS n FROM journeys GROUP BY 1")
                   .itertuples(index=False))
        for v in ("rejected", "expired", "bounced_after_accept"):
            assert got.get(v) == MANIFEST["expected"]["verdicts"][v], v
    finally:
        store.close()


def _decoded(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(b"\xff\xfe"):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


@pytest.mark.parametrize("name", sorted(FILES))
def test_structure_matches_the_shared_sample(name: str) -> None:
    kind = KIND_OF[name]
    ours, theirs = (DEMO_DIR / name).read_bytes(), (SAMPLES / SAMPLE_OF[kind]).read_bytes()
    assert ours[:2] == theirs[:2] and ours[:3].startswith(b"\xef\xbb\xbf") == theirs[:3].startswith(
        b"\xef\xbb\xbf"), "BOM / encoding differs from the sample"
    text, sample = _decoded(DEMO_DIR / name), _decoded(SAMPLES / SAMPLE_OF[kind])
    assert ("\r\n" in text) == ("\r\n" in sample), "line ends differ from the sample"
    if kind == "google_bq":
        ours_keys = [list(json.loads(line)["message_info"]) for line in text.splitlines()[:1]]
        assert ours_keys == [list(json.loads(sample.splitlines()[0])["message_info"])]
        assert list(json.loads(text.splitlines()[0])) == ["event_info", "message_info"]
    elif kind == "postfix":
        stamp = re.compile(r"^(Nov) ( \d|\d\d) \d\d:\d\d:\d\d mx1 [\w/-]+(\[\d+\])?: ")
        assert all(stamp.match(line) for line in text.splitlines())
    elif kind.startswith("msgtrk"):
        head = [x for x in text.splitlines()[:5] if not x.startswith("#Date")]
        assert head == [x for x in sample.splitlines()[:5] if not x.startswith("#Date")]
    else:
        assert text.splitlines()[0] == sample.splitlines()[0]
    if kind == "exo_v1":
        assert ours.isascii() and b"November Newsletter ? Trail" in ours


def _registered(name: str) -> tuple[str | None, str]:
    f = next(d for d in demo.demo_files() if d.path.name == name)
    fmt = demo.resolve_format(f)
    return fmt, f.format


@pytest.mark.parametrize("name", sorted(n for n, f in FILES.items() if f["side"] == "trace"))
def test_trace_file_is_sniffed_and_loads_without_rejects(name: str) -> None:
    fmt, intended = _registered(name)
    if fmt is None:
        pytest.skip(f"no parser for {intended} (family /{FILES[name]['format_family']}/) is "
                    "registered yet")
    f = FILES[name]
    best = sources.inspect([DEMO_DIR / name])[0].best
    assert best is not None and best.format == fmt, f"sniffed as {best}"
    store = Store(":memory:")
    try:
        [r] = store.load_files([DEMO_DIR / name], format=fmt,
                               opts=ParseOptions(tz=f["tz"], year=f["year"]), origin="demo")
        assert r.ok, r.error
        assert r.rows_rejected == 0, store.rejected(r.import_id).head(5).to_dict("records")
        assert r.rows_loaded > 0
    finally:
        store.close()


def test_load_demo_loads_what_parsers_exist_for() -> None:
    store = Store(":memory:")
    try:
        results = demo.load_demo(store)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        loaded = {r.file for r in results if not r.skipped}
        assert ESP in loaded and store.has_demo()
        for r in results:
            if r.skipped:
                assert "no parser" in r.notes["message"]
            else:
                assert r.tz == FILES[r.file]["tz"] and r.rows_rejected == 0
    finally:
        store.close()


def test_journeys_match_the_ground_truth() -> None:
    """Every file loaded: each journey's verdict is the one TRUTH.json gives it."""
    missing = [f.format for f in demo.demo_files() if demo.resolve_format(f) is None]
    if missing:
        pytest.skip(f"parsers not registered yet: {', '.join(sorted(set(missing)))}")
    truth = json.loads((DEMO_DIR / demo.TRUTH).read_text(encoding="utf-8"))
    cols = truth["columns"]
    want = {(r[cols.index("campaign")], r[cols.index("recipient")]): r[cols.index("verdict")]
            for r in truth["rows"]}
    store = Store(":memory:")
    try:
        demo.load_demo(store)
        got = {(c, r): v for c, r, v in store.df(
            "SELECT campaign, recipient, verdict FROM journeys").itertuples(index=False)}
    finally:
        store.close()
    wrong = {k: (want.get(k), got.get(k)) for k in want.keys() | got.keys()
             if want.get(k) != got.get(k)}
    assert not wrong, f"{len(wrong)} journeys differ (truth, got): {list(wrong.items())[:10]}"
    assert Counter(got.values()) == Counter(
        {v: n for v, n in MANIFEST["expected"]["verdicts"].items() if n})
