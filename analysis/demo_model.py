"""Ground-truth records of the demo campaign and the ID / time helpers its writers share."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

# Fixed offsets instead of zoneinfo: no tz database needed at run time. SAST has no DST;
# Paris is on CET (+01:00) from 2025-10-26, and the Postfix log covers 3-6 November only.
SAST = timezone(timedelta(hours=2), "SAST")
CET = timezone(timedelta(hours=1), "CET")

ESP_MTA, ESP_IP = "mta4.esp.example.net", "198.51.100.24"
ESP_MTA5, ESP_IP5 = "mta5.esp.example.net", "198.51.100.25"  # new IP, not in SPF (November)
BOUNCE_MX, BOUNCE_IP = "mx.bounce.esp.example.net", "198.51.100.30"
FROM_ADDR, FROM_NAME = "news@brightpath.example.com", "BrightPath Outdoors"
SENDER_DOMAIN = "brightpath.example.com"

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass
class Attempt:
    """One SMTP attempt as the ESP saw it: when, the reply code and the full reply text."""

    at: datetime
    code: int
    text: str
    key: str = ""  # catalogue key of the reply text (demo_replies.REPLIES)


@dataclass
class Msg:
    """One campaign message to one recipient, with everything both ends will log about it."""

    campaign: str
    subject: str
    email: str
    name: str
    domain: str
    system: str
    trace: str | None  # key of the trace file that covers it (November only), else None
    sent: datetime  # first attempt, UTC
    message_id: str  # RFC 5322 Message-ID with <>
    verp: str  # envelope sender (Return-Path)
    size: int
    seq: int  # send order within the campaign
    mta: str = ESP_MTA
    mta_ip: str = ESP_IP
    scenario: str = "delivered"
    category: str | None = None  # category of the ESP-visible failure, if any
    attempts: list[Attempt] = field(default_factory=list)  # temporary failures, then a 5xx
    accepted: Attempt | None = None  # the 250 reply
    remote_id: str = ""  # the ID the ESP extracted from the 250 reply
    later_bounce: Attempt | None = None  # NDR after acceptance
    expired_at: datetime | None = None  # the ESP gave up retrying
    bounce_type: str = ""
    bounce_reason: str = ""
    sent_only: bool = False  # the ESP recorded "Sent" and nothing else
    verdict: str = ""
    engagement: list[tuple[str, datetime]] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)  # IDs the trace writers reuse

    @property
    def local(self) -> str:
        return self.email.split("@", 1)[0]

    @property
    def rejected(self) -> Attempt | None:
        """The final permanent refusal at SMTP time, if any."""
        return self.attempts[-1] if self.attempts and self.attempts[-1].code >= 500 else None

    @property
    def deferrals(self) -> list[Attempt]:
        return [a for a in self.attempts if a.code < 500]


@dataclass
class Noise:
    """A trace-side message that belongs to other mail (must stay unmatched)."""

    at: datetime
    sender: str
    recipient: str
    subject: str
    message_id: str
    kind: str  # "internal", "inbound", "outbound", "test_send", "spam", ...
    size: int = 12000
    ip: str = ""  # connecting client for inbound mail


def hexs(rng: random.Random, n: int, upper: bool = False) -> str:
    """n random hex digits."""
    s = f"{rng.getrandbits(4 * n):0{n}x}"
    return s.upper() if upper else s


def b62(value: int, width: int) -> str:
    """value in base 62, zero-padded to width (Exim message IDs)."""
    out = ""
    while value:
        value, r = divmod(value, 62)
        out = B62[r] + out
    return out.rjust(width, "0")[-width:]


def guid(rng: random.Random, stamp: datetime | None = None) -> str:
    """A Microsoft-style network message ID (the last group grows with time, as EXO's do)."""
    tail = "08de1b" + hexs(rng, 6) if stamp else hexs(rng, 12)
    return f"{hexs(rng, 8)}-{hexs(rng, 4)}-{hexs(rng, 4)}-{hexs(rng, 4)}-{tail}"


def msgid_for(at: datetime, rng: random.Random) -> str:
    """The ESP's Message-ID: <YYYYMMDDHHMMSS.<12 hex>@mta4.esp.example.net> (UTC second)."""
    return f"<{at.strftime('%Y%m%d%H%M%S')}.{hexs(rng, 12)}@{ESP_MTA}>"


def gmail_token(rng: random.Random) -> str:
    """A Gmail queue token as it appears before '- gsmtp'."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    tail = rng.choice(letters) + rng.choice(letters)
    return (f"{hexs(rng, 13)}-{hexs(rng, 11)}si{rng.randrange(10**6, 10**8)}"
            f"{tail}.{rng.randrange(1, 400)}")


def sendmail_qid(at: datetime, rng: random.Random) -> str:
    """Sendmail queue ID: UTC time in base 62 (year mod 60, month, day, h, m, s), seq, pid."""
    t = at.astimezone(UTC)
    head = "".join(B62[v] for v in ((t.year - 1900) % 60, t.month - 1, t.day, t.hour,
                                    t.minute, t.second))
    return head + rng.choice(B62[10:]) + rng.choice(B62) + f"{rng.randrange(1000, 99999):06d}"


def exim_id(at: datetime, rng: random.Random) -> str:
    """Exim >= 4.97 message ID: 6-11-4 base-62 parts (time, pid, sub-second)."""
    return (f"{b62(int(at.timestamp()), 6)}-{b62(rng.randrange(2000, 90000), 11)}-"
            f"{b62(rng.randrange(0, 62**4), 4)}")


def iso_ms(at: datetime) -> str:
    """UTC ISO 8601 with milliseconds and Z (EXO reports, MSGTRK, Google ELS)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def us_date(at: datetime) -> str:
    """en-US culture date as PowerShell / the EAC write it: 11/4/2025 9:00:05 AM (UTC)."""
    t = at.astimezone(UTC)
    hour = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t.year} {hour}:{t.minute:02d}:{t.second:02d} " + (
        "AM" if t.hour < 12 else "PM")


def sast(at: datetime) -> str:
    """The ESP export's date: account time zone (SAST), no offset."""
    return at.astimezone(SAST).strftime("%Y-%m-%d %H:%M:%S")


def syslog_stamp(at: datetime) -> str:
    """Traditional syslog stamp in Paris local time, day space-padded: 'Nov  4 10:00:17'."""
    t = at.astimezone(CET)
    return f"{t.strftime('%b')} {t.day:2d} {t.strftime('%H:%M:%S')}"


def csv_line(values: list[object], quote_all: bool = True) -> str:
    """One CSV record: every field quoted (PowerShell / TouchBasePro style) or only as needed."""
    out = []
    for v in values:
        s = "" if v is None else str(v)
        if quote_all or any(c in s for c in ',"\r\n'):
            s = '"' + s.replace('"', '""') + '"'
        out.append(s)
    return ",".join(out)


def jitter(rng: random.Random, lo: float, hi: float) -> timedelta:
    """A random positive duration between lo and hi seconds (millisecond resolution)."""
    return timedelta(milliseconds=rng.randrange(int(lo * 1000), int(hi * 1000) + 1))


@dataclass(frozen=True)
class Written:
    """One generated file: its bytes and what the manifest says about it."""

    name: str
    data: bytes
    rows: int  # data rows / log lines a parser reads (header lines excluded)
    key: str  # the file's kind, a key of demo.FILE_KINDS
    domains: tuple[str, ...] = ()
    trace_only: int = 0  # trace-side messages that belong to other mail (stay unmatched)
