"""Satisfaction index on survey files: model templates, model files, indices per segment."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.perception.csi import csi_tables, fit_csi, resolve_model
from cxvalue.perception.plspm import ECSI_MODEL
from cxvalue.voice.inputs import read_any

# README of ../shared/data (R plspm, unscaled, centroid): paths and R²
R_PATHS = {"IMAG -> EXPE": .5790, "EXPE -> QUAL": .8483, "EXPE -> VAL": .1055, "QUAL -> VAL": .6767,
           "IMAG -> SAT": .2007, "EXPE -> SAT": -.0028, "QUAL -> SAT": .1221, "VAL -> SAT": .5893,
           "IMAG -> LOY": .2751, "SAT -> LOY": .4955}
R_R2 = {"EXPE": .3352, "QUAL": .7197, "VAL": .5901, "SAT": .7073, "LOY": .5099}


@pytest.fixture(scope="module")
def ecsi(shared_data):
    return read_any(shared_data / "ecsi_bank" / "satisfaction.csv")


def test_template_detected_and_reference_reproduced(ecsi):
    assert "column00" not in ecsi.columns and "gender" in ecsi.columns     # the R row names are dropped
    pls, spec = fit_csi(ecsi)                                             # no model given: ECSI is detected
    assert spec["name"] == "ecsi" and spec["scaled"] is False
    got = pls.paths_.set_index("relationship")["estimate"]
    for rel, v in R_PATHS.items():
        assert got[rel] == pytest.approx(v, abs=5e-5), rel
    r2 = pls.inner_summary_.set_index("lv")["r_squared"]
    for lv, v in R_R2.items():
        assert r2[lv] == pytest.approx(v, abs=5e-5), lv
    tabs = csi_tables(pls, spec, ecsi, by="gender")
    sc = tabs["csi_scores"]
    overall = sc[sc["segment"] == "all"].set_index("lv")["index"]
    # docs/perception.md: IMAG 74.4, EXPE 74.8, QUAL 69.4, VAL 70.3, SAT 68.6, LOY 71.5 (0-10 scale)
    assert overall.round(1).to_dict() == {"IMAG": 74.4, "EXPE": 74.8, "QUAL": 69.4, "VAL": 70.3, "SAT": 68.6,
                                          "LOY": 71.5}
    assert sc.attrs["item_range"] == (0, 10)
    seg = sc[sc["segment"] != "all"]
    assert set(seg["segment"]) == {"female", "male"}
    # segment indices average to the overall index (same weights for everybody)
    n = seg.groupby("segment")["n"].first()
    sat = seg[seg["lv"] == "SAT"].set_index("segment")["index"]
    assert (sat * n).sum() / n.sum() == pytest.approx(overall["SAT"], abs=1e-9)
    assert tabs["csi_paths"]["ci_low"].isna().all()


def test_rating_prefix_yaml_model_and_errors(ecsi, tmp_path):
    renamed = ecsi.rename(columns={c: f"rating_{c}" for c in ecsi.columns if c != "gender"})
    spec = resolve_model(renamed.columns, "ecsi")
    assert spec["blocks"]["IMAG"][0] == "rating_imag1"
    model = tmp_path / "bank.yaml"
    model.write_text("name: bank\nblocks:\n  VAL: [val1, val2, val3, val4]\n  SAT: [sat1, sat2, sat3, sat4]\n"
                     "  LOY: [loy1, loy2, loy3, loy4]\npaths:\n  SAT: [VAL]\n  LOY: [SAT]\nitem_range: [0, 10]\n",
                     encoding="utf-8")
    pls, spec = fit_csi(ecsi, str(model), n_boot=20, random_state=1)
    assert spec["name"] == "bank" and list(pls.lvs_) == ["VAL", "SAT", "LOY"]
    tabs = csi_tables(pls, spec, ecsi)
    assert tabs["csi_paths"]["ci_low"].notna().all()
    with pytest.raises(CxValueError, match=r"model 'acsi': indicator column\(s\) \['expe_overall'"):
        resolve_model(ecsi.columns, "acsi")
    with pytest.raises(CxValueError, match="model='nope' is not valid: expected one of ecsi, acsi, contract"):
        resolve_model(ecsi.columns, "nope")
    with pytest.raises(CxValueError, match="no satisfaction index model fits these columns"):
        resolve_model(["a", "b"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("blocks: {}\n", encoding="utf-8")
    with pytest.raises(CxValueError, match="expected a mapping with 'blocks'"):
        resolve_model(ecsi.columns, str(bad))


def test_contract_model_on_simulated_answers():
    rng = np.random.default_rng(3)
    n = 400
    q = rng.normal(size=n)
    df = pd.DataFrame({f"experience_{d}": np.clip(np.round(6 + 1.2 * q + rng.normal(0, 1, n)), 0, 10)
                       for d in ("product", "price", "service", "convenience", "brand_image", "relationship")})
    df["satisfaction"] = np.clip(np.round(7 + 1.0 * q + rng.normal(0, 0.8, n)), 0, 10)
    df["nps"] = np.clip(np.round(7 + 0.8 * df["satisfaction"].sub(7) + rng.normal(0, 1, n)), 0, 10)
    pls, spec = fit_csi(df)
    assert spec["name"] == "contract"
    assert pls.paths_.set_index("relationship").loc["QUAL -> SAT", "estimate"] > 0.5
    assert ECSI_MODEL["labels"]["SAT"] == {"en": "Customer satisfaction", "zh": "顾客满意度"}
