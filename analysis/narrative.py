"""One journey told in words: what the ESP saw, what each server did, and the verdict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

# Plain-words meaning of each verdict (README "Verdicts").
VERDICT_WORDS = {
    "delivered": "delivered to the inbox",
    "junk": "delivered to the junk / spam folder",
    "quarantined": "held in quarantine by the recipient's filter",
    "dropped": "accepted, then silently discarded by the recipient's server",
    "rejected": "refused by the recipient's server with a permanent error; never accepted",
    "expired": "only temporary refusals, until the ESP gave up",
    "bounced_after_accept": "accepted, then bounced by the recipient's side",
    "forwarded": "relayed onwards; the trace does not show its final fate",
    "deferred": "temporarily refused and still being retried",
    "accepted_no_trace": "accepted by the recipient's server, but no trace row shows it",
    "unknown": "not enough evidence for a verdict",
}

# ESP events -> what the ESP says happened.
_ESP_PHRASES = {
    "sent": "the ESP sent it",
    "delivered": "the ESP handed it over and the receiving server accepted it",
    "deferred": "the receiving server temporarily refused it",
    "bounced": "the ESP recorded a bounce",
    "opened": "the ESP recorded an open",
    "clicked": "the ESP recorded a click",
    "complained": "the recipient marked it as spam (complaint)",
    "unsubscribed": "the recipient unsubscribed",
}
# Trace events -> what the recipient's server did; {server} is filled in.
_TRACE_PHRASES = {
    "received": "accepted by {server}",
    "delivered": "delivered to the mailbox by {server}",
    "junk": "moved to Junk by the spam filter on {server}",
    "quarantined": "quarantined by {server}",
    "held": "put on hold by {server}",
    "dropped": "silently dropped by {server}",
    "rejected": "rejected by {server}",
    "deferred": "temporarily refused by {server}",
    "bounced": "bounced by {server}",
    "failed": "failed on {server}",
    "forwarded": "forwarded onwards by {server}",
    "expanded": "expanded to a distribution list by {server}",
}
_FAILURE_EVENTS = {"deferred", "bounced", "rejected", "failed"}
_ESP_AFTERMATH = {"opened", "clicked", "unsubscribed", "complained"}
# Order of trace events logged in the same second: arrival, hand-offs, fate, failures.
_TRACE_RANK = {"received": 1, "expanded": 2, "forwarded": 2, "other": 2, "delivered": 4,
               "junk": 5, "quarantined": 5, "held": 5, "dropped": 5, "deferred": 6,
               "rejected": 6, "failed": 6, "bounced": 6}
_SAME_AS = {"failed": "bounced"}  # one fact, logged as FAIL by one file and bounce by another


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str | bytes) and bool(pd.isna(value)))


def _when(ts: Any, previous: dt.date | None) -> tuple[str, dt.date | None]:
    """'at 09:00:14', or 'on 2025-11-04 at 09:00:14 UTC' when the day changes."""
    if _missing(ts):
        return "", previous
    t = pd.Timestamp(ts)
    t = t.tz_convert("UTC") if t.tzinfo else t
    day = t.date()
    text = f"at {t:%H:%M:%S}" if day == previous else f"on {day:%Y-%m-%d} at {t:%H:%M:%S} UTC"
    return text, day


def _code(row: Any) -> str:
    parts = [str(int(row.smtp_code)) if not _missing(row.smtp_code) else "",
             str(row.enhanced_code) if not _missing(row.enhanced_code) else ""]
    text = " ".join(p for p in parts if p)
    return f" ({text})" if text else ""


def _server(row: Any) -> str:
    if isinstance(row.server, str) and row.server.strip():
        return row.server.strip()
    return f"the server ({row.source} trace)"


def _rank(side: str, event: str) -> int:
    """Where an event sits in a message's life, to order events logged in the same second."""
    if side == "ESP":
        return 0 if event in ("sent", "delivered") else 8 if event in _ESP_AFTERMATH else 7
    return _TRACE_RANK.get(event, 3)


def _host(row: Any) -> str:
    """A server's short name, so EXCH01 and EXCH01.example.net count as one server."""
    name = row.server if isinstance(row.server, str) and row.server.strip() else row.source
    return str(name).strip().split(".")[0].lower()


def _steps(timeline: pd.DataFrame) -> list[str]:
    """One phrase per distinct event (per server), in order; repeats counted, not repeated."""
    frame = timeline.assign(
        sort_second=pd.to_datetime(timeline["event_time"], utc=True).dt.floor("s"),
        sort_rank=[_rank(str(s), str(e)) for s, e in zip(timeline["side"], timeline["event"],
                                                    strict=True)])
    steps: list[str] = []
    seen: dict[tuple[Any, ...], int] = {}
    times: dict[int, set[Any]] = {}  # distinct seconds: one event in two files is once
    day: dt.date | None = None
    ordered = frame.sort_values(["sort_second", "sort_rank", "event_time"], kind="stable")
    for row in ordered.itertuples():
        event = str(row.event)
        if row.side == "ESP":
            phrase = _ESP_PHRASES.get(event)
            key: tuple[Any, ...] = ("ESP", event)
        else:
            template = _TRACE_PHRASES.get(event)
            phrase = template.format(server=_server(row)) if template else None
            key = ("trace", _SAME_AS.get(event, event), _host(row))
        if phrase is None:
            continue
        if key in seen:
            times[seen[key]].add(row.sort_second)
            continue
        when, day = _when(row.event_time, day)
        code = _code(row) if event in _FAILURE_EVENTS or row.side == "ESP" else ""
        if row.side == "ESP" and event in _ESP_AFTERMATH:
            code = ""
        seen[key] = len(steps)
        times[len(steps)] = {row.sort_second}
        steps.append(f"{phrase} {when}{code}".replace("  ", " ").strip())
    return [f"{s} ({len(times[i])} times)" if len(times[i]) > 1 else s
            for i, s in enumerate(steps)]


def _join(steps: list[str]) -> str:
    if not steps:
        return ""
    text = ", then ".join(steps) if len(steps) <= 2 else \
        ", ".join(steps[:-1]) + ", then " + steps[-1]
    return text[0].upper() + text[1:] + "."


def describe_journey(journey: Mapping[str, Any], timeline: pd.DataFrame) -> str:
    """The journey in words: the events in order, the verdict, and how sure the match is."""
    parts = [_join(_steps(timeline))] if not timeline.empty else []
    verdict = str(journey.get("verdict") or "unknown")
    parts.append(f"Verdict: {verdict.replace('_', ' ')} — {VERDICT_WORDS.get(verdict, verdict)}.")
    match = journey.get("match")
    domain = journey.get("recipient_domain") or "the recipient's domain"
    if match == "approximate":
        parts.append("The trace rows were matched by recipient and time only (no shared "
                     "message ID): the match is approximate, check the times.")
    elif verdict == "accepted_no_trace":
        if journey.get("trace_covers_domain"):
            parts.append(f"A trace covering {domain} is loaded, yet none of its rows carries "
                         "this message's ID: ask the recipient's admin to search for it.")
        else:
            parts.append(f"No trace of {domain} is loaded: upload the recipient server's "
                         "message trace to see what happened after acceptance.")
    elif match == "none" and verdict in ("rejected", "expired", "deferred"):
        parts.append("No trace row matched; the verdict comes from the ESP's reply alone.")
    return " ".join(p for p in parts if p)
