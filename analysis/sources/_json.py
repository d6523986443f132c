"""Shared reading of ESP JSON exports: documents or JSON lines, head sniffing, rows to `sends`.

The ESP JSON exports (../shared/formats/esp_exports.md sections 2-6, 1.2) are small API
pages or webhook batches, so a parser walks the parsed objects once in Python and hands
a list of plain dicts to `finish()`, which does the time parsing and the validation in
DuckDB (`_tabular.timestamp_sql`) exactly as the CSV parsers do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import duckdb
import pandas as pd

from ..errors import InputError
from ._base import ParseOptions, ParseResult, Rejected, rejected_frame
from ._io import SourceFile
from ._tabular import sql_str, timestamp_sql, valid_tz

# A JSON object key in (possibly cut) text; escaped keys inside JSON strings (an SNS
# envelope's Message) do not match because the key may not contain a backslash.
_KEY_RE = re.compile(r'"([^"\\\r\n]{1,80})"\s*:')
_SMTP_PREFIX_RE = re.compile(r"^\s*smtp;\s*", re.IGNORECASE)

# What a parser's row dicts may carry: canonical `sends` columns plus `_time` (the
# stamp as text) and `_word` (the ESP's own event word, for the rejection message).
ROW_FIELDS = (
    "row_no", "campaign", "recipient", "event", "_word", "_time", "remote_id", "smtp_code",
    "enhanced_code", "smtp_text", "bounce_type", "bounce_reason", "name", "subject", "sender",
    "message_id", "esp_message_id", "raw",
)


@dataclass(frozen=True)
class Record:
    """One JSON value of a file: its 1-based record (or line) number and its own text."""

    row_no: int
    obj: Any
    raw: str


def head_keys(src: SourceFile) -> set[str]:
    """The object keys in the head of a JSON file ({} for anything that is not JSON)."""
    if src.is_zip:
        return set()
    text = src.text_head.lstrip()
    if not text or text[0] not in "{[":
        return set()
    return set(_KEY_RE.findall(text))


def dumps(obj: Any) -> str:
    """Compact JSON text of an object (the `raw` of a row that came from a document)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _bad_json(src: SourceFile, e: json.JSONDecodeError, line: int) -> InputError:
    return InputError(src.name, f"invalid JSON: {e.msg} (column {e.colno})", line=line,
                      hint="the file may be truncated or edited; export it again")


def _unwrap(value: Any, container: str | None) -> tuple[list[Any], bool]:
    """The records inside one top-level value, and whether the value itself is one."""
    if container and isinstance(value, dict) and isinstance(value.get(container), list):
        return value[container], False
    if isinstance(value, list):
        return value, False
    return [value], True


def _lines(src: SourceFile, text: str, container: str | None) -> list[Record]:
    out: list[Record] = []
    # split("\n"), not splitlines(): U+2028 and friends may sit raw inside JSON strings.
    for no, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except RecursionError as e:
            raise InputError(src.name, "JSON nested too deeply to read", line=no) from e
        except json.JSONDecodeError as e:
            raise _bad_json(src, e, no) from e
        items, is_record = _unwrap(value, container)
        out.extend(Record(no, item, line if is_record else dumps(item)) for item in items)
    return out


def read_records(src: SourceFile, container: str | None = None) -> list[Record]:
    """Records of a JSON document (array, `container` page or one object) or JSON lines.

    Document records are numbered 1, 2, ... in file order; JSON-lines records carry their
    line number. Invalid JSON raises InputError naming the line.
    """
    text = src.read_text()
    stripped = text.strip()
    first = stripped.split("\n", 1)[0].strip()
    try:
        doc = json.loads(text)
    except RecursionError as e:  # json's C parser recurses once per nesting level
        raise InputError(src.name, "JSON nested too deeply to read", line=1,
                         hint="no ESP export nests more than a few levels") from e
    except json.JSONDecodeError as e:
        # JSON lines: a complete value on line 1 and more after it ("Extra data"), or a
        # broken line 1 that still looks like one whole record.
        if e.msg == "Extra data" or (len(first) > 1 and first != stripped
                                     and first[0] in "{[" and first[-1] in "}]"):
            return _lines(src, text, container)
        raise _bad_json(src, e, e.lineno) from e
    items, is_record = _unwrap(doc, container)
    if is_record:
        return [Record(1, doc, stripped)]
    return [Record(i, item, dumps(item)) for i, item in enumerate(items, start=1)]


def text(value: Any) -> str | None:
    """A scalar as text (None, '' and containers give None; lists of scalars are joined)."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, list):
        parts = [t for t in (text(v) for v in value) if t]
        return ", ".join(parts) or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    return out or None


def time_text(value: Any) -> str | None:
    """A stamp as text for timestamp_sql: epoch numbers (s or ms) as seconds, else as is."""
    if isinstance(value, bool):
        return None
    raw = text(value) if not isinstance(value, int | float) else None
    if raw is not None and raw.isdigit() and len(raw) in (12, 13):
        value = int(raw)  # epoch milliseconds written as a string
    if isinstance(value, int | float):
        try:
            seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds
            return repr(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))
        except (OverflowError, ValueError):  # 10**400, inf, nan: the row is rejected
            return str(value)[:40]
    return raw


def address(value: Any) -> str | None:
    """The addr-spec of `a@b`, `Name <a@b>` or `<a@b>` (the text itself when unparsable)."""
    raw = text(value)
    if raw is None or "<" not in raw:
        return raw
    addr = parseaddr(raw)[1]
    return addr or raw


def display_name(value: Any) -> str | None:
    """The display name of `Name <a@b>`, or None."""
    raw = text(value)
    return (parseaddr(raw)[0] or None) if raw and "<" in raw else None


def bracketed(value: Any) -> str | None:
    """A Message-ID in RFC 5322 form, `<id@host>` (Mailgun writes it without brackets)."""
    raw = text(value)
    if raw is None:
        return None
    return raw if raw.startswith("<") else f"<{raw}>"


def strip_smtp(value: Any) -> str | None:
    """A reply without the RFC 3464 `smtp;` type prefix (smtp_responses.md section 1)."""
    raw = text(value)
    if raw is None:
        return None
    return _SMTP_PREFIX_RE.sub("", raw) or None


def get(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]... or None when any step is missing or not an object."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def not_object(rec: Record, what: str) -> Rejected:
    """The rejection of a record that is not a JSON object."""
    return Rejected(rec.row_no, rec.raw, f"not a JSON object but {type(rec.obj).__name__}: "
                    f"expected {what}")


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    cols: dict[str, list[Any]] = {f: [] for f in ROW_FIELDS}
    for row in rows:
        for f in ROW_FIELDS:
            v = row.get(f)
            cols[f].append(v if f == "row_no" or v is None else str(v))
    frame = pd.DataFrame({f: pd.Series(v, dtype="object") for f, v in cols.items()})
    frame["row_no"] = pd.Series(cols["row_no"], dtype="int64")
    return frame


def finish(src: SourceFile, con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]],
           rejected: list[Rejected], opts: ParseOptions, *, events: str, time_field: str,
           offsets: bool, notes: dict[str, Any] | None = None) -> ParseResult:
    """Stage row dicts in DuckDB, parse `_time`, reject rows without recipient/event/time.

    `events` lists the ESP event words for the "unknown event" message; `offsets` says
    the export's stamps carry their own offset or are epoch (ParseResult.tz = "file").
    """
    tz = valid_tz(opts.tz, src.name)
    tag = src.sha256[:12]
    view, staged = f"_jsonrows_{tag}", f"_json_{tag}"
    con.register(view, _frame(rows))
    norm = ", ".join(
        f"nullif(trim(CAST({f} AS VARCHAR)), '') AS {f}" for f in ROW_FIELDS if f != "row_no")
    when = timestamp_sql("_time", tz)
    error = (
        "CASE WHEN recipient IS NULL THEN 'no recipient address' "
        "WHEN NOT regexp_matches(recipient, '^[^@\\s]+@[^@\\s]+$') "
        "THEN 'not an e-mail address: ' || recipient "
        "WHEN event IS NULL THEN 'unknown event ' || coalesce(_word, '(none)') || "
        f"{sql_str(' (expected ' + events + ')')} "
        f"WHEN _time IS NULL THEN {sql_str('no time in ' + time_field)} "
        f"WHEN ({when}) IS NULL THEN 'unreadable time ' || _time || "
        f"{sql_str(' in ' + time_field)} ELSE NULL END"
    )
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged} AS "  # noqa: S608 - names are ours
            f"SELECT row_no, campaign, recipient, event, ({when}) AS event_time, remote_id, "
            "TRY_CAST(smtp_code AS INTEGER) AS smtp_code, enhanced_code, "
            "regexp_replace(smtp_text, '\\r\\n?', chr(10), 'g') AS smtp_text, "
            "lower(bounce_type) AS bounce_type, bounce_reason, name, subject, sender, "
            f"message_id, esp_message_id, raw, ({error}) AS _error "
            f"FROM (SELECT CAST(row_no AS BIGINT) AS row_no, {norm} FROM {view})"
        )
    finally:
        con.unregister(view)
    good = con.sql(f"SELECT * EXCLUDE (_error) FROM {staged} WHERE _error IS NULL")  # noqa: S608
    bad = con.execute(f"SELECT row_no, raw, _error AS error FROM {staged} "  # noqa: S608
                      "WHERE _error IS NOT NULL ORDER BY row_no").df()
    if rejected:
        bad = pd.concat([bad, rejected_frame(rejected)], ignore_index=True)
    return ParseResult(rows=good, rejected=bad, rows_read=len(rows) + len(rejected),
                       tz="file" if offsets else tz, notes=dict(notes or {}))
