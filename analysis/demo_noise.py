"""Other mail in the partners' traces: internal, inbound, outbound, spam and one ESP test send.

Noise times keep clear of the campaign window (09:00-10:40 UTC on 4 November) so that a
correct join leaves every noise message unmatched (STORY.md "Noise").
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .demo_model import ESP_IP, UTC, Msg, Noise, hexs, jitter, msgid_for


def _d(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 11, day, hour, minute, tzinfo=UTC)


WINDOWS = ((_d(2, 8), _d(2, 18)), (_d(3, 7), _d(3, 18)), (_d(4, 6), _d(4, 8, 25)),
           (_d(4, 10, 45), _d(4, 18)), (_d(5, 7), _d(5, 17)))
EXTERNAL = ("newsletter@outfitters.example.com", "orders@supplier.example.org",
            "noreply@calendar.example.com", "billing@utility.example.net",
            "alerts@monitor.example.com", "events@chamber.example.org")
OUT_TO = ("bookings@lodge.example.net", "client@riverside.example.com",
          "sales@partner.example.org", "accounts@vendor.example.net")
SUBJECTS = ("Minutes of Monday's meeting", "RE: Stock update", "Room booking confirmed",
            "Quarterly review — agenda", "Lunch on Thursday?", "FW: Invoice 2231",
            "Shift roster week 45", "Your parcel is on its way", "Reminder: timesheets",
            "Webinar: winter safety", "Proposal v2", "Password expiry reminder")
SPAM = ("promo@discounts.example.org", "You have won a prize")


STATUS = {  # trace status words by noise kind, cycled so that every value appears
    "eac": {"internal": ("Delivered", "Expanded", "Delivered"), "inbound": ("Delivered",),
            "outbound": ("Delivered", "Pending", "Failed"), "spam": ("Quarantined",
                                                                    "Filtered as spam"),
            "test_send": ("Delivered",)},
    "v1": {"internal": ("Delivered", "Expanded"), "inbound": ("Delivered",),
           "outbound": ("Delivered", "Failed"), "spam": ("FilteredAsSpam", "Quarantined"),
           "test_send": ("Delivered",)},
}


def status_of(scheme: str, noise: list[Noise]) -> list[str]:
    """A status per noise message, by kind; the newest internal one is still in progress."""
    seen: dict[str, int] = {}
    out = []
    for n in noise:
        words = STATUS[scheme][n.kind]
        out.append(words[seen.get(n.kind, 0) % len(words)])
        seen[n.kind] = seen.get(n.kind, 0) + 1
    last = max((i for i, n in enumerate(noise) if n.kind == "internal"), default=None)
    if last is not None:
        out[last] = "Getting status" if scheme == "eac" else "GettingStatus"
    return out


def noise_times(rng: random.Random, count: int, until: datetime | None = None,
                day_only: bool = False) -> list[datetime]:
    """count random times in the quiet windows (before `until`, within 48 h of it)."""
    wins = [(a, b) for a, b in WINDOWS
            if (not day_only or a.day == 4) and (until is None or until - timedelta(hours=48) < a)
            and (until is not None or a.day >= 3)]
    if until is not None:
        wins = [(a, min(b, until)) for a, b in wins if a < until]
    out = []
    for _ in range(count):
        a, b = rng.choice(wins)
        out.append(a + jitter(rng, 0, (b - a).total_seconds()))
    return sorted(out)


def noise_for(domain: str, everyone: list[Msg], rng: random.Random, count: int,
              until: datetime | None = None, day_only: bool = False) -> list[Noise]:
    """count messages of other mail for domain's users (the first is an ESP test send)."""
    users = sorted({m.email for m in everyone if m.domain == domain
                    and m.scenario == "delivered" and not m.extra.get("defer_key")})
    host = f"mail.{domain}"
    out: list[Noise] = []
    for i, at in enumerate(noise_times(rng, count, until, day_only)):
        kind = "test_send" if i == 0 else rng.choice(
            ("internal",) * 9 + ("inbound",) * 7 + ("outbound",) * 2 + ("spam",))
        me = rng.choice(users)
        subject = rng.choice(SUBJECTS)
        ip = ""
        if kind == "internal":
            sender, rcpt = rng.choice(users), me
            mid = f"<{hexs(rng, 32, True)}@{host}>"
        elif kind == "inbound":
            sender, rcpt = rng.choice(EXTERNAL), me
            mid = f"<{hexs(rng, 8)}.{hexs(rng, 4)}.{hexs(rng, 12)}@{sender.split('@')[1]}>"
        elif kind == "outbound":
            sender, rcpt = me, rng.choice(OUT_TO)
            mid = f"<{hexs(rng, 32, True)}@{host}>"
        elif kind == "spam":
            (sender, subject), rcpt = SPAM, me
            mid = f"<{hexs(rng, 16)}@{sender.split('@')[1]}>"
        else:  # the ESP's proof send, the day before the campaign: no ESP row
            at = at if day_only else datetime(2025, 11, 3, 15, 42, 10, tzinfo=UTC)
            sender, rcpt = f"bnc-{hexs(rng, 8)}@bounce.esp.example.net", me
            subject = "[TEST] November Newsletter – Trail season is here"
            mid, ip = msgid_for(at, rng), ESP_IP
        out.append(Noise(at=at, sender=sender, recipient=rcpt, subject=subject,
                         message_id=mid, kind=kind, size=rng.randrange(4000, 90000), ip=ip))
    return sorted(out, key=lambda n: n.at)
