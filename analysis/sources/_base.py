"""What every source module provides: the canonical columns, ParseResult, Rejected, register."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from ._io import SourceFile

SIDES = ("esp", "trace")

# Canonical columns each parser may fill (the store adds import_id and fills the rest
# with NULL). Order is the table order.
SENDS_COLUMNS: dict[str, str] = {
    "row_no": "BIGINT",
    "campaign": "VARCHAR",
    "recipient": "VARCHAR",
    "recipient_domain": "VARCHAR",
    "event": "VARCHAR",
    "event_time": "TIMESTAMPTZ",
    "remote_id": "VARCHAR",
    "smtp_code": "INTEGER",
    "enhanced_code": "VARCHAR",
    "smtp_text": "VARCHAR",
    "bounce_type": "VARCHAR",
    # Additions beyond DESIGN.md's minimum, kept because users look for them.
    "bounce_reason": "VARCHAR",  # the ESP's own label, e.g. "Soft Bounce - General"
    "name": "VARCHAR",
    "subject": "VARCHAR",
    "sender": "VARCHAR",
    "message_id": "VARCHAR",  # RFC 5322 Message-ID when the ESP reports it
    "esp_message_id": "VARCHAR",  # the ESP's own ID (SES, SendGrid, Postmark, Mailgun)
    "raw": "VARCHAR",
}

TRACE_COLUMNS: dict[str, str] = {
    "row_no": "BIGINT",
    "format": "VARCHAR",
    "server": "VARCHAR",
    "event_time": "TIMESTAMPTZ",
    "message_id": "VARCHAR",
    "queue_id": "VARCHAR",
    "internal_id": "VARCHAR",
    "sender": "VARCHAR",
    "recipient": "VARCHAR",
    "recipient_domain": "VARCHAR",
    "event": "VARCHAR",
    "smtp_code": "INTEGER",
    "enhanced_code": "VARCHAR",
    "detail": "VARCHAR",
    # Additions: network/correlation IDs, subject, hosts, the raw row for the timeline.
    "network_id": "VARCHAR",
    "related_id": "VARCHAR",  # the next queue ID / NDR ID this event hands over to
    "subject": "VARCHAR",
    "client": "VARCHAR",
    "relay": "VARCHAR",
    "orig_recipient": "VARCHAR",
    "raw": "VARCHAR",
}

SEND_EVENTS = (
    "sent", "delivered", "bounced", "deferred", "opened", "clicked", "complained", "unsubscribed",
)
TRACE_EVENTS = (
    "received", "delivered", "junk", "quarantined", "deferred", "bounced", "failed",
    "rejected", "dropped", "expanded", "forwarded", "held", "other",
)


@dataclass(frozen=True)
class Rejected:
    """An input row that could not be loaded, with the reason."""

    row_no: int
    raw: str
    error: str


@dataclass(frozen=True)
class ParseOptions:
    """What the user told us about a file: its time zone, the year, a column mapping."""

    tz: str = "UTC"
    year: int | None = None
    mapping: dict[str, str] | None = None


@dataclass
class ParseResult:
    """Rows in the canonical columns of the source's side, plus what could not be loaded.

    `rows` is a DuckDB relation (preferred: bulk work stays in DuckDB) or a DataFrame.
    `rejected` is a list of Rejected, or a relation/DataFrame with row_no, raw, error.
    `rows_read` defaults to loaded + rejected. `tz` is the zone the file's naive
    timestamps were read in (`"file"` when every stamp carries its own offset).
    `notes` carries counts worth showing (skipped lines of other daemons, ...).
    `canonical` says `rows` already has every canonical column of the side, built
    with `_canon.canonical_sql`: the store then copies them as they are.
    """

    rows: Any
    rejected: Any = field(default_factory=list)
    rows_read: int | None = None
    tz: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    canonical: bool = False


class Source(Protocol):
    NAME: str
    SIDE: str
    DESCRIPTION: str

    def sniff(self, src: SourceFile) -> float: ...

    def parse(
        self, src: SourceFile, con: duckdb.DuckDBPyConnection, opts: ParseOptions
    ) -> ParseResult: ...


REGISTRY: dict[str, Source] = {}


def register(cls: type) -> type:
    """Class decorator: add a source to the registry under its NAME."""
    inst = cls()
    for attr in ("NAME", "SIDE", "DESCRIPTION"):
        if not getattr(inst, attr, None):
            raise TypeError(f"{cls.__name__} must define {attr}")
    if inst.SIDE not in SIDES:
        raise TypeError(f"{cls.__name__}.SIDE must be one of {SIDES}")
    if inst.NAME in REGISTRY:
        raise TypeError(f"two sources are named {inst.NAME!r}")
    REGISTRY[inst.NAME] = inst
    return cls


def rejected_frame(items: list[Rejected]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "row_no": pd.Series([r.row_no for r in items], dtype="int64"),
            "raw": pd.Series([r.raw for r in items], dtype="object"),
            "error": pd.Series([r.error for r in items], dtype="object"),
        }
    )


Sniffer = Callable[["SourceFile"], float]
