"""BG/BB model for discrete transaction opportunities (Fader, Hardie & Shang 2010).

At each of n occasions (an annual donation drive, a weekly event) a customer who is still
alive transacts with probability p ~ Beta(α, β); at the start of each later occasion she
dies with probability θ ~ Beta(γ, δ). Data per customer: frequency x (transactions in
occasions 1..n), recency t_x (the last occasion with a transaction, 0 if none) and the
number of occasions n (column ``T``).

Likelihood of one customer (FHS 2010)::

    L = B(α+x, β+n-x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
      + Σ_{i=0}^{n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)

evaluated as a masked log-sum-exp over a (groups × max(n-t_x)+1) array; the gradient
is analytic (digamma functions weighted by each term's share).
"""
from __future__ import annotations


import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln, logsumexp, psi

from .base import BaseBTYDModel, check_horizon
from ..errors import check_is_fitted

__all__ = ["BetaGeoBetaBinomModel"]


class BetaGeoBetaBinomModel(BaseBTYDModel):
    """BG/BB model — parameters ``alpha, beta, gamma, delta``; time is counted in occasions.

    >>> bgbb = BetaGeoBetaBinomModel().fit(donations, weights_col="weights")
    >>> bgbb.predict_purchases(5)       # expected transactions in the next 5 occasions
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _roles = {"frequency": "frequency", "recency": "recency", "T": "T"}
    _integer_roles = ("frequency", "recency", "T")
    model_name = "bgbb"

    def _starts(self):
        return [np.array([1.0, 1.0, 1.0, 1.0]), np.array([0.5, 0.5, 0.5, 2.0]),
                np.array([2.0, 1.0, 0.2, 5.0]), np.array([0.2, 2.0, 2.0, 0.5])]

    def fit(self, data, *, frequency_col: str = "frequency", recency_col: str = "recency",
            T_col: str = "T", weights_col: str | None = None, customer_col: str | None = None):
        """Fit by maximum likelihood; returns ``self``. ``T`` is the number of occasions n."""
        return self._fit_on(data, {"frequency": frequency_col, "recency": recency_col, "T": T_col},
                            weights_col=weights_col, customer_col=customer_col)

    def _validate_stats(self, stats, columns, index) -> None:
        x, tx, n = stats["frequency"], stats["recency"], stats["T"]
        fc, rc, tc = columns["frequency"], columns["recency"], columns["T"]
        self._fail_where(x < 0, f"column {fc!r}: expected transaction counts >= 0", fc, index, x)
        self._fail_where(n < 1, f"column {tc!r}: expected at least 1 occasion", tc, index, n)
        self._fail_where((tx < 0) | (tx > n), f"column {rc!r}: expected 0 <= recency <= T "
                         f"(column {tc!r})", rc, index, tx)
        self._fail_where(x > tx, f"column {fc!r}: expected frequency <= recency (column {rc!r}), "
                         "as each transaction takes one occasion", fc, index, x)
        self._fail_where((x > 0) & (tx == 0), f"column {rc!r}: expected recency >= 1 for "
                         "customers with frequency > 0", rc, index, tx)

    # ---------------------------------------------------------------- likelihood
    # Every special function in the likelihood has an argument "parameter + whole number"
    # (x, n - x, t_x + i, ...), so each is evaluated once on a 1-D grid 0..max(n) and the
    # (groups x occasions) terms are assembled by lookups: the cost is O(groups x n) adds.
    def _prepare(self, g):
        x = g["frequency"].astype(np.int64)
        tx = g["recency"].astype(np.int64)
        n = g["T"].astype(np.int64)
        width = int(np.max(n - tx)) if len(n) else 0
        i = np.arange(width)[None, :]
        mask = i < (n - tx)[:, None]
        j = np.where(mask, tx[:, None] + i, 0)                 # occasion index t_x + i
        return {**g, "_x": x, "_n": n, "_j": j, "_jx": np.where(mask, j - x[:, None], 0),
                "_mask": mask, "_N": int(n.max()) + 1 if len(n) else 1}

    def _grids(self, theta, g, fn):
        al, be, ga, de = theta
        k = np.arange(g["_N"] + 1, dtype=float)
        return fn(al + k), fn(be + k), fn(al + be + k), fn(de + k), fn(ga + de + 1.0 + k)

    def _terms(self, theta, g):
        if "_j" not in g:
            g = self._prepare(g)
        al, be, ga, de = theta
        A, B, AB, D, GD1 = self._grids(theta, g, gammaln)
        x, n, j, jx, mask = g["_x"], g["_n"], g["_j"], g["_jx"], g["_mask"]
        # log B(α+x, β+n-x) + log B(γ, δ+n)
        t0 = A[x] + B[n - x] - AB[n] + gammaln(ga) + D[n] - GD1[n - 1]
        # log B(α+x, β+t_x-x+i) + log B(γ+1, δ+t_x+i)
        ti = A[x][:, None] + B[jx] - AB[j] + gammaln(ga + 1.0) + D[j] - GD1[j]
        ti = np.where(mask, ti, -np.inf)
        terms = np.concatenate([t0[:, None], ti], axis=1)
        return terms, betaln(al, be) + betaln(ga, de), g

    def _loglik(self, theta, g):
        terms, norm, _ = self._terms(theta, g)
        return logsumexp(terms, axis=1) - norm

    def _loglik_grad(self, theta, g):
        al, be, ga, de = theta
        terms, norm, g = self._terms(theta, g)
        x, n, j, jx, mask = g["_x"], g["_n"], g["_j"], g["_jx"], g["_mask"]
        A, B, AB, D, GD1 = self._grids(theta, g, psi)
        lse = logsumexp(terms, axis=1)
        w = np.exp(terms - lse[:, None])                   # share of each term, rows sum to 1
        w0, wi = w[:, 0], np.where(mask, w[:, 1:], 0.0)
        s_i = wi.sum(axis=1)
        d_al = A[x] - w0 * AB[n] - np.sum(wi * AB[j], axis=1)
        d_be = w0 * (B[n - x] - AB[n]) + np.sum(wi * (B[jx] - AB[j]), axis=1)
        d_ga = w0 * (psi(ga) - GD1[n - 1]) + s_i * psi(ga + 1.0) - np.sum(wi * GD1[j], axis=1)
        d_de = w0 * (D[n] - GD1[n - 1]) + np.sum(wi * (D[j] - GD1[j]), axis=1)
        grad = np.column_stack([
            d_al - (psi(al) - psi(al + be)), d_be - (psi(be) - psi(al + be)),
            d_ga - (psi(ga) - psi(ga + de)), d_de - (psi(de) - psi(ga + de))])
        return lse - norm, grad

    # ---------------------------------------------------------------- predictions
    def predict_p_alive(self, data=None, *, customer_col: str | None = None) -> pd.DataFrame:
        """P(alive at occasion n+1 | x, t_x, n) (FHS 2010), column ``p_alive``."""
        index, stats = self._stats_for(data, customer_col)
        g, inv = self._grouped(stats)
        al, be, ga, de = self.params_.to_numpy()
        x, n = g["frequency"], g["T"]
        with np.errstate(all="ignore"):
            lp = (betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n + 1.0) - betaln(ga, de)
                  - self._loglik(self.params_.to_numpy(), g))
        return pd.DataFrame({"p_alive": np.exp(lp)[inv]}, index=index)

    def predict_purchases(self, t: int, data=None, *, customer_col: str | None = None) -> pd.DataFrame:
        """Expected transactions in the next ``t`` occasions, E[X(n, n+t) | x, t_x, n] (FHS 2010).

        ``1/L · B(α+x+1, β+n-x)/B(α,β) · δ/(γ-1) · Γ(γ+δ)/Γ(1+δ)
        · [Γ(1+δ+n)/Γ(γ+δ+n) - Γ(1+δ+n+t)/Γ(γ+δ+n+t)]`` (column ``expected_purchases``).
        """
        t = check_horizon("t", t, integer=True)
        index, e = self._expected_at([t], data, customer_col)
        return pd.DataFrame({"expected_purchases": e[:, 0]}, index=index)

    def _expected_at_grouped(self, times, data=None, customer_col=None):
        """Conditional expectations per group of identical statistics:
        ``(index, array (groups, len(times)), inverse)``."""
        index, stats = self._stats_for(data, customer_col)
        g, inv = self._grouped(stats)
        theta = self.params_.to_numpy()
        al, be, ga, de = theta
        x, n = g["frequency"], g["T"]
        with np.errstate(all="ignore"):
            log_k = (betaln(al + x + 1.0, be + n - x) - betaln(al, be) + gammaln(ga + de) - gammaln(1.0 + de)
                     - self._loglik(theta, g))
            cols = [np.exp(log_k) * _gamma_ratio_diff(ga, de, n, float(t)) for t in times]
        return index, np.column_stack(cols) if cols else np.empty((len(x), 0)), inv

    def expected_purchases(self, t) -> np.ndarray:
        """Unconditional E[X(t)] over the first ``t`` occasions of a new customer (FHS 2010)."""
        check_is_fitted(self, ("params_",))
        t = np.asarray(t, dtype=float)
        al, be, ga, de = self.params_.to_numpy()
        with np.errstate(all="ignore"):
            return al / (al + be) * np.exp(gammaln(ga + de) - gammaln(1.0 + de)) * _gamma_ratio_diff(ga, de, 0.0, t)

    def purchase_distribution(self, t: int) -> pd.DataFrame:
        """P(X(t) = x) for x = 0..t, a new customer over ``t`` occasions (FHS 2010)."""
        check_is_fitted(self, ("params_",))
        n = int(check_horizon("t", t, integer=True))
        al, be, ga, de = self.params_.to_numpy()
        x = np.arange(n + 1, dtype=float)
        lchoose = lambda N, k: gammaln(N + 1.0) - gammaln(k + 1.0) - gammaln(N - k + 1.0)  # noqa: E731
        p = np.exp(lchoose(n, x) + betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n) - betaln(ga, de))
        i = np.arange(n, dtype=float)[None, :]
        xx = x[:, None]
        with np.errstate(all="ignore"):
            li = (lchoose(i, xx) + betaln(al + xx, be + i - xx) - betaln(al, be)
                  + betaln(ga + 1.0, de + i) - betaln(ga, de))
        p = p + np.sum(np.where(i >= xx, np.exp(li), 0.0), axis=1)
        return pd.DataFrame({"n": np.arange(n + 1), "probability": p})


def _gamma_ratio_diff(ga, de, n, t):
    """δ/(γ-1) · [Γ(1+δ+n)/Γ(γ+δ+n) - Γ(1+δ+n+t)/Γ(γ+δ+n+t)], stable for γ near 1 and large n."""
    g1 = gammaln(1.0 + de + n) - gammaln(ga + de + n)
    g2 = gammaln(1.0 + de + n + t) - gammaln(ga + de + n + t)
    k = ga - 1.0
    if abs(k) < 1e-8:                                    # limit γ -> 1: δ·[ψ(1+δ+n+t) - ψ(1+δ+n)]
        return de * (psi(1.0 + de + n + t) - psi(1.0 + de + n))
    return de * np.exp(g1) * -np.expm1(g2 - g1) / k
