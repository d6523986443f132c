"""Join ESP sends to recipient-server traces on message ID and give each a verdict.

Placeholder until the trace/join issue lands: `rebuild` is the store hook.
"""

from __future__ import annotations

import duckdb


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the journeys table from sends and trace_events."""
