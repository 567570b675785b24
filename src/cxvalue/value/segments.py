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

Value tiers on one value alone (:func:`value_tiers`, used where there is no value matrix):
``high`` above the 80th percentile of value, ``medium`` above the median, ``low`` below;
:data:`TIER_ORDER` is the display order of both kinds of tier.
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError
from ..timeutil import as_date

TIERS = {("high", "high"): "platinum", ("low", "high"): "gold", ("high", "low"): "iron", ("low", "low"): "lead"}
STRATEGIES = {"platinum": "pursue", "gold": "target", "iron": "maintain", "lead": "deprioritise"}
#: value tiers on one value (:func:`value_tiers`), best first
VALUE_TIERS = ("high", "medium", "low")
#: the quantiles of value above which a customer is ``high`` / ``medium``
TIER_QUANTILES = {"high": 0.8, "medium": 0.5}
#: display order of value tiers: the value matrix (customer pyramid), then the quantile tiers
TIER_ORDER = ("platinum", "gold", "iron", "lead", *VALUE_TIERS)


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


def value_tiers(values, *, high: float = TIER_QUANTILES["high"], medium: float = TIER_QUANTILES["medium"]) -> pd.Series:
    """Value tier of each customer: ``high`` when the value is above its ``high`` quantile
    (default the top 20%), ``medium`` above the ``medium`` quantile (default the median),
    ``low`` otherwise; missing values count as 0 and equal values share a tier.

    ``values`` is a Series of values per customer or a frame with a ``value`` column (e.g.
    :func:`cxvalue.value.customer_value.customer_values`)."""
    if isinstance(values, pd.DataFrame):
        if "value" not in values.columns:
            raise CxValueError(f"value_tiers: expected a 'value' column, got {list(map(str, values.columns))}")
        values = values["value"]
    for name, q in (("high", high), ("medium", medium)):
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise CxValueError(f"{name}={q!r} is not valid: expected a quantile between 0 and 1")
    if medium >= high:
        raise CxValueError(f"medium ({medium}) must be below high ({high})")
    v = pd.to_numeric(values, errors="coerce").astype(float).fillna(0.0)
    hi, mid = v.quantile(high), v.quantile(medium)
    return pd.Series(np.where(v > hi, "high", np.where(v > mid, "medium", "low")), index=values.index,
                     name="value_tier")


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
