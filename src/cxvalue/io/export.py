"""Writing a table for people to open: CSV (UTF-8 with a BOM, so that Excel reads Chinese) or
Excel .xlsx, with every text cell that a spreadsheet would run as a formula neutralised.

Following the OWASP guidance on CSV injection, a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading apostrophe (``'=1+1``): the spreadsheet shows
the text instead of evaluating it. Numbers are left as numbers; in .xlsx every text cell is
written as a string, never as a formula.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import CxValueError

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """``value`` with a leading apostrophe when it is a text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) are neutralised."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_table(df: pd.DataFrame, path: str | Path, *, sheet: str = "data") -> Path:
    """Write ``df`` to ``path`` (.csv or .xlsx by its suffix), neutralised; the folder must exist."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise CxValueError(f"{path}: expected a .csv or .xlsx file name")
    if not path.parent.exists():
        raise CxValueError(f"{path}: the folder {str(path.parent)!r} does not exist")
    safe = safe_frame(df)
    for c in safe.columns:       # time zones and missing values as Excel can show them
        if isinstance(safe[c].dtype, pd.DatetimeTZDtype):
            safe[c] = safe[c].dt.tz_localize(None)
    if suffix == ".csv":
        safe.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        safe.to_excel(path, index=False, sheet_name=sheet[:31], engine="openpyxl")
    return path
