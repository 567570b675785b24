"""PLS path modelling against R plspm on the ECSI bank data (D5).

Reference outputs: ../shared/data/ecsi_bank/r_plspm_expected/ (R plspm, mode A, centroid,
scaled=FALSE unless the file name says otherwise; see its SOURCE.txt). Tolerance 1e-4.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import CxValueError, CxValueWarning, NotFittedError
from cxvalue.perception.plspm import ACSI_MODEL, ECSI_MODEL, PLSPM, model_template

TOL = 1e-4
# ../shared/data/README.md, ecsi_bank: the model R fitted
README_PATHS = {("IMAG", "EXPE"): .5790, ("EXPE", "QUAL"): .8483, ("EXPE", "VAL"): .1055, ("QUAL", "VAL"): .6767,
                ("IMAG", "SAT"): .2007, ("EXPE", "SAT"): -.0028, ("QUAL", "SAT"): .1221, ("VAL", "SAT"): .5893,
                ("IMAG", "LOY"): .2751, ("SAT", "LOY"): .4955}
README_R2 = {"EXPE": .3352, "QUAL": .7197, "VAL": .5901, "SAT": .7073, "LOY": .5099}


@pytest.fixture(scope="module")
def ecsi(shared_data):
    d = shared_data / "ecsi_bank"
    data = pd.read_csv(d / "satisfaction.csv", index_col=0)
    return data, d / "r_plspm_expected"


def _fit(data, **kw):
    t = model_template("ecsi")
    modes = kw.pop("modes", "A")
    return PLSPM(scaled=False, **kw).fit(data, blocks=t["blocks"], paths=t["paths"], modes=modes)


@pytest.fixture(scope="module")
def centroid(ecsi):
    return _fit(ecsi[0])


def _maxdiff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))


# --------------------------------------------------------------------------- R plspm, exact outputs
def test_paths_and_r2_match_readme(centroid):
    p = centroid.paths_.set_index(["from", "to"])["estimate"]
    assert set(p.index) == set(README_PATHS)
    for k, v in README_PATHS.items():
        assert p[k] == pytest.approx(v, abs=5e-5)
    r2 = centroid.inner_summary_.set_index("lv")["r_squared"]
    for k, v in README_R2.items():
        assert r2[k] == pytest.approx(v, abs=5e-5)
    assert r2["IMAG"] == 0


def test_outer_model(centroid, ecsi):
    exp = pd.read_csv(ecsi[1] / "satisfaction.outer-model.csv").set_index("name")
    got = centroid.outer_model_.set_index("name").loc[exp.index]
    assert (got["block"] == exp["block"]).all()
    cols = ["weight", "loading", "communality", "redundancy"]
    assert _maxdiff(got[cols], exp[cols]) < TOL


@pytest.mark.parametrize("scheme, fname", [("factorial", "satisfaction.outer-model-factorial.csv"),
                                           ("path", "satisfaction.outer-model-path.csv")])
def test_outer_model_other_schemes(ecsi, scheme, fname):
    exp = pd.read_csv(ecsi[1] / fname).set_index("name")
    got = _fit(ecsi[0], scheme=scheme).outer_model_.set_index("name").loc[exp.index]
    cols = ["weight", "loading", "communality", "redundancy"]
    assert _maxdiff(got[cols], exp[cols]) < TOL


def test_inner_model(centroid, ecsi):
    # R: summary(lm(SAT ~ IMAG + EXPE + QUAL + VAL)) on the LV scores
    exp = pd.read_csv(ecsi[1] / "satisfaction.inner-model.csv", index_col=0)
    got = centroid.inner_model_.query("to == 'SAT'").set_index("term").loc[exp.index]
    assert _maxdiff(got[["estimate", "std_error", "t_value", "p_value"]], exp) < TOL
    intercept = centroid.inner_model_.query("to == 'SAT' and term == 'Intercept'")["estimate"].iloc[0]
    assert abs(intercept) < 1e-12


def test_inner_summary(centroid, ecsi):
    exp = pd.read_csv(ecsi[1] / "satisfaction.inner-summary.csv", index_col=0)
    got = centroid.inner_summary_.set_index("lv").loc[exp.index]
    assert (got["type"] == exp["type"]).all()
    cols = ["r_squared", "block_communality", "mean_redundancy", "ave"]
    assert _maxdiff(got[cols], exp[cols]) < TOL


def test_mode_b_inner_summary(ecsi):
    exp = pd.read_csv(ecsi[1] / "satisfaction.modeb.inner-summary.csv", index_col=0)
    got = _fit(ecsi[0], modes="B").inner_summary_.set_index("lv").loc[exp.index]
    assert (got["type"] == exp["type"]).all()
    assert _maxdiff(got[["r_squared", "block_communality", "mean_redundancy"]],
                    exp[["r_squared", "block_communality", "mean_Redundancy"]]) < TOL
    assert got["ave"].isna().all() and exp["ave"].isna().all()      # AVE only for reflective blocks


def test_scores(centroid, ecsi):
    exp = pd.read_csv(ecsi[1] / "satisfaction.scores.csv")
    got = centroid.scores_[exp.columns].reset_index(drop=True)
    assert _maxdiff(got, exp) < TOL
    # R's scores: mean 0, variance 1 with divisor n, even though the data were not scaled
    np.testing.assert_allclose(got.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(got.std(ddof=0), 1, atol=1e-12)
    assert list(centroid.scores_.index) == list(ecsi[0].index)


def test_effects(centroid, ecsi):
    exp = pd.read_csv(ecsi[1] / "satisfaction.effects.csv", index_col=0)
    got = centroid.effects_.set_index("relationship")
    assert list(got.index) == list(exp.index)                     # same 15 pairs, same order
    assert (got["from"] == exp["from"]).all() and (got["to"] == exp["to"]).all()
    assert _maxdiff(got[["direct", "indirect", "total"]], exp[["direct", "indirect", "total"]]) < TOL


def test_crossloadings(centroid, ecsi):
    exp = pd.read_csv(ecsi[1] / "satisfaction.crossloadings.csv").set_index("name")
    got = centroid.crossloadings_.set_index("name").loc[exp.index]
    assert (got["block"] == exp["block"]).all()
    lvs = ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"]
    assert _maxdiff(got[lvs], exp[lvs]) < TOL


def test_unidimensionality(centroid, ecsi):
    exp = pd.read_csv(ecsi[1] / "satisfaction_unidim.csv", index_col=0)
    got = centroid.unidimensionality_.set_index("lv").loc[exp.index]
    assert (got["mode"] == exp["mode"]).all() and (got["mvs"] == exp["mvs"]).all()
    cols = ["cronbach_alpha", "dillon_goldstein_rho", "eig_1st", "eig_2nd"]
    assert _maxdiff(got[cols], exp[cols]) < TOL


def test_gof(centroid):
    # R plspm's gof for this model (plspm-python tests/test_regression_metric.py, taken from R)
    assert centroid.gof_ == pytest.approx(0.609741624338411, abs=TOL)
    assert centroid.converged_ and centroid.iterations_ < 100


def test_bootstrap_loosely_matches_r(ecsi):
    # resamples differ from R's: compare means, standard errors and percentile bounds loosely
    m = _fit(ecsi[0], n_boot=150, random_state=2024)
    b = m.bootstrap_.set_index(["kind", "name"])
    assert set(b.index.get_level_values("kind")) == {"weight", "loading", "path", "r_squared", "total_effect", "htmt"}
    for kind, fname in (("path", "satisfaction_boot_paths.csv"), ("r_squared", "satisfaction_boot_rsquared.csv")):
        exp = pd.read_csv(ecsi[1] / fname, index_col=0)
        got = b.loc[kind].loc[exp.index]
        assert _maxdiff(got["original"], exp["original"]) < TOL
        assert _maxdiff(got["mean"], exp["mean"]) < 0.03
        np.testing.assert_allclose(got["std_error"], exp["std.error"], rtol=0.35)
        assert _maxdiff(got["ci_low"], exp["perc.025"]) < 0.08
        assert _maxdiff(got["ci_high"], exp["perc.975"]) < 0.08
    again = _fit(ecsi[0], n_boot=150, random_state=2024).bootstrap_
    pd.testing.assert_frame_equal(m.bootstrap_, again)


# --------------------------------------------------------------------------- properties
def test_scaled_is_invariant_to_indicator_units(ecsi):
    data = ecsi[0]
    t = ECSI_MODEL
    a = PLSPM().fit(data, blocks=t["blocks"], paths=t["paths"])
    b = PLSPM().fit(data.assign(sat1=data["sat1"] * 10 + 3), blocks=t["blocks"], paths=t["paths"])
    assert _maxdiff(a.paths_["estimate"], b.paths_["estimate"]) < 1e-10
    assert _maxdiff(a.outer_model_["loading"], b.outer_model_["loading"]) < 1e-10
    # standardised with divisor n (R): each LV = X_std w has variance 1 with divisor n
    X = data[a.outer_model_["name"]]
    Xs = (X - X.mean()) / X.std(ddof=0)
    for lv, g in a.outer_model_.groupby("block"):
        s = Xs[g["name"]].to_numpy() @ g["weight"].to_numpy()
        assert s.std(ddof=0) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(s, a.scores_[lv].to_numpy(), atol=1e-10)
    assert not np.allclose(a.paths_["estimate"], _fit(data).paths_["estimate"], atol=1e-3)


def test_sign_convention_reversed_block(ecsi):
    # reverse-coding every quality item: R's rule keeps most loadings positive, so QUAL now
    # measures "poor quality": its loadings stay as they were and its paths change sign
    data = ecsi[0].copy()
    q = ECSI_MODEL["blocks"]["QUAL"]
    data[q] = 10 - data[q]
    m = _fit(data)
    ref = _fit(ecsi[0])
    np.testing.assert_allclose(m.outer_model_["loading"], ref.outer_model_["loading"], atol=1e-10)
    flip = np.where((ref.paths_["from"] == "QUAL") | (ref.paths_["to"] == "QUAL"), -1.0, 1.0)
    np.testing.assert_allclose(m.paths_["estimate"], flip * ref.paths_["estimate"], atol=1e-10)
    np.testing.assert_allclose(m.scores_["QUAL"], -ref.scores_["QUAL"], atol=1e-10)
    assert (m.outer_model_["loading"] > 0).all()


def test_parameter_recovery_simulation():
    # known structure: XI → ETA, beta 0.6; 4 reflective indicators per LV with loading 0.85
    rng = np.random.default_rng(3)
    n = 3000
    xi = rng.normal(size=n)
    eta = 0.6 * xi + np.sqrt(1 - 0.36) * rng.normal(size=n)
    lam = 0.85
    cols = {}
    for name, lv in (("x", xi), ("y", eta)):
        for i in range(4):
            cols[f"{name}{i}"] = lam * lv + np.sqrt(1 - lam ** 2) * rng.normal(size=n)
    df = pd.DataFrame(cols)
    m = PLSPM().fit(df, blocks={"XI": [f"x{i}" for i in range(4)], "ETA": [f"y{i}" for i in range(4)]},
                    paths=[("XI", "ETA")])
    # PLS composites attenuate the path a little: reliability of a 4-item composite ≈ 0.92
    assert m.paths_["estimate"].iloc[0] == pytest.approx(0.6 * 0.92, abs=0.03)
    np.testing.assert_allclose(m.outer_model_["loading"], 0.87, atol=0.03)
    assert m.unidimensionality_["cronbach_alpha"].min() > 0.88


def test_effects_are_sums_of_path_products(centroid):
    B = centroid.path_coefs_
    e = centroid.effects_.set_index(["from", "to"])
    # IMAG → SAT: direct + via EXPE + via EXPE→QUAL + via EXPE→VAL + via EXPE→QUAL→VAL + ...
    ind = (B.at["EXPE", "IMAG"] * (B.at["SAT", "EXPE"] + B.at["QUAL", "EXPE"] * B.at["SAT", "QUAL"]
           + B.at["VAL", "EXPE"] * B.at["SAT", "VAL"] + B.at["QUAL", "EXPE"] * B.at["VAL", "QUAL"] * B.at["SAT", "VAL"]))
    assert e.at[("IMAG", "SAT"), "indirect"] == pytest.approx(ind, abs=1e-12)
    assert (e["total"] - e["direct"] - e["indirect"]).abs().max() < 1e-12


# --------------------------------------------------------------------------- 0-100 index
def test_index_0_100(centroid, ecsi):
    data = ecsi[0]
    idx = centroid.indices(item_range=(0, 10)).set_index("lv")
    om = centroid.outer_model_
    g = om[om["block"] == "SAT"]
    w = g["weight"].to_numpy() / g["weight"].sum()               # unscaled fit: weights are raw-metric
    expect = 100 * (data[g["name"]].mean().to_numpy() @ w - 0) / 10
    assert idx.at["SAT", "index"] == pytest.approx(expect, rel=1e-12)
    assert 0 < idx["index"].min() and idx["index"].max() < 100
    per = centroid.index_scores(item_range=(0, 10))
    np.testing.assert_allclose(per.mean().to_numpy(), idx["index"].to_numpy(), atol=1e-10)
    assert per.shape == (250, 6)
    # a 1-10 scale: 100 × (score − 1) / 9
    idx1 = centroid.indices(item_range=(1, 10)).set_index("lv")
    assert idx1.at["SAT", "index"] == pytest.approx(100 * (idx.at["SAT", "score"] - 1) / 9)
    # scaled and unscaled fits give similar indices (weights differ only slightly)
    s = PLSPM(scaled=True).fit(data, blocks=ECSI_MODEL["blocks"], paths=ECSI_MODEL["paths"]).indices()
    np.testing.assert_allclose(s["index"], idx["index"], atol=1.5)


def test_index_needs_positive_weights():
    rng = np.random.default_rng(0)
    n = 400
    f = rng.normal(size=n)
    df = pd.DataFrame({"a1": f + rng.normal(size=n), "a2": f + rng.normal(size=n),
                       "b1": f + rng.normal(size=n), "b2": -0.3 * f + rng.normal(size=n) + 0.9 * rng.normal(size=n)})
    df["b2"] = df["b2"] + 2 * (df["b1"])                       # formative block with mixed-sign weights
    df["b1"] = df["b1"] - 0.9 * df["b2"]
    m = PLSPM().fit(df, blocks={"A": ["a1", "a2"], "B": ["b1", "b2"]}, paths={"B": ["A"]}, modes={"B": "B"})
    wB = m.outer_model_.query("block == 'B'")["weight"]
    assert (wB <= 0).any()
    with pytest.warns(CxValueWarning, match=r"no 0-100 index for \['B'\]"):
        ix = m.indices((0, 10)).set_index("lv")
    assert np.isnan(ix.at["B", "index"]) and np.isfinite(ix.at["A", "index"])


# --------------------------------------------------------------------------- templates, contract, errors
def test_templates():
    assert {(a, b) for b, fr in ECSI_MODEL["paths"].items() for a in fr} == set(README_PATHS)
    acsi = model_template("acsi")
    assert acsi["paths"]["SAT"] == ["EXPE", "QUAL", "VAL"] and acsi["paths"]["LOY"] == ["SAT", "COMP"]
    acsi["paths"]["SAT"].append("X")
    assert ACSI_MODEL["paths"]["SAT"] == ["EXPE", "QUAL", "VAL"]     # a copy
    # fit the ACSI template on simulated answers named as in the template
    rng = np.random.default_rng(9)
    n = 500
    expe = rng.normal(size=n)
    qual = 0.7 * expe + 0.7 * rng.normal(size=n)
    val = 0.3 * expe + 0.5 * qual + 0.7 * rng.normal(size=n)
    sat = 0.2 * expe + 0.4 * qual + 0.4 * val + 0.5 * rng.normal(size=n)
    comp = -0.5 * sat + rng.normal(size=n)
    loy = 0.6 * sat - 0.2 * comp + 0.7 * rng.normal(size=n)
    lv = dict(EXPE=expe, QUAL=qual, VAL=val, SAT=sat, COMP=comp, LOY=loy)
    cols = {c: np.clip(np.round(6 + 1.5 * lv[b] + rng.normal(size=n)), 1, 10)
            for b, cs in ACSI_MODEL["blocks"].items() for c in cs}
    m = PLSPM().fit(pd.DataFrame(cols), blocks=ACSI_MODEL["blocks"], paths=ACSI_MODEL["paths"])
    p = m.paths_.set_index(["from", "to"])["estimate"]
    assert p[("SAT", "COMP")] < 0 and p[("QUAL", "SAT")] > 0
    assert 40 < m.indices((1, 10)).set_index("lv").at["SAT", "index"] < 70
    with pytest.raises(CxValueError, match=r"name='scsi' is not valid"):
        model_template("scsi")


def test_contract_and_errors(ecsi):
    data = ecsi[0]
    t = model_template("ecsi")
    m = PLSPM()
    assert m.scheme == "centroid" and m.scaled is True and m.tol == 1e-6 and m.max_iter == 100
    with pytest.raises(NotFittedError, match="not fitted yet"):
        m.indices()
    assert m.fit(data, blocks=t["blocks"], paths=t["paths"]) is m
    # (from, to) pairs give the same model as the dict
    pairs = [(a, b) for b, fr in t["paths"].items() for a in fr]
    m2 = PLSPM().fit(data, blocks=t["blocks"], paths=pairs)
    pd.testing.assert_frame_equal(m.paths_, m2.paths_)
    with pytest.raises(CxValueError, match=r"scheme='pathway' is not valid: expected one of 'centroid', 'factorial', 'path'"):
        PLSPM(scheme="pathway").fit(data, blocks=t["blocks"], paths=t["paths"])
    with pytest.raises(CxValueError, match=r"cycle"):
        PLSPM().fit(data, blocks=t["blocks"], paths={**t["paths"], "IMAG": ["LOY"]})
    with pytest.raises(CxValueError, match=r"'PRICE' is not a latent variable in blocks"):
        PLSPM().fit(data, blocks=t["blocks"], paths={**t["paths"], "SAT": ["PRICE"]})
    with pytest.raises(CxValueError, match=r"block 'IMAG': column\(s\) \['imag9'\] not in the data"):
        PLSPM().fit(data, blocks={**t["blocks"], "IMAG": ["imag1", "imag9"]}, paths=t["paths"])
    with pytest.raises(CxValueError, match=r"modes='C' is not valid"):
        PLSPM().fit(data, blocks=t["blocks"], paths=t["paths"], modes="C")
    holes = data.copy()
    holes.iloc[3, 0] = np.nan
    with pytest.raises(CxValueError, match=r"1 row\(s\) have missing indicator values .* missing='listwise'"):
        PLSPM().fit(holes, blocks=t["blocks"], paths=t["paths"])
    ok = PLSPM(missing="listwise").fit(holes, blocks=t["blocks"], paths=t["paths"])
    assert len(ok.scores_) == 249
    with pytest.raises(CxValueError, match=r"have no variation"):
        PLSPM().fit(data.assign(imag1=5), blocks=t["blocks"], paths=t["paths"])
