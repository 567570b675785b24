"""Per-customer purchase summaries for the BTYD models, computed in the engine (Ibis).

:func:`rfm_summary` turns a transactions table into one row per customer:

- ``frequency`` — number of *repeat* purchase periods (periods with a purchase, minus the first);
- ``recency`` — time from the first to the last purchase period;
- ``T`` — time from the first purchase period to the end of calibration;
- ``monetary_value`` — mean spend per repeat purchase period (first period excluded; 0 when none);
- with ``calibration_end`` and ``observation_end``: ``frequency_holdout``,
  ``monetary_value_holdout`` and ``duration_holdout`` for purchases after the cut-off.

Purchases in the same ``merge`` period (a day by default) count once, their amounts summed.

**Returns and cancellations** (rows with ``is_return`` true; their amount counts as negative
whatever its sign), one rule for every analysis built on this summary (BTYD frequency and
recency, monetary value and Gamma-Gamma, CLV, the value tiers and matrix, experience value):

1. a return whose ``order_id`` is the order id of a purchase of the same customer is matched to
   that order: it reduces the order's spend, and an order returned in full (net spend <= 0) is no
   purchase at all — its purchase occasion goes (unless other orders fall in the same period);
2. an unmatched return reduces the spend of the customer's purchase period it falls in or, when
   it falls in none, of the last one before it (a return before any purchase is ignored: its
   purchase is outside the data);
3. a period's spend never goes below 0, so no negative monetary value reaches Gamma-Gamma.
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
    day = t[date_col].cast("date")
    t = t.mutate(__cid=t[customer_col].cast("string"), __p=_period_start(day, merge),
                 __amt=(t[amount_col].cast("float64") if amount_col else ibis.literal(0.0)))
    # one cheap query: whether there are returns (the returns rule needs joins and a window) and
    # the last purchase period (the default calibration end)
    rule = "is_return" in t.columns and not include_returns
    if rule:
        buy = ~t.is_return.fill_null(False)
        facts = t.aggregate(__any=(~buy).any(), __last=t.__p.max(where=buy)).to_pandas().iloc[0]
    else:
        facts = t.aggregate(__last=t.__p.max()).to_pandas().iloc[0]
    if rule and bool(facts.get("__any")):
        t = purchase_periods(t, amount=amount_col is not None)
    else:
        t = t.group_by(["__cid", "__p"]).aggregate(__amt=t.__amt.sum())
    cal_end = as_date(calibration_end, "calibration_end") if calibration_end is not None else None
    if cal_end is None:
        if observation_end is not None:
            raise CxValueError("observation_end needs calibration_end (the cut-off between calibration and holdout)")
        last = facts["__last"]
        if last is None or pd.isna(last):
            raise CxValueError("transactions has no dated purchase: nothing to summarise")
        cal_end = as_date(last, "calibration_end")
    obs_end = as_date(observation_end, "observation_end") if observation_end is not None else None
    if obs_end is not None and obs_end <= cal_end:
        raise CxValueError(f"observation_end {obs_end} must be after calibration_end {cal_end}")
    cal_lit = ibis.literal(cal_end, type="date")
    periods = t
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


def purchase_periods(t, *, amount: bool = True):
    """Purchase periods ``(__cid, __p, __amt)`` of transactions ``t`` (with ``__cid``, ``__p``,
    ``__amt`` and ``is_return``) after the returns rule of the module docstring."""
    ret = t.is_return.fill_null(False)
    oid = t.order_id.cast("string") if "order_id" in t.columns else ibis.null().cast("string")
    t = t.mutate(__oid=oid, __r=ret)
    # a purchase without an order id is its own order within its period
    buys = t.filter(~t.__r)
    buys = buys.mutate(__oid=buys.__oid.fill_null("~no order id~" + buys.__p.cast("string")))
    rets = t.filter(t.__r).mutate(__amt=-t.__amt.abs())
    orders = buys.group_by(["__cid", "__oid"]).aggregate(__op=buys.__p.min(), __oamt=buys.__amt.sum())
    on = ["__cid", "__oid"]
    matched = rets.filter(rets.__oid.notnull()).semi_join(orders, on)
    matched = matched.group_by(on).aggregate(__mret=matched.__amt.sum())
    orders = orders.left_join(matched, on).select("__cid", "__oid", "__op", "__oamt", "__mret")
    net = orders.__oamt + orders.__mret.fill_null(0.0)
    cancelled = orders.__mret.notnull() & ((net <= 0) if amount else ibis.literal(True))
    kept = orders.filter(~cancelled)   # (a purchase of 0, e.g. a free item, stays a purchase)
    kept = kept.mutate(__net=(kept.__oamt + kept.__mret.fill_null(0.0)))
    buy_p = kept.group_by(["__cid", kept.__op.name("__p")]).aggregate(__amt=kept.__net.sum())
    if not amount:   # no amounts: a matched return cancels its order, unmatched ones change nothing
        return buy_p
    unmatched = rets.anti_join(orders.filter(orders.__oid.notnull()), on)
    ret_p = unmatched.group_by(["__cid", "__p"]).aggregate(__ramt=unmatched.__amt.sum())
    both = buy_p.mutate(__buy=True, __ramt=0.0).select("__cid", "__p", "__amt", "__buy", "__ramt").union(
        ret_p.mutate(__amt=0.0, __buy=False).select("__cid", "__p", "__amt", "__buy", "__ramt"))
    w = ibis.window(group_by="__cid", order_by="__p", preceding=None, following=0)
    # the purchase period a row's returns count against: its own, or the last one before it
    both = both.mutate(__tp=ibis.ifelse(both.__buy, both.__p, ibis.null().cast("date")).max().over(w))
    both = both.filter(both.__tp.notnull())
    out = both.group_by(["__cid", both.__tp.name("__p")]).aggregate(__amt=(both.__amt + both.__ramt).sum())
    return out.mutate(__amt=ibis.greatest(out.__amt, 0.0))


def summary_frame(transactions, **kwargs) -> pd.DataFrame:
    """:func:`rfm_summary` executed: a pandas DataFrame indexed by customer, sorted by id."""
    customer_col = kwargs.get("customer_col", "customer_id")
    df = rfm_summary(transactions, **kwargs).to_pandas()
    return df.set_index(customer_col).sort_index()
