"""Property-based tests (hypothesis): random bytes and randomly damaged copies of the real
sample files, sniffed, parsed and loaded.

The properties are the ones issue 8 promises for any input:

* sniffing and parsing raise nothing but our InputError, and it names the file and a problem;
* a parsed file accounts for every row: rows_read = rows kept + rows rejected, and each
  rejected row has a row number and a reason;
* through the store, every file either loads whole (the invariant holds in the tables, each
  rejected row is kept with its reason) or gives one line naming the file; a second load of
  the same bytes adds nothing.

Runs are derandomized (same examples every run, no example database written), so CI is
reproducible; a failure prints the falsifying example to replay.
"""

from __future__ import annotations

import codecs
import dataclasses
import gzip
import io
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from analysis import sources
from analysis.errors import DeliveryTraceError, InputError
from analysis.sources._base import ParseOptions
from analysis.sources._io import open_one, workdir_inputs
from analysis.store import Store
from tests.conftest import SAMPLES

SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name != "STORY.md")
SAMPLE_BYTES = {p.relative_to(SAMPLES).as_posix(): p.read_bytes() for p in SAMPLE_FILES}
FORMATS = [s.NAME for s in sources.formats()]
ZONES = ["UTC", "Africa/Johannesburg", "America/New_York", "Europe/Paris", "Asia/Kolkata"]
# A mapping for the 'mapped' format that names columns the story's ESP export has.
MAPPING = {"recipient": "Email Address", "event_time": "Date", "smtp_text": "SMTP Response"}
EXTENSIONS = [".csv", ".log", ".json", ".jsonl", ".xlsx", ".eml", ".txt", ".LOG", ".gz", ".zip"]

# Few examples (the machine has 2 shared cores), fixed ones (derandomize), no deadline
# (the first DuckDB call of a run is slow), nothing written to .hypothesis/.
# DELIVERY_TRACE_PROPERTY_SCALE=20 runs twenty times as many fresh random examples, for a
# bug hunt by hand (pytest --hypothesis-show-statistics shows what the examples were).
SCALE = int(os.environ.get("DELIVERY_TRACE_PROPERTY_SCALE", "1"))
PROFILE = dict(deadline=None, derandomize=SCALE == 1, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- damaged copies of real samples ------------------------------------------------------
def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [data]


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """One kind of damage a real export suffers: cut, spliced, re-encoded, re-packed."""
    n = len(data)
    pos = draw(st.integers(0, n))
    kind = draw(st.sampled_from([
        "truncate", "insert", "delete", "overwrite", "dup_line", "drop_line", "swap_lines",
        "line_ends", "bom", "nul", "utf16", "latin1", "gzip", "zip", "long_line", "quote",
    ]))
    if kind == "truncate":
        return data[:pos]
    if kind == "insert":
        return data[:pos] + draw(st.binary(min_size=1, max_size=64)) + data[pos:]
    if kind == "delete":
        return data[:pos] + data[pos + draw(st.integers(1, 512)):]
    if kind == "overwrite":
        junk = draw(st.binary(min_size=1, max_size=16))
        return data[:pos] + junk + data[pos + len(junk):]
    lines = _lines(data)
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    if kind == "dup_line":
        return b"".join(lines[:i + 1] + [lines[i]] * draw(st.integers(1, 3)) + lines[i + 1:])
    if kind == "drop_line":
        return b"".join(lines[:i] + lines[i + 1:])
    if kind == "swap_lines":
        j = draw(st.integers(0, max(len(lines) - 1, 0)))
        lines[i], lines[j] = lines[j], lines[i]
        return b"".join(lines)
    if kind == "line_ends":
        end = draw(st.sampled_from([b"\n", b"\r", b"\r\n", b"\n\r"]))
        return end.join(line.rstrip(b"\r\n") for line in lines)
    if kind == "bom":
        return data[:pos] + draw(st.sampled_from(
            [codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])) + data[pos:]
    if kind == "nul":
        return data[:pos] + b"\x00" * draw(st.integers(1, 4)) + data[pos:]
    if kind in ("utf16", "latin1"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"])) \
            if kind == "utf16" else "latin-1"
        return text.encode(codec, errors="replace")
    if kind == "gzip":
        return gzip.compress(data)
    if kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(draw(st.sampled_from(["a.csv", "dir/b.log", "c.json", "d.xlsx"])), data)
            if draw(st.booleans()):
                zf.writestr("other.txt", draw(st.binary(max_size=200)))
        return buf.getvalue()
    if kind == "long_line":
        return data[:pos] + b"x" * draw(st.integers(1_000, 200_000)) + data[pos:]
    # "quote": an unbalanced quote, the classic broken CSV cell
    return data[:pos] + b'"' + data[pos:]


@st.composite
def damaged_sample(draw: st.DrawFn) -> tuple[str, bytes]:
    """(upload name, bytes): a sample file with one to three kinds of damage."""
    rel = draw(st.sampled_from(sorted(SAMPLE_BYTES)))
    data = SAMPLE_BYTES[rel]
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutation(data))
    name = Path(rel).name
    if data[:2] == b"\x1f\x8b":
        name += ".gz"
    elif data[:2] == b"PK" and not name.endswith(".xlsx"):
        name += ".zip"
    return name, data


@st.composite
def random_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """(upload name, bytes): random bytes, or random text lines, under a likely name."""
    name = "random" + draw(st.sampled_from(EXTENSIONS))
    if draw(st.booleans()):
        return name, draw(st.binary(max_size=4096))
    text = draw(st.lists(st.text(max_size=120), max_size=40))
    sep = draw(st.sampled_from([",", ";", "\t", " ", "|"]))
    return name, "\r\n".join(sep.join(line.split()) for line in text).encode("utf-8")


any_file = st.one_of(damaged_sample(), damaged_sample(), random_file())
options = st.builds(lambda tz, year: ParseOptions(tz=tz, year=year),
                    st.sampled_from(ZONES), st.sampled_from([None, 2024, 2025]))
format_choice = st.one_of(st.none(), st.none(), st.sampled_from(FORMATS))


def _with_mapping(opts: ParseOptions, fmt: str | None) -> ParseOptions:
    return ParseOptions(tz=opts.tz, year=opts.year, mapping=MAPPING) if fmt == "mapped" else opts


# -- the properties ------------------------------------------------------------------------
def _assert_clear_input_error(e: InputError, name: str) -> None:
    assert e.file and e.file.split(":")[0] == name.split(":")[0], (e.file, name)
    assert isinstance(e.problem, str) and e.problem.strip(), e
    assert "\n" not in str(e), str(e)


@pytest.fixture(scope="module")
def scratch_store() -> Iterator[Store]:
    """An in-memory store whose locked-down connection parses (it may read only its scratch)."""
    store = Store(":memory:")
    yield store
    store.close()


@settings(max_examples=120 * SCALE, **PROFILE)
@given(item=any_file, fmt=format_choice, opts=options)
def test_sniff_and_parse_raise_only_input_errors_and_account_for_every_row(
        scratch_store: Store, item: tuple[str, bytes], fmt: str | None,
        opts: ParseOptions) -> None:
    opts = _with_mapping(opts, fmt)
    failures: list[InputError] = []
    with workdir_inputs(scratch_store.limits, parent=scratch_store.scratch) as inputs:
        try:
            files = open_one(inputs, item, failures)
        except InputError as e:
            _assert_clear_input_error(e, item[0])
            event("refused on opening")
            return
        for e in failures:
            _assert_clear_input_error(e, item[0])
        for src in files:
            guesses = sources.sniff(src)
            assert all(0 < g.confidence <= 1 for g in guesses), guesses
            assert [g.confidence for g in guesses] == sorted(
                (g.confidence for g in guesses), reverse=True)
            cur = scratch_store.cursor()  # closing it drops the parser's temp tables
            try:
                try:
                    _, _, result = sources.parse(src, cur, opts, fmt)
                except InputError as e:
                    _assert_clear_input_error(e, src.name)
                    event("InputError from sniff/parse")
                    continue
                kept = _count(result.rows)
                rejected = result.rejected
                if not isinstance(rejected, pd.DataFrame):
                    rejected = pd.DataFrame([dataclasses.asdict(r) for r in rejected],
                                            columns=["row_no", "raw", "error"])
                if result.rows_read is not None:
                    assert result.rows_read == kept + len(rejected), (
                        src.name, fmt, result.rows_read, kept, len(rejected))
                assert rejected["error"].map(lambda x: isinstance(x, str) and x.strip() != "").all()
                assert rejected["row_no"].map(lambda x: x is not None and x >= 1).all()
                event(f"parsed: {'some' if kept else 'no'} rows kept, "
                      f"{'some' if len(rejected) else 'no'} rejected")
            finally:
                cur.close()


def _count(rows: duckdb.DuckDBPyRelation | pd.DataFrame) -> int:
    if isinstance(rows, pd.DataFrame):
        return len(rows)
    return int(rows.aggregate("count(*)").fetchall()[0][0])


@settings(max_examples=40 * SCALE, **PROFILE)
@given(items=st.lists(any_file, min_size=1, max_size=3), fmt=format_choice, opts=options)
def test_the_store_loads_each_file_whole_or_names_its_problem(
        items: list[tuple[str, bytes]], fmt: str | None, opts: ParseOptions) -> None:
    store = Store(":memory:")
    try:
        results = store.load_files(items, format=fmt, opts=_with_mapping(opts, fmt))
        loaded = [r for r in results if r.ok and not r.skipped]
        for r in results:
            event("load: " + ("error" if r.error else "skipped" if r.skipped
                              else "rows loaded" if r.rows_loaded else "nothing loaded"))
        names = [n for n, _ in items]
        for r in results:
            if r.error:
                assert "\n" not in r.error and "Traceback" not in r.error, r.error
                assert any(r.error.startswith(n.removesuffix(".gz")) for n in names), r.error
                # Every failure is one we foresaw: no parser bug, no untranslated error.
                assert "unexpected error" not in r.error, r.error
                assert "parser bug" not in r.error, r.error
                continue
            assert r.rows_read == r.rows_loaded + r.rows_rejected, r
            if r.skipped:
                continue
            table = "sends" if r.side == "esp" else "trace_events"
            n = store.df(f"SELECT count(*) AS n FROM {table} WHERE import_id = ?",  # noqa: S608
                         [r.import_id])["n"][0]
            assert n == r.rows_loaded, r
            rej = store.rejected(r.import_id)
            assert len(rej) == r.rows_rejected, r
            assert rej["error"].map(lambda e: isinstance(e, str) and e.strip() != "").all(), rej
            assert (rej["row_no"] >= 1).all(), rej
        imports = store.imports()
        assert sorted(imports["import_id"]) == sorted(r.import_id for r in loaded)
        totals = store.df(
            "SELECT (SELECT count(*) FROM sends) + (SELECT count(*) FROM trace_events) AS rows, "
            "(SELECT count(*) FROM rejected_rows) AS rejected")
        assert totals["rows"][0] == imports["rows_loaded"].sum()
        assert totals["rejected"][0] == imports["rows_rejected"].sum()
        # The same bytes again add nothing.
        again = store.load_files(items, format=fmt, opts=_with_mapping(opts, fmt))
        assert all(r.skipped for r in again if r.ok)
        assert len(store.imports()) == len(imports)
    except DeliveryTraceError as e:  # load_files promises to return, never raise
        raise AssertionError(f"load_files raised {e!r}") from e
    finally:
        store.close()


# -- what the properties found, kept as plain examples -------------------------------------
@pytest.mark.parametrize(("rel", "damage", "expected"), [
    # A stray byte before the header: the parsers looked up "PSComputerName" in a table
    # whose column is '\x01"PSComputerName"' (Binder Error escaped the parser).
    ("exchange/get-messagetrackinglog_export.csv", lambda d: b"\x01" + d,
     ("exchange_trackinglog_csv", 16, 16, 0)),
    ("office365/get-messagetracedetail_export.csv", lambda d: b"\x01" + d,
     ("o365_messagetracedetail", 10, 10, 0)),
    # Bare CR line ends: the header fell back to a plain split that keeps the quotes.
    ("exchange/get-messagetrackinglog_export.csv", lambda d: d.replace(b"\r\n", b"\r"),
     ("exchange_trackinglog_csv", 16, 16, 0)),
])
def test_damaged_headers_still_name_the_columns(rel: str, damage, expected: tuple) -> None:
    store = Store(":memory:")
    data = damage((SAMPLES / rel).read_bytes())
    with workdir_inputs(store.limits, parent=store.scratch) as inputs:
        (src,) = open_one(inputs, ("x.csv", data))
        cur = store.cursor()
        _, _, result = sources.parse(src, cur, ParseOptions())  # no Binder Error
        cur.close()
    (r,) = store.load_files([("x.csv", data)])
    assert (r.error, r.format, r.rows_read, r.rows_loaded, r.rows_rejected) == (None, *expected)
    store.close()


def _quote_in_header(field: int, offset: int):
    """Damage: a stray '"' inside the header's field number `field`, `offset` bytes in."""
    def damage(data: bytes) -> bytes:
        end = min(i for i in (data.find(b"\r"), data.find(b"\n")) if i >= 0)
        starts = [0, *(i + 1 for i in range(end) if data[i:i + 1] == b",")]
        pos = (starts[field] if field < len(starts) else end) + offset
        return data[:pos] + b'"' + data[pos:]
    return damage


@pytest.mark.parametrize(("rel", "field", "offset", "expected"), [
    # DuckDB read these headers as running on to the end of the file: 0 rows read, none
    # rejected, no error (the rows were silently lost).
    ("office365/get-messagetrace_export.csv", 1, 0, ("o365_messagetrace", 9)),
    ("office365/get-messagetrace_export.csv", 16, 0, ("o365_messagetrace", 9)),
    ("office365/get-messagetrace_export.csv", 16, 2, ("o365_messagetrace", 9)),
    # '"Index""' ran on into line 2, which was lost with the header.
    ("office365/get-messagetrace_export.csv", 17, -1, ("o365_messagetrace", 9)),
    ("esp/touchbasepro_activity.csv", 8, 0, ("touchbasepro_csv", 28)),
    ("exchange/get-messagetrackinglog_export.csv", 3, 0, ("exchange_trackinglog_csv", 16)),
])
def test_unbalanced_quote_in_header_loses_no_row(rel: str, field: int, offset: int,
                                                 expected: tuple) -> None:
    data = _quote_in_header(field, offset)((SAMPLES / rel).read_bytes())
    fmt, rows = expected
    store = Store(":memory:")
    (r,) = store.load_files([("x.csv", data)])
    assert (r.error, r.format, r.rows_read, r.rows_loaded + r.rows_rejected) == \
        (None, fmt, rows, rows)
    assert "unbalanced quote" in r.notes["header_quote"]
    assert (  # what the Upload page shows
        'Line 1 has an unbalanced quote ("); the column names were read from line 1 as plain '
        "text: check that the column names look right.") in sources.note_warnings(r.notes)
    cur = store.cursor()
    table = "sends" if fmt.startswith("touchbasepro") else "trace_events"
    numbers = cur.execute(f"SELECT row_no FROM {table} UNION ALL "  # noqa: S608
                          "SELECT row_no FROM rejected_rows ORDER BY 1").fetchall()
    assert [n for (n,) in numbers] == list(range(2, rows + 2))  # line 1 is the header
    store.close()


@pytest.mark.parametrize(("name", "rel", "fmt", "rows"), [
    # Plain text under a compressed name (a browser that unpacked a download keeps the
    # name): DuckDB's readers went by the scratch file's suffix and stopped with "Input is
    # not a GZIP stream: /tmp/..." or "compression type zip not supported".
    ("maillog.gz", "posix/postfix_syslog.log", None, 8),
    ("maillog.zip", "posix/postfix_syslog.log", "postfix", 8),
    ("activity.csv.gz", "esp/touchbasepro_activity.csv", None, 28),
    ("MSGTRK.LOG.zst", "exchange/MSGTRK20251104-1.LOG", None, 8),
])
def test_plain_text_under_a_compressed_name_loads(name: str, rel: str, fmt: str | None,
                                                  rows: int) -> None:
    store = Store(":memory:")
    (r,) = store.load_files([(name, (SAMPLES / rel).read_bytes())], format=fmt)
    assert (r.error, r.rows_read, r.rows_loaded) == (None, rows, rows)
    store.close()


def test_a_damaged_bounce_message_is_read_or_rejected_by_line() -> None:
    """An 8-bit byte in a header came back from the e-mail parser as a Header object, which
    the parser's re.sub refused (TypeError); a block without Final-Recipient was rejected
    as line 0."""
    dsn = (SAMPLES / "dsn" / "dsn_m17_postfix.eml").read_bytes()
    eight_bit = dsn.replace(b"Received: ", b"Received: caf\xc3\xa9 ", 1)
    no_final = re.sub(rb"(?m)^Final-Recipient:[^\n]*\n", b"", dsn)
    store = Store(":memory:")
    a, b = store.load_files([("a.eml", eight_bit), ("b.eml", no_final)])
    assert (a.error, a.format, a.rows_read, a.rows_loaded) == (None, "dsn_email", 1, 1)
    assert (b.error, b.rows_read, b.rows_loaded, b.rows_rejected) == (None, 1, 0, 1)
    assert store.rejected(b.import_id)[["row_no", "error"]].values.tolist() == [
        [1, "recipient block without Final-Recipient"]]
    store.close()
