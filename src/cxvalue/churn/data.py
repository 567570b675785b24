"""Small shared helpers of the churn analyses: dates, the end of the data, flat files, event flags.

Flat customer-level files (one row per customer, e.g. the IBM Telco sample with a
``Churn`` column) are not contract tables: the CLI reads them here with pandas rather
than through the loader.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CxValueError
from ..timeutil import as_date  # noqa: F401  (re-exported: the one date parser lives in timeutil)

#: values read as "the event happened" / "it did not" (case-insensitive, also in Chinese)
EVENT_TRUE = ("yes", "y", "true", "t", "1", "1.0", "churn", "churned", "left", "是", "流失")
EVENT_FALSE = ("no", "n", "false", "f", "0", "0.0", "stay", "stayed", "retained", "active", "否", "未流失", "留存")


def days(d: dt.date, n: int) -> dt.date:
    return d + dt.timedelta(days=int(n))


def data_end(con) -> dt.date:
    """The store's last activity date (:func:`cxvalue.store.last_activity_date`), the default as-of date."""
    from ..store import last_activity_date
    return last_activity_date(con)


def parse_event(values: pd.Series, name: str = "event") -> np.ndarray:
    """0/1 event indicator from Yes/No, 1/0, true/false (and Chinese 是/否) values.

    Raises a one-line error naming the first value that is neither."""
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s):
        return s.astype(int).to_numpy()
    if pd.api.types.is_numeric_dtype(s):
        bad = ~s.isin([0, 1])
        if bad.any():
            raise CxValueError(f"column {name!r}: expected 0/1, Yes/No or true/false, got {s[bad].iloc[0]!r} "
                               f"(row {int(np.flatnonzero(bad)[0]) + 2})")
        return s.astype(int).to_numpy()
    low = s.astype("string").str.strip().str.lower()
    yes, no = low.isin(EVENT_TRUE), low.isin(EVENT_FALSE)
    bad = ~(yes | no)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise CxValueError(f"column {name!r}: expected Yes/No, 1/0 or true/false, got {s.iloc[i]!r} (row {i + 2})")
    return yes.astype(int).to_numpy()


def read_flat_file(path: str | Path) -> pd.DataFrame:
    """A customer-level file (CSV/TXT in any common encoding, Excel, Parquet) as a DataFrame.

    Blank strings become missing; numeric-looking text columns with blanks (Telco's
    ``TotalCharges``) become numbers."""
    path = Path(path)
    if not path.exists():
        raise CxValueError(f"file {str(path)!r} not found")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        df = pd.read_excel(path)
    elif suffix in (".parquet", ".pq"):
        df = pd.read_parquet(path)
    elif suffix in (".csv", ".txt", ".tsv", ""):
        from ..io.readers import detect_encoding
        enc = detect_encoding(path)
        try:
            df = pd.read_csv(path, sep=None, engine="python", encoding=enc, skipinitialspace=True)
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise CxValueError(f"{path.name}: cannot read as CSV: {str(exc).splitlines()[0]}") from None
    else:
        raise CxValueError(f"{path.name}: unsupported file type {suffix!r}: expected .csv, .txt, .xlsx or .parquet")
    df.columns = [str(c).strip() for c in df.columns]
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            s = df[c].astype("string").str.strip()
            s = s.mask(s == "")
            num = pd.to_numeric(s, errors="coerce")
            if s.notna().sum() and num.notna().sum() == s.notna().sum():
                df[c] = num
            else:
                df[c] = s.astype(object).where(s.notna(), None)
    return df


def column(df: pd.DataFrame, name: str | None, what: str) -> str | None:
    """Resolve a user-given column name (case-insensitive); a clear error when missing."""
    if name is None:
        return None
    from ..columns import match_column
    found = match_column(df.columns, name, what, "the file")
    return next(c for c in df.columns if str(c) == found)


def id_column(df: pd.DataFrame, name: str | None = None) -> str | None:
    """The customer-id column of a flat file: ``name``, else one matching the contract's aliases."""
    if name:
        return column(df, name, "--id")
    from ..schema import CID, normalize_name
    aliases = {normalize_name(a) for a in CID + ("customer_id",)}
    for c in df.columns:
        if normalize_name(c) in aliases:
            return c
    return None
