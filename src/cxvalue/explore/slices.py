"""The numbers of a filtered dashboard, computed in the engine on the slice of customers and
events the :class:`~cxvalue.explore.filters.Filters` keep.

Each function returns small tidy frames (aggregates only); the NPS and its interval come from
:func:`cxvalue.voice.nps.nps_from_counts` on counts aggregated in the engine, so a filtered
NPS is the same estimate the ``nps`` step writes for everyone.
"""
from __future__ import annotations

import ibis
import pandas as pd

from ..store import has_table
from .filters import Filters, events

def _one(expr) -> dict:
    return expr.to_pyarrow().to_pylist()[0]


def _counts(t, by: str, **aggs) -> pd.DataFrame:
    return t.group_by(by).aggregate(customers=t.count(), **{k: v(t) for k, v in aggs.items()}) \
        .order_by(by).to_pandas()


def overview_slice(con, f: Filters) -> dict:
    out = {}
    if has_table(con, "customers"):
        from .drill import customer_table
        out["customers"] = int(customer_table(con, f).count().execute())
    if has_table(con, "transactions"):
        t = events(con, "transactions", f)
        row = _one(t.aggregate(transactions=t.count(), revenue=t.amount.sum(), buyers=t.customer_id.nunique()))
        out.update(row)
        m = t.mutate(month=t.date.truncate("M").cast("date"))
        out["monthly"] = m.group_by("month").aggregate(revenue=m.amount.sum(), customers=m.customer_id.nunique()) \
            .order_by("month").to_pandas()
    for table in ("responses", "complaints"):
        if has_table(con, table):
            out[table] = int(events(con, table, f).count().execute())
    return out


def _directory(con, f: Filters, needs: str):
    """The filtered customers (the precomputed directory, else the joins) that have a value in
    column ``needs``, or None when the column is missing (its analysis has not run)."""
    from .drill import customer_table
    t = customer_table(con, f)
    return t.filter(t[needs].notnull()) if needs in t.columns else None


def value_slice(con, f: Filters) -> dict | None:
    from ..value.segments import TIER_ORDER
    cv = _directory(con, f, "value_tier")
    if cv is None:
        return None
    totals = _one(cv.aggregate(customers=cv.count(), total_clv=cv.clv.sum(), mean_clv=cv.clv.mean(),
                               mean_p_alive=cv.p_alive.mean(), revenue_12m=cv.revenue_12m.sum()))
    tiers = _counts(cv, "value_tier", clv=lambda t: t.clv.sum(), revenue_12m=lambda t: t.revenue_12m.sum())
    rank = {v: i for i, v in enumerate(TIER_ORDER)}
    tiers = tiers.sort_values("value_tier", key=lambda s: s.map(lambda v: rank.get(v, len(rank)))).reset_index(drop=True)
    return {"totals": totals, "tiers": tiers}


def voice_slice(con, f: Filters, *, confidence: float = 0.95, min_n: int = 30) -> dict | None:
    """NPS overall, per month and per touchpoint of the filtered answers (``small_sample``:
    fewer than ``min_n`` answers)."""
    from ..voice.nps import nps_from_counts
    if not has_table(con, "responses") or "nps" not in con.table("responses").columns:
        return None
    r = events(con, "responses", f)
    r = r.filter(r.nps.notnull())
    cls = dict(promoters=(r.nps >= 9).cast("int64").sum(), passives=((r.nps >= 7) & (r.nps <= 8)).cast("int64").sum(),
               detractors=(r.nps <= 6).cast("int64").sum())

    def table(expr) -> pd.DataFrame:
        df = expr.to_pandas()
        rows = []
        for rec in df.to_dict("records"):
            p, a, d = (int(rec.pop(k) or 0) for k in ("promoters", "passives", "detractors"))
            est = nps_from_counts(p, a, d, confidence=confidence) if p + a + d else None
            rows.append({**rec, "n": p + a + d, "small_sample": p + a + d < min_n, "nps": getattr(est, "nps", None),
                         "ci_low": getattr(est, "ci_low", None), "ci_high": getattr(est, "ci_high", None),
                         "promoters_pct": 100.0 * p / (p + a + d) if p + a + d else None,
                         "detractors_pct": 100.0 * d / (p + a + d) if p + a + d else None})
        return pd.DataFrame(rows)

    out = {"summary": table(r.aggregate(**cls))}
    m = r.mutate(period=r.date.truncate("M").cast("date"))
    out["trend"] = table(m.group_by("period").aggregate(**cls).order_by("period"))
    if "touchpoint" in r.columns:
        out["touchpoints"] = table(r.group_by("touchpoint").aggregate(**cls).order_by("touchpoint"))
    return out


def loyalty_slice(con, f: Filters) -> dict | None:
    ls = _directory(con, f, "loyalty_segment")
    if ls is None:
        return None
    return {"segments": _counts(ls, "loyalty_segment")}


def churn_slice(con, f: Filters, *, top: int = 50) -> dict | None:
    cs = _directory(con, f, "p_churn")
    if cs is None:
        return None
    aggs = dict(customers=cs.count(), mean_p_churn=cs.p_churn.mean())
    if "value_at_risk" in cs.columns:
        aggs["value_at_risk"] = cs.value_at_risk.sum()
    out = {"totals": _one(cs.aggregate(**aggs)),
           "deciles": _counts(cs, "risk_decile", mean_p_churn=lambda t: t.p_churn.mean()),
           "reasons": _counts(cs, "main_reason")}
    if "value_at_risk" in cs.columns:
        cols = [c for c in ("customer_id", "p_churn", "value_at_risk", "main_reason", "action") if c in cs.columns]
        out["retention"] = cs.filter(cs.value_at_risk.notnull()).order_by(
            [ibis.desc("value_at_risk"), "customer_id"]).select(cols).limit(top).to_pandas()
    return out


def lifecycle_slice(con, f: Filters) -> dict | None:
    lc = _directory(con, f, "stage")
    if lc is None:
        return None
    st = _counts(lc, "stage", **({"mean_p_alive": lambda t: t.p_alive.mean()} if "p_alive" in lc.columns else {}))
    return {"stages": st.rename(columns={"stage": "current_stage"})}


SLICES = {"overview": overview_slice, "value": value_slice, "voice": voice_slice, "loyalty": loyalty_slice,
          "churn": churn_slice, "lifecycle": lifecycle_slice}


def slice_summary(con, view: str, f: Filters) -> dict | None:
    """The filtered numbers of dashboard ``view`` (None: the dashboard cannot honour filters or
    its tables are not in the store)."""
    fn = SLICES.get(view)
    return None if fn is None else fn(con, f)
