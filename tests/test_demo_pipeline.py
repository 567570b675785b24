"""`cxvalue demo`: generate, load, run every step and report, end to end (small size, in-process),
then `cxvalue report --json`: every view and block of the JSON is in both HTML reports."""
from __future__ import annotations

import json

from cli_runner import cx

VIEWS = ("overview", "value", "voice", "text", "perception", "loyalty", "churn", "journeys", "lifecycle", "strategy",
         "loop")
VALUE_BLOCKS = ("customer-value", "value-note", "clv-distribution", "clv-parameters", "clv-fit", "clv-tracking",
                "clv-holdout", "value-matrix-grid", "value-matrix", "value-multiplication", "value-multiplication-table")


def test_demo_end_to_end(demo_run, tmp_path):
    """The session's `cxvalue demo` run (tests/conftest.py; the web tests add accounts to its store)."""
    store, r = demo_run["store"], demo_run["result"]
    assert "report.html" in r.stdout.replace("\n", "")
    assert "skipped" not in r.stdout  # the demo company has every table: no step is skipped
    en = demo_run["report"].read_text(encoding="utf-8")
    zh = demo_run["report"].with_suffix(".zh.html").read_text(encoding="utf-8")
    r = cx("report", "--store", store, "--out", tmp_path / "again.html", "--json", tmp_path / "views.json")
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "views.json").read_text(encoding="utf-8"))
    assert doc["as_of"] == "2025-12-31" and doc["as_of_source"] == "store"
    views = {v["id"]: v for v in doc["views"]}
    assert tuple(views) == VIEWS
    for v in views.values():
        assert v["blocks"], v["id"]
        assert v["skipped"] == [], (v["id"], v["skipped"])
        assert f'id="{v["id"]}"' in en and f'id="{v["id"]}"' in zh
        for b in v["blocks"]:
            assert f'id="{b["id"]}"' in en and f'id="{b["id"]}"' in zh, (v["id"], b["id"])
    ids = [b["id"] for v in views.values() for b in v["blocks"]]
    assert len(ids) == len(set(ids)), "block ids are unique in the report"
    assert tuple(b["id"] for b in views["value"]["blocks"]) == VALUE_BLOCKS
    # the closed loop: the simulated cases (not kept: --keep-cases was not given) measured against the hold-out,
    # the demo's initiative re-measured
    import ibis
    con = ibis.duckdb.connect(str(store), read_only=True)
    c = con.table("cases")
    assert c.filter(c.case_id.startswith("KS") & (c.rule == "detractor")).count().execute() > 100
    # the planted Kano categories are recovered, each significantly ahead of the runner-up
    from cxvalue.datasets.demo import GROUND_TRUTH
    k = con.table("kano_features").to_pandas().set_index("feature")
    assert k["category"].to_dict() == GROUND_TRUTH["kano"]["features"] and k["significant"].all()
    # the retention campaign: the planted average effect inside the measured interval; the retention
    # list ranked by the offer's expected value saved (uplift x value - offer cost)
    from cxvalue.datasets.demo import campaign_uplift, generate
    truth = generate(demo_run["customers"], seed=3, truth=True)["truth"].set_index("customer_id")
    camp = con.table("campaigns").to_pandas().merge(con.table("customers").to_pandas()[["customer_id", "segment"]])
    planted = campaign_uplift(truth.loc[camp.customer_id, "satisfaction_class"], camp.segment).mean()
    m = dict(con.table("uplift_summary").to_pandas().values)
    assert float(m["ate_ci_low"]) < planted < float(m["ate_ci_high"])
    assert con.table("uplift_scores").count().execute() == con.table("customers").count().execute()
    rl = con.table("retention_list").to_pandas().sort_values("rank")
    assert rl.expected_saved.is_monotonic_decreasing and {"uplift", "uplift_segment"} <= set(rl.columns)
    cost = GROUND_TRUTH["campaign"]["offer_cost"]
    assert (rl.expected_saved - (rl.uplift * rl.value - cost)).abs().max() < 1e-6
    # the planted payment outage on the app: the most severe alert of the journeys, on its days
    import pandas as pd
    br = GROUND_TRUTH["journeys"]["broken"]
    start = pd.Timestamp("2025-12-31") + pd.Timedelta(days=1 - br["days_before_end"])
    alerts = con.table("journey_alerts").to_pandas()
    top = alerts.iloc[alerts.max_abs_z.argmax()]
    assert (top.channel, top.from_step, top.direction) == (br["channel"], br["step"], "below")
    assert top.first_day <= start + pd.Timedelta(days=3) and top.last_day >= start + pd.Timedelta(days=br["days"] - 4)
    con.disconnect()
    loop = {b["id"]: b for b in views["loop"]["blocks"]}
    assert {"outcomes-detractor", "outcomes-detractor-table", "loop-initiatives", "case-kpis-teams"} <= set(loop)
    [ini] = loop["loop-initiatives"]["rows"]      # (2,000 customers: too few to pin the planted +0.5 down;
    low, high = (float(x) for x in ini["ci"].strip("[]").split(","))   # tests/loop/test_initiatives.py does)
    assert low < ini["effect"] < high and ini["kpi"] == "Convenience: Experience" and ini["status"] == "active"
    kpis = {k["key"]: k["value"] for k in views["value"]["blocks"][0]["items"]}
    assert kpis["customers"] == demo_run["customers"] and isinstance(kpis["total_clv"], float) and 0 < kpis["mean_p_alive"] < 1
    assert "客户价值矩阵" in zh and "Value matrix" in en and "分析日期 2025-12-31" in zh
    assert "<script src" not in en and "https://" not in en
