"""Shifted-beta-geometric (sBG) model of contract renewals (Fader & Hardie 2007,
"How to project customer retention"; 2010, "Customer-base valuation in a contractual
setting").

At the end of each period a customer cancels with probability θ ~ Beta(α, β), the same
for her every period. For a cohort::

    P(lifetime = t) = B(α+1, β+t-1) / B(α, β)          t = 1, 2, ...
    S(t) = P(lifetime > t) = B(α, β+t) / B(α, β)
    retention rate r(t) = S(t)/S(t-1) = (β+t-1) / (α+β+t-1)   (rises with t: sorting)

Data per customer: ``recency`` = the last period in which she was active (1-based) and
``T`` = the last period observed. A customer with recency < T churned after ``recency``
periods (contributes P(lifetime = recency)); recency == T means still active and
right-censored (contributes S(T-1)). With ``cohort_col`` each cohort gets its own (α, β).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.special import betaln, hyp2f1, psi

from ..errors import CxValueError, check_is_fitted
from .base import BaseBTYDModel, check_horizon

__all__ = ["ShiftedBetaGeoModel"]

_ALL = "all"


class ShiftedBetaGeoModel(BaseBTYDModel):
    """sBG model — parameters ``alpha, beta`` per cohort.

    >>> sbg = ShiftedBetaGeoModel().fit(subs, cohort_col="cohort")
    >>> sbg.summary_                     # index (cohort, parameter)
    >>> sbg.survival_curve(12)           # tidy: cohort, period, survival, retention_rate
    >>> sbg.predict_survival(3)          # per customer: P(still active 3 periods ahead)
    """

    _param_names = ("alpha", "beta")
    _roles = {"recency": "recency", "T": "T"}
    _integer_roles = ("recency", "T")
    model_name = "sbg"

    def _starts(self):
        return [np.array([1.0, 1.0]), np.array([0.5, 3.0]), np.array([3.0, 0.5]), np.array([0.1, 0.1])]

    def fit(self, data, *, recency_col: str = "recency", T_col: str = "T", cohort_col: str | None = None,
            weights_col: str | None = None, customer_col: str | None = None):
        """Fit (α, β) by maximum likelihood, per cohort when ``cohort_col`` is given; returns ``self``.

        ``params_`` is then a DataFrame (one row per cohort), ``summary_`` is indexed by
        (cohort, parameter), and ``loglik_``/``aic_``/``bic_`` cover all cohorts together.
        """
        t0 = time.perf_counter()
        self._check_init()
        columns = self._columns({"recency": recency_col, "T": T_col})
        extra = {"cohort": cohort_col} if cohort_col is not None else None
        stats, weights, index, ev = self._read(data, columns, weights_col=weights_col,
                                               customer_col=customer_col, extra=extra)
        cohort = ev["cohort"] if cohort_col is not None else np.full(len(weights), _ALL, dtype=object)
        labels = pd.unique(cohort)
        params, summaries, covs = {}, [], {}
        ll = 0.0
        self.converged_, self.n_iter_ = True, 0
        for lab in labels:
            sel = cohort == lab
            res = self._fit_arrays({k: v[sel] for k, v in stats.items()}, weights[sel])
            self._warn_convergence(res, f"cohort {lab!r}")
            params[lab] = res["theta"]
            s = self._summary_frame(res["theta"], res["cov"])
            s.index = pd.MultiIndex.from_product([[lab], s.index], names=["cohort", "parameter"])
            summaries.append(s)
            covs[lab] = pd.DataFrame(res["cov"], index=list(self._param_names), columns=list(self._param_names))
            ll += res["loglik"]
            self.converged_ &= bool(res["converged"])
            self.n_iter_ += int(res["n_iter"])
        n = float(weights.sum())
        k = 2 * len(labels)
        self.params_ = pd.DataFrame.from_dict(params, orient="index", columns=list(self._param_names))
        self.params_.index.name = "cohort"
        self.summary_ = pd.concat(summaries)
        self.covariance_ = covs
        self.loglik_ = float(ll)
        self.aic_ = 2 * k - 2 * ll
        self.bic_ = k * np.log(n) - 2 * ll
        self.n_customers_ = n
        self.n_groups_ = int(len(pd.unique(pd.Series(list(zip(cohort, stats["recency"], stats["T"]))))))
        self.cohort_col_ = cohort_col
        self.columns_ = dict(columns)
        self._train = (index, stats, weights, cohort)
        self.fit_time_s_ = time.perf_counter() - t0
        return self

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return super().__repr__()
        p = "; ".join(f"{c}: alpha={r.alpha:.4g}, beta={r.beta:.4g}" for c, r in self.params_.iterrows())
        return f"ShiftedBetaGeoModel({p}; loglik={self.loglik_:.2f})"

    def _validate_stats(self, stats, columns, index) -> None:
        rec, T = stats["recency"], stats["T"]
        rc, tc = columns["recency"], columns["T"]
        self._fail_where(rec < 1, f"column {rc!r}: expected the last active period, >= 1", rc, index, rec)
        self._fail_where(rec > T, f"column {rc!r}: expected recency <= T (column {tc!r})", rc, index, rec)

    def _loglik(self, theta, g):
        a, b = theta
        rec, T = g["recency"], g["T"]
        churned = betaln(a + 1.0, b + rec - 1.0)
        alive = betaln(a, b + T - 1.0)
        return np.where(rec < T, churned, alive) - betaln(a, b)

    def _loglik_grad(self, theta, g):
        a, b = theta
        rec, T = g["recency"], g["T"]
        c = rec < T
        da = np.where(c, psi(a + 1.0) - psi(a + b + rec), psi(a) - psi(a + b + T - 1.0)) - (psi(a) - psi(a + b))
        db = np.where(c, psi(b + rec - 1.0) - psi(a + b + rec), psi(b + T - 1.0) - psi(a + b + T - 1.0)) \
            - (psi(b) - psi(a + b))
        return self._loglik(theta, g), np.column_stack([da, db])

    # ---------------------------------------------------------------- predictions
    def survival_curve(self, periods: int, cohort=None) -> pd.DataFrame:
        """Cohort survival S(t) and retention rate r(t) for t = 0..periods (tidy frame).

        Columns: cohort, period, survival, retention_rate (NaN at t = 0).
        """
        check_is_fitted(self, ("params_",))
        periods = int(check_horizon("periods", periods, integer=True))
        rows = []
        for lab, (a, b) in self._cohort_params(cohort).iterrows():
            t = np.arange(periods + 1, dtype=float)
            surv = np.exp(betaln(a, b + t) - betaln(a, b))
            ret = np.where(t >= 1, (b + t - 1.0) / (a + b + t - 1.0), np.nan)
            rows.append(pd.DataFrame({"cohort": lab, "period": t.astype(int), "survival": surv,
                                      "retention_rate": ret}))
        return pd.concat(rows, ignore_index=True)

    def _cohort_params(self, cohort) -> pd.DataFrame:
        if cohort is None:
            return self.params_
        if cohort not in self.params_.index:
            raise CxValueError(f"cohort={cohort!r} is not valid: expected one of "
                               f"{', '.join(map(repr, self.params_.index))}")
        return self.params_.loc[[cohort]]

    def _customer_params(self, data, customer_col):
        check_is_fitted(self, ("params_",))
        if data is None:
            index, stats, _, cohort = self._train
        else:
            extra = {"cohort": self.cohort_col_} if self.cohort_col_ is not None else None
            stats, _, index, ev = self._read(data, self.columns_, customer_col=customer_col, extra=extra)
            cohort = ev["cohort"] if extra else np.full(len(index), _ALL, dtype=object)
        unknown = ~pd.Index(cohort).isin(self.params_.index)
        if unknown.any():
            raise CxValueError(f"cohort {cohort[np.flatnonzero(unknown)[0]]!r} was not in the fitted data: "
                               f"expected one of {', '.join(map(repr, self.params_.index))}")
        p = self.params_.reindex(cohort)
        return index, stats, p["alpha"].to_numpy(), p["beta"].to_numpy()

    def loglik_per_customer(self, data=None, *, customer_col: str | None = None) -> pd.DataFrame:
        """Log-likelihood of each customer under her cohort's parameters (column ``loglik``)."""
        index, stats, a, b = self._customer_params(data, customer_col)
        return pd.DataFrame({"loglik": self._loglik((a, b), stats)}, index=index)

    def predict_survival(self, periods_ahead: int, data=None, *, customer_col: str | None = None) -> pd.DataFrame:
        """P(still active ``periods_ahead`` periods after T | active through T), per customer.

        ``S(T-1+k)/S(T-1) = B(α, β+T-1+k)/B(α, β+T-1)``; 0 for customers who churned
        (column ``p_active``).
        """
        k = check_horizon("periods_ahead", periods_ahead, integer=True)
        index, stats, a, b = self._customer_params(data, customer_col)
        T, active = stats["T"], stats["recency"] >= stats["T"]
        p = np.exp(betaln(a, b + T - 1.0 + k) - betaln(a, b + T - 1.0))
        return pd.DataFrame({"p_active": np.where(active, p, 0.0)}, index=index)

    def predict_discounted_renewals(self, discount_rate: float, data=None, *,
                                    customer_col: str | None = None) -> pd.DataFrame:
        """Expected discounted number of future renewals of each active customer.

        ``Σ_{k>=1} S(T-1+k)/S(T-1) / (1+d)^k = 2F1(1, β+T-1; α+β+T-1; 1/(1+d)) - 1``;
        multiply by the margin per period for the residual value. Fader & Hardie's (2010)
        DERL, which also counts the next payment undiscounted, is ``(1+d)`` times this.
        0 for churned customers (column ``discounted_renewals``).
        """
        d = check_horizon("discount_rate", discount_rate, allow_zero=False)
        index, stats, a, b = self._customer_params(data, customer_col)
        T, active = stats["T"], stats["recency"] >= stats["T"]
        v = hyp2f1(1.0, b + T - 1.0, a + b + T - 1.0, 1.0 / (1.0 + d)) - 1.0
        return pd.DataFrame({"discounted_renewals": np.where(active, v, 0.0)}, index=index)
