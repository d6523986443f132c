"""Named aggregate queries over `journeys` for the pages, the reports and the CLI.

Every query takes a `Filters`; user values are always bound parameters, and each
filter also renders as a sentence ("SMTP code is 550") for pages and reports.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields, replace
from typing import Any

import duckdb
import pandas as pd

FAILURE_VERDICTS = ("rejected", "expired", "bounced_after_accept", "deferred", "junk",
                    "quarantined", "dropped")


@dataclass(frozen=True)
class Filters:
    """A filter set over journeys; empty fields do not filter."""

    campaigns: tuple[str, ...] = ()
    since: str | None = None  # ISO date or date-time, UTC
    until: str | None = None  # inclusive: a bare date means the whole day
    domains: tuple[str, ...] = ()
    codes: tuple[int, ...] = ()
    enhanced: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    severity: str | None = None  # "hard" | "soft"
    suppress: bool | None = None
    text: str | None = None  # free text over the reply

    def where(self, alias: str = "j") -> tuple[str, list[Any]]:
        """SQL condition and its bound parameters."""
        a = f"{alias}." if alias else ""
        parts: list[str] = []
        params: list[Any] = []

        def any_of(column: str, values: tuple[Any, ...]) -> None:
            if values:
                parts.append(f"{a}{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)

        any_of("campaign", self.campaigns)
        any_of("recipient_domain", tuple(d.lower() for d in self.domains))
        any_of("failure_code", tuple(int(c) for c in self.codes))
        any_of("failure_enhanced", self.enhanced)
        any_of("category", self.categories)
        any_of("reason", self.reasons)
        any_of("verdict", self.verdicts)
        if self.since:
            parts.append(f"{a}sent_at >= ?")
            params.append(_parse_when(self.since, end=False))
        if self.until:
            parts.append(f"{a}sent_at <= ?")
            params.append(_parse_when(self.until, end=True))
        if self.severity == "hard":
            parts.append(f"{a}permanent")
        elif self.severity == "soft":
            parts.append(f"NOT {a}permanent")
        if self.suppress is not None:
            parts.append(f"coalesce({a}suppress, false) = ?")
            params.append(self.suppress)
        if self.text:
            parts.append(f"(contains(lower({a}failure_text), lower(?)) "
                         f"OR contains(lower({a}smtp_text), lower(?)))")
            params += [self.text, self.text]
        return (" AND ".join(parts) or "TRUE"), params

    def describe(self) -> list[str]:
        """One sentence per active filter."""
        out = []
        labels = {
            "campaigns": "Campaign is", "domains": "Recipient domain is",
            "codes": "SMTP code is", "enhanced": "Enhanced code is",
            "categories": "Category is", "reasons": "Reason is", "verdicts": "Verdict is",
        }
        for name, label in labels.items():
            values = getattr(self, name)
            if values:
                out.append(f"{label} {' or '.join(str(v) for v in values)}")
        if self.since:
            out.append(f"Sent on or after {self.since}")
        if self.until:
            out.append(f"Sent on or before {self.until}")
        if self.severity:
            out.append(f"Only {self.severity} failures")
        if self.suppress is not None:
            out.append("Address should be suppressed" if self.suppress
                       else "Address should be kept")
        if self.text:
            out.append(f"Reply contains “{self.text}”")
        return out

    def to_params(self) -> dict[str, str]:
        """URL query parameters (lists comma-joined) for a shareable link."""
        out: dict[str, str] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v in (None, (), ""):
                continue
            out[f.name] = ",".join(str(x) for x in v) if isinstance(v, tuple) else str(v)
        return out

    @classmethod
    def from_params(cls, params: dict[str, str]) -> Filters:
        """The inverse of to_params; unknown keys and bad values are ignored."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            raw = params.get(f.name)
            if raw in (None, ""):
                continue
            if f.name == "codes":
                kwargs[f.name] = tuple(int(x) for x in raw.split(",") if x.strip().isdigit())
            elif f.name == "suppress":
                kwargs[f.name] = raw.lower() in ("true", "1", "yes")
            elif f.name in ("since", "until", "severity", "text"):
                kwargs[f.name] = raw
            else:
                kwargs[f.name] = tuple(x for x in raw.split(",") if x)
        return cls(**kwargs)

    def with_(self, **changes: Any) -> Filters:
        return replace(self, **changes)


def _parse_when(value: str, *, end: bool) -> dt.datetime:
    """A date or date-time in UTC; a bare date as `until` means its last microsecond."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            t = dt.time.max if end else dt.time.min
            return dt.datetime.combine(day, t, tzinfo=dt.UTC)
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        from .errors import UsageError

        raise UsageError(f"not a date: {value!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from e
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pd.DataFrame:
    return con.execute(sql, params).df()


def kpis(con: duckdb.DuckDBPyConnection, f: Filters = Filters()) -> dict[str, float]:
    """The overview tiles: counts per outcome and the match rate."""
    where, params = f.where()
    row = _df(con, f"""
        SELECT count(*) AS sent,
          count(*) FILTER (WHERE verdict NOT IN ('rejected', 'expired', 'deferred', 'unknown'))
            AS accepted,
          count(*) FILTER (WHERE verdict IN ('delivered', 'junk', 'accepted_no_trace',
                                             'forwarded')) AS delivered,
          count(*) FILTER (WHERE verdict = 'delivered') AS inbox,
          count(*) FILTER (WHERE verdict = 'junk') AS junk,
          count(*) FILTER (WHERE verdict = 'quarantined') AS quarantined,
          count(*) FILTER (WHERE verdict = 'dropped') AS dropped,
          count(*) FILTER (WHERE verdict IN ('rejected', 'bounced_after_accept', 'expired')
                           AND coalesce(permanent, failure_code >= 500)) AS bounced_hard,
          count(*) FILTER (WHERE verdict IN ('rejected', 'bounced_after_accept', 'expired')
                           AND NOT coalesce(permanent, failure_code >= 500)) AS bounced_soft,
          count(*) FILTER (WHERE verdict = 'rejected') AS rejected,
          count(*) FILTER (WHERE verdict IN ('deferred', 'expired')) AS deferred,
          count(*) FILTER (WHERE verdict = 'accepted_no_trace') AS accepted_no_trace,
          count(*) FILTER (WHERE match <> 'none') AS matched
        FROM journeys j WHERE {where}""", params).iloc[0]  # noqa: S608 - where is built from ? placeholders
    out = {k: int(v) for k, v in row.items()}
    out["match_rate"] = out["matched"] / out["sent"] if out["sent"] else 0.0
    return out


def campaigns(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Campaigns with their first send time, oldest first."""
    return _df(con, "SELECT campaign, min(sent_at) AS first_sent, count(*) AS journeys "
                    "FROM journeys GROUP BY campaign ORDER BY first_sent", [])


def verdict_counts(con: duckdb.DuckDBPyConnection, f: Filters = Filters()) -> pd.DataFrame:
    where, params = f.where()
    return _df(con, f"SELECT verdict, count(*) AS journeys FROM journeys j WHERE {where} "  # noqa: S608
                    "GROUP BY verdict ORDER BY journeys DESC, verdict", params)


def failures_by_code(con: duckdb.DuckDBPyConnection, f: Filters = Filters()) -> pd.DataFrame:
    """Failures per SMTP code and category, with the enhanced codes seen."""
    where, params = f.where()
    return _df(con, f"""
        SELECT failure_code AS smtp_code, coalesce(category, 'unknown') AS category,
               count(*) AS failures,
               string_agg(DISTINCT failure_enhanced, ', ' ORDER BY failure_enhanced)
                 AS enhanced_codes
        FROM journeys j WHERE failure_code IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY smtp_code, failures DESC, category""", params)  # noqa: S608


def failures_by_domain(con: duckdb.DuckDBPyConnection, f: Filters = Filters(),
                       top: int = 15) -> pd.DataFrame:
    """Failures per recipient domain (top N by failures, the rest as "other") and category."""
    where, params = f.where()
    return _df(con, f"""
        WITH fail AS (
          SELECT recipient_domain, coalesce(category, 'unknown') AS category
          FROM journeys j WHERE failure_code IS NOT NULL AND {where}),
        ranked AS (
          SELECT recipient_domain, row_number() OVER (ORDER BY count(*) DESC,
                 recipient_domain) AS rank FROM fail GROUP BY recipient_domain)
        SELECT CASE WHEN r.rank <= ? THEN fail.recipient_domain ELSE 'other' END AS domain,
               category, count(*) AS failures
        FROM fail JOIN ranked r USING (recipient_domain)
        GROUP BY ALL ORDER BY failures DESC, domain, category""", params + [top])  # noqa: S608


def domain_category_matrix(con: duckdb.DuckDBPyConnection, f: Filters = Filters(),
                           top: int = 20) -> pd.DataFrame:
    """Long-form (domain, category, failures) for the top domains, for a heatmap."""
    return failures_by_domain(con, f, top)


def failures_over_time(con: duckdb.DuckDBPyConnection, f: Filters = Filters(),
                       bucket: str = "hour") -> pd.DataFrame:
    """Failures per time bucket and category."""
    if bucket not in ("minute", "hour", "day"):
        raise ValueError(f"bucket must be minute, hour or day, not {bucket!r}")
    where, params = f.where()
    return _df(con, f"""
        SELECT date_trunc('{bucket}', sent_at) AS bucket, coalesce(category, 'unknown') AS category,
               count(*) AS failures
        FROM journeys j WHERE failure_code IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY bucket""", params)  # noqa: S608


def domain_incidents(con: duckdb.DuckDBPyConnection, f: Filters = Filters()) -> pd.DataFrame:
    """Per domain: when failures started and ended, how many, and how long deferrals took."""
    where, params = f.where()
    return _df(con, f"""
        SELECT recipient_domain AS domain, count(*) AS failures,
               min(sent_at) AS first_failure, max(sent_at) AS last_failure,
               mode() WITHIN GROUP (ORDER BY category) AS main_category,  -- ties: first by name
               count(*) FILTER (WHERE verdict IN ('deferred', 'expired')) AS deferred,
               median(latency_s) FILTER (WHERE esp_event = 'delivered' AND latency_s IS NOT NULL)
                 AS median_latency_s
        FROM journeys j WHERE failure_code IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY failures DESC, domain""", params)  # noqa: S608


def category_tree(con: duckdb.DuckDBPyConnection, f: Filters = Filters()) -> pd.DataFrame:
    """(category, reason, code, failures) for a sunburst."""
    where, params = f.where()
    return _df(con, f"""
        SELECT coalesce(category, 'unknown') AS category, coalesce(reason, 'undefined') AS reason,
               coalesce(failure_enhanced, failure_code::VARCHAR, '?') AS code,
               count(*) AS failures
        FROM journeys j WHERE failure_code IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY failures DESC, category, reason, code""", params)  # noqa: S608


EXPLORER_COLUMNS = ["journey_id", "sent_at", "campaign", "recipient", "recipient_domain",
                    "verdict", "failure_code", "failure_enhanced", "category", "reason",
                    "permanent", "suppress", "failure_text", "rule_id", "advice", "match",
                    "trace_format"]


def explorer_rows(con: duckdb.DuckDBPyConnection, f: Filters = Filters(), *,
                  limit: int | None = 500, offset: int = 0,
                  failures_only: bool = True) -> pd.DataFrame:
    """Journeys matching the filters (failures only by default), newest first."""
    where, params = f.where()
    cond = f"({where})" + (" AND (failure_code IS NOT NULL OR verdict IN "
                           f"{FAILURE_VERDICTS})" if failures_only else "")
    page = ""
    if limit is not None:
        page = " LIMIT ? OFFSET ?"
        params = params + [int(limit), int(offset)]
    return _df(con, f"SELECT {', '.join(EXPLORER_COLUMNS)} FROM journeys j WHERE {cond} "  # noqa: S608
                    f"ORDER BY sent_at DESC, recipient{page}", params)


def explorer_count(con: duckdb.DuckDBPyConnection, f: Filters = Filters(), *,
                   failures_only: bool = True) -> int:
    where, params = f.where()
    cond = f"({where})" + (" AND (failure_code IS NOT NULL OR verdict IN "
                           f"{FAILURE_VERDICTS})" if failures_only else "")
    return int(con.execute(f"SELECT count(*) FROM journeys j WHERE {cond}",  # noqa: S608
                           params).fetchall()[0][0])


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[Any]]:
    """Distinct values for the explorer's filter widgets."""
    def distinct(col: str) -> list[Any]:
        return [r[0] for r in con.execute(
            f"SELECT DISTINCT {col} FROM journeys WHERE {col} IS NOT NULL ORDER BY 1").fetchall()]  # noqa: S608

    return {c: distinct(c) for c in ("campaign", "recipient_domain", "failure_code",
                                     "failure_enhanced", "category", "reason", "verdict")}


def find_journeys(con: duckdb.DuckDBPyConnection, needle: str, limit: int = 50) -> pd.DataFrame:
    """Journeys whose recipient, remote ID, any matched trace ID or subject contains `needle`."""
    n = needle.strip().lower().strip("<>")
    if not n:
        return pd.DataFrame()
    # A column whose lower() contains n also contains, as it is, n's longest run of ASCII
    # digits and punctuation (lower() maps no other character to one of them), so that
    # plain test runs first and lower() only on the rows that pass it. Message-IDs in
    # journey_keys (kind 'msgid') and journey_events are stored lower-cased by
    # journeys.rebuild, so they are compared as they are. Same rows as lower() everywhere.
    d = max(re.findall(r"[0-9!-/:-@\[-`{-~ ]+", n), key=len, default="")

    def has(col: str, op: str) -> str:
        test = f"contains(lower({col}), ?)" if op == "in" else f"lower({col}) = ?"
        return f"(contains({col}, ?) AND {test})"

    if _has_table(con, "journey_search"):  # every key and trace ID, lower-cased and hashed
        ids = "SELECT journey_id FROM journey_search WHERE term_hash = hash(?) AND term = ?"
        ids_params: list[Any] = [n, n]
    else:  # a workspace rebuilt before journey_search existed
        queue, internal = has("coalesce(queue_id, '')", "="), has("coalesce(internal_id, '')", "=")
        ids = ("SELECT journey_id FROM journey_keys WHERE (kind = 'msgid' AND key = ?) "
               f"OR (kind <> 'msgid' AND {has('key', '=')}) "
               "UNION SELECT journey_id FROM journey_events WHERE message_id = ? "
               f"OR {queue} OR {internal}")
        ids_params = [n, d, n, n, d, n, d, n]
    # One UNION of matching journey IDs, each filter in its own table scan, instead of ORs
    # of IN subqueries that are evaluated on every journey after the joins.
    return _df(con, f"""
        WITH hits AS (
          SELECT journey_id FROM journeys
          WHERE {has("recipient", "in")} OR {has("coalesce(remote_id, '')", "in")}
             OR {has("coalesce(subject, '')", "in")}
          UNION {ids})
        SELECT j.journey_id, j.sent_at, j.campaign, j.recipient, j.remote_id, j.verdict, j.match
        FROM journeys j SEMI JOIN hits h ON h.journey_id = j.journey_id
        ORDER BY j.sent_at, j.journey_id LIMIT ?""",  # noqa: S608 - our SQL only
               [d, n] * 3 + ids_params + [limit])


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
                            "AND NOT temporary", [name]).fetchall()[0][0])


def journey(con: duckdb.DuckDBPyConnection, journey_id: int) -> dict[str, Any] | None:
    """One journey's row as a dict."""
    df = _df(con, "SELECT * FROM journeys WHERE journey_id = ?", [journey_id])
    return None if df.empty else df.iloc[0].to_dict()


def timeline(con: duckdb.DuckDBPyConnection, journey_id: int) -> pd.DataFrame:
    """Every ESP row and matched trace event of one journey, in time order."""
    # journey_events keeps no raw text: it is read here from the few trace rows shown (one
    # input row can hold several events, e.g. an Exchange row per recipient: same raw).
    return _df(con, """
        WITH j AS (SELECT * FROM journeys WHERE journey_id = ?),
        e AS (SELECT * FROM journey_events WHERE journey_id = ?),
        r AS (SELECT t.import_id, t.row_no, any_value(t.raw) AS raw
              FROM trace_events t SEMI JOIN e ON t.import_id = e.import_id
                   AND t.row_no = e.row_no
              GROUP BY ALL)
        SELECT s.event_time, 'ESP' AS side, i.format AS source, i.file_name, s.row_no, s.event,
               s.smtp_code, s.enhanced_code, s.smtp_text AS detail, NULL AS server,
               NULL AS match, s.raw
        FROM sends s JOIN j ON s.recipient = j.recipient
             AND s.campaign IS NOT DISTINCT FROM j.campaign
        JOIN imports i ON i.import_id = s.import_id
        UNION ALL
        SELECT e.event_time, 'trace', e.format, i.file_name, e.row_no, e.event, e.smtp_code,
               e.enhanced_code, e.detail, e.server, e.match, r.raw
        FROM e JOIN imports i USING (import_id) LEFT JOIN r USING (import_id, row_no)
        ORDER BY event_time, side""", [journey_id, journey_id])


# --- added for the analysis pages (issue 5) ------------------------------------------------

def time_span(con: duckdb.DuckDBPyConnection, f: Filters = Filters()) -> dict[str, Any]:
    """First and last send time of the filtered journeys (None when there are none)."""
    where, params = f.where()
    row = con.execute(f"SELECT min(sent_at), max(sent_at) FROM journeys j WHERE {where}",  # noqa: S608
                      params).fetchall()[0]
    return {"first": row[0], "last": row[1]}


def auto_bucket(span: dict[str, Any]) -> str:
    """A time bucket for `failures_over_time` that gives a readable number of bars."""
    first, last = span.get("first"), span.get("last")
    if first is None or last is None:
        return "hour"
    seconds = (last - first).total_seconds()
    return "minute" if seconds <= 3 * 3600 else "hour" if seconds <= 7 * 86400 else "day"


def unclassified_failures(con: duckdb.DuckDBPyConnection, f: Filters = Filters(),
                          limit: int = 200) -> pd.DataFrame:
    """Failure replies no rule or code table explained (rule_id 'none', or not classified),
    most frequent first."""
    where, params = f.where()
    return _df(con, f"""
        SELECT failure_code AS smtp_code, failure_enhanced AS enhanced_code,
               any_value(failure_text) AS example_text, count(*) AS failures,
               count(DISTINCT recipient_domain) AS domains,
               string_agg(DISTINCT recipient_domain, ', ' ORDER BY recipient_domain)
                 AS recipient_domains
        FROM journeys j
        WHERE (failure_code IS NOT NULL OR failure_text IS NOT NULL)
          AND coalesce(rule_id, 'none') = 'none' AND {where}
        GROUP BY failure_code, failure_enhanced, failure_text
        ORDER BY failures DESC, smtp_code LIMIT ?""", params + [int(limit)])  # noqa: S608
