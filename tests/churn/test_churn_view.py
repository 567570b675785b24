"""The churn view of the demo store (after the churn steps): its blocks hold the result tables' numbers,
carry the steps' warnings, and render in the HTML report in both languages."""
from __future__ import annotations

import json

import numpy as np
import pytest

BLOCKS = ["churn-prediction", "churn-prediction-note", "churn-validation", "churn-lift", "churn-lift-table",
          "churn-calibration", "churn-drivers", "churn-drivers-table",
          "churn-survival", "churn-survival-table", "churn-logrank", "churn-cox",
          "churn-reasons", "churn-reasons-chart", "churn-reasons-table", "churn-voluntary",
          "complaint-impact", "complaint-impact-chart",
          "value-at-risk", "value-at-risk-by-reason", "retention-list", "owner-concentration", "owner-risk"]


@pytest.fixture(scope="module")
def churn_view(demo_session):
    from cxvalue.interfaces.views import build_view
    return build_view("churn", demo_session)


def test_blocks_hold_the_tables_numbers(churn_view, demo_churn):
    v = churn_view
    assert v.id == "churn" and [b.id for b in v.blocks] == BLOCKS and v.as_of == "2025-12-31" and v.skipped == []
    k = {i.key: i.value for i in v.block("churn-prediction").items}
    m = dict(zip(demo_churn["churn_metrics"].metric, demo_churn["churn_metrics"].value))
    assert k["customers_scored"] == len(demo_churn["churn_scores"]) == int(m["customers_scored"])
    assert k["roc_auc"] == pytest.approx(float(m["test_roc_auc"])) and isinstance(k["mean_p_churn"], float)
    assert v.block("churn-lift").data["values"] == demo_churn["churn_lift"].lift.tolist()
    assert [r["decile"] for r in v.block("churn-lift-table").rows] == list(range(1, 11))
    surv = {r["group"]: r for r in v.block("churn-survival-table").rows}
    s = demo_churn["churn_survival_summary"].set_index("group")
    assert set(surv) == set(s.index) and all(surv[g]["S(12)"] == pytest.approx(s.loc[g, "S(12)"]) for g in surv)
    cox = {r["covariate"]: r for r in v.block("churn-cox").rows}
    assert cox["vip"]["hazard_ratio"] < 0.8 and cox["vip"]["hr_ci_low"] < cox["vip"]["hazard_ratio"]
    vol = demo_churn["churn_voluntary"].set_index("group")
    assert {i.key: i.value for i in v.block("churn-reasons").items}["voluntary_share"] == \
        pytest.approx(vol.voluntary_share["all"])
    reasons = v.block("churn-reasons-table").rows
    assert sum(r["share"] for r in reasons) == pytest.approx(1.0)
    assert sum(r["share_voluntary"] or 0 for r in reasons) == pytest.approx(1.0)
    assert {r["reason"]: r["seed_share"] for r in reasons}["staff_indifference"] == 0.68
    ci = {r["status"]: r for r in v.block("complaint-impact").rows}
    assert ci["unresolved"]["hazard_ratio"] > ci["resolved"]["hr_ci_high"] and ci["none"]["hazard_ratio"] == 1.0
    chart = v.block("complaint-impact-chart")
    assert chart.chart == "interval_bar" and chart.data["values"][2] == ci["unresolved"]["hazard_ratio"]
    rl = demo_churn["retention_list"]
    var = {i.key: i.value for i in v.block("value-at-risk").items}
    assert var["value_at_risk"] == pytest.approx(rl.value_at_risk.sum()) and var["listed"] == len(rl)
    top = v.block("retention-list").rows
    assert len(top) == 20 and [r["customer_id"] for r in top] == rl.sort_values("rank").customer_id.head(20).tolist()
    own = {i.key: i.value for i in v.block("owner-concentration").items}
    risk = demo_churn["owner_risk"]
    assert own["owners"] == len(risk) and own["hhi"] == pytest.approx((risk.value_share ** 2).sum())
    assert risk.follow_probability_source.iloc[0] == "estimated" and 0.05 < own["follow_probability"] < 0.6
    # numbers stay numbers: the JSON has no NaN and no formatted text in number columns
    d = json.loads(json.dumps(v.to_dict(), allow_nan=False))
    assert all(isinstance(r["p_churn"], float) for r in next(b for b in d["blocks"] if b["id"] == "retention-list")["rows"])


def test_step_warnings_and_caveats_go_on_the_blocks(demo_session, demo_churn):
    from cxvalue.interfaces.views import Note
    from cxvalue.interfaces.views.churn import churn_view
    frames = dict(demo_churn)
    few = frames["complaint_impact"].copy()
    few.loc[few.status == "resolved", "customers"] = 12
    frames["complaint_impact"] = few
    v = churn_view(demo_session, frames, notes={"survival": [Note("SmallSampleWarning", "tiny group")],
                                                "churn reasons": [Note("ConvergenceWarning", "slow")]})
    assert v.block("churn-survival").warnings == [Note("SmallSampleWarning", "tiny group")]
    assert v.block("churn-reasons").warnings == [Note("ConvergenceWarning", "slow")]
    w = v.block("complaint-impact").warnings
    assert w[0] == Note("ConvergenceWarning", "slow") and w[1].category == "SmallSampleWarning" and "12" in w[1].message
    assert all(not v.block(b).warnings for b in ("churn-prediction", "churn-lift", "value-at-risk"))
    only = churn_view(demo_session, frames, sections=("retention",))
    assert [b.id for b in only.blocks] == BLOCKS[-5:]
    assert churn_view(demo_session, {}, sections=("prediction",)) is None


def test_the_report_renders_every_block(demo_session, churn_view, tmp_path):
    from cxvalue.interfaces.report.build import build_report
    from cxvalue.interfaces.session import open_session
    html = build_report(demo_session, tmp_path / "r.html", [churn_view]).read_text(encoding="utf-8")
    for b in BLOCKS:
        assert html.count(f'id="{b}"') == 1, b
    assert html.count("<svg") == 5 and "Retention list (top 20 by value at risk)" in html
    zh = open_session(con=demo_session.con, lang="zh")
    html = build_report(zh, tmp_path / "r.zh.html").read_text(encoding="utf-8")
    for words in ("流失与挽留", "按风险十分位的提升度", "分群客户生存曲线", "客户流失原因", "投诉对流失的影响", "挽留名单", "销售人员集中度"):
        assert words in html, words
    assert not np.any([w in html for w in ("churn_act_", "churn_fam_", "churn_r_")])
