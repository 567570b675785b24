"""The value of experience, E1 (concepts E1; seed 000).

**E1** links each customer's satisfaction (or NPS class) at survey time to what they do
in the following ``window_days`` (12 months by default) and compares the groups:

* transaction businesses — ``purchases`` (purchase occasions, i.e. days with a
  purchase), ``spend`` (net of returns), ``spend_per_purchase``, ``cross_sell_rate``
  (bought a product category they had never bought before the survey) and
  ``up_sell_amount`` (change of spend per purchase versus the ``window_days`` before the
  survey, customers who bought in both windows);
* subscription businesses (when the store has ``subscriptions``) — ``renewal_rate``
  (subscribers at survey time whose subscription is still running ``window_days``
  later, i.e. renewed at every due date in between), ``expected_tenure_years`` =
  1 / (1 − annual retention) (the mean of a geometric lifetime, Gupta & Lehmann 2003;
  monthly plans are counted on their 12-month retention), ``subscription_cross_sell_rate``
  (started another subscription in the window) and ``subscription_up_sell_amount`` (rise
  of the customer's recurring amount per year, positive part).

The link is computed in the engine: per customer the *first* answer dated at least
``window_days`` before the as-of date (so that every follow-up window is complete),
joined to the customer's transactions and subscriptions. Groups (``satisfied`` /
``neutral`` / ``dissatisfied`` with satisfaction cut-offs, ``promoter`` / ``passive`` /
``detractor`` for NPS) are compared with percentile bootstrap intervals (customers
resampled within each group, seeded); ratio metrics are ratios of sums, so a replicate
recomputes numerator and denominator together. :meth:`ExperienceValue.sentence`
states the result the way seed 000 does, in English or Chinese (message catalogue).

E2, the money value of improving experience, is :mod:`cxvalue.perception.roi`
(:func:`~cxvalue.perception.roi.experience_roi`). See docs/perception.md.
"""
from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError, SmallSampleWarning, one_of
from ..i18n import warn
from ..timeutil import DAYS_PER, as_date
from ..estimator import Estimator, summary_table

__all__ = ["MEASURES", "GROUPS", "METRICS", "DEFAULT_CUTS", "followup_expr", "followup_frame", "assign_groups",
           "ExperienceValue", "value_sentence"]

MEASURES = ("satisfaction", "nps")
GROUPS = {"satisfaction": ("dissatisfied", "neutral", "satisfied"), "nps": ("detractor", "passive", "promoter")}
#: (dissatisfied at or below, satisfied at or above) on the 0-10 scale; NPS uses 0-6 / 7-8 / 9-10
DEFAULT_CUTS = {"satisfaction": (5.0, 8.0), "nps": (6.0, 9.0)}
#: metric → (numerator column, denominator column or None for a mean per customer, comparison kind)
METRICS = {
    "purchases": ("purchases", None, "relative"),
    "spend": ("spend", None, "relative"),
    "spend_per_purchase": ("gross", "purchases", "relative"),
    "cross_sell_rate": ("cross_sold", None, "difference"),
    "up_sell_amount": ("upsell", "both_windows", "difference"),
    "renewal_rate": ("renewed", "subscriber", "difference"),
    "expected_tenure_years": ("renewed", "subscriber", "difference"),
    "subscription_cross_sell_rate": ("sub_cross", "subscriber", "difference"),
    "subscription_up_sell_amount": ("sub_upsell", "subscriber", "difference"),
}
_SUB_METRICS = ("renewal_rate", "expected_tenure_years", "subscription_cross_sell_rate",
                "subscription_up_sell_amount")
_PERIOD_PER_YEAR = {"month": 12.0, "quarter": 4.0, "year": 1.0}
MAX_TENURE_YEARS = 100.0


def _table(con, name, needs=()):
    from ..loyalty.metrics import _table as t
    return t(con, name, needs)


def _end_date(con, as_of):
    from ..loyalty.metrics import as_of_date
    return as_of_date(con, as_of)


# --------------------------------------------------------------------------- E1: engine side
def _left(a, b, key: str = "customer_id"):
    """``a`` LEFT JOIN ``b`` on ``key``, keeping a single ``key`` column."""
    b = b.rename(__key=key)
    return a.left_join(b, a[key] == b.__key).drop("__key")


def followup_expr(con, *, measure: str = "satisfaction", window_days: int = 365, as_of=None, since=None,
                  until=None, by: str | None = None):
    """Ibis expression: one row per surveyed customer with the survey ``score`` and what the
    customer did in the ``window_days`` after it (see the module docstring).

    Columns: ``customer_id``, ``survey_day``, ``score``, [``segment`` when ``by``],
    ``purchases``, ``spend``, ``gross``, ``purchases_before``, ``gross_before`` and, when
    transactions have a ``category``, ``new_categories``; with a ``subscriptions`` table,
    ``subscriber``, ``renewed``, ``recurring_before``, ``recurring_after``,
    ``new_subscriptions``. Only answers dated in [``since``, min(``until``, as_of −
    window)] count, the first one per customer.
    """
    one_of("measure", measure, MEASURES)
    w = int(window_days)
    if w < 1:
        raise CxValueError(f"window_days={window_days!r} is not valid: expected a positive number of days")
    r = _table(con, "responses", ("customer_id", "date"))
    if measure not in r.columns:
        raise CxValueError(f"responses has no {measure!r} column: use measure='satisfaction' or 'nps' "
                           f"(columns: {', '.join(r.columns)})")
    tx = _table(con, "transactions", ("customer_id", "date", "amount"))
    end = _end_date(con, as_of)
    last = end - dt.timedelta(days=w)
    if until is not None:
        last = min(last, as_date(until, "until"))
    r = r.mutate(__sday=r.date.cast("date"))
    r = r.filter(r.customer_id.notnull() & r[measure].notnull() & (r.__sday <= ibis.literal(last, type="date")))
    if since is not None:
        r = r.filter(r.__sday >= ibis.literal(as_date(since, "since"), type="date"))
    aggs = {"survey_day": r.__sday.min(), "score": r[measure].argmin(r.date).cast("float64")}
    seg_from_customers = False
    if by is not None:
        if by in r.columns:
            aggs["segment"] = r[by].argmin(r.date).cast("string")
        else:
            seg_from_customers = True
    f = r.group_by("customer_id").aggregate(**aggs)
    if seg_from_customers:
        cust = _table(con, "customers", ("customer_id",))
        if by not in cust.columns:
            raise CxValueError(f"by={by!r} is neither a column of responses nor of customers")
        f = _left(f, cust.select(customer_id=cust.customer_id, segment=cust[by].cast("string")))
    if by is not None:
        f = f.mutate(segment=f.segment.fill_null("(missing)"))

    t = tx.mutate(day=tx.date.cast("date"),
                  __ret=tx.is_return.fill_null(False) if "is_return" in tx.columns else ibis.literal(False))
    j = f.select("customer_id", "survey_day").join(t, "customer_id")
    j = j.mutate(__dd=j.day.delta(j.survey_day, unit="day"))
    j = j.filter((j.__dd > -w) & (j.__dd <= w))
    after, before, buy = (j.__dd >= 1), (j.__dd <= 0), ~j.__ret
    a = j.group_by("customer_id").aggregate(
        purchases=j.day.nunique(where=after & buy), spend=j.amount.sum(where=after),
        gross=j.amount.sum(where=after & buy), purchases_before=j.day.nunique(where=before & buy),
        gross_before=j.amount.sum(where=before & buy))
    out = _left(f, a)
    fills = {"purchases": 0, "spend": 0.0, "gross": 0.0, "purchases_before": 0, "gross_before": 0.0}
    if "category" in tx.columns:
        tb = t.filter(~t.__ret & t.category.notnull())
        fc = tb.group_by(["customer_id", "category"]).aggregate(__first=tb.day.min())
        jc = f.select("customer_id", "survey_day").join(fc, "customer_id")
        dd = jc.__first.delta(jc.survey_day, unit="day")
        nc = jc.group_by("customer_id").aggregate(new_categories=jc.count(where=(dd >= 1) & (dd <= w)))
        out = _left(out, nc)
        fills["new_categories"] = 0
    if "subscriptions" in con.list_tables():
        s = _table(con, "subscriptions", ("customer_id", "start_date"))
        s = s.mutate(__end=s.end_date.cast("date") if "end_date" in s.columns else ibis.null("date"),
                     __amt=(s.amount.cast("float64").fill_null(0.0) if "amount" in s.columns else ibis.literal(0.0)),
                     __per=(s.period.cast("string") if "period" in s.columns else ibis.null("string")))
        factor = ibis.cases(*[(s.__per == k, v) for k, v in _PERIOD_PER_YEAR.items()], else_=1.0)
        s = s.mutate(__yearly=s.__amt * factor, __start=s.start_date.cast("date"))
        js = f.select("customer_id", "survey_day").join(s, "customer_id")
        st = js.__start.delta(js.survey_day, unit="day")
        en = js.__end.delta(js.survey_day, unit="day")
        act0 = (st <= 0) & (js.__end.isnull() | (en > 0))
        act1 = (st <= w) & (js.__end.isnull() | (en > w))
        sa = js.group_by("customer_id").aggregate(
            __n0=js.count(where=act0), __nr=js.count(where=act0 & act1),
            recurring_before=js.__yearly.sum(where=act0), recurring_after=js.__yearly.sum(where=act1),
            new_subscriptions=js.count(where=(st >= 1) & (st <= w)))
        out = _left(out, sa)
        out = out.mutate(subscriber=(out.__n0.fill_null(0) > 0).cast("int64"),
                         renewed=(out.__nr.fill_null(0) > 0).cast("int64")).drop("__n0", "__nr")
        fills.update(recurring_before=0.0, recurring_after=0.0, new_subscriptions=0)
    out = out.mutate(**{c: out[c].fill_null(v) for c, v in fills.items()})
    return out


def followup_frame(con, **kwargs) -> pd.DataFrame:
    """:func:`followup_expr` executed: a pandas frame indexed by customer, sorted by id."""
    df = followup_expr(con, **kwargs).to_pandas()
    for c in ("purchases", "purchases_before", "new_categories", "new_subscriptions", "subscriber", "renewed"):
        if c in df.columns:
            df[c] = df[c].astype("int64")
    for c in ("spend", "gross", "gross_before", "recurring_before", "recurring_after", "score"):
        if c in df.columns:
            df[c] = df[c].astype(float)
    return df.set_index("customer_id").sort_index()


def assign_groups(score, measure: str = "satisfaction", cuts=None) -> pd.Series:
    """Group of each score: at or below ``cuts[0]`` the low group (dissatisfied / detractor),
    at or above ``cuts[1]`` the high group (satisfied / promoter), in between the middle.
    Defaults (0-10 scale): satisfaction (5, 8); NPS (6, 9) — the NPS classes."""
    one_of("measure", measure, MEASURES)
    lo, hi = _cuts(measure, cuts)
    s = pd.to_numeric(pd.Series(score), errors="coerce")
    labels = GROUPS[measure]
    out = np.select([s <= lo, s >= hi, s.notna()], [labels[0], labels[2], labels[1]], default="")
    cat = pd.Categorical(np.where(out == "", None, out), categories=list(labels), ordered=True)
    return pd.Series(cat, index=s.index, name="group")


def _cuts(measure, cuts):
    lo, hi = DEFAULT_CUTS[measure] if cuts is None else cuts
    try:
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise CxValueError(f"cuts={cuts!r} is not valid: expected (low, high), e.g. (5, 8)") from None
    if not lo < hi:
        raise CxValueError(f"cuts={cuts!r} is not valid: the low cut must be below the high cut")
    return lo, hi


def _derive(df: pd.DataFrame) -> pd.DataFrame:
    """Per-customer numerator/denominator columns of the metrics."""
    out = pd.DataFrame(index=df.index)
    for c in ("purchases", "spend", "gross"):
        if c in df.columns:
            out[c] = df[c].astype(float)
    if "new_categories" in df.columns:
        out["cross_sold"] = (df["new_categories"] > 0).astype(float)
    if {"purchases", "gross", "purchases_before", "gross_before"} <= set(df.columns):
        both = (df["purchases"] > 0) & (df["purchases_before"] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            d = df["gross"] / df["purchases"] - df["gross_before"] / df["purchases_before"]
        out["both_windows"] = both.astype(float)
        out["upsell"] = np.where(both, d, 0.0)
    if "subscriber" in df.columns:
        sub = df["subscriber"].astype(float)
        out["subscriber"] = sub
        out["renewed"] = df["renewed"].astype(float) * sub if "renewed" in df.columns else np.nan
        if "new_subscriptions" in df.columns:
            out["sub_cross"] = ((df["new_subscriptions"] > 0) & (sub > 0)).astype(float)
        if {"recurring_before", "recurring_after"} <= set(df.columns):
            out["sub_upsell"] = np.clip(df["recurring_after"] - df["recurring_before"], 0, None) * sub
    return out


def _available(cols) -> list[str]:
    ok = []
    for m, (num, den, _) in METRICS.items():
        if num in cols and (den is None or den in cols):
            ok.append(m)
    return ok


def _metric_from_sums(m: str, S: dict[str, np.ndarray], n) -> np.ndarray:
    num, den, _ = METRICS[m]
    with np.errstate(invalid="ignore", divide="ignore"):
        v = S[num] / (S[den] if den is not None else n)
        if m == "expected_tenure_years":
            v = 1.0 / np.maximum(1.0 - v, 1.0 / MAX_TENURE_YEARS)
    return v


# --------------------------------------------------------------------------- E1: estimator
class ExperienceValue(Estimator):
    """E1: what satisfied, neutral and dissatisfied customers (or promoters, passives and
    detractors) did in the 12 months after the survey, with bootstrap intervals.

    Parameters
    ----------
    measure : ``"satisfaction"`` (default) or ``"nps"``.
    cuts : (low, high) cut-offs of the groups on the answer scale (defaults in
        :data:`DEFAULT_CUTS`: satisfaction ≤ 5 dissatisfied, ≥ 8 satisfied on 0-10).
    window_days : length of the follow-up window (365).
    by : optional segment column (of responses, e.g. ``touchpoint``, or of customers,
        e.g. ``segment``); groups are then compared within each segment too.
    n_boot, confidence, random_state : percentile bootstrap (customers resampled within
        each group; ``numpy.random.default_rng(random_state)``).
    min_n : groups with fewer customers (or subscribers, for subscription metrics) are
        flagged ``small_sample`` and warned about.

    ``fit(data)``: ``data`` is an Ibis backend (the store: engine-side link with
    :func:`followup_expr`) or a pandas frame with one row per customer and a ``score``
    (or ``group``) column plus any of the follow-up columns (``purchases``, ``spend``,
    ``gross``, ``purchases_before``, ``gross_before``, ``new_categories``, ``subscriber``,
    ``renewed``, ``recurring_before``, ``recurring_after``, ``new_subscriptions``).

    Fitted: ``customers_`` (the per-customer link with ``group``), ``groups_`` (tidy:
    ``segment``, ``group``, ``metric``, ``estimate``, ``ci_low``, ``ci_high``, ``n``,
    ``small_sample``), ``comparison_`` (high vs low group: ``segment``, ``metric``,
    ``kind`` "relative" (ratio − 1) or "difference", ``estimate``, ``std_error``,
    ``ci_low``, ``ci_high``, ``p_value`` (two-sided bootstrap), ``high``/``low`` group
    estimates), ``summary_`` (the comparisons in the common layout: ``segment``, ``metric``,
    ``estimate``, ``std_error``, ``ci_low``, ``ci_high``, ``p``, then ``kind``,
    ``high_group``, ``low_group``, ``high``, ``low``), ``metrics_``, ``n_``, ``as_of_``.
    """

    def __init__(self, *, measure: str = "satisfaction", cuts=None, window_days: int = 365, by: str | None = None,
                 n_boot: int = 1000, confidence: float = 0.95, random_state=0, min_n: int = 30):
        self.measure = measure
        self.cuts = cuts
        self.window_days = window_days
        self.by = by
        self.n_boot = n_boot
        self.confidence = confidence
        self.random_state = random_state
        self.min_n = min_n

    def fit(self, data, *, as_of=None, since=None, until=None) -> ExperienceValue:
        """Link the survey to the follow-up window and compare the groups; returns ``self``."""
        self._check_options()
        df = self._with_groups(self._link(data, as_of, since, until))
        parts = _derive(df)
        metrics = _metrics_of(parts)
        self.metrics_ = metrics
        self.customers_ = df
        rng = np.random.default_rng(self.random_state)
        rows, comp = [], []
        for seg, idx in _segments(df):
            sub = df.loc[idx] if seg != "all" else df
            sp = parts.loc[idx] if seg != "all" else parts
            reps = self._group_rows(seg, sub, sp, metrics, rng, rows)
            comp.extend(self._comparisons(seg, reps, metrics))
        self.groups_ = pd.DataFrame(rows)
        self.comparison_ = pd.DataFrame(comp)
        self._warn_small_groups()
        c = self.comparison_
        self.summary_ = summary_table(c["estimate"], c["std_error"], c["ci_low"], c["ci_high"], p=c["p_value"],
                                      leading={"segment": c["segment"], "metric": c["metric"]},
                                      extra={k: c[k] for k in ("kind", "high_group", "low_group", "high", "low")})
        counts = df.groupby(["group"], observed=True).size()
        self.n_ = {str(k): int(v) for k, v in counts.items()}
        return self

    # ------------------------------------------------------------------ fit, step by step
    def _check_options(self) -> None:
        one_of("measure", self.measure, MEASURES)
        _cuts(self.measure, self.cuts)
        self._confidence()
        if int(self.n_boot) < 0:
            raise CxValueError(f"n_boot={self.n_boot!r} is not valid: expected 0 or more replicates")

    def _link(self, data, as_of, since, until) -> pd.DataFrame:
        """One row per surveyed customer: a copy of a frame, or the engine-side link on a store."""
        if isinstance(data, pd.DataFrame):
            df = data.copy()
            if self.by is not None:
                if self.by not in df.columns:
                    raise CxValueError(f"by={self.by!r} is not a column of the data")
                df["segment"] = df[self.by].astype(str)
            self.as_of_ = None
            return df
        df = followup_frame(data, measure=self.measure, window_days=self.window_days, as_of=as_of,
                            since=since, until=until, by=self.by)
        self.as_of_ = str(_end_date(data, as_of))
        return df

    def _with_groups(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with a categorical ``group`` (from ``score`` or checked), customers without one dropped."""
        labels = GROUPS[self.measure]
        if "group" not in df.columns:
            if "score" not in df.columns:
                raise CxValueError("the data needs a 'score' column (the survey answer) or a 'group' column")
            df["group"] = assign_groups(df["score"], self.measure, self.cuts).to_numpy()
        else:
            bad = set(pd.Series(df["group"]).dropna().astype(str)) - set(labels)
            if bad:
                raise CxValueError(f"column 'group' has value(s) {sorted(bad)}: expected {', '.join(labels)}")
            df["group"] = pd.Categorical(df["group"].astype(object), categories=list(labels), ordered=True)
        df = df[pd.Series(df["group"]).notna().to_numpy()]
        if df.empty:
            raise CxValueError("no surveyed customer with a complete follow-up window: the survey answers must be "
                               f"dated at least {self.window_days} days before the last transaction")
        return df

    def _group_rows(self, seg: str, sub: pd.DataFrame, sp: pd.DataFrame, metrics, rng, rows: list) -> dict:
        """Append one row per (group, metric) of segment ``seg`` to ``rows``; returns, per group,
        (estimates, bootstrap replicates)."""
        a = self._tail()
        reps = {}
        for g in GROUPS[self.measure]:
            mask = (sub["group"] == g).to_numpy()
            X = sp[mask]
            n = int(mask.sum())
            est, boot = self._group(X, metrics, rng)
            reps[g] = (est, boot)
            for m in metrics:
                den = METRICS[m][1]
                nn = int(X[den].sum()) if den in ("subscriber", "both_windows") else n
                lo, hi = (np.nanquantile(boot[m], [a, 1 - a]) if boot is not None and np.isfinite(boot[m]).any()
                          else (np.nan, np.nan))
                rows.append({"segment": seg, "group": g, "metric": m, "estimate": est[m], "ci_low": lo,
                             "ci_high": hi, "n": nn, "small_sample": nn < self.min_n})
        return reps

    def _comparisons(self, seg: str, reps: dict, metrics) -> list[dict]:
        """High versus low group per metric: ratio − 1 or difference, with bootstrap interval and p."""
        labels = GROUPS[self.measure]
        hi_g, lo_g = labels[2], labels[0]
        (eh, bh), (el, bl) = reps[hi_g], reps[lo_g]
        out = []
        for m in metrics:
            kind = METRICS[m][2]
            if kind == "relative":
                est = eh[m] / el[m] - 1 if el[m] and np.isfinite(el[m]) else np.nan
            else:
                est = eh[m] - el[m]
            se, lo, hi, p = self._bootstrap_difference(bh, bl, m, kind)
            out.append({"segment": seg, "metric": m, "kind": kind, "high_group": hi_g, "low_group": lo_g,
                        "estimate": est, "std_error": se, "ci_low": lo, "ci_high": hi, "p_value": p,
                        "high": eh[m], "low": el[m]})
        return out

    def _bootstrap_difference(self, bh, bl, m: str, kind: str):
        """(std_error, ci_low, ci_high, two-sided p) of the replicated comparison; NaN without replicates."""
        if bh is None or bl is None:
            return np.nan, np.nan, np.nan, np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            d = bh[m] / bl[m] - 1 if kind == "relative" else bh[m] - bl[m]
        d = d[np.isfinite(d)]
        if not len(d):
            return np.nan, np.nan, np.nan, np.nan
        a = self._tail()
        lo, hi = np.quantile(d, [a, 1 - a])
        p = min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0)))
        se = float(np.std(d, ddof=1)) if len(d) > 1 else np.nan
        return se, lo, hi, p

    def _warn_small_groups(self) -> None:
        small = self.groups_[(self.groups_["segment"] == "all") & self.groups_["small_sample"]]
        if len(small):
            what = sorted({f"{g} ({m})" for g, m in zip(small["group"], small["metric"])})
            warn("warn_e1_small_groups", SmallSampleWarning, stacklevel=3, min_n=self.min_n, n=len(what))

    def _group(self, X: pd.DataFrame, metrics, rng):
        n = len(X)
        cols = list(X.columns)
        M = X.to_numpy(float)
        S = {c: M[:, i].sum() for i, c in enumerate(cols)}
        est = {m: float(_metric_from_sums(m, S, n)) if n else np.nan for m in metrics}
        B = int(self.n_boot)
        if B == 0 or n == 0:
            return est, None
        out = {m: np.empty(B) for m in metrics}
        chunk = max(1, min(B, 4_000_000 // max(n, 1)))
        done = 0
        while done < B:
            b = min(chunk, B - done)
            idx = rng.integers(0, n, (b, n))
            counts = np.bincount((np.arange(b)[:, None] * n + idx).ravel(), minlength=b * n).reshape(b, n)
            SS = counts @ M
            Sb = {c: SS[:, i] for i, c in enumerate(cols)}
            for m in metrics:
                out[m][done:done + b] = _metric_from_sums(m, Sb, n)
            done += b
        return est, out

    # ------------------------------------------------------------------ presentation
    def table(self, segment: str = "all") -> pd.DataFrame:
        """``groups_`` of one segment as one row per (group, metric)."""
        self._check_fitted("groups_")
        return self.groups_[self.groups_["segment"] == segment].reset_index(drop=True)

    def sentence(self, lang: str = "en", *, segment: str = "all", currency: str = "CNY") -> str:
        """The result in one sentence, as seed 000 states it: "Satisfied customers spent +X%
        (95% CI …) more …; renewal A% vs B%; expected tenure C vs D years." (en or zh)."""
        self._check_fitted("comparison_")
        return value_sentence(self.comparison_, lang=lang, segment=segment, currency=currency,
                              confidence=self.confidence, window_days=self.window_days)


def _metrics_of(parts: pd.DataFrame) -> list[str]:
    """The metrics the follow-up columns allow, without subscription metrics nobody can have."""
    metrics = _available(parts.columns)
    if not metrics:
        raise CxValueError("no follow-up metric can be computed: expected columns such as purchases, spend, "
                           "gross or subscriber/renewed")
    if "subscriber" in parts.columns and parts["subscriber"].sum() == 0:
        metrics = [m for m in metrics if m not in _SUB_METRICS]
    for m, col in (("subscription_cross_sell_rate", "sub_cross"), ("subscription_up_sell_amount", "sub_upsell")):
        if m in metrics and not parts[col].abs().sum() > 0:
            metrics.remove(m)   # nobody added or upgraded a subscription: nothing to compare
    return metrics


def _segments(df: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """("all", every customer) then one (segment, customer ids) per segment value, sorted."""
    segs = [("all", df.index.to_numpy())]
    if "segment" in df.columns:
        segs += [(str(s), df.index[(df["segment"] == s).to_numpy()].to_numpy())
                 for s in sorted(df["segment"].dropna().unique())]
    return segs


def value_sentence(comparison: pd.DataFrame, *, lang: str = "en", segment: str = "all", currency: str = "CNY",
                   confidence: float = 0.95, window_days: int = 365) -> str:
    """The E1 sentence from a comparison table (``ExperienceValue.comparison_`` or the stored
    ``experience_value_comparison``), in ``lang`` from the message catalogue."""
    from ..i18n import t
    one_of("lang", lang, ("en", "zh"))
    c = comparison[comparison["segment"] == segment].set_index("metric")
    if c.empty:
        return ""
    hi_g, lo_g = str(c["high_group"].iloc[0]), str(c["low_group"].iloc[0])
    months = max(1, round(window_days / DAYS_PER["month"]))
    parts = []
    if "spend" in c.index:
        r = c.loc["spend"]
        high = t(f"ev_group_{hi_g}", lang)
        parts.append(t("ev_sentence_spend", lang, high=high, low=t(f"ev_group_{lo_g}", lang).lower()
                       if lang == "en" else t(f"ev_group_{lo_g}", lang),
                       pct=_pct(r["estimate"]), ci_low=_pct(r["ci_low"]), ci_high=_pct(r["ci_high"]),
                       conf=f"{confidence:.0%}", months=months,
                       high_value=_money(r["high"], currency), low_value=_money(r["low"], currency)))
    if "renewal_rate" in c.index:
        r = c.loc["renewal_rate"]
        parts.append(t("ev_sentence_renewal", lang, high=f"{r['high']:.0%}", low=f"{r['low']:.0%}"))
    if "expected_tenure_years" in c.index:
        r = c.loc["expected_tenure_years"]
        parts.append(t("ev_sentence_tenure", lang, high=f"{r['high']:.1f}", low=f"{r['low']:.1f}"))
    if not parts:
        return ""
    sep, end = ("；", "。") if lang == "zh" else ("; ", ".")
    return sep.join(parts) + end


def _pct(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:+.0f}%"


def _money(v, currency: str) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:,.0f} {currency}"
