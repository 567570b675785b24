"""NPS: classification, Wald / adjusted-Wald intervals, differences, segments, trends (D1, D8)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxvalue.errors import CxValueError, SmallSampleWarning
from cxvalue.voice.nps import (
    MIN_N, NpsEstimate, classify_nps, nps_by, nps_difference, nps_from_counts, nps_score, nps_trend,
)


def _answers(promoters: int, passives: int, detractors: int, rng=None) -> np.ndarray:
    rng = rng or np.random.default_rng(0)
    a = np.concatenate([rng.integers(9, 11, promoters), rng.integers(7, 9, passives),
                        rng.integers(0, 7, detractors)]).astype(float)
    rng.shuffle(a)
    return a


# --------------------------------------------------------------------------- reference case
def test_reference_case_wald():
    # ../shared/data/README.md "NPS interval test case": n=500, 200 promoters, 150 detractors
    e = nps_from_counts(200, 150, 150)
    assert e.n == 500 and e.nps == pytest.approx(10.0, abs=1e-12)
    assert round(e.ci_low, 3) == 2.719 and round(e.ci_high, 3) == 17.281
    # Var = [pP + pD − (pP − pD)²] / n
    assert e.std_error == pytest.approx(100 * np.sqrt((0.4 + 0.3 - 0.1 ** 2) / 500), rel=1e-12)
    assert (e.promoters_pct, e.passives_pct, e.detractors_pct) == pytest.approx((40.0, 30.0, 30.0))


def test_reference_case_adjusted_wald():
    # add 3/4 promoter, 3/4 detractor, 3 to n → 9.940, CI [2.687, 17.194]
    e = nps_from_counts(200, 150, 150, method="adjusted_wald")
    assert e.nps == pytest.approx(10.0)                  # the raw NPS is kept
    assert round(e.center, 3) == 9.940
    assert round(e.ci_low, 3) == 2.687 and round(e.ci_high, 3) == 17.194


def test_nps_score_from_answers_matches_counts():
    a = _answers(200, 150, 150)
    a = np.append(a, [np.nan, np.nan])                   # missing answers are ignored
    e = nps_score(a)
    assert isinstance(e, NpsEstimate)
    assert (e.n, e.promoters, e.passives, e.detractors) == (500, 200, 150, 150)
    assert e == nps_from_counts(200, 150, 150)
    e90 = nps_score(a, confidence=0.90)
    assert e90.ci_high - e90.ci_low < e.ci_high - e.ci_low


def test_adjusted_wald_coverage_simulation():
    # known ground truth: trinomial with pP=.4, pD=.3 → NPS=10; n=40, 4000 samples
    rng = np.random.default_rng(7)
    counts = rng.multinomial(40, [0.4, 0.3, 0.3], size=4000)
    from cxvalue.voice.nps import _estimate_arrays
    for method, lo_cov in (("wald", 0.92), ("adjusted_wald", 0.93)):
        _, _, _, _, lo, hi = _estimate_arrays(counts[:, 0], counts[:, 1], counts[:, 2], method, 1.959964)
        cover = np.mean((lo <= 10.0) & (hi >= 10.0))
        assert lo_cov < cover < 0.975, (method, cover)


def test_classify_boundaries_and_missing():
    s = pd.Series([0, 6, 7, 8, 9, 10, np.nan], index=list("abcdefg"))
    c = classify_nps(s)
    assert list(c.index) == list("abcdefg")
    assert list(c.iloc[:6]) == ["detractor", "detractor", "passive", "passive", "promoter", "promoter"]
    assert pd.isna(c.iloc[6])
    assert c.cat.ordered and list(c.cat.categories) == ["detractor", "passive", "promoter"]


@pytest.mark.parametrize("bad, msg", [
    ([1, 11], r"outside 0-10"),
    ([1, -1], r"outside 0-10"),
    ([7.5, 8], r"expected whole numbers 0-10, got 7.5"),
    (["9", "ten"], r"expected numbers 0-10, got 'ten'"),
])
def test_bad_answers_are_rejected(bad, msg):
    with pytest.raises(CxValueError, match=msg):
        nps_score(pd.Series(bad, dtype=object if isinstance(bad[1], str) else float))


def test_bad_arguments():
    with pytest.raises(CxValueError, match=r"method='exact' is not valid: expected one of 'wald', 'adjusted_wald'"):
        nps_from_counts(1, 1, 1, method="exact")
    with pytest.raises(CxValueError, match=r"confidence=95 is not valid"):
        nps_from_counts(1, 1, 1, confidence=95)
    with pytest.raises(CxValueError, match=r"no answers"):
        nps_from_counts(0, 0, 0)
    with pytest.raises(CxValueError, match=r"no answers"):
        nps_score([np.nan, np.nan])


def test_small_sample_warning():
    with pytest.warns(SmallSampleWarning, match=r"rests on 10 answers \(< min_n=30\)"):
        nps_score(_answers(4, 3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nps_score(_answers(4, 3, 3), min_n=5)


# --------------------------------------------------------------------------- differences
def test_difference_z_test():
    a = nps_from_counts(200, 150, 150)         # +10
    b = nps_from_counts(150, 150, 200)         # −10
    d = nps_difference(a, b)
    var = (0.4 + 0.3 - 0.01) / 500 * 1e4       # the same variance on both sides, points²
    z = 20.0 / np.sqrt(2 * var)
    assert d.difference == pytest.approx(20.0)
    assert d.z == pytest.approx(z, rel=1e-12)
    assert d.p_value == pytest.approx(2 * stats.norm.sf(z), rel=1e-10)
    assert d.significant and d.ci_low > 0
    # from raw answers, same result
    d2 = nps_difference(_answers(200, 150, 150), _answers(150, 150, 200, np.random.default_rng(1)))
    assert d2.z == pytest.approx(z, rel=1e-12)
    same = nps_difference(a, a)
    assert same.z == 0 and same.p_value == pytest.approx(1.0) and not same.significant


def test_difference_adjusted_wald_uses_adjusted_centres():
    d = nps_difference(nps_from_counts(200, 150, 150), nps_from_counts(150, 150, 200), method="adjusted_wald")
    a = nps_from_counts(200, 150, 150, method="adjusted_wald")
    b = nps_from_counts(150, 150, 200, method="adjusted_wald")
    assert d.z == pytest.approx((a.center - b.center) / np.hypot(a.std_error, b.std_error))


# --------------------------------------------------------------------------- segments and trend
@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    n = 3000
    seg = rng.choice(["app", "call_centre", "counter", "web"], n, p=[0.4, 0.3, 0.295, 0.005])
    base = {"app": 8.0, "call_centre": 6.0, "counter": 7.0, "web": 7.0}
    score = np.clip(np.round(rng.normal([base[s] for s in seg], 2.0)), 0, 10)
    date = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D")
    return pd.DataFrame({"nps": score, "touchpoint": seg, "date": date})


def test_nps_by_matches_per_segment_estimates(survey):
    with pytest.warns(SmallSampleWarning, match=r"1 segment\(s\) with fewer than min_n=30 answers.*web"):
        t = nps_by(survey, "touchpoint")
    assert list(t.columns) == ["touchpoint", "n", "promoters_pct", "passives_pct", "detractors_pct", "nps",
                               "std_error", "ci_low", "ci_high", "small_sample", "p_value_vs_rest"]
    assert list(t["touchpoint"]) == ["app", "call_centre", "counter", "web"]
    for row in t.itertuples():
        sub = survey.loc[survey["touchpoint"] == row.touchpoint, "nps"]
        rest = survey.loc[survey["touchpoint"] != row.touchpoint, "nps"]
        e = nps_score(sub, min_n=0)
        assert (row.n, row.nps, row.ci_low, row.ci_high) == pytest.approx((e.n, e.nps, e.ci_low, e.ci_high))
        assert row.promoters_pct + row.passives_pct + row.detractors_pct == pytest.approx(100)
        assert row.small_sample == (e.n < MIN_N)
        assert row.p_value_vs_rest == pytest.approx(nps_difference(sub, rest).p_value)
    assert t["n"].sum() == len(survey)


def test_nps_by_two_keys_and_missing(survey):
    df = survey.assign(tier=np.where(np.arange(len(survey)) % 2, "gold", "silver"))
    df.loc[df.index[:5], "nps"] = np.nan
    with pytest.warns(SmallSampleWarning):
        t = nps_by(df, ["touchpoint", "tier"], method="adjusted_wald")
    assert t["n"].sum() == len(df) - 5
    assert {"touchpoint", "tier"} <= set(t.columns)


def test_nps_by_errors(survey):
    with pytest.raises(CxValueError, match=r"nps_by: column\(s\) \['segment'\] not in the data"):
        nps_by(survey, "segment")
    with pytest.raises(CxValueError, match=r"expected a pandas DataFrame"):
        nps_by([1, 2], "x")


def test_nps_trend_quarterly(survey):
    t = nps_trend(survey, "date", freq="Q")
    assert list(t["period"]) == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert t["period_start"].iloc[1] == pd.Timestamp("2024-04-01")
    q = pd.PeriodIndex(survey["date"], freq="Q")
    for i, row in enumerate(t.itertuples()):
        e = nps_score(survey.loc[q == pd.Period(row.period, "Q"), "nps"])
        assert row.nps == pytest.approx(e.nps) and row.n == e.n
        if i == 0:
            assert np.isnan(row.nps_change) and np.isnan(row.p_value_change)
        else:
            prev = survey.loc[q == pd.Period(t["period"].iloc[i - 1], "Q"), "nps"]
            cur = survey.loc[q == pd.Period(row.period, "Q"), "nps"]
            d = nps_difference(cur, prev)
            assert row.nps_change == pytest.approx(d.difference)
            assert row.p_value_change == pytest.approx(d.p_value)


def test_nps_trend_monthly_by_segment(survey):
    big = survey[survey["touchpoint"] != "web"]
    t = nps_trend(big, "date", freq="M", by="touchpoint")
    assert len(t) == 3 * 12
    assert t.groupby("touchpoint")["nps_change"].apply(lambda s: s.isna().sum()).eq(1).all()
    assert t["period"].iloc[0] == "2024-01"
    with pytest.raises(CxValueError, match=r"freq='W' is not valid: expected one of 'M', 'Q', 'Y'"):
        nps_trend(survey, "date", freq="W")
    bad = survey.head(40).astype({"date": object})
    bad.loc[bad.index[0], "date"] = "not a date"
    with pytest.raises(CxValueError, match=r"column 'date': expected dates, got 'not a date'"):
        nps_trend(bad, "date")


# --------------------------------------------------------------------------- nps_analysis (the command's and page's one call)
def test_nps_analysis_frames(survey):
    from cxvalue.voice.nps import nps_analysis
    out = nps_analysis(survey, by=["touchpoint", "period"], trend="Q", compare=("app", "counter"), method="adjusted_wald")
    assert set(out) == {"nps_summary", "nps_segments", "nps_trend", "nps_compare", "nps_pairwise", "nps_segment_trend"}
    s = out["nps_summary"]
    assert list(s["method"]) == ["adjusted_wald", "wald"]
    assert s.iloc[1]["nps"] == pytest.approx(nps_score(survey["nps"]).nps)
    assert s.iloc[0]["center"] == pytest.approx(nps_score(survey["nps"], method="adjusted_wald").center)
    seg = out["nps_segments"]
    assert set(seg["by"]) == {"touchpoint", "period"} and seg["segment"].map(type).eq(str).all()
    ref = nps_by(survey, "touchpoint", method="adjusted_wald").set_index("touchpoint")
    got = seg[seg["by"] == "touchpoint"].set_index("segment")
    assert got["nps"].to_dict() == pytest.approx(ref["nps"].to_dict())
    per = seg[seg["by"] == "period"]
    assert per["segment"].str.match(r"^\d{4}Q[1-4]$").all() and per["n"].sum() == survey["nps"].notna().sum()
    assert (out["nps_trend"]["freq"] == "Q").all()
    c = out["nps_compare"].iloc[0]
    d = nps_difference(survey.loc[survey.touchpoint == "app", "nps"], survey.loc[survey.touchpoint == "counter", "nps"],
                       method="adjusted_wald")
    assert (c["by"], c["a"], c["b"]) == ("touchpoint", "app", "counter") and c["p_value"] == pytest.approx(d.p_value)
    assert set(nps_analysis(survey)) == {"nps_summary"}
    part = nps_analysis(survey, since="2024-04-01", until="2024-06-30")["nps_summary"]
    inside = pd.to_datetime(survey["date"]).between("2024-04-01", "2024-06-30 23:59")
    assert part.iloc[0]["n"] == survey.loc[inside, "nps"].notna().sum()


@pytest.mark.parametrize("kw, msg", [
    ({"score": "nope"}, "--score 'nope' is not a column"),
    ({"by": ["nope"]}, "--by .nope. is not a column of the survey data"),
    ({"compare": ("app", "web")}, "--compare A,B needs --by COLUMN"),
    ({"by": ["touchpoint"], "compare": ("app", "zzz")}, "'zzz' is not a value of 'touchpoint'"),
    ({"trend": "W"}, "trend"),
])
def test_nps_analysis_errors(survey, kw, msg):
    from cxvalue.voice.nps import nps_analysis
    with pytest.raises(CxValueError, match=msg):
        nps_analysis(survey, **kw)
