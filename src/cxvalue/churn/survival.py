"""Survival analysis of customer relationships (lifelines): Kaplan–Meier curves by segment with
confidence intervals, median tenure, log-rank tests, and a Cox model with hazard ratios and a
proportional-hazards check.

Input is one row per customer with a duration and an event flag (1 = churned, 0 =
still a customer: censored). :func:`survival_frame` builds it from the store:

- contractual: from the first subscription start to the end of the last subscription
  (event) or to ``as_of`` while one is active (censored);
- non-contractual: from the first purchase to a recorded churn event, or to the last
  activity (purchase, complaint, survey answer) when nothing was bought for
  ``inactivity_days`` (event); otherwise censored at ``as_of``.

Kaplan–Meier: Ŝ(t) = ∏_{t_i ≤ t} (1 − d_i / n_i); intervals (level ``confidence``, default
0.95) by the exponential Greenwood formula (lifelines' default), standard errors by Greenwood's; the median tenure is the first t with Ŝ(t) ≤ 0.5
(infinite when the curve stays above one half). Log-rank: multivariate test across groups
and pairwise tests. Cox: h(t | x) = h₀(t) exp(βᵀx); hazard ratio exp(β) with its interval;
the PH assumption is checked with the scaled Schoenfeld residual test (rank time).

A covariate that restates the duration (e.g. Telco ``TotalCharges`` ≈ tenure ×
``MonthlyCharges``) would leak it into the Cox model: such columns are found with
:func:`cxvalue.churn.prediction.leaky_columns` and left out with a ``LeakageWarning``.
"""
from __future__ import annotations

import hashlib

import warnings

import numpy as np
import pandas as pd

from ..errors import ConvergenceWarning, CxValueError, SmallSampleWarning, one_of
from ..estimator import Estimator, summary_table
from ..store import has_table
from ..timeutil import DAYS_PER, as_date
from .data import column, data_end, parse_event
from .definitions import LeakageWarning, resolve_definition
from .prediction import leaky_columns



def _durations(df: pd.DataFrame, duration_col: str, event_col: str) -> tuple[np.ndarray, np.ndarray]:
    duration_col = column(df, duration_col, "--duration")
    event_col = column(df, event_col, "--event")
    d = pd.to_numeric(df[duration_col], errors="coerce")
    if d.isna().any():
        i = int(np.flatnonzero(d.isna().to_numpy())[0])
        raise CxValueError(f"column {duration_col!r}: expected a number, got {df[duration_col].iloc[i]!r} (row {i + 2})")
    if (d < 0).any():
        raise CxValueError(f"column {duration_col!r}: durations must be >= 0, got {d[d < 0].iloc[0]!r}")
    return d.to_numpy(float), parse_event(df[event_col], event_col)


def _greenwood_se(tab: pd.DataFrame, sf: pd.Series, times) -> np.ndarray:
    """Greenwood standard error of Ŝ(t): Ŝ(t)·sqrt(Σ_{t_i ≤ t} d_i / (n_i (n_i − d_i))) at each of ``times``."""
    n, dd = tab["at_risk"].to_numpy(float), tab["observed"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cum = np.cumsum(np.where(dd > 0, dd / (n * (n - dd)), 0.0))
    idx = np.searchsorted(tab.index.to_numpy(float), np.asarray(times, float), side="right") - 1
    s = sf.reindex(tab.index).to_numpy(float)
    k = np.maximum(idx, 0)
    out = np.where(s[k] > 0, s[k] * np.sqrt(cum[k]), 0.0)
    return np.where(idx >= 0, out, 0.0)


class SurvivalAnalysis(Estimator):
    """Kaplan–Meier curves (overall or by group), medians, survival at chosen times, log-rank tests.

    ``by``: the grouping column (None = one curve); ``times``: times at which Ŝ(t) is
    reported; ``confidence``: level of the intervals (exponential Greenwood for Ŝ(t)).
    Learned: ``curves_`` (group, time, survival, ci_lower, ci_upper, at_risk, events),
    ``summary_`` (group, parameter = ``median`` and ``S(<t>)``, estimate, std_error
    (Greenwood; NaN for the median), ci_low, ci_high), ``groups_`` (one row per group:
    customers, events, churn_share, median with its interval, S(t) with ``_lower`` /
    ``_upper``), ``logrank_`` (dict), ``pairwise_`` (DataFrame).
    """

    def __init__(self, *, by: str | None = None, times=(12, 24, 36, 48, 60, 72), confidence: float = 0.95):
        self.by = by
        self.times = times
        self.confidence = confidence

    def fit(self, data: pd.DataFrame, *, duration_col: str = "duration", event_col: str = "event") -> SurvivalAnalysis:
        """Fit one Kaplan–Meier curve per group; returns ``self``."""
        alpha = 1 - self._confidence()
        d, e = _durations(data, duration_col, event_col)
        if self.by is not None:
            by = column(data, self.by, "--by")
            g = data[by].astype(object).where(data[by].notna(), "(missing)").astype(str).to_numpy()
        else:
            g = np.full(len(d), "all", dtype=object)
        groups = sorted(pd.unique(g), key=lambda v: (-np.sum(g == v), v))
        times = [float(t) for t in (self.times or ())]
        curves, rows, tidy = [], [], []
        for grp in groups:
            m = g == grp
            if m.sum() < 30:
                warnings.warn(f"group {grp!r} has only {int(m.sum())} customers: its curve is imprecise",
                              SmallSampleWarning, stacklevel=2)
            curve, row, terms = self._fit_group(grp, d[m], e[m], times, alpha)
            curves.append(curve)
            rows.append(row)
            tidy.extend(terms)
        self.curves_ = pd.concat(curves, ignore_index=True)
        self.groups_ = pd.DataFrame(rows)
        t = pd.DataFrame(tidy)
        self.summary_ = summary_table(t["estimate"], t["std_error"], t["ci_low"], t["ci_high"],
                                      leading={"group": t["group"], "parameter": t["parameter"]})
        self.logrank_, self.pairwise_ = self._tests(d, e, g, groups)
        return self

    def _fit_group(self, grp, d: np.ndarray, e: np.ndarray, times: list[float], alpha: float):
        """(curve rows, the ``groups_`` row, the ``summary_`` rows) of one group."""
        from lifelines import KaplanMeierFitter
        from lifelines.utils import median_survival_times
        km = KaplanMeierFitter(alpha=alpha).fit(d, e, label="S")
        sf = km.survival_function_["S"]
        ci = km.confidence_interval_
        tab = km.event_table
        curve = pd.DataFrame({"group": grp, "time": sf.index.to_numpy(float), "survival": sf.to_numpy(),
                              "ci_lower": ci.iloc[:, 0].to_numpy(), "ci_upper": ci.iloc[:, 1].to_numpy(),
                              "at_risk": tab["at_risk"].reindex(sf.index).to_numpy(),
                              "events": tab["observed"].reindex(sf.index).to_numpy()})
        mci = median_survival_times(ci)
        row = {"group": grp, "customers": int(len(d)), "events": int(e.sum()), "churn_share": float(e.mean()),
               "median": float(km.median_survival_time_),
               "median_ci_lower": float(mci.iloc[0, 0]), "median_ci_upper": float(mci.iloc[0, 1])}
        terms = [{"group": grp, "parameter": "median", "estimate": row["median"], "std_error": np.nan,
                  "ci_low": row["median_ci_lower"], "ci_high": row["median_ci_upper"]}]
        if times:
            at = km.survival_function_at_times(times).to_numpy().astype(float)
            at[np.asarray(times) > d.max()] = np.nan  # beyond the longest observed duration
            se = _greenwood_se(tab, sf, times)
            for t, s, sd in zip(times, at, se):
                lo, hi = self._ci_at(ci, t) if t <= d.max() else (np.nan, np.nan)
                key = f"S({t:g})"
                row[key], row[f"{key}_lower"], row[f"{key}_upper"] = float(s), lo, hi
                terms.append({"group": grp, "parameter": key, "estimate": float(s),
                              "std_error": sd if np.isfinite(s) else np.nan, "ci_low": lo, "ci_high": hi})
        return curve, row, terms

    @staticmethod
    def _ci_at(ci: pd.DataFrame, t: float) -> tuple[float, float]:
        idx = ci.index.to_numpy(float)
        k = np.searchsorted(idx, t, side="right") - 1
        if k < 0:
            return 1.0, 1.0
        return float(ci.iloc[k, 0]), float(ci.iloc[k, 1])

    @staticmethod
    def _tests(d, e, g, groups):
        if len(groups) < 2:
            return None, pd.DataFrame(columns=["group_a", "group_b", "test_statistic", "p"])
        from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test
        res = multivariate_logrank_test(d, g, e)
        overall = {"test_statistic": float(res.test_statistic), "degrees_of_freedom": int(len(groups) - 1),
                   "p": float(res.p_value)}
        pw = pairwise_logrank_test(d, g, e).summary.reset_index()
        pw.columns = ["group_a", "group_b", "test_statistic", "p", "-log2(p)"]
        return overall, pw[["group_a", "group_b", "test_statistic", "p"]]

    def survival_at(self, times) -> pd.DataFrame:
        """Ŝ(t) per group at ``times`` (rows: groups, columns: times)."""
        self._check_fitted("curves_")
        out = {}
        for grp, c in self.curves_.groupby("group", sort=False):
            idx = np.searchsorted(c.time.to_numpy(), np.asarray(times, float), side="right") - 1
            out[grp] = np.where(idx >= 0, c.survival.to_numpy()[np.maximum(idx, 0)], 1.0)
        return pd.DataFrame(out, index=pd.Index(times, name="time")).T


class CoxModel(Estimator):
    """Cox proportional-hazards model with hazard ratios and a proportional-hazards check.

    ``covariates``: columns to use (default: all but duration and event); string columns
    become indicator columns against their most frequent level; ``exclude``: columns never
    used; ``penalizer``: ridge penalty (lifelines); ``confidence``: level of the intervals;
    ``check_leakage``: leave out covariates that restate the duration. Learned: ``summary_``
    (covariate, estimate = coefficient β, std_error, ci_low, ci_high (of β), p, then
    hazard_ratio = exp(β), hazard_ratio_ci_low, hazard_ratio_ci_high), ``ph_test_``
    (covariate, test_statistic, p, ph_violated), ``concordance_``, ``excluded_`` (leaky
    columns left out), ``fitter_`` (lifelines CoxPHFitter).
    """

    def __init__(self, *, covariates: list[str] | None = None, exclude=(), penalizer: float = 0.01,
                 confidence: float = 0.95, check_leakage: bool = True):
        self.covariates = covariates
        self.exclude = exclude
        self.penalizer = penalizer
        self.confidence = confidence
        self.check_leakage = check_leakage

    def fit(self, data: pd.DataFrame, *, duration_col: str = "duration", event_col: str = "event") -> CoxModel:
        """Fit the Cox model on the covariates; returns ``self``."""
        from lifelines import CoxPHFitter
        from lifelines.statistics import proportional_hazard_test
        alpha = 1 - self._confidence()
        d, e = _durations(data, duration_col, event_col)
        dcol, ecol = column(data, duration_col, "--duration"), column(data, event_col, "--event")
        cols = [column(data, c, "covariate") for c in self.covariates] if self.covariates else \
            [c for c in data.columns if c not in (dcol, ecol)]
        cols = [c for c in cols if c not in set(self.exclude)]
        self.excluded_ = []
        if self.check_leakage:
            leaky = leaky_columns(data[cols + [dcol]], dcol)
            if leaky:
                warnings.warn(f"left out {', '.join(leaky)}: restates the duration {dcol!r} (leakage)",
                              LeakageWarning, stacklevel=2)
                self.excluded_ = leaky
                cols = [c for c in cols if c not in leaky]
        X = design_matrix(data[cols])
        if X.shape[1] == 0:
            raise CxValueError("the Cox model needs at least one covariate")
        df = X.assign(__T=np.maximum(d, 1e-9), __E=e)
        cph = CoxPHFitter(penalizer=self.penalizer, alpha=alpha)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cph.fit(df, duration_col="__T", event_col="__E")
        if any("converge" in str(w.message).lower() for w in caught):
            warnings.warn("the Cox model did not converge cleanly: consider a larger penalizer", ConvergenceWarning,
                          stacklevel=2)
        s = cph.summary
        col = {k: next(c for c in s.columns if c.startswith(k)) for k in
               ("coef lower", "coef upper", "exp(coef) lower", "exp(coef) upper")}
        self.summary_ = summary_table(
            s["coef"].to_numpy(), s["se(coef)"].to_numpy(), s[col["coef lower"]].to_numpy(),
            s[col["coef upper"]].to_numpy(), p=s["p"].to_numpy(), leading={"covariate": s.index.astype(str)},
            extra={"hazard_ratio": s["exp(coef)"].to_numpy(), "hazard_ratio_ci_low": s[col["exp(coef) lower"]].to_numpy(),
                   "hazard_ratio_ci_high": s[col["exp(coef) upper"]].to_numpy()})
        ph = proportional_hazard_test(cph, df, time_transform="rank").summary
        self.ph_test_ = pd.DataFrame({"covariate": ph.index.astype(str), "test_statistic": ph["test_statistic"].to_numpy(),
                                      "p": ph["p"].to_numpy()})
        self.ph_test_["ph_violated"] = self.ph_test_.p < 0.05
        self.concordance_ = float(cph.concordance_index_)
        self.fitter_ = cph
        return self


def design_matrix(df: pd.DataFrame, *, max_levels: int = 20) -> pd.DataFrame:
    """Numeric design matrix: numbers as they are (missing → column median), booleans 0/1,
    strings as indicators ``col=level`` against the most frequent level (top ``max_levels``)."""
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            out[c] = s.astype(float)
        elif pd.api.types.is_numeric_dtype(s):
            x = s.astype(float)
            if x.nunique() > 1:
                out[c] = x.fillna(x.median())
        else:
            v = s.astype(object).where(s.notna(), "(missing)").astype(str)
            levels = v.value_counts()
            for lev in levels.index[1:max_levels]:
                out[f"{c}={lev}"] = (v == lev).astype(float)
    X = pd.DataFrame(out, index=df.index)
    seen, keep = set(), []
    for c in X.columns:  # identical indicators once (hash each column; transposing is O(rows x rows))
        h = hashlib.blake2b(np.ascontiguousarray(X[c].to_numpy()).tobytes(), digest_size=16).digest()
        keep.append(h not in seen)
        seen.add(h)
    return X.loc[:, keep]


def survival_frame(con, *, as_of=None, definition: str = "auto", inactivity_days: int = 365, unit: str = "month",
                   profile_cols=("segment", "vip", "acquisition_channel", "region", "member_tier"),
                   business_type: str | None = None) -> pd.DataFrame:
    """One row per customer from the store: ``start``, ``end``, ``duration_days``, ``duration`` (in
    ``unit``), ``event`` (1 churned, 0 censored) and the profile columns present in ``customers``."""
    import ibis
    one_of("unit", unit, DAYS_PER)
    as_of = as_date(as_of, "as_of") if as_of is not None else data_end(con)
    definition = resolve_definition(con, definition, business_type)
    if definition == "p_alive":
        definition = "inactivity"
    a = ibis.literal(as_of, type="date")
    if definition == "contractual":
        s = con.table("subscriptions")
        s = s.filter(s.start_date.cast("date") <= a)
        ed = s.end_date.cast("date")
        base = s.group_by(s.customer_id.cast("string").name("customer_id")).aggregate(
            start=s.start_date.cast("date").min(), __active=s.count(where=ed.isnull() | (ed > a)),
            __lastend=ed.max(where=ed <= a))
        base = base.mutate(__ended=ibis.ifelse(base.__active == 0, base.__lastend, ibis.null("date")))
    else:
        t = con.table("transactions")
        d = t.date.cast("date")
        t = t.filter(d <= a)
        base = t.group_by(t.customer_id.cast("string").name("customer_id")).aggregate(
            start=t.date.cast("date").min(), __lastbuy=t.date.cast("date").max())
        last = base.select("customer_id", __act=base.__lastbuy)
        for name, col in (("complaints", "opened"), ("responses", "date")):
            if has_table(con, name):
                x = con.table(name)
                x = x.filter(x.customer_id.notnull() & (x[col].cast("date") <= a))
                last = last.union(x.select(x.customer_id.cast("string").name("customer_id"), __act=x[col].cast("date")))
        last = last.group_by("customer_id").aggregate(__last=last.__act.max())
        base = base.left_join(last, base.customer_id == last.customer_id).drop("customer_id_right")
        inactive = a.delta(base.__lastbuy, unit="day") > inactivity_days
        base = base.mutate(__ended=ibis.ifelse(inactive, base.__last, ibis.null("date")))
    if has_table(con, "churn_events"):
        ev = con.table("churn_events")
        ev = ev.filter(ev.date.cast("date") <= a)
        ev = ev.group_by(ev.customer_id.cast("string").name("customer_id")).aggregate(__edate=ev.date.cast("date").min())
        base = base.left_join(ev, base.customer_id == ev.customer_id).drop("customer_id_right")
        end = ibis.greatest(base.__edate.fill_null(base.__ended), base.__ended.fill_null(base.__edate), base.start)
        base = base.mutate(__end=ibis.ifelse(base.__edate.notnull() | base.__ended.notnull(), end, ibis.null("date")))
    else:
        base = base.mutate(__end=base.__ended)
    base = base.mutate(event=base.__end.notnull().cast("int64"), end=base.__end.fill_null(a))
    base = base.mutate(duration_days=base.end.delta(base.start, unit="day").cast("float64"))
    out = base.select("customer_id", "start", "end", "duration_days", "event")
    if has_table(con, "customers"):
        cu = con.table("customers")
        cols = [c for c in profile_cols if c in cu.columns]
        if cols:
            p = cu.select(cu.customer_id.cast("string").name("customer_id"), *cols)
            out = out.left_join(p, out.customer_id == p.customer_id).drop("customer_id_right")
    df = out.to_pandas().set_index("customer_id").sort_index()
    df.insert(3, "duration", df.duration_days / DAYS_PER[unit])
    df.attrs.update(as_of=str(as_of), unit=unit, definition=definition)
    return df
