"""Did following up work? (H1 outcomes.) For each case rule, the customers whose case was worked
are compared with the rule's random **hold-out** (customers drawn at case creation and
deliberately not contacted, :mod:`cxvalue.holdout`) on what happened next:

* ``retention_90`` / ``retention_180`` — no churn event recorded within 90 / 180 days of the
  case opening (cases opened at least that long before the analysis clock);
* ``nps_change`` — the customer's next answer (at least ``resurvey_gap_days`` after the case
  opened and after the first contact, within ``resurvey_within_days``) minus the NPS of the
  answer that opened the case (survey cases);
* ``repurchase_90`` / ``repurchase_180`` — bought again (a purchase, not a return) within 90 / 180
  days of the case opening;
* ``spend_90`` / ``spend_180`` — the customer's spend (transactions, net of returns) in the
  90 / 180 days after the case opened; its comparison is adjusted for the spend in as many days
  before (CUPED: the same estimand, with much less variance on heavy-tailed spend).

Unit: each customer's **first** case of the rule (later cases of the same customer would count
the same follow-up twice). Groups: ``worked`` (every case not in the hold-out: the intention to
treat, a randomised comparison), and within it by timing of the first contact — the first
response of :func:`cxvalue.loop.cases.first_responses` — ``within_sla`` (at or before the SLA due time), ``late`` and
``not_reached`` (no contact). The hold-out draw makes *worked vs hold-out* causal; the timing
split inside the worked group is not randomised (the customers reached in time may differ), and
the output says so.

Differences of proportions have Newcombe's hybrid score interval (from Wilson intervals);
differences of means Welch's t interval; the relative change in churn a Katz log interval.

Where a rule has no hold-out (``holdout_share: 0`` or a rule older than its hold-out), the
contacted customers are compared with the not-reached ones **matched** on value tier, the NPS
band of the answer (0–3, 4–6, 7–8, 9–10) and tenure band (< 1, 1–3, ≥ 3 years): the difference
within each stratum weighted by the contacted customers in it (their average effect), with the
stratified variance. That comparison is observational and marked ``observational = True``.
"""
from __future__ import annotations

import datetime as dt
import math

import ibis
import numpy as np
import pandas as pd

from ..store import has_table

HORIZONS = (90, 180)
RESURVEY_GAP_DAYS = 14
RESURVEY_WITHIN_DAYS = 365
WINSOR = 0.99        # spend is capped at this pooled quantile before it is compared
MIN_GROUP = 30          # below this many cases a comparison is reported with a small-sample flag
Z95 = 1.959963984540054
METRICS = ("retention_90", "retention_180", "nps_change", "repurchase_90", "repurchase_180", "spend_90", "spend_180")
BINARY = ("retention_", "repurchase_")     # shares: Newcombe intervals
GROUPS = ("worked", "within_sla", "late", "not_reached")

OUTCOME_COLUMNS = ("rule", "metric", "horizon_days", "group", "control", "method", "observational", "n", "n_control",
                   "mean", "mean_control", "effect", "ci_low", "ci_high", "p_value", "relative_churn_change",
                   "rel_ci_low", "rel_ci_high", "small_sample")


def _days(ts, n: int):
    return ts + ibis.interval(days=n)


def case_outcome_frame(con, clock: dt.datetime, *, horizons=HORIZONS, resurvey_gap_days: int = RESURVEY_GAP_DAYS,
                       resurvey_within_days: int = RESURVEY_WITHIN_DAYS) -> pd.DataFrame | None:
    """One row per (rule, customer): the first rule-opened case of each customer with its group
    (``holdout``, ``within_sla``, ``late``, ``not_reached``), first contact, the outcomes above
    (NaN where not yet measurable at ``clock``) and the matching covariates (``value_tier``,
    ``nps_band``, ``tenure_band``). Computed in the engine; None before the first case."""
    if not has_table(con, "cases") or not has_table(con, "case_events"):
        return None
    c = con.table("cases")
    c = c.filter(c.rule.notnull() & (c.opened_at <= ibis.timestamp(clock)))
    w = ibis.window(group_by=[c.rule, c.customer_id], order_by=[c.opened_at, c.case_id])
    c = c.mutate(_rn=ibis.row_number().over(w))
    c = c.filter(c._rn == 0).drop("_rn")
    from .cases import first_responses
    t = _left(c, first_responses(con, clock).rename(first_contact="first_response"), "case_id")
    t = t.mutate(opened_day=t.opened_at.truncate("D"))
    if has_table(con, "responses") and {"response_id", "nps"} <= set(con.table("responses").columns):
        r = con.table("responses")
        r = r.filter(r.customer_id.notnull() & r.nps.notnull())
        src = r.select(_sid=r.response_id.cast("string"), answer_nps=r.nps.cast("float64"))
        t = _left(t, src, ("source_id", "_sid"))
        # the next answer: after the gap, after the first contact, within the window
        a = t.select("case_id", "customer_id", "opened_at", "first_contact")
        b = r.select(_c=r.customer_id.cast("string"), _d=r.date, _n=r.nps.cast("float64"))
        j = a.join(b, [a.customer_id == b._c, b._d >= _days(a.opened_at, resurvey_gap_days),
                       b._d <= _days(a.opened_at, resurvey_within_days),
                       a.first_contact.isnull() | (b._d > a.first_contact), b._d <= ibis.timestamp(clock)])
        t = _left(t, j.group_by("case_id").aggregate(next_nps=j._n.argmin(j._d), next_answer_at=j._d.min()), "case_id")
    else:
        t = t.mutate(answer_nps=ibis.null("float64"), next_nps=ibis.null("float64"),
                     next_answer_at=ibis.null("timestamp"))
    if has_table(con, "churn_events"):
        ce = con.table("churn_events")
        a = t.select("case_id", "customer_id", _o="opened_day")
        b = ce.select(_c=ce.customer_id.cast("string"), _d=ce.date)
        j = a.join(b, a.customer_id == b._c)
        t = _left(t, j.group_by("case_id").aggregate(
            churn_date=ibis.ifelse(j._d >= j._o.cast("date"), j._d, ibis.null("date")).min(),
            churned_before=(j._d < j._o.cast("date")).cast("int64").sum()), "case_id")
    else:
        t = t.mutate(churn_date=ibis.null("date"), churned_before=ibis.literal(0, "int64"))
    longest = max(horizons)
    if has_table(con, "transactions"):
        tr = con.table("transactions")
        a = t.select("case_id", "customer_id", "opened_at")
        b = tr.select(_c=tr.customer_id.cast("string"), _d=tr.date, _a=tr.amount.cast("float64"))
        j = a.join(b, [a.customer_id == b._c, b._d > _days(a.opened_at, -longest), b._d <= _days(a.opened_at, longest)])
        after, before = j._d > j.opened_at, j._d <= j.opened_at
        t = _left(t, j.group_by("case_id").aggregate(**{
            **{f"_spend_{h}": ibis.ifelse(after & (j._d <= _days(j.opened_at, h)), j._a, 0.0).sum() for h in horizons},
            **{f"_buys_{h}": ibis.ifelse(after & (j._d <= _days(j.opened_at, h)) & (j._a > 0), 1, 0).sum()
               for h in horizons},
            **{f"_pre_{h}": ibis.ifelse(before & (j._d > _days(j.opened_at, -h)), j._a, 0.0).sum()
               for h in horizons}}), "case_id")
    for name, col in (("customer_value", "value_tier"),):
        if has_table(con, name) and col in con.table(name).columns:
            v = con.table(name)
            t = _left(t, v.select(_vc=v.customer_id.cast("string"), value_tier=v[col]), ("customer_id", "_vc"))
    if has_table(con, "customers") and "signup_date" in con.table("customers").columns:
        cu = con.table("customers")
        t = _left(t, cu.select(_cc=cu.customer_id.cast("string"), signup_date=cu.signup_date), ("customer_id", "_cc"))
    df = t.to_pandas()
    return _finish(df, clock, horizons, has_table(con, "transactions"), has_table(con, "churn_events"))


def _left(t, r, on):
    if isinstance(on, tuple):
        left, right = on
        return t.left_join(r, t[left] == r[right]).drop(right)
    r = r.rename(_k2=on)
    return t.left_join(r, t[on] == r._k2).drop("_k2")


def _finish(df: pd.DataFrame, clock, horizons, has_spend: bool, has_churn: bool) -> pd.DataFrame:
    df = df[df.churned_before.fillna(0) == 0].copy() if "churned_before" in df else df.copy()
    clock = pd.Timestamp(clock)
    contact = pd.to_datetime(df.first_contact)
    due = pd.to_datetime(df.sla_due)
    df["group"] = np.select([df.holdout.astype(bool), contact.isna(), due.isna() | (contact <= due)],
                            ["holdout", "not_reached", "within_sla"], "late")
    opened = pd.to_datetime(df.opened_at)
    churn = pd.to_datetime(df.churn_date)
    for h in horizons:
        mature = opened + pd.Timedelta(days=h) <= clock
        if has_churn:
            churned = churn.notna() & (churn <= opened.dt.normalize() + pd.Timedelta(days=h))
            df[f"retention_{h}"] = np.where(mature, (~churned).astype(float), np.nan)
        else:
            df[f"retention_{h}"] = np.nan
        zero = pd.Series(0.0, index=df.index)
        df[f"spend_{h}"] = np.where(mature, df.get(f"_spend_{h}", zero).fillna(0.0), np.nan) if has_spend else np.nan
        df[f"repurchase_{h}"] = np.where(mature, (df.get(f"_buys_{h}", zero).fillna(0) > 0).astype(float), np.nan) \
            if has_spend else np.nan
        df[f"spend_before_{h}"] = df.get(f"_pre_{h}", zero).fillna(0.0) if has_spend else np.nan
    df["nps_change"] = df.next_nps - df.answer_nps
    nps = df.answer_nps
    df["nps_band"] = pd.cut(nps, [-0.5, 3.5, 6.5, 8.5, 10.5], labels=["0-3", "4-6", "7-8", "9-10"]).astype(object)
    if "signup_date" in df:
        years = (opened - pd.to_datetime(df.signup_date)).dt.days / 365.25
        df["tenure_band"] = pd.cut(years, [-np.inf, 1, 3, np.inf], right=False, labels=["<1", "1-3", "3+"]).astype(object)
    else:
        df["tenure_band"] = None
    if "value_tier" not in df:
        df["value_tier"] = None
    keep = ["rule", "case_id", "customer_id", "source", "opened_at", "sla_due", "holdout", "group", "first_contact",
            "answer_nps", "next_nps", "next_answer_at", "nps_change", "churn_date", "value_tier", "nps_band",
            "tenure_band"] + [f"{m}_{h}" for m in ("retention", "repurchase", "spend", "spend_before") for h in horizons]
    return df[[k for k in keep if k in df]].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- statistics
def _wilson(x: float, n: int) -> tuple[float, float]:
    from ..loyalty.metrics import wilson_interval
    lo, hi = wilson_interval(x, n)
    return float(lo), float(hi)


def diff_proportions(x1: float, n1: int, x0: float, n0: int) -> tuple[float, float, float, float]:
    """p1 − p0 with Newcombe's hybrid score interval (method 10) and a two-sided z-test p-value."""
    if n1 == 0 or n0 == 0:
        return (math.nan,) * 4
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = _wilson(x1, n1)
    l0, u0 = _wilson(x0, n0)
    d = p1 - p0
    lo = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    pool = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n0))
    from scipy.stats import norm
    p = float(2 * norm.sf(abs(d) / se)) if se > 0 else (1.0 if d == 0 else 0.0)
    return d, lo, hi, p


def churn_ratio(x1: float, n1: int, x0: float, n0: int) -> tuple[float, float, float]:
    """Relative change in churn (p1 / p0 − 1) with a Katz log interval (0.5 added to empty cells)."""
    if n1 == 0 or n0 == 0:
        return (math.nan,) * 3
    a, b = (x1, x0) if x1 > 0 and x0 > 0 else (x1 + 0.5, x0 + 0.5)
    m1, m0 = (n1, n0) if x1 > 0 and x0 > 0 else (n1 + 0.5, n0 + 0.5)
    rr = (a / m1) / (b / m0)
    se = math.sqrt(max(1 / a - 1 / m1 + 1 / b - 1 / m0, 0.0))
    return rr - 1, rr * math.exp(-Z95 * se) - 1, rr * math.exp(Z95 * se) - 1


def winsorise(y: np.ndarray, q: float) -> np.ndarray:
    """``y`` capped at its ``q`` quantile (both groups pooled): one customer's huge spend must not
    decide the comparison (and the t interval needs a finite variance)."""
    y = np.asarray(y, float)
    return np.minimum(y, np.quantile(y, q)) if len(y) else y


def cuped(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``y`` adjusted for the pre-period covariate ``x`` (CUPED, Deng et al. 2013):
    y − θ (x − mean x), θ = cov(y, x) / var(x) over both groups. Under a random hold-out the
    difference of the adjusted means estimates the same effect with less variance."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    vx = x.var()
    if len(y) < 3 or vx <= 0:
        return y
    theta = np.cov(y, x, bias=True)[0, 1] / vx
    return y - theta * (x - x.mean())


def diff_means(y1: np.ndarray, y0: np.ndarray) -> tuple[float, float, float, float]:
    """mean(y1) − mean(y0) with Welch's t interval and p-value."""
    y1, y0 = np.asarray(y1, float), np.asarray(y0, float)
    if len(y1) < 2 or len(y0) < 2:
        return (float(np.mean(y1) - np.mean(y0)) if len(y1) and len(y0) else math.nan, math.nan, math.nan, math.nan)
    from scipy.stats import ttest_ind
    res = ttest_ind(y1, y0, equal_var=False)
    d = float(y1.mean() - y0.mean())
    if not np.isfinite(res.statistic):          # both groups constant
        return d, d, d, 1.0 if d == 0 else 0.0
    ci = res.confidence_interval(0.95)
    return d, float(ci.low), float(ci.high), float(res.pvalue)


def matched_difference(treated: pd.DataFrame, control: pd.DataFrame, y: str, strata: list[str]) -> dict:
    """Average effect on the treated, exactly matched on ``strata``: the per-stratum differences
    weighted by the treated in each stratum that has both groups, with the stratified variance."""
    key = lambda d: d[strata].astype(str).agg("|".join, axis=1)  # noqa: E731
    t, c = treated.assign(_s=key(treated)), control.assign(_s=key(control))
    gt = t.groupby("_s")[y].agg(["mean", "var", "count"])
    gc = c.groupby("_s")[y].agg(["mean", "var", "count"])
    both = gt.join(gc, lsuffix="_t", rsuffix="_c", how="inner")
    both = both[(both.count_t > 0) & (both.count_c > 0)]
    if both.empty:
        return {"effect": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan, "n": 0,
                "n_control": 0, "mean": math.nan, "mean_control": math.nan}
    wts = both.count_t / both.count_t.sum()
    eff = float((wts * (both.mean_t - both.mean_c)).sum())
    var = float((wts ** 2 * (both.var_t.fillna(0) / both.count_t + both.var_c.fillna(0) / both.count_c)).sum())
    se = math.sqrt(var)
    from scipy.stats import norm
    p = float(2 * norm.sf(abs(eff) / se)) if se > 0 else math.nan
    return {"effect": eff, "ci_low": eff - Z95 * se, "ci_high": eff + Z95 * se, "p_value": p,
            "n": int(both.count_t.sum()), "n_control": int(both.count_c.sum()),
            "mean": float((wts * both.mean_t).sum()), "mean_control": float((wts * both.mean_c).sum())}


# ----------------------------------------------------------------------------------------------- comparisons
def _metric_columns(horizons) -> list[tuple[str, int | None]]:
    return ([(f"retention_{h}", h) for h in horizons] + [("nps_change", None)]
            + [(f"{m}_{h}", h) for m in ("repurchase", "spend") for h in horizons])


def compare_outcomes(frame: pd.DataFrame, *, horizons=HORIZONS, min_group: int = MIN_GROUP) -> pd.DataFrame:
    """The tidy comparison table (:data:`OUTCOME_COLUMNS`) from :func:`case_outcome_frame`: per
    rule and metric, each group against the hold-out — or, for a rule without a hold-out, the
    contacted against the not-reached matched on value tier, NPS band and tenure band."""
    rows = []
    for rule, f in frame.groupby("rule", sort=True):
        hold = f[f.group == "holdout"]
        matched = hold.empty
        for metric, h in _metric_columns(horizons):
            if metric not in f or f[metric].notna().sum() == 0:
                continue
            ok = f[f[metric].notna()]
            if matched:
                treated = ok[ok.group.isin(["within_sla", "late"])]
                control = ok[ok.group == "not_reached"]
                strata = [s for s in ("value_tier", "nps_band", "tenure_band") if ok[s].notna().any()]
                res = matched_difference(treated.fillna({s: "?" for s in strata}),
                                         control.fillna({s: "?" for s in strata}), metric, strata)
                rows.append({"rule": rule, "metric": metric, "horizon_days": h, "group": "contacted",
                             "control": "not_reached", "method": "matched", "observational": True, **res,
                             **_relative(metric, res), "small_sample": min(res["n"], res["n_control"]) < min_group})
                continue
            y = ok[metric].to_numpy(float)
            if metric.startswith("spend_"):        # heavy tails: winsorised, then adjusted for the spend before
                y = winsorise(y, WINSOR)
                if f"spend_before_{h}" in ok:
                    y = cuped(y, winsorise(ok[f"spend_before_{h}"].to_numpy(float), WINSOR))
            is_hold = (ok.group == "holdout").to_numpy()
            y0 = y[is_hold]
            for g in GROUPS:
                y1 = y[~is_hold] if g == "worked" else y[(ok.group == g).to_numpy()]
                if len(y1) == 0 or len(y0) == 0:
                    continue
                if metric.startswith(BINARY):
                    d, lo, hi, p = diff_proportions(y1.sum(), len(y1), y0.sum(), len(y0))
                    rel = churn_ratio(len(y1) - y1.sum(), len(y1), len(y0) - y0.sum(), len(y0)) \
                        if metric.startswith("retention_") else (math.nan,) * 3
                else:
                    d, lo, hi, p = diff_means(y1, y0)
                    rel = (math.nan,) * 3
                rows.append({"rule": rule, "metric": metric, "horizon_days": h, "group": g, "control": "holdout",
                             "method": "holdout", "observational": g != "worked", "n": len(y1), "n_control": len(y0),
                             "mean": float(y1.mean()), "mean_control": float(y0.mean()), "effect": d, "ci_low": lo,
                             "ci_high": hi, "p_value": p, "relative_churn_change": rel[0], "rel_ci_low": rel[1],
                             "rel_ci_high": rel[2], "small_sample": min(len(y1), len(y0)) < min_group})
    return pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))


def _relative(metric: str, res: dict) -> dict:
    """Relative churn change of a matched retention comparison (point estimate only)."""
    if metric.startswith("retention_") and res["mean_control"] < 1:
        return {"relative_churn_change": (1 - res["mean"]) / (1 - res["mean_control"]) - 1,
                "rel_ci_low": math.nan, "rel_ci_high": math.nan}
    return {"relative_churn_change": math.nan, "rel_ci_low": math.nan, "rel_ci_high": math.nan}


def followup_outcomes(con, clock: dt.datetime, **kwargs) -> pd.DataFrame | None:
    """:func:`compare_outcomes` of :func:`case_outcome_frame` (None before the first case)."""
    frame = case_outcome_frame(con, clock, **kwargs)
    if frame is None or frame.empty:
        return None
    return compare_outcomes(frame, horizons=kwargs.get("horizons", HORIZONS))
