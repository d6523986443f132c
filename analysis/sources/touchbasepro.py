"""TouchBasePro / Campaign Monitor subscriber-activity and bounce exports (CSV and XLSX).

Layout: ../shared/formats/esp_exports.md section 1.1 (reconstructed; columns are mapped
by header synonyms, never by position). Dates are in the account's time zone.
"""

from __future__ import annotations

import duckdb

from ._base import ParseOptions, ParseResult, register
from ._espmap import auto_mapping, csv_to_sends, sniff_headers, to_sends
from ._io import SourceFile
from ._tabular import csv_headers, read_xlsx, xlsx_headers


@register
class TouchBaseProCsv:
    NAME = "touchbasepro_csv"
    SIDE = "esp"
    DESCRIPTION = "TouchBasePro / Campaign Monitor activity or bounce export (CSV), or any ESP CSV with recognisable headers"

    def sniff(self, src: SourceFile) -> float:
        if src.is_zip:
            return 0.0
        return sniff_headers(csv_headers(src))

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        return csv_to_sends(src, con, opts, opts.mapping or None)


@register
class TouchBaseProXlsx:
    NAME = "touchbasepro_xlsx"
    SIDE = "esp"
    DESCRIPTION = "TouchBasePro / Campaign Monitor activity or bounce export (XLSX)"

    def sniff(self, src: SourceFile) -> float:
        if not src.is_zip:
            return 0.0
        return sniff_headers(xlsx_headers(src))

    def parse(self, src: SourceFile, con: duckdb.DuckDBPyConnection,
              opts: ParseOptions) -> ParseResult:
        table = read_xlsx(src, con)
        return to_sends(src, con, table, opts.mapping or auto_mapping(table.headers), opts)
