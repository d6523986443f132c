"""Shared harness for the trace-parser tests: a table of samples with expected outcomes,
file variants built from the samples, and one comparison for all of them.

Expected values come from tests/fixtures/samples/STORY.md; variants follow STYLE.md
habit 4 (BOM, UTF-16, CRLF/LF, .gz, .zip, reordered and extra columns, `#TYPE` line).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.sources import ParseOptions, open_inputs
from analysis.sources import sniff as sniff_all
from analysis.store import LoadResult, Store
from tests.conftest import SAMPLES

# The columns two loads of the same events must agree on (raw keeps the file's bytes).
COMPARED = ["row_no", "event_time", "event", "server", "message_id", "internal_id",
            "network_id", "related_id", "sender", "recipient", "subject", "smtp_code",
            "enhanced_code", "detail", "client", "relay", "orig_recipient"]


@dataclass(frozen=True)
class Case:
    """One sample and what loading it must give."""

    sample: str  # path under tests/fixtures/samples
    fmt: str
    loaded: int
    events: dict[str, int]
    rejected: int = 0
    tz: str = "UTC"
    kind: str = "csv"  # csv | msgtrk | jsonl: which variants apply
    checks: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return Path(self.sample).name


def load(store: Store, path: Path, tz: str = "UTC", fmt: str | None = None) -> list[LoadResult]:
    """Load one file (no format hint unless given)."""
    return store.load_files([path], opts=ParseOptions(tz=tz), format=fmt)


def events(store: Store, import_id: int | None = None) -> dict[str, int]:
    """Event -> count over trace_events (of one import when given)."""
    where, params = ("WHERE import_id = ?", [import_id]) if import_id is not None else ("", [])
    df = store.df(f"SELECT event, count(*) AS n FROM trace_events {where} GROUP BY event", params)
    return {e: int(n) for e, n in zip(df["event"], df["n"], strict=True)}


def frame(store: Store, import_id: int) -> pd.DataFrame:
    """The loaded events of one import in a stable order, for comparing two loads."""
    df = store.df(f"SELECT {', '.join(COMPARED)} FROM trace_events WHERE import_id = ?",
                  [import_id])
    return df.sort_values(COMPARED, na_position="first").reset_index(drop=True)


def check_case(store: Store, case: Case, path: Path) -> LoadResult:
    """Load `path` and assert format, counts, events and the case's field checks."""
    (r,) = load(store, path, case.tz)
    assert r.error is None, r.error
    assert r.format == case.fmt and r.side == "trace"
    assert (r.rows_loaded, r.rows_rejected) == (case.loaded, case.rejected), \
        store.rejected(r.import_id).to_dict("records")
    assert r.rows_read == r.rows_loaded + r.rows_rejected
    assert events(store, r.import_id) == case.events
    for where, expected in case.checks:
        df = store.df(f"SELECT * FROM trace_events WHERE import_id = ? AND ({where})",
                      [r.import_id])
        assert len(df) >= 1, f"no row where {where}"
        for col, want in expected.items():
            got = df[col].tolist()
            assert all(_same(g, want) for g in got), f"{where}: {col} = {got}, want {want}"
    return r


def _same(got: object, want: object) -> bool:
    if isinstance(got, pd.Timestamp):
        return got.isoformat() == want
    if want is None:
        return got is None or (isinstance(got, float) and got != got) or got is pd.NA
    return got == want


def best_format(path: Path) -> str | None:
    """The format the sniffers rank first for a file."""
    with open_inputs([path]) as files:
        guesses = sniff_all(files[0])
    return guesses[0].format if guesses else None


def scores(path: Path) -> dict[str, float]:
    """Every sniffer's confidence for a file."""
    with open_inputs([path]) as files:
        return {g.format: g.confidence for g in sniff_all(files[0])}


# -- variants -------------------------------------------------------------------------

def decode(path: Path) -> str:
    """The sample's text (BOM and UTF-16 handled), line ends kept."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF16_LE):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def _line_end(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _split_csv(text: str) -> tuple[list[str], list[list[str]], str]:
    """Prefix lines (`#TYPE`, MSGTRK `#` headers), records, line end."""
    nl = _line_end(text)
    lines = text.split(nl)
    prefix = []
    while lines and lines[0].startswith("#") and not lines[0].startswith("#Fields:"):
        prefix.append(lines.pop(0))
    rows = list(csv.reader(io.StringIO(nl.join(lines), newline="")))
    return prefix, [r for r in rows if r], nl


def _write_csv(prefix: list[str], rows: list[list[str]], nl: str, quote_all: bool) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator=nl,
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerows(rows)
    return "".join(p + nl for p in prefix) + out.getvalue()


def _reorder(text: str, kind: str, extra: bool) -> str:
    """Columns reversed (or an extra column added), for CSV and MSGTRK logs alike."""
    prefix, rows, nl = _split_csv(text)
    quote_all = text.lstrip("\ufeff").startswith('"')
    if kind == "msgtrk":
        fields = prefix and rows[0][0].startswith("#Fields:")
        header = [rows[0][0].split(": ", 1)[1]] + rows[0][1:] if fields else rows[0]
        table = [header] + rows[1:]
    else:
        table = rows
    if extra:
        table = [["Extra Column"] + table[0]] + [["x, y"] + r for r in table[1:]]
    else:
        table = [list(reversed(r)) for r in table]
    if kind == "msgtrk":
        head = "#Fields: " + ",".join(table[0])
        return "".join(p + nl for p in prefix) + head + nl + _write_csv([], table[1:], nl, False)
    return _write_csv(prefix, table, nl, quote_all)


def variants(path: Path, kind: str) -> dict[str, Callable[[Path], Path]]:
    """Name -> function writing that variant of the sample into a folder."""
    text = decode(path)
    nl = _line_end(text)
    other_nl = "\n" if nl == "\r\n" else "\r\n"

    def text_file(name: str, body: str, encoding: str) -> Callable[[Path], Path]:
        def write(tmp: Path) -> Path:
            p = tmp / f"{name}-{path.name}"
            p.write_bytes(body.encode(encoding))
            return p
        return write

    def gz(tmp: Path) -> Path:
        p = tmp / f"{path.name}.gz"
        p.write_bytes(gzip.compress(path.read_bytes()))
        return p

    def zipped(tmp: Path) -> Path:
        p = tmp / f"{path.stem}.zip"
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(path.name, path.read_bytes())
        return p

    out = {
        "utf8_bom": text_file("bom", text, "utf-8-sig"),
        "utf8_plain": text_file("plain", text, "utf-8"),
        "utf16le_bom": text_file("utf16", text, "utf-16"),
        "line_ends": text_file("nl", text.replace(nl, other_nl), "utf-8"),
        "gz": gz,
        "zip": zipped,
    }
    if kind in ("csv", "msgtrk"):
        out["reordered"] = text_file("reordered", _reorder(text, kind, False), "utf-8-sig")
        out["extra_column"] = text_file("extra", _reorder(text, kind, True), "utf-8-sig")
    return out


def same_result(store: Store, case: Case, variant: Path, baseline_id: int,
                row_shift: int = 0) -> None:
    """A variant loads as its own import with exactly the baseline's events."""
    (r,) = load(store, variant, case.tz)
    assert r.error is None, r.error
    assert r.format == case.fmt, f"{variant.name} sniffed as {r.format}"
    assert (r.rows_loaded, r.rows_rejected) == (case.loaded, case.rejected)
    got, want = frame(store, r.import_id), frame(store, baseline_id)
    got["row_no"] = got["row_no"] - row_shift
    pd.testing.assert_frame_equal(got, want)


def with_rows_changed(path: Path, tmp: Path, change: Callable[[list[list[str]]], None],
                      name: str) -> Path:
    """A copy of a CSV sample after `change` edited its rows (header is rows[0])."""
    text = decode(path)
    prefix, rows, nl = _split_csv(text)
    change(rows)
    out = tmp / name
    out.write_text(_write_csv(prefix, rows, nl, True), encoding="utf-8", newline="")
    return out


def sample(rel: str) -> Path:
    """A sample file by its path under tests/fixtures/samples."""
    return SAMPLES / rel
