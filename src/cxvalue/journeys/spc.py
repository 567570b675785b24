"""Statistical process control of journey steps (concepts.md D9+): the seeds' "micro
process-control indices".

* **p-chart** (Shewhart; Montgomery, *Introduction to Statistical Quality Control*, ch. 7) of a
  daily share — a step's conversion: ``x_i`` of ``n_i`` journeys that reached the step before
  went on. Centre ``p̄ = Σx / Σn`` (of the baseline days), limits ``p̄ ± 3·√(p̄(1 − p̄)/n_i)``
  (they widen on quiet days), each day's ``z_i = (p_i − p̄) / σ_i``.
* **Individuals chart** (I-MR) of a daily measurement — a journey's median duration: centre
  the baseline mean, ``σ̂ = MR̄ / 1.128`` (the mean moving range of consecutive days over
  d₂ for n = 2), limits ``centre ± 3σ̂``.

Days are flagged by the Western Electric run rules on ``z`` (AT&T, *Statistical Quality
Control Handbook*, 1956): rule 1, one point beyond 3σ; rule 2, two of three consecutive
points beyond 2σ on the same side; rule 3, four of five beyond 1σ on the same side; rule 4,
eight in a row on the same side of the centre. A day flagged by rules 2–4 is flagged with the
points of its run. ``baseline`` (a boolean mask of days) sets the days the centre and σ are
estimated from (Phase I); by default every day. With ``revise`` (default) the limits are
*revised* as in Phase I practice (Montgomery §6.2.2): days beyond 3σ are taken out of the
baseline and the centre and limits estimated again, until no baseline day is beyond them — so a
broken week does not drag the centre towards itself and make every normal day look shifted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import CxValueError

RULES = ("beyond_3sigma", "two_of_three_beyond_2sigma", "four_of_five_beyond_1sigma", "eight_on_one_side")


def run_rules(z) -> pd.DataFrame:
    """Which Western Electric rule flags each point of the standardised series ``z`` (NaN: no
    data that day, never flagged and breaking no run): one boolean column per rule of
    :data:`RULES`, and ``out_of_control`` (any of them)."""
    z = np.asarray(z, dtype=float)
    n = len(z)
    flags = {r: np.zeros(n, bool) for r in RULES}
    flags["beyond_3sigma"] = np.abs(z) > 3
    for side in (1, -1):
        s = side * z
        for rule, (m, k, level) in {"two_of_three_beyond_2sigma": (3, 2, 2), "four_of_five_beyond_1sigma": (5, 4, 1),
                                    "eight_on_one_side": (8, 8, 0)}.items():
            beyond = np.nan_to_num(s, nan=-np.inf) > level
            for i in range(m - 1, n):
                window = slice(i - m + 1, i + 1)
                if beyond[window].sum() >= k:
                    flags[rule][window] |= beyond[window]
    out = pd.DataFrame(flags)
    out["out_of_control"] = out[list(RULES)].any(axis=1)
    return out


def _baseline(n: int, baseline) -> np.ndarray:
    if baseline is None:
        return np.ones(n, bool)
    b = np.asarray(baseline, bool)
    if len(b) != n or not b.any():
        raise CxValueError("baseline: expected one flag per day, with at least one baseline day")
    return b


def _revised(fit, base: np.ndarray, revise: bool, max_rounds: int = 20):
    """``fit(base) -> (z, stats)`` refitted without the baseline points beyond 3σ until none is."""
    z, st = fit(base)
    for _ in range(max_rounds if revise else 0):
        drop = base & (np.abs(np.nan_to_num(z)) > 3)
        if not drop.any() or drop.sum() == base.sum():
            break
        base = base & ~drop
        z, st = fit(base)
    return z, st, base


def p_chart(x, n, *, baseline=None, revise: bool = True) -> pd.DataFrame:
    """p-chart of ``x`` successes out of ``n`` trials per period: ``n``, ``x``, ``p``, ``center``,
    ``lcl``, ``ucl`` (clipped to [0, 1]), ``z``, ``baseline`` (the period was used for the
    limits) and the run-rule flags (:func:`run_rules`). Periods with ``n = 0`` have no point."""
    x, n = np.asarray(x, float), np.asarray(n, float)
    if len(x) != len(n) or (x < 0).any() or (x > n).any():
        raise CxValueError("p_chart: expected 0 <= x <= n for every period")
    b = _baseline(len(n), baseline) & (n > 0)
    if not b.any():
        raise CxValueError("p_chart: no trials in the baseline periods")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / n, np.nan)

        def fit(base):
            pbar = x[base].sum() / n[base].sum()
            sigma = np.where(n > 0, np.sqrt(pbar * (1 - pbar) / n), np.nan)
            z = np.where(n > 0, np.where(sigma > 0, (p - pbar) / sigma, 0.0), np.nan)
            return z, (pbar, sigma)
        z, (pbar, sigma), b = _revised(fit, b, revise)
    out = pd.DataFrame({"n": n.astype(int), "x": x.astype(int), "p": p, "center": pbar,
                        "lcl": np.clip(pbar - 3 * sigma, 0, 1), "ucl": np.clip(pbar + 3 * sigma, 0, 1), "z": z,
                        "baseline": b})
    return pd.concat([out, run_rules(z)], axis=1)


def individuals_chart(values, *, baseline=None, revise: bool = True) -> pd.DataFrame:
    """Individuals (I-MR) chart of one measurement per period (NaN: none): ``value``,
    ``center``, ``lcl``, ``ucl``, ``sigma`` (MR̄ / 1.128 of consecutive baseline values), ``z``,
    ``baseline`` and the run-rule flags."""
    v = np.asarray(values, float)
    b = _baseline(len(v), baseline) & np.isfinite(v)
    if b.sum() < 2:
        raise CxValueError("individuals_chart: expected at least 2 baseline periods with a value")

    def fit(base):
        vals = v[base]
        mr = np.abs(np.diff(vals))
        sigma = float(mr.mean() / 1.128) if len(mr) else 0.0
        center = float(vals.mean())
        z = (v - center) / sigma if sigma > 0 else np.where(np.isfinite(v), 0.0, np.nan)
        return z, (center, sigma)
    z, (center, sigma), b = _revised(fit, b, revise)
    out = pd.DataFrame({"value": v, "center": center, "lcl": center - 3 * sigma, "ucl": center + 3 * sigma,
                        "sigma": sigma, "z": z, "baseline": b})
    return pd.concat([out, run_rules(z)], axis=1)
