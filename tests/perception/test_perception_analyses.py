"""The perception analyses the commands and pages call (one call each): options, segments, errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.perception.analyses import cem_analysis, csi_analysis, drivers_analysis, survey_segments

DIMS = ("product", "service", "convenience")


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 600
    q = rng.normal(size=n)
    df = pd.DataFrame({f"experience_{d}": np.clip(np.round(6 + (1 + i) * 0.6 * q + rng.normal(0, 1, n)), 0, 10)
                       for i, d in enumerate(DIMS)})
    for d in DIMS:
        df[f"expectation_{d}"] = np.clip(np.round(7 + rng.normal(0, 1, n)), 0, 10)
        df[f"importance_{d}"] = np.clip(np.round(7 + rng.normal(0, 1, n)), 0, 10)
    df["satisfaction"] = np.clip(np.round(7 + q + rng.normal(0, 0.8, n)), 0, 10)
    df["nps"] = np.clip(np.round(7 + 0.8 * (df["satisfaction"] - 7) + rng.normal(0, 1, n)), 0, 10)
    df["happy"] = np.where(df["satisfaction"] >= 8, "yes", "no")
    df["wave"] = np.where(np.arange(n) < n // 2, "W1", "W2")
    df["touchpoint"] = rng.choice(["app", "web", "rare"], n, p=[0.6, 0.38, 0.02])
    df["date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) % 365, unit="D")
    return df


def test_survey_segments_keep_segments_with_enough_rows(survey):
    segs = dict(survey_segments(survey, "touchpoint", 50))
    assert list(segs) == ["all", "app", "web"] and len(segs["all"]) == len(survey)
    assert [s for s, _ in survey_segments(survey, None, 50)] == ["all"]
    with pytest.raises(CxValueError, match="--by 'nope' is not a column"):
        list(survey_segments(survey, "nope", 1))


def test_drivers_analysis(survey):
    out = drivers_analysis(survey, n_boot=0, by="touchpoint")
    imp, summ = out["driver_importance"], out["driver_summary"]
    assert set(imp["segment"]) == {"all", "app", "web"} and set(summ["segment"]) == {"all", "app", "web"}
    assert (imp["outcome"] == "nps").all() and set(imp["driver"]) == {f"experience_{d}" for d in DIMS}
    a = imp[(imp["segment"] == "all") & (imp["method"] == "relative_weights")]
    assert a["importance_cut"].iloc[0] == pytest.approx(a["share"].mean())
    assert a["performance_cut"].iloc[0] == pytest.approx(a["performance"].mean())
    assert a.sort_values("rank")["driver"].iloc[0] == "experience_convenience"   # the largest loading on q
    # a text outcome with --positive; only the answers in the period
    yes = drivers_analysis(survey, outcome="happy", positive="yes", methods=("shapley",), n_boot=0,
                           until="2024-06-30")
    n_used = yes["driver_summary"].set_index("parameter").loc["n_used", "estimate"]
    assert set(yes["driver_importance"]["method"]) == {"shapley"} and n_used == (survey["date"] <= "2024-06-30").sum()
    with pytest.raises(CxValueError, match="--outcome 'nope' is not a column of the survey data"):
        drivers_analysis(survey, outcome="nope")


def test_cem_analysis_compare_options(survey):
    auto = cem_analysis(survey)                              # None: compare when there are two waves
    assert set(auto) == {"cem_gaps", "cem_compare"} and (auto["cem_gaps"]["segment"] == "all").all()
    assert set(auto["cem_compare"][["before_wave", "after_wave"]].drop_duplicates().itertuples(index=False)) == \
        {("W1", "W2")}
    assert set(cem_analysis(survey, compare=False)) == {"cem_gaps"}
    back = cem_analysis(survey, before="W2", after="W1")["cem_compare"]
    assert (back["before_wave"] == "W2").all()
    seg = cem_analysis(survey, by="touchpoint", compare=False, dimensions=["service"])["cem_gaps"]
    assert set(seg["segment"]) == {"all", "app", "web", "rare"} and set(seg["dimension"]) == {"service"}
    one = survey[survey["wave"] == "W1"]
    assert set(cem_analysis(one)) == {"cem_gaps"}            # one wave: nothing to compare, no error
    with pytest.raises(CxValueError, match="--compare needs two waves"):
        cem_analysis(one, compare=True)
    with pytest.raises(CxValueError, match="wave 'W9' is not in column 'wave'"):
        cem_analysis(survey, before="W1", after="W9")
    with pytest.raises(CxValueError, match="give both --before WAVE and --after WAVE"):
        cem_analysis(survey, before="W1")


def test_csi_analysis_model_table(survey):
    model = {"name": "mini", "blocks": {"QUAL": [f"experience_{d}" for d in DIMS], "SAT": ["satisfaction"],
                                        "LOY": ["nps"]},
             "paths": {"SAT": ["QUAL"], "LOY": ["QUAL", "SAT"]}, "labels": {"SAT": {"en": "Sat", "zh": "S"}}}
    out = csi_analysis(survey, model=model, by="touchpoint", item_range=(0, 10))
    m = out["csi_model"]
    assert list(dict.fromkeys(m["lv"])) == ["QUAL", "SAT", "LOY"] and (m["model"] == "mini").all()
    assert m.loc[m["lv"] == "SAT", "item"].tolist() == ["satisfaction"] and len(m) == len(DIMS) + 2
    assert m["loading"].notna().all() and m["weight"].notna().all()
    assert m.set_index("item").loc["satisfaction", "label_en"] == "Sat"
    assert m.set_index("item").loc["nps", "label_en"] == "LOY"          # no label given: the construct's name
    assert (m["item_range_low"] == 0).all() and (m["item_range_high"] == 10).all() and (m["scheme"] == "centroid").all()
    assert set(out["csi_scores"]["segment"]) == {"all", "app", "web", "rare"}
    paths = out["csi_paths"].set_index("relationship")
    assert paths.loc["QUAL -> SAT", "estimate"] > 0.3
