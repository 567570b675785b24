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

from ..errors import CxValueError
from ..steps import Step, StepResult, StepSkipped, register
from ..store import declare, has_table

__all__ = ["BREAKDOWNS", "nps_answers", "nps_frame", "nps_tables", "segments_long", "summary_frame", "run_nps"]

#: response columns NPS is broken down by (when present), then customer attributes
BREAKDOWNS = ("touchpoint", "channel", "product", "wave")
CUSTOMER_BREAKDOWNS = ("member_tier", "segment")


declare("nps_summary", key=("method",), columns=("n", "nps", "ci_low", "ci_high", "promoters_pct", "detractors_pct"),
        doc="NPS with Wald and adjusted-Wald intervals.")
declare("nps_trend", key=("freq", "period"), columns=("nps", "ci_low", "ci_high", "nps_change", "p_value_change"),
        doc="NPS per month (M) and quarter (Q).")
declare("nps_segments", key=("by", "segment"), columns=("nps", "ci_low", "ci_high", "n", "small_sample"),
        doc="NPS per segment of each breakdown (touchpoint, channel, value tier, ...).")


def nps_answers(con, *, score: str = "nps", date_col: str = "date", columns=(), value_tier=None,
                as_of=None) -> pd.DataFrame:
    """The store's answers with a ``score`` (0-10) as pandas: ``customer_id``, ``date_col``,
    ``score``, the response breakdowns (touchpoint, channel, product, wave) and any of
    ``columns`` that responses has, the customers' ``member_tier`` / ``segment`` joined in,
    and ``value_tier`` (:func:`cxvalue.value.customer_value.customer_tiers`: the CLV
    analysis' customer pyramid when present, else value quantiles) when ``value_tier`` is
    true — or, when None, when ``columns`` asks for it. Errors name the missing table or column."""
    if not has_table(con, "responses"):
        raise CxValueError("the store has no responses: load them with `cxvalue load responses FILE`")
    r = con.table("responses")
    if score not in r.columns:
        raise CxValueError(f"--score {score!r} is not a column of the survey data; columns: "
                           f"{', '.join(map(str, r.columns[:20]))}")
    want = ["customer_id", date_col, score, *BREAKDOWNS, *columns]
    cols = [c for c in dict.fromkeys(want) if c in r.columns]
    df = r.filter(r[score].notnull()).select(*cols).to_pandas()
    if "customer_id" in df.columns and len(df):
        if has_table(con, "customers"):
            cust = con.table("customers")
            extra = [c for c in CUSTOMER_BREAKDOWNS if c in cust.columns and c not in df.columns]
            if extra:
                cd = cust.select("customer_id", *extra).to_pandas().set_index("customer_id")
                df = df.join(cd, on="customer_id")
        if value_tier is None:
            value_tier = "value_tier" in columns
        if value_tier and "value_tier" not in df.columns and has_table(con, "transactions"):
            from ..value.customer_value import customer_tiers
            df["value_tier"] = df["customer_id"].map(customer_tiers(con, as_of=as_of))
    return df


def nps_frame(con, *, value_tier: bool = True, as_of=None) -> pd.DataFrame | None:
    """The answers of :func:`nps_answers` with an ``nps`` score (``value_tier`` joined in);
    None without NPS answers."""
    if not has_table(con, "responses") or "nps" not in con.table("responses").columns:
        return None
    df = nps_answers(con, value_tier=value_tier, as_of=as_of)
    return None if df.empty else df


def segments_long(df: pd.DataFrame, breakdowns, *, score_col: str = "nps", method: str = "wald",
                  confidence: float = 0.95, min_n: int = 30) -> pd.DataFrame:
    """:func:`cxvalue.voice.nps.nps_by` of each breakdown column in long form: ``by``,
    ``segment`` (its value, as text) and the NPS columns; breakdowns without values are left out."""
    from .nps import nps_by
    segs = []
    for by in breakdowns:
        if by not in df.columns or df[by].notna().sum() == 0:
            continue
        tab = nps_by(df, by, score_col=score_col, method=method, confidence=confidence, min_n=min_n)
        tab = tab.rename(columns={by: "segment"})
        tab["segment"] = tab["segment"].astype(str)
        tab.insert(0, "by", by)
        segs.append(tab)
    return pd.concat(segs, ignore_index=True) if segs else pd.DataFrame()


def summary_frame(scores, *, confidence: float = 0.95, min_n: int = 30, first: str = "wald") -> pd.DataFrame:
    """One row per interval method (``first`` first) of :func:`cxvalue.voice.nps.nps_score`."""
    from .nps import METHODS, nps_score
    rows = [nps_score(scores, method=m, confidence=confidence, min_n=min_n).to_dict()
            for m in sorted(METHODS, key=lambda m: m != first)]
    summary = pd.DataFrame(rows)
    return summary[["method", "n", "promoters", "passives", "detractors", "promoters_pct", "passives_pct",
                    "detractors_pct", "nps", "center", "std_error", "ci_low", "ci_high", "confidence"]]


def nps_tables(df: pd.DataFrame, *, confidence: float = 0.95, min_n: int = 30,
               breakdowns=None) -> dict[str, pd.DataFrame]:
    """The three NPS result tables from a frame of answers (see the module docstring)."""
    from .nps import nps_trend
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
    return {"nps_summary": summary, "nps_trend": trend, "nps_segments": segments}


def run_nps(session) -> StepResult:
    df = nps_frame(session.con, as_of=session.as_of)
    if df is None:
        raise StepSkipped("responses has no NPS answers (column nps)")
    tables = {k: v for k, v in nps_tables(df).items() if not v.empty}
    s = tables["nps_summary"].iloc[0]
    return StepResult(tables, {"nps": float(s["nps"]), "answers": int(s["n"]),
                               "segments": int(tables["nps_segments"]["by"].nunique()) if "nps_segments" in tables else 0})


register(Step("nps", run_nps, needs=("responses",), writes=("nps_summary", "nps_trend", "nps_segments"),
              uses=("customer_value",), domain="voice", doc="NPS with intervals, trend and segments (C-level voice of the customer)."))
