"""SMTP reply codes (RFC 5321), enhanced status codes (RFC 3463) and their extraction."""

from __future__ import annotations

import re

# A basic reply code at the start of a reply ("550 ", "550-", "smtp; 550 ") or, failing
# that, the first code that is followed by an enhanced code ("said: 550-5.1.1 ...").
_LEADING_CODE_RE = r"^\s*(?:[A-Za-z]+;\s*)?([2-5][0-9][0-9])(?:[ -]|$)"
_CODE_BEFORE_ENHANCED_RE = r"(?:^|[\s;:(\[])([2-5][0-9][0-9])[ -]+[2-5]\.[0-9]{1,3}\.[0-9]{1,3}"
_ANY_CODE_RE = r"(?:^|[\s;:(\[])([2-5][0-9][0-9])(?:[ -]|$)"
# Enhanced status code: class.subject.detail, not inside an IP address or version.
_ENHANCED_RE = r"(?:^|[\s#(;:=\[-])([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[\s;,)\]]|$)"


def reply_code_sql(col: str) -> str:
    """SQL extracting the basic reply code from a text column (NULL when none)."""
    parts = [
        f"nullif(regexp_extract({col}, '{pattern}', 1), '')"
        for pattern in (_LEADING_CODE_RE, _CODE_BEFORE_ENHANCED_RE, _ANY_CODE_RE)
    ]
    return f"TRY_CAST(coalesce({', '.join(parts)}) AS INTEGER)"


def enhanced_code_sql(col: str) -> str:
    """SQL extracting the first enhanced status code from a text column (NULL when none)."""
    return f"nullif(regexp_extract({col}, '{_ENHANCED_RE}', 1), '')"


def extract_reply_code(text: str | None) -> int | None:
    """The basic reply code in a reply text, or None (same rules as reply_code_sql)."""
    if not text:
        return None
    for pattern in (_LEADING_CODE_RE, _CODE_BEFORE_ENHANCED_RE, _ANY_CODE_RE):
        m = re.search(pattern, text, re.IGNORECASE)
        if m:
            return int(m.group(1))
    return None


def extract_enhanced_code(text: str | None) -> str | None:
    """The first enhanced status code in a reply text, or None."""
    if not text:
        return None
    m = re.search(_ENHANCED_RE, text)
    return m.group(1) if m else None
