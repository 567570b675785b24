"""Churn prediction on the IBM Telco sample: honest cross-validated AUC, calibration, lift, SHAP reasons."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.churn import ChurnModel, calibration_table, classification_metrics, lift_table, reason_family
from cxvalue.churn.data import parse_event
from cxvalue.churn.evaluation import expected_calibration_error
from cxvalue.errors import CxValueError, NotFittedError


@pytest.fixture(scope="module")
def fitted(telco):
    X = telco.set_index("customerID").drop(columns=["Churn"])
    y = parse_event(telco.Churn, "Churn")
    return ChurnModel(cv=5, exclude=("TotalCharges",)).fit(X, y), X, y


def test_telco_honest_cv_auc(fitted):
    # ../shared/data/README.md: honest 5-fold ROC-AUC of good models 0.83–0.85 (logistic regression ≈ 0.845).
    # Out-of-fold scores: each fold is scored by a model that never saw it; TotalCharges (≈ tenure ×
    # MonthlyCharges) is excluded.
    model, X, y = fitted
    assert "TotalCharges" not in model.feature_names_in_ and len(model.feature_names_in_) == 18
    assert len(model.cv_results_) == 5
    assert model.cv_results_.roc_auc.mean() >= 0.84
    assert classification_metrics(model.oof_.churned, model.oof_.p_churn)["roc_auc"] >= 0.84
    assert model.oof_.index.equals(X.index)


def test_calibration_and_lift(fitted):
    model, X, y = fitted
    oof = model.oof_
    assert abs(oof.p_churn.mean() - y.mean()) < 0.01
    assert expected_calibration_error(oof.churned, oof.p_churn) < 0.03
    cal = calibration_table(oof.churned, oof.p_churn)
    assert len(cal) == 10 and cal.customers.sum() == len(y) and cal.mean_p_churn.is_monotonic_increasing
    lift = lift_table(oof.churned, oof.p_churn)
    assert list(lift.decile) == list(range(1, 11)) and lift.customers.sum() == len(y)
    assert lift.lift.iloc[0] > 2.5 and lift.capture.iloc[-1] == pytest.approx(1.0)
    assert lift.capture.is_monotonic_increasing and lift.churners.sum() == y.sum()
    p = model.predict_proba(X)
    assert list(p.columns) == ["p_churn"] and p.p_churn.between(0, 1).all()


def test_shap_reasons_are_exact_and_positive(fitted):
    model, X, y = fitted
    sub = X.head(200)
    contrib = model.predict_contributions(sub)
    raw = model.booster_.predict(model._prepare(sub, fitting=False), raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), raw, atol=1e-6)  # SHAP additivity
    ex = model.explain(sub, top=3)
    assert (ex.reason_1_shap.dropna() > 0).all() and (ex.reason_1_shap.fillna(0) >= ex.reason_2_shap.fillna(0)).all()
    first = sub.index[0]
    f1 = ex.loc[first, "reason_1"]
    assert ex.loc[first, "reason_1_shap"] == pytest.approx(contrib.loc[first].drop("bias").max())
    assert ex.loc[first, "main_reason"] == reason_family(f1)
    assert ex.loc[first, "top_reasons"].startswith(f"{f1}=")
    imp = model.importance_
    assert imp.feature.iloc[0] in ("Contract", "tenure")  # the known leading Telco drivers


def test_estimator_contract():
    X = pd.DataFrame({"a": np.arange(40.0), "b": list("xy") * 20}, index=[f"c{i}" for i in range(40)])
    y = np.r_[np.zeros(20), np.ones(20)].astype(int)
    m = ChurnModel(cv=None, num_boost_round=5, min_child_samples=2)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        m.predict_proba(X)
    assert m.fit(X, y) is m and hasattr(m, "booster_") and m.calibrator_ is None
    assert m.predict_proba(X).index.equals(X.index)
    with pytest.raises(CxValueError, match="every customer has the same outcome"):
        ChurnModel(cv=None).fit(X, np.zeros(40, int))
    with pytest.raises(CxValueError, match="feature 'd' is a date"):
        ChurnModel(cv=None).fit(X.assign(d=pd.Timestamp("2024-01-01")), y)
    with pytest.raises(CxValueError, match="calibration='platt' is not valid"):
        ChurnModel(calibration="platt").fit(X, y)
    with pytest.raises(CxValueError, match="feature 'b' is missing"):
        m.predict_proba(X.drop(columns="b"))
    assert ChurnModel(cv=None, num_boost_round=5, min_child_samples=2).fit(X, np.where(y, "Yes", "No")).n_rounds_ == 5


def test_reason_families():
    assert [reason_family(f) for f in ("complaints_recent_unresolved", "nps_last", "purchases_recent", "spend_before",
                                       "MonthlyCharges", "Contract", "tenure", "owner_recent_churn_share",
                                       "channel_share_app", "OnlineSecurity", "gender")] == [
        "complaint", "experience", "engagement", "engagement", "price", "contract", "tenure", "salesperson",
        "channel", "product", "other"]
