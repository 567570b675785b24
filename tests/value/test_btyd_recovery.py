"""Parameter recovery on data simulated from known parameters (seeded), and model
checking on simulated holdouts where the truth is known."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from cxvalue.value import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
    calibration_vs_holdout,
    compare_models,
    cumulative_tracking,
)
from cxvalue.value.simulate import (
    simulate_bgbb,
    simulate_bgnbd,
    simulate_mbgnbd,
    simulate_paretonbd,
    simulate_sbg,
    simulate_spend,
)


def _assert_recovered(model, truth, z=3.5):
    """Each estimate within z standard errors of the truth (and the 95% CI is sane)."""
    s = model.summary_
    for name, value in truth.items():
        est, se = s.loc[name, "estimate"], s.loc[name, "std_error"]
        assert np.isfinite(se) and se > 0, name
        assert abs(est - value) < z * se, (name, est, value, se)


def _T(n, seed):
    return np.random.default_rng(seed).uniform(26.0, 52.0, n)   # staggered cohort, weeks


CASES = [
    (BetaGeoModel, simulate_bgnbd, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}),
    (ModifiedBetaGeoModel, simulate_mbgnbd, {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}),
    (ParetoNBDModel, simulate_paretonbd, {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}),
]


@pytest.mark.parametrize("cls, simulate, truth", CASES, ids=["bgnbd", "mbgnbd", "paretonbd"])
def test_continuous_models_recover_parameters(cls, simulate, truth):
    n = 6000
    data = simulate(n, *truth.values(), T=_T(n, 1), holdout=39.0, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = cls().fit(data)
    assert m.converged_
    _assert_recovered(m, truth)
    # the fitted model forecasts the simulated holdout: totals within 8% (the estimation
    # error of 6,000 heavy-tailed customers alone moves the total by a few percent)
    tab = calibration_vs_holdout(m, data, holdout_col="frequency_holdout", holdout_length=39)
    assert tab.loc["all", "predicted_total"] == pytest.approx(tab.loc["all", "actual_total"], rel=0.08)
    assert (tab["n_customers"].iloc[:-1].sum()) == n


@pytest.mark.parametrize("cls, simulate, truth", CASES, ids=["bgnbd", "mbgnbd", "paretonbd"])
def test_conditional_and_unconditional_expectations_match_simulation_at_the_true_parameters(cls, simulate, truth):
    # checks the prediction formulas on their own, without estimation error
    n = 60_000
    data = simulate(n, *truth.values(), T=_T(n, 3), holdout=39.0, seed=4)
    m = cls()
    m.params_ = pd.Series(truth)
    m.columns_ = dict(cls._roles)
    pred = m.predict_purchases(39, data)["expected_purchases"].sum()
    assert pred == pytest.approx(data["frequency_holdout"].sum(), rel=0.03)
    assert m.expected_purchases(data["T"].to_numpy()).sum() == pytest.approx(data["frequency"].sum(), rel=0.03)
    # P(alive) is calibrated: it matches the simulated (hidden) status overall and among
    # the customers who made repeat purchases, where it is informative
    p = m.predict_p_alive(data)["p_alive"]
    assert p.mean() == pytest.approx(data["alive"].mean(), abs=0.01)
    buyers = data["frequency"] > 0
    assert p[buyers].mean() == pytest.approx(data.loc[buyers, "alive"].mean(), abs=0.015)


def test_bgbb_recovers_parameters():
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    data = simulate_bgbb(8000, *truth.values(), T=8, holdout=5, seed=4)
    m = BetaGeoBetaBinomModel().fit(data)
    _assert_recovered(m, truth)
    pred = m.predict_purchases(5)["expected_purchases"].sum()
    assert pred == pytest.approx(data["frequency_holdout"].sum(), rel=0.05)


def test_sbg_recovers_parameters_per_cohort():
    a = simulate_sbg(3000, 0.67, 3.8, T=8, seed=5).assign(cohort="highend")
    b = simulate_sbg(3000, 0.70, 1.18, T=8, seed=6).assign(cohort="regular")
    data = pd.concat([a, b], ignore_index=True)
    m = ShiftedBetaGeoModel().fit(data, cohort_col="cohort")
    for cohort, (al, be) in {"highend": (0.67, 3.8), "regular": (0.70, 1.18)}.items():
        s = m.summary_.loc[cohort]
        assert abs(s.loc["alpha", "estimate"] - al) < 3.5 * s.loc["alpha", "std_error"]
        assert abs(s.loc["beta", "estimate"] - be) < 3.5 * s.loc["beta", "std_error"]
    # the pooled log-likelihood is the sum of the per-cohort fits
    parts = [ShiftedBetaGeoModel().fit(data[data["cohort"] == c]).loglik_ for c in ("highend", "regular")]
    assert m.loglik_ == pytest.approx(sum(parts), rel=1e-10)


def test_gammagamma_recovers_parameters():
    truth = {"p": 6.0, "q": 3.8, "gamma": 15.0}
    freq = np.random.default_rng(8).integers(1, 15, 5000)
    data = pd.DataFrame({"frequency": freq, "monetary_value": simulate_spend(freq, *truth.values(), seed=9)})
    m = GammaGammaModel().fit(data)
    _assert_recovered(m, truth)


def test_cumulative_tracking_on_a_simulated_transaction_log():
    # BG/NBD cohort with first purchases spread over 12 weeks, observed for 78 weeks
    rng = np.random.default_rng(10)
    n, r, alpha, a, b = 4000, 0.25, 4.0, 0.8, 2.5
    t0 = rng.uniform(0, 12, n)
    lam = rng.gamma(r, 1 / alpha, n)
    cap = rng.geometric(rng.beta(a, b, n))                 # repeat purchases before dropout
    k = np.minimum(rng.poisson(lam * (78 - t0)), 10_000)
    owner = np.repeat(np.arange(n), k)
    times = t0[owner] + rng.uniform(0, 1, k.sum()) * (78 - t0[owner])
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
    keep = rank < cap[owner]
    log = pd.DataFrame({"customer": np.r_[np.arange(n), owner[keep]], "week": np.r_[t0, times[keep]]})
    cal = log[log["week"] <= 39]
    g = cal.groupby("customer")["week"]
    summary = pd.DataFrame({"frequency": g.size() - 1, "recency": g.max() - t0, "T": 39 - t0})
    model = BetaGeoModel().fit(summary)
    tr = cumulative_tracking(model, log, customer_col="customer", time_col="week", periods=np.arange(1, 79))
    assert tr["actual_cumulative"].iloc[-1] == len(log) - n
    assert tr["expected_cumulative"].iloc[-1] == pytest.approx(tr["actual_cumulative"].iloc[-1], rel=0.05)
    assert tr["expected_cumulative"].loc[39.0] == pytest.approx(tr["actual_cumulative"].loc[39.0], rel=0.05)


def test_compare_models_prefers_the_true_model():
    data = simulate_paretonbd(4000, 0.55, 10.0, 0.6, 12.0, T=_T(4000, 12), holdout=39, seed=13)
    tab = compare_models({"bgnbd": BetaGeoModel().fit(data), "paretonbd": ParetoNBDModel().fit(data)},
                         data, holdout_col="frequency_holdout", holdout_length=39)
    assert tab["n_params"].tolist() == [4, 4]
    assert np.all(np.isfinite(tab[["loglik", "aic", "bic", "holdout_mae", "holdout_rmse"]].to_numpy()))
    assert abs(tab.loc["paretonbd", "holdout_error_pct"]) < 5
