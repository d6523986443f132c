"""List hygiene: address syntax, likely domain typos, and which addresses to suppress.

`suppressions(con)` returns one row per recipient with an `action`:
  * `suppress` - an address failure (user unknown, domain unknown, moved, null MX) or an
    address that cannot be valid (bad syntax);
  * `keep_despite_hard_bounce` - the ESP marked a hard bounce, but the evidence is a block,
    spam filter, authentication or policy failure, or a full mailbox: the address is fine;
  * `review` - the ESP marked a hard bounce and no reply text says why, or the reply says
    the user is unknown with nothing to confirm it (no 5.1.x status, no RCPT stage: Sisimai's
    `filtered`, rule ids `sis.filtered.unconfirmed:...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import duckdb
import pandas as pd

from .classify import SENDS_FAILURE, SENDS_TEXT, TRACE_FAILURE, TRACE_TEXT, refresh
from .rules.sisimai_extra import UNCONFIRMED_PREFIX

# Big mailbox providers' domains: the targets of typo suggestions.
KNOWN_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
    "ymail.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com",
    "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com",
    "gmx.de", "gmx.net", "gmx.com", "web.de", "mail.com", "orange.fr", "wanadoo.fr",
    "free.fr", "laposte.net", "sfr.fr", "t-online.de", "comcast.net", "verizon.net",
    "att.net", "sbcglobal.net", "btinternet.com", "virginmedia.com", "mail.ru", "yandex.ru",
    "qq.com", "163.com", "libero.it", "bigpond.com", "shaw.ca", "rogers.com", "zoho.com",
)
# Misspelt top-level domains seen in sign-up forms.
TLD_TYPOS = {"con": "com", "cmo": "com", "ocm": "com", "comm": "com", "vom": "com",
             "xom": "com", "nte": "net", "ner": "net", "orgg": "org", "rog": "org"}
# Real TLDs that are also common slips for .com: suggested only for a known provider.
TLD_SLIPS = {"co": "com", "cm": "com", "om": "com", "ne": "net"}

# RFC 5321 4.1.2 / RFC 5322 3.4.1 dot-atom local part and an LDH domain (no quoted
# local parts or address literals: ESP lists do not contain those).
_LOCAL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class AddressCheck:
    """The result of checking one address."""

    address: str
    valid: bool
    problem: str | None = None
    suggestion: str | None = None


def syntax_problem(address: str | None) -> str | None:
    """Why an address is not a valid mailbox address, or None when it is."""
    if not address or not address.strip():
        return "empty address"
    a = address.strip()
    if a.count("@") != 1:
        return "needs exactly one @"
    local, domain = a.rsplit("@", 1)
    if not local:
        return "nothing before the @"
    if len(local) > 64:
        return "the part before the @ is longer than 64 characters (RFC 5321)"
    if len(a) > 254:
        return "longer than 254 characters (RFC 5321)"
    if ".." in local or local.startswith(".") or local.endswith("."):
        return "dots at the start, end or doubled before the @"
    if not _LOCAL_RE.match(local) and not all(ord(ch) > 127 or _LOCAL_RE.match(ch) or ch == "."
                                                for ch in local):
        return "characters not allowed before the @"
    if not domain or "." not in domain:
        return "the domain needs a dot (e.g. example.com)"
    labels = domain.rstrip(".").split(".")
    if not all(_LABEL_RE.match(lb) or any(ord(ch) > 127 for ch in lb) for lb in labels):
        return "the domain has empty labels or characters not allowed"
    if labels[-1].isdigit():
        return "the domain ends in a number"
    return None


def _distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at `limit`."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) >= limit:
            return limit
        prev2, prev = prev, cur
    return min(prev[-1], limit)


@lru_cache(maxsize=65536)  # a list repeats its domains: each is compared once
def suggest_domain(domain: str | None) -> str | None:
    """A likely intended domain for a misspelt one ('gmial.com' -> 'gmail.com'), or None."""
    if not domain:
        return None
    d = domain.strip().lower().rstrip(".")
    if d in KNOWN_DOMAINS:
        return None
    name, _, tld = d.rpartition(".")
    if name and tld in TLD_TYPOS:
        return f"{name}.{TLD_TYPOS[tld]}"
    if name and tld in TLD_SLIPS and f"{name}.{TLD_SLIPS[tld]}" in KNOWN_DOMAINS:
        return f"{name}.{TLD_SLIPS[tld]}"
    best, best_d = None, 3
    for known in KNOWN_DOMAINS:
        dist = _distance(d, known)
        # One edit for short names, two for longer ones; never suggest across TLD swaps of
        # an existing provider family (gmx.de vs gmx.net are both real).
        allowed = 1 if len(known) <= 8 else 2
        if dist <= allowed and dist < best_d and d.split(".")[0] != known.split(".")[0]:
            best, best_d = known, dist
    return best


def check_address(address: str) -> AddressCheck:
    """Syntax problem and domain suggestion for one address."""
    problem = syntax_problem(address)
    domain = address.rsplit("@", 1)[-1] if "@" in address else None
    suggestion = suggest_domain(domain)
    return AddressCheck(address, problem is None, problem, suggestion)


SUPPRESSION_COLUMNS = ["recipient", "action", "reason", "category", "smtp_code",
                       "enhanced_code", "evidence", "rule_id", "last_seen", "esp_bounce_type",
                       "syntax_problem", "suggested_domain"]


_FAILURES_SQL = (
    "SELECT recipient, reason, category, suppress, smtp_code, enhanced_code, text, rule_id, "
    "event_time, bounce_type FROM ("
    f"SELECT s.recipient, s.reason, s.category, s.suppress, s.smtp_code, s.enhanced_code, "
    f"{SENDS_TEXT} AS text, s.rule_id, s.event_time, lower(s.bounce_type) AS bounce_type "
    f"FROM sends_classified s WHERE {SENDS_FAILURE} AND s.recipient IS NOT NULL "
    "UNION ALL "
    f"SELECT t.recipient, t.reason, t.category, t.suppress, t.smtp_code, t.enhanced_code, "
    f"{TRACE_TEXT}, t.rule_id, t.event_time, NULL FROM trace_classified t "
    f"WHERE {TRACE_FAILURE} AND t.recipient IS NOT NULL)")

_EVIDENCE = ("struct_pack(reason, category, smtp_code, enhanced_code, text, rule_id, "
             "event_time)")
# Per address, over its failures in time order (undated first): the last row that
# recommends suppression; else, after an ESP hard bounce, the last row whose reason is
# known (keep) or the last row at all (review). One grouped query instead of a pandas
# group per address (22 s -> 0.8 s for 9k addresses at 100k sends, issue 7).
_DECISIONS_SQL = f"""
WITH f AS (
  SELECT *, row_number() OVER (ORDER BY recipient, event_time NULLS FIRST) AS ord
  FROM ({_FAILURES_SQL})),
g AS (
  SELECT recipient,
    coalesce(bool_or(bounce_type = 'hard'), false) AS hard,
    arg_max(bounce_type, ord) FILTER (WHERE bounce_type IS NOT NULL) AS last_type,
    arg_max({_EVIDENCE}, ord) FILTER (WHERE suppress) AS ev,
    arg_max({_EVIDENCE}, ord)
      FILTER (WHERE reason IS NOT NULL AND reason NOT IN ('undefined', 'onhold')
              AND rule_id NOT LIKE '{UNCONFIRMED_PREFIX}%') AS known,
    arg_max({_EVIDENCE}, ord) AS last
  FROM f GROUP BY recipient)
SELECT recipient,
  CASE WHEN ev IS NOT NULL THEN 'suppress' WHEN known IS NOT NULL
       THEN 'keep_despite_hard_bounce' ELSE 'review' END AS action,
  e.reason, e.category, e.smtp_code, e.enhanced_code, e.text AS evidence, e.rule_id,
  e.event_time AS last_seen, CASE WHEN hard THEN 'hard' ELSE last_type END AS esp_bounce_type
FROM (SELECT *, CASE WHEN ev IS NOT NULL THEN ev WHEN known IS NOT NULL THEN known
                     ELSE last END AS e
      FROM g WHERE ev IS NOT NULL OR hard)
"""


# Addresses that syntax_problem() certainly finds valid: a dot-atom of the commonest
# characters, at most 64 of them before the @ and 254 in all, labels of letters, digits and
# inner hyphens (at most 63), a last label of letters. Only the rest are checked in Python
# (suppressions() checked every distinct address in a Python loop, issue 7);
# tests/test_hygiene.py checks that every address this matches passes syntax_problem().
_PLAIN_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_ADDRESS = (r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
                  f"@(?:{_PLAIN_LABEL}\\.)+[A-Za-z]{{2,63}}")
PLAIN_ADDRESS_SQL = (f"(length(recipient) <= 254 AND strpos(recipient, '@') BETWEEN 2 AND 65 "
                     f"AND regexp_full_match(recipient, '{_PLAIN_ADDRESS}'))")


def suppressions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Addresses to suppress, plus ESP hard bounces to keep or review (column `action`)."""
    refresh(con)  # cheap when nothing changed: only new (code, text) keys are classified
    addresses = con.execute("SELECT DISTINCT recipient FROM sends WHERE recipient IS NOT NULL "
                            f"AND NOT {PLAIN_ADDRESS_SQL}").fetchall()
    bad = {addr: p for (addr,) in addresses if (p := syntax_problem(addr))}
    syntax = pd.DataFrame(
        [dict.fromkeys(SUPPRESSION_COLUMNS) | {
            "recipient": addr, "action": "suppress", "reason": "syntax",
            "category": "invalid_address", "evidence": f"invalid address: {p}",
            "rule_id": "hygiene:syntax", "syntax_problem": p,
            "suggested_domain": suggest_domain(addr.rsplit("@", 1)[-1])}
         for addr, p in bad.items()], columns=SUPPRESSION_COLUMNS)
    decided = con.execute(_DECISIONS_SQL).df()
    decided = decided[~decided["recipient"].isin(list(bad))]
    decided = decided.assign(
        syntax_problem=None,
        suggested_domain=[suggest_domain(str(a).rsplit("@", 1)[-1])
                          for a in decided["recipient"]])
    frame = pd.concat([f for f in (syntax, decided[SUPPRESSION_COLUMNS]) if len(f)] or [syntax],
                      ignore_index=True)
    order = {"suppress": 0, "keep_despite_hard_bounce": 1, "review": 2}
    frame = frame.sort_values(["action", "recipient"], key=lambda s: s.map(order)
                              if s.name == "action" else s).reset_index(drop=True)
    return frame.astype({"smtp_code": "Int64"})


def hard_bounce_conflicts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """ESP hard bounces that must not be suppressed (block, spam, auth, policy, full mailbox)."""
    df = suppressions(con)
    return df[df["action"] == "keep_despite_hard_bounce"].reset_index(drop=True)


def typo_suggestions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Recipient domains that look like typos of big providers, with counts."""
    rows = con.execute("SELECT recipient_domain, count(DISTINCT recipient) FROM sends "
                       "WHERE recipient_domain IS NOT NULL GROUP BY 1").fetchall()
    found = [(d, suggest_domain(d), n) for d, n in rows]
    return pd.DataFrame([(d, s, n) for d, s, n in found if s],
                        columns=["domain", "suggestion", "addresses"])
