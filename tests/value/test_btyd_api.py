"""The shared estimator contract, input validation with exact messages, and CLV."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from btyd_data import cdnow_rounded

from cxvalue.errors import ConvergenceWarning, CxValueError, DataContractError, NotFittedError
from cxvalue.value import (
    MODELS,
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
    customer_lifetime_value,
    fit_model,
)
from cxvalue.timeutil import periods_per_month
from cxvalue.value.simulate import simulate_bgbb, simulate_bgnbd, simulate_sbg, simulate_spend

WEEKS_PER_MONTH = periods_per_month("week")     # 365.25 / 12 / 7

ALL = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, BetaGeoBetaBinomModel, ShiftedBetaGeoModel,
       GammaGammaModel]


@pytest.fixture(scope="module")
def cdnow(shared_data):
    return cdnow_rounded(shared_data).rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="module")
def small():
    d = simulate_bgnbd(400, 0.3, 4.0, 0.8, 2.5, T=39.0, seed=11)
    d["monetary_value"] = simulate_spend(d["frequency"], 6.0, 4.0, 15.0, seed=12)
    return d


def _data_for(cls, small):
    if cls is BetaGeoBetaBinomModel:
        return simulate_bgbb(300, 1.2, 0.75, 0.66, 2.8, T=6, seed=1)
    if cls is ShiftedBetaGeoModel:
        return simulate_sbg(300, 0.7, 1.2, T=8, seed=1)
    return small


# --------------------------------------------------------------------------- contract
@pytest.mark.parametrize("cls", ALL)
def test_contract_defaults_fit_returns_self_and_not_fitted_before(cls, small):
    model = cls()
    assert model.n_starts == 3 and model.maxiter == 2000
    with pytest.raises(NotFittedError, match=rf"this {cls.__name__} is not fitted yet: call fit\(\.\.\.\) before using it"):
        model.summary_  # noqa: B018 - attribute access is the check
    method = {GammaGammaModel: "predict_spend", ShiftedBetaGeoModel: "predict_survival"}.get(cls, "predict_purchases")
    args = () if cls is GammaGammaModel else (1,)
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        getattr(model, method)(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.fit(_data_for(cls, small)) is model
    assert isinstance(model.summary_, pd.DataFrame)
    assert list(model.summary_.columns) == ["estimate", "std_error", "ci_low", "ci_high"]
    s = model.summary_
    assert (s["ci_low"] < s["estimate"]).all() and (s["estimate"] < s["ci_high"]).all() and (s["std_error"] > 0).all()
    assert np.isfinite(model.loglik_) and model.aic_ > 0 and model.bic_ > model.aic_
    assert model.converged_ and np.isfinite(model.fit_time_s_)   # set by fit (a duration is never < 0)
    out = getattr(model, method)(*args)
    assert isinstance(out, pd.DataFrame) and out.index.equals(_data_for(cls, small).index)
    assert repr(model).startswith(cls.__name__ + "(")


def test_summary_uses_conventional_names():
    assert BetaGeoModel._param_names == ("r", "alpha", "a", "b")
    assert ModifiedBetaGeoModel._param_names == ("r", "alpha", "a", "b")
    assert ParetoNBDModel._param_names == ("r", "alpha", "s", "beta")
    assert BetaGeoBetaBinomModel._param_names == ("alpha", "beta", "gamma", "delta")
    assert ShiftedBetaGeoModel._param_names == ("alpha", "beta")
    assert GammaGammaModel._param_names == ("p", "q", "gamma")


def test_fit_model_builds_each_strategy_and_lists_options_on_error(cdnow):
    assert list(MODELS) == ["bgnbd", "mbgnbd", "paretonbd", "bgbb", "sbg", "gammagamma"]
    m = fit_model("bgnbd", cdnow, customer_col="ID")
    assert isinstance(m, BetaGeoModel) and round(m.loglik_, 2) == -9582.43
    m = fit_model("mbgnbd", cdnow, model_options={"n_starts": 1})
    assert isinstance(m, ModifiedBetaGeoModel) and m.n_starts == 1
    with pytest.raises(CxValueError, match=r"^model='bg-nbd' is not valid: expected one of 'bgnbd', 'mbgnbd', "
                                           r"'paretonbd', 'bgbb', 'sbg', 'gammagamma'$"):
        fit_model("bg-nbd", cdnow)


def test_convergence_warning_when_the_optimizer_stops_early(cdnow):
    with pytest.warns(ConvergenceWarning, match=r"BetaGeoModel did not converge after 1 starting point\(s\)"):
        m = BetaGeoModel(maxiter=1, n_starts=1).fit(cdnow)
    assert m.converged_ is False


@pytest.mark.parametrize("kwargs, message", [
    ({"n_starts": 0}, "n_starts must be a whole number >= 1, got 0"),
    ({"maxiter": 0}, "maxiter must be a whole number >= 1, got 0"),
    ({"tol": -1.0}, "tol must be a positive number, got -1.0"),
])
def test_constructor_options_are_checked_at_fit(kwargs, message, small):
    with pytest.raises(CxValueError, match=f"^{message}$"):
        BetaGeoModel(**kwargs).fit(small)


# --------------------------------------------------------------------------- bad data
def _frame(**cols):
    base = {"frequency": [0, 2, 1], "recency": [0.0, 5.0, 3.0], "T": [10.0, 10.0, 10.0]}
    base.update(cols)
    return pd.DataFrame(base, index=pd.Index(["a", "b", "c"], name="id"))


@pytest.mark.parametrize("frame, message", [
    (_frame(recency=[0.0, 12.0, 3.0]),
     r"column 'recency': expected recency <= T \(column 'T'\), got 12.0 for customer 'b' \(1 row\)"),
    (_frame(frequency=[0, -2, 1]),
     r"column 'frequency': expected repeat-purchase counts >= 0, got -2.0 for customer 'b' \(1 row\)"),
    (_frame(recency=[1.0, 5.0, 3.0]),
     r"column 'recency': expected recency 0 for customers with frequency 0, got 1.0 for customer 'a' \(1 row\)"),
    (_frame(frequency=[0, 2.5, 1]),
     r"column 'frequency': expected whole numbers, got 2.5 for customer 'b'"),
    (_frame(T=[10.0, np.nan, 10.0]),
     r"column 'T': expected finite numbers, got nan for customer 'b' \(1 such rows\) — drop or fill them first"),
    (_frame(T=["10", "x", "10"]), r"column 'T': expected numbers"),
])
def test_bad_statistics_are_rejected_with_exact_messages(frame, message):
    with pytest.raises(DataContractError, match=message):
        BetaGeoModel().fit(frame)


def test_missing_column_names_the_fix():
    with pytest.raises(DataContractError, match=r"column 'frequency' not found in data: expected columns "
                                                r"'frequency', 'recency', 'T', got \['x', 'recency', 'T'\] "
                                                r"— name yours with frequency_col="):
        BetaGeoModel().fit(_frame().rename(columns={"frequency": "x"}))
    with pytest.raises(CxValueError, match="data must be a pandas DataFrame, got ndarray"):
        BetaGeoModel().fit(np.zeros((3, 3)))
    with pytest.raises(DataContractError, match=r"column 'w': expected positive weights, got 0.0 for customer 'a'"):
        BetaGeoModel().fit(_frame(w=[0.0, 1.0, 1.0]), weights_col="w")


def test_prediction_arguments_are_checked(small):
    m = BetaGeoModel().fit(small)
    with pytest.raises(CxValueError, match=r"^t must be a finite number >= 0, got -1$"):
        m.predict_purchases(-1)
    with pytest.raises(CxValueError, match=r"^n_max must be a whole number of periods, got 2.5$"):
        m.predict_purchase_probabilities(10, 2.5)
    with pytest.raises(CxValueError, match="ParetoNBDModel has no closed-form purchase-count distribution"):
        ParetoNBDModel().fit(small).predict_purchase_probabilities(10)
    bgbb = BetaGeoBetaBinomModel().fit(simulate_bgbb(300, 1.2, 0.75, 0.66, 2.8, T=6, seed=1))
    with pytest.raises(CxValueError, match=r"^t must be a whole number of periods, got 2.5$"):
        bgbb.predict_purchases(2.5)
    with pytest.raises(DataContractError, match=r"column 'frequency': expected frequency <= recency"):
        BetaGeoBetaBinomModel().fit(pd.DataFrame({"frequency": [3], "recency": [2], "T": [6]}))


def test_sbg_errors_and_cohorts(shared_data):
    d = pd.read_csv(shared_data / "btyd_cohorts" / "sbg_cohorts.csv")
    m = ShiftedBetaGeoModel().fit(d, cohort_col="cohort", customer_col="customer_id")
    assert m.summary_.index.names == ["cohort", "parameter"]
    assert m.params_.index.tolist() == ["highend", "regular"]
    with pytest.raises(CxValueError, match=r"^cohort='vip' is not valid: expected one of 'highend', 'regular'$"):
        m.survival_curve(5, cohort="vip")
    with pytest.raises(CxValueError, match=r"^discount_rate must be a finite number > 0, got 0$"):
        m.predict_discounted_renewals(0)
    with pytest.raises(DataContractError, match=r"column 'recency': expected the last active period, >= 1, got 0.0"):
        ShiftedBetaGeoModel().fit(pd.DataFrame({"recency": [0, 2], "T": [3, 3]}))
    # per-customer predictions: churned customers 0, active ones conditional on survival
    p = m.predict_survival(1)
    assert p.index.name == "customer_id" and len(p) == len(d)
    churned = (d["recency"] < d["T"]).to_numpy()
    assert (p["p_active"].to_numpy()[churned] == 0).all()
    a, b = m.params_.loc["highend"]
    active_high = ((d["cohort"] == "highend") & ~churned).to_numpy()
    assert np.allclose(p["p_active"].to_numpy()[active_high], (b + 7) / (a + b + 7))   # r(8)
    # discounted renewals = Σ_k S(T-1+k)/S(T-1)/(1+d)^k, summed directly
    v = m.predict_discounted_renewals(0.1)["discounted_renewals"].to_numpy()[active_high][0]
    k = np.arange(1, 3000)
    ratio = np.cumprod((b + 7 + k - 1) / (a + b + 7 + k - 1))
    assert v == pytest.approx(np.sum(ratio / 1.1 ** k), rel=1e-8)


# --------------------------------------------------------------------------- grouping
def test_grouping_with_weights_equals_the_expanded_data(small):
    counts = small.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
    assert len(counts) < len(small)
    a = BetaGeoModel().fit(small)
    b = BetaGeoModel().fit(counts, weights_col="n")
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-6)
    assert a.loglik_ == pytest.approx(b.loglik_, rel=1e-10)
    assert a.n_customers_ == b.n_customers_ == len(small)
    assert a.n_groups_ == b.n_groups_ == len(counts)


def test_predictions_on_new_data_keep_the_index_and_match_training(small):
    m = BetaGeoModel().fit(small)
    shuffled = small.sample(frac=1.0, random_state=3)
    shuffled.index = [f"cust-{i}" for i in shuffled.index]
    e_new = m.predict_purchases(10, shuffled)
    assert e_new.index.equals(shuffled.index)
    e_train = m.predict_purchases(10)
    np.testing.assert_allclose(e_new["expected_purchases"].to_numpy(),
                               e_train["expected_purchases"].to_numpy()[small.index.get_indexer(
                                   [int(s.split("-")[1]) for s in shuffled.index])])


def test_purchase_probabilities_are_consistent_with_expectations(cdnow):
    for cls in (BetaGeoModel, ModifiedBetaGeoModel):
        m = cls().fit(cdnow, customer_col="ID")
        pmf = m.predict_purchase_probabilities(39, 300).head(20)
        np.testing.assert_allclose(pmf.sum(axis=1), 1.0, atol=1e-9)
        np.testing.assert_allclose(pmf.to_numpy() @ np.arange(301),
                                   m.predict_purchases(39)["expected_purchases"].head(20), rtol=1e-8)
        dist = m.purchase_distribution(39, 300)
        assert dist["probability"].sum() == pytest.approx(1.0, abs=1e-9)
        assert (dist["n"] * dist["probability"]).sum() == pytest.approx(float(m.expected_purchases(39)), rel=1e-8)
    # FHL 2005 P(X(t) = n) at t = 0: nobody has purchased yet
    assert m.purchase_distribution(0, 3)["probability"].tolist() == [1.0, 0.0, 0.0, 0.0]


# --------------------------------------------------------------------------- CLV
def test_clv_formula_and_index(cdnow):
    bg = BetaGeoModel().fit(cdnow, customer_col="ID")
    gg = GammaGammaModel().fit(cdnow, customer_col="ID")
    clv = customer_lifetime_value(bg, gg, horizon=12, period_length=WEEKS_PER_MONTH, discount_rate=0.01, margin=0.3)
    assert list(clv.columns) == ["expected_purchases", "expected_spend", "discounted_purchases", "clv"]
    assert clv.index.equals(pd.Index(cdnow["ID"], name="ID"))
    # by hand for customer 1: Σ_k (E[X(kL)] - E[X((k-1)L)]) / 1.01^k · E[M] · margin
    one = cdnow.set_index("ID").loc[[1]]
    cum = [0.0] + [bg.predict_purchases(k * WEEKS_PER_MONTH, one)["expected_purchases"].iloc[0] for k in range(1, 13)]
    det = sum((cum[k] - cum[k - 1]) / 1.01 ** k for k in range(1, 13))
    spend = gg.predict_spend(one)["expected_spend"].iloc[0]
    assert clv.loc[1, "discounted_purchases"] == pytest.approx(det, rel=1e-10)
    assert clv.loc[1, "clv"] == pytest.approx(0.3 * spend * det, rel=1e-10)
    assert clv.loc[1, "expected_purchases"] == pytest.approx(cum[-1], rel=1e-10)
    # no discounting: CLV = margin · spend · expected purchases over the horizon
    flat = customer_lifetime_value(bg, gg, horizon=12, period_length=WEEKS_PER_MONTH, margin=0.3)
    np.testing.assert_allclose(flat["clv"], 0.3 * flat["expected_spend"] * flat["expected_purchases"], rtol=1e-10)
    assert (clv["clv"] <= flat["clv"] + 1e-12).all()
    # the same with explicit data and a spend model fitted on repeat buyers only
    gg_repeat = GammaGammaModel().fit(cdnow[cdnow["frequency"] > 0], customer_col="ID")
    again = customer_lifetime_value(bg, gg_repeat, horizon=12, period_length=WEEKS_PER_MONTH, discount_rate=0.01, margin=0.3)
    np.testing.assert_allclose(again["clv"], clv["clv"], rtol=1e-6)
    explicit = customer_lifetime_value(bg, gg, cdnow.set_index("ID"), horizon=12, period_length=WEEKS_PER_MONTH,
                                       discount_rate=0.01, margin=0.3)
    np.testing.assert_allclose(explicit["clv"].to_numpy(), clv["clv"].to_numpy(), rtol=1e-12)


def test_clv_argument_errors(cdnow):
    bg = BetaGeoModel().fit(cdnow, customer_col="ID")
    with pytest.raises(CxValueError, match=r"^horizon must be a finite number > 0, got 0$"):
        customer_lifetime_value(bg, spend=10.0, horizon=0)
    with pytest.raises(CxValueError, match=r"^give a fitted spend_model \(GammaGammaModel\) or a constant spend=\.\.\.$"):
        customer_lifetime_value(bg)
    with pytest.raises(CxValueError, match=r"^discount_rate must be a finite number >= 0, got -0.1$"):
        customer_lifetime_value(bg, spend=10.0, discount_rate=-0.1)
    with pytest.raises(NotFittedError):
        customer_lifetime_value(BetaGeoModel(), spend=10.0)
    out = customer_lifetime_value(bg, spend=10.0, horizon=3, period_length=13, discount_rate=0.02, margin=0.5)
    assert (out["expected_spend"] == 10.0).all() and np.all(np.isfinite(out["clv"]))


@pytest.mark.parametrize("cls", ALL)
def test_loglik_per_customer_sums_to_the_fitted_loglik(cls, small):
    data = _data_for(cls, small)
    m = cls().fit(data)
    ll = m.loglik_per_customer()
    assert ll.index.equals(data.index)
    assert ll["loglik"].sum() == pytest.approx(m.loglik_, rel=1e-10)      # NaN (x = 0) skipped
    assert m.score() == pytest.approx(ll["loglik"].mean(), rel=1e-12)


def test_checking_argument_errors(small):
    from cxvalue.value import calibration_vs_holdout, compare_models, cumulative_tracking
    m = BetaGeoModel().fit(small)
    with pytest.raises(DataContractError, match=r"^column 'holdout' not found in data: expected the number of "
                                                r"holdout transactions per customer"):
        calibration_vs_holdout(m, small, holdout_col="holdout", holdout_length=39)
    with pytest.raises(CxValueError, match=r"^holdout_length must be a finite number > 0, got 0$"):
        calibration_vs_holdout(m, small.assign(holdout=0), holdout_col="holdout", holdout_length=0)
    log = pd.DataFrame({"id": [1, 1, 2], "week": [0.0, 3.0, 1.0]})
    with pytest.raises(CxValueError, match=r"^periods must be a non-empty increasing sequence of period end times$"):
        cumulative_tracking(m, log, customer_col="id", time_col="week", periods=[3, 2, 1])
    dated = pd.DataFrame({"id": [1, 1], "day": pd.to_datetime(["2024-01-01", "2024-01-15"])})
    with pytest.raises(CxValueError, match=r"^time_unit='M' is not valid: expected one of 'D', 'W'$"):
        cumulative_tracking(m, dated, customer_col="id", time_col="day", periods=[1, 2], time_unit="M")
    tr = cumulative_tracking(m, dated, customer_col="id", time_col="day", periods=[1, 2, 3])
    assert tr["actual_cumulative"].tolist() == [0.0, 1.0, 1.0]          # the repeat purchase is in week 2
    with pytest.raises(CxValueError, match=r"^models must be a non-empty mapping of name -> fitted model$"):
        compare_models({})
    with pytest.raises(CxValueError, match=r"^give data, holdout_col and holdout_length together"):
        compare_models({"bg": m}, small, holdout_col="frequency")
    assert compare_models({"bg": m}).columns.tolist() == ["model", "n_params", "loglik", "aic", "bic"]
