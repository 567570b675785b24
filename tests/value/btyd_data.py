"""Reference data for the BTYD tests (read from ../shared/data, never copied).

Imported by the test modules of this folder; fixtures are module-scoped there.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd


def cdnow_rounded(shared_data: Path) -> pd.DataFrame:
    """CDNOW sample summary as published with lifetimes: ID, x, t_x, T (2 decimals), zbar."""
    return pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv")


def cdnow_transactions(shared_data: Path) -> pd.DataFrame:
    """CDNOW 1/10 sample transactions (id = sample id 1..2357), same-day purchases merged."""
    t = pd.read_csv(shared_data / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                    names=["master_id", "id", "date", "cds", "amount"])
    t["date"] = pd.to_datetime(t["date"].astype(str), format="%Y%m%d")
    return t.groupby(["id", "date"], as_index=False)["amount"].sum()


def cdnow_exact(shared_data: Path) -> pd.DataFrame:
    """Calibration summary in exact weeks (days / 7) plus holdout counts, from the transactions.

    Calibration ends 1997-09-30 (week 39); holdout is 1997-10-01 .. 1998-06-30 (39 weeks).
    Columns: frequency, recency, T, frequency_holdout, first_week (weeks since 1997-01-01).
    """
    t = cdnow_transactions(shared_data)
    end = pd.Timestamp("1997-09-30")
    first = t.groupby("id")["date"].min()
    cal = t[t["date"] <= end].groupby("id")["date"]
    out = pd.DataFrame({
        "frequency": cal.size() - 1,
        "recency": (cal.max() - first).dt.days / 7.0,
        "T": (end - first).dt.days / 7.0,
        "frequency_holdout": t[t["date"] > end].groupby("id").size().reindex(first.index, fill_value=0),
        "first_week": (first - pd.Timestamp("1997-01-01")).dt.days / 7.0,
    })
    out.index.name = "customer_id"
    return out


def sig(value: float, digits: int = 4) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    if value == 0:
        return 0.0
    return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))


def as_published(value: float, reference: str) -> bool:
    """True when ``value`` rounds to ``reference`` at the number of decimals it is given with."""
    decimals = len(reference.split(".")[1]) if "." in reference else 0
    return np.isclose(round(value, decimals), float(reference), rtol=0, atol=10 ** -(decimals + 3))
