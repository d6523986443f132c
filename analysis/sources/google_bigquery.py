"""Gmail logs in BigQuery exported by the admin: newline-delimited JSON or CSV.

Layout: ../shared/formats/google_workspace.md section 2 — legacy `daily_YYYYMMDD` tables
(`event_info`/`message_info` at the top) or the Workspace `activity` table (the same
under `gmail.`, time in `time_usec`). Times are epoch microseconds (UTC). One row per
`message_info.destination[]` entry. CSV exports carry flattened names
(`message_info.rfc2822_message_id`, or the same with `_`), repeated fields as JSON text.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._tabular import normalise_header, sql_str, timestamp_sql
from ._trace_common import (
    addr_list_sql,
    csv_head,
    finish,
    raw_csv_sql,
    read_lines,
    read_ps_csv,
    txt,
)

# Canonical field -> path under the Gmail record (legacy root, or `gmail.` in `activity`).
PATHS: dict[str, str] = {
    "usec": "event_info.timestamp_usec",
    "success": "event_info.success",
    "mail_event": "event_info.mail_event_type",
    "action": "message_info.action_type",
    "message_id": "message_info.rfc2822_message_id",
    "subject": "message_info.subject",
    "sender": "message_info.source.address",
    "code": "message_info.connection_info.smtp_reply_code",
    "reason": "message_info.connection_info.smtp_response_reason",
    "client": "message_info.connection_info.client_ip",
    "relay": "message_info.connection_info.smtp_out_remote_host",
    "description": "message_info.description",
    "is_spam": "message_info.is_spam",
    "disposition": "message_info.spam_info.disposition",
    "rules": "message_info.triggered_rule_info",
    "flat": "message_info.flattened_destinations",
    "dests": "message_info.destination",
    "dmarc": "message_info.connection_info.dmarc_pass",
    "spf": "message_info.connection_info.spf_pass",
    "dkim": "message_info.connection_info.dkim_pass",
}
_DEST_TYPE = sql_str('[{"address": "VARCHAR", "rcpt_response": "VARCHAR", "service": "VARCHAR"}]')


def _event_sql() -> str:
    """SQL: trace_events.event of one staged row (section 2.3; action codes are [S])."""
    ok, failed = "lower(_success) IN ('true', '1')", "lower(_success) IN ('false', '0')"
    code = "TRY_CAST(_code AS INTEGER)"
    spam = "(lower(coalesce(_is_spam, '')) IN ('true', '1') OR _disposition IN ('2', '3', '4', '5'))"
    return (
        "CASE WHEN _action = '18' THEN 'bounced' WHEN _action = '19' THEN 'dropped' "
        "WHEN _mail_event = '5' OR lower(coalesce(_rules, '')) LIKE '%quarantin%' THEN 'quarantined' "
        f"WHEN {failed} AND {code} BETWEEN 400 AND 499 THEN 'deferred' "
        "WHEN _action = '14' THEN 'deferred' "
        f"WHEN {failed} AND {code} BETWEEN 500 AND 599 THEN 'rejected' "
        f"WHEN {failed} THEN 'failed' WHEN _mail_event = '4' THEN 'junk' "
        "WHEN _action = '1' THEN 'received' "
        f"WHEN _action IN ('3', '10') AND {spam} THEN 'junk' "
        f"WHEN _action IN ('3', '10') AND NOT {failed} THEN 'delivered' "
        f"WHEN {ok} AND _action IS NULL THEN 'delivered' ELSE 'other' END"
    )


def _auth_note() -> str:
    """SQL: for a refused row with no reply text, the code and the authentication results."""
    return ("CASE WHEN lower(_success) IN ('false', '0') AND _code IS NOT NULL THEN _code || "
            "' (no reply text logged; ' || concat_ws(', ', 'dmarc_pass=' || _dmarc, "
            "'spf_pass=' || _spf, 'dkim_pass=' || _dkim) || ')' END")


def _time_sql(usec: str) -> str:
    """SQL: epoch microseconds (or a BigQuery-rendered `... UTC` stamp) as TIMESTAMPTZ."""
    rendered = f"regexp_replace({usec}, '\\s*UTC$', 'Z')"
    return (f"CASE WHEN regexp_matches(trim({usec}), '^[0-9]{{12,17}}$') "
            f"THEN timezone('UTC', make_timestamp(TRY_CAST(trim({usec}) AS BIGINT))) "
            f"ELSE {timestamp_sql(rendered, 'UTC')} END")


def _result(con: duckdb.DuckDBPyConnection, base_sql: str, tag: str,
            extra_rejected: pd.DataFrame | None, notes: dict[str, int]) -> ParseResult:
    """Stage `base_sql` (row_no, raw, _pre_error, _usec, ..., _dests) and explode destinations."""
    staged = f"_bq_{tag}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT *, {_time_sql('_usec')} AS _ts, "  # noqa: S608
        "CASE WHEN _pre_error IS NOT NULL THEN _pre_error "
        "WHEN _usec IS NULL THEN 'no event_info.timestamp_usec' "
        f"WHEN {_time_sql('_usec')} IS NULL THEN 'unreadable event time ' || _usec "
        "|| ' (expected epoch microseconds, e.g. 1762246808221000)' END AS _error "
        f"FROM ({base_sql})")
    rows = (
        f"SELECT row_no, _ts AS event_time, message_id, sender, subject, d.address AS recipient, "  # noqa: S608
        f"({_event_sql()}) AS event, TRY_CAST(_code AS INTEGER) AS smtp_code, "
        f"coalesce(d.rcpt_response, _reason, {_auth_note()}, _description) AS detail, "
        "_client AS client, "
        f"_relay AS relay, raw FROM {staged}, unnest(CASE WHEN len(_dests) = 0 THEN "
        "[{'address': NULL::VARCHAR, 'rcpt_response': NULL::VARCHAR, 'service': NULL::VARCHAR}] "
        "ELSE _dests END) AS u(d) WHERE _error IS NULL")
    return finish(con, staged, rows, extra_rejected=extra_rejected, tz="UTC", notes=notes)


def _flat_dests(flat: str) -> str:
    """SQL: destinations from `flattened_destinations` (`service:selector:address, ...`)."""
    return (f"list_transform({addr_list_sql(flat, ',')}, lambda x: {{'address': "
            "regexp_extract(x, '([^:]*)$', 1), 'rcpt_response': NULL::VARCHAR, "
            "'service': split_part(x, ':', 1)})")


@register
class GoogleBigQueryJson:
    NAME = "google_bigquery_json"
    SIDE = "trace"
    DESCRIPTION = "Gmail logs in BigQuery (daily_ tables or the activity table) exported as JSON lines"

    def sniff(self, src: SourceFile) -> float:
        text = src.text_head.lstrip()
        if not text.startswith("{"):
            return 0.0
        first = text.splitlines()[0]
        if '"message_info"' in first and ('"event_info"' in first or '"gmail"' in first):
            return 0.97
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        tag = src.sha256[:12]
        lines = f"_lines_{tag}"
        read_lines(src, con, lines)
        # The activity table nests Gmail under `gmail.` (section 2.1).
        g = "CASE WHEN json_exists(j, '$.gmail.message_info') THEN j->'gmail' ELSE j END"

        def path(p: str) -> str:
            return f"nullif(json_extract_string(_g, {sql_str('$.' + p)}), '')"

        fields = ", ".join(f"{path(p)} AS _{f}" for f, p in PATHS.items()
                           if f not in ("usec", "message_id", "subject", "sender", "dests"))
        base = (
            "SELECT line_no AS row_no, line AS raw, CASE WHEN j IS NULL THEN "
            "'not valid JSON (expected one BigQuery record per line)' WHEN NOT "
            "json_exists(_g, '$.message_info') THEN 'not a Gmail log record (no message_info)' "
            f"END AS _pre_error, coalesce({path(PATHS['usec'])}, "
            "nullif(json_extract_string(j, '$.time_usec'), '')) AS _usec, "
            f"{path(PATHS['message_id'])} AS message_id, {path(PATHS['subject'])} AS subject, "
            f"{path(PATHS['sender'])} AS sender, {fields}, coalesce(try(from_json("
            f"json_extract(_g, '$.message_info.destination'), {_DEST_TYPE})), "
            f"{_flat_dests('_flat')}) AS _dests FROM (SELECT *, {g} AS _g FROM ("
            f"SELECT line_no, line, CASE WHEN json_valid(line) AND json_type(line::JSON) = 'OBJECT' "
            f"THEN line::JSON END AS j FROM {lines} WHERE trim(line) <> ''))"
        )
        n = con.execute(f"SELECT count(*), count(*) FILTER (WHERE trim(line) = '') "  # noqa: S608
                        f"FROM {lines}").fetchall()[0]
        return _result(con, base, tag, None,
                       {"lines": n[0], "blank_lines": n[1], "records": n[0] - n[1]})


def _csv_col(headers: list[str], path: str) -> str | None:
    """The header for a field path: dotted or `_` flattened, under `gmail.` or not, or its leaf."""
    keys = {normalise_header(h): h for h in reversed(headers)}
    leaf = path.rsplit(".", 1)[-1]
    for cand in (path, "gmail." + path, leaf if leaf not in ("address", "subject") else ""):
        if cand and (h := keys.get(normalise_header(cand))):
            return h
    return None


@register
class GoogleBigQueryCsv:
    NAME = "google_bigquery_csv"
    SIDE = "trace"
    DESCRIPTION = "Gmail logs in BigQuery exported as CSV (flattened column names)"

    def sniff(self, src: SourceFile) -> float:
        headers, _ = csv_head(src)
        if not headers or not (_csv_col(headers, PATHS["usec"]) or _csv_col(headers, "time_usec")):
            return 0.0
        hits = sum(1 for f in ("message_id", "action", "dests", "flat", "code")
                   if _csv_col(headers, PATHS[f]))
        return 0.95 if hits >= 2 else 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        table = read_ps_csv(src, con)
        cols = {f: _csv_col(table.headers, p) for f, p in PATHS.items()}
        cols["usec"] = cols["usec"] or _csv_col(table.headers, "time_usec")
        c = {f: txt(h) for f, h in cols.items()}
        addr = _csv_col(table.headers, "message_info.destination.address")
        resp = _csv_col(table.headers, "message_info.destination.rcpt_response")
        dests = (
            f"coalesce(try(from_json({c['dests']}, {_DEST_TYPE})), "
            + (f"list_transform({addr_list_sql(txt(addr), ',;')}, lambda a: {{'address': a, "
               f"'rcpt_response': {txt(resp)}, 'service': NULL::VARCHAR}}), " if addr else "")
            + f"{_flat_dests(c['flat'])})"
        )
        base = (
            f"SELECT row_no, {raw_csv_sql(table.headers)} AS raw, NULL::VARCHAR AS _pre_error, "
            f"{c['usec']} AS _usec, {c['message_id']} AS message_id, {c['subject']} AS subject, "
            f"{c['sender']} AS sender, "
            + ", ".join(f"{c[f]} AS _{f}" for f in PATHS
                        if f not in ("usec", "message_id", "subject", "sender", "dests"))
            + f", {dests} AS _dests FROM {table.name}"
        )
        return _result(con, base, src.sha256[:12], table.rejected, {"records": table.rows_read})
