"""TouchBasePro / Campaign Monitor export (CSV and XLSX): samples, variants, bad rows."""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from analysis.cli import main
from analysis.sources._base import ParseOptions
from analysis.store import Store
from tests.conftest import SAMPLES

ACTIVITY = SAMPLES / "esp" / "touchbasepro_activity.csv"
BOUNCES = SAMPLES / "esp" / "touchbasepro_bounces.xlsx"
SAST = ParseOptions(tz="Africa/Johannesburg")

# samples/STORY.md, "Counts a test can assert".
ACTIVITY_EVENTS = {"delivered": 13, "bounced": 7, "deferred": 2, "opened": 3, "clicked": 2,
                   "unsubscribed": 1}


def load(store: Store, *items, opts: ParseOptions = SAST, fmt: str | None = None):
    results = store.load_files(list(items), opts=opts, format=fmt)
    return results


def event_counts(store: Store) -> dict[str, int]:
    df = store.df("SELECT event, count(*) AS n FROM sends GROUP BY event")
    return dict(zip(df["event"], df["n"], strict=True))


def test_activity_csv_matches_the_story(store: Store) -> None:
    (r,) = load(store, ACTIVITY)
    assert (r.format, r.side, r.error) == ("touchbasepro_csv", "esp", None)
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (28, 28, 0)
    assert event_counts(store) == ACTIVITY_EVENTS
    summary = store.df("SELECT count(DISTINCT recipient) AS r, count(DISTINCT campaign) AS c, "
                       "count(*) FILTER (WHERE bounce_type = 'hard') AS hard, "
                       "count(*) FILTER (WHERE bounce_type = 'soft') AS soft FROM sends")
    assert summary.iloc[0].tolist() == [18, 1, 4, 3]
    both = store.df("SELECT recipient FROM sends GROUP BY recipient HAVING "
                    "bool_or(event = 'delivered') AND bool_or(event = 'bounced') ORDER BY 1")
    assert both["recipient"].tolist() == ["julia.schmidt@fabrikam.example.net",
                                          "rita.costa@quarry.example.net"]


def test_activity_fields_are_exact(store: Store) -> None:
    load(store, ACTIVITY)
    m01 = store.df("SELECT * FROM sends WHERE recipient = 'alice.nguyen@alpine.example.org' "
                   "AND event = 'delivered'").iloc[0]
    # 11:00:03 SAST (UTC+2) is 09:00:03 UTC.
    assert m01["event_time"].to_pydatetime() == dt.datetime(2025, 11, 4, 9, 0, 3, tzinfo=dt.UTC)
    assert m01["remote_id"] == "<20251104090003.98a552b127c2@mta4.esp.example.net>"
    assert (m01["smtp_code"], m01["enhanced_code"]) == (250, "2.6.0")
    assert m01["campaign"] == "November Newsletter"
    assert m01["recipient_domain"] == "alpine.example.org"
    assert m01["row_no"] == 2
    m07 = store.df("SELECT * FROM sends WHERE recipient = 'grace.kim@riverbend.example.net'").iloc[0]
    assert (m07["smtp_code"], m07["enhanced_code"], m07["bounce_type"]) == (550, "5.7.26", "hard")
    assert m07["smtp_text"].count("\n") == 4  # five-line reply kept, CRLF normalised
    m14 = store.df("SELECT * FROM sends WHERE recipient = 'nadia.ali@tinker.example.com'").iloc[0]
    assert (m14["smtp_code"], m14["enhanced_code"]) == (550, None)
    assert m14["bounce_reason"] == "Soft Bounce - General"
    lena = store.df("SELECT name FROM sends WHERE recipient = 'lena.fischer@oakridge.example.org' "
                    "LIMIT 1")
    assert lena["name"].iloc[0] == "Léna Fischer"


def test_bounces_xlsx_has_the_seven_bounces(store: Store) -> None:
    (r,) = load(store, BOUNCES)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("touchbasepro_xlsx", 7, 0)
    assert event_counts(store) == {"bounced": 7}
    m08 = store.df("SELECT event_time, bounce_reason, smtp_code FROM sends "
                   "WHERE recipient = 'hiro.tanaka@riverbend.example.net'").iloc[0]
    assert m08["event_time"].to_pydatetime() == dt.datetime(2025, 11, 7, 9, 0, 12, tzinfo=dt.UTC)
    assert (m08["bounce_reason"], m08["smtp_code"]) == ("Soft Bounce - Mailbox Full", 452)
    assert store.df("SELECT min(row_no) AS a, max(row_no) AS b FROM sends").iloc[0].tolist() == [2, 8]


def _variant(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _text() -> str:
    return ACTIVITY.read_bytes().decode("utf-8-sig")


VARIANTS = {
    "utf16le-bom.csv": lambda: codecs.BOM_UTF16_LE + _text().encode("utf-16-le"),
    "utf16be-bom.csv": lambda: codecs.BOM_UTF16_BE + _text().encode("utf-16-be"),
    "utf16le-nobom.csv": lambda: _text().encode("utf-16-le"),
    "nobom-lf.csv": lambda: _text().replace("\r\n", "\n").encode("utf-8"),
    "cp1252.csv": lambda: _text().encode("cp1252"),
    "activity.csv.gz": lambda: gzip.compress(ACTIVITY.read_bytes(), mtime=0),
    "semicolon.csv": lambda: _text().replace('","', '";"').encode("utf-8"),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variants_load_the_same(store: Store, tmp_path: Path, name: str) -> None:
    (r,) = load(store, _variant(tmp_path, name, VARIANTS[name]()))
    assert r.error is None, r.error
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("touchbasepro_csv", 28, 0)
    assert event_counts(store) == ACTIVITY_EVENTS
    name_ = store.df("SELECT name FROM sends WHERE recipient LIKE 'lena%' LIMIT 1")["name"][0]
    assert name_ == "Léna Fischer"


def test_reordered_and_extra_columns(store: Store, tmp_path: Path) -> None:
    import csv

    rows = list(csv.reader(io.StringIO(_text(), newline="")))
    header = rows[0]
    order = list(reversed(range(len(header))))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        w.writerow([row[i] for i in order] + (["Extra"] if row is header else ["x"]))
    (r,) = load(store, _variant(tmp_path, "reordered.csv", out.getvalue().encode("utf-8")))
    assert (r.format, r.rows_loaded) == ("touchbasepro_csv", 28)
    assert event_counts(store) == ACTIVITY_EVENTS


def test_zip_members_load_as_files(store: Store, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(ACTIVITY, "exports/activity.csv")
        zf.write(BOUNCES, "exports/bounces.xlsx")
    results = load(store, _variant(tmp_path, "both.zip", buf.getvalue()))
    assert [(r.file, r.format, r.rows_loaded) for r in results] == [
        ("both.zip:exports/activity.csv", "touchbasepro_csv", 28),
        ("both.zip:exports/bounces.xlsx", "touchbasepro_xlsx", 7),
    ]


def test_reload_is_a_noop_and_delete_removes_everything(store: Store) -> None:
    (first,) = load(store, ACTIVITY)
    (again,) = load(store, ACTIVITY)
    assert again.skipped and again.import_id == first.import_id
    assert store.df("SELECT count(*) AS n FROM sends")["n"][0] == 28
    assert store.df("SELECT count(*) AS n FROM imports")["n"][0] == 1
    assert store.delete_import(first.import_id)
    for table in ("sends", "imports", "rejected_rows"):
        assert store.df(f"SELECT count(*) AS n FROM {table}")["n"][0] == 0
    (third,) = load(store, ACTIVITY)
    assert not third.skipped and third.rows_loaded == 28


def test_bad_rows_are_rejected_with_reasons(store: Store, tmp_path: Path) -> None:
    text = (
        '"Email Address","Event","Date","Message ID","SMTP Response"\r\n'
        '"ok@example.com","Delivered","2025-11-04 11:00:03","Q1","250 2.0.0 Ok: queued as Q1"\r\n'
        '"","Delivered","2025-11-04 11:00:03","",""\r\n'
        '"not-an-address","Bounced","2025-11-04 11:00:03","",""\r\n'
        '"b@example.com","Exploded","2025-11-04 11:00:03","",""\r\n'
        '"c@example.com","Opened","31/31/2025 99:00","",""\r\n'
        '"d@example.com","Opened","2025-11-04 11:00:03","extra","x","y"\r\n'
    )
    (r,) = load(store, _variant(tmp_path, "bad.csv", text.encode()))
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (6, 1, 5)
    rej = store.rejected(r.import_id)
    assert rej["row_no"].tolist() == [3, 4, 5, 6, 7]
    errors = rej["error"].tolist()
    assert errors[0] == "no recipient address"
    assert errors[1] == "not an e-mail address: not-an-address"
    assert errors[2].startswith("unknown event Exploded in column Event")
    assert errors[3].startswith("unreadable date 31/31/2025 99:00 in column Date")
    assert errors[4].startswith("malformed CSV record")
    assert "d@example.com" in rej["raw"].tolist()[4]
    assert store.df("SELECT row_no FROM sends")["row_no"].tolist() == [2]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "empty.csv: the file is empty"),
        ("binary.csv", bytes(range(256)) * 4, "binary.csv, line 1: binary data, not a text export"),
        ("wrong.csv", b"\xef\xbb\xbf\"Email Address\",\"Event\",\"Date\"\r\n\"a@b.c\",\"Op\xe9ned\",\"x\"\r\n",
         "wrong.csv, line 2: not valid utf-8-sig text"),
        ("notes.txt", b"hello\nthis is a shopping list\n", "notes.txt, line 1: not a recognised export format"),
    ],
)
def test_bad_files_give_one_clear_error(store: Store, tmp_path: Path, name: str, data: bytes,
                                        message: str) -> None:
    (r,) = load(store, _variant(tmp_path, name, data))
    assert r.error is not None and r.error.startswith(message), r.error
    assert "Traceback" not in r.error and "\n" not in r.error
    assert store.df("SELECT count(*) AS n FROM imports")["n"][0] == 0


def test_truncated_xlsx_is_reported(store: Store, tmp_path: Path) -> None:
    data = BOUNCES.read_bytes()
    (r,) = load(store, _variant(tmp_path, "cut.xlsx", data[: len(data) // 2]), fmt="touchbasepro_xlsx")
    assert r.error is not None and r.error.startswith("cut.xlsx:"), r.error
    assert "XLSX" in r.error


def test_column_mapping_fallback_saved_and_reused(store: Store, tmp_path: Path) -> None:
    data = ("Recipient Mail;What happened;When (local);Server said\n"
            "a@one.example;delivered;04.11.2025 11:00:03;250 2.0.0 Ok: queued as ABC123\n"
            "b@two.example;bounced;04.11.2025 11:00:04;550 5.1.1 user unknown\n")
    path = _variant(tmp_path, "odd.csv", data.encode())
    (plain,) = load(store, path)
    assert plain.error and "not a recognised export format" in plain.error
    store.save_mapping("odd-esp", {"recipient": "Recipient Mail", "event": "What happened",
                                   "event_time": "When (local)", "smtp_text": "Server said"})
    opts = ParseOptions(tz="Europe/Berlin", mapping=store.mapping("odd-esp"))
    (r,) = load(store, path, opts=opts)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("mapped", 2, 0)
    df = store.df("SELECT recipient, event, event_time, smtp_code, enhanced_code FROM sends "
                  "ORDER BY recipient")
    assert df["event"].tolist() == ["delivered", "bounced"]
    assert df["event_time"][0].to_pydatetime() == dt.datetime(2025, 11, 4, 10, 0, 3, tzinfo=dt.UTC)
    assert df["enhanced_code"].tolist() == ["2.0.0", "5.1.1"]


def test_mapping_naming_a_missing_column_is_an_error(store: Store, tmp_path: Path) -> None:
    path = _variant(tmp_path, "x.csv", b"A,B\n1,2\n")
    (r,) = load(store, path, opts=ParseOptions(mapping={"recipient": "Email", "event_time": "B"}))
    assert r.error == ("x.csv, line 1: column(s) 'Email' are not in the file; its columns "
                       "are 'A', 'B'")


def test_cli_load_json_counts_and_skip(tmp_path: Path, capsys) -> None:
    ws = str(tmp_path / "w.duckdb")
    args = ["load", str(ACTIVITY), str(BOUNCES), "--workspace", ws, "--json",
            "--tz", "Africa/Johannesburg"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(o["file"], o["format"], o["side"], o["rows_read"], o["rows_loaded"],
             o["rows_rejected"], o["skipped"]) for o in out] == [
        ("touchbasepro_activity.csv", "touchbasepro_csv", "esp", 28, 28, 0, False),
        ("touchbasepro_bounces.xlsx", "touchbasepro_xlsx", "esp", 7, 7, 0, False),
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert all(o["skipped"] for o in json.loads(captured.out))
    assert captured.err == ""  # no progress unless asked for (stderr is no terminal here)


def test_cli_load_progress_names_each_file_and_stage(tmp_path: Path, capsys) -> None:
    ws = str(tmp_path / "w.duckdb")
    assert main(["load", str(ACTIVITY), str(BOUNCES), "--workspace", ws, "--progress",
                 "--tz", "Africa/Johannesburg"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[:3] == ["[  0%] Reading touchbasepro_activity.csv",
                         "[ 20%] Reading touchbasepro_bounces.xlsx",
                         "[ 40%] Classifying the failure replies"]
    assert "Journeys: deciding verdicts" in lines[7] and lines[-1] == "[100%] Done"


def test_cli_garbage_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    bad = _variant(tmp_path, "garbage.bin", bytes(range(256)) * 8)
    assert main(["load", str(bad), "--workspace", str(tmp_path / "w.duckdb")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "garbage.bin" in err and "binary data" in err


def test_cli_mapping_save_and_use(tmp_path: Path, capsys) -> None:
    ws = str(tmp_path / "w.duckdb")
    path = _variant(tmp_path, "odd.csv", b"Who,When\nx@y.example,2025-01-02 03:04:05\n")
    assert main(["mapping", "mine", "--workspace", ws, "--set", "recipient=Who",
                 "--set", "event_time=When"]) == 0
    assert main(["load", str(path), "--workspace", ws, "--mapping", "mine", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert out[0]["format"] == "mapped" and out[0]["rows_loaded"] == 1
    assert main(["load", str(path), "--workspace", ws, "--mapping", "nope"]) == 2
    assert "no saved column mapping called 'nope'" in capsys.readouterr().err


def test_xlsx_dates_are_real_datetimes_in_sample() -> None:
    wb = openpyxl.load_workbook(BOUNCES, read_only=True)
    first = next(wb.worksheets[0].iter_rows(min_row=2, max_row=2, values_only=True))
    assert any(isinstance(v, dt.datetime) for v in first)


def _rich_workbook(path: Path) -> Path:
    """Every kind of cell an export can hold, off A1, with empty and ragged rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([None])
    ws.append([None, "Email Address", "Event", "Date", "Day", "Time", "Flag", "Count",
               "Reply\r\ntext"])
    ws.append([None, "a@x.example", "Delivered", dt.datetime(2025, 11, 4, 11, 0, 3),
               dt.date(2025, 11, 4), dt.time(11, 0, 3), True, 7, "550-5.1.1 a\r\n550 b\rc\nd"])
    ws.append([None] * 8)
    ws.append([None, "ü@x.example", " Bounced ", 45965.4583, "", 1.5, False, "=1+1", "x", "extra"])
    wb.save(path)
    return path


def _libreoffice_copy(tmp_path: Path) -> Path:
    """The sample workbook as LibreOffice writes it (shared strings, its own styles)."""
    import shutil
    import subprocess

    if shutil.which("soffice") is None:
        pytest.skip("no LibreOffice (libreoffice-calc)")
    proc = subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation={tmp_path.as_uri()}/lo",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "lo"),
         str(BOUNCES)], capture_output=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "lo" / BOUNCES.name


@pytest.mark.parametrize("name", ["rich", "sample", "libreoffice"])
def test_xlsx_readers_give_the_same_text(tmp_path: Path, name: str, monkeypatch) -> None:
    # calamine reads a workbook unless _calamine_differs (fast); openpyxl the rest: the
    # same table either way, whichever program wrote the workbook.
    import duckdb

    from analysis.sources import _tabular
    from analysis.sources._io import open_inputs

    path = {"rich": lambda: _rich_workbook(tmp_path / "rich.xlsx"), "sample": lambda: BOUNCES,
            "libreoffice": lambda: _libreoffice_copy(tmp_path)}[name]()
    assert not _tabular._calamine_differs(path)
    con = duckdb.connect()
    read = []
    for differs in (False, True):
        monkeypatch.setattr(_tabular, "_calamine_differs", lambda _p, d=differs: d)
        with open_inputs([path]) as (src,):
            table = _tabular.read_xlsx(src, con)
        read.append((table.headers,
                     con.execute(f"SELECT * FROM {table.name} ORDER BY row_no").fetchall()))
    assert read[0] == read[1]
    headers, rows = read[0]
    assert len(rows) == (2 if name == "rich" else 7)
    if name == "rich":  # XML reads a raw CR LF or CR as a line feed
        assert headers[8] == "Reply\ntext"
        assert rows[0] == (None, "a@x.example", "Delivered", "2025-11-04 11:00:03",
                           "2025-11-04 00:00:00", "11:00:03", "True", "7",
                           "550-5.1.1 a\n550 b\nc\nd", None, 3)


def test_xlsx_with_escaped_carriage_return_is_read_by_openpyxl(tmp_path: Path) -> None:
    from analysis.sources._tabular import _calamine_differs

    path = _rich_workbook(tmp_path / "rich.xlsx")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp_path / "esc.xlsx", "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"550 b\r", b"550 b_x000D_")  # as Excel writes a CR
            zout.writestr(info, data)
    assert _calamine_differs(tmp_path / "esc.xlsx")


def test_xlsx_with_error_cells_is_read_by_openpyxl(tmp_path: Path, store: Store) -> None:
    from analysis.sources._tabular import _calamine_differs

    wb = openpyxl.Workbook()
    wb.active.append(["Email Address", "Event", "Date"])
    wb.active.append(["a@x.example", "Delivered", "#N/A"])  # openpyxl writes an error cell
    wb.save(tmp_path / "err.xlsx")
    assert _calamine_differs(tmp_path / "err.xlsx")
    (r,) = load(store, tmp_path / "err.xlsx", fmt="touchbasepro_xlsx")
    assert (r.rows_loaded, r.rows_rejected) == (0, 1)
    assert store.rejected(r.import_id)["error"].tolist() == [
        "unreadable date #N/A in column Date (expected e.g. 2025-11-04 11:00:03)"]


def test_a_workbook_is_read_once_to_sniff_and_load(store: Store, monkeypatch) -> None:
    # The sniffers' read of the sheet is the one the parser loads (not a second read).
    from analysis.sources import _tabular

    reads = []
    real = _tabular._calamine_rows
    monkeypatch.setattr(_tabular, "_calamine_rows",
                        lambda path, sheet: reads.append(sheet) or real(path, sheet))
    (r,) = load(store, BOUNCES)  # no format given: sniffed first
    assert (r.format, r.rows_loaded, reads) == ("touchbasepro_xlsx", 7, [None])
