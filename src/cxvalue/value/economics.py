"""Relationship economics (concepts.md B1, B2, B3), computed in the engine.

- :func:`relationship_profitability` (B1): revenue, cost and profit per customer and period;
  cost = cost-to-serve from transactions (``cost`` column) plus, in the customer's first
  period, the acquisition cost (``acquisition`` table) when given.
- :func:`discounted_clv` (B3): ``CLV = Σ_{t=1..T} PR_t / (1+d)^t`` over relationship years
  t = 1..T (planning horizon), PR_t the profit of relationship year t. Years not yet
  observed are projected as ``PR_last · r^k`` with r the year-on-year retention of the data.
- :func:`seed_clv` (B2, seed 001): ``expected lifetime transactions × average amount per
  purchase − acquisition cost + net revenue of referred customers`` (direct referrals and
  indirect chains), each term reported.
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError, one_of
from ..timeutil import DAYS_PER

PERIODS = ("year", "month", "relationship_year")


def _tx(transactions, include_returns: bool = True):
    t = ibis.memtable(transactions) if isinstance(transactions, pd.DataFrame) else transactions
    for c in ("customer_id", "date", "amount"):
        if c not in t.columns:
            raise CxValueError(f"transactions lack column {c!r}: expected customer_id, date, amount")
    cost = t.cost.cast("float64").fill_null(0.0) if "cost" in t.columns else ibis.literal(0.0)
    return t.mutate(__day=t.date.cast("date"), __amt=t.amount.cast("float64"), __cost=cost)


def relationship_profitability(transactions, acquisition=None, *, period: str = "relationship_year"):
    """Ibis expression: customer_id, period, revenue, serve_cost, acquisition_cost, cost, profit.

    ``period``: "relationship_year" (1 = the 365.25 days from the first purchase), "year"
    (calendar year) or "month" (first day of the month)."""
    one_of("period", period, PERIODS)
    t = _tx(transactions)
    first = t.group_by("customer_id").aggregate(__first=t.__day.min())
    t = t.join(first, "customer_id")
    if period == "relationship_year":
        key = ((t.__day.delta(t.__first, unit="day").cast("float64") / DAYS_PER["year"]).floor() + 1).cast("int64")
    elif period == "year":
        key = t.__day.year().cast("int64")
    else:
        key = ibis.date(t.__day.year(), t.__day.month(), 1)
    t = t.mutate(period=key)
    out = t.group_by(["customer_id", "period"]).aggregate(revenue=t.__amt.sum(), serve_cost=t.__cost.sum(),
                                                         __is_first=(t.__day == t.__first).any())
    if acquisition is not None:
        a = ibis.memtable(acquisition) if isinstance(acquisition, pd.DataFrame) else acquisition
        a = a.group_by("customer_id").aggregate(__acq=a.cost.cast("float64").sum())
        out = out.left_join(a, "customer_id").drop("customer_id_right")
        acq = ibis.ifelse(out.__is_first, out.__acq.fill_null(0.0), 0.0)
    else:
        acq = ibis.literal(0.0)
    out = out.mutate(acquisition_cost=acq)
    out = out.mutate(cost=out.serve_cost + out.acquisition_cost)
    out = out.mutate(profit=out.revenue - out.cost)
    return out.select("customer_id", "period", "revenue", "serve_cost", "acquisition_cost", "cost", "profit")


def retention_by_relationship_year(profit: pd.DataFrame) -> pd.Series:
    """Share of customers active in relationship year t who are active in year t+1 (index t)."""
    active = profit[profit.revenue > 0].groupby("period").customer_id.nunique().sort_index()
    return (active.shift(-1) / active).dropna()


def discounted_clv(profit: pd.DataFrame, *, discount_rate: float = 0.10, horizon: int = 5,
                   retention: float | None = None, observed_years: pd.Series | None = None) -> pd.DataFrame:
    """B3 per customer from relationship-year profits (output of :func:`relationship_profitability`).

    ``observed_years`` (per customer, relationship years fully or partly observed) limits which
    years are taken from data; later years up to ``horizon`` are projected as
    ``PR_last · r^k`` with ``retention`` r (default: the mean year-on-year retention of the data).
    Returns customer_id-indexed ``pr_1..pr_T``, ``clv_discounted`` and ``projected_years``."""
    if not 0 <= discount_rate < 1:
        raise CxValueError(f"discount_rate must be in [0, 1), got {discount_rate!r}")
    if horizon < 1:
        raise CxValueError(f"horizon must be a positive number of years, got {horizon!r}")
    wide = profit.pivot_table(index="customer_id", columns="period", values="profit", aggfunc="sum").fillna(0.0)
    wide = wide.reindex(columns=range(1, horizon + 1), fill_value=0.0)
    if observed_years is None:
        observed_years = profit.groupby("customer_id").period.max()
    observed_years = observed_years.reindex(wide.index).fillna(horizon).clip(upper=horizon).astype(int)
    if retention is None:
        ret = retention_by_relationship_year(profit)
        retention = float(ret.mean()) if len(ret) else 0.0
    if not 0 <= retention <= 1:
        raise CxValueError(f"retention must be in [0, 1], got {retention!r}")
    years = np.arange(1, horizon + 1)
    pr = wide.to_numpy(dtype=float)
    last_idx = observed_years.to_numpy() - 1
    last = pr[np.arange(len(pr)), last_idx]
    ahead = years[None, :] - observed_years.to_numpy()[:, None]
    projected = np.where(ahead > 0, last[:, None] * retention ** np.maximum(ahead, 0), pr)
    disc = (1 + discount_rate) ** -years
    out = pd.DataFrame(projected, index=wide.index, columns=[f"pr_{y}" for y in years])
    out["clv_discounted"] = projected @ disc
    out["projected_years"] = np.maximum(horizon - observed_years.to_numpy(), 0)
    out.attrs.update(discount_rate=discount_rate, horizon=horizon, retention=retention)
    return out


def referral_value(referrals: pd.DataFrame, net_revenue: pd.Series, *, max_depth: int = 3) -> pd.DataFrame:
    """Net revenue of the customers each customer referred: direct (depth 1) and indirect
    (depth 2..max_depth: customers referred by those they referred, and so on).

    ``referrals``: referrer_id, referred_id; ``net_revenue``: per customer (index customer_id).
    Chains are followed without revisiting a customer (cycles in bad data stop there)."""
    if referrals is None or len(referrals) == 0:
        return pd.DataFrame(columns=["referral_direct", "referral_indirect", "referred_customers"]).rename_axis("customer_id")
    edges = referrals[["referrer_id", "referred_id"]].dropna().astype(str).drop_duplicates("referred_id")
    children = edges.groupby("referrer_id").referred_id.apply(list).to_dict()
    nr = net_revenue.astype(float)
    rows = {}
    for root in children:
        seen, frontier, direct, indirect, n = {root}, [root], 0.0, 0.0, 0
        for depth in range(1, max_depth + 1):
            nxt = [c for p in frontier for c in children.get(p, []) if c not in seen]
            seen.update(nxt)
            value = float(nr.reindex(nxt).fillna(0.0).sum()) if nxt else 0.0
            if depth == 1:
                direct = value
            else:
                indirect += value
            n += len(nxt)
            frontier = nxt
            if not frontier:
                break
        rows[root] = (direct, indirect, n)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["referral_direct", "referral_indirect",
                                                                 "referred_customers"]).rename_axis("customer_id")


def seed_clv(expected_transactions: pd.Series, average_amount: pd.Series, acquisition_cost: pd.Series | None = None,
             referrals: pd.DataFrame | None = None, net_revenue: pd.Series | None = None, *,
             max_depth: int = 3) -> pd.DataFrame:
    """B2 per customer, each term reported:
    ``clv_seed = expected_transactions × average_amount − acquisition_cost + referral_direct + referral_indirect``.

    ``expected_transactions``: expected transactions in the customer lifetime (e.g. observed +
    expected future from a BTYD model); ``average_amount``: per purchase; ``net_revenue`` (revenue
    minus cost per customer) values the referred customers."""
    idx = expected_transactions.index
    out = pd.DataFrame({"expected_transactions": expected_transactions.astype(float),
                        "average_amount": average_amount.reindex(idx).astype(float)})
    out["transaction_value"] = out.expected_transactions * out.average_amount
    out["acquisition_cost"] = (acquisition_cost.reindex(idx).fillna(0.0).astype(float)
                               if acquisition_cost is not None else 0.0)
    if referrals is not None and net_revenue is not None:
        ref = referral_value(referrals, net_revenue, max_depth=max_depth).reindex(idx).fillna(0.0)
    else:
        ref = pd.DataFrame(0.0, index=idx, columns=["referral_direct", "referral_indirect", "referred_customers"])
    out["referral_direct"] = ref.referral_direct.astype(float)
    out["referral_indirect"] = ref.referral_indirect.astype(float)
    out["referred_customers"] = ref.referred_customers.astype(int)
    out["clv_seed"] = out.transaction_value - out.acquisition_cost + out.referral_direct + out.referral_indirect
    return out.rename_axis("customer_id")
