"""Column-mapping fallback: any CSV/XLSX whose columns the user maps to `sends` fields.

Never sniffed: chosen with `--format mapped` / `--mapping NAME`, or on the Upload page.
"""

from __future__ import annotations

import duckdb

from ..errors import InputError
from ._base import ParseOptions, ParseResult, register
from ._espmap import to_sends
from ._io import SourceFile
from ._tabular import read_csv, read_xlsx


@register
class MappedTable:
    NAME = "mapped"
    SIDE = "esp"
    DESCRIPTION = "Any CSV or XLSX export, with columns mapped by the user (saved mappings reusable)"

    def sniff(self, src: SourceFile) -> float:
        return 0.0

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        if not opts.mapping:
            raise InputError(src.name, "the 'mapped' format needs a column mapping",
                             hint="choose the columns on the Upload page or pass --mapping NAME")
        table = read_xlsx(src, con) if src.is_zip else read_csv(src, con)
        return to_sends(src, con, table, opts.mapping, opts)
