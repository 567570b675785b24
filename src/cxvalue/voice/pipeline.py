"""NPS over the store (step "nps"): result tables ``nps_summary``, ``nps_trend`` and
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
from .inputs import BREAKDOWNS, CUSTOMER_BREAKDOWNS, nps_answers

__all__ = ["BREAKDOWNS", "CUSTOMER_BREAKDOWNS", "nps_frame", "nps_tables", "run_nps"]


declare("nps_summary", key=("method",), columns=("n", "nps", "ci_low", "ci_high", "promoters_pct", "detractors_pct"),
        doc="NPS with Wald and adjusted-Wald intervals.")
declare("nps_trend", key=("freq", "period"), columns=("nps", "ci_low", "ci_high", "nps_change", "p_value_change"),
        doc="NPS per month (M) and quarter (Q).")
declare("nps_segments", key=("by", "segment"), columns=("nps", "ci_low", "ci_high", "n", "small_sample"),
        doc="NPS per segment of each breakdown (touchpoint, channel, value tier, ...).")
declare("nps_pairwise", key=("by", "a", "b"), columns=("difference", "p_value", "p_adjusted", "significant"),
        doc="NPS of every pair of segments of each breakdown compared (Holm-adjusted p).")


def nps_frame(con, *, value_tier: bool = True, as_of=None) -> pd.DataFrame | None:
    """The answers of :func:`cxvalue.voice.inputs.nps_answers` with an ``nps`` score (``value_tier`` joined in);
    None without NPS answers."""
    if not has_table(con, "responses") or "nps" not in con.table("responses").columns:
        return None
    df = nps_answers(con, value_tier=value_tier, as_of=as_of)
    return None if df.empty else df


def nps_tables(df: pd.DataFrame, *, confidence: float = 0.95, min_n: int = 30,
               breakdowns=None) -> dict[str, pd.DataFrame]:
    """The NPS result tables from a frame of answers (see the module docstring); ``nps_pairwise``:
    every pair of segments of each breakdown compared, Holm-adjusted."""
    from .nps import MAX_PAIRS_SEGMENTS, nps_pairwise, nps_trend, segments_long, summary_frame
    summary = summary_frame(df["nps"], confidence=confidence, min_n=min_n)
    trend = []
    if "date" in df.columns:
        for freq in ("M", "Q"):
            tr = nps_trend(df, "date", freq, confidence=confidence, min_n=min_n)
            tr.insert(0, "freq", freq)
            trend.append(tr)
    trend = pd.concat(trend, ignore_index=True) if trend else pd.DataFrame()
    segments = segments_long(df, breakdowns or (*BREAKDOWNS, "value_tier", *CUSTOMER_BREAKDOWNS),
                             confidence=confidence, min_n=min_n)
    pairs = []
    for by in dict.fromkeys(segments["by"]) if len(segments) else []:
        if (~segments.loc[segments["by"] == by, "small_sample"].astype(bool)).sum() <= MAX_PAIRS_SEGMENTS:
            pw = nps_pairwise(df, by, confidence=confidence, min_n=min_n)
            pw.insert(0, "by", by)
            pairs.append(pw)
    pairwise = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame()
    return {"nps_summary": summary, "nps_trend": trend, "nps_segments": segments, "nps_pairwise": pairwise}


def run_nps(session) -> StepResult:
    df = nps_frame(session.con, as_of=session.as_of)
    if df is None:
        raise StepSkipped("responses has no NPS answers (column nps)")
    tables = {k: v for k, v in nps_tables(df).items() if not v.empty}
    s = tables["nps_summary"].iloc[0]
    return StepResult(tables, {"nps": float(s["nps"]), "answers": int(s["n"]),
                               "segments": int(tables["nps_segments"]["by"].nunique()) if "nps_segments" in tables else 0})


register(Step("nps", run_nps, needs=("responses",), writes=("nps_summary", "nps_trend", "nps_segments", "nps_pairwise"),
              uses=("customer_value",), domain="voice", doc="NPS with intervals, trend and segments (C-level voice of the customer)."))
