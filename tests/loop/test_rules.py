"""Case rules: the documented defaults open the cases the store calls for, route them, set the
SLA, draw the hold-out, and a repeated run opens nothing; bad rule files get clear errors."""
from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.loop.rules import DEFAULT_RULES, apply_rules, in_holdout, load_rules

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture()
def con():
    c = ibis.duckdb.connect()
    c.create_table("customers", pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "region": ["N", "S", "N", "S"]}))
    c.create_table("customer_value", pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                                                   "value_tier": ["platinum", "gold", "lead", "iron"]}))
    c.create_table("responses", pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4", "r5"], "customer_id": ["a", "b", "c", "d", "a"],
        "date": pd.to_datetime(["2025-06-20", "2025-06-21", "2025-06-22", "2025-01-05", "2025-06-25"]),
        "nps": [3, 6, 9, 0, 10], "satisfaction": [2.0, 5.0, 3.0, 1.0, 6.0], "touchpoint": ["app"] * 5}))
    c.create_table("complaints", pd.DataFrame({
        "complaint_id": ["k1", "k2", "k3"], "customer_id": ["b", "c", "d"],
        "opened": pd.to_datetime(["2025-06-01", "2025-06-28", "2025-05-01"]),
        "resolved": pd.to_datetime([None, None, "2025-05-03"])}))
    yield c
    c.disconnect()


def test_defaults_open_route_and_are_idempotent(con):
    opened = apply_rules(con, AS_OF, load_rules())
    # detractors in the last 30 days: r1 (a, 3), r2 (b, 6); r4 is older; low satisfaction: r1 (2), r3 (3)
    # unresolved complaints older than 7 days: k1 only (k2 is 2 days old, k3 resolved)
    assert opened == {"detractor": 2, "low_satisfaction": 2, "unresolved_complaint": 1, "value_at_risk": 0,
                      "escalated": opened["escalated"]}
    cases = con.table("cases").to_pandas().set_index(["rule", "source_id"])
    a = cases.loc[("detractor", "r1")]
    assert (a.customer_id, a.team, a.priority) == ("a", "vip", "urgent")          # platinum → routed
    assert a.sla_due == pd.Timestamp("2025-06-21")                                # 24 h after the answer
    b = cases.loc[("detractor", "r2")]
    assert (b.team, b.priority, b.sla_due) == ("cx", "high", pd.Timestamp("2025-06-23"))
    assert cases.loc[("unresolved_complaint", "k1")].team == "service"
    # the four survey cases are past their SLA at the end of 30 June (the complaint's runs from now): escalated
    # unless drawn into the hold-out
    holdout = int(con.table("cases").filter(lambda t: t.source == "survey").holdout.sum().execute())
    assert opened["escalated"] == 4 - holdout
    assert con.table("case_events").count().execute() == 5 + opened["escalated"]
    again = apply_rules(con, AS_OF, load_rules())
    assert sum(again.values()) == 0 and con.table("cases").count().execute() == 5


def test_overdue_cases_escalate_to_the_manager_once_and_never_the_holdout(con, tmp_path):
    from cxvalue.loop.cases import current_cases
    p = tmp_path / "rules.yaml"
    p.write_text("holdout_share: 0.0\nteams: {cx: {manager: wang}, vip: {manager: zhao}}\nrules:\n"
                 "  - {name: detractor, source: survey, when: {nps_max: 6}, team: cx, sla_hours: 48,\n"
                 "     route: [{value_tier: platinum, team: vip, sla_hours: 480}]}\n"
                 "  - {name: late, source: complaint, when: {unresolved_days: 7}, team: cx, sla_hours: 24, escalate: false}\n",
                 encoding="utf-8")
    rules = load_rules(p)
    out = apply_rules(con, AS_OF, rules)
    # at the end of 30 June: r2 (b, answered 21 June, due 23 June) is late; r1 (a, platinum, answered 20 June)
    # is routed to a 480 h SLA and not yet due; the complaint rule does not escalate
    assert out["detractor"] == 2 and out["escalated"] == 1
    cur = current_cases(con).to_pandas().set_index("source_id")
    assert (cur.loc["r2"].status, cur.loc["r2"].owner) == ("escalated", "wang")
    assert cur.loc["r1"].status == "open" and cur.loc["k1"].status == "open"
    assert apply_rules(con, AS_OF, rules)["escalated"] == 0            # once
    ev = con.table("case_events").to_pandas()
    esc = ev[ev.action == "escalate"]
    assert len(esc) == 1 and esc.by.iloc[0] == "rule:sla" and "SLA due 2025-06-23" in esc.comment.iloc[0]
    # a hold-out case is never worked, so never escalated
    from cxvalue.loop.cases import open_case
    h = open_case(con, "d", source="survey", by="rule:detractor", rule="detractor", team="cx",
                  sla_due=dt.datetime(2025, 6, 1), holdout=True)
    assert apply_rules(con, AS_OF, rules)["escalated"] == 0
    assert current_cases(con).to_pandas().set_index("case_id").loc[h.case_id].status == "open"


def test_holdout_is_about_the_share_and_stable():
    ids = [f"C{i:05d}" for i in range(20000)]
    share = sum(in_holdout("detractor", c, 0.10) for c in ids) / len(ids)
    assert 0.09 < share < 0.11
    assert [in_holdout("detractor", c, 0.1) for c in ids[:50]] == [in_holdout("detractor", c, 0.1) for c in ids[:50]]
    assert sum(in_holdout("detractor", c, 0.0) for c in ids) == 0


def test_rule_files_are_checked(tmp_path):
    p = tmp_path / "rules.yaml"
    p.write_text("rules:\n  - {name: d, source: survey, when: {nps_max: 6}}\n  - {name: d, source: survey, "
                 "when: {nps_max: 5}}\n", encoding="utf-8")
    with pytest.raises(CxValueError, match="rule 2: the name 'd' is used twice"):
        load_rules(p)
    p.write_text("rules:\n  - {name: d, source: survey, when: {unresolved_days: 3}}\n", encoding="utf-8")
    with pytest.raises(CxValueError, match=r"\(d\): 'when' takes nps_max, satisfaction_max, got unresolved_days"):
        load_rules(p)
    p.write_text("holdout_share: 1.5\nrules: []\n", encoding="utf-8")
    with pytest.raises(CxValueError, match="holdout_share must be in"):
        load_rules(p)
    p.write_text("rules:\n  - {name: d, source: sms, when: {x: 1}}\n", encoding="utf-8")
    with pytest.raises(CxValueError, match="source must be one of survey, complaint, churn_risk"):
        load_rules(p)
    assert load_rules()["rules"] == DEFAULT_RULES["rules"]


def test_a_route_by_the_theme_of_the_comment(con, tmp_path):
    """`route: [{theme: delay, team: ops}]`: the answer's comment themes (step "text") route its case."""
    con.create_table("comment_analysis", pd.DataFrame({
        "source": ["response", "response", "complaint"], "source_id": ["r1", "r2", "r1"],
        "themes": ["delay,service", "price", "delay"]}))
    p = tmp_path / "rules.yaml"
    p.write_text("holdout_share: 0.0\nrules:\n"
                 "  - {name: detractor, source: survey, when: {nps_max: 6}, team: cx, sla_hours: 48,\n"
                 "     route: [{theme: delay, team: ops, sla_hours: 12}]}\n", encoding="utf-8")
    apply_rules(con, AS_OF, load_rules(p))
    cases = con.table("cases").to_pandas().set_index("source_id")
    assert cases.loc["r1"].team == "ops" and cases.loc["r2"].team == "cx"      # only r1's comment is about delay
    assert cases.loc["r1"].sla_due == pd.Timestamp("2025-06-20 12:00")
