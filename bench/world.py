"""The benchmark's ground truth: subscribers, campaigns and one journey per message, as arrays.

Everything is drawn from one seeded numpy Generator (and seeded `random.Random`s for the
reply texts), so (size, seed, GEN_VERSION) fixes every byte the writers produce. Times
are int64 milliseconds since the epoch, UTC.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from . import replies

# Recipient systems. The first three are covered by a trace file (office365, exchange,
# postfix); the others are only seen from the ESP side.
SYSTEMS = ("o365", "exchange", "postfix", "exo", "outlook", "gmail", "gws", "yahoo",
           "pfother", "exim", "sendmail", "dead", "nodns")
SYSTEM_P = np.array([0.25, 0.12, 0.20, 0.06, 0.06, 0.15, 0.04, 0.05, 0.035, 0.015, 0.01,
                     0.0025, 0.0025])
# The template family each system answers with (replies.Template.systems).
REPLY_SYSTEM = {"o365": "exo", "pfother": "postfix"}
TRACED = ("o365", "exchange", "postfix")
SYS = {name: i for i, name in enumerate(SYSTEMS)}

# Outcomes of one journey.
DELIVERED, REJECTED, DEFER_DELIVERED, DEFER_EXPIRED, BOUNCE_AFTER, QUARANTINED, DROPPED, \
    MISSING, DEFER_AFTER = range(9)
ACCEPTED = (DELIVERED, DEFER_DELIVERED, BOUNCE_AFTER, QUARANTINED, DROPPED, MISSING, DEFER_AFTER)

PERM_CAT = {"spam_or_reputation": .35, "mailbox_unavailable": .22, "authentication": .15,
            "policy_or_configuration": .15, "unknown": .08, "connectivity": .05}
TEMP_CAT = {"throttling": .5, "mailbox_unavailable": .2, "connectivity": .18,
            "spam_or_reputation": .08, "authentication": .02, "unknown": .02}
HARD = {"invalid_address", "authentication", "policy_or_configuration"}
# The non-delivery report text of a message bounced after it was accepted, by system.
NDR = {"exchange": "exchange_ndr", "o365": "exo_full", "exo": "exo_full",
       "postfix": "dovecot_522"}

CAMPAIGN_NAMES = ("November Newsletter", "Trail Running Week", "Winter Gear Preview",
                  "Members' Weekend", "Black Friday Early Access", "Black Friday",
                  "Cyber Monday", "December Newsletter")
CAMPAIGN_SUBJECTS = ("November Newsletter – Trail season is here",
                     "Trail Running Week: 20% off shoes", "Winter gear preview – first look",
                     "Members' weekend, 22–23 November", "Black Friday starts early for you",
                     "Black Friday: up to 50% off", "Cyber Monday – last chance",
                     "December Newsletter – Gifts for the trail")
CAMPAIGN_DAYS = (4, 6, 11, 13, 18, 21, 24, 27)  # November 2025, 09:00:03 UTC
SEND_HOURS = 2.5  # every campaign takes this long, whatever its size
EXPORT_AT = int(np.datetime64("2025-11-30T22:00:00", "ms").astype(np.int64))  # 00:00 SAST
ESP_MTAS = (("mta4.esp.example.net", "198.51.100.24"), ("mta5.esp.example.net", "198.51.100.25"))
SENDER_DOMAIN = "brightpath.example.com"

FIRST = ("anna", "ben", "carla", "dev", "erin", "farid", "grace", "hiro", "ivan", "julia",
         "kofi", "lena", "marco", "nadia", "oscar", "paula", "quentin", "rita", "sam", "tara",
         "umar", "vera", "wei", "xavier", "yara", "zoe", "juergen", "soren", "lukasz", "noemie",
         "ines", "mateo", "aisha", "liam", "olga", "pedro", "chloe", "emil", "freya", "goran")
FIRST_SHOWN = {"lena": "Léna", "juergen": "Jürgen", "soren": "Søren", "lukasz": "Łukasz",
               "noemie": "Noémie", "ines": "Inês", "zoe": "Zoë", "chloe": "Chloé"}
LAST = ("nguyen", "okafor", "mendes", "patel", "walsh", "haddad", "kim", "tanaka", "petrov",
        "schmidt", "mensah", "fischer", "rossi", "ali", "lind", "diaz", "moreau", "costa",
        "berg", "novak", "smith", "garcia", "muller", "silva", "kowalski", "dubois", "jensen",
        "oconnor", "yilmaz", "svensson", "hughes", "kaur", "ito", "ramos", "weber", "lopez")
LAST_SHOWN = {"muller": "Müller", "oconnor": "O'Connor", "yilmaz": "Yılmaz"}
WORDS = ("alder", "aspen", "basalt", "birch", "bramble", "brook", "canyon", "cedar", "cliff",
         "clover", "coral", "crest", "dune", "elm", "ember", "fern", "fjord", "flint", "glade",
         "granite", "grove", "harbor", "hazel", "heath", "holly", "iris", "ivy", "juniper",
         "kestrel", "lagoon", "larch", "laurel", "linden", "maple", "marsh", "meadow", "mesa",
         "moss", "oak", "orchid", "osprey", "pebble", "pine", "prairie", "quarry", "quartz",
         "raven", "reed", "ridge", "river", "rowan", "sage", "sequoia", "shale", "sierra",
         "slate", "sorrel", "spruce", "summit", "tamarack", "thistle", "timber", "tundra",
         "valley", "willow", "wren", "yarrow", "zephyr", "acorn", "beacon", "bluff", "cove")
DOMAIN_COUNTS = {"o365": 40, "exchange": 8, "postfix": 300, "exo": 500, "outlook": 4,
                 "gmail": 2, "gws": 300, "yahoo": 3, "pfother": 600, "exim": 150,
                 "sendmail": 80, "dead": 20, "nodns": 20}
FIXED_DOMAINS = {"outlook": ("outlook.example.com", "hotmail.example.com", "live.example.com",
                             "msn.example.com"),
                 "gmail": ("gmail.example.com", "googlemail.example.com"),
                 "yahoo": ("yahoo.example.com", "aol.example.com", "ymail.example.com")}
TLD = {"o365": "alpine.example.org", "exchange": "fabrikam.example.net", "postfix": "example.net",
       "exo": "example.com", "gws": "example.org", "pfother": "example.org", "exim": "example.net",
       "sendmail": "example.com", "dead": "example.net", "nodns": "example.org"}


def mix(x: np.ndarray, bits: int, salt: int) -> np.ndarray:
    """A bijection on `bits`-bit integers (unique IDs that look random)."""
    mask = np.uint64((1 << bits) - 1)
    v = (x.astype(np.uint64) ^ np.uint64(salt)) & mask
    for mult in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9):
        v = (v * np.uint64(mult | 1)) & mask
        v ^= v >> np.uint64(bits // 2)
    return v


def domains_of(system: str) -> list[str]:
    """The recipient domains served by one system."""
    if system in FIXED_DOMAINS:
        return list(FIXED_DOMAINS[system])
    n = DOMAIN_COUNTS[system]
    if system == "o365":
        return ["alpine.example.org"] + [f"{w}.alpine.example.org" for w in WORDS[:n - 1]]
    if system == "exchange":
        return ["fabrikam.example.net"] + [f"{w}.fabrikam.example.net" for w in WORDS[:n - 1]]
    salt = SYSTEMS.index(system) * 7
    return [f"{WORDS[(k + salt) % len(WORDS)]}{'' if k < len(WORDS) else k // len(WORDS)}"
            f"-{system[:2]}.{TLD[system]}" for k in range(n)]


@dataclass
class World:
    """Subscribers and journeys (one per campaign message to one recipient)."""

    size: int
    seed: int
    domains: list[str]
    dom_system: np.ndarray
    sub_domain: np.ndarray
    sub_email: list[str]
    sub_name: list[str]
    sub_verp: list[str]
    j_sub: np.ndarray
    j_campaign: np.ndarray
    j_sent: np.ndarray
    j_outcome: np.ndarray
    j_mta: np.ndarray
    j_size: np.ndarray
    j_acc: np.ndarray  # the 250 reply (accepted journeys), else -1
    j_end: np.ndarray  # the ESP's final bounce (rejected/expired/NDR), else -1
    j_tpl: np.ndarray  # failure template index, else -1
    j_msgid: list[str] = field(default_factory=list)
    j_text: dict[int, str] = field(default_factory=dict)  # failure text by journey
    j_text2: dict[int, str] = field(default_factory=dict)  # second deferral's text
    j_rid: list[str] = field(default_factory=list)  # ID the ESP extracted from the 250
    j_reply: list[str] = field(default_factory=list)  # the 250 text ('' when not accepted)
    j_internal: np.ndarray | None = None  # InternalId (Exchange / EXO)
    j_engage: np.ndarray | None = None  # bit 1 opened, 2 clicked, 4 unsubscribed, 8 spam

    j_system: np.ndarray | None = None  # recipient system of each journey (SYSTEMS index)

    @property
    def system(self) -> np.ndarray:
        """Each journey's recipient system (index into SYSTEMS)."""
        if self.j_system is None:
            self.j_system = self.dom_system[self.sub_domain[self.j_sub]]
        return self.j_system

    def email(self, j: int) -> str:
        return self.sub_email[self.j_sub[j]]

    def n(self) -> int:
        return len(self.j_sub)


def _subscribers(rng: np.random.Generator, r: int) -> tuple[list[str], np.ndarray, np.ndarray,
                                                            list[str], list[str], list[str]]:
    """Domains, and per subscriber: domain, e-mail, display name, VERP address."""
    domains, dom_system, dom_weight = [], [], []
    for s, name in enumerate(SYSTEMS):
        ds = domains_of(name)
        w = 1.0 / np.arange(1, len(ds) + 1) ** 0.9
        domains += ds
        dom_system += [s] * len(ds)
        dom_weight += list(SYSTEM_P[s] * w / w.sum())
    p = np.array(dom_weight) / np.sum(dom_weight)
    sub_domain = rng.choice(len(domains), size=r, p=p)
    first = rng.integers(0, len(FIRST), r).tolist()
    last = rng.integers(0, len(LAST), r).tolist()
    style = rng.integers(0, 4, r).tolist()
    emails, names = [], []
    for i, (f, la, st, d) in enumerate(zip(first, last, style, sub_domain.tolist(), strict=True)):
        fn, ln = FIRST[f], LAST[la]
        local = (f"{fn}.{ln}{i}", f"{fn[0]}{ln}{i}", f"{fn}{i}", f"{ln}.{fn}{i}")[st]
        emails.append(f"{local}@{domains[d]}")
        names.append(f"{FIRST_SHOWN.get(fn, fn.title())} {LAST_SHOWN.get(ln, ln.title())}")
    verp = [f"bnc-{v:08x}@bounce.esp.example.net"
            for v in mix(np.arange(r), 32, 0x5EED).tolist()]
    return domains, np.array(dom_system, dtype=np.int16), sub_domain, emails, names, verp


def _campaign_start(c: int) -> int:
    return int(np.datetime64(f"2025-11-{CAMPAIGN_DAYS[c]:02d}T09:00:03", "ms").astype(np.int64))


def _journeys(rng: np.random.Generator, r: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Who gets which campaign: late joiners start later; bad addresses are mailed once."""
    n_c = len(CAMPAIGN_NAMES)
    join = np.where(rng.random(r) < 0.85, 0, rng.integers(1, n_c, r))
    bad = rng.random(r) < 0.03
    subs, camps, sent = [], [], []
    for c in range(n_c):
        ok = np.flatnonzero((join <= c) & (~bad | (join == c)))
        ok = rng.permutation(ok)
        span = SEND_HOURS * 3600_000
        t = _campaign_start(c) + (np.arange(len(ok)) * span / max(len(ok), 1)).astype(np.int64)
        subs.append(ok)
        camps.append(np.full(len(ok), c, dtype=np.int16))
        sent.append(t + rng.integers(0, 900, len(ok)))
    j_sub = np.concatenate(subs)
    return j_sub, np.concatenate(camps), np.concatenate(sent), bad[j_sub]


def _outcomes(rng: np.random.Generator, system: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """One outcome per journey (see the constants above), then what each system allows."""
    n = len(system)
    edges = np.cumsum([0.018, 0.025, 0.005, 0.006, 0.012, 0.002, 0.02, 0.01])
    codes = np.array([REJECTED, DEFER_DELIVERED, DEFER_EXPIRED, BOUNCE_AFTER, QUARANTINED,
                      DROPPED, MISSING, DEFER_AFTER, DELIVERED], dtype=np.int8)
    out = codes[np.searchsorted(edges, rng.random(n), side="right")]
    s = system
    traced = np.isin(s, [SYS[x] for x in TRACED])
    allowed = {BOUNCE_AFTER: ("o365", "exchange", "postfix", "exo"), QUARANTINED: ("o365",),
               DROPPED: ("postfix", "exchange"), DEFER_AFTER: ("postfix", "o365")}
    for outcome, systems in allowed.items():
        out[(out == outcome) & ~np.isin(s, [SYS[x] for x in systems])] = DELIVERED
    out[(out == MISSING) & ~traced] = DELIVERED
    out[s == SYS["dead"]] = DEFER_EXPIRED
    nodns = s == SYS["nodns"]
    out[nodns] = np.where(rng.random(int(nodns.sum())) < 0.5, DEFER_EXPIRED, REJECTED)
    out[bad] = REJECTED
    return out


def _templates(rng: np.random.Generator, system: np.ndarray, outcome: np.ndarray,
               bad: np.ndarray) -> np.ndarray:
    """The failure template of every failing journey, by system, kind and category."""
    n = len(system)
    tpl = np.full(n, -1, dtype=np.int32)
    perm = (outcome == REJECTED) & ~bad
    temp = np.isin(outcome, (DEFER_DELIVERED, DEFER_EXPIRED))
    cats = {"perm": (perm, PERM_CAT), "temp": (temp, TEMP_CAT)}
    for kind, (mask, weights) in cats.items():
        names = list(weights)
        cat = rng.choice(len(names), size=n, p=np.array(list(weights.values())))
        for s, sysname in enumerate(SYSTEMS):
            rsys = REPLY_SYSTEM.get(sysname, sysname)
            for ci, cname in enumerate(names):
                idx = np.flatnonzero(mask & (system == s) & (cat == ci))
                if len(idx):
                    cand = _candidates(rsys, kind, cname, sysname)
                    tpl[idx] = np.array(cand)[rng.integers(0, len(cand), len(idx))]
    for s, sysname in enumerate(SYSTEMS):
        idx = np.flatnonzero(bad & (system == s))
        if len(idx):
            cand = _candidates(REPLY_SYSTEM.get(sysname, sysname), "perm", "invalid_address",
                               sysname)
            tpl[idx] = np.array(cand)[rng.integers(0, len(cand), len(idx))]
    return tpl


def _candidates(rsys: str, kind: str, category: str, sysname: str) -> list[int]:
    """Templates for one group; dead/no-DNS hosts only ever time out or fail DNS."""
    if sysname == "dead":
        return [i for i, t in enumerate(replies.TEMPLATES) if "dead" in t.systems]
    if sysname == "nodns":
        return [i for i, t in enumerate(replies.TEMPLATES)
                if "nodns" in t.systems and t.kind == kind] or \
            [i for i, t in enumerate(replies.TEMPLATES) if "nodns" in t.systems]
    return replies.candidates(rsys, kind, category) or replies.candidates("any", kind, "unknown")


def build(size: int, seed: int) -> World:
    """The world whose ESP export has at least `size` rows (writers cut it to `size`)."""
    r = max(8, math.ceil(size / 9.0))  # ~7.2 journeys per subscriber, ~1.25 rows each
    while True:
        w = _build(size, seed, r)
        from .gen_esp import esp_row_count

        if esp_row_count(w) >= size:
            return w
        r = int(r * 1.03) + 1


def _build(size: int, seed: int, r: int) -> World:
    rng = np.random.default_rng(seed)
    domains, dom_system, sub_domain, emails, names, verp = _subscribers(rng, r)
    j_sub, j_camp, j_sent, bad = _journeys(rng, r)
    n = len(j_sub)
    system = dom_system[sub_domain[j_sub]]
    outcome = _outcomes(rng, system, bad)
    tpl = _templates(rng, system, outcome, bad)
    for sysname, key in NDR.items():  # the bounce that follows an accepted message
        tpl[(outcome == BOUNCE_AFTER) & (system == SYS[sysname])] = \
            [t.key for t in replies.TEMPLATES].index(key)
    acc = np.full(n, -1, dtype=np.int64)
    end = np.full(n, -1, dtype=np.int64)
    is_acc = np.isin(outcome, ACCEPTED)
    delay = rng.integers(5 * 60_000, 90 * 60_000, n)
    acc[is_acc] = j_sent[is_acc]
    dd = outcome == DEFER_DELIVERED
    acc[dd] = j_sent[dd] + delay[dd]
    end[outcome == REJECTED] = j_sent[outcome == REJECTED]
    exp = outcome == DEFER_EXPIRED
    end[exp] = j_sent[exp] + 72 * 3600_000 + rng.integers(0, 600_000, int(exp.sum()))
    ba = outcome == BOUNCE_AFTER
    end[ba] = acc[ba] + rng.integers(2_000, 600_000, int(ba.sum()))
    engage = np.zeros(n, dtype=np.int8)
    opened = is_acc & ~np.isin(outcome, (QUARANTINED, DROPPED, BOUNCE_AFTER)) & \
        (rng.random(n) < 0.2)
    engage[opened] |= 1
    engage[opened & (rng.random(n) < 0.3)] |= 2
    engage[opened & (rng.random(n) < 0.02)] |= 4
    engage[is_acc & (rng.random(n) < 0.0005)] |= 8
    w = World(size=size, seed=seed, domains=domains, dom_system=dom_system,
              sub_domain=sub_domain, sub_email=emails, sub_name=names, sub_verp=verp,
              j_sub=j_sub, j_campaign=j_camp, j_sent=j_sent, j_outcome=outcome,
              j_mta=(rng.random(n) < 0.4).astype(np.int8),
              j_size=rng.integers(47_500, 49_500, n), j_acc=acc, j_end=end, j_tpl=tpl,
              j_engage=engage)
    _ids_and_texts(w, seed)
    return w


def _ids_and_texts(w: World, seed: int) -> None:
    """Message-IDs, the 250 replies with the IDs the ESP extracts, and the failure texts."""
    from .ids import accept_replies

    n = w.n()
    stamps = np.datetime_as_string(w.j_sent.astype("datetime64[ms]").astype("datetime64[s]"))
    hexes = mix(np.arange(n), 48, seed).tolist()
    mtas = w.j_mta.tolist()
    w.j_msgid = [f"<{s[0:4]}{s[5:7]}{s[8:10]}{s[11:13]}{s[14:16]}{s[17:19]}.{h:012x}@"
                 f"{ESP_MTAS[m][0]}>" for s, h, m in zip(stamps, hexes, mtas, strict=True)]
    accept_replies(w, seed)
    rng = random.Random(f"bench:{seed}:texts")
    iso = np.datetime_as_string(w.j_sent.astype("datetime64[ms]"), unit="ms")
    for j in np.flatnonzero(w.j_tpl >= 0).tolist():
        t = replies.TEMPLATES[w.j_tpl[j]]
        v = values_for(w, j)
        w.j_text[j] = replies.render(t, rng, v, iso[j] + "Z")
        if w.j_outcome[j] == DEFER_EXPIRED:
            w.j_text2[j] = replies.render(t, rng, v, iso[j] + "Z")


def values_for(w: World, j: int) -> dict[str, str]:
    """The message's own values for a reply template."""
    email = w.email(j)
    local, domain = email.split("@", 1)
    mta, ip = ESP_MTAS[w.j_mta[j]]
    h = sum(domain.encode())
    return {"rcpt": email, "local": local, "domain": domain, "ip": ip, "mta": mta,
            "mx": f"mx{h % 3 + 1}.{domain}", "mxip": f"203.0.113.{h % 200 + 20}",
            "sdom": SENDER_DOMAIN, "SDOM": SENDER_DOMAIN.upper(),
            "verp": w.sub_verp[w.j_sub[j]]}
