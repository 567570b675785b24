"""Per-customer purchase summaries for the BTYD models, computed in the engine (Ibis).

:func:`rfm_summary` turns a transactions table into one row per customer:

- ``frequency`` — number of *repeat* purchase periods (periods with a purchase, minus the first);
- ``recency`` — time from the first to the last purchase period;
- ``T`` — time from the first purchase period to the end of calibration;
- ``monetary_value`` — mean spend per repeat purchase period (first period excluded; 0 when none);
- with ``calibration_end`` and ``observation_end``: ``frequency_holdout``,
  ``monetary_value_holdout`` and ``duration_holdout`` for purchases after the cut-off.

Purchases in the same ``merge`` period (a day by default) count once, their amounts summed.
Times are measured in ``unit`` (day, week = 7 days, month = 365.25/12 days, year = 365.25 days;
:data:`cxvalue.timeutil.DAYS_PER`) from calendar-day differences, the convention of Fader, Hardie & Lee (2005) and of
lifetimes' ``summary_data_from_transaction_data(freq="D", freq_multiplier=7)`` for weeks.
Date arithmetic is done on DATEs (no timestamp deltas) so DuckDB and Spark agree.
"""
from __future__ import annotations

import ibis
import pandas as pd

from ..errors import CxValueError, one_of
from ..timeutil import DAYS_PER, UNITS, as_date

MERGE = ("day", "week", "month")


def _period_start(d, merge: str):
    """First day of the merge period containing DATE expression ``d``."""
    if merge == "day":
        return d
    if merge == "month":
        return ibis.date(d.year(), d.month(), 1)
    # ISO week starting Monday: day_of_week.index() is 0 for Monday on every backend
    return d - d.day_of_week.index().cast("int32").as_interval("D")


def rfm_summary(transactions, *, customer_col: str = "customer_id", date_col: str = "date",
                amount_col: str | None = "amount", unit: str = "week", merge: str = "day",
                calibration_end=None, observation_end=None, include_returns: bool = False):
    """Ibis expression of the per-customer summary (see the module docstring).

    ``transactions`` is an Ibis table (``con.table("transactions")``) or a pandas DataFrame.
    ``calibration_end`` defaults to the last transaction date; ``observation_end`` (needs
    ``calibration_end``) adds the holdout columns. Customers whose first purchase is after
    ``calibration_end`` are left out. Execute with ``.to_pandas()`` or use :func:`summary_frame`.
    """
    one_of("unit", unit, UNITS)
    one_of("merge", merge, MERGE)
    t = ibis.memtable(transactions) if isinstance(transactions, pd.DataFrame) else transactions
    for col in (customer_col, date_col) + ((amount_col,) if amount_col else ()):
        if col not in t.columns:
            raise CxValueError(f"column {col!r} not in transactions: expected one of {', '.join(t.columns)}")
    if amount_col and not include_returns and "is_return" in t.columns:
        t = t.filter(~t.is_return.fill_null(False))
    day = t[date_col].cast("date")
    t = t.mutate(__cid=t[customer_col].cast("string"), __p=_period_start(day, merge),
                 __amt=(t[amount_col].cast("float64") if amount_col else ibis.literal(0.0)))
    cal_end = as_date(calibration_end, "calibration_end") if calibration_end is not None else None
    if cal_end is None:
        if observation_end is not None:
            raise CxValueError("observation_end needs calibration_end (the cut-off between calibration and holdout)")
        last = t.__p.max().execute()
        if last is None or pd.isna(last):
            raise CxValueError("transactions has no dated purchase: nothing to summarise")
        cal_end = as_date(last, "calibration_end")
    obs_end = as_date(observation_end, "observation_end") if observation_end is not None else None
    if obs_end is not None and obs_end <= cal_end:
        raise CxValueError(f"observation_end {obs_end} must be after calibration_end {cal_end}")
    cal_lit = ibis.literal(cal_end, type="date")
    periods = t.group_by(["__cid", "__p"]).aggregate(__amt=t.__amt.sum())
    cal = periods.filter(periods.__p <= cal_lit)
    agg = cal.group_by("__cid").aggregate(
        __first=cal.__p.min(), __last=cal.__p.max(), __n=cal.count(), __total=cal.__amt.sum(),
        __first_amt=cal.__amt.argmin(cal.__p))
    u = DAYS_PER[unit]
    out = agg.mutate(
        frequency=(agg.__n - 1).cast("int64"),
        recency=agg.__last.delta(agg.__first, unit="day").cast("float64") / u,
        T=cal_lit.delta(agg.__first, unit="day").cast("float64") / u,
        monetary_value=ibis.ifelse(agg.__n > 1, (agg.__total - agg.__first_amt) / (agg.__n - 1), 0.0),
    )
    cols = [out.__cid.name(customer_col), "frequency", "recency", "T", "monetary_value"]
    if obs_end is not None:
        obs_lit = ibis.literal(obs_end, type="date")
        hold = periods.filter((periods.__p > cal_lit) & (periods.__p <= obs_lit))
        h = hold.group_by("__cid").aggregate(__hn=hold.count(), __ht=hold.__amt.sum())
        out = out.left_join(h, out.__cid == h.__cid)
        out = out.mutate(frequency_holdout=out.__hn.fill_null(0).cast("int64"),
                         monetary_value_holdout=ibis.ifelse(out.__hn.fill_null(0) > 0, out.__ht / out.__hn, 0.0),
                         duration_holdout=ibis.literal(float((obs_end - cal_end).days) / u))
        cols += ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]
    return out.select(*cols)


def summary_frame(transactions, **kwargs) -> pd.DataFrame:
    """:func:`rfm_summary` executed: a pandas DataFrame indexed by customer, sorted by id."""
    customer_col = kwargs.get("customer_col", "customer_id")
    df = rfm_summary(transactions, **kwargs).to_pandas()
    return df.set_index(customer_col).sort_index()
