"""Did following up work? The hold-out comparison recovers the follow-up effect the demo company
plants (measured against its counterfactual twin: the same company, the same draws, no effect);
the interval methods match published values; a rule without a hold-out falls back to a matched,
observational comparison that removes a planted confounder."""
from __future__ import annotations

import datetime as dt
import json

import ibis
import numpy as np
import pandas as pd
import pytest

from cxvalue.datasets.demo import GROUND_TRUTH, generate
from cxvalue.loop.cases import restore_loop
from cxvalue.loop.outcomes import (case_outcome_frame, churn_ratio, compare_outcomes, diff_means, diff_proportions,
                                   matched_difference)
from cxvalue.loop.rules import DEFAULT_RULES

CLOCK = dt.datetime(2026, 1, 1)   # the run clock of the demo's analysis date (end of 2025-12-31)
N = 20_000


def _store(tables: dict, path=None):
    con = ibis.duckdb.connect(path) if path else ibis.duckdb.connect()
    for name in ("responses", "churn_events", "transactions", "customers"):
        con.create_table(name, tables[name])
    restore_loop(con, {"cases": tables["cases"], "case_events": tables["case_events"]})
    return con


@pytest.fixture(scope="module")
def worlds():
    """Per (rule, customer): the outcomes with the planted effect and in the counterfactual twin."""
    actual = generate(N, seed=0, closed_loop=True)
    twin = generate(N, seed=0, closed_loop=True, follow_up_effect=False)
    frames = []
    for tables in (actual, twin):
        con = _store(tables)
        frames.append(case_outcome_frame(con, CLOCK))
        con.disconnect()
    return actual, frames[0], frames[1]


def test_the_demo_draws_the_hold_out_the_rules_draw(worlds):
    actual, f, _ = worlds
    assert GROUND_TRUTH["closed_loop"]["holdout_share"] == DEFAULT_RULES["holdout_share"]
    from cxvalue.holdout import in_holdout
    cases = actual["cases"]
    assert all(in_holdout("detractor", c, 0.10) == h for c, h in zip(cases.customer_id[:500], cases.holdout[:500]))
    assert set(f.group) == {"holdout", "within_sla", "late", "not_reached"}
    assert 0.07 < (f.group == "holdout").mean() < 0.13


@pytest.mark.parametrize("metric", ["retention_180", "nps_change"])
def test_hold_out_comparison_recovers_the_realised_effect(worlds, metric):
    _, f, twin = worlds
    res = compare_outcomes(f).set_index(["metric", "group"])
    est = res.loc[(metric, "within_sla")]
    m = f.merge(twin, on=["rule", "customer_id"], suffixes=("", "_cf"))
    assert (m.group == m.group_cf).all()            # the same cases, handled the same way, in both worlds
    s = m[m.group == "within_sla"]
    realised = float((s[metric] - s[metric + "_cf"]).mean())
    planted = GROUND_TRUTH["closed_loop"]
    if metric == "nps_change":
        assert 1.0 < realised <= planted["nps_uplift"]["within_sla"]      # 1.5 less what the 0-10 scale clips
    else:   # 0.30 x 0.5 of detractors kept, less those who left anyway
        assert 0.05 < realised < planted["unheard_exit_probability"] * planted["exit_cut"]["within_sla"]
    assert est.ci_low <= realised <= est.ci_high, (realised, est.ci_low, est.ci_high)
    assert est.ci_low > 0                                          # and the effect is detected
    assert not est.small_sample and est.n_control >= 40


def test_no_effect_in_the_twin(worlds):
    _, _, twin = worlds
    res = compare_outcomes(twin).set_index(["metric", "group"])
    for metric in ("retention_180", "nps_change", "repurchase_90", "repurchase_180"):
        r = res.loc[(metric, "worked")]
        assert r.ci_low < 0 < r.ci_high, (metric, r.ci_low, r.ci_high)


def test_intention_to_treat_is_randomised_and_the_timing_split_is_not(worlds):
    _, f, _ = worlds
    res = compare_outcomes(f)
    assert set(res.method) == {"holdout"}
    assert res.loc[res.group == "worked", "observational"].eq(False).all()
    assert res.loc[res.group != "worked", "observational"].eq(True).all()
    r = res[(res.metric == "retention_180") & (res.group == "within_sla")].iloc[0]
    assert -0.7 < r.relative_churn_change < -0.1                   # detractors followed up in time churn less


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, example (a): 56/70 - 48/80, method 10
    d, lo, hi, _ = diff_proportions(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)
    # example (b): 9/10 - 3/10 → 0.1705, 0.8090
    _, lo, hi, _ = diff_proportions(9, 10, 3, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.1705, 0.8090)


def test_welch_and_katz_intervals():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 1.0, 400), rng.normal(0.0, 2.0, 300)
    d, lo, hi, p = diff_means(a, b)
    se = np.sqrt(a.var(ddof=1) / 400 + b.var(ddof=1) / 300)
    assert d == pytest.approx(a.mean() - b.mean()) and lo < d < hi and hi - lo == pytest.approx(2 * 1.9647 * se, rel=0.01)
    assert p < 1e-6
    rel, rlo, rhi = churn_ratio(10, 100, 20, 100)      # RR 0.5, Katz: exp(±1.96·sqrt(1/10-1/100+1/20-1/100))
    assert rel == pytest.approx(-0.5)
    se = np.sqrt(1 / 10 - 1 / 100 + 1 / 20 - 1 / 100)
    assert (rlo, rhi) == (pytest.approx(0.5 * np.exp(-1.959964 * se) - 1), pytest.approx(0.5 * np.exp(1.959964 * se) - 1))


def test_matched_fallback_removes_a_confounder_and_says_it_is_observational():
    """No hold-out: high-value customers are both easier to reach and more loyal; matching on
    value tier recovers the true effect (+0.10) where the raw difference does not."""
    rng = np.random.default_rng(7)
    n = 6000
    tier = rng.choice(["platinum", "lead"], n)
    reached = rng.random(n) < np.where(tier == "platinum", 0.9, 0.4)
    base = np.where(tier == "platinum", 0.85, 0.55)
    retained = (rng.random(n) < base + 0.10 * reached).astype(float)
    f = pd.DataFrame({"rule": "manual_rule", "group": np.where(reached, "within_sla", "not_reached"),
                      "retention_180": retained, "value_tier": tier, "nps_band": "4-6", "tenure_band": "1-3"})
    res = compare_outcomes(f)
    r = res[res.metric == "retention_180"].iloc[0]
    assert (r.method, r.group, r.control, bool(r.observational)) == ("matched", "contacted", "not_reached", True)
    assert r.ci_low < 0.10 < r.ci_high
    naive = retained[reached].mean() - retained[~reached].mean()
    assert naive > 0.2 and not (r.ci_low < naive < r.ci_high)
    direct = matched_difference(f[reached], f[~reached], "retention_180", ["value_tier"])
    assert direct["effect"] == pytest.approx(r.effect)


def test_outcomes_step_and_cli(tmp_path):
    """The step writes case_outcomes; `cxvalue cases outcomes --json` is its view; the report has it."""
    from cli_runner import cx
    tables = generate(3000, seed=2, closed_loop=True)
    path = tmp_path / "store.duckdb"
    con = _store(tables, str(path))
    con.disconnect()
    r = cx("cases", "outcomes", "--store", path, "--json", "--lang", "zh")
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)
    assert v["id"] == "case_outcomes" and v["meta"]["rules"] == ["detractor"]
    kpis = next(b for b in v["blocks"] if b["id"] == "outcomes-detractor")
    assert any("留存" in i["label"] for i in kpis["items"])
    table = next(b for b in v["blocks"] if b["id"] == "outcomes-detractor-table")
    assert {row["group"] for row in table["rows"]} >= {"全部处理的案例", "时限内回访*"}
