"""One contract for every estimator (docs/architecture.md, API conventions): parameters from
``__init__`` (get_params / set_params / sklearn clone), NotFittedError before fit, ``fit``
returns self and learns attributes ending in ``_``, one ``summary_`` layout (estimate,
std_error, ci_low, ci_high [, p]) and one ``confidence`` argument that sets the intervals."""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from cxvalue.churn.prediction import ChurnModel
from cxvalue.churn.uplift import UpliftModel
from cxvalue.churn.survival import CoxModel, SurvivalAnalysis
from cxvalue.errors import CxValueError, NotFittedError
from cxvalue.estimator import SUMMARY_COLUMNS, Estimator
from cxvalue.perception.drivers import KeyDriverAnalysis
from cxvalue.perception.experience_value import ExperienceValue
from cxvalue.perception.plspm import PLSPM
from cxvalue.value import (BetaGeoBetaBinomModel, BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel,
                           ShiftedBetaGeoModel)
from cxvalue.value.simulate import (simulate_bgbb, simulate_bgnbd, simulate_mbgnbd, simulate_paretonbd, simulate_sbg,
                                    simulate_spend)


# --------------------------------------------------------------------------- small generated data
def _spend_data():
    d = simulate_bgnbd(400, 0.3, 4.0, 0.8, 2.5, T=39.0, seed=11)
    d["monetary_value"] = simulate_spend(d["frequency"], 6.0, 4.0, 15.0, seed=12)
    return d


def _drivers_data():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(300, 1))
    X = 0.5 * z + rng.normal(size=(300, 3))                  # correlated drivers
    y = X @ np.array([0.8, 0.4, 0.1]) + rng.normal(scale=0.7, size=300)
    return pd.DataFrame({"nps": y, "rating_a": X[:, 0], "rating_b": X[:, 1], "rating_c": X[:, 2]})


PLS_BLOCKS = {"QUAL": ["q1", "q2", "q3"], "SAT": ["s1", "s2", "s3"], "LOY": ["l1", "l2", "l3"]}
PLS_PATHS = {"SAT": ["QUAL"], "LOY": ["QUAL", "SAT"]}


def _pls_data():
    rng = np.random.default_rng(2)
    n = 200
    qual = rng.normal(size=n)
    sat = 0.6 * qual + 0.8 * rng.normal(size=n)
    loy = 0.3 * qual + 0.5 * sat + 0.8 * rng.normal(size=n)
    cols = {f"{p}{i}": lv + 0.5 * rng.normal(size=n) for p, lv in (("q", qual), ("s", sat), ("l", loy))
            for i in (1, 2, 3)}
    return pd.DataFrame(cols)


def _followup_data():
    rng = np.random.default_rng(3)
    n = 300
    score = rng.choice([3, 7, 9], n)
    purchases = rng.poisson(np.where(score == 9, 4, 2)) + 1
    gross = purchases * rng.gamma(20.0, np.where(score == 9, 7.5, 5.0))
    return pd.DataFrame({"score": score, "purchases": purchases, "gross": gross, "spend": gross,
                         "subscriber": 1, "renewed": (rng.random(n) < np.where(score == 9, 0.8, 0.4)).astype(int)},
                        index=[f"k{i}" for i in range(n)])


def _survival_data():
    rng = np.random.default_rng(4)
    n = 300
    x = rng.normal(size=n)
    plan = rng.choice(["basic", "plus", "pro"], n)
    t = rng.exponential(30.0 * np.exp(-0.5 * x - 0.4 * (plan == "pro")))
    c = rng.uniform(0, 150, n)
    return pd.DataFrame({"duration": np.minimum(t, c).round(1) + 0.1, "event": (t <= c).astype(int), "x": x,
                         "plan": plan})


def _churn_data():
    rng = np.random.default_rng(5)
    n = 400
    X = pd.DataFrame({"recency_days": rng.exponential(60, n), "purchases": rng.poisson(4, n),
                      "complaints": rng.poisson(0.3, n), "channel": rng.choice(["app", "web", "phone"], n)})
    logit = -1.0 + 0.02 * (X.recency_days - 60) - 0.3 * (X.purchases - 4) + 0.8 * X.complaints
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


# --------------------------------------------------------------------------- the estimators
@dataclass
class Case:
    cls: type
    fit: Callable                        # fit(estimator) -> what fit returned
    predict: Callable | None = None      # a predict-like call that needs a fitted estimator
    fast: dict = field(default_factory=dict)   # set_params before fitting (KDA: intervals need a bootstrap)

    def __str__(self):
        return self.cls.__name__


def _case_list():
    spend = _spend_data()
    kda, pls, fol, surv = _drivers_data(), _pls_data(), _followup_data(), _survival_data()
    Xc, yc = _churn_data()
    return [
        Case(BetaGeoModel, lambda m: m.fit(spend), lambda m: m.predict_purchases(1)),
        Case(ModifiedBetaGeoModel, lambda m: m.fit(simulate_mbgnbd(400, 0.5, 6.0, 0.9, 1.6, T=39.0, seed=2)),
             lambda m: m.predict_purchases(1)),
        Case(ParetoNBDModel, lambda m: m.fit(simulate_paretonbd(400, 0.55, 10.0, 0.6, 12.0, T=39.0, seed=3)),
             lambda m: m.predict_purchases(1)),
        Case(BetaGeoBetaBinomModel, lambda m: m.fit(simulate_bgbb(300, 1.2, 0.75, 0.66, 2.8, T=6, seed=1)),
             lambda m: m.predict_purchases(1)),
        Case(ShiftedBetaGeoModel, lambda m: m.fit(simulate_sbg(300, 0.7, 1.2, T=8, seed=1)),
             lambda m: m.predict_survival(1)),
        Case(GammaGammaModel, lambda m: m.fit(spend), lambda m: m.predict_spend()),
        Case(KeyDriverAnalysis, lambda m: m.fit(kda, outcome="nps"), lambda m: m.table(),
             fast={"n_boot": 40, "random_state": 0}),
        Case(PLSPM, lambda m: m.fit(pls, blocks=PLS_BLOCKS, paths=PLS_PATHS), lambda m: m.index_scores()),
        Case(ExperienceValue, lambda m: m.fit(fol), lambda m: m.sentence()),
        Case(SurvivalAnalysis, lambda m: m.fit(surv[["duration", "event"]]), lambda m: m.survival_at([1.0])),
        Case(CoxModel, lambda m: m.fit(surv)),
        Case(ChurnModel, lambda m: m.fit(Xc, yc), lambda m: m.predict_proba(Xc)),
        Case(UpliftModel, lambda m: m.fit(Xc, np.arange(len(Xc)) % 2, yc), lambda m: m.predict(Xc),
             fast={"permutations": 10}),
    ]


CASES = _case_list()


def _fitted(case: Case, **params):
    est = case.cls().set_params(**{**case.fast, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # small-sample caveats are not the point here
        returned = case.fit(est)
    return est, returned


# --------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("case", CASES, ids=str)
def test_parameters_come_from_init(case):
    est = case.cls()
    assert isinstance(est, Estimator)
    sig = inspect.signature(case.cls.__init__).parameters
    names = [n for n in sig if n != "self"]
    assert all(sig[n].kind is inspect.Parameter.KEYWORD_ONLY for n in names)
    params = est.get_params()
    assert list(params) == names and params == {n: sig[n].default for n in names}
    assert params["confidence"] == 0.95
    assert repr(est) == f"{case.cls.__name__}()"
    twin = clone(est)
    assert twin is not est and type(twin) is case.cls and twin.get_params() == est.get_params()
    assert est.set_params(confidence=0.9) is est and est.confidence == 0.9
    assert repr(est) == f"{case.cls.__name__}(confidence=0.9)"
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(CxValueError, match=rf"{case.cls.__name__}\.set_params: 'bogus' is not a parameter: "
                                           rf"expected one of {names[0]}, "):
        est.set_params(bogus=1)
    assert est.confidence == 0.9                      # nothing set by the failed call


@pytest.mark.parametrize("case", CASES, ids=str)
def test_not_fitted_before_fit(case):
    est = case.cls()
    with pytest.raises(NotFittedError, match=rf"this {case.cls.__name__} is not fitted yet: call fit\(\.\.\.\)"):
        est.summary_  # noqa: B018 - attribute access is the check
    if case.predict is not None:
        with pytest.raises(NotFittedError, match="is not fitted yet"):
            case.predict(est)
    with pytest.raises(CxValueError, match=r"confidence=1.5 is not valid: expected a number between 0 and 1"):
        case.fit(case.cls(confidence=1.5))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fit_returns_self_and_summary_has_the_common_layout(case):
    est, returned = _fitted(case)
    assert returned is est
    params = set(est.get_params())
    learned = [k for k in vars(est) if k not in params and not k.startswith("_")]
    assert learned and all(k.endswith("_") for k in learned), learned
    s = est.summary_
    assert isinstance(s, pd.DataFrame) and len(s) > 0
    cols = list(s.columns)
    i = cols.index("estimate")
    assert cols[i:i + 4] == list(SUMMARY_COLUMNS)
    assert i > 0 or any(n is not None for n in s.index.names)   # the terms are named
    if "p" in cols:
        assert cols.index("p") == i + 4 and s["p"].dropna().between(0, 1).all()
    assert np.isfinite(s["estimate"].to_numpy(float)).all()
    with_ci = s[s["ci_low"].notna()]
    assert len(with_ci) > 0 and s["std_error"].notna().any()
    lo, est_, hi = (with_ci[c].to_numpy(float) for c in ("ci_low", "estimate", "ci_high"))
    assert np.isfinite(lo).all() and np.isfinite(hi).all()
    assert (lo <= est_ + 1e-12).all() and (est_ <= hi + 1e-12).all()
    se = s["std_error"].dropna().to_numpy(float)
    assert np.isfinite(se).all() and (se >= 0).all()
    if case.predict is not None:
        case.predict(est)
    fresh = clone(est)                                # clone copies parameters, not the fit
    assert fresh.get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        fresh.summary_  # noqa: B018


@pytest.mark.parametrize("case", CASES, ids=str)
def test_confidence_sets_the_intervals(case):
    wide, _ = _fitted(case)
    narrow, _ = _fitted(case, confidence=0.5)
    w, n = wide.summary_, narrow.summary_
    np.testing.assert_allclose(n["estimate"].to_numpy(float), w["estimate"].to_numpy(float), equal_nan=True)
    ok = w["ci_low"].notna() & n["ci_low"].notna()
    width_w = (w["ci_high"] - w["ci_low"])[ok].to_numpy(float)
    width_n = (n["ci_high"] - n["ci_low"])[ok].to_numpy(float)
    assert ok.any() and (width_n <= width_w + 1e-12).all() and (width_n < width_w).any()
