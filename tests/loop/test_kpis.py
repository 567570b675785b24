"""Closed-loop KPIs on a ledger with known times: first response, resolution, SLA attainment,
reopen rate per team and owner, the root-cause Pareto, cases per 1,000 customers by touchpoint;
hold-out cases left out."""
from __future__ import annotations

import datetime as dt
import json

import ibis
import pandas as pd
import pytest

from cxvalue.loop.cases import change, open_case
from cxvalue.loop.kpis import closed_loop_kpis

T0 = dt.datetime(2025, 6, 1, 9, 0)
H = dt.timedelta(hours=1)


@pytest.fixture()
def con():
    c = ibis.duckdb.connect()
    c.create_table("responses", pd.DataFrame({"response_id": ["r1", "r2", "r3", "r4"], "customer_id": ["a", "b", "c", "d"],
                                              "touchpoint": ["app", "app", "desk", "desk"],
                                              "date": pd.to_datetime(["2025-06-01"] * 4)}))
    yield c
    c.disconnect()


def _case(con, cust, sid, due_h, team="cx", holdout=False):
    return open_case(con, cust, source="survey", source_id=sid, by="rule:detractor", rule="detractor", team=team,
                     sla_due=T0 + due_h * H, holdout=holdout, at=T0)


def test_kpis_on_known_times(con):
    a = _case(con, "a", "r1", 24)                       # assigned at 2 h (not a response), resolved at 10 h: in SLA
    a = change(con, a.case_id, "assign", by="mgr", version=1, comment="li", owner="li", at=T0 + 2 * H)
    a = change(con, a.case_id, "resolve", by="li", version=2, comment="ok", root_cause="delay", at=T0 + 10 * H)
    b = _case(con, "b", "r2", 24)                       # started at 4 h (in SLA), resolved at 30 h; then reopened
    b = change(con, b.case_id, "start", by="li", version=1, comment="on it", at=T0 + 4 * H)
    b = change(con, b.case_id, "assign", by="li", version=2, comment="mine", owner="li", at=T0 + 5 * H)
    b = change(con, b.case_id, "resolve", by="li", version=3, comment="ok", root_cause="delay", at=T0 + 30 * H)
    b = change(con, b.case_id, "reopen", by="li", version=4, comment="again", at=T0 + 40 * H)
    _case(con, "c", "r3", 24, team="desk")               # still open, past due at the clock: missed
    _case(con, "d", "r4", 24, team="desk", holdout=True)  # hold-out: not counted
    e = _case(con, "e", "r5", 24, team="desk")            # first response (a note) at 30 h: SLA missed
    change(con, e.case_id, "note", by="ann", version=1, comment="called, no answer", at=T0 + 30 * H)
    k = closed_loop_kpis(con, T0 + 48 * H)
    teams = k["teams"].set_index("team_now")
    cx = teams.loc["cx"]
    assert cx.cases == 2 and cx.open == 1                         # b was reopened
    assert cx.median_hours_to_first_response == pytest.approx(7.0)   # (10 + 4) / 2: the assignment is no response
    assert cx.median_hours_to_resolution == pytest.approx(20.0)      # (10 + 30) / 2
    assert cx.sla_attainment == pytest.approx(1.0) and cx.sla_counted == 2   # both responded within 24 h
    assert cx.reopen_rate == pytest.approx(0.5)
    desk = teams.loc["desk"]
    assert desk.cases == 2 and desk.sla_attainment == 0.0 and desk.sla_counted == 2
    assert desk.median_hours_to_first_response == pytest.approx(30.0)
    owners = k["owners"].set_index("owner")
    assert owners.loc["li"].cases == 2
    rc = k["root_causes"]
    assert rc.root_cause.tolist() == ["delay"] and rc.cases.tolist() == [2] and rc.cumulative_share.iloc[-1] == 1.0
    tp = k["touchpoints"].set_index("touchpoint")
    assert tp.loc["app"].cases_per_1000 == pytest.approx(1000.0) and tp.loc["desk"].cases == 1  # d is hold-out


def test_cli_kpis(tmp_path):
    from cli_runner import cx
    store = tmp_path / "s.duckdb"
    con = ibis.duckdb.connect(str(store))
    con.create_table("transactions", pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2025-06-01"]),
                                                   "amount": [1.0]}))
    case = open_case(con, "a", source="manual", by="ann", team="cx", sla_due=T0 + 24 * H, at=T0)
    change(con, case.case_id, "resolve", by="ann", version=1, comment="ok", root_cause="price", at=T0 + 5 * H)
    con.disconnect()
    r = cx("cases", "kpis", "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)
    ids = [b["id"] for b in v["blocks"]]
    assert ids[:2] == ["case-kpis-teams", "case-kpis-owners"] and "case-root-causes" in ids
    assert v["blocks"][0]["rows"][0]["sla_attainment"] == 1.0
