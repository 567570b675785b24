"""Cases of the closed loop: the state machine (every action from every status, the illegal ones
refused with a clear error), comments and root causes required, optimistic version check,
atomic writes under an injected failure, the ledgers never rewritten, and the CLI."""
from __future__ import annotations

import json

import ibis
import pandas as pd
import pytest

from cli_runner import cx

from cxvalue.loop import cases as K
from cxvalue.loop.cases import TRANSITIONS, CaseConflict, CaseError, change, current_cases, get_case, open_case
from cxvalue.loop.taxonomy import load_taxonomy, root_cause_codes

#: the expected table, written out: (status, action) → new status, or None when refused
EXPECTED = {
    ("open", "start"): "in_progress", ("open", "escalate"): "escalated", ("open", "resolve"): "resolved",
    ("open", "assign"): "open", ("open", "note"): "open",
    ("in_progress", "escalate"): "escalated", ("in_progress", "resolve"): "resolved",
    ("in_progress", "assign"): "in_progress", ("in_progress", "note"): "in_progress",
    ("escalated", "start"): "in_progress", ("escalated", "resolve"): "resolved",
    ("escalated", "assign"): "escalated", ("escalated", "note"): "escalated",
    ("resolved", "close"): "closed", ("resolved", "reopen"): "open", ("resolved", "assign"): "resolved",
    ("resolved", "note"): "resolved",
    ("closed", "reopen"): "open", ("closed", "note"): "closed",
}
#: how to bring a fresh case to each status
PATH = {"open": [], "in_progress": ["start"], "escalated": ["escalate"], "resolved": ["resolve"],
        "closed": ["resolve", "close"]}


def _do(con, case, action, **kw):
    extra = {"root_cause": "delay"} if action == "resolve" else {}
    extra.update({"owner": "li"} if action == "assign" else {})
    extra.update(kw)
    return change(con, case.case_id, action, by="tester", version=case.version, comment=f"{action} it", **extra)


@pytest.fixture()
def con():
    c = ibis.duckdb.connect()
    yield c
    c.disconnect()


@pytest.mark.parametrize("status", K.STATUSES)
@pytest.mark.parametrize("action", K.ACTIONS)
def test_every_transition(con, status, action):
    case = open_case(con, "C1", source="manual", by="tester")
    for step in PATH[status]:
        case = _do(con, case, step)
    assert case.status == status
    want = EXPECTED.get((status, action))
    if want is None:
        with pytest.raises(CaseError, match=f"is {status}: it cannot {action}; allowed: "):
            _do(con, case, action)
        assert get_case(con, case.case_id).version == case.version  # nothing written
    else:
        after = _do(con, case, action)
        assert after.status == want and after.version == case.version + 1
        assert set(case.allowed()) == {a for (s, a) in EXPECTED if s == status}


def test_the_table_in_the_code_is_the_documented_one():
    got = {(s, a): (to or s) for a, (src, to) in TRANSITIONS.items() for s in src}
    assert got == EXPECTED


def test_comment_root_cause_and_assignee_are_required(con):
    case = open_case(con, "C1", source="survey", by="rule:detractor", priority="high", team="cx")
    with pytest.raises(CaseError, match="a comment is required"):
        change(con, case.case_id, "start", by="li", version=1, comment="  ")
    with pytest.raises(CaseError, match="a root cause is required, one of staff_attitude"):
        change(con, case.case_id, "resolve", by="li", version=1, comment="done")
    with pytest.raises(CaseError, match="not in the taxonomy"):
        change(con, case.case_id, "resolve", by="li", version=1, comment="done", root_cause="bad_luck")
    with pytest.raises(CaseError, match="name the new owner or team"):
        change(con, case.case_id, "assign", by="li", version=1, comment="yours")
    with pytest.raises(CaseError, match="action 'fly' is not known"):
        change(con, case.case_id, "fly", by="li", version=1, comment="x")
    with pytest.raises(CaseError, match="source 'phone' is not valid"):
        open_case(con, "C1", source="phone", by="x")
    with pytest.raises(CaseError, match="does not exist"):
        get_case(con, "K404")


def test_two_users_on_the_same_version_conflict_instead_of_losing_an_update(con):
    case = open_case(con, "C1", source="complaint", by="rule", team="service")
    a = change(con, case.case_id, "assign", by="mgr", version=case.version, comment="to li", owner="li")
    with pytest.raises(CaseConflict, match="changed since you opened it"):
        change(con, case.case_id, "assign", by="other", version=case.version, comment="to wang", owner="wang")
    now = get_case(con, case.case_id)
    assert now.owner == "li" and now.version == a.version == 2


def test_state_is_the_fold_of_the_events_and_nothing_is_rewritten(con):
    case = open_case(con, "C1", source="survey", by="rule", team="cx", owner="li")
    case = _do(con, case, "start")
    case = _do(con, case, "assign", owner="wang", team="vip")
    case = _do(con, case, "resolve", root_cause="staff_attitude", corrective_action="retrained the desk")
    case = _do(con, case, "reopen")
    assert (case.status, case.owner, case.team, case.root_cause) == ("open", "wang", "vip", "staff_attitude")
    ev = con.table("case_events").order_by("seq").to_pandas()
    assert ev.seq.tolist() == [1, 2, 3, 4, 5]
    assert ev.action.tolist() == ["open", "start", "assign", "resolve", "reopen"]
    assert ev.from_status.tolist()[1:] == ["open", "in_progress", "in_progress", "resolved"]
    cur = current_cases(con).to_pandas().iloc[0]
    assert (cur.status, cur.owner, cur.team_now, cur.root_cause, cur.version) == ("open", "wang", "vip",
                                                                                "staff_attitude", 5)


def test_opening_is_atomic_under_an_injected_failure(con, monkeypatch):
    open_case(con, "C0", source="manual", by="x")
    real = K.append_ledgers.__globals__["append_ledger"]
    calls = {"n": 0}

    def failing(con_, name, frame, **kw):
        calls["n"] += 1
        if name == "case_events":
            raise RuntimeError("disk full (injected)")
        return real(con_, name, frame, **kw)
    monkeypatch.setitem(K.append_ledgers.__globals__, "append_ledger", failing)
    with pytest.raises(RuntimeError, match="injected"):
        open_case(con, "C1", source="manual", by="x")
    monkeypatch.undo()
    assert calls["n"] == 2
    cases = con.table("cases").to_pandas()
    assert cases.customer_id.tolist() == ["C0"]          # the half-written case was rolled back
    assert con.table("case_events").count().execute() == 1


def test_taxonomy_default_and_file(tmp_path):
    codes = root_cause_codes()
    assert codes[:3] == ["staff_attitude", "product", "price"] and "delay" in codes
    tx = load_taxonomy()
    assert tx[0]["zh"] == "员工态度" and tx[0]["en"] == "Staff attitude"
    p = tmp_path / "rc.yaml"
    p.write_text("- {code: seat, en: Seat comfort, zh: 座椅舒适度}\n- {code: food, en: Catering, zh: 餐食}\n",
                 encoding="utf-8")
    assert root_cause_codes(p) == ["seat", "food"]
    p.write_text("- {code: seat, en: Seat}\n", encoding="utf-8")
    with pytest.raises(Exception, match="entry 1: expected code, en and zh"):
        load_taxonomy(p)


def test_cli_cases_and_the_ledger_survives_a_run(tmp_path):
    store = tmp_path / "s.duckdb"
    tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "date": ["2025-01-01", "2025-03-01", "2025-02-01"],
                       "amount": [10.0, 20.0, 5.0]})
    tx.to_csv(tmp_path / "t.csv", index=False)
    assert cx("load", "transactions", tmp_path / "t.csv", "--store", store).returncode == 0
    r = cx("cases", "open", "a", "--priority", "high", "-m", "called", "--by", "ann", "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    case = json.loads(r.stdout)["meta"]["case"]
    cid = case["case_id"]
    r = cx("cases", "update", cid, "resolve", "-m", "fixed", "--store", store)
    assert r.returncode == 1 and "a root cause is required" in r.stderr
    r = cx("cases", "assign", cid, "--owner", "li", "-m", "yours", "--version", "1", "--store", store, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["meta"]["case"]["owner"] == "li"
    r = cx("cases", "update", cid, "start", "-m", "on it", "--version", "1", "--store", store)
    assert r.returncode == 1 and "changed since you opened it" in r.stderr
    assert cx("cases", "update", cid, "resolve", "-m", "ok", "--root-cause", "price", "--store", store).returncode == 0
    assert cx("run", "--store", store).returncode == 0           # a run rewrites snapshots, never the ledgers
    assert json.loads(cx("cases", "list", "--store", store, "--json").stdout)["meta"]["total"] == 0   # none to work
    r = cx("cases", "list", "--status", "all", "--store", store, "--json")
    view = json.loads(r.stdout)
    assert view["meta"]["total"] == 1 and view["blocks"][1]["rows"][0]["case_id"] == cid
    r = cx("cases", "show", cid, "--store", store, "--json", "--lang", "zh")
    hist = json.loads(r.stdout)["blocks"][1]["rows"]
    assert [h["action"] for h in hist] == ["创建", "分配", "解决"]
    assert "已解决" in r.stdout


def test_demo_keep_cases_keeps_the_ledger(tmp_path):
    from cxvalue.loop.cases import export_loop, restore_loop
    store, data, rep = tmp_path / "d.duckdb", tmp_path / "data", tmp_path / "r.html"
    con = ibis.duckdb.connect(str(store))
    kept = open_case(con, "C0000001", source="manual", by="ann", team="cx")
    change(con, kept.case_id, "note", by="ann", version=1, comment="called the customer")
    from cxvalue.loop.initiatives import create_initiative, get_initiative
    con.create_table("responses", pd.DataFrame({"response_id": ["r1"], "customer_id": ["C0000001"], "nps": [3],
                                                "date": pd.to_datetime(["2025-06-01"])}))
    ini = create_initiative(con, title="Fewer delays", origin="root_cause:delay", owner="ann", start_date="2025-07-01",
                            by="ann")
    frames = export_loop(con)
    with pytest.raises(CaseError, match="has closed-loop tables already"):
        restore_loop(con, frames)
    con.disconnect()
    r = cx("demo", "--customers", "300", "--seed", "2", "--data", data, "--store", store, "--report", rep, "--keep-cases")
    assert r.returncode == 0, r.stderr
    con = ibis.duckdb.connect(str(store))
    assert get_case(con, kept.case_id).version == 2               # the case and its note survived the rebuild
    assert get_initiative(con, ini.initiative_id).title == "Fewer delays"       # ... and the initiative
    assert not con.table("cases").filter(lambda t: t.case_id.startswith("KS")).count().execute()  # no simulated history
    assert con.table("cases").count().execute() > 1               # ... beside the cases the rules opened
    assert "customer_directory" in con.list_tables()              # the rest of the store is rebuilt
    con.disconnect()
