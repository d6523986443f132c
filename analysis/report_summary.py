"""The executive summary: what happened, the top causes and what to do first, in words.

Every sentence is computed from the report's numbers and the classification's advice;
nothing here is free-written per campaign.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .charts import label

if TYPE_CHECKING:
    from .redact import Redactor
    from .report import ReportData

# How much one failure of a category weighs when ordering "what to do first": blocks and
# authentication failures hit every later message to that domain; throttling and
# greylisting mostly resolve themselves on retry.
PRIORITY = {"authentication": 5.0, "spam_or_reputation": 3.0, "policy_or_configuration": 2.0,
            "invalid_address": 2.0, "connectivity": 1.5, "mailbox_unavailable": 1.0,
            "unknown": 1.0, "throttling": 0.5}
FILTERED_ADVICE = ("Check that SPF, DKIM and DMARC pass and align for the sending domain, "
                   "review the content and links, and send to engaged subscribers; ask the "
                   "domain's IT team which rule or verdict the trace shows.")
NO_TRACE_ADVICE = ("Ask those domains' IT teams for a message trace of the send window (the "
                   "Guide says how to export one), so these messages get a verdict.")


@dataclass(frozen=True)
class Summary:
    """The executive summary: a headline, paragraphs and ranked actions."""

    headline: str
    paragraphs: list[str]
    causes: list[str]
    actions: list[str]

    def redacted(self, r: Redactor) -> Summary:
        """The same summary with every address redacted."""
        return replace(self, headline=r.text(self.headline),
                       paragraphs=[r.text(p) for p in self.paragraphs],
                       causes=[r.text(c) for c in self.causes],
                       actions=[r.text(a) for a in self.actions])

    def as_text(self) -> str:
        """Plain text (for the Excel Summary sheet and the page)."""
        lines = [self.headline, "", *self.paragraphs]
        if self.causes:
            lines += ["", "Top causes:", *(f"• {c}" for c in self.causes)]
        if self.actions:
            lines += ["", "What to do first:", *(f"{i}. {a}" for i, a in
                                                 enumerate(self.actions, 1))]
        return "\n".join(lines)


def pct(n: float, total: float) -> str:
    """A share as a readable percentage ('0.4%', '12%')."""
    if not total:
        return "0%"
    share = n / total
    return f"{share:.1%}" if 0 < share < 0.1 else f"{share:.0%}"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _when(data: ReportData) -> str:
    first, last = data.first_sent, data.last_sent
    if first is None or last is None:
        return ""
    a, b = f"{first:%Y-%m-%d %H:%M}", f"{last:%Y-%m-%d %H:%M}"
    if a == b:
        return f", sent {a} UTC"
    return f", sent {a} – {b[11:] if a[:10] == b[:10] else b} UTC"


def _domains_of(data: ReportData, category: str) -> list[str]:
    rows = data.categories[data.categories["category"] == category]
    return list(rows["domains"].iloc[0]) if len(rows) else []


def _were(n: int, what: str) -> str:
    return f"{n:,} {'was' if n == 1 else 'were'} {what}"


def summarise(data: ReportData) -> Summary:
    """The executive summary of a report's data."""
    k = data.kpis
    sent = int(k.get("sent", 0))
    name = data.title.removeprefix("Delivery report: ").removeprefix("Delivery report")
    who = name or "These messages"
    if not sent:
        return Summary(f"{who}: no messages match these filters.",
                       ["Widen the filters (campaign, dates, domains, codes) or load the "
                        "ESP export on the Upload page."], [], [])
    v = dict(zip(data.verdicts["verdict"], data.verdicts["journeys"], strict=False))
    n = {key: int(v.get(key, 0)) for key in (
        "delivered", "forwarded", "accepted_no_trace", "junk", "quarantined", "dropped",
        "bounced_after_accept", "rejected", "expired", "deferred", "unknown")}
    domains = data.domains
    headline = f"{who}: {_count(sent, 'message')} to {_count(domains, 'domain')}{_when(data)}."
    paras = []
    accepted = int(k.get("accepted", 0))
    refused = [f"{n['rejected']:,} rejected at SMTP time" if n["rejected"] else "",
               f"{n['expired']:,} expired after retries" if n["expired"] else "",
               f"{n['deferred']:,} still deferred" if n["deferred"] else "",
               f"{n['unknown']:,} with no known outcome" if n["unknown"] else ""]
    text = (f"{accepted:,} ({pct(accepted, sent)}) were accepted by the recipients' servers")
    not_accepted = sent - accepted
    text += (f"; {not_accepted:,} ({pct(not_accepted, sent)}) were not: "
             f"{_list([x for x in refused if x])}." if not_accepted else ".")
    paras.append(text)
    fate = [f"{n['delivered']:,} reached the inbox" if n["delivered"] else "",
            _were(n["forwarded"], "forwarded on") if n["forwarded"] else "",
            f"{n['junk']:,} went to junk" if n["junk"] else "",
            _were(n["quarantined"], "quarantined") if n["quarantined"] else "",
            _were(n["dropped"], "silently dropped") if n["dropped"] else "",
            f"{n['bounced_after_accept']:,} bounced after being accepted"
            if n["bounced_after_accept"] else ""]
    fate = [x for x in fate if x]
    if fate:
        paras.append(f"Where a trace shows what happened next, {_list(fate)}.")
    if n["accepted_no_trace"]:
        covered = int(data.match.get("no_trace_but_covered", 0))
        paras.append(f"{_count(n['accepted_no_trace'], 'message was', 'messages were')} "
                     "accepted with no trace to show what happened next"
                     + (f" ({covered:,} at domains whose trace was loaded: the trace may not "
                        "cover the send window)" if covered else "") + ".")
    rate = float(data.match.get("match_rate", 0.0))
    paras.append(f"{pct(rate, 1)} of the messages matched a recipient-side trace "
                 f"({data.match.get('exact', 0):,} by ID, "
                 f"{data.match.get('approximate', 0):,} by recipient and time).")

    cats = data.categories
    total_fail = int(cats["failures"].sum()) if len(cats) else 0
    causes = []
    for row in cats.head(3).itertuples():
        where = _domains_of(data, row.category)
        causes.append(f"{label(row.category).capitalize()}: {_count(row.failures, 'failure')} "
                      f"({pct(row.failures, total_fail)} of failures; {row.reasons})"
                      + (f", mostly at {_list(where)}" if where else "") + ".")
    filtered = n["junk"] + n["quarantined"] + n["dropped"]
    if filtered:
        causes.append(f"Filtering after acceptance: {filtered:,} messages in junk, quarantine "
                      "or dropped.")
    if data.incidents is not None and len(data.incidents) and total_fail:
        top = data.incidents.iloc[0]
        paras.append(f"The domain with most failures is {top['domain']} "
                     f"({_count(int(top['failures']), 'failure')}, "
                     f"{pct(int(top['failures']), total_fail)} of all failures, mostly "
                     f"{label(str(top['main_category'] or 'unknown'))}).")
    return Summary(headline, paras, causes, _actions(data, n, filtered))


def _actions(data: ReportData, n: dict[str, int], filtered: int) -> list[str]:
    """What to do, most urgent first: category advice weighted by priority and count."""
    ranked: list[tuple[float, str]] = []
    for row in data.categories.itertuples():
        still_failing = row.failures - row.delivered_later
        if still_failing <= 0:
            continue  # e.g. greylisting that a retry delivered: nothing to do
        advice = " ".join(row.advice) or "Read the reply texts in the appendix."
        where = _domains_of(data, row.category)
        extra = ""
        if row.to_suppress:
            extra = (f" Remove {_count(row.to_suppress, 'address', 'addresses')} "
                     "(the Excel report's Suppressions sheet lists them).")
        ranked.append((PRIORITY.get(row.category, 1.0) * still_failing,
                       f"{label(row.category).capitalize()} ({_count(still_failing, 'message')}"
                       + (f", {_list(where)}" if where else "") + f"): {advice}{extra}"))
    if filtered:
        ranked.append((2.0 * filtered, f"Junk / quarantine ({_count(filtered, 'message')}): "
                                       f"{FILTERED_ADVICE}"))
    ranked.sort(key=lambda t: -t[0])
    # Messages with no trace at a domain whose trace *was* loaded are worth a question to
    # that domain; most domains never send a trace, so the rest is normal and not listed.
    covered = int(data.match.get("no_trace_but_covered", 0))
    if covered and len(ranked) < 5:
        ranked.append((0.0, f"No trace ({_count(covered, 'message')} accepted at domains whose "
                            f"trace was loaded, but missing from it): {NO_TRACE_ADVICE}"))
    return [text for _, text in ranked[:5]]
