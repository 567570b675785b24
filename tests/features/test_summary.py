"""Engine-side RFM summary: reproduces the published CDNOW summary; DuckDB and Spark agree."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.features.summary import rfm_summary, summary_frame
from cxvalue.io.load import load_file
from cxvalue.io.readers import ReadOptions
from cxvalue.store import connect

CDNOW_OPTS = ReadOptions(format="whitespace", header=False, names=["master_id", "customer_id", "date", "quantity", "amount"])


@pytest.fixture(scope="module")
def cdnow(shared_data):
    con = connect("duckdb://")
    load_file(con, "transactions", shared_data / "cdnow" / "CDNOW_sample.txt", options=CDNOW_OPTS)
    return con


def test_cdnow_sample_reproduces_reference_summary(cdnow, shared_data):
    ours = summary_frame(cdnow.table("transactions"), unit="week", calibration_end="1997-09-30")
    ref = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv")
    ref.index = ref.ID.map("{:04d}".format)
    ours = ours.loc[ref.index]
    assert len(ours) == 2_357
    assert (ours.frequency.values == ref.frequency.values).all()
    np.testing.assert_allclose(ours.recency.values, ref.recency.values, atol=0.005)  # reference rounded to 2 dp
    np.testing.assert_allclose(ours["T"].values, ref["T"].values, atol=0.005)
    assert (ours.frequency == 0).sum() == 1_411 and ours.frequency.sum() == 2_457


def test_cdnow_monetary_and_holdout(cdnow, shared_data):
    ours = summary_frame(cdnow.table("transactions"), unit="week", calibration_end="1997-09-30",
                         observation_end="1998-06-30")
    assert ours.frequency_holdout.sum() == 1_882  # published holdout repeat transactions (weeks 40-78)
    ref = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    ref.index = ref.ID.map("{:04d}".format)
    rep = ref[ref.x > 0]
    np.testing.assert_allclose(ours.loc[rep.index, "monetary_value"].values, rep.zbar.values, atol=0.01)
    assert ours.duration_holdout.iloc[0] == pytest.approx(273 / 7)


def test_units_merge_and_pandas_input():
    tx = pd.DataFrame({"customer_id": ["a", "a", "a", "a", "b"],
                       "date": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-03", "2024-01-31",
                                               "2024-01-15"], format="ISO8601"),
                       "amount": [10.0, 5.0, 20.0, 30.0, 7.0]})
    d = summary_frame(tx, unit="day", calibration_end="2024-01-31")
    assert d.loc["a"].tolist() == [2, 30.0, 30.0, 25.0] and d.loc["b"].tolist() == [0, 0.0, 16.0, 0.0]
    w = summary_frame(tx, unit="day", merge="week", calibration_end="2024-01-31")
    assert w.loc["a", "frequency"] == 1 and w.loc["a", "monetary_value"] == 30.0  # Mon 1st and Wed 3rd merged
    m = summary_frame(tx, unit="month", merge="month", calibration_end="2024-02-29")
    assert m.loc["a", "frequency"] == 0 and m.loc["a", "T"] == pytest.approx(59 / (365.25 / 12))
    with pytest.raises(CxValueError, match="unit='fortnight' is not valid: expected one of 'day', 'week', 'month', 'year'"):
        rfm_summary(tx, unit="fortnight")
    with pytest.raises(CxValueError, match="observation_end 2024-01-01 must be after calibration_end 2024-01-31"):
        rfm_summary(tx, calibration_end="2024-01-31", observation_end="2024-01-01")


@pytest.mark.spark
def test_summary_same_on_pyspark(shared_data):
    pytest.importorskip("pyspark")
    tx = pd.read_csv(shared_data / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                     names=["master_id", "customer_id", "date", "quantity", "amount"], dtype={"customer_id": str})
    tx = tx[tx.customer_id.astype(int) <= 200]
    tx["date"] = pd.to_datetime(tx.date.astype(str), format="%Y%m%d")
    duck = connect("duckdb://")
    spark = connect("pyspark://local[1]")
    out = {}
    for name, con in (("duckdb", duck), ("spark", spark)):
        con.create_table("tx_small", tx[["customer_id", "date", "amount"]], overwrite=True)
        out[name] = summary_frame(con.table("tx_small"), unit="week", merge="week", calibration_end="1997-09-30",
                                  observation_end="1998-06-30")
    spark.drop_table("tx_small", force=True)
    pd.testing.assert_frame_equal(out["duckdb"], out["spark"], check_dtype=False, atol=1e-9)


def test_returns_rule():
    """Issue 13: a cancellation matched to its order removes the purchase occasion; an unmatched
    return reduces the spend of its period or of the last purchase period before it; a period's
    spend never goes below 0 (no negative monetary value reaches Gamma-Gamma)."""
    tx = pd.DataFrame({
        "customer_id": ["a"] * 6 + ["b"] * 3 + ["c"] * 2,
        "date": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-15", "2024-01-20", "2024-02-01",
                                "2024-01-01", "2024-01-10", "2024-01-12", "2024-01-01", "2024-01-05"]),
        "amount": [10, 20, 30, -30, -5, 40, 10, 50, -60, 10, 0],
        "order_id": ["o1", "o2", "o3", "o3", None, "o4", "p1", "p2", None, "q1", "q2"],
        "is_return": [False, False, False, True, True, False, False, False, True, False, False]})
    s = summary_frame(tx, unit="day")
    # a: o3 cancelled in full (occasion gone); the unmatched -5 of Jan 20 reduces Jan 8 (20 -> 15)
    assert s.loc["a"].tolist() == [2, 31.0, 31.0, (15 + 40) / 2]
    # b: the unmatched -60 reduces Jan 10's 50 to 0, not below
    assert s.loc["b", "frequency"] == 1 and s.loc["b", "monetary_value"] == 0.0
    # c: a purchase of 0 (a free item) is still a purchase
    assert s.loc["c", "frequency"] == 1
    # a positive amount flagged as a return counts as negative; a partial matched return reduces its order
    part = pd.DataFrame({"customer_id": ["d"] * 3, "date": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-10"]),
                         "amount": [10.0, 30.0, 12.0], "order_id": ["x1", "x2", "x2"],
                         "is_return": [False, False, True]})
    assert summary_frame(part, unit="day").loc["d"].tolist() == [1, 8.0, 8.0, 18.0]
