"""Value multiplication (客户价值倍增, concepts.md B5, seed 001), computed in the engine.

Revenue of each customer by relationship year (1 = the 365.25 days from the first purchase)
is split into:

- ``base_revenue`` — purchases in the category of the customer's first purchase (the first
  purchase and its repeats: 首次购买/基本购买);
- ``upbuying_revenue`` — purchases in an up-buying category (upgrades: 上升购买; configurable);
- ``crossbuying_revenue`` — purchases in any other category (交叉购买);
- ``referral_revenue`` — revenue of the customers this customer referred, directly or through
  the customers they referred (推荐购买), placed in the referrer's relationship year.

with ``acquisition_cost`` (year 1) and ``serve_cost`` per customer per year. Averaged per
customer of a cohort (year of first purchase) this is the five-year table of seed 001.
Without a ``category`` column, ``product`` is used; without either, all revenue is base.
"""
from __future__ import annotations

import ibis
import pandas as pd

from ..timeutil import DAYS_PER
from .economics import _tx

COMPONENTS = ("base_revenue", "upbuying_revenue", "crossbuying_revenue", "referral_revenue")


def _first_day(t):
    return t.group_by("customer_id").aggregate(__first=t.__day.min(), __first_cat=t.__cat.argmin(t.__day))


def value_multiplication(transactions, referrals=None, acquisition=None, *, upbuy_categories=("upgrade",),
                         max_depth: int = 3):
    """Ibis expression: customer_id, cohort, relationship_year, the four revenue components,
    total_revenue, serve_cost, acquisition_cost, profit."""
    t = _tx(transactions)
    cat_col = "category" if "category" in t.columns else ("product" if "product" in t.columns else None)
    t = t.mutate(__cat=t[cat_col].cast("string").fill_null("") if cat_col else ibis.literal(""))
    f = _first_day(t)
    t = t.join(f, "customer_id")
    ry = ((t.__day.delta(t.__first, unit="day").cast("float64") / DAYS_PER["year"]).floor() + 1).cast("int64")
    up = t.__cat.isin(list(upbuy_categories)) if upbuy_categories else ibis.literal(False)
    t = t.mutate(relationship_year=ry, cohort=t.__first.year().cast("int64"),
                 __kind=ibis.cases((up, "up"), (t.__cat == t.__first_cat, "base"), else_="cross"))
    own = t.group_by(["customer_id", "cohort", "relationship_year"]).aggregate(
        base_revenue=t.__amt.sum(where=t.__kind == "base"), upbuying_revenue=t.__amt.sum(where=t.__kind == "up"),
        crossbuying_revenue=t.__amt.sum(where=t.__kind == "cross"), serve_cost=t.__cost.sum())
    own = own.mutate(referral_revenue=ibis.literal(0.0))
    parts = [own]
    if referrals is not None:
        r = ibis.memtable(referrals) if isinstance(referrals, pd.DataFrame) else referrals
        edges = r.select(referrer=r.referrer_id.cast("string"), referred=r.referred_id.cast("string"))
        # chains: (root, descendant) pairs up to max_depth, built by repeated self-joins
        level = edges.select(root=edges.referrer, node=edges.referred)
        chains = level
        for _ in range(max_depth - 1):
            e = edges.view()
            level = level.join(e, level.node == e.referrer).select(root=level.root, node=e.referred)
            chains = chains.union(level)
        chains = chains.filter(chains.root != chains.node).distinct()
        rt = t.select("customer_id", "__day", "__amt")
        rev = chains.join(rt, chains.node == rt.customer_id).join(f, chains.root == f.customer_id)
        rev = rev.mutate(relationship_year=((rev.__day.delta(rev.__first, unit="day").cast("float64") / DAYS_PER["year"])
                                            .floor() + 1).cast("int64"),
                         cohort=rev.__first.year().cast("int64"))
        rev = rev.filter(rev.relationship_year >= 1)
        ref = rev.group_by([rev.root.name("customer_id"), "cohort", "relationship_year"]).aggregate(
            referral_revenue=rev.__amt.sum())
        ref = ref.mutate(base_revenue=ibis.literal(0.0), upbuying_revenue=ibis.literal(0.0),
                         crossbuying_revenue=ibis.literal(0.0), serve_cost=ibis.literal(0.0))
        parts.append(ref.select(*own.columns))
    allp = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    out = allp.group_by(["customer_id", "cohort", "relationship_year"]).aggregate(
        **{c: allp[c].fill_null(0.0).sum() for c in COMPONENTS + ("serve_cost",)})
    if acquisition is not None:
        a = ibis.memtable(acquisition) if isinstance(acquisition, pd.DataFrame) else acquisition
        a = a.group_by("customer_id").aggregate(__acq=a.cost.cast("float64").sum())
        out = out.left_join(a, "customer_id").drop("customer_id_right")
        acq = ibis.ifelse(out.relationship_year == 1, out.__acq.fill_null(0.0), 0.0)
        out = out.mutate(acquisition_cost=acq).drop("__acq")
    else:
        out = out.mutate(acquisition_cost=ibis.literal(0.0))
    out = out.mutate(total_revenue=sum(out[c] for c in COMPONENTS))
    return out.mutate(profit=out.total_revenue - out.serve_cost - out.acquisition_cost)


def multiplication_table(per_customer: pd.DataFrame, *, years: int = 5, cohort: int | None = None) -> pd.DataFrame:
    """The seed-001 table: per relationship year, mean per customer of the cohort (all cohorts
    when None) of each revenue component, costs and profit; customers counted are those whose
    relationship had reached that year (first purchase at least ``year - 1`` years before the data end).
    """
    df = per_customer if cohort is None else per_customer[per_customer.cohort == cohort]
    n_cust = df.customer_id.nunique()
    if n_cust == 0:
        return pd.DataFrame()
    sums = df[df.relationship_year <= years].groupby("relationship_year")[
        list(COMPONENTS) + ["serve_cost", "acquisition_cost", "total_revenue", "profit"]].sum()
    eligible = df.attrs.get("eligible_by_year")
    denom = pd.Series(n_cust, index=sums.index) if eligible is None else eligible.reindex(sums.index).fillna(n_cust)
    out = sums.div(denom, axis=0)
    out["customers"] = denom.astype(int)
    out["cost_per_customer"] = out.serve_cost + out.acquisition_cost
    out["cumulative_profit"] = out.profit.cumsum()
    return out.reset_index()
