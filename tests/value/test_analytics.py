"""Customer value analytics B1-B8 on hand-made data with exact expected values."""
from __future__ import annotations

import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.value.delivered import compare_delivered_value, delivered_value, share_of_wallet
from cxvalue.value.economics import discounted_clv, referral_value, relationship_profitability, seed_clv
from cxvalue.value.multiplication import multiplication_table, value_multiplication
from cxvalue.value.segments import matrix_summary, rfm_scores, rfm_table, value_matrix


def tx_frame():
    return pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
        "date": pd.to_datetime(["2022-01-10", "2022-06-01", "2023-02-01", "2023-03-01", "2022-05-01", "2023-06-01",
                                "2023-01-01"]),
        "amount": [100.0, 50.0, 80.0, 40.0, 200.0, 30.0, 70.0],
        "cost": [60.0, 10.0, 40.0, 10.0, 150.0, 5.0, 20.0],
        "category": ["ticket", "upgrade", "ticket", "baggage", "ticket", "seat", "ticket"],
    })


ACQ = pd.DataFrame({"customer_id": ["a", "b", "c"], "cost": [30.0, 20.0, 10.0]})
REF = pd.DataFrame({"referrer_id": ["a", "c"], "referred_id": ["c", "b"]})


def test_relationship_profitability_b1():
    p = relationship_profitability(tx_frame(), ACQ).to_pandas().sort_values(["customer_id", "period"])
    a = p[p.customer_id == "a"].set_index("period")
    # a: year 1 = 2022-01-10 .. 2023-01-10: 100 + 50; year 2: 80 + 40
    assert a.revenue.tolist() == [150.0, 120.0] and a.serve_cost.tolist() == [70.0, 50.0]
    assert a.acquisition_cost.tolist() == [30.0, 0.0] and a.profit.tolist() == [50.0, 70.0]
    cal = relationship_profitability(tx_frame(), period="year").to_pandas()
    assert cal[(cal.customer_id == "b") & (cal.period == 2023)].profit.item() == 25.0


def test_discounted_clv_b3_formula_and_projection():
    prof = pd.DataFrame({"customer_id": ["a", "a", "b"], "period": [1, 2, 1], "profit": [-50.0, 100.0, 20.0],
                         "revenue": [10.0, 10.0, 10.0]})
    out = discounted_clv(prof, discount_rate=0.1, horizon=3, retention=0.5,
                         observed_years=pd.Series({"a": 2, "b": 1}))
    # a: -50/1.1 + 100/1.1^2 + (100*0.5)/1.1^3
    assert out.loc["a", "clv_discounted"] == pytest.approx(-50 / 1.1 + 100 / 1.21 + 50 / 1.331)
    assert out.loc["b", "clv_discounted"] == pytest.approx(20 / 1.1 + 10 / 1.21 + 5 / 1.331)
    assert out.loc["b", "projected_years"] == 2
    with pytest.raises(CxValueError, match=r"discount_rate must be in \[0, 1\), got 1.5"):
        discounted_clv(prof, discount_rate=1.5)


def test_referral_chains_direct_indirect_and_cycles():
    refs = pd.DataFrame({"referrer_id": ["r", "x", "y", "z"], "referred_id": ["x", "y", "z", "r"]})  # a cycle
    nr = pd.Series({"r": 1.0, "x": 10.0, "y": 100.0, "z": 1000.0})
    v = referral_value(refs, nr, max_depth=3)
    assert v.loc["r"].tolist() == [10.0, 1100.0, 3]      # x direct; y, z indirect; r not revisited
    assert referral_value(refs, nr, max_depth=1).loc["r"].tolist() == [10.0, 0.0, 1]


def test_seed_clv_b2_terms():
    out = seed_clv(pd.Series({"a": 4.0, "c": 1.0}), pd.Series({"a": 50.0, "c": 70.0}), ACQ.set_index("customer_id").cost,
                   REF, pd.Series({"a": 90.0, "b": 75.0, "c": 50.0}))
    # a: 4*50 - 30 + c's net revenue (50) + b via c (75)
    assert out.loc["a", ["transaction_value", "acquisition_cost", "referral_direct", "referral_indirect"]].tolist() == \
        [200.0, 30.0, 50.0, 75.0]
    assert out.loc["a", "clv_seed"] == 295.0 and out.loc["c", "clv_seed"] == 70 - 10 + 75


def test_value_matrix_b6_cells_and_strategies():
    cur = pd.Series({"p": 10.0, "g": 1.0, "i": 9.0, "l": 2.0})
    pot = pd.Series({"p": 10.0, "g": 9.0, "i": 1.0, "l": 2.0})
    m = value_matrix(cur, pot)
    assert m.value_tier.to_dict() == {"g": "gold", "i": "iron", "l": "lead", "p": "platinum"}
    assert m.strategy.to_dict() == {"g": "target", "i": "maintain", "l": "deprioritise", "p": "pursue"}
    s = matrix_summary(m)
    assert s.value_tier.tolist() == ["platinum", "gold", "iron", "lead"] and s.customer_share.sum() == 1
    m2 = value_matrix(cur, pot, current_threshold=5, potential_threshold=5, absolute=True, tiers={("high", "high"): "vip"})
    assert m2.loc["p", "value_tier"] == "vip" and m2.attrs["current_cut"] == 5


def test_rfm():
    r = rfm_table(tx_frame()).to_pandas().set_index("customer_id").sort_index()
    assert r.recency_days.tolist() == [92, 0, 151] and r.frequency.tolist() == [4, 2, 1]
    s = rfm_scores(r, bins=3)
    assert s.loc["b", "r_score"] == 3 and s.loc["a", "f_score"] == 3 and s.loc["c", "m_score"] == 1


def test_value_multiplication_b5():
    vm = value_multiplication(tx_frame(), REF, ACQ).to_pandas().set_index(["customer_id", "relationship_year"])
    a1, a2 = vm.loc[("a", 1)], vm.loc[("a", 2)]
    assert (a1.base_revenue, a1.upbuying_revenue, a1.crossbuying_revenue) == (100.0, 50.0, 0.0)
    assert (a2.base_revenue, a2.crossbuying_revenue) == (80.0, 40.0)
    # a referred c (2023-01-01, a's year 1 ends 2023-01-10) and, through c, b (2022-05-01: year 1; 2023-06-01: year 2)
    assert a1.referral_revenue == 70.0 + 200.0 and a2.referral_revenue == 30.0
    assert a1.acquisition_cost == 30.0 and a2.acquisition_cost == 0.0
    table = multiplication_table(vm.reset_index(), years=2)
    assert table.relationship_year.tolist() == [1, 2]
    assert table.customers.tolist() == [3, 3]


def test_delivered_value_b7_and_share_of_wallet_b8():
    r = pd.DataFrame({"offer": ["x", "x", "y", "y"], "value_product": [8, 6, 5, 5], "value_service": [6, 8, 5, 7],
                      "cost_money": [4, 4, 2, 2], "cost_time": [2, 2, 2, 4]})
    dv = delivered_value(r)
    assert dv.total_customer_value.tolist() == [7.0, 7.0, 5.0, 6.0]
    assert dv.delivered_value.tolist() == [4.0, 4.0, 3.0, 3.0] and dv.delivered_value_ratio.iloc[0] == pytest.approx(7 / 3)
    weighted = delivered_value(r, value_weights={"product": 3, "service": 1})
    assert weighted.total_customer_value.iloc[0] == pytest.approx(7.5)
    comp = compare_delivered_value(r, "offer")
    assert comp.offer.tolist() == ["x", "y"] and comp["rank"].tolist() == [1, 2]
    with pytest.raises(CxValueError, match="no value_<item> columns"):
        delivered_value(r.drop(columns=["value_product", "value_service"]))
    cust = pd.DataFrame({"customer_id": ["a", "b", "c"], "category_spend": [400.0, 100.0, None]})
    sow = share_of_wallet(tx_frame(), cust).to_pandas().set_index("customer_id").sort_index()
    # last 12 months before 2023-06-01: a 120, b 30
    assert sow.spend_12m.tolist() == [120.0, 30.0] and sow.share_of_wallet.tolist() == [0.3, 0.3]


@pytest.mark.spark
def test_engine_side_value_queries_equal_on_pyspark():
    pytest.importorskip("pyspark")
    from cxvalue.store import connect
    frames = {"tx": tx_frame(), "acq": ACQ, "ref": REF}
    out = {}
    for name in ("duckdb", "pyspark://local[1]"):
        con = connect("duckdb://" if name == "duckdb" else name)
        for k, v in frames.items():
            con.create_table(f"v_{k}", v, overwrite=True)
        p = relationship_profitability(con.table("v_tx"), con.table("v_acq")).to_pandas()
        m = value_multiplication(con.table("v_tx"), con.table("v_ref"), con.table("v_acq")).to_pandas()
        out[name] = [p.sort_values(["customer_id", "period"]).reset_index(drop=True),
                     m.sort_values(["customer_id", "relationship_year"]).reset_index(drop=True)[sorted(m.columns)]]
        if name != "duckdb":
            for k in frames:
                con.drop_table(f"v_{k}", force=True)
    for a, b in zip(out["duckdb"], out["pyspark://local[1]"]):
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
