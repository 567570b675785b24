"""CLI: `cxvalue lifecycle` on a transactions file and on a store; --json is the lifecycle view's JSON."""
from __future__ import annotations

import json

from cli_runner import cx

BLOCKS = ["lifecycle-kpis", "lifecycle-intro", "lifecycle-flow", "lifecycle-transitions",
          "lifecycle-characteristics", "lifecycle-patterns", "lifecycle-patterns-table"]


def block(view: dict, id: str) -> dict:
    return next(b for b in view["blocks"] if b["id"] == id)


def test_lifecycle_on_a_file_and_on_a_store(tmp_path):
    rows = ["customer_id,date,amount,cost"]
    rows += [f"steady,{2022 + i // 12}-{i % 12 + 1:02d}-10,100,60" for i in range(36)]
    rows += [f"quitter,2022-{m:02d}-05,80,50" for m in range(1, 13)]
    rows += ["tryout,2022-02-01,50,40", "tryout,2022-03-01,40,30"]
    f = tmp_path / "tx.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = cx("lifecycle", f, "--end-rule", "inactivity", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "lifecycle" and [b["id"] for b in out["blocks"]] == BLOCKS
    m = out["meta"]
    assert m["customers"] == 3 and m["as_of"] == "2024-12-10" == out["as_of"] and m["rules"]["end_rule"] == "inactivity"
    assert m["rules"]["inactive_days"] == 365 and m["rules"]["period"] == "month"
    assert m["current_stage"] == {"exploration": 0, "formation": 0, "stability": 1, "decline": 0} and m["ended"] == 2
    kpis = {k["key"]: k["value"] for k in block(out, "lifecycle-kpis")["items"]}
    assert kpis["customers"] == 3 and kpis["current_stability"] == 1 and kpis["ended"] == 2
    pats = {p["pattern"]: p["customers"] for p in block(out, "lifecycle-patterns-table")["rows"]}
    assert pats == {"early_abort": 1, "early_exit": 1, "long_term": 1}
    chart = block(out, "lifecycle-patterns")
    assert chart["chart"] == "bar" and chart["data"]["values"] == [1 / 3] * 3
    ch = block(out, "lifecycle-characteristics")["rows"]
    assert [c["stage"] for c in ch] == ["exploration", "formation", "stability", "decline"]
    assert ch[0]["customers"] == 3 and ch[0]["seed_volume"] == "small" and isinstance(ch[0]["amount_per_purchase"], float)
    tr = {row["from_stage"]: row for row in block(out, "lifecycle-transitions")["rows"]}
    assert abs(sum(tr["stability"][s] for s in ("exploration", "formation", "stability", "decline", "ended")) - 1) < 1e-9
    assert tr["decline"]["ended"] == 1.0
    flow = block(out, "lifecycle-flow")
    assert flow["chart"] == "stacked_area" and flow["data"]["x"][0] == "2022-01" and len(flow["data"]["x"]) == 36
    # rules from a YAML file, under the options
    rules = tmp_path / "rules.yaml"
    rules.write_text("period: quarter\ninactive_days: 200\n", encoding="utf-8")
    r = cx("lifecycle", f, "--rules", rules, "--inactive-days", "300", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["meta"]["rules"]
    assert (got["period"], got["inactive_days"], got["end_rule"]) == ("quarter", 300, "p_alive")
    # the terminal: the same view as tables
    r = cx("lifecycle", f, "--end-rule", "inactivity", "--lang", "zh")
    assert r.returncode == 0, r.stderr
    assert "关系生命周期" in r.stdout and "长久保持" in r.stdout and "考察期" in r.stdout
    # on a store: the step writes the lifecycle tables and logs its run
    store = tmp_path / "s.duckdb"
    assert cx("load", "transactions", f, "--store", store).returncode == 0
    r = cx("lifecycle", "--store", store, "--period", "quarter", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "lifecycle" and [b["id"] for b in out["blocks"]] == BLOCKS
    assert out["meta"]["rules"]["period"] == "quarter" and out["meta"]["customers"] == 3
    assert block(out, "lifecycle-flow")["data"]["x"][0] == "2022Q1"
    from cxvalue.store import connect
    con = connect(store, read_only=True)
    assert {"lifecycle", "lifecycle_periods", "lifecycle_transitions", "lifecycle_characteristics",
            "lifecycle_patterns", "lifecycle_flow", "lifecycle_summary", "run_log"} <= set(con.list_tables())
    assert con.table("lifecycle").count().execute() == 3
    log = con.table("run_log").to_pandas()
    assert list(log.step) == ["lifecycle"] and list(log.status) == ["ok"]
    con.disconnect()
    r = cx("lifecycle", "--store", store, "--period", "week")
    assert r.returncode == 1 and r.stderr.strip() == ("error: period='week' is not valid: expected one of 'month', "
                                                      "'quarter'")
