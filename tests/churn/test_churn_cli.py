"""CLI: `cxvalue churn`, `survival` and `retention` on the Telco CSV and on a store; --json is the churn
view's JSON (its section of the command), the terminal shows the same view, the report renders it."""
from __future__ import annotations

import json

import pytest

from cli_runner import cx

PREDICTION_FILE = ["churn-prediction", "churn-prediction-note", "churn-folds", "churn-cv-summary", "churn-lift",
                   "churn-lift-table", "churn-calibration", "churn-drivers", "churn-drivers-table", "churn-scores"]
PREDICTION_STORE = ["churn-prediction", "churn-prediction-note", "churn-validation", "churn-lift", "churn-lift-table",
                    "churn-calibration", "churn-drivers", "churn-drivers-table", "churn-scores"]
SURVIVAL = ["churn-survival", "churn-survival-table", "churn-logrank", "churn-cox"]
RETENTION = ["value-at-risk", "value-at-risk-by-reason", "retention-list", "owner-concentration", "owner-risk"]


def block(view: dict, id: str) -> dict:
    return next(b for b in view["blocks"] if b["id"] == id)


def ids(view: dict) -> list[str]:
    return [b["id"] for b in view["blocks"]]


def kpis(view: dict, id: str) -> dict:
    return {k["key"]: k["value"] for k in block(view, id)["items"]}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A small demo company in a DuckDB file (closed, so that the CLI can open it); ten customers form a
    segment of their own, too small for a trustworthy survival curve."""
    from churn_demo import demo_store
    from cxvalue.store import connect
    mem, _ = demo_store(3_000, seed=3)
    path = tmp_path_factory.mktemp("cli") / "demo.duckdb"
    con = connect(path)
    for name in mem.list_tables():
        frame = mem.table(name).to_pandas()
        if name == "customers":
            frame.loc[frame.index[:10], "segment"] = "pilot"
        con.create_table(name, frame)
    con.disconnect()
    return path


def test_survival_on_telco_csv_as_in_the_issue(telco_path):
    r = cx("survival", telco_path, "--duration", "tenure", "--event", "Churn", "--by", "Contract", "--cox", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "churn" and ids(out) == SURVIVAL
    assert out["meta"]["source"] == telco_path.name and out["meta"]["survival"]["duration"] == "tenure"
    s = {row["group"]: row for row in block(out, "churn-survival-table")["rows"]}
    assert set(s) == {"Month-to-month", "One year", "Two year"}
    assert s["Month-to-month"]["median"] == 35.0 and round(s["Two year"]["S(72)"], 3) == 0.936
    assert s["Month-to-month"]["median_ci_low"] < 35.0 < s["Month-to-month"]["median_ci_high"]
    lr = block(out, "churn-logrank")["rows"]
    assert lr[0]["group_a"] == "(all)" and lr[0]["p"] < 1e-100 and lr[0]["degrees_of_freedom"] == 2 and len(lr) == 4
    chart = block(out, "churn-survival")
    assert chart["chart"] == "step" and set(chart["data"]["curves"]) == set(s)
    x, y = chart["data"]["curves"]["Month-to-month"]
    assert len(x) == len(y) and y[0] <= 1.0 and y == sorted(y, reverse=True)
    # TotalCharges restates tenure × MonthlyCharges: left out of the Cox model, with the typed warning on the view
    assert {"category": "LeakageWarning", "message": "left out TotalCharges: restates the duration 'tenure' (leakage)"} \
        in chart["warnings"]
    assert out["meta"]["survival"]["excluded"] == ["TotalCharges"] and 0.7 < out["meta"]["survival"]["concordance"] < 0.95
    cox = {row["covariate"]: row for row in block(out, "churn-cox")["rows"]}
    two = cox["Contract=Two year"]
    assert two["hazard_ratio"] < cox["Contract=One year"]["hazard_ratio"] < 1
    assert two["hr_ci_low"] < two["hazard_ratio"] < two["hr_ci_high"] and isinstance(two["ph_violated"], bool)


def test_small_groups_carry_a_typed_warning(tmp_path):
    f = tmp_path / "tiny.csv"
    rows = ["id,months,left,plan"] + [f"c{i},{1 + i % 24},{'Yes' if i % 3 == 0 else 'No'},{'a' if i < 60 else 'b'}"
                                      for i in range(66)]
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = cx("survival", f, "--duration", "months", "--event", "left", "--by", "plan", "--times", "6,12", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert block(out, "churn-survival")["warnings"] == [
        {"category": "SmallSampleWarning", "message": "group 'b' has only 6 customers: its curve is imprecise"}]
    assert [row["customers"] for row in block(out, "churn-survival-table")["rows"]] == [60, 6]
    assert "S(6)" in block(out, "churn-survival-table")["rows"][0]
    r = cx("survival", f, "--duration", "months", "--event", "left", "--by", "plan")
    assert r.returncode == 0 and "warning (SmallSampleWarning): group 'b' has only 6 customers" in r.stderr


def test_churn_on_telco_csv(telco_path, tmp_path):
    r = cx("churn", telco_path, "--target", "Churn", "--drop", "TotalCharges", "--folds", "3", "--top", "5",
           "--json", "--out", tmp_path / "scores.csv")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "churn" and ids(out) == PREDICTION_FILE
    m = out["meta"]["metrics"]
    assert m["customers_scored"] == 7043 and m["dropped"] == "TotalCharges" and m["cv_roc_auc"] > 0.83
    assert m["target"] == "Churn" and m["folds"] == 3 and m["features"] == 18
    k = kpis(out, "churn-prediction")
    assert k["customers_scored"] == 7043 and k["roc_auc"] == m["cv_roc_auc"] and 0.2 < k["mean_p_churn"] < 0.33
    assert len(block(out, "churn-folds")["rows"]) == 3
    cvs = {row["parameter"]: row for row in block(out, "churn-cv-summary")["rows"]}
    assert cvs["roc_auc"]["ci_low"] < cvs["roc_auc"]["estimate"] < cvs["roc_auc"]["ci_high"]
    assert cvs["roc_auc"]["estimate"] == pytest.approx(m["cv_roc_auc"])
    lift = block(out, "churn-lift-table")["rows"]
    assert len(lift) == 10 and lift[0]["lift"] > 2.5 and block(out, "churn-lift")["data"]["values"][0] == lift[0]["lift"]
    assert len(block(out, "churn-calibration")["rows"]) == 10
    assert block(out, "churn-drivers-table")["rows"][0]["feature"] in ("Contract", "tenure")
    scores = block(out, "churn-scores")["rows"]
    assert len(scores) == 5 and [s["p_churn"] for s in scores] == sorted((s["p_churn"] for s in scores), reverse=True)
    top = scores[0]
    assert top["p_churn"] > 0.8 and top["customer_id"] and top["top_reasons"] and top["churned"] in (0, 1)
    assert (tmp_path / "scores.csv").exists() and out["meta"]["written"].endswith("scores.csv")
    import pandas as pd
    assert len(pd.read_csv(tmp_path / "scores.csv")) == 7043


def test_bad_input_is_one_line(telco_path):
    r = cx("survival", telco_path, "--duration", "tenure", "--event", "gender")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "error: column 'gender': expected Yes/No, 1/0 or true/false, got 'Female' (row 2)"
    r = cx("churn", telco_path)
    assert r.returncode == 1 and "needs --target COLUMN" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = cx("survival", telco_path, "--duration", "tenure", "--event", "Churn", "--times", "12,soon")
    assert r.returncode == 1 and r.stderr.strip() == ("error: --times '12,soon': expected comma-separated numbers, "
                                                      "e.g. 6,12,24")


def test_commands_on_a_store(store, tmp_path):
    from cxvalue.store import connect
    r = cx("churn", "--store", store, "--json", "--top", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "churn" and ids(out) == PREDICTION_STORE and out["as_of"] == "2025-12-31"
    m = out["meta"]["metrics"]
    assert m["definition"] == "inactivity" and m["test_roc_auc"] > 0.6 and m["horizon_days"] == 180
    assert kpis(out, "churn-prediction")["roc_auc"] == m["test_roc_auc"]
    assert len(block(out, "churn-scores")["rows"]) == 3 and len(block(out, "churn-validation")["rows"]) == 1
    assert block(out, "churn-validation")["rows"][0]["test_cutoff"] == "2025-07-04"
    r = cx("retention", "--store", store, "--json", "--top", "5", "--out", tmp_path / "list.xlsx")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "churn" and ids(out) == RETENTION
    k = kpis(out, "value-at-risk")
    assert k["listed"] > 100 and k["value_at_risk"] == pytest.approx(out["meta"]["retention"]["value_at_risk"])
    rl = block(out, "retention-list")["rows"]
    assert [x["rank"] for x in rl] == [1, 2, 3, 4, 5] and rl[0]["action"].startswith("churn_act_")
    assert rl[0]["action_label"] and not rl[0]["action_label"].startswith("churn_act_")
    assert rl[0]["value_at_risk"] == pytest.approx(rl[0]["p_churn"] * rl[0]["value"])
    by_reason = block(out, "value-at-risk-by-reason")["rows"]
    assert sum(v for r_ in by_reason for key, v in r_.items() if key in ("high", "medium", "low")) == \
        pytest.approx(k["value_at_risk"])
    own = kpis(out, "owner-concentration")
    assert own["owners"] > 10 and 0 < own["hhi"] < 0.2 and 0 < own["follow_probability"] <= 1
    assert len(block(out, "owner-risk")["rows"]) == 10
    assert (tmp_path / "list.xlsx").exists()
    r = cx("survival", "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "churn" and ids(out) == SURVIVAL and out["meta"]["survival"]["unit"] == "month"
    assert {row["group"] for row in block(out, "churn-survival-table")["rows"]} == \
        {"leisure", "business", "corporate", "student", "pilot"}
    assert block(out, "churn-cox")["rows"] and block(out, "churn-survival")["data"]["marks"] == [12, 24]
    # the step's warning went through the run log onto the view
    assert {"category": "SmallSampleWarning", "message": "group 'pilot' has only 10 customers: its curve is imprecise"} \
        in block(out, "churn-survival")["warnings"]
    con = connect(store, read_only=True)
    log = con.table("run_log").to_pandas()
    assert list(log.step) == ["churn prediction", "retention", "survival"] and set(log.status) == {"ok"}
    assert con.table("churn_survival_summary").count().execute() == 5
    con.disconnect()
    # options that are not settings: an ad-hoc analysis, shown but not written
    r = cx("survival", "--store", store, "--by", "vip", "--times", "12", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert ids(out) == ["churn-adhoc"] + SURVIVAL and out["meta"]["adhoc"] is True
    assert {row["group"] for row in block(out, "churn-survival-table")["rows"]} == {"True", "False"}
    con = connect(store, read_only=True)
    assert con.table("churn_survival_summary").count().execute() == 5 and con.table("run_log").count().execute() == 3
    con.disconnect()
    # the terminal shows the same view
    r = cx("retention", "--store", store, "--top", "3", "--lang", "zh")
    assert r.returncode == 0, r.stderr
    assert "风险价值" in r.stdout and "挽留名单（按风险价值前 3 位）" in r.stdout and "客户经理" in r.stdout


def test_the_report_renders_the_churn_view(store, tmp_path):
    r = cx("report", "--store", store, "--out", tmp_path / "r.html", "--json", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    views = {v["id"]: v for v in json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["views"]}
    assert "churn" in views, (list(views), r.stdout, r.stderr)
    churn = views["churn"]
    assert ids(churn)[:len(PREDICTION_STORE) - 1] == PREDICTION_STORE[:-1]   # no top-risk list in the report
    for id in ids(churn):
        assert f'id="{id}"' in html, id
    assert {"churn-survival", "value-at-risk", "owner-risk"} <= set(ids(churn))
    assert html.count('<div class="block"') >= len(ids(churn)) and "<svg" in html


def test_retention_on_a_file_of_scores(tmp_path):
    f = tmp_path / "scores.csv"
    rows = ["customerID,p_churn,clv,main_reason,owner"]
    rows += [f"c{i},{(i % 10) / 10 + 0.05:.2f},{100 * (i + 1)},{'complaint' if i % 4 == 0 else 'price'},"
             f"{'S1' if i < 30 else 'S2'}" for i in range(40)]
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = cx("retention", f, "--top", "4", "--follow-probability", "0.5", "--json", "--out", tmp_path / "list.csv")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "churn" and ids(out) == RETENTION and out["meta"]["source"] == "scores.csv"
    k = kpis(out, "value-at-risk")
    want = sum(((i % 10) / 10 + 0.05) * 100 * (i + 1) for i in range(40))
    assert k["listed"] == 40 and k["value_at_risk"] == pytest.approx(want, rel=1e-6) and k["value_source"] == "predicted CLV"
    assert out["meta"]["retention"] == {"customers": 40, "value_at_risk": k["value_at_risk"], "value_source": "clv"}
    rl = block(out, "retention-list")["rows"]
    assert [x["rank"] for x in rl] == [1, 2, 3, 4] and rl[0]["customer_id"] == "c39"
    assert rl[0]["action"] == "churn_act_tailored_pricing" and rl[0]["value_tier"] == "high"
    own = {o["owner"]: o for o in block(out, "owner-risk")["rows"]}
    assert own["S1"]["customers"] == 30 and own["S1"]["value_at_risk_if_leaves"] == pytest.approx(0.5 * 100 * 465)
    assert kpis(out, "owner-concentration")["follow_probability"] == 0.5
    assert (tmp_path / "list.csv").exists()
