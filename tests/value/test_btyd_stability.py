"""Numerical stability: frequencies in the hundreds give finite likelihoods, gradients and
predictions, and no warnings (the untransformed hypergeometric forms overflow there)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, gammaln, hyp2f1

from cxvalue.value import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
)
from cxvalue.value.simulate import simulate_bgbb, simulate_bgnbd, simulate_paretonbd

HEAVY = pd.DataFrame({
    "frequency": [0, 1, 5, 150, 300, 500, 800, 400, 250],
    "recency": [0.0, 0.5, 3.0, 149.9, 1.0, 50.0, 10.0, 0.0, 52.0],
    "T": [30.0, 30.0, 30.0, 150.0, 100.0, 52.0, 10.0, 52.0, 52.0],
}, index=pd.Index([f"c{i}" for i in range(9)], name="customer_id"))

CDNOW_PARAMS = {
    BetaGeoModel: [0.2426, 4.414, 0.7929, 2.426],
    ModifiedBetaGeoModel: [0.525, 6.183, 0.891, 1.614],
    ParetoNBDModel: [0.5533, 10.58, 0.6062, 11.67],
}


def _stats(frame):
    return {k: frame[k].to_numpy(float) for k in ("frequency", "recency", "T")}


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
@pytest.mark.parametrize("shift", [1.0, 0.3, 3.0])
def test_loglik_and_gradient_finite_for_heavy_buyers(cls, shift):
    model = cls()
    theta = np.array(CDNOW_PARAMS[cls]) * shift
    g = model._prepare(_stats(HEAVY))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ll = model._loglik(theta, g)
        w = np.ones(len(HEAVY))
        f, grad = model._nll_and_grad_u(np.log(theta), g, w, w.sum())
    assert np.all(np.isfinite(ll))
    assert np.isfinite(f) and f < 1e99 and np.all(np.isfinite(grad))


def test_bgnbd_heavy_loglik_matches_the_direct_formula():
    # direct (overflow-prone) evaluation where it still works: relative agreement 1e-12
    r, alpha, a, b = CDNOW_PARAMS[BetaGeoModel]
    g = _stats(HEAVY)
    x, tx, T = g["frequency"], g["recency"], g["T"]
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    t1 = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    t2 = betaln(a + 1, b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + tx)
    with np.errstate(all="ignore"):
        direct = common + np.log(np.exp(t1) + np.where(x > 0, np.exp(t2), 0.0))
    ok = np.isfinite(direct)
    assert ok.sum() >= 3
    ours = BetaGeoModel()._loglik(np.array([r, alpha, a, b]), g)
    np.testing.assert_allclose(ours[ok], direct[ok], rtol=1e-12)


def test_bgnbd_conditional_expectation_matches_the_untransformed_formula_for_moderate_x():
    r, alpha, a, b = CDNOW_PARAMS[BetaGeoModel]
    frame = pd.DataFrame({"frequency": [1, 2, 5, 10, 20], "recency": [5.0, 30.43, 20.0, 35.0, 38.0],
                          "T": [38.86] * 5})
    m = BetaGeoModel()
    m.params_ = pd.Series([r, alpha, a, b], index=["r", "alpha", "a", "b"])
    x, tx, T, t = frame["frequency"], frame["recency"], frame["T"], 39.0
    z = t / (alpha + T + t)
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    den = 1 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
    ours = m._cond_expected(m.params_.to_numpy(), _stats(frame), t)
    np.testing.assert_allclose(ours, (num / den).to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_predictions_finite_for_heavy_buyers(cls):
    model = cls()
    model.params_ = pd.Series(CDNOW_PARAMS[cls], index=list(cls._param_names))
    model.columns_ = dict(cls._roles)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = model.predict_p_alive(HEAVY)["p_alive"]
        e = model.predict_purchases(39, HEAVY)["expected_purchases"]
    assert p.index.equals(HEAVY.index) and e.index.equals(HEAVY.index)
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert np.all(np.isfinite(e)) and np.all(e >= 0)
    # a customer who bought 300 times in week 1 and never again in 99 weeks is gone
    assert p["c4"] < 1e-100
    # one still buying at 80 a week is alive and expected to keep buying
    assert p["c6"] > 0.99 and e["c6"] > 100
    if cls is not ParetoNBDModel:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pmf = model.predict_purchase_probabilities(39, 10, HEAVY)
        assert np.all(np.isfinite(pmf.to_numpy())) and np.all(pmf.to_numpy() >= 0)
        assert np.all(pmf.sum(axis=1) <= 1 + 1e-12)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_fit_with_heavy_buyers_has_no_warnings(cls):
    sim = simulate_bgnbd(3000, 0.5, 2.0, 0.5, 4.0, T=52.0, seed=7) if cls is not ParetoNBDModel \
        else simulate_paretonbd(3000, 0.5, 2.0, 0.5, 10.0, T=52.0, seed=7)
    heavy = pd.DataFrame({"frequency": [300, 450, 600], "recency": [50.0, 51.5, 30.0], "T": [52.0] * 3},
                         index=[10_001, 10_002, 10_003])
    data = pd.concat([sim, heavy])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = cls().fit(data)
        e = m.predict_purchases(52)
    assert m.converged_ and np.isfinite(m.loglik_)
    assert np.all(np.isfinite(m.summary_.to_numpy()))
    assert np.all(np.isfinite(e["expected_purchases"]))


def test_gammagamma_and_bgbb_and_sbg_extremes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg = GammaGammaModel().fit(pd.DataFrame({"frequency": [1, 2, 3, 500, 900, 4, 1, 2],
                                                 "monetary_value": [10.0, 20.0, 15.0, 30.0, 25.0, 12.0, 40.0, 8.0]}))
        assert np.all(np.isfinite(gg.predict_spend()["expected_spend"]))
        # 200 discrete occasions
        d = simulate_bgbb(2000, 1.2, 0.75, 0.66, 20.0, T=200, seed=3)
        assert d["frequency"].max() > 100
        bgbb = BetaGeoBetaBinomModel().fit(d)
        assert np.isfinite(bgbb.loglik_)
        assert np.all(np.isfinite(bgbb.predict_purchases(50)["expected_purchases"]))
        assert np.all(np.isfinite(bgbb.predict_p_alive()["p_alive"]))
        sbg = ShiftedBetaGeoModel().fit(pd.DataFrame({"recency": [1, 2, 500, 1000, 1000], "T": 1000}))
        assert np.all(np.isfinite(sbg.predict_survival(100)["p_active"]))
