"""Stage rules on hand-made trajectories: each stage, the end of a relationship and the pattern."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.lifecycle import LifecycleRules, lifecycle_patterns, lifecycle_stages, transition_matrix
from cxvalue.store import connect

RULES = {"end_rule": "inactivity", "inactive_days": 365}


def _store():
    rows = []
    # "steady": a purchase on the 10th of every month from 2022-01 to 2024-12 (36 purchases), still buying
    rows += [("steady", f"{2022 + i // 12}-{i % 12 + 1:02d}-10", 100.0) for i in range(36)]
    # "quitter": 12 monthly purchases in 2022, then nothing (ended by inactivity at the end of 2024)
    rows += [("quitter", f"2022-{m:02d}-05", 80.0) for m in range(1, 13)]
    # "tryout": two purchases in early 2022, then nothing
    rows += [("tryout", "2022-02-01", 50.0), ("tryout", "2022-03-01", 40.0)]
    # "middle": six purchases every other month in 2022, then nothing
    rows += [("middle", f"2022-{m:02d}-15", 60.0) for m in (1, 3, 5, 7, 9, 11)]
    # "newbie": first purchase two months before the end
    rows += [("newbie", "2024-10-20", 70.0), ("newbie", "2024-12-01", 70.0)]
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    tx["date"] = pd.to_datetime(tx.date)
    tx["cost"] = tx.amount * 0.6
    con = connect("duckdb://")
    con.create_table("transactions", tx)
    return con


def test_stages_follow_the_trajectory():
    periods, rel = lifecycle_stages(_store(), rules=RULES, as_of="2024-12-31")
    st = periods[periods.customer_id == "steady"].set_index("period").stage
    assert st["2022-01"] == st["2022-03"] == "exploration"          # purchases 1–3
    assert st["2022-04"] == st["2022-08"] == "formation"            # purchases 4–8
    assert st["2022-09"] == st["2024-12"] == "stability"            # 9th purchase on
    q = periods[periods.customer_id == "quitter"].set_index("period").stage
    assert q["2022-12"] == "stability" and (q.loc["2023-03":] == "decline").all()
    assert q.index[-1] == "2023-03"  # runs until the customer is overdue (2.5 × the usual gap, at least 90 days)
    assert rel.loc["quitter", "ended"] and rel.loc["quitter", "end_reason"] == "inactive"
    assert not rel.loc["steady", "ended"] and rel.loc["steady", "current_stage"] == "stability"
    n = periods[periods.customer_id == "newbie"]
    assert list(n.stage) == ["exploration"] * 3 and n.cumulative_purchases.iloc[-1] == 2
    p = lifecycle_patterns(rel)
    assert p.to_dict() == {"middle": "midway_abort", "newbie": "ongoing", "quitter": "early_exit",
                           "steady": "long_term", "tryout": "early_abort"}
    assert (periods.profit == periods.amount - periods.cost).all()
    assert periods.groupby("customer_id").purchases.sum().to_dict() == {
        "middle": 6, "newbie": 2, "quitter": 12, "steady": 36, "tryout": 2}


def test_transitions_end_in_ended_for_finished_relationships():
    periods, rel = lifecycle_stages(_store(), rules=RULES, as_of="2024-12-31")
    m = transition_matrix(periods, rel, by_year=True)
    allm = m[m.year == "all"]
    assert set(m.year) == {"all", "2022", "2023", "2024"}
    ended = allm[allm.to_stage == "ended"]
    assert ended.transitions.sum() == 3  # quitter, tryout, middle
    np.testing.assert_allclose(allm.groupby("from_stage").share.sum(), 1.0)
    assert not ((allm.from_stage == "exploration") & (allm.to_stage == "stability")).any()


def test_quarters_and_rule_validation():
    periods, rel = lifecycle_stages(_store(), rules={**RULES, "period": "quarter"}, as_of="2024-12-31")
    assert periods[periods.customer_id == "steady"].period.iloc[0] == "2022Q1"
    assert len(periods[periods.customer_id == "steady"]) == 12
    with pytest.raises(CxValueError, match="period='week' is not valid: expected one of 'month', 'quarter'"):
        LifecycleRules(period="week")
    with pytest.raises(CxValueError, match="formation_purchases=9 and stability_purchases=4"):
        LifecycleRules(formation_purchases=9, stability_purchases=4)
    with pytest.raises(CxValueError, match="lifecycle rule 'stable_at' is not valid"):
        LifecycleRules.from_dict({"stable_at": 3})
    with pytest.raises(CxValueError, match="the lifecycle needs transactions"):
        lifecycle_stages(connect("duckdb://"))
