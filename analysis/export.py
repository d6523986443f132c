"""Writing tables for people: CSV with spreadsheet-formula neutralisation."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

# Cells starting with these are run as formulas by Excel/LibreOffice (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as formulas."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV (UTF-8 with BOM so Excel reads accents) of a neutralised frame."""
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")


def write_csv(df: pd.DataFrame, out: str | Path) -> None:
    """Write a neutralised CSV to a file, or to stdout for '-'."""
    if str(out) == "-":
        safe_frame(df).to_csv(sys.stdout, index=False)
    else:
        Path(out).write_bytes(to_csv_bytes(df))
