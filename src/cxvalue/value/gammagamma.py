"""Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
Colombo & Jiang 1999).

Each transaction value z ~ Gamma(p, ν) with the customer's ν ~ Gamma(q, γ); the mean
spend ζ = p/ν varies across customers but not over time, and is assumed independent of
the purchase process. For a customer with x repeat transactions of mean value z̄ (m)::

    f(z̄ | x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · x^(px) · z̄^(px-1) / (γ + x z̄)^(px+q)

    E[M | z̄, x] = (q-1)/(px+q-1) · pγ/(q-1) + px/(px+q-1) · z̄  =  p (γ + x z̄) / (px + q - 1)

i.e. a weighted mean of the population mean pγ/(q-1) and the customer's own mean.
Customers with x = 0 carry no spend information: they are left out of the fit and get
the population mean pγ/(q-1) from ``predict_spend``. The log-likelihood includes the
Jacobian term ``(px-1)·log z̄``, as in the published value −4055.92 for CDNOW.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.special import gammaln, psi

from ..errors import CxValueError, check_is_fitted
from .base import BaseBTYDModel, add_lookups, by_value

__all__ = ["GammaGammaModel"]


class GammaGammaModel(BaseBTYDModel):
    """Gamma-Gamma spend model — parameters ``p, q, gamma``.

    >>> gg = GammaGammaModel().fit(summary, monetary_col="zbar")
    >>> gg.predict_spend(summary)          # column expected_spend

    Fit on repeat buyers (frequency > 0); ``monetary_value`` is their mean spend per
    *repeat* transaction. Predictions need q > 1 (a finite population mean).
    """

    _param_names = ("p", "q", "gamma")
    _roles = {"frequency": "frequency", "monetary_value": "monetary_value"}
    _integer_roles = ("frequency",)
    model_name = "gammagamma"

    def _starts(self):
        return [np.array([1.0, 1.0, 1.0]), np.array([5.0, 3.0, 15.0]),
                np.array([2.0, 5.0, 50.0]), np.array([10.0, 2.0, 1.0])]

    def fit(self, data, *, frequency_col: str = "frequency", monetary_col: str = "monetary_value",
            weights_col: str | None = None, customer_col: str | None = None):
        """Fit on the rows with frequency > 0; returns ``self`` (``n_excluded_`` counts the rest)."""
        t0 = time.perf_counter()
        self._check_init()
        columns = self._columns({"frequency": frequency_col, "monetary_value": monetary_col})
        stats, weights, index, _ = self._read(data, columns, weights_col=weights_col, customer_col=customer_col)
        keep = stats["frequency"] > 0
        if not keep.any():
            raise CxValueError(f"column {frequency_col!r}: no customer has frequency > 0 — the "
                               "Gamma-Gamma model is fitted on repeat buyers only")
        fit_stats = {k: v[keep] for k, v in stats.items()}
        res = self._fit_arrays(fit_stats, weights[keep])
        self._store(res, columns, index, stats, weights, t0)
        self.n_excluded_ = float(weights[~keep].sum())
        return self

    def _validate_stats(self, stats, columns, index) -> None:
        x, m = stats["frequency"], stats["monetary_value"]
        self._fail_where(x < 0, f"column {columns['frequency']!r}: expected repeat-purchase counts >= 0",
                         columns["frequency"], index, x)
        self._fail_where((x > 0) & (m <= 0), f"column {columns['monetary_value']!r}: expected a "
                         "positive mean spend for customers with frequency > 0",
                         columns["monetary_value"], index, m)

    def _prepare(self, g: dict) -> dict:
        """Constant logs once; functions of x alone on its few distinct values (see add_lookups)."""
        g["_log_x"], g["_log_m"], g["_xm"] = np.log(g["frequency"]), np.log(g["monetary_value"]), \
            g["frequency"] * g["monetary_value"]
        return add_lookups(g, ("frequency",))

    def _loglik(self, theta, g, lg=None):
        p, q, gam = theta
        x = g["frequency"]
        log_x = g["_log_x"] if "_log_x" in g else np.log(x)
        log_m = g["_log_m"] if "_log_m" in g else np.log(g["monetary_value"])
        xm = g["_xm"] if "_xm" in g else x * g["monetary_value"]
        lg = np.log(gam + xm) if lg is None else lg
        return (by_value(g, "frequency", lambda v: gammaln(p * v + q) - gammaln(p * v)) - gammaln(q)
                + q * np.log(gam) + p * x * log_x + (p * x - 1.0) * log_m - (p * x + q) * lg)

    def _loglik_grad(self, theta, g):
        p, q, gam = theta
        x = g["frequency"]
        xm = g["_xm"] if "_xm" in g else x * g["monetary_value"]
        lg = np.log(gam + xm)
        pg = by_value(g, "frequency", lambda v: psi(p * v + q))
        log_x = g["_log_x"] if "_log_x" in g else np.log(x)
        log_m = g["_log_m"] if "_log_m" in g else np.log(g["monetary_value"])
        dp = x * (pg - by_value(g, "frequency", lambda v: psi(p * v)) + log_x + log_m - lg)
        dq = pg - psi(q) + np.log(gam) - lg
        dgam = q / gam - (p * x + q) / (gam + xm)
        return self._loglik(theta, g, lg), np.column_stack([dp, dq, dgam])

    def population_mean_spend(self) -> float:
        """E[Z] = pγ/(q-1) for a new customer (infinite when q <= 1)."""
        p, q, gam = self._fitted()
        return float(p * gam / (q - 1.0)) if q > 1 else float("inf")

    def _fitted(self):
        check_is_fitted(self, ("params_",))
        return self.params_.to_numpy()

    def loglik_per_customer(self, data=None, *, customer_col: str | None = None) -> pd.DataFrame:
        """Log-density of each repeat buyer's mean spend (NaN for frequency 0)."""
        index, stats = self._stats_for(data, customer_col)
        x = stats["frequency"]
        safe = {"frequency": np.where(x > 0, x, 1.0), "monetary_value": np.where(x > 0, stats["monetary_value"], 1.0)}
        ll = self._loglik(self._fitted(), safe)
        return pd.DataFrame({"loglik": np.where(x > 0, ll, np.nan)}, index=index)

    def predict_spend(self, data=None, *, customer_col: str | None = None) -> pd.DataFrame:
        """Conditional expected mean spend per transaction, E[M | z̄, x] (column ``expected_spend``).

        Customers with frequency 0 get the population mean pγ/(q-1).
        """
        p, q, gam = self._fitted()
        index, stats = self._stats_for(data, customer_col)
        x, m = stats["frequency"], np.where(stats["frequency"] > 0, stats["monetary_value"], 0.0)
        if q <= 1:
            raise CxValueError(f"the fitted q = {q:.4g} is <= 1, so the expected spend is infinite: "
                               "the spend data are too heavy-tailed for the Gamma-Gamma model")
        return pd.DataFrame({"expected_spend": p * (gam + x * m) / (p * x + q - 1.0)}, index=index)
