"""Uplift modelling on simulated campaigns with planted heterogeneous effects."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.churn.uplift import UpliftModel, average_treatment_effect, qini_curve, qini_summary
from cxvalue.errors import CxValueError


def campaign(n: int = 6000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """A randomised retention offer: renewal without it depends on satisfaction and tenure; the
    offer helps mid-satisfaction customers a lot, the satisfied not at all (sure things), the very
    dissatisfied little (lost causes), and annoys young new customers (do not disturb)."""
    rng = np.random.default_rng(seed)
    sat = rng.normal(0, 1, n)
    tenure = rng.gamma(2.0, 2.0, n)
    age = rng.integers(18, 80, n)
    channel = rng.choice(["app", "web", "call"], n)
    noise = rng.normal(0, 1, n)
    base = 1 / (1 + np.exp(-(0.3 + 1.5 * sat + 0.15 * tenure)))
    tau = np.where(np.abs(sat) < 0.6, 0.25, 0.0) - np.where((age < 28) & (tenure < 2), 0.15, 0.0)
    treated = rng.random(n) < 0.5
    p = np.clip(base + treated * tau, 0.01, 0.99)
    y = (rng.random(n) < p).astype(int)
    X = pd.DataFrame({"satisfaction": sat, "tenure": tenure, "age": age, "channel": channel, "noise": noise},
                     index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))
    return X, treated.astype(int), y, tau


@pytest.mark.parametrize("learner", ["x", "t"])
def test_the_planted_effects_are_recovered_out_of_sample(learner):
    X, t, y, tau = campaign()
    m = UpliftModel(learner=learner, permutations=100).fit(X, t, y)
    # the ranking: held-out uplift follows the planted effect, the Qini is far above random
    assert np.corrcoef(m.oof_.uplift, tau)[0, 1] > 0.5
    assert m.qini_["coefficient"] > 3 * m.qini_["random_p95"] and m.qini_["p_random"] < 0.02
    # the average effect: the planted one is inside the interval, the mean prediction near it
    a = m.ate_
    truth = float(tau.mean())
    assert a["ci_low"] < truth < a["ci_high"]
    assert abs(m.oof_.uplift.mean() - a["estimate"]) < 2.5 * a["std_error"]
    # the top decile gains most, the bottom one least: observed effects with their intervals
    d = m.deciles_
    assert d.observed.iloc[0] > 0.15 and d.observed.iloc[-1] < a["estimate"] - 0.03
    # segments: the planted groups
    seg = m.oof_.segment
    mid = np.abs(X.satisfaction) < 0.4
    assert (seg[mid] == "persuadable").mean() > 0.6
    assert (seg[X.satisfaction > 1.5] == "sure_thing").mean() > 0.6
    young = (X.age < 25) & (X.tenure < 1.5) & (np.abs(X.satisfaction) > 0.9)
    assert (seg[young] == "do_not_disturb").mean() > 0.4
    s = m.summary_.set_index("parameter")
    assert list(s.columns[:4]) == ["estimate", "std_error", "ci_low", "ci_high"]
    new = m.predict(X.iloc[:50])
    assert list(new.columns) == ["uplift", "p_treated", "p_control", "segment"] and len(new) == 50


def test_without_an_effect_the_qini_is_not_significant():
    X, t, y, _ = campaign(n=3000, seed=4)
    rng = np.random.default_rng(9)
    t = rng.permutation(t)          # treatment unrelated to the outcome
    m = UpliftModel(learner="t", permutations=200).fit(X, t, y)
    assert m.qini_["p_random"] > 0.05
    assert m.ate_["ci_low"] < 0 < m.ate_["ci_high"]


def test_qini_of_a_perfect_and_a_reversed_ranking():
    rng = np.random.default_rng(2)
    n = 4000
    t = rng.random(n) < 0.5
    gain = rng.random(n) < 0.5                  # the offer works on half of the customers
    y = np.where(t, gain, 0).astype(float)     # controls never renew
    good = qini_summary(gain.astype(float), t, y, permutations=50)["coefficient"]
    bad = qini_summary(-gain.astype(float), t, y, permutations=50)["coefficient"]
    assert good > 0.04 and bad < -0.04
    c = qini_curve(gain.astype(float), t, y)
    assert c.share_targeted.iloc[0] == 0 and c.share_targeted.iloc[-1] == 1
    assert c.incremental.iloc[-1] == pytest.approx(c.random.iloc[-1])
    assert (c.perfect >= c.incremental - 1e-12).all()


def test_ate_matches_a_welch_test():
    from scipy import stats
    rng = np.random.default_rng(1)
    t = np.r_[np.ones(300), np.zeros(500)]
    y = np.r_[rng.normal(1.2, 2, 300), rng.normal(1.0, 1, 500)]
    a = average_treatment_effect(t, y)
    w = stats.ttest_ind(y[:300], y[300:], equal_var=False)
    assert a["estimate"] == pytest.approx(y[:300].mean() - y[300:].mean())
    assert a["estimate"] / a["std_error"] == pytest.approx(w.statistic)


def test_bad_campaigns_are_one_line_errors():
    X, t, y, _ = campaign(n=400)
    with pytest.raises(CxValueError, match="treated and a control group"):
        UpliftModel().fit(X, np.ones(len(X)), y)
    with pytest.raises(CxValueError, match="same outcome"):
        UpliftModel().fit(X, t, np.zeros(len(X)))
    with pytest.raises(CxValueError, match="learner"):
        UpliftModel(learner="s").fit(X, t, y)
    yy = y.astype(float)
    yy[3] = np.nan
    with pytest.raises(CxValueError, match="1 missing"):
        UpliftModel().fit(X, t, yy)


def test_uplift_from_a_file_on_the_cli(tmp_path):
    """`cxvalue uplift FILE --treatment --treated --control --outcome --json`: the average effect
    with its interval, the held-out Qini and the deciles; a row in neither arm is left out, said."""
    import json
    from typer.testing import CliRunner
    from cxvalue.interfaces.cli.main import app
    X, t, y, tau = campaign(3000, seed=5)
    df = X.reset_index()
    df["group"] = np.where(t == 1, "offer", "holdout")
    df["renewed"] = np.where(y == 1, "Yes", "No")
    df.loc[7, "group"] = "pilot"
    f = tmp_path / "campaign.csv"
    df.to_csv(f, index=False)
    out = tmp_path / "out" / "uplift.csv"
    res = CliRunner().invoke(app, ["uplift", str(f), "--treatment", "group", "--treated", "offer", "--control", "holdout",
                                   "--outcome", "renewed", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    v = json.loads(res.output)
    blocks = {b["id"]: b for b in v["blocks"]}
    kpis = {k["key"]: k["value"] for k in blocks["uplift"]["items"]}
    assert kpis["campaign_customers"] == 2999
    m = v["meta"]["uplift"]
    assert m["ate_ci_low"] < float(np.delete(tau, 7).mean()) < m["ate_ci_high"] and m["qini_p_random"] < 0.05
    assert [r["decile"] for r in blocks["uplift-deciles"]["rows"]] == list(range(1, 11))
    assert any("neither arm" in w["message"] for w in blocks["uplift"]["warnings"])
    written = pd.read_csv(out, encoding="utf-8-sig")
    assert len(written) == 2999 and {"customer_id", "uplift", "segment"} <= set(written.columns)
    bad = CliRunner().invoke(app, ["uplift", str(f), "--treatment", "group", "--treated", "offer", "--control", "nobody",
                                   "--outcome", "renewed"])
    assert bad.exit_code != 0 and "--control 'nobody': no row of 'group' has that value" in str(bad.exception)
