"""The BTYD models reproduce published numbers (../shared/data/README.md)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from btyd_data import as_published, cdnow_exact, cdnow_rounded, cdnow_transactions, sig

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


@pytest.fixture(scope="module")
def rounded(shared_data):
    return cdnow_rounded(shared_data)


@pytest.fixture(scope="module")
def exact(shared_data):
    return cdnow_exact(shared_data)


@pytest.fixture(scope="module")
def bgnbd(rounded):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return BetaGeoModel().fit(rounded, frequency_col="x", recency_col="t_x", customer_col="ID")


@pytest.fixture(scope="module")
def bgnbd_exact(exact):
    return BetaGeoModel().fit(exact)


def test_summary_built_from_transactions_matches_the_published_summary(shared_data, exact):
    # cdnow_customers_summary.csv is the (frequency, recency, T) a correct summary step gives
    ref = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv").set_index("ID")
    assert len(exact) == 2357 and exact["frequency"].sum() == 2457
    assert exact["frequency_holdout"].sum() == 1882
    np.testing.assert_array_equal(exact["frequency"].to_numpy(), ref["frequency"].to_numpy())
    np.testing.assert_allclose(exact["recency"].to_numpy(), ref["recency"].to_numpy(), atol=0.005 + 1e-9)
    np.testing.assert_allclose(exact["T"].to_numpy(), ref["T"].to_numpy(), atol=0.005 + 1e-9)


# --------------------------------------------------------------------------- BG/NBD
def test_bgnbd_cdnow_parameters_and_loglik(bgnbd):
    # Fader, Hardie & Lee (2005), Marketing Science 24(2): r=0.2426, α=4.4136, a=0.7929,
    # b=2.4259, LL=-9582.43 (data as published with lifetimes, t_x and T to 2 decimals)
    p = bgnbd.params_
    assert [sig(p[k]) for k in ("r", "alpha", "a", "b")] == [0.2426, 4.414, 0.7929, 2.426]
    assert round(bgnbd.loglik_, 2) == -9582.43
    assert bgnbd.converged_ and bgnbd.n_customers_ == 2357
    assert list(bgnbd.summary_.columns) == ["estimate", "std_error", "ci_low", "ci_high"]
    assert list(bgnbd.summary_.index) == ["r", "alpha", "a", "b"]


def test_bgnbd_cdnow_exact_weeks_match_every_published_digit(bgnbd_exact):
    # with t_x and T in exact weeks the fit reproduces all the published digits
    p = bgnbd_exact.params_
    for name, ref in {"r": "0.2426", "alpha": "4.4136", "a": "0.7929", "b": "2.4259"}.items():
        assert as_published(p[name], ref), (name, p[name])
    assert round(bgnbd_exact.loglik_, 2) == -9582.43


def test_bgnbd_conditional_expectation_for_the_published_customer(bgnbd):
    # FHL 2005: x=2, t_x=30.43, T=38.86 -> 1.226 purchases in the next 39 weeks
    one = pd.DataFrame({"x": [2], "t_x": [30.43], "T": [38.86]}, index=pd.Index(["c1"], name="ID"))
    e = bgnbd.predict_purchases(39, one)
    assert e.index.tolist() == ["c1"]
    assert round(e.loc["c1", "expected_purchases"], 3) == 1.226
    assert round(bgnbd.predict_purchases(39).loc[1, "expected_purchases"], 3) == 1.226  # ID 1 is that customer


def test_bgnbd_holdout_total_against_the_1882_actual(bgnbd_exact, exact):
    # Sum of conditional expectations for weeks 40-78 vs the 1,882 actual repeat purchases.
    # Ours: 1,653.4 (-12.1%). The BG/NBD is known to under-forecast CDNOW's heaviest buyers
    # (see the 7+ bucket of the calibration-vs-holdout table); documented tolerance: within 15% of the actual total.
    pred = bgnbd_exact.predict_purchases(39, exact)["expected_purchases"].sum()
    assert round(pred, 1) == 1653.4
    assert abs(pred - 1882) / 1882 < 0.15


def test_bgnbd_cumulative_tracking_on_cdnow(bgnbd_exact, shared_data):
    # as in FHL 2005: expected vs actual cumulative repeat transactions, weeks 1..78
    t = cdnow_transactions(shared_data)
    tr = cumulative_tracking(bgnbd_exact, t, customer_col="id", time_col="date",
                             periods=np.arange(1, 79), origin="1997-01-01", time_unit="W")
    assert tr.index.name == "period" and len(tr) == 78
    # actual: all repeat transactions (2,457 + 1,882 = 4,339) by the end of week 78
    assert tr["actual_cumulative"].iloc[-1] == 4339
    assert abs(tr["expected_cumulative"].iloc[-1] / 4339 - 1) < 0.05          # ours 4,165.7 (-4.0%)
    assert abs(tr["expected_cumulative"].loc[39.0] / tr["actual_cumulative"].loc[39.0] - 1) < 0.03
    np.testing.assert_allclose(tr["expected_incremental"].cumsum(), tr["expected_cumulative"])


def test_calibration_vs_holdout_table_on_cdnow(bgnbd_exact, exact):
    tab = calibration_vs_holdout(bgnbd_exact, exact, holdout_col="frequency_holdout", holdout_length=39)
    assert tab.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+", "all"]
    assert tab.loc["all", "n_customers"] == 2357 and tab.loc["all", "actual_total"] == 1882
    assert tab.loc["0", "n_customers"] == 1411                  # 59.9% made no repeat purchase
    assert tab.iloc[:-1]["n_customers"].sum() == 2357
    np.testing.assert_allclose(tab.iloc[:-1]["predicted_total"].sum(), tab.loc["all", "predicted_total"])
    # predictions rise with calibration frequency, as the actuals do
    assert np.all(np.diff(tab.iloc[:-1]["predicted_mean"].to_numpy()) > 0)


# --------------------------------------------------------------------------- Pareto/NBD
def test_paretonbd_cdnow(exact):
    # Fader & Hardie's Pareto/NBD notes: r=0.5533, α=10.576, s=0.6062, β=11.672; LL=-9594.98
    m = ParetoNBDModel().fit(exact)
    p = m.params_
    assert [sig(p[k]) for k in ("r", "alpha", "s", "beta")] == [0.5533, 10.58, 0.6062, 11.67]
    assert round(m.loglik_, 2) == -9594.98
    # the published point has a (slightly) lower likelihood: ours is the maximum
    g = m._prepare({"frequency": exact["frequency"].to_numpy(float), "recency": exact["recency"].to_numpy(float),
                    "T": exact["T"].to_numpy(float)})
    assert m._loglik(np.array([0.5533, 10.576, 0.6062, 11.672]), g).sum() <= m.loglik_ + 1e-9


def test_paretonbd_cdnow_rounded_data(rounded):
    m = ParetoNBDModel().fit(rounded, frequency_col="x", recency_col="t_x", customer_col="ID")
    assert [sig(m.params_[k]) for k in ("r", "alpha", "s", "beta")] == [0.5533, 10.58, 0.6062, 11.67]
    assert round(m.loglik_, 1) == -9595.0


# --------------------------------------------------------------------------- MBG/NBD
def test_mbgnbd_cdnow(rounded):
    # Batislam et al. (2007) model on CDNOW, as reported by lifetimes: r=0.525, α=6.183, a=0.891, b=1.614
    m = ModifiedBetaGeoModel().fit(rounded, frequency_col="x", recency_col="t_x", customer_col="ID")
    for name, ref in {"r": "0.525", "alpha": "6.183", "a": "0.891", "b": "1.614"}.items():
        assert as_published(m.params_[name], ref), (name, m.params_[name])
    assert m.loglik_ > -9582.43          # one more degree of freedom at x = 0 than BG/NBD, fits slightly better


# --------------------------------------------------------------------------- Gamma-Gamma
def test_gammagamma_cdnow_repeat_buyers(rounded):
    # Fader, Hardie & Lee (2005), "RFM and CLV", JMR 42: p=6.25, q=3.74, γ=15.44; LL=-4055.92
    gg = GammaGammaModel().fit(rounded, frequency_col="x", monetary_col="zbar", customer_col="ID")
    assert gg.n_customers_ == 946 and gg.n_excluded_ == 1411
    assert as_published(gg.params_["p"], "6.25") and as_published(gg.params_["q"], "3.74")
    # γ: ours 15.448 (15.45 at 2 decimals); the published 15.44 has a lower likelihood
    # (-4055.9247 vs our -4055.9232), so compare at 1e-3 relative and check we are the maximum
    assert gg.params_["gamma"] == pytest.approx(15.44, rel=1e-3)
    assert round(gg.loglik_, 2) == -4055.92
    x, z = rounded["x"].to_numpy(float), rounded["zbar"].to_numpy(float)
    g = {"frequency": x[x > 0], "monetary_value": z[x > 0]}
    assert gg._loglik(np.array([6.25, 3.74, 15.44]), g).sum() <= gg.loglik_
    spend = gg.predict_spend()
    assert spend.index.equals(pd.Index(rounded["ID"], name="ID"))
    # customers without repeat purchases get the population mean pγ/(q-1)
    assert spend.loc[3, "expected_spend"] == pytest.approx(gg.population_mean_spend())


# --------------------------------------------------------------------------- BG/BB
def test_bgbb_donations_weighted(shared_data):
    # Fader, Hardie & Shang (2010), Marketing Science 29(6): α=1.204, β=0.750, γ=0.657,
    # δ=2.783; LL=-33,225.6 (11,104 donors, 6 occasions)
    d = pd.read_csv(shared_data / "cdnow" / "donations.csv")
    m = BetaGeoBetaBinomModel().fit(d, T_col="periods", weights_col="weights")
    for name, ref in {"alpha": "1.204", "beta": "0.750", "gamma": "0.657", "delta": "2.783"}.items():
        assert as_published(m.params_[name], ref), (name, m.params_[name])
    assert round(m.loglik_, 1) == -33225.6
    assert m.n_customers_ == 11104 and m.n_groups_ == 22


def test_bgbb_donations_one_row_per_donor(shared_data):
    d = pd.read_csv(shared_data / "btyd_cohorts" / "bgbb_donations.csv")
    m = BetaGeoBetaBinomModel().fit(d, customer_col="customer_id")
    for name, ref in {"alpha": "1.204", "beta": "0.750", "gamma": "0.657", "delta": "2.783"}.items():
        assert as_published(m.params_[name], ref), (name, m.params_[name])
    assert m.n_customers_ == 11104 and m.n_groups_ == 22
    e = m.predict_purchases(5)
    assert e.index.equals(pd.Index(d["customer_id"], name="customer_id"))
    # the unconditional P(X(6) = x) reproduces the donation counts closely (as in FHS 2010)
    dist = m.purchase_distribution(6)
    observed = d.groupby("frequency").size().reindex(range(7)).to_numpy() / len(d)
    assert np.max(np.abs(dist["probability"].to_numpy() - observed)) < 0.01


# --------------------------------------------------------------------------- sBG
def test_sbg_cohorts(shared_data):
    # Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing 21(1):
    # high end α=0.668 β=3.806; regular α=0.704 β=1.182
    d = pd.read_csv(shared_data / "btyd_cohorts" / "sbg_cohorts.csv")
    m = ShiftedBetaGeoModel().fit(d, cohort_col="cohort", customer_col="customer_id")
    ref = {("highend", "alpha"): "0.668", ("highend", "beta"): "3.806",
           ("regular", "alpha"): "0.704", ("regular", "beta"): "1.182"}
    for (cohort, name), value in ref.items():
        assert as_published(m.params_.loc[cohort, name], value), (cohort, name)
        assert as_published(m.summary_.loc[(cohort, name), "estimate"], value)
    curve = m.survival_curve(12)
    assert list(curve.columns) == ["cohort", "period", "survival", "retention_rate"]
    high = curve[curve["cohort"] == "highend"].set_index("period")
    # fitted survival tracks the observed 7-year survival of the high-end cohort (FH 2007)
    observed = [1.0, 0.869, 0.743, 0.653, 0.593, 0.551, 0.517, 0.491]
    assert np.max(np.abs(high["survival"].iloc[:8].to_numpy() - observed)) < 0.03
    assert np.all(np.diff(high["retention_rate"].iloc[1:].to_numpy()) > 0)   # retention rises


# --------------------------------------------------------------------------- comparison
def test_model_comparison_table(exact, bgnbd_exact):
    models = {"bgnbd": bgnbd_exact, "mbgnbd": ModifiedBetaGeoModel().fit(exact),
              "paretonbd": ParetoNBDModel().fit(exact)}
    tab = compare_models(models, exact, holdout_col="frequency_holdout", holdout_length=39)
    assert tab.index.tolist() == ["bgnbd", "mbgnbd", "paretonbd"]
    assert list(tab.columns) == ["model", "n_params", "loglik", "aic", "bic", "holdout_actual",
                                 "holdout_predicted", "holdout_error_pct", "holdout_mae", "holdout_rmse"]
    assert (tab["holdout_actual"] == 1882).all()
    np.testing.assert_allclose(tab["aic"], 2 * 4 - 2 * tab["loglik"])
    np.testing.assert_allclose(tab["bic"], 4 * np.log(2357) - 2 * tab["loglik"])
    assert tab.loc["bgnbd", "loglik"] > tab.loc["paretonbd", "loglik"]     # -9582.43 vs -9594.98
