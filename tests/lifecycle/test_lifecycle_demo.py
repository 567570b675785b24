"""The demo company's planted lifecycle is recovered (datasets/demo.py GROUND_TRUTH["lifecycle"]).

Planted: stages by purchase count — exploration (purchases 1–3), formation (4–8), stability (9+),
decline (the last three purchases, at a falling rate); pattern by the dropout index J — early abort
(J ≤ 2), mid-way abort (3–7), early exit (8–20), long-term (J > 20); per stage, spend ×0.85/0.95/1.05/0.9
and cost-to-serve ×1.6/1.2/1.0/1.4.
"""
from __future__ import annotations

import numpy as np
import pytest
import pandas as pd

PLAYED_OUT = pd.Timestamp("2025-12-31") - pd.Timedelta(days=180)


def test_patterns_of_played_out_relationships(lifecycle_demo):
    # relationships whose dropout happened at least 180 days before the end of the data have played out
    con, truth, res = lifecycle_demo
    rel = res["lifecycle"]
    tr = truth.reindex(rel.index)
    done = (tr.exit_cause == "dropout") & (tr.exit_date < PLAYED_OUT) & (tr.lifecycle_pattern != "long_term")
    assert done.sum() > 1000
    ours, planted = rel.pattern[done], tr.lifecycle_pattern[done]
    assert (ours == planted).mean() > 0.75
    for pat, recall in (("early_abort", 0.7), ("midway_abort", 0.7), ("early_exit", 0.8)):
        assert (ours[planted == pat] == pat).mean() > recall, pat
    # wrongly decided patterns are rare: most misses are "ongoing" (the end not detected yet)
    wrong = (ours != planted) & (ours != "ongoing")
    assert wrong.mean() < 0.05
    # long-term: planted J > 20, still buying and past the stability threshold
    lt = (tr.lifecycle_pattern == "long_term") & tr.exit_date.isna() & (rel.purchases >= 9)
    assert lt.sum() > 300 and (rel.pattern[lt] == "long_term").mean() > 0.9


def test_ended_relationships_match_planted_exits(lifecycle_demo):
    con, truth, res = lifecycle_demo
    rel = res["lifecycle"]
    tr = truth.reindex(rel.index)
    exited = tr.exit_date.notna()
    old_exit = exited & (tr.exit_date < PLAYED_OUT)
    assert rel.ended[old_exit].mean() > 0.75  # most old exits are detected
    assert (rel.ended & exited).sum() / rel.ended.sum() > 0.5  # and most ended ones did exit


def test_stage_characteristics_follow_the_seed_profile(lifecycle_demo):
    con, truth, res = lifecycle_demo
    ch = res["lifecycle_characteristics"].set_index("stage")
    assert list(ch.index) == ["exploration", "formation", "stability", "decline"]
    v, price, cost, profit = ch.purchases_per_period, ch.amount_per_purchase, ch.cost_share, ch.profit_per_period
    # volume: small / rising / maximal / falling
    assert v.exploration < v.formation < v.stability and v.decline < v.exploration
    # price paid: low / rising / highest / falling
    assert price.exploration < price.formation < price.stability > price.decline
    # cost: high / falling / falling / rising (as a share of revenue)
    assert cost.exploration > cost.formation > cost.stability < cost.decline
    # profit: minimal / rising / maximal / falling fast
    assert profit.exploration < profit.formation < profit.stability and profit.decline < profit.exploration


def test_transitions_and_flow(lifecycle_demo):
    con, truth, res = lifecycle_demo
    m = res["lifecycle_transitions"]
    allm = m[m.year == "all"]
    np.testing.assert_allclose(allm.groupby("from_stage").share.sum(), 1.0)
    w = allm.pivot(index="from_stage", columns="to_stage", values="share").fillna(0)
    assert w.loc["exploration", "stability"] < 0.001 and w.loc["formation", "exploration"] == 0  # stages move forward
    assert w.loc["stability", "stability"] > 0.85 and w.loc["decline", "ended"] > w.loc["stability", "ended"]
    assert {"2023", "2024", "2025"} <= set(m.year)
    flow = res["lifecycle_flow"]
    assert flow.period.iloc[0] == "2023-01" and flow.period.iloc[-1] == "2025-12"
    periods = res["lifecycle_periods"]
    assert flow[["exploration", "formation", "stability", "decline"]].to_numpy().sum() == len(periods)
    pats = res["lifecycle_patterns"]
    a = pats[pats.group == "all"].set_index("pattern")
    assert abs(a.share.sum() - 1) < 1e-9
    assert abs(a.share_decided.dropna().sum() - 1) < 1e-9


def test_the_lifecycle_step_view_and_report(lifecycle_demo, tmp_path):
    """The step on a session writes the tables and its run-log row; the view holds the tables' numbers
    and renders in the report in both languages."""
    import json

    from cxvalue.interfaces.report.build import build_report
    from cxvalue.interfaces.session import open_session
    from cxvalue.interfaces.views import build_view
    from cxvalue.steps import run_steps
    con, truth, res = lifecycle_demo
    sess = open_session(con=con)
    [o] = run_steps(sess, only=["lifecycle"])
    assert o.status == "ok" and o.tables["lifecycle_summary"] == 3 + 4 + 12 and o.summary["customers"] == len(res["lifecycle"])
    v = build_view("lifecycle", sess.refresh())
    assert [b.id for b in v.blocks] == ["lifecycle-kpis", "lifecycle-intro", "lifecycle-flow", "lifecycle-transitions",
                                        "lifecycle-characteristics", "lifecycle-patterns", "lifecycle-patterns-table"]
    assert v.as_of == "2025-12-31" and v.meta["rules"]["period"] == "month" and v.meta["rules"]["decline_ratio"] == 0.34
    rel = res["lifecycle"]
    k = {i.key: i.value for i in v.block("lifecycle-kpis").items}
    assert k["customers"] == len(rel) and k["ended"] == int(rel.ended.sum())
    assert sum(k[f"current_{s}"] for s in ("exploration", "formation", "stability", "decline")) == int((~rel.ended).sum())
    ch = {r["stage"]: r for r in v.block("lifecycle-characteristics").rows}
    want = res["lifecycle_characteristics"].set_index("stage")
    assert ch["stability"]["amount_per_purchase"] == pytest.approx(want.amount_per_purchase["stability"])
    assert ch["decline"]["seed_profit"] == "falling fast"
    pats = {r["pattern"]: r["share"] for r in v.block("lifecycle-patterns-table").rows}
    a = res["lifecycle_patterns"]
    assert pats == pytest.approx(a[a.group == "all"].set_index("pattern").share.to_dict())
    flow = v.block("lifecycle-flow").data
    assert flow["x"][0] == "2023-01" and len(flow["series"]) == 4
    json.dumps(v.to_dict(), allow_nan=False)
    html = build_report(sess, tmp_path / "r.html", [v]).read_text(encoding="utf-8")
    assert all(f'id="{b.id}"' in html for b in v.blocks) and html.count("<svg") == 2
    zh = build_report(open_session(con=con, lang="zh"), tmp_path / "r.zh.html", None).read_text(encoding="utf-8")
    assert "生命周期阶段流转" in zh and "长久保持" in zh and "原文特征" in zh
