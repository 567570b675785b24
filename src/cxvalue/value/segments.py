"""Value segmentation (concepts.md B6): the value matrix and RFM scores.

Value matrix (客户价值矩阵, seed 004): current value × potential value, each split high/low
at a threshold (default: the median — ``threshold=0.5`` quantile — or absolute values):

=============  ====================  =====================
               potential high         potential low
=============  ====================  =====================
current high   platinum 白金: pursue   iron 铁质: maintain
current low    gold 黄金: target        lead 铅质: de-prioritise
=============  ====================  =====================

Labels and strategies are configurable. RFM: recency (days since last purchase, lower is
better), frequency (purchases) and monetary (spend) each scored 1–5 by quintile (5 best).
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError
from ..timeutil import as_date

TIERS = {("high", "high"): "platinum", ("low", "high"): "gold", ("high", "low"): "iron", ("low", "low"): "lead"}
STRATEGIES = {"platinum": "pursue", "gold": "target", "iron": "maintain", "lead": "deprioritise"}


def _split(values: pd.Series, threshold: float, absolute: bool, name: str) -> tuple[pd.Series, float]:
    v = values.astype(float)
    if absolute:
        cut = float(threshold)
    else:
        if not 0 < threshold < 1:
            raise CxValueError(f"{name}_threshold must be a quantile in (0, 1) (or give absolute=True), got {threshold!r}")
        cut = float(v.quantile(threshold))
    return pd.Series(np.where(v > cut, "high", "low"), index=v.index), cut


def value_matrix(current: pd.Series, potential: pd.Series, *, current_threshold: float = 0.5,
                 potential_threshold: float = 0.5, absolute: bool = False, tiers: dict | None = None,
                 strategies: dict | None = None) -> pd.DataFrame:
    """Per customer: current_value, potential_value, current_level, potential_level, value_tier,
    strategy. Thresholds are quantiles (default medians) unless ``absolute=True``; the cut
    values used are in ``result.attrs``."""
    idx = current.index.union(potential.index)
    cur = current.reindex(idx).fillna(0.0)
    pot = potential.reindex(idx).fillna(0.0)
    cl, ccut = _split(cur, current_threshold, absolute, "current")
    pl, pcut = _split(pot, potential_threshold, absolute, "potential")
    tiers = {**TIERS, **(tiers or {})}
    strategies = {**STRATEGIES, **(strategies or {})}
    tier = [tiers[(c, p)] for c, p in zip(cl, pl)]
    out = pd.DataFrame({"current_value": cur.astype(float), "potential_value": pot.astype(float),
                        "current_level": cl, "potential_level": pl, "value_tier": tier}, index=idx)
    out["strategy"] = out.value_tier.map(strategies)
    out.attrs.update(current_cut=ccut, potential_cut=pcut)
    return out.rename_axis("customer_id")


def matrix_summary(matrix: pd.DataFrame) -> pd.DataFrame:
    """Customers, share and value per tier (platinum, gold, iron, lead order)."""
    g = matrix.groupby("value_tier").agg(customers=("current_value", "size"), current_value=("current_value", "sum"),
                                         potential_value=("potential_value", "sum"))
    g = g.reindex([t for t in ("platinum", "gold", "iron", "lead") if t in g.index])
    g["customer_share"] = g.customers / g.customers.sum()
    for c in ("current_value", "potential_value"):
        total = g[c].sum()
        g[f"{c}_share"] = g[c] / total if total else 0.0
    g["strategy"] = [matrix.loc[matrix.value_tier == t, "strategy"].iloc[0] for t in g.index]
    return g.reset_index()


def rfm_table(transactions, *, as_of=None):
    """Ibis expression: customer_id, last_purchase, recency_days, frequency (purchases), monetary (spend)."""
    t = ibis.memtable(transactions) if isinstance(transactions, pd.DataFrame) else transactions
    d = t.date.cast("date")
    as_of_lit = ibis.literal(as_date(as_of, "as_of"), type="date") if as_of is not None else None
    if as_of_lit is not None:
        t = t.filter(d <= as_of_lit)
        d = t.date.cast("date")
    agg = t.group_by("customer_id").aggregate(last_purchase=d.max(), frequency=t.count(),
                                               monetary=t.amount.cast("float64").sum())
    ref = as_of_lit if as_of_lit is not None else t.date.cast("date").max().as_scalar()
    return agg.mutate(recency_days=ref.delta(agg.last_purchase, unit="day").cast("int64"))


def rfm_scores(rfm: pd.DataFrame, *, bins: int = 5) -> pd.DataFrame:
    """Quantile scores 1..bins for R (recent = high), F and M, plus ``rfm_score`` ("545") and total."""
    out = rfm.copy()

    def score(x: pd.Series, ascending: bool) -> pd.Series:
        r = x.rank(method="first", ascending=ascending)
        return (np.ceil(r / len(x) * bins)).clip(1, bins).astype(int)
    if len(out):
        out["r_score"] = score(-out.recency_days.astype(float), True)
        out["f_score"] = score(out.frequency.astype(float), True)
        out["m_score"] = score(out.monetary.astype(float), True)
        out["rfm_score"] = out.r_score.astype(str) + out.f_score.astype(str) + out.m_score.astype(str)
        out["rfm_total"] = out.r_score + out.f_score + out.m_score
    return out
