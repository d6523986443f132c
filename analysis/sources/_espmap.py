"""Column mapping for tabular ESP exports: header synonyms, event words, SQL to `sends`.

Shared by the TouchBasePro / Campaign Monitor export parser (synonyms found
automatically) and the column-mapping fallback (the user names the columns).
Source of the synonym table: ../shared/formats/esp_exports.md section 1.1.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ..errors import InputError
from ._base import ParseOptions, ParseResult
from ._canon import canonical_sql
from ._io import SourceFile
from ._tabular import (
    Table,
    normalise_header,
    read_csv,
    sql_ident,
    sql_str,
    timestamp_sql,
    valid_tz,
)

# Canonical field -> accepted header names (compared with normalise_header).
SYNONYMS: dict[str, list[str]] = {
    "recipient": ["Email Address", "Email", "EmailAddress", "E-mail", "Recipient",
                  "Recipient Address", "Subscriber", "To"],
    "campaign": ["Campaign", "Campaign Name", "CampaignName", "Campaign Title"],
    "event": ["Event", "Activity", "Action", "Status", "Type", "Event Type"],
    "event_time": ["Date", "Date/Time", "DateTime", "Timestamp", "Time", "Event Date",
                   "Event Time", "Date (UTC)"],
    "bounce_type": ["Bounce Type", "BounceType", "Bounce Category", "Severity"],
    "bounce_reason": ["Bounce Reason", "Reason", "Description"],
    "remote_id": ["Message ID", "MessageID", "Remote Message ID", "Remote ID", "Queue ID",
                  "Msg ID"],
    "smtp_text": ["SMTP Response", "Response", "Diagnostic", "Diagnostic Code",
                  "Bounce Message", "Details", "SMTP Reply"],
    "name": ["Name", "Subscriber Name", "Full Name"],
    "subject": ["Subject", "Email Subject"],
    "smtp_code": ["SMTP Code", "Code", "Status Code"],
    "enhanced_code": ["Enhanced Code", "Enhanced Status Code", "DSN", "Status Code Enhanced"],
}
REQUIRED = ("recipient", "event_time")
MAPPABLE = tuple(SYNONYMS)

# ESP event words (lower case) -> sends.event. Source: esp_exports.md "Event word mapping".
EVENT_WORDS: dict[str, str] = {
    "delivered": "delivered", "delivery": "delivered", "sent": "sent", "processed": "sent",
    "bounced": "bounced", "bounce": "bounced", "hard bounce": "bounced",
    "soft bounce": "bounced", "failed": "bounced", "dropped": "bounced", "blocked": "bounced",
    "deferred": "deferred", "soft bounce pending": "deferred", "delayed": "deferred",
    "opened": "opened", "open": "opened", "clicked": "clicked", "click": "clicked",
    "unsubscribed": "unsubscribed", "unsubscribe": "unsubscribed",
    "marked as spam": "complained", "spam complaint": "complained",
    "complained": "complained", "complaint": "complained", "spam": "complained",
    "spamreport": "complained",
}


def auto_mapping(headers: list[str]) -> dict[str, str]:
    """Canonical field -> header, found through the synonym table."""
    by_key = {normalise_header(h): h for h in headers}
    mapping: dict[str, str] = {}
    for field, names in SYNONYMS.items():
        for name in names:
            header = by_key.get(normalise_header(name))
            if header and header not in mapping.values():
                mapping[field] = header
                break
    return mapping


def sniff_headers(headers: list[str]) -> float:
    """Confidence that a table with these headers is an ESP activity/bounce export."""
    m = auto_mapping(headers)
    if not all(f in m for f in REQUIRED):
        return 0.0
    score = 0.5
    if "event" in m or "bounce_type" in m:
        score += 0.2
    if "remote_id" in m or "smtp_text" in m:
        score += 0.2
    if "campaign" in m:
        score += 0.05
    return score


def check_mapping(src: SourceFile, table: Table, mapping: dict[str, str]) -> dict[str, str]:
    """Keep only known fields; every mapped column must exist; required fields present."""
    unknown = sorted(set(mapping) - set(MAPPABLE))
    if unknown:
        raise InputError(src.name, f"unknown field(s) in the column mapping: {', '.join(unknown)}",
                         hint=f"fields are {', '.join(MAPPABLE)}")
    missing_cols = sorted(c for c in mapping.values() if c not in table.headers)
    if missing_cols:
        raise InputError(src.name, f"column(s) {', '.join(map(repr, missing_cols))} are not in the "
                         f"file; its columns are {', '.join(map(repr, table.headers))}", line=1)
    absent = [f for f in REQUIRED if f not in mapping]
    if absent:
        raise InputError(
            src.name,
            f"no column for {', '.join(absent)}; columns are {', '.join(map(repr, table.headers))}",
            line=1, hint="map the columns on the Upload page or with --mapping NAME")
    return dict(mapping)


def _sends_select(headers: list[str], mapping: dict[str, str], tz: str, rel: str,
                  keep: tuple[str, ...] = ()) -> str:
    """SELECT over the text table `rel` giving the parser's `sends` columns + _error/_raw."""

    def col(field: str) -> str:
        return f"nullif(trim({sql_ident(mapping[field])}), '')" if field in mapping else "NULL::VARCHAR"

    words = "MAP {" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in EVENT_WORDS.items()) + "}"
    event_word = f"lower(regexp_replace({col('event')}, '\\s+', ' ', 'g'))"
    smtp_text = col("smtp_text")
    if "event" in mapping:
        event = (f"CASE WHEN {words}[{event_word}] = 'sent' AND {smtp_text} IS NOT NULL "
                 f"THEN 'delivered' ELSE {words}[{event_word}] END")
    else:  # a bounce-only export: every row is a bounce
        event = "'bounced'"
    time_expr = timestamp_sql(col("event_time"), tz)
    bounce_type = (f"CASE WHEN lower({col('bounce_type')}) LIKE '%hard%' OR lower({col('bounce_type')}) "
                   f"IN ('permanent', 'hard') THEN 'hard' "
                   f"WHEN lower({col('bounce_type')}) LIKE '%soft%' OR lower({col('bounce_type')}) "
                   f"IN ('transient', 'temporary', 'soft') THEN 'soft' "
                   f"ELSE lower({col('bounce_type')}) END")
    recipient = col("recipient")
    event_label = sql_str(mapping.get("event", ""))
    date_label = sql_str(mapping["event_time"])
    # Three layers, so that each value is computed once: the columns (and the header
    # fields as _h1.._hN), then _error over those columns, then _raw for error rows
    # only. DuckDB does not share an expression inside a CASE with another column,
    # and the stamp and the event word would otherwise be parsed two or three times.
    has_event = "event" in mapping
    error = (
        "CASE WHEN recipient IS NULL THEN 'no recipient address' "
        "WHEN NOT regexp_matches(recipient, '^[^@\\s]+@[^@\\s]+$') "
        "THEN 'not an e-mail address: ' || recipient "
        + (f"WHEN _event_text IS NULL THEN 'no event in column ' || {event_label} "
           f"WHEN event IS NULL THEN 'unknown event ' || _event_text || ' in column ' "
           f"|| {event_label} || ' (expected Delivered, Bounced, Deferred, Opened, Clicked, "
           f"Unsubscribed or Marked as spam)' " if has_event else "")
        + f"WHEN _time_text IS NULL THEN 'no date in column ' || {date_label} "
        f"WHEN event_time IS NULL THEN 'unreadable date ' || _time_text || "
        f"' in column ' || {date_label} || ' (expected e.g. 2025-11-04 11:00:03)' "
        f"ELSE NULL END"
    )
    fields = [f"_h{i}" for i in range(1, len(headers) + 1)]
    raw = "concat_ws(',', " + ", ".join(f"coalesce({f}, '')" for f in fields) + ")"
    # A CR only ever comes in a multi-line reply; most texts have none.
    reply = (f"CASE WHEN contains({smtp_text}, chr(13)) THEN regexp_replace({smtp_text}, "
             f"'\\r\\n?', chr(10), 'g') ELSE {smtp_text} END")
    kept = "".join(f", {sql_ident(k)}" for k in keep)
    names = ("row_no, campaign, recipient, event, event_time, remote_id, smtp_code, "
             "enhanced_code, smtp_text, bounce_type, bounce_reason, name, subject")
    base = (
        f"SELECT row_no, "  # noqa: S608
        f"{col('campaign')} AS campaign, {recipient} AS recipient, ({event}) AS event, "
        f"({time_expr}) AS event_time, {col('remote_id')} AS remote_id, "
        f"{col('smtp_code')} AS smtp_code, {col('enhanced_code')} AS enhanced_code, "
        f"{reply} AS smtp_text, "
        f"({bounce_type}) AS bounce_type, {col('bounce_reason')} AS bounce_reason, "
        f"{col('name')} AS name, {col('subject')} AS subject, "
        f"{col('event')} AS _event_text, {col('event_time')} AS _time_text, "
        + ", ".join(f"{sql_ident(h)} AS {f}" for h, f in zip(headers, fields, strict=True))
        + f"{kept} FROM {rel}"
    )
    checked = f"SELECT *, ({error}) AS _error FROM ({base})"  # noqa: S608
    return (f"SELECT {names}, _error, CASE WHEN _error IS NOT NULL THEN {raw} END AS _raw"  # noqa: S608
            f"{kept} FROM ({checked})")


def _canonical(con: duckdb.DuckDBPyConnection, inner: str, tz: str,
               keep: tuple[str, ...]) -> str:
    """The `sends` columns as the store loads them, computed in the parser's statement."""
    return canonical_sql(con, "esp", inner, "esp", tz, keep=keep)


def _result(con: duckdb.DuckDBPyConnection, staged: str, table: Table,
            mapping: dict[str, str], tz: str) -> ParseResult:
    rows = con.sql(f"SELECT * EXCLUDE (_error, _raw) FROM {staged} WHERE _error IS NULL")  # noqa: S608
    rejected = con.sql(
        f"SELECT row_no, _raw AS raw, _error AS error FROM {staged} "  # noqa: S608
        "WHERE _error IS NOT NULL").df()
    if len(table.rejected):
        rejected = pd.concat([rejected, table.rejected], ignore_index=True)
    return ParseResult(rows=rows, rejected=rejected, rows_read=table.rows_read, tz=tz,
                       notes={"mapping": mapping}, canonical=True)


def to_sends(src: SourceFile, con: duckdb.DuckDBPyConnection, table: Table,
             mapping: dict[str, str], opts: ParseOptions) -> ParseResult:
    """Turn a text table into `sends` rows plus rejected rows, all in SQL."""
    mapping = check_mapping(src, table, mapping)
    tz = valid_tz(opts.tz, src.name)
    staged = f"_esp_{src.sha256[:12]}"
    inner = _sends_select(table.headers, mapping, tz, table.name)
    select = _canonical(con, inner, tz, ("_error", "_raw"))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS {select}")  # noqa: S608
    return _result(con, staged, table, mapping, tz)


def csv_to_sends(src: SourceFile, con: duckdb.DuckDBPyConnection, opts: ParseOptions,
                 mapping: dict[str, str] | None = None) -> ParseResult:
    """A CSV export to `sends` rows in one pass: reading, mapping and the canonical columns.

    `mapping` None means the header synonyms (auto_mapping).
    """
    tz = valid_tz(opts.tz, src.name)
    chosen: dict[str, str] = {}

    def project(headers: list[str], rel: str, probe: str) -> str:
        m = check_mapping(src, Table("", headers, 0, pd.DataFrame()),
                          mapping if mapping is not None else auto_mapping(headers))
        chosen.update(m)
        inner = _sends_select(headers, m, tz, rel, keep=("_rn",))
        return _canonical(con, inner, tz, ("_error", "_raw", "_rn"))

    table = read_csv(src, con, project=project)
    return _result(con, table.name, table, chosen, tz)
