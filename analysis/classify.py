"""Failure classification: reply code, enhanced code and text -> reason, category, advice.

Placeholder until the classification issue lands: `refresh` is the store hook.
"""

from __future__ import annotations

import duckdb


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the classification of every distinct (code, enhanced code, text)."""
