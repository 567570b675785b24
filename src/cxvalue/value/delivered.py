"""Customer delivered value (客户让渡价值, B7) and share of wallet (钱包份额, B8).

B7 (Kotler): total customer value TCV from the survey's ``value_<item>`` ratings (product,
service, personnel, image value …) and total customer cost TCC from its ``cost_<item>``
ratings (money, time, energy, psychic cost), each a (weighted) mean of its items on the
declared scale; delivered value ``TCDV = TCV − TCC`` (absolute) and ``TCV / TCC`` (ratio).
Compared across segments or offerings with a Welch t-test between each group and the rest.

B8: share of wallet = the customer's spend with us over the last 12 months (before
``as_of``) / their yearly category spend (``customers.category_spend``), capped at 1.
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from ..errors import CxValueError
from ..timeutil import as_date


def _items(df: pd.DataFrame, prefix: str, weights: dict | None) -> tuple[list[str], np.ndarray]:
    cols = [c for c in df.columns if str(c).startswith(prefix)]
    if not cols:
        raise CxValueError(f"no {prefix}<item> columns: customer delivered value needs survey items named "
                           f"value_<item> and cost_<item> (e.g. value_product, cost_time)")
    w = np.array([float((weights or {}).get(c[len(prefix):], (weights or {}).get(c, 1.0))) for c in cols])
    if (w < 0).any() or w.sum() == 0:
        raise CxValueError(f"weights of the {prefix}* items must be >= 0 and not all 0, got {dict(zip(cols, w))}")
    return cols, w / w.sum()


def delivered_value(responses: pd.DataFrame, *, value_weights: dict | None = None,
                    cost_weights: dict | None = None) -> pd.DataFrame:
    """Per response: total_customer_value, total_customer_cost, delivered_value, delivered_value_ratio."""
    vcols, vw = _items(responses, "value_", value_weights)
    ccols, cw = _items(responses, "cost_", cost_weights)

    def wmean(cols, w):
        x = responses[cols].astype(float).to_numpy()
        mask = ~np.isnan(x)
        ww = mask * w
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ww.sum(1) > 0, np.nansum(x * w, 1) / ww.sum(1), np.nan)
    tcv, tcc = wmean(vcols, vw), wmean(ccols, cw)
    out = pd.DataFrame({"total_customer_value": tcv, "total_customer_cost": tcc}, index=responses.index)
    out["delivered_value"] = out.total_customer_value - out.total_customer_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        out["delivered_value_ratio"] = np.where(out.total_customer_cost > 0, tcv / tcc, np.nan)
    return out


def compare_delivered_value(responses: pd.DataFrame, by: str, **kw) -> pd.DataFrame:
    """Mean TCV, TCC, TCDV and ratio per group of ``by`` (segment or offering), with a 95% CI of
    the mean TCDV and a Welch t-test of each group against the rest; the offering with the
    larger TCDV "wins the purchase"."""
    if by not in responses.columns:
        raise CxValueError(f"column {by!r} not in the responses: expected one of {', '.join(map(str, responses.columns))}")
    dv = delivered_value(responses, **kw)
    dv[by] = responses[by].values
    rows = []
    for g, part in dv.groupby(by, sort=True):
        x = part.delivered_value.dropna()
        rest = dv.loc[dv[by] != g, "delivered_value"].dropna()
        se = x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.nan
        spread = len(x) > 1 and len(rest) > 1 and (x.std() > 0 or rest.std() > 0)
        p = stats.ttest_ind(x, rest, equal_var=False).pvalue if spread else np.nan
        rows.append({by: g, "n": len(x), "total_customer_value": part.total_customer_value.mean(),
                     "total_customer_cost": part.total_customer_cost.mean(), "delivered_value": x.mean(),
                     "ci_low": x.mean() - 1.96 * se, "ci_high": x.mean() + 1.96 * se,
                     "delivered_value_ratio": part.delivered_value_ratio.mean(), "p_value_vs_rest": p})
    out = pd.DataFrame(rows).sort_values("delivered_value", ascending=False).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def share_of_wallet(transactions, customers, *, as_of=None):
    """Ibis expression: customer_id, spend_12m, category_spend, share_of_wallet (customers with a
    category spend only)."""
    t = ibis.memtable(transactions) if isinstance(transactions, pd.DataFrame) else transactions
    c = ibis.memtable(customers) if isinstance(customers, pd.DataFrame) else customers
    if "category_spend" not in c.columns:
        raise CxValueError("share of wallet needs customers.category_spend (the customer's yearly category spend)")
    d = t.date.cast("date")
    end = (ibis.literal(as_date(as_of, "as_of"), type="date") if as_of is not None else d.max().as_scalar())
    recent = t.filter((d > end - ibis.interval(days=365)) & (d <= end))
    spend = recent.group_by("customer_id").aggregate(spend_12m=recent.amount.cast("float64").sum())
    cc = c.filter(c.category_spend.notnull() & (c.category_spend > 0)).select("customer_id", "category_spend")
    j = cc.left_join(spend, "customer_id")
    j = j.mutate(spend_12m=j.spend_12m.fill_null(0.0))
    return j.select("customer_id", "spend_12m", "category_spend",
                    share_of_wallet=ibis.least(j.spend_12m / j.category_spend, 1.0))
