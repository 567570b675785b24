"""NPS over the store (analysis order 40): result tables ``nps_summary``, ``nps_trend`` and
``nps_segments``.

* ``nps_summary`` — one row per interval method (``wald``, ``adjusted_wald``): ``method``,
  ``n``, ``promoters``, ``passives``, ``detractors``, ``promoters_pct``, ``passives_pct``,
  ``detractors_pct``, ``nps``, ``center``, ``std_error``, ``ci_low``, ``ci_high``,
  ``confidence``;
* ``nps_trend`` — :func:`cxvalue.voice.nps.nps_trend` per month (``freq`` = ``M``) and
  quarter (``Q``), Wald intervals;
* ``nps_segments`` — :func:`cxvalue.voice.nps.nps_by` for each breakdown in long form:
  ``by`` (touchpoint, channel, product, wave, value_tier, member_tier, segment),
  ``segment`` (its value) and the NPS columns.
"""
from __future__ import annotations

import pandas as pd

from ..steps import Step, StepResult, StepSkipped, register
from ..store import declare, has_table

__all__ = ["BREAKDOWNS", "nps_frame", "nps_tables", "run_nps"]

#: response columns NPS is broken down by (when present), then customer attributes
BREAKDOWNS = ("touchpoint", "channel", "product", "wave")
CUSTOMER_BREAKDOWNS = ("member_tier", "segment")


declare("nps_summary", key=("method",), columns=("n", "nps", "ci_low", "ci_high", "promoters_pct", "detractors_pct"),
        doc="NPS with Wald and adjusted-Wald intervals.")
declare("nps_trend", key=("freq", "period"), columns=("nps", "ci_low", "ci_high", "nps_change", "p_value_change"),
        doc="NPS per month (M) and quarter (Q).")
declare("nps_segments", key=("by", "segment"), columns=("nps", "ci_low", "ci_high", "n", "small_sample"),
        doc="NPS per segment of each breakdown (touchpoint, channel, value tier, ...).")


def nps_frame(con, *, value_tier: bool = True) -> pd.DataFrame | None:
    """Answers with an NPS score from the store's responses, with ``value_tier`` (the CLV
    analysis' customer pyramid when present, else value quantiles; see
    :func:`cxvalue.perception.experience_value.customer_tiers`) and the
    customers' ``member_tier`` / ``segment`` joined in; None without NPS answers."""
    if not has_table(con, "responses"):
        return None
    r = con.table("responses")
    if "nps" not in r.columns:
        return None
    cols = [c for c in ("customer_id", "date", "nps", *BREAKDOWNS) if c in r.columns]
    df = r.filter(r.nps.notnull()).select(*cols).to_pandas()
    if df.empty:
        return None
    if "customer_id" in df.columns:
        if has_table(con, "customers"):
            cust = con.table("customers")
            extra = [c for c in CUSTOMER_BREAKDOWNS if c in cust.columns]
            if extra:
                cd = cust.select("customer_id", *extra).to_pandas().set_index("customer_id")
                df = df.join(cd, on="customer_id")
        if value_tier and has_table(con, "transactions"):
            from ..perception.experience_value import customer_tiers
            df["value_tier"] = df["customer_id"].map(customer_tiers(con))
    return df


def nps_tables(df: pd.DataFrame, *, confidence: float = 0.95, min_n: int = 30,
               breakdowns=None) -> dict[str, pd.DataFrame]:
    """The three NPS result tables from a frame of answers (see the module docstring)."""
    from .nps import nps_by, nps_score, nps_trend
    rows = []
    for method in ("wald", "adjusted_wald"):
        e = nps_score(df["nps"], method=method, confidence=confidence, min_n=min_n)
        rows.append(e.to_dict())
    summary = pd.DataFrame(rows)
    summary = summary[["method", "n", "promoters", "passives", "detractors", "promoters_pct", "passives_pct",
                       "detractors_pct", "nps", "center", "std_error", "ci_low", "ci_high", "confidence"]]
    trend = []
    if "date" in df.columns:
        for freq in ("M", "Q"):
            tr = nps_trend(df, "date", freq, confidence=confidence, min_n=min_n)
            tr.insert(0, "freq", freq)
            trend.append(tr)
    trend = pd.concat(trend, ignore_index=True) if trend else pd.DataFrame()
    segs = []
    for by in breakdowns or (*BREAKDOWNS, "value_tier", *CUSTOMER_BREAKDOWNS):
        if by not in df.columns or df[by].notna().sum() == 0:
            continue
        tab = nps_by(df, by, confidence=confidence, min_n=min_n).rename(columns={by: "segment"})
        tab["segment"] = tab["segment"].astype(str)
        tab.insert(0, "by", by)
        segs.append(tab)
    segments = pd.concat(segs, ignore_index=True) if segs else pd.DataFrame()
    return {"nps_summary": summary, "nps_trend": trend, "nps_segments": segments}


def run_nps(session) -> StepResult:
    df = nps_frame(session.con)
    if df is None:
        raise StepSkipped("responses has no NPS answers (column nps)")
    tables = {k: v for k, v in nps_tables(df).items() if not v.empty}
    s = tables["nps_summary"].iloc[0]
    return StepResult(tables, {"nps": float(s["nps"]), "answers": int(s["n"]),
                               "segments": int(tables["nps_segments"]["by"].nunique()) if "nps_segments" in tables else 0})


register(Step("nps", run_nps, needs=("responses",), writes=("nps_summary", "nps_trend", "nps_segments"),
              uses=("customer_value",), domain="voice", doc="NPS with intervals, trend and segments (C-level voice of the customer)."))
