"""PLS model assessment vs seminr (R) on its mobi data: reliability, HTMT, Fornell-Larcker,
VIF, R², f² (references: tests/perception/data/SOURCE.txt), and the properties of SRMR,
Q²predict and the bootstrap that no fixture pins."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxvalue.perception import pls_assess as A
from cxvalue.perception.plspm import PLSPM

DATA = Path(__file__).parent / "data" / "mobi.csv"
BLOCKS = {"Image": [f"IMAG{i}" for i in range(1, 6)], "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
          "Value": ["PERV1", "PERV2"], "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"]}
PATHS = {"Satisfaction": ["Image", "Expectation", "Value"]}
LVS = list(BLOCKS)


@pytest.fixture(scope="module")
def mobi():
    data = pd.read_csv(DATA)
    return PLSPM(scheme="path", scaled=True, tol=1e-12, max_iter=300).fit(data, blocks=BLOCKS, paths=PATHS)


def test_reliability_matches_seminr(mobi):
    # seminr tests/fixtures/V_3_6_0/reliability.csv: alpha, rhoC, AVE, rhoA
    ref = pd.DataFrame({
        "cronbach_alpha": [0.722834595427083, 0.451902555978063, 0.823631979352573, 0.779195021918597],
        "rho_c": [0.818325774056256, 0.733177801505283, 0.917897281748515, 0.871457927643628],
        "ave": [0.477979834838268, 0.480507046633952, 0.84831067540365, 0.693363990925202],
        "rho_a": [0.745291554480322, 0.461657986928213, 0.857527048393235, 0.784023593590752]}, index=LVS)
    got = A.reliability(mobi).set_index("lv").loc[LVS, ref.columns]
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), atol=1e-8)


def test_htmt_and_fornell_larcker_match_seminr(mobi):
    ref = {("Image", "Expectation"): 0.88803042750925, ("Image", "Value"): 0.651659392487802,
           ("Image", "Satisfaction"): 0.910100923782741, ("Expectation", "Value"): 0.588628982316289,
           ("Expectation", "Satisfaction"): 0.865108193553153, ("Value", "Satisfaction"): 0.740808927759395}
    got = A.htmt(mobi).set_index(["lv_a", "lv_b"])["htmt"]
    for k, v in ref.items():
        assert got[k] == pytest.approx(v, abs=1e-10)
    fl = A.fornell_larcker(mobi)
    ref_fl = np.array([[0.691360857178267, np.nan, np.nan, np.nan],
                       [0.505728413396833, 0.693186155829696, np.nan, np.nan],
                       [0.510787425945094, 0.358245251153116, 0.921037825175302, np.nan],
                       [0.695529337198367, 0.511250543946958, 0.606306608005369, 0.832684808871402]])
    np.testing.assert_allclose(fl.loc[LVS, LVS].to_numpy(), ref_fl, atol=1e-8)


def test_vif_r2_and_f2_match_seminr(mobi):
    outer = A.outer_vif(mobi)["vif"].to_numpy()
    np.testing.assert_allclose(outer, [1.46840074157899, 1.22511896724264, 1.25876515500919, 1.51040340151145,
                                       1.40314478976676, 1.16077200450283, 1.12060419838461, 1.04961624016727,
                                       1.96158254047704, 1.96158254047704, 1.50500417008445, 1.76197723191477,
                                       1.64446280215093], atol=1e-9)
    inner = A.inner_vif(mobi).set_index("from")["vif"]
    np.testing.assert_allclose(inner.loc[["Image", "Expectation", "Value"]],
                               [1.6139498810707, 1.36849662441311, 1.37801850355244], atol=1e-8)
    r2 = mobi.inner_summary_.set_index("lv").loc["Satisfaction"]
    assert r2["r_squared"] == pytest.approx(0.590603320426892, abs=1e-8)
    assert r2["r_squared_adj"] == pytest.approx(0.585610677993074, abs=1e-8)
    f2 = A.f_squared(mobi).set_index("from")["f_squared"]
    assert f2["Image"] == pytest.approx(0.303554364141901, abs=1e-6)     # seminr fsquared1.csv


def _simulated(n=600, seed=3, loading=0.8):
    """Three constructs, four items each, X -> Y -> Z with known paths."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.6 * x + rng.normal(scale=0.8, size=n)
    z = 0.5 * y + rng.normal(scale=0.87, size=n)
    cols = {}
    for name, f in (("x", x), ("y", y), ("z", z)):
        f = (f - f.mean()) / f.std()
        for i in range(4):
            cols[f"{name}{i}"] = loading * f + rng.normal(scale=np.sqrt(1 - loading ** 2), size=n)
    return pd.DataFrame(cols)


def test_srmr_and_q2_behave_on_simulated_data():
    data = _simulated()
    blocks = {"X": [f"x{i}" for i in range(4)], "Y": [f"y{i}" for i in range(4)], "Z": [f"z{i}" for i in range(4)]}
    good = PLSPM(scheme="path", scaled=True).fit(data, blocks=blocks, paths={"Y": ["X"], "Z": ["Y"]})
    assert A.srmr(good) < 0.05                      # the true model: items reproduced
    mixed = {"X": ["x0", "x1", "y2", "z3"], "Y": ["y0", "y1", "x2", "z2"], "Z": ["z0", "z1", "x3", "y3"]}
    wrong = PLSPM(scheme="path", scaled=True).fit(data, blocks=mixed, paths={"Y": ["X"], "Z": ["Y"]})
    assert A.srmr(wrong) > 2 * A.srmr(good)
    q2 = A.q2_predict(good, folds=5)
    assert (q2["q2_predict"] > 0).all() and len(q2) == 8
    # the same folds every run (seeded), different folds with another seed
    assert q2.equals(A.q2_predict(good, folds=5))
    assert not q2["q2_predict"].equals(A.q2_predict(good, folds=5, random_state=9)["q2_predict"])


def test_bootstrap_reports_one_inference():
    """SE, t, p and both intervals come from the same resamples: a path whose percentile
    interval excludes 0 has p < 0.05, and the BCa interval brackets the estimate."""
    data = _simulated(n=300)
    blocks = {"X": [f"x{i}" for i in range(4)], "Y": [f"y{i}" for i in range(4)], "Z": [f"z{i}" for i in range(4)]}
    m = PLSPM(scheme="path", n_boot=200, random_state=1).fit(data, blocks=blocks, paths={"Y": ["X"], "Z": ["Y", "X"]})
    b = m.bootstrap_.set_index(["kind", "name"])
    paths = b.loc["path"]
    assert np.allclose(paths["t_value"], paths["original"] / paths["std_error"])
    assert (paths["bca_low"] <= paths["original"]).all() and (paths["original"] <= paths["bca_high"]).all()
    strong = paths.loc["X -> Y"]
    assert strong["ci_low"] > 0 and strong["p_value"] < 1e-6
    assert b.loc["htmt"].shape[0] == 3 and (b.loc["htmt"]["ci_low"] < b.loc["htmt"]["original"]).all()
    again = PLSPM(scheme="path", n_boot=200, random_state=1).fit(data, blocks=blocks, paths={"Y": ["X"], "Z": ["Y", "X"]})
    pd.testing.assert_frame_equal(m.bootstrap_, again.bootstrap_)      # seeded


def test_csi_paths_use_the_bootstrap_when_there_is_one():
    from cxvalue.perception.analyses import csi_analysis
    data = pd.read_csv(DATA)
    model = {"name": "mobi", "blocks": BLOCKS, "paths": PATHS}
    ols = csi_analysis(data, model=model)
    boot = csi_analysis(data, model=model, n_boot=100)
    assert (ols["csi_paths"]["inference"] == "ols").all()
    assert boot["csi_paths"]["inference"].str.startswith("bootstrap (100").all()
    bs = boot["csi_paths"].set_index("relationship")
    assert not np.allclose(bs["std_error"], ols["csi_paths"].set_index("relationship").loc[bs.index, "std_error"])
    assert np.allclose(bs["t_value"], bs["estimate"] / bs["std_error"])
    for k in ("csi_reliability", "csi_discriminant", "csi_structural", "csi_predict", "csi_fit"):
        assert len(boot[k]) and (boot[k]["model"] == "mobi").all()
    assert boot["csi_discriminant"]["htmt_ci_high"].notna().all()


HOC_BLOCKS = {"Image": [f"IMAG{i}" for i in range(1, 6)], "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
              "Quality": [f"PERQ{i}" for i in range(1, 8)], "Value": ["PERV1", "PERV2"], "Complaints": ["CUSCO"],
              "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]}
HOC_PATHS = {"Satisfaction": ["Expectation", "Quality"], "Complaints": ["Satisfaction"], "Loyalty": ["Satisfaction"]}


def test_two_stage_higher_order_construct_matches_seminr():
    """seminr tests/testthat/test-hoc.R, first case: Satisfaction = higher_composite(Image, Value),
    two_stage; fixtures V_3_6_0/hoc-paths.csv and hoc-loadings.csv."""
    data = pd.read_csv(DATA)
    m = PLSPM(scheme="path", scaled=True, tol=1e-10, max_iter=300).fit(
        data, blocks=HOC_BLOCKS, paths=HOC_PATHS, higher_order={"Satisfaction": ["Image", "Value"]})
    paths = m.paths_.set_index("relationship")["estimate"]
    np.testing.assert_allclose(paths[["Expectation -> Satisfaction", "Quality -> Satisfaction",
                                      "Satisfaction -> Complaints", "Satisfaction -> Loyalty"]],
                               [0.103641382040823, 0.720064333276669, 0.486257317953653, 0.627602841720655], atol=1e-7)
    load = m.outer_model_.set_index("name")["loading"]
    np.testing.assert_allclose(load[["Image", "Value", "CUSL2"]], [0.895650876207813, 0.839452525936479,
                                                                    0.224294512163711], atol=1e-7)
    first = m.first_stage_.outer_model_.set_index("name")["loading"]
    assert first["IMAG1"] == pytest.approx(0.750650331276109, abs=1e-7)   # the dimensions, from stage 1
    # the HOC's index lies between its dimensions' indices
    idx = m.indices(item_range=(1, 10)).set_index("lv")["index"]
    dims = m.first_stage_.indices(item_range=(1, 10)).set_index("lv")["index"][["Image", "Value"]]
    assert dims.min() <= idx["Satisfaction"] <= dims.max()


def test_repeated_indicators_and_the_errors():
    from cxvalue.errors import CxValueError
    data = pd.read_csv(DATA)
    m = PLSPM(scheme="path", scaled=True).fit(data, blocks=HOC_BLOCKS, paths=HOC_PATHS,
                                              higher_order={"Satisfaction": ["Image", "Value"]}, hoc_method="repeated")
    om = m.outer_model_
    assert (om["block"] == "Satisfaction").sum() == 7 and "Satisfaction:IMAG1" in set(om["name"])
    assert {"Satisfaction -> Image", "Satisfaction -> Value"} <= set(m.paths_["relationship"])
    with pytest.raises(CxValueError, match="dimension"):
        PLSPM().fit(data, blocks=HOC_BLOCKS, paths=HOC_PATHS, higher_order={"Satisfaction": ["Image", "Nope"]})
    with pytest.raises(CxValueError, match="hoc_method"):
        PLSPM().fit(data, blocks=HOC_BLOCKS, paths=HOC_PATHS, higher_order={"Satisfaction": ["Image", "Value"]},
                    hoc_method="three_stage")


def test_csi_model_file_with_a_higher_order_construct(tmp_path):
    from cxvalue.perception.analyses import csi_analysis
    f = tmp_path / "mobi.yaml"
    import yaml
    f.write_text(yaml.safe_dump({"name": "mobi-hoc", "blocks": HOC_BLOCKS, "paths": HOC_PATHS,
                                 "higher_order": {"Satisfaction": ["Image", "Value"]}, "item_range": [1, 10]}))
    out = csi_analysis(pd.read_csv(DATA), model=str(f), scheme="path", scaled=True)
    sc = out["csi_scores"].set_index("lv")
    assert "Satisfaction" in sc.index and 0 < sc.loc["Satisfaction", "index"] < 100
    assert set(out["csi_model"].query("lv == 'Satisfaction'")["item"]) == {"Image", "Value"}
    assert "Satisfaction" in set(out["csi_reliability"]["lv"])


def test_index_scale_comes_from_the_data_contract(tmp_path):
    """The 0-100 index rescales by the answer scale the load declared (mapping ``scales``, else
    the contract's 0-10), not by the range the answers cover; a file without one says the scale
    is assumed."""
    from cxvalue.io.load import declared_scales, load_file
    from cxvalue.perception.analyses import csi_analysis
    from cxvalue.store import connect
    raw = pd.read_csv(DATA)
    cols = [c for b in BLOCKS.values() for c in b]
    df = raw[cols].rename(columns={c: f"rating_{c.lower()}" for c in cols})
    df.insert(0, "date", "2024-03-01")
    df.insert(0, "customer_id", [f"c{i}" for i in range(len(df))])
    df.insert(0, "response_id", [f"r{i}" for i in range(len(df))])
    df.to_csv(tmp_path / "mobi.csv", index=False)
    (tmp_path / "map.yaml").write_text('scales:\n  "rating_*": [1, 10]\n')
    model = {"name": "mobi", "blocks": {lv: [f"rating_{c.lower()}" for c in items] for lv, items in BLOCKS.items()},
             "paths": PATHS}
    con = connect(str(tmp_path / "s.duckdb"))
    load_file(con, "responses", tmp_path / "mobi.csv", mapping=tmp_path / "map.yaml")
    assert declared_scales(con, "responses")["rating_imag1"] == (1.0, 10.0)
    store = csi_analysis(con, model=model)
    m = store["csi_model"]
    assert set(m["item_range_source"]) == {"data contract"} and set(m["item_range_low"]) == {1.0}
    given = csi_analysis(df, model=model, item_range=(1, 10))
    pd.testing.assert_series_equal(store["csi_scores"]["index"], given["csi_scores"]["index"])
    # loaded again without the mapping: the contract's default 0-10, and the index changes with it
    load_file(con, "responses", tmp_path / "mobi.csv", replace=True)
    assert declared_scales(con, "responses")["rating_imag1"] == (0.0, 10.0)
    default = csi_analysis(con, model=model)["csi_scores"].set_index("lv")["index"]
    assert (default > given["csi_scores"].set_index("lv")["index"]).all()
    with pytest.warns(Warning, match="assumed to be 1-10"):
        assumed = csi_analysis(df, model=model)
    assert set(assumed["csi_model"]["item_range_source"]) == {"assumed"}


def test_pls_predict_matches_seminr_on_the_corporate_reputation_model():
    """PLSpredict with earliest antecedents and leave-one-out folds (deterministic) vs seminr's
    fixture predict_pls_EA.csv: out-of-sample RMSE and MAE of PLS and of the linear model."""
    data = pd.read_csv(Path(__file__).parent / "data" / "corp_rep.csv")
    blocks = {"QUAL": [f"qual_{i}" for i in range(1, 9)], "PERF": [f"perf_{i}" for i in range(1, 6)],
              "CSOR": [f"csor_{i}" for i in range(1, 6)], "ATTR": [f"attr_{i}" for i in range(1, 4)],
              "COMP": [f"comp_{i}" for i in range(1, 4)], "LIKE": [f"like_{i}" for i in range(1, 4)],
              "CUSA": ["cusa"], "CUSL": [f"cusl_{i}" for i in range(1, 4)]}
    X = data[[c for b in blocks.values() for c in b]].replace(-99, np.nan)
    X = X.fillna(X.mean())                                     # seminr's mean_replacement
    paths = {"COMP": ["QUAL", "PERF", "CSOR", "ATTR"], "LIKE": ["QUAL", "PERF", "CSOR", "ATTR"],
             "CUSA": ["COMP", "LIKE"], "CUSL": ["COMP", "LIKE", "CUSA"]}
    m = PLSPM(scheme="path", scaled=True, tol=1e-10, max_iter=300).fit(
        X, blocks=blocks, paths=paths, modes={"QUAL": "B", "PERF": "B", "CSOR": "B", "ATTR": "B"})
    assert m.paths_.set_index("relationship").loc["CUSA -> CUSL", "estimate"] == pytest.approx(0.505, abs=5e-4)
    q = A.q2_predict(m, folds=len(X)).set_index("item")
    items = ["comp_1", "comp_2", "comp_3", "like_1", "like_2", "like_3", "cusa", "cusl_1", "cusl_2", "cusl_3"]
    ref = {  # rows 3, 4, 7, 8 of predict_pls_EA.csv: PLS out-of-sample RMSE, MAE; LM out-of-sample RMSE, MAE
        "rmse_pls": [1.043629329, 1.100141058, 1.135192128, 1.127177512, 1.482142812, 1.50935676, 1.021209189,
                     1.299571562, 1.52249223, 1.530234281],
        "mae_pls": [0.798866334, 0.882640252, 0.897727264, 0.855954129, 1.149073617, 1.170249599, 0.790656327,
                    0.988709765, 1.174357176, 1.154882281],
        "rmse_lm": [1.063798384, 1.110136012, 1.127114471, 1.148741709, 1.542315591, 1.578073907, 1.013235773,
                    1.30369479, 1.532354411, 1.559504791],
        "mae_lm": [0.809836945, 0.871951261, 0.86561048, 0.876255232, 1.181077897, 1.232912983, 0.791151509,
                   0.95709193, 1.16086431, 1.1701509]}
    for col, values in ref.items():
        np.testing.assert_allclose(q.loc[items, col], values, atol=2e-6, err_msg=col)


def test_srmr_weights_and_r2_match_adanco_on_the_bank_data(shared_data):
    """ADANCO 2.1.1 on R plspm's bank data as a composite model (every block mode B, factorial
    inner weighting), from cSEM's comparison workbook tests/comparisons/results_composite_model.xls
    (github.com/M-E-Rademaker/cSEM): saturated-model SRMR, outer weights, R² and adjusted R²."""
    from cxvalue.perception.plspm import ECSI_MODEL
    data = pd.read_csv(shared_data / "ecsi_bank" / "satisfaction.csv")
    m = PLSPM(scheme="factorial", scaled=True, tol=1e-10, max_iter=300).fit(
        data, blocks=ECSI_MODEL["blocks"], paths=ECSI_MODEL["paths"], modes="B")
    assert A.srmr(m) == pytest.approx(0.05254719998738681, abs=2e-8)
    w = m.outer_model_.set_index("name")["weight"]
    np.testing.assert_allclose(w[["imag1", "imag2", "imag3", "imag4", "imag5", "expe1"]],
                               [-0.03290914437369772, 0.2233817227178431, 0.4868414643001946, 0.0393057674171666,
                                0.4756712625251309, 0.09106132773768677], atol=1e-6)
    r2 = m.inner_summary_.set_index("lv")
    np.testing.assert_allclose(r2.loc[["EXPE", "QUAL", "VAL", "SAT", "LOY"], "r_squared"],
                               [0.3711681062237195, 0.7239177847613869, 0.6137937422332856, 0.733351523249218,
                                0.5401300897243495], atol=1e-7)
    np.testing.assert_allclose(r2.loc[["EXPE", "SAT"], "r_squared_adj"], [0.3686324937488151, 0.7289980787308379],
                               atol=1e-7)
