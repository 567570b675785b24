"""`cxvalue clv` on a plain CSV reproduces the published CDNOW BG/NBD fit; `cxvalue value` on a store."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from cli_runner import cx


def block(view: dict, id: str) -> dict:
    return next(b for b in view["blocks"] if b["id"] == id)


def params_of(view: dict, model: str) -> dict:
    return {r["parameter"]: r for r in block(view, "clv-parameters")["rows"] if r["model"] == model}


def test_clv_on_plain_csv_reproduces_fader_hardie_lee(shared_data, tmp_path):
    raw = pd.read_csv(shared_data / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "quantity", "amount"])
    raw["date"] = pd.to_datetime(raw.date.astype(str), format="%Y%m%d").dt.strftime("%Y-%m-%d")
    csv = tmp_path / "tx.csv"
    raw[["customer_id", "date", "amount"]].to_csv(csv, index=False)
    r = cx("clv", csv, "--calibration-end", "1997-09-30", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "clv" and [b["id"] for b in out["blocks"]] == ["clv-kpis", "clv-parameters", "clv-fit", "clv-top"]
    bg = params_of(out, "bgnbd")
    p = {k: v["estimate"] for k, v in bg.items()}
    # Fader, Hardie & Lee (2005): r = 0.2426, alpha = 4.4136, a = 0.7929, b = 2.4259; LL -9582.43
    assert p == pytest.approx({"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259}, rel=2e-4)
    fit = {r["model"]: r for r in block(out, "clv-fit")["rows"]}
    assert fit["bgnbd"]["loglik"] == pytest.approx(-9582.43, abs=0.01)
    assert out["meta"]["customers"] == 2357 and out["as_of"] == "1997-09-30"
    kpis = {k["key"]: k["value"] for k in block(out, "clv-kpis")["items"]}
    assert kpis["customers"] == 2357 and isinstance(kpis["total_clv"], float)  # numbers, not "20,000"
    assert bg["r"]["ci_low"] < 0.2426 < bg["r"]["ci_high"]
    r = cx("clv", csv, "--model", "paretonbd", "--calibration-end", "1997-09-30", "--json")
    p = {k: v["estimate"] for k, v in params_of(json.loads(r.stdout), "paretonbd").items()}
    assert p == pytest.approx({"r": 0.5533, "alpha": 10.576, "s": 0.6062, "beta": 11.672}, rel=1e-3)


def test_clv_errors_are_one_line(tmp_path):
    (tmp_path / "t.csv").write_text("customer_id,date,amount\na,2024-01-01,1\n")
    r = cx("clv", tmp_path / "t.csv")
    assert r.returncode == 1 and r.stderr.startswith("error: only 1 customers") and "Traceback" not in r.stderr
    r = cx("clv", tmp_path / "t.csv", "--model", "xyz")
    assert r.returncode == 1 and "--model='xyz' is not valid: expected one of 'bgnbd', 'mbgnbd', 'paretonbd'" in r.stderr


def test_value_command_on_demo_store(tmp_path):
    from cxvalue.datasets.demo import write_demo
    write_demo(tmp_path / "data", 3000, seed=3)
    store = tmp_path / "s.duckdb"
    assert cx("load", "--dir", tmp_path / "data", "--store", store, "--json").returncode == 0
    r = cx("value", "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "value" and out["as_of"] == "2025-12-31"
    tiers = {row["value_tier"]: row for row in block(out, "value-matrix")["rows"]}
    assert set(tiers) == {"platinum", "gold", "iron", "lead"}
    assert sum(t["customers"] for t in tiers.values()) == 3000
    import duckdb
    con = duckdb.connect(str(store), read_only=True)
    cv = con.execute("select * from customer_value").df()
    assert len(cv) == 3000 and cv.p_alive.between(0, 1).all() and (cv.clv >= 0).all()
    # platinum customers (high current, high potential) are worth more than lead ones
    assert cv[cv.value_tier == "platinum"].clv.mean() > 3 * cv[cv.value_tier == "lead"].clv.mean()
    vm = con.execute("select * from value_multiplication_summary order by relationship_year").df()
    assert vm.relationship_year.tolist()[:3] == [1, 2, 3]
    # seed 001's shape: the acquisition cost is paid in year 1 only, and referral revenue grows with the relationship
    assert vm.acquisition_cost.iloc[0] > 0 and (vm.acquisition_cost.iloc[1:] == 0).all()
    assert vm.referral_revenue.iloc[2] > vm.referral_revenue.iloc[0]
