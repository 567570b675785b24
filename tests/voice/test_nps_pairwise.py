"""All-pairs NPS comparisons with multiple-comparison corrections, per-segment trends, p-values in JSON."""
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxvalue.voice.nps import adjust_p, nps_analysis, nps_difference, nps_pairwise


def test_adjustments_match_their_definitions():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2, np.nan])
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2), "holm") = 0.04 0.09 0.09 0.025 0.2
    np.testing.assert_allclose(adjust_p(p, "holm")[:5], [0.04, 0.09, 0.09, 0.025, 0.2])
    np.testing.assert_allclose(adjust_p(p, "bh")[:5], stats.false_discovery_control(p[:5], method="bh"))
    assert np.isnan(adjust_p(p, "holm")[5]) and np.array_equal(adjust_p(p, "none")[:5], p[:5])
    with pytest.raises(Exception, match="adjust"):
        adjust_p(p, "bonferroni-ish")


def _answers(seed=2, n=300):
    rng = np.random.default_rng(seed)
    parts = [pd.DataFrame({"nps": np.clip(rng.normal(base, 2, n).round(), 0, 10).astype(int), "channel": name,
                           "date": pd.date_range("2024-01-01", periods=n, freq="D")})
             for name, base in (("app", 9), ("web", 8), ("call", 6), ("shop", 8))]
    return pd.concat(parts, ignore_index=True)


def test_every_pair_is_compared_and_adjusted():
    df = _answers()
    pw = nps_pairwise(df, "channel")
    assert len(pw) == 6 and set(pw["adjust"]) == {"holm"}
    row = pw[(pw["a"] == "app") & (pw["b"] == "call")].iloc[0]
    d = nps_difference(df.loc[df.channel == "app", "nps"], df.loc[df.channel == "call", "nps"])
    assert row["p_value"] == pytest.approx(d.p_value, rel=1e-12) and row["difference"] == pytest.approx(d.difference)
    np.testing.assert_allclose(pw["p_adjusted"], adjust_p(pw["p_value"], "holm"))
    assert (pw["p_adjusted"] >= pw["p_value"]).all()
    bh = nps_pairwise(df, "channel", adjust="bh")
    assert (bh["p_adjusted"] <= pw["p_adjusted"] + 1e-15).all()     # BH is never stricter than Holm
    shop_web = pw[(pw["a"] == "shop") & (pw["b"] == "web")].iloc[0]
    assert not shop_web["significant"]                               # two segments with the same mean


def test_segment_trend_and_the_cli(tmp_path):
    from cxvalue.interfaces.cli.main import app
    from typer.testing import CliRunner
    df = _answers()
    out = nps_analysis(df, by=["channel"], trend="Q")
    st = out["nps_segment_trend"]
    assert set(st["segment"]) == {"app", "web", "call", "shop"} and set(st["freq"]) == {"Q"}
    app_q1 = st[(st["segment"] == "app") & (st["period"] == "2024Q1")].iloc[0]
    q1 = df[(df.channel == "app") & (df.date < "2024-04-01")]
    assert app_q1["n"] == len(q1)
    f = tmp_path / "a.csv"
    df.assign(date=df.date.dt.strftime("%Y-%m-%d")).to_csv(f, index=False)
    res = CliRunner().invoke(app, ["nps", str(f), "--by", "channel", "--trend", "Q", "--adjust", "bh", "--json"])
    assert res.exit_code == 0, res.output
    view = json.loads(res.output)
    ids = [b["id"] for b in view["blocks"]]
    assert "nps-segment-trend" in ids and "nps-pairs-channel" in ids
    pairs = next(b for b in view["blocks"] if b["id"] == "nps-pairs-channel")
    tiny = min(r["p_value"] for r in pairs["rows"])
    assert 0 < tiny < 1e-12          # a tiny p-value keeps its digits in --json (was rounded to 0.0)
