"""BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007).

While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
purchase she drops out with probability p ~ Beta(a, b). The MBG/NBD variant also lets
her drop out right after the first (trial) purchase, at time 0, so a customer with no
repeat purchase need not be alive.

All likelihoods and predictions are evaluated in log space; the conditional expectation
uses the Euler transformation

    (1 - z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1 - z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)

whose parameters stay small for large x, so frequencies in the hundreds give finite
numbers (the untransformed form overflows).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, gammaln, hyp2f1, psi, xlogy

from .base import TransactionModel, add_lookups, by_value

__all__ = ["BetaGeoModel", "ModifiedBetaGeoModel"]


# --------------------------------------------------------------------------- shared math
def bg_expected(t, r, alpha, a, b):
    """E[X(t)] of the BG/NBD with parameters (r, α, a, b) (arrays broadcast).

    ``(a+b-1)/(a-1) · [1 - (α/(α+t))^r · 2F1(r, b; a+b-1; t/(α+t))]`` evaluated through the
    Euler transformation. a = 1 exactly is replaced by 1 + 1e-7 (the limit is continuous).
    """
    a = np.where(np.abs(a - 1.0) < 1e-7, 1.0 + 1e-7, a)
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    log1mz = np.log(alpha) - np.log(alpha + t)
    f = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b - 1.0, z)
    return (a + b - 1.0) / (a - 1.0) * -np.expm1((a - 1.0) * log1mz + np.log(f))


def bg_pmf(n, t, r, alpha, a, b):
    """P(X(t) = n) of the BG/NBD (Fader, Hardie & Lee 2005), arrays broadcast.

    The negative-binomial tail Σ_{j>=n} NB(j) is the regularised incomplete beta
    I_{t/(α+t)}(n, r), so no finite sum is needed.
    """
    n = np.asarray(n, dtype=float)
    t = float(t)
    lp = np.log(alpha) - np.log(alpha + t)          # log(α/(α+t))
    log_nb = (gammaln(r + n) - gammaln(r) - gammaln(n + 1.0) + r * lp
              + xlogy(n, t / (alpha + t)))
    p1 = np.exp(betaln(a, b + n) - betaln(a, b) + log_nb)
    n1 = np.maximum(n, 1.0)
    tail = betainc(n1, r, t / (alpha + t))
    p2 = np.exp(betaln(a + 1.0, b + n1 - 1.0) - betaln(a, b)) * tail
    return p1 + np.where(n >= 1, p2, 0.0)


def _prepare_lookups(g: dict) -> dict:
    """Lookups for the BG/NBD family: most likelihood terms depend on x alone and the logs on
    T or t_x alone (CDNOW has 58 distinct frequencies); the conditional expectation depends
    on (x, T) only, so it is evaluated per distinct pair."""
    add_lookups(g, ("frequency", "recency", "T"))
    pair = g["_i_frequency"].astype(np.int64) * len(g["_u_T"]) + g["_i_T"]
    codes, upair = pd.factorize(pair)
    g["_i_xT"] = codes.astype(np.intp)
    g["_xT_x"] = g["_u_frequency"][upair // len(g["_u_T"])]
    g["_xT_T"] = g["_u_T"][upair % len(g["_u_T"])]
    return g


_by = by_value


def _by_xT(g: dict, fn):
    """``fn(x, T)`` evaluated on the distinct (x, T) pairs and gathered per group."""
    if "_i_xT" not in g:
        return fn(g["frequency"], g["T"])
    return fn(g["_xT_x"], g["_xT_T"])[g["_i_xT"]]


def _with_alive(p_alive, pmf_alive, n):
    """Mix the dead customer's point mass at 0 with the alive customer's distribution."""
    return p_alive * pmf_alive + (1.0 - p_alive) * (np.asarray(n) == 0)


# --------------------------------------------------------------------------- BG/NBD
class BetaGeoModel(TransactionModel):
    """BG/NBD model (Fader, Hardie & Lee 2005) — parameters ``r, alpha, a, b``.

    >>> model = BetaGeoModel().fit(summary)            # frequency, recency, T columns
    >>> model.summary_                                    # estimate, std_error, ci_low, ci_high
    >>> model.predict_purchases(39)                       # expected purchases next 39 units
    >>> model.predict_p_alive()

    Likelihood of one customer (FHL 2005)::

        L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
          + 1{x>0} B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))
    """

    _param_names = ("r", "alpha", "a", "b")
    model_name = "bgnbd"

    def _starts(self):
        return [np.array([1.0, 1.0, 1.0, 1.0]), np.array([0.5, 5.0, 0.5, 2.0]),
                np.array([0.2, 10.0, 2.0, 5.0]), np.array([2.0, 0.5, 0.2, 0.5])]

    def _prepare(self, g: dict) -> dict:
        return _prepare_lookups(g)

    @staticmethod
    def _terms(theta, g):
        r, alpha, a, b = theta
        x = g["frequency"]
        log_aT, log_atx = _by(g, "T", lambda v: np.log(alpha + v)), _by(g, "recency", lambda v: np.log(alpha + v))
        common = _by(g, "frequency", lambda v: gammaln(r + v)) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
        t1 = _by(g, "frequency", lambda v: betaln(a, b + v)) - (r + x) * log_aT
        t2 = np.where(x > 0, _by(g, "frequency", lambda v: betaln(a + 1.0, b + np.maximum(v, 1.0) - 1.0))
                      - (r + x) * log_atx, -np.inf)
        return common, t1, t2, log_aT, log_atx

    def _loglik(self, theta, g):
        common, t1, t2, _, _ = self._terms(theta, g)
        return common + np.logaddexp(t1, t2)

    def _loglik_grad(self, theta, g):
        r, alpha, a, b = theta
        x = g["frequency"]
        common, t1, t2, log_aT, log_atx = self._terms(theta, g)
        lse = np.logaddexp(t1, t2)
        w2 = np.exp(t2 - lse)
        w1 = 1.0 - w2
        pab = psi(a + b)
        pabx = _by(g, "frequency", lambda v: psi(a + b + v))
        dr = (_by(g, "frequency", lambda v: psi(r + v)) - psi(r) + np.log(alpha)
              - w1 * log_aT - w2 * log_atx)
        dal = r / alpha - (r + x) * (w1 * np.exp(-log_aT) + w2 * np.exp(-log_atx))
        da = -(psi(a) - pab) + w1 * (psi(a) - pabx) + w2 * (psi(a + 1.0) - pabx)
        db = (-(psi(b) - pab) + w1 * (_by(g, "frequency", lambda v: psi(b + v)) - pabx)
              + w2 * (_by(g, "frequency", lambda v: psi(b + np.maximum(v, 1.0) - 1.0)) - pabx))
        return common + lse, np.column_stack([dr, dal, da, db])

    def _log_odds_dead(self, theta, g):
        r, alpha, a, b = theta
        x, tx, T = g["frequency"], g["recency"], g["T"]
        x1 = np.maximum(x, 1.0)
        term = np.log(a) - np.log(b + x1 - 1.0) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(x > 0, term, -np.inf)

    def _p_alive(self, theta, g):
        """1 / (1 + 1{x>0} a/(b+x-1) · ((α+T)/(α+t_x))^(r+x))  (FHL 2005 note on P(alive))."""
        return np.exp(-np.logaddexp(0.0, self._log_odds_dead(theta, g)))

    def _cond_expected(self, theta, g, t):
        """FHL 2005: P(alive) · E[X(t)] with updated (r+x, α+T, a, b+x) — evaluated per distinct (x, T)."""
        r, alpha, a, b = theta
        return self._p_alive(theta, g) * _by_xT(g, lambda x, T: bg_expected(t, r + x, alpha + T, a, b + x))

    def _uncond_expected(self, theta, t):
        r, alpha, a, b = theta
        return bg_expected(t, r, alpha, a, b)

    def _cond_pmf(self, theta, g, t, n):
        """Fader & Hardie note "Deriving the conditional PMF of the BG/NBD model": P(X(T, T+t) = n | x, t_x, T)."""
        r, alpha, a, b = theta
        x, T = g["frequency"][:, None], g["T"][:, None]
        pa = self._p_alive(theta, g)[:, None]
        return _with_alive(pa, bg_pmf(n[None, :], t, r + x, alpha + T, a, b + x), n[None, :])

    def _uncond_pmf(self, theta, t, n):
        r, alpha, a, b = theta
        return bg_pmf(n, t, r, alpha, a, b)


# --------------------------------------------------------------------------- MBG/NBD
class ModifiedBetaGeoModel(TransactionModel):
    """MBG/NBD model (Batislam, Denizel & Filiztekin 2007) — parameters ``r, alpha, a, b``.

    As BG/NBD, but the customer may also drop out at time 0, right after the first
    purchase. Likelihood::

        L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
          +  B(a+1, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))
    """

    _param_names = ("r", "alpha", "a", "b")
    model_name = "mbgnbd"

    def _prepare(self, g: dict) -> dict:
        return _prepare_lookups(g)

    def _starts(self):
        return [np.array([1.0, 1.0, 1.0, 1.0]), np.array([0.5, 5.0, 0.5, 2.0]),
                np.array([0.2, 10.0, 2.0, 5.0]), np.array([2.0, 0.5, 0.2, 0.5])]

    @staticmethod
    def _terms(theta, g):
        r, alpha, a, b = theta
        x, tx, T = g["frequency"], g["recency"], g["T"]
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
        t1 = betaln(a, b + x + 1.0) - (r + x) * np.log(alpha + T)
        t2 = betaln(a + 1.0, b + x) - (r + x) * np.log(alpha + tx)
        return common, t1, t2

    def _loglik(self, theta, g):
        common, t1, t2 = self._terms(theta, g)
        return common + np.logaddexp(t1, t2)

    def _loglik_grad(self, theta, g):
        r, alpha, a, b = theta
        x, tx, T = g["frequency"], g["recency"], g["T"]
        common, t1, t2 = self._terms(theta, g)
        lse = np.logaddexp(t1, t2)
        w2 = np.exp(t2 - lse)
        w1 = 1.0 - w2
        pab, pabx = psi(a + b), psi(a + b + x + 1.0)
        dr = psi(r + x) - psi(r) + np.log(alpha) - w1 * np.log(alpha + T) - w2 * np.log(alpha + tx)
        dal = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + tx))
        da = -(psi(a) - pab) + w1 * (psi(a) - pabx) + w2 * (psi(a + 1.0) - pabx)
        db = -(psi(b) - pab) + w1 * (psi(b + x + 1.0) - pabx) + w2 * (psi(b + x) - pabx)
        return common + lse, np.column_stack([dr, dal, da, db])

    def _p_alive(self, theta, g):
        """1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)) — also below 1 when x = 0."""
        r, alpha, a, b = theta
        x, tx, T = g["frequency"], g["recency"], g["T"]
        term = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.exp(-np.logaddexp(0.0, term))

    def _cond_expected(self, theta, g, t):
        """P(alive) · E_BG/NBD[X(t)] with updated (r+x, α+T, a, b+x+1), per distinct (x, T)."""
        r, alpha, a, b = theta
        return self._p_alive(theta, g) * _by_xT(g, lambda x, T: bg_expected(t, r + x, alpha + T, a, b + x + 1.0))

    def _uncond_expected(self, theta, t):
        """b/(a+b) · E_BG/NBD[X(t)] with (r, α, a, b+1): survive time 0, then BG/NBD."""
        r, alpha, a, b = theta
        return b / (a + b) * bg_expected(t, r, alpha, a, b + 1.0)

    def _cond_pmf(self, theta, g, t, n):
        r, alpha, a, b = theta
        x, T = g["frequency"][:, None], g["T"][:, None]
        pa = self._p_alive(theta, g)[:, None]
        return _with_alive(pa, bg_pmf(n[None, :], t, r + x, alpha + T, a, b + x + 1.0), n[None, :])

    def _uncond_pmf(self, theta, t, n):
        r, alpha, a, b = theta
        return _with_alive(b / (a + b), bg_pmf(n, t, r, alpha, a, b + 1.0), n)
