"""The CEM seven-step method (D4), checked on the seed's worked example."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.perception.cem import cem_compare, cem_summary

DIMS = ["product", "price", "service", "convenience", "brand_image", "relationship"]


@pytest.fixture
def seed_example() -> pd.DataFrame:
    """concepts.md D4 (seed 004, a retailer). Given by the seed: experience (price 7, brand
    image 7, service 6, product 6, convenience 5, relationship 4); expectation 7 for
    product, price, convenience and brand image; importance of convenience 9 (the highest);
    ideal = actual except convenience 10.
    CHOSEN HERE (the seed gives none): expectation of service 6 and of relationship 4
    (satisfaction 0 for both), importances product 8, price 7, service 6, brand image 5,
    relationship 3 (all below convenience's 9)."""
    return pd.DataFrame({
        "dimension": DIMS,
        "experience": [6, 7, 6, 5, 7, 4],
        "expectation": [7, 7, 6, 7, 7, 4],
        "importance": [8, 7, 6, 9, 5, 3],
        "ideal": [6, 7, 6, 10, 7, 4],
    })


def _check_seed(t: pd.DataFrame) -> None:
    t = t.set_index("dimension")
    # step 2: satisfaction = experience − expectation: convenience −2, product −1, price 0, brand 0
    assert t.at["convenience", "satisfaction"] == -2
    assert t.at["product", "satisfaction"] == -1
    assert t.at["price", "satisfaction"] == 0
    assert t.at["brand_image", "satisfaction"] == 0
    # step 3: key experience = importance × satisfaction = 9 × −2 = −18, the key one
    assert t.at["convenience", "key_experience"] == -18
    assert t.at["convenience", "key_rank"] == 1 and t.at["convenience", "is_key"]
    assert t["is_key"].sum() == 1
    assert t.at["product", "key_experience"] == -8 and t.at["product", "key_rank"] == 2
    # step 4: gap = actual − ideal = 5 − 10 = −5; step 5: the top requirement is convenience
    assert t.at["convenience", "gap"] == -5
    assert t.at["convenience", "requirement_rank"] == 1
    assert t["requirement_rank"].notna().sum() == 1          # no other dimension has a gap
    assert (t.drop(index="convenience")["gap"] == 0).all()


def test_seed_worked_example_aggregated(seed_example):
    t = cem_summary(seed_example)
    assert list(t.columns) == ["dimension", "experience", "expectation", "satisfaction", "importance",
                               "key_experience", "key_rank", "is_key", "ideal", "gap", "requirement_rank", "n"]
    assert list(t["dimension"]) == DIMS                       # input order kept
    _check_seed(t)
    # the dimension may also be the index
    _check_seed(cem_summary(seed_example.set_index("dimension")))


def _respondents(table: pd.DataFrame, n: int, rng, spread: float = 1.0) -> pd.DataFrame:
    """n answers per measure whose means are exactly the table's values."""
    cols = {}
    for row in table.itertuples():
        for m in ("experience", "expectation", "importance", "ideal"):
            e = rng.normal(0, spread, n)
            cols[f"{m}_{row.dimension}"] = getattr(row, m) + (e - e.mean())
    return pd.DataFrame(cols)


def test_seed_worked_example_from_respondents(seed_example):
    df = _respondents(seed_example, 50, np.random.default_rng(0))
    t = cem_summary(df)
    assert list(t["dimension"]) == DIMS
    num = t.set_index("dimension")[["experience", "satisfaction", "key_experience", "gap"]]
    ref = cem_summary(seed_example).set_index("dimension")[num.columns]
    np.testing.assert_allclose(num.to_numpy(float), ref.to_numpy(float), atol=1e-9)
    t2 = t.copy()
    for c in ("satisfaction", "key_experience", "gap", "experience", "expectation", "importance", "ideal"):
        t2[c] = t2[c].round(9)
    _check_seed(t2)
    assert (t["n"] == 50).all()


def test_respondent_layout_missing_and_partial_measures():
    df = pd.DataFrame({"experience_price": [6, 8, np.nan], "expectation_price": [7, 7, 7],
                       "experience_service": [5, 5, 5]})
    t = cem_summary(df).set_index("dimension")
    assert t.at["price", "experience"] == 7 and t.at["price", "n"] == 2
    assert t.at["price", "satisfaction"] == 0
    assert np.isnan(t.at["service", "satisfaction"]) and pd.isna(t.at["service", "key_rank"])
    assert list(cem_summary(df, dimensions=["service"])["dimension"]) == ["service"]


def test_remeasurement_welch(seed_example):
    rng = np.random.default_rng(1)
    before = _respondents(seed_example, 80, rng)
    improved = seed_example.assign(experience=np.where(seed_example["dimension"] == "convenience", 7,
                                                       seed_example["experience"]))
    after = _respondents(improved, 60, rng, spread=1.5)
    c = cem_compare(before, after)
    assert set(c["measure"]) == {"experience", "expectation", "satisfaction", "importance", "key_experience",
                                 "ideal", "gap"}
    row = c[(c["dimension"] == "convenience") & (c["measure"] == "experience")].iloc[0]
    assert row["before"] == pytest.approx(5) and row["after"] == pytest.approx(7)
    assert row["change"] == pytest.approx(2)
    # Welch's t written out
    a = before["experience_convenience"].to_numpy()
    b = after["experience_convenience"].to_numpy()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    t = (b.mean() - a.mean()) / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    assert row["t_stat"] == pytest.approx(t, rel=1e-10)
    assert row["df"] == pytest.approx(df, rel=1e-10)
    assert row["p_value"] < 1e-6 and row["significant"]
    assert (row["n_before"], row["n_after"]) == (80, 60)
    sat = c[(c["dimension"] == "convenience") & (c["measure"] == "satisfaction")].iloc[0]
    assert sat["change"] == pytest.approx(2) and sat["significant"]
    key = c[(c["dimension"] == "convenience") & (c["measure"] == "key_experience")].iloc[0]
    assert key["before"] == pytest.approx(-18) and key["after"] == pytest.approx(0, abs=1e-9)
    assert np.isnan(key["p_value"]) and pd.isna(key["significant"])
    same = c[(c["dimension"] == "price") & (c["measure"] == "experience")].iloc[0]
    assert same["change"] == pytest.approx(0, abs=1e-9) and not same["significant"]


def test_remeasurement_aggregated_has_no_test(seed_example):
    after = seed_example.assign(experience=seed_example["experience"] + 1)
    c = cem_compare(seed_example, after)
    assert (c.loc[c["measure"] == "experience", "change"] == 1).all()
    assert c["p_value"].isna().all() and c["n_before"].isna().all()


def test_errors(seed_example):
    with pytest.raises(CxValueError, match=r"cannot tell the layout of the CEM data"):
        cem_summary(pd.DataFrame({"a": [1]}))
    with pytest.raises(CxValueError, match=r"layout='wide' is not valid"):
        cem_summary(seed_example, layout="wide")
    with pytest.raises(CxValueError, match=r"needs an 'experience' column"):
        cem_summary(seed_example.drop(columns="experience"))
    with pytest.raises(CxValueError, match=r"dimension\(s\) \['price'\] appear more than once"):
        cem_summary(pd.concat([seed_example, seed_example.iloc[[1]]]))
    with pytest.raises(CxValueError, match=r"column 'experience_price': expected numbers, got 'good'"):
        cem_summary(pd.DataFrame({"experience_price": ["good", "7"]}))
    with pytest.raises(CxValueError, match=r"dimensions \['staff'\] have no experience_"):
        cem_summary(pd.DataFrame({"experience_price": [7]}), dimensions=["staff"])
