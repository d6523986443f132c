"""Column-mapping fallback: any CSV/XLSX whose columns the user maps to `sends` fields.

Never sniffed: chosen with `--format mapped` / `--mapping NAME`, or on the Upload page.
"""

from __future__ import annotations

import duckdb

from ..errors import InputError
from ._base import ParseOptions, ParseResult, register
from ._espmap import csv_to_sends, to_sends
from ._io import SourceFile
from ._tabular import read_xlsx


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
        if not src.is_zip:
            return csv_to_sends(src, con, opts, opts.mapping)
        return to_sends(src, con, read_xlsx(src, con), opts.mapping, opts)
