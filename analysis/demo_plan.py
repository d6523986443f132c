"""The demo campaign's ground truth: recipients, what happened to each message, and why."""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from .demo_model import ESP_IP5, ESP_MTA5, UTC, Msg, hexs, jitter, msgid_for
from .demo_replies import (
    BY_NAME,
    DOMAINS,
    FIRST,
    HARD,
    LAST,
    PERMANENT,
    REPLIES,
    ROLE_ACCOUNTS,
    SOFT_REASON,
    SUBJECTS,
    TEMPORARY,
    accept,
    exo_host,
    render,
)


@dataclass(frozen=True)
class Campaign:
    """One newsletter send."""

    name: str
    start: datetime  # UTC


@dataclass(frozen=True)
class Recipient:
    """A list member."""

    email: str
    name: str
    domain: str
    new: bool  # subscribed after the October send


CAMPAIGNS = (
    Campaign("October Newsletter", datetime(2025, 10, 7, 9, 0, 2, tzinfo=UTC)),
    Campaign("November Newsletter", datetime(2025, 11, 4, 9, 0, 3, tzinfo=UTC)),
)
TRACED = CAMPAIGNS[1].name  # the partners' traces cover the November send only
EXPORT_AT = datetime(2025, 11, 6, 16, 0, tzinfo=UTC)  # when the ESP export was taken
RETRY_H = (0.25, 1, 3, 7, 15, 27, 45, 63)  # ESP retry schedule, hours after the first try
GIVE_UP = timedelta(hours=72)

# November scenarios per traced domain: (scenario, count, reply key). Everything else on
# those domains is delivered (pine.example.org relays it on: forwarded).
QUOTAS: dict[str, tuple[tuple[str, int, str | None], ...]] = {
    "alpine.example.org": (("junk", 12, None), ("bounce_after", 2, "exo_full"),
                           ("missing", 3, None), ("rejected", 2, "exo_dbeb"),
                           ("rejected", 1, "ms_133"), ("defer_accept", 2, "exo_busy")),
    "harbor.example.org": (("quarantined", 6, None), ("pending", 2, None),
                           ("bounce_after", 1, "exo_full"), ("rejected", 2, "exo_dbeb")),
    "cedar.example.com": (("quarantined", 3, None), ("getting_status", 3, None),
                          ("pending", 1, None), ("rejected", 1, "exo_spf")),
    "maplegrove.example.com": (("junk", 8, None), ("rejected", 1, "gmail_511"),
                               ("rejected", 1, "gmail_521"), ("rejected", 1, "gmail_571"),
                               ("defer_accept", 2, "gmail_421"), ("deferred", 1, "gmail_422")),
    "riverbend.example.net": (("junk", 3, None), ("rejected", 3, "gmail_dmarc"),
                              ("rejected", 1, "gmail_511"), ("deferred", 2, "gmail_422"),
                              ("defer_accept", 1, "gmail_428")),
    "birchwood.example.com": (("junk", 2, None), ("rejected", 1, "gmail_dmarc"),
                              ("defer_accept", 1, "gmail_428")),
    "fabrikam.example.net": (("bounce_after", 3, "exchange_ndr"), ("dropped", 3, None),
                             ("missing", 2, None), ("rejected", 1, "exchange_cfa")),
    "oakridge.example.org": (("dropped", 3, None), ("rejected", 2, "postfix_local_511"),
                             ("rejected", 1, "postfix_spf"), ("defer_accept", 4, "greylist"),
                             ("deferred", 2, "postfix_full_422"), ("missing", 2, None)),
    "pine.example.org": (("rejected", 2, "postfix_virtual_511"), ("defer_accept", 1, "greylist")),
    "quarry.example.net": (("bounce_after", 3, "dovecot_522"), ("rejected", 2, "spamhaus")),
}
LATEST = {"getting_status", "pending"}  # the V1 trace ran just after the last cedar send
AFTER_ACCEPT = {"exo": "exo_full", "exchange": "exchange_ndr", "postfix": "dovecot_522"}
NEVER_ACCEPT = {"typo": "host_unknown", "dead": "refused", "nodns": "no_dns"}
VERDICT_OF = {"delivered": "delivered", "junk": "junk", "quarantined": "quarantined",
              "dropped": "dropped", "forwarded": "forwarded", "missing": "accepted_no_trace",
              "pending": "deferred", "getting_status": "unknown"}


def ascii_fold(text: str) -> str:
    """Lower-case ASCII form of a name for an address ('Søren' -> 'soren')."""
    text = text.replace("ø", "o").replace("Ø", "O").replace("'", "")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def domain_counts(n: int) -> dict[str, int]:
    """How many list members each domain gets (largest remainder over the weights)."""
    typo = {d.name: (2 if n >= 400 else 1) + (1 if d.name.startswith("gm") else 0)
            for d in DOMAINS if d.system == "typo"}
    weighted = [d for d in DOMAINS if d.weight > 0]
    floor = 8 if n >= 600 else 1
    rest = n - sum(typo.values()) - floor * len(weighted)
    total_w = sum(d.weight for d in weighted)
    shares = {d.name: rest * d.weight / total_w for d in weighted}
    counts = {k: floor + int(v) for k, v in shares.items()}
    left = n - sum(typo.values()) - sum(counts.values())
    for k in sorted(shares, key=lambda k: (-(shares[k] % 1), k))[:left]:
        counts[k] += 1
    return counts | typo


def make_recipients(n: int, rng: random.Random) -> list[Recipient]:
    """The list: unique invented people over every domain, the newest members last."""
    seen: set[str] = set()
    old: list[Recipient] = []
    new: list[Recipient] = []
    n_new = max(round(n * 0.05), 3)
    counts = domain_counts(n)
    for dom, count in counts.items():
        for i in range(count):
            if dom == "oakridge.example.org" and i < len(ROLE_ACCOUNTS):
                local, name = ROLE_ACCOUNTS[i], f"Oakridge {ROLE_ACCOUNTS[i].title()}"
            else:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                name = f"{first} {last}"
                f, la = ascii_fold(first), ascii_fold(last)
                local = rng.choice((f"{f}.{la}", f"{f}.{la}", f"{f[0]}.{la}", f"{f}{la[0]}",
                                    f"{f}_{la}", f"{f}.{la}{rng.randrange(1, 99)}"))
            while f"{local}@{dom}" in seen:
                local += str(rng.randrange(10))
            seen.add(f"{local}@{dom}")
            rec = Recipient(f"{local}@{dom}", name, dom, BY_NAME[dom].system == "typo")
            (new if rec.new else old).append(rec)
    rng.shuffle(old)
    grow = n_new - len(new)  # the rest of the newcomers come from ordinary domains
    cut = len(old) - max(grow, 0)
    newcomers = [Recipient(r.email, r.name, r.domain, True) for r in old[cut:]]
    return old[:cut] + newcomers + new


def _messages(campaign: Campaign, audience: list[Recipient], rng: random.Random) -> list[Msg]:
    order = audience[:]
    rng.shuffle(order)
    t = campaign.start
    out = []
    for seq, r in enumerate(order):
        if seq:
            t += jitter(rng, 0.5, 1.5)
        d = BY_NAME[r.domain]
        out.append(Msg(
            campaign=campaign.name, subject=SUBJECTS[campaign.name], email=r.email,
            name=r.name, domain=r.domain, system=d.system,
            trace=d.trace if campaign.name == TRACED else None, sent=t,
            message_id=msgid_for(t, rng), verp=f"bnc-{hexs(rng, 8)}@bounce.esp.example.net",
            size=48200 + rng.randrange(0, 40), seq=seq))
    return out


def _assign_quotas(msgs: list[Msg], rng: random.Random) -> None:
    by_domain: dict[str, list[Msg]] = {}
    for m in msgs:
        if m.trace:
            by_domain.setdefault(m.domain, []).append(m)
    for dom, group in by_domain.items():
        free = group[:]
        rng.shuffle(free)
        for scenario, count, key in QUOTAS.get(dom, ()):
            if scenario in LATEST:
                pool = sorted(free, key=lambda m: m.sent, reverse=True)
            elif scenario == "dropped" and dom == "oakridge.example.org":
                pool = [m for m in free if m.local in ROLE_ACCOUNTS]
            else:
                pool = [m for m in free if m.local not in ROLE_ACCOUNTS]
            for m in pool[:count]:
                m.scenario = scenario
                m.extra["key"] = key
                free.remove(m)
        for m in free:
            m.scenario = "forwarded" if dom == "pine.example.org" else "delivered"


def _random_scenario(m: Msg, november: bool, rng: random.Random) -> None:
    temp_end = "deferred" if november else "expired"
    d = BY_NAME[m.domain]
    if m.system in NEVER_ACCEPT:
        key = NEVER_ACCEPT[m.system]
        m.scenario = "rejected" if REPLIES[key][2][0] == "5" else temp_end
        m.extra["key"] = key
        return
    if november and d.outage:
        m.scenario, m.extra["key"] = temp_end, d.outage
        return
    perm = [k for k in PERMANENT[m.system]
            if november or REPLIES[k][0] != "authentication"]
    temps = [k for k in TEMPORARY[m.system] if k != "greylist"] or ["greylist"]
    r = rng.random()
    p_perm = 0.04 if november else 0.03
    if r < p_perm:
        auth = [k for k in perm if REPLIES[k][0] == "authentication"]
        pick = auth if auth and november and rng.random() < 0.35 else perm
        m.scenario, m.extra["key"] = "rejected", rng.choice(pick)
    elif r < p_perm + 0.02:
        m.scenario, m.extra["key"] = "defer_accept", rng.choice(TEMPORARY[m.system])
    elif r < p_perm + 0.026:
        m.scenario, m.extra["key"] = temp_end, rng.choice(temps)
    elif r < p_perm + 0.029 and m.system in AFTER_ACCEPT:
        m.scenario, m.extra["key"] = "bounce_after", AFTER_ACCEPT[m.system]
    else:
        m.scenario = "delivered"


def _force_coverage(msgs: list[Msg], rng: random.Random) -> None:
    """Make every catalogue reply occur at least twice (rare ones may miss at random)."""
    used = Counter(str(m.extra.get("key")) for m in msgs)
    for key, (category, systems, text) in REPLIES.items():
        need = 2 - used[key]
        if need <= 0 or key == "greylist":
            continue
        temporary = text[0] == "4"
        pool = [m for m in msgs if m.scenario == "delivered" and not m.trace
                and m.system in systems
                and (category != "authentication" or m.campaign == TRACED)]
        rng.shuffle(pool)
        for m in pool[:need]:
            if key in AFTER_ACCEPT.values():
                m.scenario = "bounce_after"
            elif temporary:
                m.scenario = "deferred" if m.campaign == TRACED else "expired"
            else:
                m.scenario = "rejected"
            m.extra["key"] = key


def _ids_for(m: Msg, rng: random.Random, counters: dict[str, int]) -> None:
    """The accepting host's IDs that both the 250 reply and the trace will show."""
    if m.system in ("exo", "outlook"):
        eu = not m.domain.startswith(("harbor", "cedar", "humongous", "lakeshore"))
        m.extra["host"] = exo_host(rng, eu)
        base = counters.setdefault(m.domain, 13915694305000 + rng.randrange(10**9))
        counters[m.domain] = base + rng.randrange(20, 120)
        m.extra["internal_id"] = counters[m.domain]
    elif m.system == "exchange":
        server = "EXCH02" if m.scenario == "missing" else "EXCH01"
        m.extra["host"] = f"{server}.{m.domain}"
        base = counters.setdefault(m.domain, 3083786518400 + rng.randrange(10**6))
        counters[m.domain] = base + rng.randrange(3, 9)
        m.extra["internal_id"] = counters[m.domain]
    elif m.system == "postfix":
        qid = hexs(rng, rng.choice((10, 11)), upper=True)
        while qid in counters:
            qid = hexs(rng, 11, upper=True)
        counters[qid] = 1
        m.extra["qid"] = qid
        m.extra["reply_style"] = {"lucerne.example.com": "plain",
                                  "treyresearch.example.net": "bdat"}.get(m.domain, "enhanced")


def _realize(m: Msg, rng: random.Random, counters: dict[str, int]) -> None:
    """Turn a scenario into the replies the ESP received, and their times."""
    key = m.extra.get("key")
    if key and REPLIES[str(key)][0] == "authentication":
        m.mta, m.mta_ip = ESP_MTA5, ESP_IP5  # the November SPF/DKIM gap: new IP, unsigned
    if key:
        m.category = REPLIES[str(key)][0]
    t = m.sent
    if m.scenario == "sent_only":
        m.sent_only = True
        return
    if m.scenario == "rejected":
        m.attempts = [render(str(key), m, t, rng)]
        hard = m.category in HARD or m.extra.get("key") in ("gmail_521", "yahoo_disabled",
                                                           "sendmail_521")
        m.bounce_type = "Hard" if hard else "Soft"
        m.bounce_reason = "Hard Bounce" if hard else SOFT_REASON.get(
            str(m.category), "Soft Bounce - General")
        return
    if m.scenario in ("deferred", "expired"):
        times = [t] + [t + timedelta(hours=h) + jitter(rng, 0, 40) for h in RETRY_H]
        if m.scenario == "deferred":
            times = [x for x in times if x < EXPORT_AT - timedelta(minutes=20)]
        m.attempts = [render(str(key), m, x, rng) for x in times]
        if m.scenario == "expired":
            m.expired_at = t + GIVE_UP + jitter(rng, 1, 60)
            m.bounce_type = "Soft"
            m.bounce_reason = ("Soft Bounce - Dns Failure" if key == "no_dns" else
                               SOFT_REASON.get(str(m.category), "Soft Bounce - General"))
        return
    if m.scenario == "defer_accept":
        tries = 1 if key == "greylist" else rng.choice((1, 1, 2))
        m.attempts = [render(str(key), m, t, rng)]
        for _ in range(tries - 1):
            t += timedelta(minutes=15) + jitter(rng, 0, 20)
            m.attempts.append(render(str(key), m, t, rng))
        t += (timedelta(minutes=6) if key == "greylist" else timedelta(minutes=15)) + jitter(
            rng, 0, 30)
        m.scenario = "delivered" if m.domain != "pine.example.org" else "forwarded"
        m.extra["defer_key"] = key
    _ids_for(m, rng, counters)
    at = t + jitter(rng, 0.1, 0.9)
    m.accepted, m.remote_id = accept(m, at, rng)
    if m.scenario == "bounce_after":
        m.later_bounce = render(str(key), m, at + jitter(rng, 3, 40), rng)
        m.bounce_type = "Hard" if m.category == "invalid_address" else "Soft"
        m.bounce_reason = "Hard Bounce" if m.bounce_type == "Hard" else SOFT_REASON[
            "mailbox_unavailable"]


def verdict(m: Msg) -> str:
    """The journey verdict DESIGN.md defines, from the generator's own ground truth."""
    if m.sent_only:
        return "unknown"
    if m.scenario in ("rejected", "deferred", "expired"):
        return m.scenario
    if m.scenario == "bounce_after":
        return "bounced_after_accept"
    if not m.trace:
        return "accepted_no_trace"
    return VERDICT_OF[m.scenario]


def _engage(m: Msg, november: bool, rng: random.Random) -> None:
    """Opens, clicks, unsubscribes and complaints for messages that reached a mailbox."""
    if not m.accepted or m.scenario in ("quarantined", "dropped", "bounce_after"):
        return
    if m.system in ("outlook", "yahoo") and rng.random() < 0.008:  # feedback loops; no Gmail
        m.engagement = [("Marked as spam", m.accepted.at + timedelta(hours=rng.expovariate(1 / 8)))]
        m.engagement = [(e, x) for e, x in m.engagement if x < (EXPORT_AT if november else
                                                                m.sent + timedelta(days=7))]
        return
    p_open = (0.24 if november else 0.28) * (0.12 if m.scenario == "junk" else 1)
    if rng.random() >= p_open:
        return
    limit = EXPORT_AT if november else m.sent + timedelta(days=7)
    t = m.accepted.at + timedelta(minutes=2) + timedelta(hours=rng.expovariate(1 / 3))
    events = [("Opened", t)]
    if rng.random() < 0.2:
        events.append(("Opened", t + timedelta(hours=rng.expovariate(1 / 6))))
    if rng.random() < (0.27 if november else 0.3):
        events.append(("Clicked", t + jitter(rng, 8, 300)))
    if rng.random() < 0.02:
        events.append(("Unsubscribed", t + jitter(rng, 20, 600)))
    m.engagement = sorted((e, x) for e, x in events if x < limit)


def plan(recipients: int, seed: int) -> list[Msg]:
    """Every message of both campaigns with its replies, IDs, engagement and verdict."""
    rng = random.Random(f"delivery-trace-demo:{seed}")
    people = make_recipients(recipients, rng)
    suppressed: set[str] = set()
    counters: dict[str, int] = {}
    out: list[Msg] = []
    for campaign in CAMPAIGNS:
        november = campaign.name == TRACED
        audience = [r for r in people if (november or not r.new) and r.email not in suppressed]
        msgs = _messages(campaign, audience, rng)
        _assign_quotas(msgs, rng)
        for m in msgs:
            if not m.trace:
                _random_scenario(m, november, rng)
        _force_coverage(msgs, rng)
        quiet = [m for m in msgs if m.scenario == "delivered" and not m.trace
                 and m.system in ("gmail", "outlook", "yahoo", "postfix")]
        for m in rng.sample(quiet, min(len(quiet), 5 if november else 2)):
            m.scenario = "sent_only"  # the ESP lost the outcome: a bare "Sent" row
        for m in msgs:
            _realize(m, rng, counters)
            m.verdict = verdict(m)
            _engage(m, november, rng)
            if m.bounce_type == "Hard" or any(
                    e in ("Unsubscribed", "Marked as spam") for e, _ in m.engagement):
                suppressed.add(m.email)
        out.extend(msgs)
    return out
