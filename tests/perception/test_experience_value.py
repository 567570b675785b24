"""E1 (satisfaction at survey time → the next 12 months) and E2 (money value of improvement)."""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxvalue.datasets import demo
from cxvalue.errors import CxValueError, NotFittedError, SmallSampleWarning
from cxvalue.perception.cem import cem_summary
from cxvalue.perception.drivers import KeyDriverAnalysis
from cxvalue.perception.experience_value import ExperienceValue, assign_groups, followup_frame, value_sentence
from cxvalue.perception.roi import experience_roi
from cxvalue.store import connect

_spec = importlib.util.spec_from_file_location("cx_tiny_data", Path(__file__).parents[1] / "loyalty" / "tiny_data.py")
tiny_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_data)
GT = demo.GROUND_TRUTH


# --------------------------------------------------------------------------- the engine-side link
def test_followup_frame_exact():
    con = tiny_data.make_store()
    f = followup_frame(con)
    # last transaction day 2024-12-31 → answers up to 2024-01-01 count; c3 answered too late;
    # c1's first answer (2023-01-15, satisfaction 9) counts, not the later one
    assert list(f.index) == ["c1", "c2", "c4"]
    assert f["score"].tolist() == [9.0, 4.0, 7.0]
    assert f["survey_day"].astype(str).tolist() == ["2023-01-15", "2023-03-02", "2023-02-02"]
    assert f["purchases"].tolist() == [1, 1, 0]          # c2: ticket on day +3; its refund does not count
    assert f["spend"].tolist() == [50.0, 0.0, 0.0]       # net of the refund
    assert f["gross"].tolist() == [50.0, 60.0, 0.0]
    assert f["purchases_before"].tolist() == [1, 1, 1]   # c2's ticket and add-on on one day: one occasion
    assert f["gross_before"].tolist() == [100.0, 50.0, 200.0]
    assert f["new_categories"].tolist() == [1, 0, 0]     # c1 bought a lounge pass for the first time
    assert f["subscriber"].tolist() == [1, 1, 0] and f["renewed"].tolist() == [0, 1, 0]
    assert f["recurring_before"].tolist() == [298.0, 120.0, 0.0]
    assert f["recurring_after"].tolist() == [0.0, 120.0, 0.0]
    seg = followup_frame(con, by="touchpoint")
    assert seg["segment"].tolist() == ["app", "web", "app"]
    assert followup_frame(con, window_days=30).index.tolist() == ["c1", "c2", "c3", "c4"]


def test_assign_groups():
    g = assign_groups(pd.Series([0, 5, 5.5, 7.9, 8, 10, np.nan]))
    assert g.astype(object).tolist()[:6] == ["dissatisfied", "dissatisfied", "neutral", "neutral", "satisfied",
                                              "satisfied"]
    assert pd.isna(g.iloc[6])
    assert assign_groups([6, 7, 9], "nps").astype(str).tolist() == ["detractor", "passive", "promoter"]
    assert assign_groups([2, 3, 4], cuts=(2, 4)).astype(str).tolist() == ["dissatisfied", "neutral", "satisfied"]
    with pytest.raises(CxValueError, match="the low cut must be below the high cut"):
        assign_groups([1], cuts=(8, 5))


def _frame(rng, n=600):
    score = rng.choice([3, 7, 9], n)
    purchases = rng.poisson(np.where(score == 9, 4, 2)) + 1
    gross = purchases * np.where(score == 9, 150.0, 100.0)
    return pd.DataFrame({"score": score, "purchases": purchases, "gross": gross, "spend": gross,
                         "subscriber": 1, "renewed": (rng.random(n) < np.where(score == 9, 0.8, 0.4)).astype(int)},
                        index=[f"k{i}" for i in range(n)])


def test_experience_value_on_a_frame_point_estimates_and_intervals():
    rng = np.random.default_rng(1)
    df = _frame(rng)
    ev = ExperienceValue(n_boot=300, random_state=7).fit(df)
    sat, dis = df[df.score == 9], df[df.score == 3]
    c = ev.comparison_.set_index("metric")
    assert c.loc["spend", "estimate"] == pytest.approx(sat.spend.mean() / dis.spend.mean() - 1)
    assert c.loc["spend_per_purchase", "estimate"] == pytest.approx(
        (sat.gross.sum() / sat.purchases.sum()) / (dis.gross.sum() / dis.purchases.sum()) - 1)
    assert c.loc["spend_per_purchase", "estimate"] == pytest.approx(0.5)     # 150 vs 100 per purchase, no noise
    r_s, r_d = sat.renewed.mean(), dis.renewed.mean()
    assert c.loc["renewal_rate", "estimate"] == pytest.approx(r_s - r_d)
    assert c.loc["expected_tenure_years", "high"] == pytest.approx(1 / (1 - r_s))
    assert c.loc["spend", "ci_low"] < c.loc["spend", "estimate"] < c.loc["spend", "ci_high"]
    assert c.loc["spend", "p_value"] < 0.01
    # the bootstrap is reproducible with the seed and changes with it
    again = ExperienceValue(n_boot=300, random_state=7).fit(df).comparison_
    pd.testing.assert_frame_equal(again, ev.comparison_)
    other = ExperienceValue(n_boot=300, random_state=8).fit(df).comparison_
    assert not np.allclose(other["ci_low"], ev.comparison_["ci_low"])
    g = ev.table()
    assert set(g["group"]) == {"dissatisfied", "neutral", "satisfied"}
    assert g.set_index(["group", "metric"]).loc[("satisfied", "purchases"), "estimate"] == \
        pytest.approx(sat.purchases.mean())
    s = ev.summary_.set_index("metric")
    assert list(ev.summary_.columns[:7]) == ["segment", "metric", "estimate", "std_error", "ci_low", "ci_high", "p"]
    assert s.loc["spend", "estimate"] == c.loc["spend", "estimate"] and s.loc["spend", "std_error"] > 0


def test_sentence_en_and_zh():
    ev = ExperienceValue(n_boot=200).fit(_frame(np.random.default_rng(2)))
    en, zh = ev.sentence("en"), ev.sentence("zh")
    c = ev.comparison_.set_index("metric")
    pct = f"{100 * c.loc['spend', 'estimate']:+.0f}%"
    assert en.startswith(f"Satisfied customers spent {pct} (95% CI ")
    assert "more in the 12 months after the survey than dissatisfied customers" in en
    assert f"renewal {c.loc['renewal_rate', 'high']:.0%} vs {c.loc['renewal_rate', 'low']:.0%}" in en
    assert "expected tenure" in en and en.endswith("years.")
    assert zh.startswith("满意客户在调查后 12 个月内的消费比不满意客户多 " + pct) and "续订率" in zh and zh.endswith("。")
    assert value_sentence(ev.comparison_, lang="en") == en
    nps = ExperienceValue(measure="nps", n_boot=0).fit(_frame(np.random.default_rng(2)))
    assert nps.sentence().startswith("Promoter customers spent")


def test_errors_and_contract():
    with pytest.raises(NotFittedError):
        ExperienceValue().sentence()
    with pytest.raises(CxValueError, match="measure='csat' is not valid"):
        ExperienceValue(measure="csat").fit(pd.DataFrame({"score": [1]}))
    with pytest.raises(CxValueError, match="needs a 'score' column"):
        ExperienceValue().fit(pd.DataFrame({"spend": [1.0]}))
    with pytest.raises(CxValueError, match="column 'group' has value"):
        ExperienceValue().fit(pd.DataFrame({"group": ["happy"], "spend": [1.0]}))
    con = tiny_data.make_store()
    with pytest.raises(CxValueError, match="answers must be dated at least 3650 days"):
        ExperienceValue(window_days=3650).fit(con)
    with pytest.warns(SmallSampleWarning, match="fewer than min_n=30"):
        ev = ExperienceValue(n_boot=10).fit(con)
        assert ev.fit(con) is ev




def test_experience_roi_exact_on_a_frame():
    # outcome = x1 + 2 exactly; closing x1's gap (ideal = x1 + 1) lifts every score by 1
    x1 = np.tile(np.arange(2, 9), 6).astype(float)              # scores 4..10
    rng = np.random.default_rng(0)
    x2 = rng.integers(0, 11, len(x1)).astype(float)
    y = x1 + 2
    cls = np.where(y <= 6, 0, np.where(y >= 9, 2, 1))
    value = np.array([100.0, 200.0, 300.0])[cls]
    df = pd.DataFrame({"nps": y, "experience_a": x1, "ideal_a": x1 + 1, "experience_b": x2, "ideal_b": 10.0,
                       "value": value})
    roi = experience_roi(df, n_boot=0).set_index("item")
    assert roi.loc["experience_a", "coefficient"] == pytest.approx(1.0)
    assert roi.loc["experience_b", "coefficient"] == pytest.approx(0.0, abs=1e-9)
    moved = (y == 6).sum() + (y == 8).sum()                      # 6 → 7 (passive), 8 → 9 (promoter)
    assert roi.loc["experience_a", "customers"] == moved
    assert roi.loc["experience_a", "value"] == pytest.approx(100.0 * moved)
    assert roi.loc["experience_b", "value"] == pytest.approx(0.0)
    assert roi.loc["experience_a", "mean_gap"] == pytest.approx(1.0)
    assert roi.loc["experience_a", "rank"] == 1
    assert roi.loc["detractor_to_passive", "value"] == pytest.approx(100.0 * (cls == 0).sum())
    assert roi.loc["detractor_to_promoter", "value"] == pytest.approx(200.0 * (cls == 0).sum())
    n = len(y)
    before = 100 * (np.mean(cls == 2) - np.mean(cls == 0))
    assert roi.loc["detractor_to_passive", "nps_change"] == pytest.approx(100 * np.mean(cls == 2) - before)
    with pytest.raises(CxValueError, match="needs a 'value' column"):
        experience_roi(df.drop(columns="value"))
    assert roi["value_per_customer"].iloc[0] == pytest.approx(roi["value"].iloc[0] / n)


# --------------------------------------------------------------------------- the demo company's planted truth
@pytest.fixture(scope="module")
def demo_store():
    data = demo.generate(20_000, seed=0, truth=True)
    con = connect("duckdb://")
    for name in ("customers", "transactions", "subscriptions", "responses"):
        con.create_table(name, data[name])
    return con, data


def test_e1_recovers_the_planted_spend_effect(demo_store):
    """Planted: satisfied customers' tickets cost 1.3x the dissatisfied ones' (GROUND_TRUTH spend
    class_multiplier), they buy 1.6x as often and renew yearly plans at 74% vs 43%."""
    con, data = demo_store
    planted = GT["spend"]["class_multiplier"]
    truth = data["truth"].set_index("customer_id")["satisfaction_class"]
    f = followup_frame(con)
    # 1) the engine-side link with the true (latent) class: per-purchase uplift = planted ± 0.10
    oracle = f.assign(group=truth.reindex(f.index).to_numpy())
    ev = ExperienceValue(n_boot=300, random_state=0).fit(oracle)
    c = ev.comparison_.set_index("metric")
    assert c.loc["spend_per_purchase", "estimate"] == pytest.approx(planted["satisfied"] / planted["dissatisfied"] - 1,
                                                                   abs=0.10)
    assert c.loc["spend_per_purchase", "ci_low"] < 0.30 < c.loc["spend_per_purchase", "ci_high"]
    assert c.loc["purchases", "estimate"] > 0.6                 # planted rate 1.6x, plus fewer dropouts
    assert c.loc["renewal_rate", "estimate"] > 0.2
    # 2) what the analysis sees through the survey: survey groups mix latent classes, so the
    #    expected per-purchase uplift is the planted multipliers averaged over the confusion matrix;
    #    it must lie inside the bootstrap interval of the survey-based estimate
    ev = ExperienceValue(n_boot=400, random_state=0).fit(con)
    c = ev.comparison_.set_index("metric")
    grp = ev.customers_["group"].astype(str)
    conf = pd.crosstab(grp, truth.reindex(grp.index), normalize="index")
    mult = pd.Series(planted)
    expected = (conf.loc["satisfied"] * mult).sum() / (conf.loc["dissatisfied"] * mult).sum() - 1
    assert c.loc["spend_per_purchase", "ci_low"] < expected < c.loc["spend_per_purchase", "ci_high"]
    # 12-month spend: satisfied customers spend clearly more (+50% at least), with a tight enough CI
    assert c.loc["spend", "ci_low"] > 0.5 and c.loc["spend", "estimate"] > 0.8
    assert c.loc["renewal_rate", "estimate"] > 0.05 and c.loc["expected_tenure_years", "estimate"] > 0
    assert ev.sentence().startswith("Satisfied customers spent +")


def test_key_gap_is_convenience(demo_store):
    """Planted: convenience has the most negative experience − expectation gap (about −2), the
    highest importance (9) and the largest NPS weight (0.6)."""
    con, data = demo_store
    r = data["responses"]
    before = r[r["date"] < pd.Timestamp("2025-07-01")]
    g = cem_summary(before).set_index("dimension")
    assert g["key_rank"].idxmin() == "convenience" and g["requirement_rank"].idxmin() == "convenience"
    assert g.loc["convenience", "satisfaction"] == pytest.approx(-2.0, abs=0.15)
    assert g.loc["convenience", "key_experience"] == pytest.approx(-18.0, abs=1.5)
    kda = KeyDriverAnalysis(methods="relative_weights").fit(r, outcome="nps", drivers=[f"experience_{d}" for d in demo.DIMS])
    assert kda.table("relative_weights")["driver"].iloc[0] == "experience_convenience"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        roi = experience_roi(con, n_boot=30)
    drv = roi[roi["kind"] == "driver"].sort_values("rank")
    assert drv["item"].iloc[0] == "experience_convenience"
    assert drv["value"].iloc[0] > 2 * drv["value"].iloc[1]           # by far the largest pay-off
    conv = drv.set_index("item").loc["experience_convenience"]
    assert conv["coefficient"] == pytest.approx(GT["nps"]["weights"]["convenience"], abs=0.15)
    assert conv["ci_low"] > drv["ci_high"].iloc[1]
    assert roi.attrs["base_customers"] == 20_000 and set(roi["value_source"]) == {"spend_12m"}
