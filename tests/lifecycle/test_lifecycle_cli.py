"""CLI: `cxvalue lifecycle` with --json on a transactions file and on a store."""
from __future__ import annotations

from cli_runner import cx

import json




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
    assert out["customers"] == 3 and out["as_of"] == "2024-12-10" and out["rules"]["end_rule"] == "inactivity"
    pats = {p["pattern"]: p["customers"] for p in out["patterns"]}
    assert pats == {"early_abort": 1, "early_exit": 1, "long_term": 1}
    assert [c["stage"] for c in out["characteristics"]] == ["exploration", "formation", "stability", "decline"]
    assert abs(sum(out["transitions"]["stability"].values()) - 1) < 1e-9
    # on a store: the lifecycle tables are written
    store = tmp_path / "s.duckdb"
    assert cx("load", "transactions", f, "--store", store).returncode == 0
    r = cx("lifecycle", "--store", store, "--period", "quarter", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rules"]["period"] == "quarter"
    from cxvalue.store import connect
    con = connect(store, read_only=True)
    assert {"lifecycle", "lifecycle_periods", "lifecycle_transitions", "lifecycle_characteristics",
            "lifecycle_patterns", "lifecycle_flow"} <= set(con.list_tables())
    assert con.table("lifecycle").count().execute() == 3
    con.disconnect()
    r = cx("lifecycle", "--store", store, "--period", "week")
    assert r.returncode == 1 and r.stderr.strip() == ("error: period='week' is not valid: expected one of 'month', "
                                                      "'quarter'")
