"""Loyalty metrics C1-C5: exact values on hand-made data, the demo company's planted truth."""
from __future__ import annotations

import numpy as np
import pytest

from cxvalue.datasets import demo
from cxvalue.errors import CxValueError
from cxvalue.loyalty import (LoyaltyCutoffs, incentive_share, loyalty_segments, repeat_purchase_rate, segment_summary,
                             service_loyalty, wilson_interval)
from cxvalue.store import connect

GT = demo.GROUND_TRUTH


# --------------------------------------------------------------------------- hand-made data (see tiny_data.py)
def test_repeat_rate_by_channel_and_product(tiny):
    ch = repeat_purchase_rate(tiny, "channel").set_index("channel")
    # app: c1 (2 occasions), c3 (1), c4 (3); web: c1 (1), c2 (2: the add-on day counts once, the return not)
    assert ch.loc["app", ["customers", "repeat_customers", "occasions"]].tolist() == [3, 2, 6]
    assert ch.loc["web", ["customers", "repeat_customers", "occasions"]].tolist() == [2, 1, 3]
    assert ch.loc["app", "repeat_rate"] == pytest.approx(2 / 3)
    assert ch.loc["web", "repeat_rate"] == pytest.approx(0.5)
    assert ch.loc["app", "revenue"] == 780.0 and ch.loc["web", "revenue"] == 190.0
    assert ch["revenue_share"].sum() == pytest.approx(1.0)
    lo, hi = wilson_interval(2, 3)
    assert (ch.loc["app", "ci_low"], ch.loc["app", "ci_high"]) == pytest.approx((float(lo), float(hi)))
    assert ch["small_sample"].all()
    pr = repeat_purchase_rate(tiny, "product").set_index("product")
    assert pr[["customers", "repeat_customers"]].to_dict("index") == {
        "A": {"customers": 3, "repeat_customers": 1}, "B": {"customers": 2, "repeat_customers": 1},
        "C": {"customers": 1, "repeat_customers": 1}}
    # a category filter and a period
    only = repeat_purchase_rate(tiny, "channel", category="ticket", since="2023-03-01").set_index("channel")
    assert only.loc["app", "customers"] == 2 and only.loc["app", "repeat_customers"] == 1


def test_wilson_interval_reference():
    # Wilson (1927) / Newcombe (1998) example: 81 of 263, 95% → 0.2553 to 0.3662
    lo, hi = wilson_interval(81, 263)
    assert (float(lo), float(hi)) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_service_loyalty_exact(tiny):
    sv = service_loyalty(tiny).set_index("group")
    vip, other = sv.loc["vip"], sv.loc["other"]
    assert list(sv.index) == ["vip", "other"]
    assert (vip["customers"], vip["cohort"], vip["retained"]) == (2, 2, 2)
    assert (other["customers"], other["cohort"], other["retained"]) == (2, 1, 0)
    assert vip["retention_rate"] == 1.0 and other["retention_rate"] == 0.0
    assert vip["repeat_rate"] == 1.0 and other["repeat_rate"] == 0.5
    assert vip["spend_12m"] == pytest.approx((80 + 400) / 2) and other["spend_12m"] == 0.0
    assert vip["spend_per_purchase"] == pytest.approx(830 / 6)
    assert other["spend_per_purchase"] == pytest.approx(110 / 3 + 30 / 3)   # (40+10+60+30) / 3 occasions
    # tenure: days from the first purchase to 2024-12-31, at least 365/4 days
    assert vip["purchases_per_year"] == pytest.approx(np.mean([3 / (721 / 365.25), 3 / (699 / 365.25)]))
    assert other["purchases_per_year"] == pytest.approx(np.mean([2 / (671 / 365.25), 1 / (91.25 / 365.25)]))
    assert vip["churn_rate"] == 0.0 and other["churn_rate"] == 0.5
    with pytest.raises(CxValueError, match="flag='premium' is not a column of customers"):
        service_loyalty(tiny, flag="premium")


def test_incentive_share_exact(tiny):
    a = incentive_share(tiny).iloc[0]
    assert (a["purchases"], a["first_purchases"], a["repeat_purchases"], a["incentive_repeat"]) == (10, 5, 5, 4)
    assert a["incentive_share"] == pytest.approx(0.8)
    assert a["incentive_share_first"] == 0.0
    assert a["incentive_amount_share"] == pytest.approx(490 / 590)
    assert (a["repeat_customers"], a["incentive_driven_customers"]) == (3, 3)
    by = incentive_share(tiny, by="channel").set_index("group")
    assert by.loc["app", ["purchases", "first_purchases", "repeat_purchases", "incentive_repeat"]].tolist() == [6, 3, 3, 2]
    assert by.loc["web", ["purchases", "first_purchases", "repeat_purchases", "incentive_repeat"]].tolist() == [4, 2, 2, 2]
    vip = incentive_share(tiny, by="vip").set_index("group")     # a customers column
    assert vip.loc["true", "repeat_purchases"] == 4 and vip.loc["false", "repeat_purchases"] == 1
    stricter = incentive_share(tiny, driven_share=0.75).iloc[0]
    assert stricter["incentive_driven_customers"] == 2            # c4 has 1 of 2 repeats on incentive


def test_loyalty_segments_exact(tiny):
    cut = LoyaltyCutoffs(repeats_per_year=1.0)
    seg = loyalty_segments(tiny, cut)
    assert seg["segment"].to_dict() == {"c1": "true", "c2": "latent", "c3": "none", "c4": "spurious"}
    assert seg.loc["c1", "attitude_score"] == 10          # the latest answer
    assert seg.loc["c1", "repeats_per_year"] == pytest.approx(2 / (721 / 365.25))
    assert seg.loc["c3", "tenure_days"] == 60 and not seg.loc["c3", "behavioural_high"]
    assert seg.loc["c1", "incentive_repeats"] == 2 and seg.loc["c4", "incentive_repeats"] == 1
    assert seg.attrs["cutoffs"]["repeats_per_year"] == 1.0
    # default cut-off of 2 repeats a year: nobody is behaviourally loyal here
    assert set(loyalty_segments(tiny)["segment"]) == {"latent", "none"}
    # satisfaction as the attitude (c1's latest satisfaction is 3)
    sat = loyalty_segments(tiny, LoyaltyCutoffs(repeats_per_year=1.0, attitude="satisfaction", attitude_min=8))
    assert sat.loc["c1", "segment"] == "spurious"
    summ = segment_summary(seg).set_index("segment")
    assert summ["customers"].tolist() == [1, 1, 1, 1] and summ["share"].sum() == pytest.approx(1.0)
    assert summ.loc["spurious", "incentive_share"] == pytest.approx(0.5)


def test_bad_arguments(tiny):
    with pytest.raises(CxValueError, match="by='colour' is not a column of transactions"):
        repeat_purchase_rate(tiny, "colour")
    with pytest.raises(CxValueError, match="attitude='loyalty' is not valid"):
        LoyaltyCutoffs(attitude="loyalty")
    with pytest.raises(CxValueError, match="since='soon' is not a date"):
        repeat_purchase_rate(tiny, since="soon")
    con = connect("duckdb://")
    with pytest.raises(CxValueError, match="table 'transactions' is not in the store"):
        repeat_purchase_rate(con)


# --------------------------------------------------------------------------- the demo company's planted truth
@pytest.fixture(scope="module")
def demo_store():
    data = demo.generate(20_000, seed=0, truth=True)
    con = connect("duckdb://")
    for name in ("customers", "transactions", "responses", "churn_events"):
        con.create_table(name, data[name])
    return con, data


def test_c5_incentive_share_recovers_the_planted_shares(demo_store):
    con, _ = demo_store
    a = incentive_share(con, category="ticket").iloc[0]
    # planted: 43% deal seekers repeat-buy on incentive with p .60, others .10 → .315; first tickets .15
    assert a["incentive_share"] == pytest.approx(GT["incentive"]["expected_repeat_ticket_share"], abs=0.02)
    assert a["ci_low"] < GT["incentive"]["expected_repeat_ticket_share"] + 0.02 and a["ci_high"] > 0.295
    assert a["incentive_share_first"] == pytest.approx(GT["incentive"]["p_first_ticket"], abs=0.02)


def test_c3_vip_customers_retain_better_and_spend_more(demo_store):
    con, _ = demo_store
    sv = service_loyalty(con, category="ticket").set_index("group")
    vip, other = sv.loc["vip"], sv.loc["other"]
    assert vip["retention_rate"] > other["retention_rate"] + 0.08
    assert vip["ci_low"] > other["ci_high"]
    assert vip["churn_rate"] < 0.8 * other["churn_rate"]      # planted dropout Beta b x 3.5 for VIPs
    # planted ticket spend x1.2 for VIPs; VIPs are more often business/corporate travellers, who spend
    # more and buy more often: expected ratio = 1.2 x purchase-weighted segment spend multiplier ratio
    s = GT["segments"]
    w_vip = {k: s["share"][k] * s["vip_probability"][k] * s["purchase_rate_multiplier"][k] for k in s["share"]}
    w_oth = {k: s["share"][k] * (1 - s["vip_probability"][k]) * s["purchase_rate_multiplier"][k] for k in s["share"]}
    mix = (sum(w_vip[k] * s["spend_multiplier"][k] for k in w_vip) / sum(w_vip.values())) / \
          (sum(w_oth[k] * s["spend_multiplier"][k] for k in w_oth) / sum(w_oth.values()))
    expected = GT["vip"]["spend_multiplier"] * mix
    assert vip["spend_per_purchase"] / other["spend_per_purchase"] == pytest.approx(expected, abs=0.12)


def test_c1_c2_c4_on_the_demo(demo_store):
    con, data = demo_store
    ch = repeat_purchase_rate(con, "channel")
    assert set(ch["channel"]) == set(demo.CHANNELS) and ch["repeat_rate"].between(0.3, 0.8).all()
    assert ch["customers"].sum() >= 20_000              # a customer counts once per channel used
    seg = loyalty_segments(con)
    assert set(seg["segment"]) == {"true", "spurious", "latent", "none"}
    # segment definitions hold customer by customer
    beh = seg["behavioural_high"]
    att = seg["attitude_score"] >= 9
    assert ((seg["segment"] == "true") == (beh & att)).all()
    assert ((seg["segment"] == "spurious") == (beh & ~att)).all()
    assert len(seg) == data["responses"]["customer_id"].nunique()


# --------------------------------------------------------------------------- loyalty_analysis (the command's and page's one call)
def test_loyalty_analysis_on_tiny(tiny):
    from cxvalue.loyalty.analysis import loyalty_analysis
    out = loyalty_analysis(tiny)
    assert set(out) == {"loyalty_channel", "loyalty_product", "loyalty_service", "loyalty_segments",
                        "loyalty_segment_summary", "loyalty_incentive"}
    assert out["loyalty_channel"].equals(repeat_purchase_rate(tiny, "channel"))
    summ = out["loyalty_segment_summary"]
    assert summ["cut_attitude_min"].eq(9.0).all() and summ["cut_repeats_per_year"].eq(2.0).all()
    inc = out["loyalty_incentive"]
    assert list(inc["by"]) == ["all", "channel", "channel"] and list(inc.columns[:2]) == ["by", "group"]
    assert inc.iloc[0]["incentive_share"] == pytest.approx(incentive_share(tiny).iloc[0]["incentive_share"])
    # one analysis, its --by column, the cut-offs as options
    one = loyalty_analysis(tiny, what="product", by="category")
    assert list(one) == ["loyalty_product"] and one["loyalty_product"].columns[0] == "category"
    seg = loyalty_analysis(tiny, what="segments", attitude="satisfaction")["loyalty_segment_summary"]
    assert seg["cut_attitude"].eq("satisfaction").all() and seg["cut_attitude_min"].eq(8.0).all()
    assert loyalty_analysis(tiny, what="incentive", by="product")["loyalty_incentive"]["by"].tolist()[0] == "all"


def test_loyalty_analysis_errors(tiny):
    from cxvalue.loyalty.analysis import loyalty_analysis
    with pytest.raises(CxValueError, match="what"):
        loyalty_analysis(tiny, what="nope")
    with pytest.raises(CxValueError, match="--what service needs customers with a 'gold' column"):
        loyalty_analysis(tiny, what="service", flag="gold")
    with pytest.raises(CxValueError, match="transactions have no 'brand' column"):
        loyalty_analysis(tiny, what="channel", by="brand")
