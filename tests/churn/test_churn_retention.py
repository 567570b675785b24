"""Retention list: value at risk, playbook per reason and value tier, CSV/Excel export, owner concentration."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.churn import DEFAULT_PLAYBOOK, export_retention, load_playbook, owner_concentration, retention_list
from cxvalue.errors import CxValueError
from cxvalue.value.segments import value_tiers


@pytest.fixture()
def scores():
    idx = pd.Index([f"c{i}" for i in range(10)], name="customer_id")
    s = pd.DataFrame({"p_churn": np.linspace(0.05, 0.95, 10),
                      "main_reason": ["complaint", "price", "engagement", "experience", "other"] * 2,
                      "top_reasons": "x"}, index=idx)
    v = pd.DataFrame({"value": [100.0, 2000, 50, 800, 0, 300, 1200, 10, 5000, 400], "value_source": "clv"}, index=idx)
    return s, v


def test_value_at_risk_ranking_and_actions(scores):
    s, v = scores
    rl = retention_list(s, v, owners=pd.Series(["o1", "o2"] * 5, index=s.index))
    assert list(rl["rank"]) == list(range(1, 11))
    np.testing.assert_allclose(rl.value_at_risk, rl.p_churn * rl.value)
    assert rl.value_at_risk.is_monotonic_decreasing and rl.index[0] == "c8"  # 0.85 × 5000
    tiers = value_tiers(v.value)
    assert tiers["c8"] == "high" and tiers["c4"] == "low" and (tiers == "high").sum() == 2
    a = DEFAULT_PLAYBOOK["actions"]
    for _, r in rl.iterrows():
        assert r.action == a.get(r.main_reason, a["default"])[r.value_tier]
    assert set(rl.columns) >= {"p_churn", "value", "value_source", "value_at_risk", "value_tier", "main_reason",
                               "action", "top_reasons", "owner"}


def test_playbook_from_yaml_overrides_defaults(scores, tmp_path):
    s, v = scores
    f = tmp_path / "playbook.yaml"
    f.write_text("tiers: {high: 0.9}\nmin_value_at_risk: 1\nactions:\n  price: {high: 'Call: CFO discount'}\n"
                 "  complaint: ombudsman\n", encoding="utf-8")
    pb = load_playbook(f)
    assert pb["tiers"] == {"high": 0.9, "medium": 0.5} and pb["actions"]["complaint"]["low"] == "ombudsman"
    assert pb["actions"]["price"]["medium"] == DEFAULT_PLAYBOOK["actions"]["price"]["medium"]
    rl = retention_list(s, v, playbook=f)
    assert (rl.value_at_risk >= 1).all() and "c4" not in rl.index  # value 0: below min_value_at_risk
    assert rl.loc[rl.main_reason == "complaint", "action"].eq("ombudsman").all()
    with pytest.raises(CxValueError, match="playbook key 'action' is not valid"):
        load_playbook({"action": {}})
    with pytest.raises(CxValueError, match="playbook actions.price: tier 'vip' is not valid"):
        load_playbook({"actions": {"price": {"vip": "x"}}})
    with pytest.raises(CxValueError, match=r"medium \(0.95\) must be below high \(0.8\)"):
        load_playbook({"tiers": {"medium": 0.95}})
    with pytest.raises(CxValueError, match="scores.p_churn: expected probabilities between 0 and 1"):
        retention_list(s.assign(p_churn=2.0), v)


def test_export_csv_and_excel(scores, tmp_path):
    import openpyxl
    s, v = scores
    rl = retention_list(s, v)
    out = export_retention(rl, tmp_path / "list.csv", lang="zh")
    back = pd.read_csv(out, encoding="utf-8-sig")
    assert len(back) == 10 and back.columns[0] == "customer_id" and "action_label" in back.columns
    assert back.action_label.iloc[0] != back.action.iloc[0]  # translated from the catalogue
    out = export_retention(rl, tmp_path / "list.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["retention_list", "playbook"]
    ws = wb["retention_list"]
    assert ws.max_row == 11 and ws.cell(1, 1).value == "customer_id" and ws.cell(2, 1).value == rl.index[0]
    with pytest.raises(CxValueError, match=r"list.pdf: unsupported export type '.pdf'"):
        export_retention(rl, tmp_path / "list.pdf")


def test_owner_concentration(scores):
    s, v = scores
    owners = pd.Series(["o1", "o1", "o1", "o2", None, "o2", "o3", "o3", "o1", ""], index=s.index)
    t = owner_concentration(v, owners, scores=s, follow_probability=0.4)
    assert list(t.owner) == ["o1", "o3", "o2"] and list(t.customers) == [4, 2, 2]
    assert t.value.sum() == pytest.approx(v.value.drop(["c4", "c9"]).sum())
    assert t.value_at_risk_if_leaves.iloc[0] == pytest.approx(0.4 * (100 + 2000 + 50 + 5000))
    assert t.cumulative_share.iloc[-1] == pytest.approx(1.0) and 1 / 3 < t.attrs["hhi"] < 1
    with pytest.raises(CxValueError, match="no customer has an owner"):
        owner_concentration(v, pd.Series([None] * 10, index=s.index))
