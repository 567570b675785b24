"""Survival: Kaplan–Meier reproduces the published Telco values; log-rank, Cox with leakage guard."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.churn import CoxModel, LeakageWarning, SurvivalAnalysis, survival_frame
from cxvalue.errors import CxValueError, NotFittedError, SmallSampleWarning


def test_telco_kaplan_meier_reproduces_reference(telco):
    # ../shared/data/README.md: Kaplan–Meier on tenure S(12) = 0.843, S(24) = 0.789, S(72) = 0.593
    sa = SurvivalAnalysis(times=(12, 24, 72)).fit(telco, duration_col="tenure", event_col="Churn")
    row = sa.groups_.iloc[0]
    assert (row.customers, row.events) == (7043, 1869)
    assert [round(row[f"S({t})"], 3) for t in (12, 24, 72)] == [0.843, 0.789, 0.593]
    assert row["S(12)_lower"] < row["S(12)"] < row["S(12)_upper"]
    assert np.isinf(row["median"])  # the curve never falls below one half within 72 months
    s = sa.summary_.set_index(["group", "parameter"])
    assert list(sa.summary_.columns) == ["group", "parameter", "estimate", "std_error", "ci_low", "ci_high"]
    assert s.loc[("all", "S(12)"), "estimate"] == row["S(12)"]
    assert s.loc[("all", "S(12)"), "ci_low"] == row["S(12)_lower"] and 0 < s.loc[("all", "S(12)"), "std_error"] < 0.01
    np.testing.assert_allclose(sa.survival_at([12, 24, 72]).loc["all"].to_numpy(), [0.8432, 0.7887, 0.5928], atol=5e-5)


def test_by_contract_medians_and_logrank(telco):
    sa = SurvivalAnalysis(by="Contract").fit(telco, duration_col="tenure", event_col="Churn")
    s = sa.groups_.set_index("group")
    assert list(s.index) == ["Month-to-month", "Two year", "One year"]  # largest group first
    assert s.loc["Month-to-month", "median"] == 35.0
    assert s.loc["Month-to-month", "S(12)"] < s.loc["One year", "S(12)"] < s.loc["Two year", "S(12)"]
    assert sa.logrank_["degrees_of_freedom"] == 2 and sa.logrank_["p"] < 1e-100
    assert len(sa.pairwise_) == 3 and (sa.pairwise_.p < 1e-10).all()
    c = sa.curves_[sa.curves_.group == "Two year"]
    assert (np.diff(c.survival) <= 0).all() and (c.ci_lower <= c.survival).all()


def test_cox_leaves_out_total_charges_and_checks_ph(telco):
    with pytest.warns(LeakageWarning, match="TotalCharges: restates the duration 'tenure'"):
        cox = CoxModel(covariates=["Contract", "MonthlyCharges", "TotalCharges", "SeniorCitizen"]).fit(
            telco, duration_col="tenure", event_col="Churn")
    assert cox.excluded_ == ["TotalCharges"]
    s = cox.summary_.set_index("covariate")
    hr = s.hazard_ratio
    assert "TotalCharges" not in hr.index
    assert hr["Contract=Two year"] < hr["Contract=One year"] < 1  # month-to-month is the reference
    np.testing.assert_allclose(np.exp(s.estimate), hr)
    assert (s.ci_low < s.estimate).all() and (s.estimate < s.ci_high).all()
    assert (s.hazard_ratio_ci_low < hr).all() and (hr < s.hazard_ratio_ci_high).all()
    assert set(cox.ph_test_.columns) == {"covariate", "test_statistic", "p", "ph_violated"}
    assert 0.7 < cox.concordance_ < 0.9


def test_bad_input_names_the_column():
    df = pd.DataFrame({"t": [1, 2, 3], "e": ["Yes", "No", "maybe"], "g": list("aab")})
    with pytest.raises(CxValueError, match=r"column 'e': expected Yes/No, 1/0 or true/false, got 'maybe' \(row 4\)"):
        SurvivalAnalysis().fit(df, duration_col="t", event_col="e")
    with pytest.raises(CxValueError, match="--duration 'tenure' is not a column of the file"):
        SurvivalAnalysis().fit(df, duration_col="tenure", event_col="e")
    with pytest.raises(NotFittedError):
        SurvivalAnalysis().survival_at([1])
    with pytest.warns(SmallSampleWarning) as rec:
        ok = SurvivalAnalysis(by="g", times=(1,)).fit(df.assign(e=[1, 0, 1]), duration_col="t", event_col="e")
    assert any("group 'a' has only 2 customers" in str(w.message) for w in rec)
    assert ok.groups_.customers.sum() == 3


def test_survival_frame_from_store(demo):
    con, truth = demo
    sf = survival_frame(con)
    assert sf.index.is_unique and (sf.duration_days >= 0).all() and set(sf.event.unique()) <= {0, 1}
    assert sf.attrs["definition"] == "inactivity" and sf.attrs["as_of"] == "2025-12-31"
    ev = con.table("churn_events").to_pandas().customer_id.unique()
    assert sf.loc[ev, "event"].eq(1).all()  # a recorded churn event always ends the relationship
    # customers who dropped out more than a year before the end are events; the never-exited mostly censored
    gone = truth.index[(truth.exit_date < "2024-10-01").to_numpy()]
    assert sf.loc[sf.index.intersection(gone), "event"].mean() > 0.95
    assert sf.loc[truth.index[truth.exit_date.isna().to_numpy()], "event"].mean() < 0.2


def test_identifier_columns_are_left_out_with_a_warning():
    """Issue 13: a surname (distinct text for most rows) and a row number became features."""
    import numpy as np
    import pandas as pd

    from cxvalue.churn.pipeline import analyse_churn_file, identifier_columns
    from cxvalue.errors import CxValueWarning
    rng = np.random.default_rng(0)
    n = 400
    age = rng.integers(18, 80, n)
    df = pd.DataFrame({"RowNumber": np.arange(1, n + 1), "CustomerId": [f"C{i}" for i in range(n)],
                       "Surname": [f"name{rng.integers(0, 10**6)}" for _ in range(n)], "Age": age,
                       "Geography": rng.choice(["FR", "DE", "ES"], n),
                       "Exited": (rng.random(n) < 1 / (1 + np.exp(-(age - 50) / 8))).astype(int)})
    assert identifier_columns(df.drop(columns=["Exited", "CustomerId"])) == ["RowNumber", "Surname"]
    with pytest.warns(CxValueWarning, match="left out 2 column.*RowNumber, Surname.*--keep"):
        res = analyse_churn_file(df, target="exited", folds=3)
    assert set(res["churn_drivers"].feature) == {"Age", "Geography"}
    metrics = res["churn_metrics"].set_index("metric").value
    assert metrics["dropped"] == "RowNumber, Surname"
    with pytest.warns(CxValueWarning, match="left out 1 column.*RowNumber"):
        res = analyse_churn_file(df, target="Exited", folds=3, keep=["Surname"])
    assert "Surname" in set(res["churn_drivers"].feature)
    assert res["churn_metrics"].set_index("metric").value["dropped"] == "RowNumber"
