"""Redaction of e-mail addresses in every report output: keep, mask or keyed hash.

* `none` keeps addresses as they are.
* `mask` keeps the first character of the local part: `j***@example.com`.
* `hash` replaces the local part with an HMAC-SHA256 of the whole lower-cased address
  under the user's key: `h:3f9a1c2b4d5e6f70@example.com`. Two parties who share the key
  get the same token for the same address, so they can still match rows; the domain
  stays readable.

Redaction works on text, not on columns: every string that goes into a report (table
cells, reply texts such as `550 5.1.1 <marco.rossi@pine.example.org>: ...`, VERP
senders, the summary, chart labels and hovers) passes through `Redactor.text`. Message
IDs look like addresses (`<2025...@mta4.esp.example.net>`) but are not personal data
and are what the other side's IT needs to find a message, so the IDs a report lists are
passed in `keep` (the report leaves out any ID that is also a known address).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import UsageError

MODES = ("none", "mask", "hash")
ENV_KEY = "DELIVERY_TRACE_REDACT_KEY"
HASH_HEX = 16  # 64 bits of the HMAC: collisions are negligible for any mailing list

# RFC 5322 dot-atom characters (without the quote, which is more often punctuation around
# an address than part of one), Unicode letters for SMTPUTF8 local parts; a domain of one
# or more labels (a dotless `user@localhost` is still an address).
_LOCAL = r"[\w!#$%&*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
_DOMAIN = r"[\w](?:[\w-]*[\w])?(?:\.[\w](?:[\w-]*[\w])?)*"
# The lookbehind starts a match only where a token starts: without it a long run of word
# characters with no '@' (minified JavaScript) is rescanned from every position.
EMAIL_RE = re.compile(f"(?<![\\w!#$%&*+/=?^`{{|}}~-])({_LOCAL})@({_DOMAIN})")
_HASHED_RE = re.compile(f"h:[0-9a-f]{{{HASH_HEX}}}$")


def resolve_key(key: str | None) -> str | None:
    """The key given, else the one in $DELIVERY_TRACE_REDACT_KEY, else None."""
    return key or os.environ.get(ENV_KEY) or None


@dataclass(frozen=True)
class Redactor:
    """Rewrites every e-mail address in text according to `mode`."""

    mode: str = "none"
    key: str | None = field(default=None, repr=False)
    keep: frozenset[str] = frozenset()  # lower-cased message IDs that look like addresses

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UsageError(f"redaction must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.mode == "hash" and not self.key:
            raise UsageError("--redact hash needs a key: pass --key KEY or set "
                             f"${ENV_KEY} (share it only with whoever must match rows)")

    @property
    def active(self) -> bool:
        """Whether this redactor changes anything."""
        return self.mode != "none"

    def with_keep(self, ids: Iterable[str]) -> Redactor:
        """A copy that leaves these message IDs alone."""
        return Redactor(self.mode, self.key, frozenset(i.lower() for i in ids if i))

    def address(self, address: str) -> str:
        """The redacted form of one address (`local@domain`)."""
        if not self.active or "@" not in address:
            return address
        local, _, domain = address.rpartition("@")
        domain = domain.lower()
        if self.mode == "mask":
            return f"{local[:1] or '?'}***@{domain}"
        digest = hmac.new(str(self.key).encode("utf-8"),
                          f"{local}@{domain}".lower().encode("utf-8"), hashlib.sha256)
        return f"h:{digest.hexdigest()[:HASH_HEX]}@{domain}"

    def _sub(self, m: re.Match[str]) -> str:
        token = m.group(0)
        if token.lower() in self.keep:
            return token
        if self.mode == "hash" and _HASHED_RE.match(m.string[max(0, m.start() - 2):m.end(1)]):
            return token  # already a hash token: redacting twice changes nothing
        return self.address(token)

    def text(self, value: Any) -> Any:
        """`value` with every address redacted (non-strings are returned as they are)."""
        if not self.active or not isinstance(value, str) or "@" not in value:
            return value
        return EMAIL_RE.sub(self._sub, value)

    def frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """A copy of `df` with every text cell (and text column name) redacted."""
        if not self.active or df.empty and not len(df.columns):
            return df
        out = df.copy()
        for col in out.columns:
            s = out[col]
            if s.dtype == object or pd.api.types.is_string_dtype(s):
                out[col] = s.map(self.deep)
        out.columns = [self.text(c) for c in out.columns]
        return out

    def deep(self, obj: Any) -> Any:
        """Redact every string inside nested lists, tuples and dicts (e.g. a figure's JSON)."""
        if not self.active:
            return obj
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {k: self.deep(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(self.deep(v) for v in obj)
        if isinstance(obj, np.ndarray) and obj.dtype == object:
            return np.frompyfunc(self.deep, 1, 1)(obj) if obj.size else obj
        return obj

    def describe(self) -> str:
        """One sentence for the report header."""
        return {
            "none": "Addresses are shown in full.",
            "mask": "Addresses are masked: only the first letter of the local part and the "
                    "domain are shown (j***@example.com).",
            "hash": "Addresses are replaced by a keyed hash (HMAC-SHA256) of the address; "
                    "whoever holds the same key gets the same token for the same address "
                    "(h:…@domain). Domains are shown.",
        }[self.mode]


def redactor(mode: str | None, key: str | None = None) -> Redactor:
    """A `Redactor` for a mode name (None = 'none'); the key falls back to the environment."""
    mode = mode or "none"
    return Redactor(mode, resolve_key(key) if mode == "hash" else None)
