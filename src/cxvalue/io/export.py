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


def _prepared(df: pd.DataFrame) -> pd.DataFrame:
    safe = safe_frame(df)
    for c in safe.columns:       # Excel has no time zones
        if isinstance(safe[c].dtype, pd.DatetimeTZDtype):
            safe[c] = safe[c].dt.tz_localize(None)
    return safe


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise CxValueError(f"{path}: expected a .csv or .xlsx file name")
    return suffix


def _excel(sheets: dict, target, *, format_sheet=None) -> None:
    """Every text cell as a string cell (openpyxl would turn a text starting with ``=`` into a
    formula; neutralised text never starts with it)."""
    with pd.ExcelWriter(target, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            _prepared(frame).to_excel(xw, sheet_name=str(name)[:31], index=False)
            if format_sheet is not None:
                format_sheet(str(name)[:31], xw.sheets[str(name)[:31]])


def write_table(df: pd.DataFrame, path: str | Path, *, sheet: str = "data") -> Path:
    """Write ``df`` to ``path`` (.csv or .xlsx by its suffix), neutralised; the folder must exist."""
    return write_sheets({sheet: df}, path)


def write_sheets(sheets: dict, path: str | Path, *, format_sheet=None) -> Path:
    """Write the frames ``sheets`` (sheet name → frame) to ``path``: an .xlsx with one sheet each,
    or a .csv of the first one; every text cell neutralised. ``format_sheet(name, worksheet)``
    may style each .xlsx sheet (openpyxl). The folder must exist."""
    path = Path(path)
    suffix = _suffix(path)
    if not path.parent.exists():
        raise CxValueError(f"{path}: the folder {str(path.parent)!r} does not exist")
    if suffix == ".csv":
        _prepared(next(iter(sheets.values()))).to_csv(path, index=False, encoding="utf-8-sig")
    else:
        _excel(sheets, path, format_sheet=format_sheet)
    return path


def table_bytes(df: pd.DataFrame, kind: str, *, sheet: str = "data") -> bytes:
    """``df`` as the bytes of a download: ``kind`` "csv" (UTF-8 with BOM) or "xlsx"; neutralised."""
    import io
    if kind == "csv":
        return ("\ufeff" + _prepared(df).to_csv(index=False)).encode("utf-8")
    if kind != "xlsx":
        raise CxValueError(f"export kind {kind!r}: expected csv or xlsx")
    buf = io.BytesIO()
    _excel({sheet: df}, buf)
    return buf.getvalue()
