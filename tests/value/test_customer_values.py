"""The one owner of customer value and value tiers: value.customer_value.customer_values and
value.segments.value_tiers (read by churn retention, experience ROI and NPS by value tier)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.value.customer_value import customer_tiers, customer_values
from cxvalue.value.segments import TIER_ORDER, value_tiers

_spec = importlib.util.spec_from_file_location("cx_tiny_data", Path(__file__).parents[1] / "loyalty" / "tiny_data.py")
tiny_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_data)


def test_value_tiers_by_quantile():
    v = pd.DataFrame({"value": np.arange(10, 0, -1, dtype=float)}, index=list("abcdefghij"))
    assert value_tiers(v).tolist() == ["high"] * 2 + ["medium"] * 3 + ["low"] * 5
    assert value_tiers(v["value"], high=0.9).tolist() == ["high"] + ["medium"] * 4 + ["low"] * 5
    # equal values share a tier; many customers without value are all low
    zeros = pd.Series([0.0] * 7 + [5.0, 9.0, 9.0])
    assert value_tiers(zeros).tolist() == ["low"] * 7 + ["medium", "high", "high"]
    with pytest.raises(CxValueError, match=r"medium \(0.9\) must be below high \(0.8\)"):
        value_tiers(v, medium=0.9)
    with pytest.raises(CxValueError, match="value_tiers: expected a 'value' column"):
        value_tiers(v.rename(columns={"value": "clv"}))
    assert TIER_ORDER[:4] == ("platinum", "gold", "iron", "lead") and TIER_ORDER[4:] == ("high", "medium", "low")


def test_customer_values_from_transactions_then_from_the_customer_value_table():
    con = tiny_data.make_store()
    cv = customer_values(con)
    assert cv.attrs["source"] == "spend_12m" and set(cv["value_source"]) == {"spend_12m"}
    assert list(cv.columns) == ["current_value", "clv", "value", "value_source", "value_tier"]
    # last 365 days up to 2024-12-31: c1 80, c3 30, c4 300 + 100, c2 nothing
    assert cv["value"].to_dict() == {"c1": 80.0, "c2": 0.0, "c3": 30.0, "c4": 400.0}
    assert cv["current_value"].equals(cv["value"]) and cv["clv"].isna().all()
    assert cv["value_tier"].to_dict() == {"c1": "medium", "c2": "low", "c3": "low", "c4": "high"}
    six = customer_values(con, months=6)   # 183 days: (2024-07-01, 2024-12-31], so c4's 2024-07-01 is out
    assert six.attrs["source"] == "spend_6m" and six["value"].to_dict() == {"c1": 80.0, "c2": 0.0, "c3": 30.0,
                                                                            "c4": 0.0}
    assert customer_values(con, as_of="2024-06-30")["value"].to_dict() == {"c1": 0.0, "c2": 0.0, "c3": 0.0,
                                                                           "c4": 300.0}
    with pytest.raises(CxValueError, match="months=0 is not valid"):
        customer_values(con, months=0)
    con.create_table("customer_value", pd.DataFrame({"customer_id": ["c1", "c2"], "clv": [5.0, 7.0]}))
    cv = customer_values(con)
    assert cv.attrs["source"] == "clv" and cv["value"].to_dict() == {"c1": 5.0, "c2": 7.0}
    assert cv["current_value"].to_dict() == {"c1": 80.0, "c2": 0.0}        # from the transactions
    con.create_table("customer_value", pd.DataFrame({
        "customer_id": ["c1", "c2", "c3"], "clv": [5.0, 7.0, None], "current_value": [80.0, 0.0, 30.0],
        "value_tier": ["platinum", "gold", "lead"]}), overwrite=True)
    cv = customer_values(con)
    assert list(cv.index) == ["c1", "c2"]                                    # no CLV: not valued
    assert customer_tiers(con).to_dict() == {"c1": "platinum", "c2": "gold"}
