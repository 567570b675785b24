"""Key driver analysis: relative weights, Shapley values, bootstrap, quadrants (D3)."""
from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxvalue.errors import CxValueError, NotFittedError
from cxvalue.perception.drivers import (
    QUADRANT_LABELS, KeyDriverAnalysis, importance_performance, pairwise_corr, relative_weights,
    shapley_values,
)

RATINGS = ["Seat comfort", "Departure/Arrival time convenient", "Food and drink", "Gate location",
           "Inflight wifi service", "Inflight entertainment", "Online support", "Ease of Online booking",
           "On-board service", "Leg room service", "Baggage handling", "Checkin service", "Cleanliness",
           "Online boarding"]


@pytest.fixture(scope="module")
def invistico(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "invistico_airline" / "Invistico_Airline.csv")


@pytest.fixture(scope="module")
def kda(invistico) -> KeyDriverAnalysis:
    # 0 = "not applicable" in the Invistico ratings → missing (../shared/data/README.md)
    return KeyDriverAnalysis(na_values=0).fit(invistico, outcome="satisfaction", drivers=RATINGS,
                                              positive="satisfied")


def _complete_cases(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    X = df[RATINGS].to_numpy(float)
    y = (df["satisfaction"] == "satisfied").to_numpy(float)
    ok = ~(X == 0).any(axis=1)
    return X[ok], y[ok]


def _ols_r2(X: np.ndarray, y: np.ndarray) -> float:
    A = np.column_stack([np.ones(len(X)), X])
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    resid = y - A @ beta
    return 1 - resid @ resid / np.sum((y - y.mean()) ** 2)


# --------------------------------------------------------------------------- Invistico
def test_invistico_weights_sum_to_model_r2(kda, invistico):
    X, y = _complete_cases(invistico)
    r2 = _ols_r2(X, y)                              # OLS on the listwise-complete rows
    assert kda.n_ == len(y) == 129_880 - 10_269     # 10,269 rows have a 0 ("not applicable")
    assert kda.r2_ == pytest.approx(r2, abs=1e-10)
    for method in ("relative_weights", "shapley"):
        t = kda.table(method)
        assert abs(t["importance"].sum() - r2) < 1e-8, method
        assert t["share"].sum() == pytest.approx(1.0, abs=1e-10)
        assert list(t["rank"]) == list(range(1, 15))


def test_invistico_methods_rank_drivers_consistently(kda):
    rw = kda.table("relative_weights").set_index("driver")["importance"]
    sh = kda.table("shapley").set_index("driver")["importance"].reindex(rw.index)
    rho = stats.spearmanr(rw, sh).statistic
    assert rho >= 0.9, rho
    # both put in-flight entertainment first, by far
    assert rw.index[0] == "Inflight entertainment"
    assert sh.idxmax() == "Inflight entertainment"


def test_invistico_relative_weights_textbook(kda, invistico):
    # Johnson (2000) written out on the data: X_s = P Δ Q' (SVD), Z = P Q' is the best-fitting
    # orthogonal approximation of X_s; Λ = Q Δ Q' regresses X_s on Z; β = regression of y on Z;
    # ε_j = Σ_k Λ_jk² β_k².  Data standardised with divisor n−1, as correlations.
    X, y = _complete_cases(invistico)
    n = len(y)
    Xs = (X - X.mean(0)) / X.std(0, ddof=1) / np.sqrt(n - 1)
    ys = (y - y.mean()) / y.std(ddof=1) / np.sqrt(n - 1)
    P, delta, Qt = np.linalg.svd(Xs, full_matrices=False)
    Z = P @ Qt
    Lam = Qt.T @ np.diag(delta) @ Qt
    beta = Z.T @ ys                                  # Z'Z = I
    eps = (Lam ** 2) @ (beta ** 2)
    ours = kda.table("relative_weights").set_index("driver")["importance"].reindex(RATINGS).to_numpy()
    np.testing.assert_allclose(ours, eps, rtol=0, atol=1e-10)
    assert eps.sum() == pytest.approx(_ols_r2(X, y), abs=1e-10)


def test_invistico_performance_and_quadrants(kda, invistico):
    t = kda.table("relative_weights").set_index("driver")
    x = invistico["Seat comfort"]
    assert t.at["Seat comfort", "performance"] == pytest.approx(x[x > 0].mean())
    assert t.at["Seat comfort", "n"] == (x > 0).sum()
    q = kda.quadrants("relative_weights")
    assert set(q["quadrant"]) <= set(QUADRANT_LABELS)
    cut_i, cut_p = q.attrs["importance_cut"], q.attrs["performance_cut"]
    assert cut_i == pytest.approx(1 / 14)
    for row in q.itertuples():
        hi_i, hi_p = row.share >= cut_i, row.performance >= cut_p
        expect = {(True, True): "keep_up", (True, False): "concentrate_here",
                  (False, False): "low_priority", (False, True): "possible_overkill"}[(hi_i, hi_p)]
        assert row.quadrant == expect
    zh = kda.quadrants("relative_weights", lang="zh")
    assert set(zh["quadrant_label"]) <= {v["zh"] for v in QUADRANT_LABELS.values()}


def test_invistico_pairwise_uses_more_rows(invistico):
    k = KeyDriverAnalysis(na_values=[0], missing="pairwise", methods="relative_weights").fit(
        invistico, outcome="satisfaction", drivers=RATINGS, positive="satisfied")
    assert k.n_ == len(invistico)
    df = invistico[RATINGS].replace(0, np.nan)
    df.insert(0, "y", (invistico["satisfaction"] == "satisfied").astype(float))
    np.testing.assert_allclose(k.corr_.to_numpy(), df.corr().to_numpy(), atol=1e-12)  # pandas: pairwise
    assert k.importance_["importance"].sum() == pytest.approx(k.r2_, abs=1e-12)


# --------------------------------------------------------------------------- exactness on synthetic data
def _synthetic(n=600, p=5, seed=3, missing=0.0):
    rng = np.random.default_rng(seed)
    C = 0.4 * np.ones((p, p)) + 0.6 * np.eye(p)
    X = rng.multivariate_normal(np.zeros(p), C, n)
    y = X @ np.linspace(1.0, 0.2, p) + rng.normal(0, 1.5, n)
    df = pd.DataFrame(X, columns=[f"rating_{i}" for i in range(p)]).assign(nps=y)
    if missing:
        mask = rng.random((n, p)) < missing
        df.iloc[:, :p] = df.iloc[:, :p].mask(mask)
    return df


def test_shapley_exact_equals_all_orderings():
    df = _synthetic(p=4)
    X, y = df.filter(like="rating_").to_numpy(), df["nps"].to_numpy()

    def r2(cols):
        return _ols_r2(X[:, list(cols)], y) if cols else 0.0

    phi = np.zeros(4)
    perms = list(permutations(range(4)))
    for order in perms:                              # definition: average marginal gain over orders
        for k, j in enumerate(order):
            phi[j] += r2(order[: k + 1]) - r2(order[:k])
    phi /= len(perms)
    k = KeyDriverAnalysis(methods=["shapley"]).fit(df, outcome="nps")   # default drivers: rating_*
    np.testing.assert_allclose(k.table("shapley").set_index("driver")["importance"]
                               .reindex(df.columns[:4]).to_numpy(), phi, atol=1e-12)


def test_shapley_sampled_above_max_exact():
    df = _synthetic(p=7, n=800)
    R = df.corr().to_numpy()
    exact = shapley_values(R[:7, :7], R[:7, 7])
    sampled = shapley_values(R[:7, :7], R[:7, 7], max_exact=5, n_permutations=4000, random_state=1)
    r2 = R[:7, 7] @ np.linalg.solve(R[:7, :7], R[:7, 7])
    assert exact.sum() == pytest.approx(r2, abs=1e-12)
    assert sampled.sum() == pytest.approx(r2, abs=1e-12)      # every order adds up to R²
    np.testing.assert_allclose(sampled, exact, atol=0.004)
    again = shapley_values(R[:7, :7], R[:7, 7], max_exact=5, n_permutations=4000, random_state=1)
    np.testing.assert_array_equal(sampled, again)


def test_uncorrelated_drivers_get_their_squared_correlation():
    # ground truth: with orthogonal drivers both methods give r_jy²
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X, _ = np.linalg.qr(X - X.mean(0))             # centred, exactly uncorrelated columns
    y = X @ np.array([3.0, 2.0, 1.0, 0.5]) + rng.normal(0, 0.1, 300)
    R = np.corrcoef(np.column_stack([X, y]), rowvar=False)
    np.testing.assert_allclose(relative_weights(R[:4, :4], R[:4, 4]), R[:4, 4] ** 2, atol=1e-12)
    np.testing.assert_allclose(shapley_values(R[:4, :4], R[:4, 4]), R[:4, 4] ** 2, atol=1e-12)


def test_pairwise_corr_matches_pandas_with_missing():
    df = _synthetic(missing=0.2)
    np.testing.assert_allclose(pairwise_corr(df.to_numpy()), df.corr().to_numpy(), atol=1e-12)
    # frequency weights = repeated rows
    w = np.random.default_rng(0).integers(0, 3, len(df))
    rep = df.loc[df.index.repeat(w)]
    np.testing.assert_allclose(pairwise_corr(df.to_numpy(), w), rep.corr().to_numpy(), atol=1e-12)


# --------------------------------------------------------------------------- bootstrap
def test_bootstrap_is_seeded_and_brackets_the_estimate(invistico):
    small = invistico.sample(2000, random_state=5)
    kw = dict(na_values=0, n_boot=25, random_state=11)
    a = KeyDriverAnalysis(**kw).fit(small, outcome="satisfaction", drivers=RATINGS, positive="satisfied")
    b = KeyDriverAnalysis(**kw).fit(small, outcome="satisfaction", drivers=RATINGS, positive="satisfied")
    pd.testing.assert_frame_equal(a.importance_, b.importance_)
    t = a.importance_
    assert t[["ci_low", "ci_high", "share_ci_low", "share_ci_high"]].notna().all().all()
    assert (t["ci_low"] <= t["ci_high"]).all()
    top = t[t["rank"] == 1]
    assert ((top["ci_low"] <= top["importance"]) & (top["importance"] <= top["ci_high"])).all()
    s = a.summary_.set_index("parameter")
    assert s.at["n_boot", "estimate"] == 25
    assert s.at["r_squared", "ci_low"] < a.r2_ < s.at["r_squared", "ci_high"]


# --------------------------------------------------------------------------- quadrants, contract, errors
def test_importance_performance_quadrants():
    t = pd.DataFrame({"driver": ["a", "b", "c", "d"], "share": [0.4, 0.4, 0.1, 0.1],
                      "performance": [4.0, 2.0, 2.0, 4.0]})
    q = importance_performance(t)
    assert list(q["quadrant"]) == ["keep_up", "concentrate_here", "low_priority", "possible_overkill"]
    assert list(q["quadrant_label"]) == ["Keep up the good work", "Concentrate here", "Low priority",
                                         "Possible overkill"]
    assert list(importance_performance(t, lang="zh")["quadrant_label"]) == ["继续保持", "重点改进", "低优先级",
                                                                            "可能过度投入"]
    fixed = importance_performance(t, importance_cut=0.05, performance_cut="median")
    assert set(fixed["quadrant"]) == {"keep_up", "concentrate_here"}
    with pytest.raises(CxValueError, match=r"lang='fr' is not valid"):
        importance_performance(t, lang="fr")
    with pytest.raises(CxValueError, match=r"lacks column\(s\) \['performance'\]"):
        importance_performance(t.drop(columns="performance"))


def test_contract_and_errors(invistico):
    k = KeyDriverAnalysis()
    assert k.n_boot == 0 and k.missing == "listwise"
    with pytest.raises(NotFittedError, match="not fitted yet"):
        k.table()
    df = invistico.sample(500, random_state=0)
    assert k.fit(df, outcome="satisfaction", drivers=RATINGS[:3], positive="satisfied") is k
    with pytest.raises(CxValueError, match=r"outcome column 'satisfaction' is not numeric .* pass positive="):
        KeyDriverAnalysis().fit(df, outcome="satisfaction", drivers=RATINGS)
    with pytest.raises(CxValueError, match=r"outcome='csat' is not a column"):
        KeyDriverAnalysis().fit(df, outcome="csat", drivers=RATINGS)
    with pytest.raises(CxValueError, match=r"drivers \['Wifi'\] are not columns"):
        KeyDriverAnalysis().fit(df, outcome="satisfaction", drivers=["Wifi", "Seat comfort"], positive="satisfied")
    with pytest.raises(CxValueError, match=r"methods='ols' is not valid"):
        KeyDriverAnalysis(methods="ols").fit(df, outcome="satisfaction", drivers=RATINGS, positive="satisfied")
    with pytest.raises(CxValueError, match=r"missing='none' is not valid"):
        KeyDriverAnalysis(missing="none").fit(df, outcome="satisfaction", drivers=RATINGS, positive="satisfied")
    with pytest.raises(CxValueError, match=r"no drivers given and no 'rating_\*' columns"):
        KeyDriverAnalysis().fit(df, outcome="Age")
    dup = df.assign(copy=df["Seat comfort"] * 2)
    with pytest.raises(CxValueError, match=r"singular or not positive definite"):
        KeyDriverAnalysis().fit(dup, outcome="Age", drivers=["Seat comfort", "copy", "Cleanliness"])
    const = df.assign(one=1.0)
    with pytest.raises(CxValueError, match=r"\['one'\] have no variation in the 500 rows used"):
        KeyDriverAnalysis().fit(const, outcome="Age", drivers=["Seat comfort", "one"])
    with pytest.raises(CxValueError, match=r"\['Age'\] have no variation"):
        KeyDriverAnalysis().fit(df.assign(Age=30), outcome="Age", drivers=RATINGS[:3])


def test_random_variable_test_marks_a_driver_that_does_not_beat_noise():
    """Tonidandel et al. (2009): a driver unrelated to the outcome does not beat a noise variable;
    real drivers do. Not-applicable codes are counted and reported."""
    from cxvalue.perception.drivers import KeyDriverAnalysis
    rng = np.random.default_rng(5)
    n = 300
    x1, x2, x3 = rng.normal(size=(3, n))
    y = x1 + 0.5 * x2 + rng.normal(size=n)
    df = pd.DataFrame({"y": y, "rating_a": x1, "rating_b": x2, "rating_noise": x3})
    df.loc[:9, "rating_b"] = 0.0                      # ten answers coded 0 = not applicable
    k = KeyDriverAnalysis(n_boot=200, random_state=1, na_values=0).fit(df, outcome="y")
    t = k.table("relative_weights").set_index("driver")
    assert t.loc["rating_a", "significant"] and t.loc["rating_b", "significant"]
    assert not t.loc["rating_noise", "significant"] and t.loc["rating_noise", "p_vs_random"] > 0.05
    s = k.summary_.set_index("parameter")["estimate"]
    assert s["n_not_applicable"] == 10 and s["n_rows"] == n and s["n_used"] == n - 10
    no_boot = KeyDriverAnalysis(random_state=1).fit(df, outcome="y").table("relative_weights")
    assert no_boot["significant"].isna().all()
