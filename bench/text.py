"""Vectorised formatting helpers and the pools of other people's mail the traces are full of."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import world as W

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TRACE_START = int(np.datetime64("2025-11-03T00:00:00", "ms").astype(np.int64))
TOPICS = ("budget review", "Q4 planning", "trail map order", "team lunch", "server upgrade",
          "holiday rota", "contract renewal", "shipping delay", "safety training", "board pack",
          "price list 2026", "warehouse inventory", "press release", "onboarding", "IT survey",
          "expense claims", "roof repairs", "parking permits", "cafeteria menu", "fire drill",
          "customer feedback", "product launch", "sprint review", "audit findings", "travel")
FORMS = ("RE: {t}", "FW: {t}", "{T}", "Meeting: {t}", "{T} – update", "Draft: {t}",
         "RE: RE: {t}", "{T}, week {n}", 'Notes from "{t}"', "Invoice {n}",
         "Your order #{n} has shipped", "Password expiry reminder", "Out of office: {t}",
         "Ärger mit {t}", "Weekly report {n}")


@dataclass
class Lines:
    """Log lines collected in any order: time (ms), target file, the line's text."""

    t: list[int] = field(default_factory=list)
    f: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def add(self, t: np.ndarray | list[int], texts: list[str], file: int = 0) -> None:
        """A batch of lines."""
        tl = t.tolist() if isinstance(t, np.ndarray) else list(t)
        assert len(tl) == len(texts)
        self.t.extend(tl)
        self.f.extend([file] * len(texts))
        self.text.extend(texts)

    def one(self, t: int, text: str, file: int = 0) -> None:
        """A single line."""
        self.t.append(int(t))
        self.f.append(file)
        self.text.append(text)

    def count(self) -> int:
        return len(self.text)

    def ordered(self, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(order, times, files): stable time order, cut to the first `limit` lines."""
        t = np.array(self.t, dtype=np.int64)
        f = np.array(self.f, dtype=np.int8)
        order = np.argsort(t, kind="stable")
        if limit is not None:
            order = order[:limit]
        return order, t[order], f[order]


def iso_ms(t: np.ndarray) -> list[str]:
    """UTC ISO 8601 with milliseconds and Z, as MSGTRK and EXO reports write it."""
    return [s + "Z" for s in np.datetime_as_string(np.asarray(t).astype("datetime64[ms]"),
                                                    unit="ms").tolist()]


def us_dates(t: np.ndarray) -> list[str]:
    """en-US culture stamps as PowerShell writes them: 11/4/2025 9:00:05 AM (UTC)."""
    out = []
    for s in np.datetime_as_string(np.asarray(t).astype("datetime64[ms]").astype(
            "datetime64[s]")).tolist():
        h = int(s[11:13])
        out.append(f"{int(s[5:7])}/{int(s[8:10])}/{s[:4]} {h % 12 or 12}:{s[14:19]} "
                   f"{'AM' if h < 12 else 'PM'}")
    return out


def syslog_stamps(t: np.ndarray, offset_ms: int) -> list[str]:
    """Traditional syslog stamps in local time, day space-padded: 'Nov  4 10:00:17'."""
    s = np.datetime_as_string((np.asarray(t) + offset_ms).astype("datetime64[ms]").astype(
        "datetime64[s]")).tolist()
    days: dict[str, str] = {}
    out = []
    for x in s:
        d = x[:10]
        pre = days.get(d)
        if pre is None:
            pre = days[d] = f"{MONTHS[int(d[5:7]) - 1]} {int(d[8:10]):2d} "
        out.append(pre + x[11:19])
    return out


def guids(rng: np.random.Generator, n: int) -> list[str]:
    """Random GUIDs in Microsoft's lower-case 8-4-4-4-12 form."""
    h = rng.bytes(16 * n).hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-"
            f"{h[i + 20:i + 32]}" for i in range(0, 32 * n, 32)]


def hex_ids(rng: np.random.Generator, n: int, digits: int, upper: bool = False) -> list[str]:
    """n random hex strings of `digits` digits."""
    h = rng.bytes((digits + 1) // 2 * n).hex()
    step = (digits + 1) // 2 * 2
    out = [h[i:i + digits] for i in range(0, step * n, step)]
    return [x.upper() for x in out] if upper else out


def csvq(value: str) -> str:
    """A CSV field quoted only when it must be (MSGTRK style)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def subjects(rng: np.random.Generator, n: int) -> list[str]:
    """Subjects of other people's mail (some with commas, quotes and non-ASCII)."""
    t = rng.integers(0, len(TOPICS), n).tolist()
    f = rng.integers(0, len(FORMS), n).tolist()
    k = rng.integers(1, 9999, n).tolist()
    return [FORMS[a].format(t=TOPICS[b], T=TOPICS[b].capitalize(), n=c)
            for a, b, c in zip(f, t, k, strict=True)]


def people(rng: np.random.Generator, n: int, domains: list[str]) -> list[str]:
    """Staff addresses in the given domains."""
    fi = rng.integers(0, len(W.FIRST), n).tolist()
    la = rng.integers(0, len(W.LAST), n).tolist()
    d = rng.integers(0, len(domains), n).tolist()
    return [f"{W.FIRST[a]}.{W.LAST[b]}.{i}@{domains[c]}"
            for i, (a, b, c) in enumerate(zip(fi, la, d, strict=True))]


def outsiders(rng: np.random.Generator, n: int) -> list[str]:
    """Addresses of other senders on the Internet."""
    w = rng.integers(0, len(W.WORDS), (n, 2)).tolist()
    roles = ("news", "info", "billing", "noreply", "support", "orders", "hello", "alerts")
    r = rng.integers(0, len(roles), n).tolist()
    return [f"{roles[c]}@{W.WORDS[a]}{W.WORDS[b]}.example.com" for (a, b), c in
            zip(w, r, strict=True)]


def times_between(rng: np.random.Generator, n: int, start: int, end: int) -> np.ndarray:
    """n times in [start, end), busier in (UTC) office hours."""
    day = 86400_000
    days = (end - start) // day
    d = rng.integers(0, max(days, 1), n)
    hour = np.clip(rng.normal(11.5, 3.5, n), 0, 23.99)
    return np.minimum(start + d * day + (hour * 3600_000).astype(np.int64), end - 1)


def journey_pick(w: W.World, system: str) -> np.ndarray:
    """Indexes of the journeys of one system that the server accepted, in journey order."""
    return np.flatnonzero((w.system == W.SYS[system]) & (w.j_acc >= 0))
