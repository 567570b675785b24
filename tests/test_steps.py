"""Declared steps (ordering, skips with reasons, warnings recorded, --only with upstream) and the
result-table registry (snapshots rewritten, ledgers only appended)."""
from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from cxvalue.errors import CxValueError, SmallSampleWarning, StoreError
from cxvalue.interfaces.session import open_session
from cxvalue.steps import Step, StepResult, StepSkipped, import_steps, ordered, run_steps
from cxvalue.store import append_ledger, connect, declare, drop_result, write_result

declare("test_a", key=("k",), columns=("v",))
declare("test_b", columns=("v",))
declare("test_ledger", kind="ledger", key=("k",))


def _session(con):
    return open_session(con=con)


def _steps(calls):
    def a(session):
        calls.append("a")
        warnings.warn("only 3 rows", SmallSampleWarning, stacklevel=2)
        return StepResult({"test_a": pd.DataFrame({"k": [1, 2, 3], "v": [1.0, 2.0, 3.0]})}, {"rows": 3})

    def b(session):
        calls.append("b")
        a_ = session.con.table("test_a").to_pandas()
        return StepResult({"test_b": pd.DataFrame({"v": [a_.v.sum()]})})

    def c(session):
        calls.append("c")
        raise StepSkipped("responses has no nps column")

    # declared out of order: b needs a's table, so a runs first
    return {"b": Step("b", b, needs=("test_a",), writes=("test_b",), domain="t"),
            "a": Step("a", a, needs=(("transactions", "subscriptions"),), writes=("test_a",), domain="t"),
            "c": Step("c", c, needs=("responses",), domain="t")}


def test_run_orders_by_dependencies_skips_with_reasons_and_logs():
    con = connect("duckdb://")
    calls = []
    steps = _steps(calls)
    assert [s.name for s in ordered(steps)] == ["a", "b", "c"]
    s = _session(con)
    out = {o.step: o for o in run_steps(s, steps=steps)}
    # no transactions or subscriptions yet: a is skipped, so b has no input either; c's table is missing
    assert out["a"].status == "skipped" and out["a"].reason.startswith(
        "needs table transactions or subscriptions: load it with `cxvalue load transactions FILE`")
    assert out["b"].status == "skipped" and "written by step 'a'" in out["b"].reason
    assert out["c"].reason == "needs table responses: load it with `cxvalue load responses FILE`"
    assert calls == []
    con.create_table("transactions", pd.DataFrame({"customer_id": ["x"], "date": [pd.Timestamp("2025-03-01")],
                                                   "amount": [1.0]}))
    con.create_table("responses", pd.DataFrame({"customer_id": ["x"], "date": [pd.Timestamp("2025-04-02")]}))
    s.refresh()
    assert str(s.as_of) == "2025-04-02"  # the last activity date over the activity tables
    out = {o.step: o for o in run_steps(s, steps=steps)}
    assert calls == ["a", "b", "c"]
    assert out["a"].status == "ok" and out["a"].tables == {"test_a": 3} and out["a"].summary == {"rows": 3}
    assert out["a"].warnings == [{"category": "SmallSampleWarning", "message": "only 3 rows"}]
    assert out["b"].tables == {"test_b": 1} and con.table("test_b").to_pandas().v.iloc[0] == 6.0
    assert out["c"].status == "skipped" and out["c"].reason == "responses has no nps column"
    log = con.table("run_log").to_pandas()
    assert log.run_id.nunique() == 2 and len(log) == 6
    last = log[log.run_id == log.sort_values("at").run_id.iloc[-1]].set_index("step")
    assert json.loads(last.loc["a", "warnings"])[0]["category"] == "SmallSampleWarning"
    assert set(last.as_of) == {"2025-04-02"}
    assert s.refresh().outcomes()["c"]["reason"] == "responses has no nps column"


def test_only_adds_the_upstream_steps_whose_tables_are_missing():
    con = connect("duckdb://")
    con.create_table("transactions", pd.DataFrame({"customer_id": ["x"], "date": [pd.Timestamp("2025-03-01")],
                                                   "amount": [1.0]}))
    calls = []
    steps = _steps(calls)
    s = _session(con)
    assert [o.step for o in run_steps(s, only=["b"], steps=steps)] == ["a", "b"]
    calls.clear()
    assert [o.step for o in run_steps(s, only=["b"], steps=steps)] == ["b"]  # test_a is in the store now
    with pytest.raises(CxValueError, match="unknown step 'z': expected one of a, b, c"):
        run_steps(s, only=["z"], steps=steps)


def test_cycles_are_errors():
    f = lambda s: None  # noqa: E731
    steps = {"x": Step("x", f, needs=("test_b",), writes=("test_a",)),
             "y": Step("y", f, needs=("test_a",), writes=("test_b",))}
    with pytest.raises(CxValueError, match="the steps x, y depend on each other in a cycle"):
        ordered(steps)


def test_snapshots_are_rewritten_and_ledgers_only_appended():
    con = connect("duckdb://")
    write_result(con, "test_a", pd.DataFrame({"k": [1], "v": [1.0]}))
    write_result(con, "test_a", pd.DataFrame({"k": [2, 3], "v": [2.0, 3.0]}))
    assert con.table("test_a").count().execute() == 2
    with pytest.raises(StoreError, match="lacks declared column\\(s\\) v"):
        write_result(con, "test_a", pd.DataFrame({"k": [1]}))
    with pytest.raises(StoreError, match="'not_declared' is not a declared result table"):
        write_result(con, "not_declared", pd.DataFrame({"k": [1]}))
    append_ledger(con, "test_ledger", pd.DataFrame({"k": [1]}))
    append_ledger(con, "test_ledger", pd.DataFrame({"k": [2]}))
    assert sorted(con.table("test_ledger").to_pandas().k) == [1, 2]
    with pytest.raises(StoreError, match="'test_ledger' is a ledger: it is appended to"):
        write_result(con, "test_ledger", pd.DataFrame({"k": [3]}))
    with pytest.raises(StoreError, match="never dropped"):
        drop_result(con, "test_ledger")
    with pytest.raises(StoreError, match="not a ledger"):
        append_ledger(con, "test_a", pd.DataFrame({"k": [1], "v": [1.0]}))
    with pytest.raises(ValueError, match="data-contract table"):
        declare("transactions")
    with pytest.raises(ValueError, match="declared twice, differently"):
        declare("test_a", key=("other",))


def test_every_step_writes_only_declared_tables_and_the_run_log_is_a_ledger():
    from cxvalue.store import RESULTS
    steps = import_steps()
    assert {"customer value", "nps", "drivers", "cem", "csi", "experience value", "loyalty", "churn prediction",
            "survival", "churn reasons", "retention", "lifecycle"} <= set(steps)
    for s in steps.values():
        assert s.writes and all(t in RESULTS for t in s.writes), s.name
    assert RESULTS["run_log"].kind == "ledger"
    order = [s.name for s in ordered()]
    assert order.index("customer value") < order.index("nps") < order.index("experience value")
    assert order.index("churn prediction") < order.index("retention")


def test_an_incremental_run_reruns_only_the_steps_whose_inputs_changed(tmp_path):
    """A second run with nothing new runs nothing (the outcomes are carried over, warnings too); a
    new load re-runs the steps that read it and those downstream; a changed setting re-runs all;
    a step declared ``always`` runs every time."""
    from cxvalue.io.load import load_file
    con = connect("duckdb://")
    calls = []
    steps = _steps(calls)
    steps["d"] = Step("d", lambda s: calls.append("d") or StepResult(), needs=("test_b",), domain="t", always=True)
    tx = tmp_path / "tx.csv"
    tx.write_text("customer_id,date,amount\nx,2025-03-01,1\ny,2025-03-02,2\n", encoding="utf-8")
    load_file(con, "transactions", tx)
    first = {o.step: o for o in run_steps(_session(con), steps=steps, incremental=True)}
    assert calls == ["a", "b", "d"] and not any(o.unchanged for o in first.values())
    calls.clear()
    again = {o.step: o for o in run_steps(_session(con), steps=steps, incremental=True)}
    assert calls == ["d"] and again["a"].unchanged and again["b"].unchanged and again["a"].status == "ok"
    assert again["a"].warnings == first["a"].warnings and again["a"].tables == {"test_a": 3}
    calls.clear()
    run_steps(_session(con), steps=steps)                       # not incremental: everything runs
    assert calls == ["a", "b", "d"]
    calls.clear()
    tx2 = tmp_path / "tx2.csv"
    tx2.write_text("customer_id,date,amount\nz,2025-03-03,5\n", encoding="utf-8")
    load_file(con, "transactions", tx2)                         # new data: a and what follows run again
    run_steps(_session(con), steps=steps, incremental=True)
    assert calls == ["a", "b", "d"]
    calls.clear()
    s = open_session(con=con, as_of="2025-03-02")                 # another as-of date: every step
    run_steps(s, steps=steps, incremental=True)
    assert calls == ["a", "b", "d"]
    run_steps(_session(con), steps=steps, incremental=True)      # back to the store's as-of date
    calls.clear()
    drop_result(con, "test_b")                                  # a result table gone: its step runs again
    run_steps(_session(con), steps=steps, incremental=True)
    assert calls == ["b", "d"]
    log = con.table("run_inputs").to_pandas()
    assert set(log.step) == {"a", "b", "d"} and log.fingerprint.str.len().eq(20).all()


def test_an_edit_outside_a_load_reruns_the_steps_that_read_the_table(tmp_path):
    from cxvalue.io.load import load_file
    con = connect("duckdb://")
    calls = []
    steps = _steps(calls)
    tx = tmp_path / "tx.csv"
    tx.write_text("customer_id,date,amount\nx,2025-03-01,1\ny,2025-03-02,2\n", encoding="utf-8")
    load_file(con, "transactions", tx)
    run_steps(_session(con), steps=steps, incremental=True)
    calls.clear()
    con.raw_sql("UPDATE transactions SET amount = 9 WHERE customer_id = 'y'")   # same rows, new content
    run_steps(_session(con), steps=steps, incremental=True)
    assert calls == ["a", "b"]
