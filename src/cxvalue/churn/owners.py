"""Salesperson concentration (concepts.md F6): customers follow their salesperson when they leave.

For each owner (``customers.owner``: salesperson / account manager) of the active
customers: how many customers and how much value they hold, their share of all owned
value, and the value at risk if the owner leaves::

    value_at_risk_if_leaves = follow_probability × Σ value of the owner's customers

``follow_probability`` is 1 by default (the whole book walks out: an upper bound); set it
from experience, or let :func:`estimate_follow_probability` read it from churn events with a
salesperson reason. Also reported: the customers' own expected loss (Σ p_churn × value)
when scores are given, the cumulative share of value held by the largest owners, and the
Herfindahl–Hirschman index of value shares (1/n when value is spread evenly over n owners,
1 when one owner holds everything).
"""
from __future__ import annotations

import re

import pandas as pd

from ..errors import CxValueError
from ..store import has_table


def owner_concentration(values: pd.DataFrame, owners: pd.Series, *, scores: pd.DataFrame | None = None,
                        follow_probability: float = 1.0) -> pd.DataFrame:
    """One row per owner, largest book first: ``owner``, ``customers``, ``value``, ``value_share``,
    ``cumulative_share``, ``value_at_risk_if_leaves`` and, with ``scores`` (p_churn),
    ``expected_loss`` (Σ p_churn × value). ``attrs["hhi"]`` holds the concentration index."""
    if not 0 <= follow_probability <= 1:
        raise CxValueError(f"follow_probability={follow_probability!r}: expected a probability between 0 and 1")
    own = owners.dropna()
    own = own[own.astype(str).str.strip() != ""]
    if own.empty:
        raise CxValueError("no customer has an owner: fill customers.owner (salesperson / account manager)")
    df = pd.DataFrame({"owner": own.astype(str)})
    df["value"] = pd.to_numeric(values["value"], errors="coerce").reindex(df.index).fillna(0.0).clip(lower=0.0)
    if scores is not None:
        df["expected_loss"] = scores["p_churn"].reindex(df.index).fillna(0.0) * df.value
    g = df.groupby("owner").agg(customers=("value", "size"), value=("value", "sum"),
                                **({"expected_loss": ("expected_loss", "sum")} if scores is not None else {}))
    total = g.value.sum()
    g["value_share"] = g.value / total if total > 0 else 0.0
    g = g.sort_values(["value", "customers"], ascending=False)
    g["cumulative_share"] = g.value_share.cumsum()
    g["value_at_risk_if_leaves"] = follow_probability * g.value
    out = g.reset_index()
    cols = ["owner", "customers", "value", "value_share", "cumulative_share", "value_at_risk_if_leaves"]
    out = out[cols + (["expected_loss"] if scores is not None else [])]
    out.attrs["hhi"] = float((g.value_share ** 2).sum())
    out.attrs["follow_probability"] = follow_probability
    return out


def estimate_follow_probability(con, *, reason_pattern: str = r"salesperson|sales_rep|owner|account_manager|销售|客户经理",
                                min_followers: int = 3) -> float | None:
    """Share of a departed owner's customers who left with them, from churn events whose reason
    matches ``reason_pattern``. An owner counts as departed when at least ``min_followers`` of their
    customers left for that reason; returns None when no owner qualifies."""
    if not (has_table(con, "churn_events") and has_table(con, "customers")):
        return None
    cu = con.table("customers")
    ev = con.table("churn_events")
    if "owner" not in cu.columns or "reason" not in ev.columns:
        return None
    c = cu.select(cu.customer_id.cast("string").name("customer_id"), "owner").to_pandas()
    e = ev.select(ev.customer_id.cast("string").name("customer_id"), "reason").to_pandas()
    e = e[e.reason.fillna("").str.contains(reason_pattern, flags=re.IGNORECASE, regex=True)]
    book = c.dropna(subset=["owner"]).groupby("owner").size()
    follow = c.merge(e.drop_duplicates("customer_id"), on="customer_id").groupby("owner").size()
    departed = follow[follow >= min_followers]
    if departed.empty:
        return None
    return float(departed.sum() / book.reindex(departed.index).sum())


def owners_of(con) -> pd.Series | None:
    """``customers.owner`` as a Series indexed by customer_id, or None without an owner column."""
    if not has_table(con, "customers") or "owner" not in con.table("customers").columns:
        return None
    cu = con.table("customers")
    df = cu.select(cu.customer_id.cast("string").name("customer_id"), "owner").to_pandas().set_index("customer_id")
    s = df.owner
    return s if s.notna().any() else None

