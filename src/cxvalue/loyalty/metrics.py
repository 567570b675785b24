"""Loyalty metrics computed in the engine (concepts C1, C2, C3, C5).

Every function takes an Ibis backend ``con`` (:func:`cxvalue.store.connect`) and reads
the contract tables from it; scans, joins and group-bys run in the engine (DuckDB,
PySpark, ...) and only one compact row per group comes back as pandas.

Conventions shared by all functions (see docs/loyalty.md):

* a **purchase** is a transaction row that is not a return (``is_return`` false or
  missing); returns are ignored. ``category`` restricts the analysis to some product
  categories (e.g. ``"ticket"``: tickets without add-ons).
* a **purchase occasion** is a (customer, calendar day) with at least one purchase —
  a ticket and the add-ons bought with it are one occasion. A **repeat** occasion is
  any occasion after the customer's first.
* dates are compared as DATEs (``CAST(date AS DATE)``; the engine works in UTC), the
  as-of date defaults to the last transaction day, and ``since``/``until`` restrict the
  transactions to a period (inclusive days).
* rates come with Wilson score intervals (``ci_low``/``ci_high``) and a ``small_sample``
  flag below ``min_n`` customers.

C1 :func:`repeat_purchase_rate` by ``channel``; C2 the same by ``product`` (or
``category``); C3 :func:`service_loyalty` (premium-service users vs others); C5
:func:`incentive_share` (how much repeat buying is driven by points / coupons).
C4 lives in :mod:`cxvalue.loyalty.segments`.
"""
from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from ..errors import CxValueError
from ..timeutil import DAYS_PER, as_date

__all__ = ["MIN_N", "wilson_interval", "purchases", "as_of_date", "repeat_purchase_rate", "service_loyalty",
           "incentive_share"]

MIN_N = 30   #: fewer customers than this in a group → small_sample


# --------------------------------------------------------------------------- helpers
def wilson_interval(k, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of the proportion k/n (arrays; NaN where n = 0)."""
    if not 0 < confidence < 1:
        raise CxValueError(f"confidence={confidence!r} is not valid: expected a number between 0 and 1")
    k, n = np.asarray(k, float), np.asarray(n, float)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo, hi = np.where(n > 0, mid - half, np.nan), np.where(n > 0, mid + half, np.nan)
    return np.clip(lo, 0, 1), np.clip(hi, 0, 1)


def _table(con, name: str, needs=()):
    from ..store import table
    t = table(con, name)
    missing = [c for c in needs if c not in t.columns]
    if missing:
        raise CxValueError(f"table {name!r} lacks column(s) {missing}: expected {', '.join(needs)}; "
                           f"it has {', '.join(t.columns)}")
    return t


def purchases(con, *, category=None, since=None, until=None):
    """Ibis expression of the purchases (non-return transactions) with a ``day`` DATE column,
    optionally restricted to ``category`` (a name or list) and to days in [since, until]."""
    tx = _table(con, "transactions", ("customer_id", "date", "amount"))
    if "is_return" in tx.columns:
        tx = tx.filter(~tx.is_return.fill_null(False))
    if category is not None:
        if "category" not in tx.columns:
            raise CxValueError("category=... needs a 'category' column in transactions; it has "
                               f"{', '.join(tx.columns)}")
        cats = [category] if isinstance(category, str) else list(category)
        tx = tx.filter(tx.category.isin(cats))
    tx = tx.mutate(day=tx.date.cast("date"))
    if since is not None:
        tx = tx.filter(tx.day >= ibis.literal(as_date(since, "since"), type="date"))
    if until is not None:
        tx = tx.filter(tx.day <= ibis.literal(as_date(until, "until"), type="date"))
    return tx


def as_of_date(con, as_of=None, *, until=None) -> dt.date:
    """The as-of date: ``as_of`` when given, else ``until``, else the last transaction day."""
    if as_of is not None:
        return as_date(as_of, "as_of")
    if until is not None:
        return as_date(until, "until")
    tx = _table(con, "transactions", ("date",))
    last = tx.date.max().execute()
    if last is None or pd.isna(last):
        raise CxValueError("transactions is empty: nothing to measure loyalty on")
    return as_date(last, "the last transaction date")


def _check_by(t, by: str, table: str = "transactions"):
    if by not in t.columns:
        raise CxValueError(f"by={by!r} is not a column of {table}: expected one of {', '.join(t.columns)}")


def _finish_rate(df: pd.DataFrame, k: str, n: str, rate: str, confidence: float, min_n: int) -> pd.DataFrame:
    df[rate] = df[k] / df[n].where(df[n] > 0)
    lo, hi = wilson_interval(df[k], df[n], confidence)
    df["ci_low"], df["ci_high"] = lo, hi
    df["small_sample"] = df[n] < min_n
    return df


# --------------------------------------------------------------------------- C1 / C2
def repeat_purchase_rate(con, by: str = "channel", *, category=None, since=None, until=None,
                         confidence: float = 0.95, min_n: int = MIN_N) -> pd.DataFrame:
    """Repeat-purchase rate per ``by`` value: channel loyalty (C1, ``by="channel"``) and
    product loyalty (C2, ``by="product"`` or ``"category"``).

    A customer counts for a channel when they made at least one purchase occasion there, and
    as a repeat customer of it with two or more occasions there. One row per value of ``by``
    (missing values as ``"(missing)"``), most customers first: ``customers``,
    ``repeat_customers``, ``repeat_rate`` with Wilson ``ci_low``/``ci_high``,
    ``occasions``, ``occasions_per_customer``, ``revenue`` (purchase amounts),
    ``revenue_share`` and ``small_sample``.
    """
    tx = purchases(con, category=category, since=since, until=until)
    _check_by(tx, by)
    tx = tx.mutate(__g=tx[by].cast("string").fill_null("(missing)"))
    occ = tx.group_by(["customer_id", "__g", "day"]).aggregate(__amt=tx.amount.sum())
    pc = occ.group_by(["customer_id", "__g"]).aggregate(__n=occ.count(), __amt=occ.__amt.sum())
    agg = pc.group_by("__g").aggregate(customers=pc.count(), repeat_customers=pc.count(where=pc.__n >= 2),
                                       occasions=pc.__n.sum(), revenue=pc.__amt.sum())
    df = agg.to_pandas().rename(columns={"__g": by})
    if df.empty:
        raise CxValueError("no purchases to measure repeat buying on (check category, since and until)")
    for c in ("customers", "repeat_customers", "occasions"):
        df[c] = df[c].astype("int64")
    df["revenue"] = df["revenue"].astype(float)
    df = _finish_rate(df, "repeat_customers", "customers", "repeat_rate", confidence, min_n)
    df["occasions_per_customer"] = df["occasions"] / df["customers"]
    df["revenue_share"] = df["revenue"] / df["revenue"].sum()
    df = df.sort_values(["customers", by], ascending=[False, True], ignore_index=True)
    return df[[by, "customers", "repeat_customers", "repeat_rate", "ci_low", "ci_high", "occasions",
               "occasions_per_customer", "revenue", "revenue_share", "small_sample"]]


# --------------------------------------------------------------------------- C3
def service_loyalty(con, *, flag: str = "vip", window_days: int = 365, as_of=None, category=None,
                    confidence: float = 0.95, min_n: int = MIN_N) -> pd.DataFrame:
    """Service loyalty (C3): retention and spend of customers who use a premium service
    (``customers.<flag>`` true, e.g. VIP desk, dedicated manager) versus the others.

    Per customer, from purchases up to ``as_of``: first and last purchase day, occasions,
    spend. Groups ``flag`` = True (``group`` = ``"<flag>"``) and False (``"other"``):

    * ``customers`` — with at least one purchase;
    * ``retention_rate`` (Wilson CI) — among the ``cohort`` who first bought at least
      ``window_days`` before ``as_of``, the share who bought again in the last
      ``window_days`` (still active);
    * ``repeat_rate`` — share with two or more purchase occasions;
    * ``spend_12m`` — mean spend per cohort customer in the last ``window_days``;
    * ``spend_per_purchase`` — purchase amount per occasion (all customers);
    * ``purchases_per_year`` — occasions per year of tenure (first purchase to ``as_of``,
      at least ``window_days``/4);
    * ``churn_rate`` — share with a record in ``churn_events`` (when that table exists).
    """
    if int(window_days) < 1:
        raise CxValueError(f"window_days={window_days!r} is not valid: expected a positive number of days")
    cust = _table(con, "customers", ("customer_id",))
    if flag not in cust.columns:
        raise CxValueError(f"flag={flag!r} is not a column of customers: service loyalty needs a yes/no column "
                           f"marking premium-service users (e.g. 'vip'); customers has {', '.join(cust.columns)}")
    end = as_of_date(con, as_of)
    tx = purchases(con, category=category, until=end)
    end_lit = ibis.literal(end, type="date")
    occ = tx.group_by(["customer_id", "day"]).aggregate(__amt=tx.amount.sum())
    occ = occ.mutate(__ago=end_lit.delta(occ.day, unit="day"))
    pc = occ.group_by("customer_id").aggregate(
        __first=occ.__ago.max(), __last=occ.__ago.min(), __n=occ.count(), __amt=occ.__amt.sum(),
        __amt12=occ.__amt.sum(where=occ.__ago < window_days))
    c = cust.select(customer_id=cust.customer_id, __flag=cust[flag].cast("boolean").fill_null(False))
    j = pc.join(c, "customer_id")
    w = int(window_days)
    j = j.mutate(__cohort=j.__first >= w, __active=j.__last < w,
                 __tenure=ibis.greatest(j.__first, w / 4).cast("float64") / DAYS_PER["year"])
    agg = j.group_by("__flag").aggregate(
        customers=j.count(), cohort=j.count(where=j.__cohort),
        retained=j.count(where=j.__cohort & j.__active), repeat_customers=j.count(where=j.__n >= 2),
        __spend12=j.__amt12.fill_null(0).sum(where=j.__cohort), __amt=j.__amt.sum(), __occ=j.__n.sum(),
        purchases_per_year=(j.__n.cast("float64") / j.__tenure).mean())
    df = agg.to_pandas()
    if df.empty:
        raise CxValueError("no customer with purchases to compare: check the customers and transactions tables")
    if "churn_events" in con.list_tables():
        ch = con.table("churn_events")
        churned = ch.select("customer_id").distinct().mutate(__ch=ibis.literal(1))
        jj = j.left_join(churned, j.customer_id == churned.customer_id)
        cr = jj.group_by("__flag").aggregate(churned=jj.count(where=jj.__ch.notnull())).to_pandas()
        df = df.merge(cr, on="__flag", how="left")
    df["group"] = np.where(df["__flag"].astype(bool), flag, "other")
    for col in ("customers", "cohort", "retained", "repeat_customers"):
        df[col] = df[col].astype("int64")
    df = _finish_rate(df, "retained", "cohort", "retention_rate", confidence, min_n)
    df["repeat_rate"] = df["repeat_customers"] / df["customers"]
    df["spend_12m"] = df["__spend12"].astype(float) / df["cohort"].where(df["cohort"] > 0)
    df["spend_per_purchase"] = df["__amt"].astype(float) / df["__occ"].astype(float)
    df["purchases_per_year"] = df["purchases_per_year"].astype(float)
    cols = ["group", "customers", "cohort", "retained", "retention_rate", "ci_low", "ci_high", "repeat_rate",
            "spend_12m", "spend_per_purchase", "purchases_per_year"]
    if "churned" in df.columns:
        df["churn_rate"] = df["churned"].fillna(0) / df["customers"]
        cols.append("churn_rate")
    cols.append("small_sample")
    df = df.sort_values("group", key=lambda s: s != flag, ignore_index=True)
    out = df[cols]
    out.attrs.update(as_of=str(end), window_days=w, flag=flag)
    return out


# --------------------------------------------------------------------------- C5
def incentive_share(con, *, by: str | None = None, category=None, since=None, until=None,
                    driven_share: float = 0.5, confidence: float = 0.95, min_n: int = MIN_N) -> pd.DataFrame:
    """How much repeat buying is driven by incentives (points, coupons) — C5.

    Needs ``transactions.incentive``. A purchase row is *repeat* when it falls on a later
    day than the customer's first purchase (within ``category``, over all time up to
    ``until``; ``since`` only limits which repeat purchases are counted). One row for all
    purchases (``group`` = ``"all"``) or one per value of ``by`` (a transactions column,
    e.g. ``channel``; or ``member_tier``/``segment``/``vip`` taken from customers):

    ``purchases``, ``first_purchases``, ``repeat_purchases``, ``incentive_repeat``,
    ``incentive_share`` of repeat purchases (Wilson CI), ``incentive_amount_share`` (of
    repeat purchase money), ``incentive_share_first`` (the same share on first
    purchases, for contrast), ``repeat_customers`` and ``incentive_driven_customers``:
    repeat buyers with at least ``driven_share`` of their repeat purchases on incentive,
    and their share ``incentive_driven_share``.
    """
    tx = purchases(con, category=category, until=until)
    if "incentive" not in tx.columns:
        raise CxValueError("incentive share needs an 'incentive' column in transactions (true when a purchase was "
                           "made with points, a coupon or another incentive)")
    first = tx.group_by("customer_id").aggregate(__first=tx.day.min())
    t = tx.join(first, "customer_id")
    t = t.mutate(__rep=t.day > t.__first, __inc=t.incentive.fill_null(False))
    if since is not None:
        t = t.filter(t.day >= ibis.literal(as_date(since, "since"), type="date"))
    gcol = "__g"
    if by is None:
        t = t.mutate(__g=ibis.literal("all"))
    elif by in t.columns:
        t = t.mutate(__g=t[by].cast("string").fill_null("(missing)"))
    else:
        cust = _table(con, "customers", ("customer_id",))
        if by not in cust.columns:
            raise CxValueError(f"by={by!r} is neither a column of transactions nor of customers")
        cc = cust.select(customer_id=cust.customer_id, __g=cust[by].cast("string").fill_null("(missing)"))
        t = t.join(cc, "customer_id")
    agg = t.group_by(gcol).aggregate(
        purchases=t.count(), first_purchases=t.count(where=~t.__rep), repeat_purchases=t.count(where=t.__rep),
        incentive_repeat=t.count(where=t.__rep & t.__inc), incentive_first=t.count(where=~t.__rep & t.__inc),
        __amt_rep=t.amount.sum(where=t.__rep), __amt_inc=t.amount.sum(where=t.__rep & t.__inc))
    rep = t.filter(t.__rep)
    pc = rep.group_by([gcol, "customer_id"]).aggregate(__n=rep.count(), __k=rep.count(where=rep.__inc))
    pcs = pc.group_by(gcol).aggregate(
        repeat_customers=pc.count(),
        incentive_driven_customers=pc.count(where=pc.__k.cast("float64") >= driven_share * pc.__n.cast("float64")))
    df = agg.to_pandas().merge(pcs.to_pandas(), on=gcol, how="left")
    if df.empty:
        raise CxValueError("no purchases to measure incentive-driven repeat buying on")
    for col in ("purchases", "first_purchases", "repeat_purchases", "incentive_repeat", "incentive_first",
                "repeat_customers", "incentive_driven_customers"):
        df[col] = df[col].fillna(0).astype("int64")
    df = df.rename(columns={gcol: "group"})
    df = _finish_rate(df, "incentive_repeat", "repeat_purchases", "incentive_share", confidence, min_n)
    df["small_sample"] = df["repeat_customers"] < min_n
    df["incentive_amount_share"] = df["__amt_inc"].astype(float).fillna(0) / df["__amt_rep"].astype(float)
    df["incentive_share_first"] = df["incentive_first"] / df["first_purchases"].where(df["first_purchases"] > 0)
    df["incentive_driven_share"] = df["incentive_driven_customers"] / df["repeat_customers"].where(
        df["repeat_customers"] > 0)
    df = df.sort_values(["purchases", "group"], ascending=[False, True], ignore_index=True)
    return df[["group", "purchases", "first_purchases", "repeat_purchases", "incentive_repeat", "incentive_share",
               "ci_low", "ci_high", "incentive_amount_share", "incentive_share_first", "repeat_customers",
               "incentive_driven_customers", "incentive_driven_share", "small_sample"]]
