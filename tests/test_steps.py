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
