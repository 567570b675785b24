"""CLI: `cxvalue churn`, `survival` and `retention` with --json, on the Telco CSV and on a store."""
from __future__ import annotations

import json

import pytest

from cli_runner import cx




@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A small demo company in a DuckDB file (closed, so that the CLI can open it)."""
    from churn_demo import demo_store
    from cxvalue.store import connect
    mem, _ = demo_store(3_000, seed=3)
    path = tmp_path_factory.mktemp("cli") / "demo.duckdb"
    con = connect(path)
    for name in mem.list_tables():
        con.create_table(name, mem.table(name).to_pyarrow())
    con.disconnect()
    return path


def test_survival_on_telco_csv_as_in_the_issue(telco_path):
    r = cx("survival", telco_path, "--duration", "tenure", "--event", "Churn", "--by", "Contract", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    s = {row["group"]: row for row in out["summary"]}
    assert set(s) == {"Month-to-month", "One year", "Two year"}
    assert s["Month-to-month"]["median"] == 35.0 and round(s["Two year"]["S(72)"], 3) == 0.936
    assert out["logrank"]["p"] < 1e-100 and len(out["pairwise"]) == 3


def test_churn_on_telco_csv(telco_path, tmp_path):
    r = cx("churn", telco_path, "--target", "Churn", "--drop", "TotalCharges", "--folds", "3", "--top", "5",
           "--json", "--out", tmp_path / "scores.csv")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    m = out["metrics"]
    assert m["customers"] == 7043 and m["dropped"] == "TotalCharges" and m["cv_roc_auc"] > 0.83
    assert len(out["folds"]) == 3 and len(out["lift"]) == 10 and len(out["scores"]) == 5
    top = out["scores"][0]
    assert top["p_churn"] > 0.8 and top["customer_id"] and top["top_reasons"]
    assert (tmp_path / "scores.csv").exists()


def test_bad_input_is_one_line(telco_path):
    r = cx("survival", telco_path, "--duration", "tenure", "--event", "gender")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "error: column 'gender': expected Yes/No, 1/0 or true/false, got 'Female' (row 2)"
    r = cx("churn", telco_path)
    assert r.returncode == 1 and "needs --target COLUMN" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_commands_on_a_store(store, tmp_path):
    r = cx("churn", "--store", store, "--json", "--top", "3", "--folds", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["metrics"]["definition"] == "inactivity" and float(out["metrics"]["test_roc_auc"]) > 0.6
    assert len(out["scores"]) == 3 and len(out["validation"]) == 1
    r = cx("retention", "--store", store, "--json", "--top", "5", "--out", tmp_path / "list.xlsx")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["customers"] > 100 and [x["rank"] for x in out["list"]] == [1, 2, 3, 4, 5]
    assert out["list"][0]["action"].startswith("churn_act_") and len(out["owner_risk"]) > 10
    assert (tmp_path / "list.xlsx").exists()
    r = cx("survival", "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {row["group"] for row in out["summary"]} == {"leisure", "business", "corporate", "student"}
    assert out["cox"] and out["unit"] == "month"
