"""The value of experience (concepts E1, E2; seed 000).

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

**E2** (:func:`experience_roi`) puts money on improvement: the value of moving
detractors to passives / promoters (difference of mean customer value between the
classes) and of closing each driver's gap (driver model: least squares of the 0-10
outcome on the experience ratings; closing the gap raises a rating to its target — the
``ideal_<dim>`` answer, else ``expectation_<dim>``, else the top of the scale — the
outcome moves by coefficient × gap, customers change class, and each class change is
worth the class value difference). Customer value is ``customer_value.clv`` when the
store has it, otherwise the customer's spend in the last ``window_days``. The result is
a ranked list of where improvement pays most. See docs/perception.md.
"""
from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError, SmallSampleWarning, check_is_fitted, one_of

__all__ = ["MEASURES", "GROUPS", "METRICS", "DEFAULT_CUTS", "followup_expr", "followup_frame", "assign_groups",
           "ExperienceValue", "value_sentence", "customer_values", "value_tiers", "customer_tiers", "TIER_ORDER",
           "latest_answers", "experience_roi"]

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


def _date(value, name: str) -> dt.date:
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise CxValueError(f"{name}={value!r} is not a date: expected YYYY-MM-DD") from None


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
        last = min(last, _date(until, "until"))
    r = r.mutate(__sday=r.date.cast("date"))
    r = r.filter(r.customer_id.notnull() & r[measure].notnull() & (r.__sday <= ibis.literal(last, type="date")))
    if since is not None:
        r = r.filter(r.__sday >= ibis.literal(_date(since, "since"), type="date"))
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
class ExperienceValue:
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
    ``kind`` "relative" (ratio − 1) or "difference", ``estimate``, ``ci_low``,
    ``ci_high``, ``p_value`` (two-sided bootstrap), ``high``/``low`` group estimates),
    ``summary_`` (one row per group and segment, metrics as columns).
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

    def fit(self, data, *, as_of=None, since=None, until=None) -> "ExperienceValue":
        one_of("measure", self.measure, MEASURES)
        _cuts(self.measure, self.cuts)
        if not 0 < self.confidence < 1:
            raise CxValueError(f"confidence={self.confidence!r} is not valid: expected a number between 0 and 1")
        if int(self.n_boot) < 0:
            raise CxValueError(f"n_boot={self.n_boot!r} is not valid: expected 0 or more replicates")
        if isinstance(data, pd.DataFrame):
            df = data.copy()
            if self.by is not None:
                if self.by not in df.columns:
                    raise CxValueError(f"by={self.by!r} is not a column of the data")
                df["segment"] = df[self.by].astype(str)
            self.as_of_ = None
        else:
            df = followup_frame(data, measure=self.measure, window_days=self.window_days, as_of=as_of,
                                since=since, until=until, by=self.by)
            self.as_of_ = str(_end_date(data, as_of))
        if "group" not in df.columns:
            if "score" not in df.columns:
                raise CxValueError("the data needs a 'score' column (the survey answer) or a 'group' column")
            df["group"] = assign_groups(df["score"], self.measure, self.cuts).to_numpy()
        else:
            labels = GROUPS[self.measure]
            bad = set(pd.Series(df["group"]).dropna().astype(str)) - set(labels)
            if bad:
                raise CxValueError(f"column 'group' has value(s) {sorted(bad)}: expected {', '.join(labels)}")
            df["group"] = pd.Categorical(df["group"].astype(object), categories=list(labels), ordered=True)
        df = df[pd.Series(df["group"]).notna().to_numpy()]
        if df.empty:
            raise CxValueError("no surveyed customer with a complete follow-up window: the survey answers must be "
                               f"dated at least {self.window_days} days before the last transaction")
        parts = _derive(df)
        metrics = _available(parts.columns)
        if not metrics:
            raise CxValueError("no follow-up metric can be computed: expected columns such as purchases, spend, "
                               "gross or subscriber/renewed")
        if "subscriber" in parts.columns and parts["subscriber"].sum() == 0:
            metrics = [m for m in metrics if m not in _SUB_METRICS]
        for m, col in (("subscription_cross_sell_rate", "sub_cross"), ("subscription_up_sell_amount", "sub_upsell")):
            if m in metrics and not parts[col].abs().sum() > 0:
                metrics.remove(m)   # nobody added or upgraded a subscription: nothing to compare
        self.metrics_ = metrics
        self.customers_ = df
        rng = np.random.default_rng(self.random_state)
        segs = [("all", df.index.to_numpy())]
        if "segment" in df.columns:
            segs += [(str(s), df.index[(df["segment"] == s).to_numpy()].to_numpy())
                     for s in sorted(df["segment"].dropna().unique())]
        rows, comp = [], []
        labels = GROUPS[self.measure]
        a = (1 - self.confidence) / 2
        for seg, idx in segs:
            sub = df.loc[idx] if seg != "all" else df
            sp = parts.loc[idx] if seg != "all" else parts
            reps = {}
            for g in labels:
                mask = (sub["group"] == g).to_numpy()
                X = sp[mask]
                n = int(mask.sum())
                est, boot = self._group(X, metrics, rng)
                reps[g] = (est, boot, X)
                for m in metrics:
                    den = METRICS[m][1]
                    nn = int(X[den].sum()) if den in ("subscriber", "both_windows") else n
                    lo, hi = (np.nanquantile(boot[m], [a, 1 - a]) if boot is not None and np.isfinite(boot[m]).any()
                              else (np.nan, np.nan))
                    rows.append({"segment": seg, "group": g, "metric": m, "estimate": est[m], "ci_low": lo,
                                 "ci_high": hi, "n": nn, "small_sample": nn < self.min_n})
            hi_g, lo_g = labels[2], labels[0]
            for m in metrics:
                kind = METRICS[m][2]
                eh, bh, _ = reps[hi_g]
                el, bl, _ = reps[lo_g]
                if kind == "relative":
                    est = eh[m] / el[m] - 1 if el[m] and np.isfinite(el[m]) else np.nan
                else:
                    est = eh[m] - el[m]
                if bh is not None and bl is not None:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        d = bh[m] / bl[m] - 1 if kind == "relative" else bh[m] - bl[m]
                    d = d[np.isfinite(d)]
                    if len(d):
                        lo, hi = np.quantile(d, [a, 1 - a])
                        p = min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0)))
                    else:
                        lo = hi = p = np.nan
                else:
                    lo = hi = p = np.nan
                comp.append({"segment": seg, "metric": m, "kind": kind, "high_group": hi_g, "low_group": lo_g,
                             "estimate": est, "ci_low": lo, "ci_high": hi, "p_value": p,
                             "high": eh[m], "low": el[m]})
        self.groups_ = pd.DataFrame(rows)
        self.comparison_ = pd.DataFrame(comp)
        small = self.groups_[(self.groups_["segment"] == "all") & self.groups_["small_sample"]]
        if len(small):
            import warnings
            what = sorted({f"{g} ({m})" for g, m in zip(small["group"], small["metric"])})[:6]
            warnings.warn(f"E1 groups with fewer than min_n={self.min_n} customers: {', '.join(what)}; "
                          "their intervals are wide", SmallSampleWarning, stacklevel=2)
        g = self.groups_
        self.summary_ = (g.pivot_table(index=["segment", "group"], columns="metric", values="estimate",
                                       observed=True, sort=False)
                         .reindex(columns=metrics).reset_index())
        counts = df.groupby(["group"], observed=True).size()
        self.n_ = {str(k): int(v) for k, v in counts.items()}
        return self

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
        check_is_fitted(self, ("groups_",))
        return self.groups_[self.groups_["segment"] == segment].reset_index(drop=True)

    def sentence(self, lang: str = "en", *, segment: str = "all", currency: str = "CNY") -> str:
        """The result in one sentence, as seed 000 states it: "Satisfied customers spent +X%
        (95% CI …) more …; renewal A% vs B%; expected tenure C vs D years." (en or zh)."""
        check_is_fitted(self, ("comparison_",))
        return value_sentence(self.comparison_, lang=lang, segment=segment, currency=currency,
                              confidence=self.confidence, window_days=self.window_days)


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
    months = max(1, round(window_days / 30.4375))
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


# --------------------------------------------------------------------------- E2
def customer_values(con, *, window_days: int = 365, as_of=None) -> pd.DataFrame:
    """Value of every customer: ``customer_value.clv`` when the store has that table (written
    by the CLV analysis), else net spend in the last ``window_days`` up to ``as_of`` (0 for
    customers without purchases). Indexed by ``customer_id``; column ``value``;
    ``.attrs["source"]`` is ``"clv"`` or ``"spend_12m"``."""
    tables = con.list_tables()
    if "customer_value" in tables:
        cv = con.table("customer_value")
        if {"customer_id", "clv"} <= set(cv.columns):
            df = cv.select(customer_id=cv.customer_id.cast("string"), value=cv.clv.cast("float64")).to_pandas()
            df = df.dropna().drop_duplicates("customer_id").set_index("customer_id").sort_index()
            df.attrs["source"] = "clv"
            return df
    end = _end_date(con, as_of)
    tx = _table(con, "transactions", ("customer_id", "date", "amount"))
    day = tx.date.cast("date")
    ago = ibis.literal(end, type="date").delta(day, unit="day")
    tx = tx.mutate(__ago=ago)
    tx = tx.filter((tx.__ago >= 0) & (tx.__ago < int(window_days)))
    spend = tx.group_by("customer_id").aggregate(value=tx.amount.sum().cast("float64"))
    if "customers" in tables:
        cust = con.table("customers").select("customer_id")
        spend = _left(cust, spend)
        spend = spend.mutate(value=spend.value.fill_null(0.0))
    df = spend.to_pandas().set_index("customer_id").sort_index()
    df["value"] = df["value"].astype(float)
    df.attrs["source"] = "spend_12m"
    return df


def value_tiers(values: pd.DataFrame) -> pd.Series:
    """Value tier of each customer from ``values["value"]`` (e.g. :func:`customer_values`):
    ``high`` = the top 20%, ``medium`` = the next 30%, ``low`` = the bottom 50% (ties broken
    by order)."""
    if "value" not in values.columns:
        raise CxValueError("value_tiers needs a 'value' column")
    pct = values["value"].rank(method="first", ascending=False, pct=True)
    return pd.Series(np.where(pct <= 0.2, "high", np.where(pct <= 0.5, "medium", "low")), index=values.index,
                     name="value_tier")


def customer_tiers(con) -> pd.Series:
    """Value tier of every customer: the ``value_tier`` column of ``customer_value`` when the
    CLV analysis wrote one (the customer pyramid: platinum / gold / iron / lead), else
    :func:`value_tiers` of :func:`customer_values` (high / medium / low)."""
    if "customer_value" in con.list_tables():
        cv = con.table("customer_value")
        if {"customer_id", "value_tier"} <= set(cv.columns):
            df = cv.select(customer_id=cv.customer_id.cast("string"), value_tier=cv.value_tier.cast("string"))
            out = df.to_pandas().dropna().drop_duplicates("customer_id").set_index("customer_id")["value_tier"]
            if len(out):
                return out
    return value_tiers(customer_values(con))


#: display order of value tiers (customer pyramid, then quantile tiers)
TIER_ORDER = ("platinum", "gold", "iron", "lead", "high", "medium", "low")


def latest_answers(con, columns, *, since=None, until=None) -> pd.DataFrame:
    """Each surveyed customer's latest answer (by ``date``) to ``columns``, computed in the
    engine (``argmax``); indexed by ``customer_id``."""
    r = _table(con, "responses", ("customer_id", "date"))
    cols = [c for c in columns if c in r.columns]
    r = r.filter(r.customer_id.notnull())
    if since is not None:
        r = r.filter(r.date.cast("date") >= ibis.literal(_date(since, "since"), type="date"))
    if until is not None:
        r = r.filter(r.date.cast("date") <= ibis.literal(_date(until, "until"), type="date"))
    agg = r.group_by("customer_id").aggregate(**{c: r[c].argmax(r.date).cast("float64") for c in cols})
    return agg.to_pandas().set_index("customer_id").sort_index()


def _driver_columns(columns, drivers=None) -> list[str]:
    if drivers is not None:
        return list(drivers)
    exp = [c for c in columns if str(c).startswith("experience_")]
    return exp or [c for c in columns if str(c).startswith("rating_")]


def _target_column(driver: str, columns) -> tuple[str | None, str]:
    """The column holding the target level of a driver rating (ideal, else expectation)."""
    dim = driver.split("_", 1)[1] if "_" in driver else driver
    for prefix, kind in (("ideal_", "ideal"), ("expectation_", "expectation")):
        if prefix + dim in columns:
            return prefix + dim, kind
    return None, "scale_max"


def _classify(score: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 low / 1 middle / 2 high for (rounded) scores."""
    s = np.round(score)
    return np.where(s <= lo, 0, np.where(s >= hi, 2, 1))


def experience_roi(data, *, outcome: str = "nps", drivers=None, cuts=None, values: pd.DataFrame | None = None,
                   scale_max: float = 10.0, base_customers: int | None = None, n_boot: int = 200,
                   confidence: float = 0.95, random_state=0, window_days: int = 365, as_of=None, since=None,
                   until=None) -> pd.DataFrame:
    """E2: the money value of better experience, ranked (see the module docstring).

    ``data`` is an Ibis backend (the store: latest answer per customer and customer values
    read there) or a pandas frame with one row per customer holding ``outcome``, the
    driver ratings and a ``value`` column. ``outcome`` is ``"nps"`` (classes
    detractor/passive/promoter) or ``"satisfaction"`` (``cuts``). ``drivers`` default to
    the ``experience_*`` columns (else ``rating_*``). ``base_customers`` scales the surveyed
    result to the customer base (default: every customer with a value).

    Returns one row per action, ``kind`` = ``"move"`` (detractor → passive, detractor →
    promoter, passive → promoter) or ``"driver"`` (close the gap of one driver): ``item``,
    ``customers`` (surveyed customers affected), ``coefficient`` (outcome points per
    rating point), ``target`` (ideal / expectation / scale_max), ``mean_gap`` (rating
    points to the target), ``nps_change`` (points of NPS among the surveyed, or of the
    share of the high group for satisfaction), ``value`` (money, surveyed customers),
    ``ci_low``/``ci_high`` (bootstrap over customers), ``value_per_customer`` (per
    surveyed customer), ``value_base`` (scaled to the customer base), ``rank`` within
    kind (1 = pays most) and ``value_source`` (``clv`` or ``spend_12m``).
    """
    measure = one_of("outcome", outcome, MEASURES)
    lo, hi = _cuts(measure, cuts)
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
        if "value" not in frame.columns:
            raise CxValueError("experience_roi on a frame needs a 'value' column (money per customer)")
        source = frame.attrs.get("value_source", "value")
        n_base = base_customers or len(frame)
    else:
        con = data
        r = _table(con, "responses", ("customer_id", "date"))
        want = [outcome] + [c for c in r.columns if str(c).startswith(("experience_", "ideal_", "expectation_",
                                                                        "rating_"))]
        frame = latest_answers(con, want, since=since, until=until)
        vals = values if values is not None else customer_values(con, window_days=window_days, as_of=as_of)
        source = vals.attrs.get("source", "value")
        frame = frame.join(vals["value"], how="inner")
        n_base = base_customers or len(vals)
    if outcome not in frame.columns:
        raise CxValueError(f"outcome={outcome!r} is not a column of the data")
    drivers = _driver_columns(frame.columns, drivers)
    missing = [d for d in drivers if d not in frame.columns]
    if missing:
        raise CxValueError(f"drivers {missing} are not columns of the data")
    if not drivers:
        raise CxValueError("no driver ratings: expected experience_<dim> or rating_<item> columns, or drivers=[...]")
    frame = frame[frame[outcome].notna() & frame["value"].notna()]
    cols = list(frame.columns)
    X = frame[drivers].to_numpy(float)
    y = frame[outcome].to_numpy(float)
    v = frame["value"].to_numpy(float)
    T = np.column_stack([frame[c].to_numpy(float) if c else np.full(len(frame), scale_max)
                         for c in (_target_column(d, cols)[0] for d in drivers)])
    kinds = [_target_column(d, cols)[1] for d in drivers]
    ok = ~np.isnan(X).any(axis=1)
    if ok.sum() < len(drivers) + 10:
        raise CxValueError(f"only {int(ok.sum())} surveyed customers have every driver rating and a value: "
                           "too few to fit the driver model")
    X, y, v, T = X[ok], y[ok], v[ok], T[ok]
    T = np.where(np.isnan(T), X, T)
    gap = np.clip(T - X, 0, None)
    n = len(y)

    def evaluate(w):
        """All action values for row weights ``w`` (bootstrap counts; ones for the estimate)."""
        A = np.column_stack([np.ones(n), X])
        sw = np.sqrt(w)
        coef = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)[0][1:]
        cls = _classify(y, lo, hi)
        cv = np.array([np.sum(w * v * (cls == k)) / max(np.sum(w * (cls == k)), 1e-12) for k in range(3)])
        has = np.array([np.sum(w * (cls == k)) > 0 for k in range(3)])
        res = {}
        for name, a, b in (("detractor_to_passive", 0, 1), ("detractor_to_promoter", 0, 2),
                           ("passive_to_promoter", 1, 2)):
            res[name] = (np.sum(w * (cls == a)) * (cv[b] - cv[a])) if has[a] and has[b] else np.nan
        for j, d in enumerate(drivers):
            new = _classify(np.minimum(y + max(coef[j], 0.0) * gap[:, j], scale_max), lo, hi)
            res[d] = float(np.sum(w * (cv[new] - cv[cls])))
        return res, coef, cls, cv

    est, coef, cls, cv = evaluate(np.ones(n))
    boots = {k: [] for k in est}
    if int(n_boot) > 0:
        rng = np.random.default_rng(random_state)
        for _ in range(int(n_boot)):
            w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            rb, *_ = evaluate(w)
            for k, val in rb.items():
                boots[k].append(val)
    a = (1 - confidence) / 2
    scale = n_base / n
    rows = []
    g = GROUPS[measure]
    move_defs = {"detractor_to_passive": (0, 1), "detractor_to_promoter": (0, 2), "passive_to_promoter": (1, 2)}
    nps_now = 100.0 * (np.mean(cls == 2) - np.mean(cls == 0))
    for item, (fa, fb) in move_defs.items():
        label = f"{g[fa]}_to_{g[fb]}"
        moved = cls.copy()
        moved[cls == fa] = fb
        rows.append({"kind": "move", "item": label, "customers": int(np.sum(cls == fa)), "coefficient": np.nan,
                     "target": "", "mean_gap": np.nan,
                     "nps_change": 100.0 * (np.mean(moved == 2) - np.mean(moved == 0)) - nps_now,
                     "value": est[item], **_ci(boots[item], a)})
    for j, d in enumerate(drivers):
        new = _classify(np.minimum(y + max(coef[j], 0.0) * gap[:, j], scale_max), lo, hi)
        rows.append({"kind": "driver", "item": d, "customers": int(np.sum(new != cls)), "coefficient": coef[j],
                     "target": kinds[j], "mean_gap": float(gap[:, j].mean()),
                     "nps_change": 100.0 * (np.mean(new == 2) - np.mean(new == 0)) - nps_now,
                     "value": est[d], **_ci(boots[d], a)})
    out = pd.DataFrame(rows)
    out["value_per_customer"] = out["value"] / n
    out["value_base"] = out["value"] * scale
    out["rank"] = out.groupby("kind")["value"].rank(ascending=False, method="min").astype("Int64")
    out["value_source"] = source
    out = out.sort_values(["kind", "rank"], ascending=[False, True], ignore_index=True)
    out.attrs.update(surveyed=n, base_customers=int(n_base), class_values=dict(zip(g, cv.tolist())),
                     outcome=outcome, nps=nps_now)
    return out


def _ci(values, a):
    vals = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    if len(vals) == 0:
        return {"ci_low": np.nan, "ci_high": np.nan}
    lo, hi = np.quantile(vals, [a, 1 - a])
    return {"ci_low": float(lo), "ci_high": float(hi)}
