"""Vectorised simulators of the BTYD models (for parameter-recovery tests and benchmarks).

Each returns a frame indexed by ``customer_id`` with the sufficient statistics the
matching model is fitted on, optionally with the number of transactions in a holdout
period that follows the calibration period (``frequency_holdout``); the continuous-time
simulators also return the true (normally unobserved) status ``alive`` at T. No Python loop runs
over customers: the count in (0, T] is a Poisson (or binomial) draw capped by the
geometric number of purchases before dropout, and the time of the x-th of K uniform
purchase times on (0, T] is T · Beta(x, K − x + 1).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import CxValueError

__all__ = ["simulate_bgnbd", "simulate_mbgnbd", "simulate_paretonbd", "simulate_bgbb", "simulate_sbg",
           "simulate_spend"]


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _T(T, n):
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    if np.any(T <= 0):
        raise CxValueError("T must be > 0 for every customer")
    return T


def _frame(n, **cols):
    return pd.DataFrame(cols, index=pd.RangeIndex(n, name="customer_id"))


def _order_stat(rng, x, k, length):
    """Time of the x-th of k uniform points on (0, length]; 0 where x = 0."""
    xs = np.maximum(x, 1)
    t = length * rng.beta(xs, np.maximum(k - xs + 1, 1))
    return np.where(x > 0, t, 0.0)


def _bg_like(n, r, alpha, a, b, T, holdout, seed, death_at_zero):
    rng = _rng(seed)
    T = _T(T, n)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    # number of purchases made before dropping out (BG/NBD: dropout after a purchase)
    cap = rng.geometric(np.clip(p, 1e-300, 1.0)) - (1 if death_at_zero else 0)
    horizon = T + holdout
    k_total = rng.poisson(lam * horizon)
    k_cal = rng.binomial(k_total, T / horizon) if holdout > 0 else k_total
    x = np.minimum(k_cal, cap)
    tx = _order_stat(rng, x, k_cal, T)
    out = _frame(n, frequency=x, recency=tx, T=T, alive=k_cal < cap)
    if holdout > 0:
        out["frequency_holdout"] = np.minimum(k_total, cap) - x
    return out


def simulate_bgnbd(n, r, alpha, a, b, *, T=52.0, holdout=0.0, seed=None) -> pd.DataFrame:
    """Customers from the BG/NBD with parameters (r, α, a, b) observed for T (array or scalar)."""
    return _bg_like(n, r, alpha, a, b, T, float(holdout), seed, death_at_zero=False)


def simulate_mbgnbd(n, r, alpha, a, b, *, T=52.0, holdout=0.0, seed=None) -> pd.DataFrame:
    """Customers from the MBG/NBD (dropout also possible right after the first purchase)."""
    return _bg_like(n, r, alpha, a, b, T, float(holdout), seed, death_at_zero=True)


def simulate_paretonbd(n, r, alpha, s, beta, *, T=52.0, holdout=0.0, seed=None) -> pd.DataFrame:
    """Customers from the Pareto/NBD with parameters (r, α, s, β)."""
    rng = _rng(seed)
    T = _T(T, n)
    holdout = float(holdout)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    life = rng.exponential(1.0 / mu)
    window = np.minimum(life, T + holdout)
    k_total = rng.poisson(lam * window)
    cal_window = np.minimum(window, T)
    k_cal = np.where(window > T, rng.binomial(k_total, np.clip(T / np.maximum(window, 1e-300), 0, 1)), k_total)
    tx = _order_stat(rng, k_cal, k_cal, cal_window)
    out = _frame(n, frequency=k_cal, recency=tx, T=T, alive=life > T)
    if holdout > 0:
        out["frequency_holdout"] = k_total - k_cal
    return out


def simulate_bgbb(n, alpha, beta, gamma, delta, *, T=6, holdout=0, seed=None) -> pd.DataFrame:
    """Customers from the BG/BB over ``T`` discrete occasions (loop over occasions only)."""
    rng = _rng(seed)
    T, holdout = int(T), int(holdout)
    p = rng.beta(alpha, beta, n)
    theta = rng.beta(gamma, delta, n)
    alive = np.ones(n, dtype=bool)
    x = np.zeros(n, dtype=np.int64)
    tx = np.zeros(n, dtype=np.int64)
    xh = np.zeros(n, dtype=np.int64)
    for t in range(1, T + holdout + 1):
        alive &= rng.random(n) >= theta
        buy = alive & (rng.random(n) < p)
        if t <= T:
            x += buy
            tx = np.where(buy, t, tx)
        else:
            xh += buy
    out = _frame(n, frequency=x, recency=tx, T=np.full(n, T))
    if holdout > 0:
        out["frequency_holdout"] = xh
    return out


def simulate_sbg(n, alpha, beta, *, T=8, seed=None) -> pd.DataFrame:
    """Contract customers from the sBG: ``recency`` = last active period, capped at ``T``."""
    rng = _rng(seed)
    theta = rng.beta(alpha, beta, n)
    life = rng.geometric(np.clip(theta, 1e-300, 1.0))
    return _frame(n, recency=np.minimum(life, int(T)), T=np.full(n, int(T)))


def simulate_spend(frequency, p, q, gamma, *, seed=None) -> np.ndarray:
    """Mean spend per transaction from the Gamma-Gamma model for given frequencies (0 where x = 0)."""
    rng = _rng(seed)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / gamma, x.shape)
    total = rng.gamma(np.maximum(p * x, 1e-12), 1.0 / nu)
    return np.where(x > 0, total / np.maximum(x, 1.0), 0.0)
