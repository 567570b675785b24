"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader, Hardie & Lee 2005 note).

While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); her
unobserved lifetime is exponential with rate μ ~ Gamma(s, β).

Likelihood of one customer (Fader & Hardie, "A note on deriving the Pareto/NBD model
and related expressions", 2005)::

    L = Γ(r+x) α^r β^s / Γ(r) · [ 1 / ((α+T)^(r+x) (β+T)^s)  +  s/(r+s+x) · A0 ]

    A0 = F(t_x) - F(T),  and with the usual swap so that the argument is below 1:
      α >= β:  F(τ) = 2F1(r+s+x, s+1;   r+s+x+1; (α-β)/(α+τ)) / (α+τ)^(r+s+x)
      α <  β:  F(τ) = 2F1(r+s+x, r+x;   r+s+x+1; (β-α)/(β+τ)) / (β+τ)^(r+s+x)

Numerics: the hypergeometric factor grows like (1-z)^(-r-x) and overflows for x in the
hundreds, so each F(τ) is computed as a logarithm through the Euler transformation
``2F1(A, B; A+1; z) = (1-z)^(1-B) · 2F1(1, A+1-B; A+1; z)``, whose series has positive
terms, small parameters and a value between 1 and 1/(1-z); A0 is then
``exp(log F(t_x)) · (1 - exp(log F(T) - log F(t_x)))`` evaluated with log1mexp.
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from .base import TransactionModel, group_rows, log1mexp

__all__ = ["ParetoNBDModel", "pnbd_expected"]


def _log_F(tau, r, alpha, s, beta, x):
    """log F(τ) of the module docstring, elementwise, with the α/β swap."""
    A = r + s + x
    swap = alpha < beta
    big = np.where(swap, beta, alpha)                  # the larger rate parameter
    small = np.where(swap, alpha, beta)
    B = np.where(swap, r + x, s + 1.0)
    log_big_tau = np.log(big + tau)
    log1mz = np.log(small + tau) - log_big_tau         # log(1 - z), z = (big-small)/(big+τ)
    z = (big - small) / (big + tau)
    f = hyp2f1(1.0, A + 1.0 - B, A + 1.0, z)
    return (1.0 - B) * log1mz + np.log(f) - A * log_big_tau


def _log_A0(r, alpha, s, beta, g):
    """log A0 per group. The hypergeometric terms depend on (τ, x) pairs only, and there
    are far fewer distinct (t_x, x) and (T, x) pairs than (x, t_x, T) triples, so F is
    evaluated once per distinct pair (found by ``_prepare``) and scattered back."""
    if "_pair_tau" in g:
        lf = _log_F(g["_pair_tau"], r, alpha, s, beta, g["_pair_x"])
        lf_tx, lf_T = lf[g["_inv_tx"]], lf[g["_inv_T"]]
    else:
        x = g["frequency"]
        lf_tx = _log_F(g["recency"], r, alpha, s, beta, x)
        lf_T = _log_F(g["T"], r, alpha, s, beta, x)
    d = np.minimum(lf_T - lf_tx, 0.0)
    return lf_tx + log1mexp(d)


def pnbd_expected(t, r, alpha, s, beta):
    """E[X(t)] = rβ/(α(s-1)) · [1 - (β/(β+t))^(s-1)] (s = 1 handled as its limit)."""
    t = np.asarray(t, dtype=float)
    L = np.log1p(t / beta)                               # log((β+t)/β)
    k = s - 1.0
    small = np.abs(k) < 1e-8
    ratio = np.where(small, L, -np.expm1(-k * L) / np.where(small, 1.0, k))
    return r * beta / alpha * ratio


class ParetoNBDModel(TransactionModel):
    """Pareto/NBD model — parameters ``r, alpha, s, beta``.

    Same data and predictions as :class:`BetaGeoModel` (except the purchase-count
    distribution). The gradient is computed by central differences on the grouped data.
    """

    _param_names = ("r", "alpha", "s", "beta")
    model_name = "paretonbd"

    def _starts(self):
        return [np.array([1.0, 1.0, 1.0, 1.0]), np.array([0.5, 10.0, 0.5, 10.0]),
                np.array([0.2, 5.0, 2.0, 20.0]), np.array([2.0, 0.5, 0.2, 0.5])]

    _loglik_grad = None

    def _prepare(self, g):
        n = len(g["frequency"])
        tau = np.concatenate([g["recency"], g["T"]])
        xx = np.concatenate([g["frequency"], g["frequency"]])
        first, inv = group_rows([tau, xx])
        return {**g, "_pair_tau": tau[first], "_pair_x": xx[first], "_inv_tx": inv[:n], "_inv_T": inv[n:]}

    def _loglik(self, theta, g):
        r, alpha, s, beta = theta
        x, T = g["frequency"], g["T"]
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        t1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        t2 = np.log(s) - np.log(r + s + x) + _log_A0(r, alpha, s, beta, g)
        return common + np.logaddexp(t1, t2)

    def _p_alive(self, theta, g):
        """1 / (1 + s/(r+s+x) · (α+T)^(r+x) (β+T)^s · A0)."""
        r, alpha, s, beta = theta
        x, T = g["frequency"], g["T"]
        term = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T) + s * np.log(beta + T)
                + _log_A0(r, alpha, s, beta, g))
        return np.exp(-np.logaddexp(0.0, term))

    def _cond_expected(self, theta, g, t):
        """P(alive) · (r+x)(β+T)/((α+T)(s-1)) · [1 - ((β+T)/(β+T+t))^(s-1)]."""
        r, alpha, s, beta = theta
        x, T = g["frequency"], g["T"]
        return self._p_alive(theta, g) * pnbd_expected(t, r + x, alpha + T, s, beta + T)

    def _uncond_expected(self, theta, t):
        r, alpha, s, beta = theta
        return pnbd_expected(t, r, alpha, s, beta)
