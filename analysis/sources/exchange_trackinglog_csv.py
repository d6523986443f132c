"""`Get-MessageTrackingLog | Export-Csv` (or `ConvertTo-Csv > file`) from Exchange Server.

Layout: ../shared/formats/exchange_onprem.md section 2 — the raw log's fields CamelCased
(`Timestamp`, `EventId`, `Recipients`, `Sender` ...), optional `#TYPE` line, `PS*`
columns from remoting. `Timestamp` is the local time of the machine that ran the
shell, culture-formatted, with no offset: it is read in the zone the user gives.
`Recipients` is often the literal `System.String[]` (recipient unknown, row kept).
"""

from __future__ import annotations

import duckdb

from ._base import ParseOptions, ParseResult, register
from ._io import SourceFile
from ._tabular import valid_tz
from ._trace_common import (
    PS_ARRAY,
    columns,
    csv_head,
    day_first,
    has_cols,
    q,
    raw_csv_sql,
    read_ps_csv,
)
from ._tracking import FIELDS, REQUIRED, tracking_result


@register
class ExchangeTrackingLogCsv:
    NAME = "exchange_trackinglog_csv"
    SIDE = "trace"
    DESCRIPTION = "Exchange Server Get-MessageTrackingLog exported with Export-Csv (server local time)"

    def sniff(self, src: SourceFile) -> float:
        headers, _ = csv_head(src)
        if not has_cols(headers, "Timestamp", "EventId", "MessageId"):
            return 0.0
        score = 0.85
        if has_cols(headers, "InternalMessageId"):
            score += 0.05
        if has_cols(headers, "Recipients") or has_cols(headers, "RecipientStatus"):
            score += 0.05
        if has_cols(headers, "Source", "ServerHostname"):
            score += 0.04
        return score

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        tz = valid_tz(opts.tz, src.name)
        headers, header_line = csv_head(src)
        cols = columns(src, headers, FIELDS, REQUIRED, header_line)
        table = read_ps_csv(src, con)
        present = {f for f, h in cols.items() if h}
        base = (
            "SELECT row_no, " + raw_csv_sql(table.headers) + " AS raw, NULL::VARCHAR AS _pre_error, "
            + ", ".join(f"nullif(trim({q(h)}), '') AS {f}" for f, h in cols.items() if h)
            + f" FROM {table.name}"
        )
        dayfirst = day_first(con, table.name, [cols["time"] or ""])
        lost = con.execute(
            f"SELECT count(*) FROM {table.name} WHERE trim({q(cols['recipient_address'])}) = ?",  # noqa: S608
            [PS_ARRAY]).fetchall()[0][0] if cols["recipient_address"] else 0
        notes = {"records": table.rows_read, "date_order": "day/month" if dayfirst else "month/day"}
        if lost:
            # exchange_onprem.md 2.2: plain Export-Csv writes arrays as their type name.
            notes["recipients_not_exported"] = lost
        return tracking_result(con, base, src.sha256[:12], tz=tz, dayfirst=dayfirst,
                               result_tz=tz, present=present, extra_rejected=table.rejected,
                               notes=notes)
