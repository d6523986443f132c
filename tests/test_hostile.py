"""Broken and hostile files (tests/fixtures/hostile/corpus.py) through the CLI, the store and
the Upload page: every registered format, sniffed and forced. Each file either loads with
rows_read = rows_loaded + rows_rejected (every rejected row kept with its reason) or gives
one line naming the file (and the line) and the problem; never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis import sources
from analysis.cli import main
from analysis.errors import InputError
from analysis.sources._io import open_one, workdir_inputs
from analysis.store import Store
from tests.fixtures.hostile.corpus import CASES, write_corpus

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
FORMATS = [s.NAME for s in sources.formats()]
MAPPING = {"recipient": "Email Address", "event_time": "Date"}  # for --format mapped
NOT_RECOGNISED = ("not a recognised export format (name it with --format, or map its columns "
                  "on the Upload page / with --mapping)")
BINARY = "binary data, not a text export (upload the CSV, log, JSON or XLSX file the system exported)"

# What sniffing makes of each file: (file or member, format, (read, loaded, rejected)) for a
# load, (file or member, None, the exact start of the one-line message) for a refusal.
EXPECTED: dict[str, list[tuple[str, str | None, tuple[int, int, int] | str]]] = {
    "empty.csv": [("empty.csv", None, "empty.csv: the file is empty")],
    "blank_lines.csv": [("blank_lines.csv", None, f"blank_lines.csv, line 1: {NOT_RECOGNISED}")],
    "binary.png": [("binary.png", None, f"binary.png, line 3: {BINARY}")],
    "random.bin": [("random.bin", None, f"random.bin, line 1: {BINARY}")],
    "random_text.csv": [("random_text.csv", None, f"random_text.csv, line 1: {NOT_RECOGNISED}")],
    "truncated_activity.csv": [("truncated_activity.csv", "touchbasepro_csv", (13, 12, 1))],
    "truncated_bounces.xlsx": [("truncated_bounces.xlsx", None, "truncated_bounces.xlsx: broken "
                                "XLSX workbook: the file is truncated or damaged")],
    "truncated_webhook.json": [("truncated_webhook.json", None, "truncated_webhook.json, line "
                                "114: invalid JSON: Unterminated string starting at")],
    "truncated_ses.jsonl": [("truncated_ses.jsonl", None, "truncated_ses.jsonl, line 7: invalid "
                             "JSON: Expecting ':' delimiter")],
    "truncated_postfix.log": [("truncated_postfix.log", "postfix", (4, 4, 0))],
    "truncated_msgtrk.log": [("truncated_msgtrk.log", "exchange_msgtrk", (4, 3, 1))],
    "truncated_utf16.csv": [("truncated_utf16.csv", None, "truncated_utf16.csv: file ends inside "
                             "a utf-16 character (truncated?)")],
    "truncated.csv.gz": [("truncated.csv.gz", None, "truncated.csv.gz: broken gzip data: "
                          "Compressed file ended before the end-of-stream marker")],
    "truncated.zip": [("truncated.zip", None, "truncated.zip: broken ZIP archive: File is not a "
                       "zip file")],
    "bom_utf8_but_cp1252.csv": [("bom_utf8_but_cp1252.csv", None, "bom_utf8_but_cp1252.csv, "
                                 "line 2: not valid utf-8-sig text (byte 0x72")],
    "bom_utf16_but_utf8.csv": [("bom_utf16_but_utf8.csv", None,
                                f"bom_utf16_but_utf8.csv, line 1: {NOT_RECOGNISED}")],
    "latin1.json": [("latin1.json", "sendgrid_json", (1, 1, 0))],
    "mixed_endings.csv": [("mixed_endings.csv", "touchbasepro_csv", (28, 28, 0))],
    "mixed_endings.log": [("mixed_endings.log", "postfix", (6, 6, 0))],
    "nul_bytes.csv": [("nul_bytes.csv", None, "nul_bytes.csv, line 21: a NUL byte: binary data "
                       "or a damaged file, not a text export")],
    "nul_bytes.log": [("nul_bytes.log", None, f"nul_bytes.log, line 12: {BINARY}")],
    "long_line.csv": [("long_line.csv", "touchbasepro_csv", (2, 2, 0))],
    "long_line.log": [("long_line.log", "postfix", (0, 0, 0))],
    "long_line.json": [("long_line.json", "sendgrid_json", (1, 1, 0))],
    "bom_in_middle.csv": [("bom_in_middle.csv", "touchbasepro_csv", (57, 56, 1))],
    "extra_columns.csv": [("extra_columns.csv", "touchbasepro_csv", (2, 1, 1))],
    "missing_columns.csv": [("missing_columns.csv", "touchbasepro_csv", (3, 1, 2))],
    "duplicated_headers.csv": [("duplicated_headers.csv", "touchbasepro_csv", (1, 1, 0))],
    "locale_dates.csv": [("locale_dates.csv", "touchbasepro_csv", (7, 2, 5))],
    "unclosed_quote.csv": [("unclosed_quote.csv", "touchbasepro_csv", (2, 1, 1))],
    "header_only.csv": [("header_only.csv", "touchbasepro_csv", (0, 0, 0))],
    "csv_named.xlsx": [("csv_named.xlsx", "touchbasepro_csv", (28, 28, 0))],
    "xlsx_named.csv": [("xlsx_named.csv", "touchbasepro_xlsx", (7, 7, 0))],
    "empty_first_sheet.xlsx": [("empty_first_sheet.xlsx", None,
                                f"empty_first_sheet.xlsx, line 1: {NOT_RECOGNISED}")],
    "odd_cells.xlsx": [("odd_cells.xlsx", "touchbasepro_xlsx", (3, 1, 2))],
    "mixed.zip": [
        ("mixed.zip:exports/activity.csv", "touchbasepro_csv", (28, 28, 0)),
        ("mixed.zip:exports/postfix.log", "postfix", (8, 8, 0)),
        ("mixed.zip:exports/picture.png", None, f"mixed.zip:exports/picture.png, line 3: {BINARY}"),
        ("mixed.zip:exports/notes.txt", None, f"mixed.zip:exports/notes.txt, line 1: {NOT_RECOGNISED}"),
        ("mixed.zip:exports/empty.csv", None, "mixed.zip:exports/empty.csv: the file is empty"),
    ],
    "encrypted.zip": [("encrypted.zip:secret.csv", None, "encrypted.zip:secret.csv: encrypted "
                       "(password-protected) ZIP member (unpack it yourself and load the files)")],
    "unsupported.zip": [("unsupported.zip:a.csv", None, "unsupported.zip:a.csv: broken or "
                         "unsupported ZIP member: That compression method is not supported")],
    "nested.zip": [("nested.zip:inner.zip", None, "nested.zip:inner.zip: nested archive refused; "
                    "unpack it and upload its files")],
    "deep.json": [("deep.json", None, f"deep.json, line 1: {NOT_RECOGNISED}")],
    "odd_values.json": [("odd_values.json", "sendgrid_json", (7, 1, 6))],
    "huge_ints.jsonl": [("huge_ints.jsonl", "sendgrid_json", (3, 1, 2))],
    "scalar.json": [("scalar.json", None, f"scalar.json, line 1: {NOT_RECOGNISED}")],
    "syslog_garbage.log": [("syslog_garbage.log", "postfix", (4, 2, 2))],
    "msgtrk_garbage.log": [("msgtrk_garbage.log", "exchange_msgtrk", (3, 0, 3))],
    "broken.eml": [("broken.eml", "dsn_email", (0, 0, 0))],
    "sql_headers.csv": [("sql_headers.csv", "touchbasepro_csv", (1, 1, 0))],
    "messagetrace_one_column.csv": [("messagetrace_one_column.csv", "o365_messagetrace", (3, 0, 3))],
    "dsn_cut.eml": [("dsn_cut.eml", None, f"dsn_cut.eml, line 1: {NOT_RECOGNISED}")],
}

# The reasons a user reads for the rejected rows of the files built to break rows.
REASONS = {
    "truncated_activity.csv": [(14, "malformed CSV record: Value with unterminated quote found.")],
    "unclosed_quote.csv": [(3, "malformed CSV record: Value with unterminated quote found.")],
    "extra_columns.csv": [(2, "malformed CSV record: Expected Number of Columns: 5 Found: 6")],
    "missing_columns.csv": [(2, "malformed CSV record: Expected Number of Columns: 5 Found: 2"),
                            (3, "malformed CSV record: Expected Number of Columns: 5 Found: 1")],
    "bom_in_middle.csv": [(30, 'not an e-mail address: \ufeff"Email Address"')],
    "locale_dates.csv": [
        (2, "unknown event Zugestellt in column Event (expected Delivered, Bounced, Deferred, "
            "Opened, Clicked, Unsubscribed or Marked as spam)"),
        (3, "unreadable date 4 nov. 2025 11:00 in column Date (expected e.g. 2025-11-04 11:00:03)"),
        (4, "unreadable date 2025年11月4日 11:00 in column Date (expected e.g. 2025-11-04 11:00:03)"),
        (5, "unreadable date ٢٠٢٥-١١-٠٤ ١١:٠٠ in column Date (expected e.g. 2025-11-04 11:00:03)"),
        (7, "unreadable date 4-11-2025 11:00 in column Date (expected e.g. 2025-11-04 11:00:03)"),
    ],
    "odd_cells.xlsx": [
        (2, "unreadable date 45965.4583 in column Date (expected e.g. 2025-11-04 11:00:03)"),
        (3, "unreadable date #DIV/0! in column Date (expected e.g. 2025-11-04 11:00:03)"),
    ],
    "odd_values.json": [
        (1, "no recipient address"),
        (2, "unreadable time 1000000000000000000000000000000000000000 in timestamp"),
        (4, "unreadable time NaN in timestamp"),
        (5, "not a JSON object but str: expected a SendGrid event"),
        (6, "not a JSON object but NoneType: expected a SendGrid event"),
    ],
    "huge_ints.jsonl": [(1, "unreadable time 1000000000000000013287555072 in timestamp"),
                        (2, "unreadable time inf in timestamp")],
    "syslog_garbage.log": [(7, None), (9, "unreadable time stamp (no such date?)")],
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("hostile"))


def check_workspace(store: Store, results: list) -> None:
    """Every result is a clean load or one clear line, and the workspace agrees with them."""
    loaded = [r for r in results if r.ok and not r.skipped]
    for r in results:
        if r.error:
            assert "\n" not in r.error and "Traceback" not in r.error, r.error
            assert r.error.startswith(r.file.split(":")[0]), r.error
            assert "unexpected error" not in r.error, r.error  # every failure is foreseen
            continue
        assert r.rows_read == r.rows_loaded + r.rows_rejected, r
        table = "sends" if r.side == "esp" else "trace_events"
        n = store.df(f"SELECT count(*) AS n FROM {table} WHERE import_id = ?",  # noqa: S608
                     [r.import_id])["n"][0]
        assert n == r.rows_loaded, (r.file, r.format)
        rej = store.rejected(r.import_id)
        assert len(rej) == r.rows_rejected, (r.file, r.format)
        assert rej["error"].map(lambda e: isinstance(e, str) and e.strip() != "").all(), rej
        assert rej["row_no"].notna().all() and (rej["row_no"] >= 1).all(), (r.file, r.format, rej)
    imports = store.imports()
    assert len(imports) == len(loaded)
    assert sorted(imports["import_id"]) == sorted(r.import_id for r in loaded)
    totals = store.df("SELECT (SELECT count(*) FROM sends) + (SELECT count(*) FROM trace_events) "
                      "AS rows, (SELECT count(*) FROM rejected_rows) AS rejected")
    assert totals["rows"][0] == imports["rows_loaded"].sum()
    assert totals["rejected"][0] == imports["rows_rejected"].sum()


def test_the_corpus_covers_the_issue_list() -> None:
    wanted = ["empty", "binary", "random", "truncated", "bom_utf8_but_cp1252", "mixed_endings",
              "nul_bytes", "long_line", "bom_in_middle", "extra_columns", "missing_columns",
              "duplicated_headers", "locale_dates", "unclosed_quote", "csv_named.xlsx",
              "mixed.zip"]
    for word in wanted:
        assert any(word in name for name in CASES), word
    assert set(EXPECTED) == set(CASES)


def test_sniffed_outcome_of_every_file(corpus: dict[str, Path]) -> None:
    store = Store(":memory:")
    got: dict[str, list] = {}
    everything = []
    for name, path in corpus.items():
        results = store.load_files([path])
        everything += results
        got[name] = [(r.file, r.format, r.error) if r.error else
                     (r.file, r.format, (r.rows_read, r.rows_loaded, r.rows_rejected))
                     for r in results]
        for (file, fmt, want), (gfile, gfmt, gwant) in zip(EXPECTED[name], got[name], strict=True):
            assert gfile == file, name
            if isinstance(want, str):
                assert isinstance(gwant, str) and gwant.startswith(want), (name, gwant)
            else:
                assert (gfmt, gwant) == (fmt, want), name
        for r in results:
            if r.ok and name in REASONS:
                rej = store.rejected(r.import_id)
                for row_no, reason in REASONS[name]:
                    row = rej[rej["row_no"] == row_no]
                    assert len(row) == 1, (name, row_no, rej)
                    if reason is not None:
                        assert row["error"].iloc[0] == reason, (name, row_no)
    check_workspace(store, everything)
    again = store.load_files(list(corpus.values()))  # loading it all again adds nothing
    assert [r.skipped for r in again if r.ok] == [True] * sum(r.ok for r in everything)
    store.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_forced_on_every_file_through_the_cli(
        corpus: dict[str, Path], fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ws = tmp_path / "ws.duckdb"
    args = ["load", *map(str, corpus.values()), "--workspace", str(ws), "--format", fmt, "--json"]
    if fmt == "mapped":
        assert main(["mapping", "m", "--workspace", str(ws), "--set", "recipient=Email Address",
                     "--set", "event_time=Date"]) == 0
        args += ["--mapping", "m"]
        capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    rows = json.loads(out)
    failed = [r for r in rows if r["error"]]
    assert code == (2 if failed else 0)
    # stderr: exactly one line per failed file, each the file's own message.
    assert err.splitlines() == [f"delivery-trace: {r['error']}" for r in failed]
    assert "Traceback" not in err
    store = Store(ws)
    from analysis.store import LoadResult

    check_workspace(store, [LoadResult(**{k: v for k, v in r.items()}) for r in rows])
    assert {r["format"] for r in rows if not r["error"]} <= {fmt}
    store.close()


@pytest.mark.parametrize("fmt", [None, "touchbasepro_csv", "sendgrid_json", "postfix"])
def test_cli_process_never_prints_a_traceback(corpus: dict[str, Path], fmt: str | None,
                                              tmp_path: Path) -> None:
    files = [str(p) for n, p in corpus.items() if not n.startswith("long_line")]  # keep it quick
    cmd = [sys.executable, "-m", "analysis.cli", "load", *files, "--workspace",
           str(tmp_path / "ws.duckdb"), "--json"] + (["--format", fmt] if fmt else [])
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=os.environ | {"PYTHONWARNINGS": "ignore"})
    rows = json.loads(proc.stdout)
    failed = [r for r in rows if r["error"]]
    assert proc.returncode == 2 and failed
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [f"delivery-trace: {r['error']}" for r in failed]
    for r in rows:
        if not r["error"]:
            assert r["rows_read"] == r["rows_loaded"] + r["rows_rejected"]


def test_every_sniffer_survives_every_file(corpus: dict[str, Path]) -> None:
    """Sniffers are called directly (sources.sniff would hide a crash as 'not mine')."""
    crashes = []
    with workdir_inputs() as inputs:
        for name, path in corpus.items():
            failures: list[InputError] = []
            try:
                srcs = open_one(inputs, path, failures)
            except InputError:
                continue
            for src in srcs:
                for source in sources.formats():
                    try:
                        conf = float(source.sniff(src))
                    except InputError:
                        continue
                    except Exception as e:  # noqa: BLE001 - collected and reported below
                        crashes.append((source.NAME, name, repr(e)))
                        continue
                    assert 0.0 <= conf <= 1.0, (source.NAME, name, conf)
    assert crashes == []


def test_inspect_never_raises_and_names_each_member(corpus: dict[str, Path]) -> None:
    found = sources.inspect([(n, p.read_bytes()) for n, p in corpus.items()
                             if not n.startswith("long_line")])
    by_name = {i.name: i for i in found}
    assert by_name["mixed.zip:exports/empty.csv"].error == "mixed.zip:exports/empty.csv: the file is empty"
    assert by_name["mixed.zip:exports/activity.csv"].best.format == "touchbasepro_csv"
    assert by_name["nested.zip:inner.zip"].error.startswith("nested.zip:inner.zip: nested archive")
    assert by_name["truncated.zip"].error.startswith("truncated.zip: broken ZIP archive")
    assert all("\n" not in (i.error or "") for i in found)


def test_upload_page_shows_each_problem_and_no_exception(
        corpus: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws.duckdb"
    s = Store(ws)
    s.set_meta("demo_offered", "yes")
    s.close()
    monkeypatch.setenv("DELIVERY_TRACE_WORKSPACE", str(ws))
    names = ["mixed.zip", "deep.json", "nul_bytes.csv", "unsupported.zip", "odd_values.json",
             "unclosed_quote.csv", "truncated_bounces.xlsx"]
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/upload.py").run()
    at.file_uploader(key="upload_files").set_value(
        [(n, corpus[n].read_bytes(), "application/octet-stream") for n in names]).run()
    assert not at.exception, at.exception
    # Force one file through a parser that cannot read it.
    at.selectbox(key="upload_format_5").select("sendgrid_json").run()
    at.button(key="upload_load").click().run()
    assert not at.exception, at.exception
    results = {r["file"]: r for r in at.session_state["upload_results"]}
    shown = [e.value for e in at.error]
    for file, prefix in (
            ("mixed.zip:exports/empty.csv", "mixed.zip:exports/empty.csv: the file is empty"),
            ("deep.json", "deep.json: the 'mapped' format needs a column mapping"),
            ("nul_bytes.csv", "nul_bytes.csv, line 21: a NUL byte"),
            ("unsupported.zip:a.csv", "unsupported.zip:a.csv: broken or unsupported ZIP member"),
            ("unclosed_quote.csv", "unclosed_quote.csv, line 1: invalid JSON"),
            ("truncated_bounces.xlsx", "truncated_bounces.xlsx: broken XLSX workbook")):
        assert (results[file]["error"] or "").startswith(prefix), results[file]
        assert results[file]["error"] in shown
    assert not any("Traceback" in e for e in shown)
    assert (results["mixed.zip:exports/activity.csv"]["rows_loaded"],
            results["odd_values.json"]["rows_loaded"],
            results["odd_values.json"]["rows_rejected"]) == (28, 1, 6)
    ok = [s.value for s in at.success]
    assert "odd_values.json: sendgrid_json — 1 rows loaded, 6 rejected." in ok, ok
