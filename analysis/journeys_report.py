"""The match report: how well the ESP side and the trace side joined, and what did not."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pandas as pd

CLOCK_WARN_S = 30 * 60  # a median gap above this between exact matches smells of a wrong zone


@dataclass(frozen=True)
class ClockCheck:
    """Median gap between an ESP import's sends and a trace import's first events."""

    import_id: int
    file_name: str
    tz: str | None
    matches: int
    median_offset_s: float
    warning: str | None


@dataclass(frozen=True)
class MatchReport:
    """Counts and lists of the join between sends and trace_events."""

    journeys: int
    exact: int
    approximate: int
    unmatched: int
    match_rate: float
    esp_unmatched: list[dict[str, Any]] = field(default_factory=list)
    unmatched_ids: list[dict[str, Any]] = field(default_factory=list)
    trace_unmatched: list[dict[str, Any]] = field(default_factory=list)
    ambiguous_keys: list[dict[str, Any]] = field(default_factory=list)
    clock: list[ClockCheck] = field(default_factory=list)
    # How many rows esp_unmatched, unmatched_ids and trace_unmatched have in full
    # (match_report's `limit` may list fewer; ambiguous_keys lists at most 200).
    totals: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _more(self, name: str) -> list[str]:
        left = self.totals.get(name, 0) - len(getattr(self, name))
        return [f"  ... and {left:,} more (--limit N lists more)"] if left > 0 else []

    def render(self) -> str:
        lines = [
            f"journeys: {self.journeys}",
            f"matched exactly: {self.exact}",
            f"matched approximately: {self.approximate}",
            f"no trace: {self.unmatched}",
            f"match rate: {self.match_rate:.1%}",
        ]
        if self.unmatched_ids or self.totals.get("unmatched_ids"):
            lines.append("ESP IDs not found in any trace:")
            lines += [f"  {r['recipient']}  {r['remote_id']}" for r in self.unmatched_ids]
            lines += self._more("unmatched_ids")
        if self.trace_unmatched or self.totals.get("trace_unmatched"):
            lines.append("trace messages with no ESP row:")
            lines += [f"  {r['trace_message']}  {r['recipients'] or '-'}  {r['events']}"
                      for r in self.trace_unmatched]
            lines += self._more("trace_unmatched")
        if self.ambiguous_keys:
            lines.append("IDs shared by several journeys:")
            lines += [f"  {r['kind']} {r['key']}: {r['journeys']} journeys"
                      for r in self.ambiguous_keys]
        for c in self.clock:
            if c.warning:
                lines.append(f"warning: {c.warning}")
        return "\n".join(lines)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if pd.isna(v) else v) if not isinstance(v, (list, dict)) else v
             for k, v in row.items()} for row in df.to_dict(orient="records")]


def clock_checks(con: duckdb.DuckDBPyConnection) -> list[ClockCheck]:
    """Per trace import: the median offset of its exact matches from the ESP send time."""
    df = con.execute("""
        WITH firsts AS (
          SELECT e.journey_id, e.import_id, min(e.event_time) AS first_at
          FROM journey_events e WHERE e.match = 'exact' GROUP BY ALL)
        SELECT f.import_id, i.file_name, i.tz, count(*) AS matches,
               median(epoch(f.first_at) - epoch(coalesce(j.accepted_at, j.sent_at)))
                 AS median_offset_s
        FROM firsts f JOIN journeys j USING (journey_id) JOIN imports i USING (import_id)
        GROUP BY ALL ORDER BY f.import_id""").df()
    out = []
    for r in df.itertuples():
        off = float(r.median_offset_s)
        warning = None
        if abs(off) > CLOCK_WARN_S:
            hours = round(off / 1800) / 2  # zones differ by whole or half hours
            warning = (f"{r.file_name}: its events are {hours:+g} h from the ESP's send times "
                       f"over {r.matches} exact matches; was it loaded with the right time zone "
                       f"(loaded as {r.tz})?")
        out.append(ClockCheck(int(r.import_id), r.file_name, r.tz, int(r.matches), off, warning))
    return out


def match_report(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> MatchReport:
    """The match report over the current journeys (rebuilt first if missing): the first
    `limit` rows of each list (None: every row; at 1M sends the unmatched trace messages
    alone are 1.4M) and each list's full count in `totals`."""
    from .journeys import _ensure

    _ensure(con)
    counts = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE match = 'exact'),
               count(*) FILTER (WHERE match = 'approximate'),
               count(*) FILTER (WHERE match = 'none') FROM journeys""").fetchall()[0]
    total, exact, approx, none = (int(x) for x in counts)
    top = "" if limit is None else f" LIMIT {int(limit)}"
    esp = ("SELECT journey_id, campaign, recipient, remote_id, esp_event, verdict, "
           "trace_covers_domain FROM journeys WHERE match = 'none' {} "
           "ORDER BY sent_at, recipient, journey_id" + top)
    esp_unmatched = con.execute(esp.format("")).df()
    unmatched_ids = con.execute(esp.format("AND remote_id IS NOT NULL")).df()
    trace_unmatched = con.execute(
        f"SELECT * FROM trace_unmatched ORDER BY first_event_at, trace_message{top}").df()
    totals = dict(zip(("esp_unmatched", "unmatched_ids", "trace_unmatched"), (
        int(x) for x in con.execute(
            "SELECT count(*) FILTER (WHERE match = 'none'), count(*) FILTER (WHERE match = "
            "'none' AND remote_id IS NOT NULL), (SELECT count(*) FROM trace_unmatched) "
            "FROM journeys").fetchall()[0]), strict=True))
    ambiguous = con.execute("""
        SELECT kind, key, count(DISTINCT journey_id) AS journeys FROM journey_keys
        WHERE kind <> 'gmail' GROUP BY ALL HAVING count(DISTINCT journey_id) > 1
        ORDER BY journeys DESC, key LIMIT 200""").df()
    return MatchReport(
        journeys=total, exact=exact, approximate=approx, unmatched=none,
        match_rate=(exact + approx) / total if total else 0.0,
        esp_unmatched=_records(esp_unmatched), unmatched_ids=_records(unmatched_ids),
        trace_unmatched=_records(trace_unmatched), ambiguous_keys=_records(ambiguous),
        clock=clock_checks(con), totals=totals,
    )
