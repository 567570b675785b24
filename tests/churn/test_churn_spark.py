"""Engine conformance: the churn features and the lifecycle activity built in the engine are equal on
DuckDB and on PySpark local[1] (small demo data)."""
from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("pyspark")

pytestmark = pytest.mark.spark

TABLES = {"customers": None, "transactions": None, "subscriptions": None, "churn_events": None,
          "complaints": ["complaint_id", "customer_id", "opened", "resolved"],
          "responses": ["response_id", "customer_id", "date", "nps", "satisfaction"]}


def _frames():
    from cxvalue.datasets.demo import generate
    d = generate(300, seed=5)
    out = {}
    for name, cols in TABLES.items():
        df = (d[name][cols] if cols else d[name]).copy()
        for c in df.columns:  # plain object strings: the Arrow-backed string dtype is DuckDB/pandas-only
            if pd.api.types.is_string_dtype(df[c]) and not pd.api.types.is_object_dtype(df[c]):
                df[c] = df[c].astype(object).where(df[c].notna(), None)
        out[name] = df
    return out


def test_churn_features_and_lifecycle_activity_match_on_duckdb_and_spark():
    from cxvalue.churn import feature_frame
    from cxvalue.lifecycle import period_activity
    from cxvalue.store import connect
    frames = _frames()
    results = {}
    for url in ("duckdb://", "pyspark://local[1]"):
        con = connect(url)
        try:
            for name, df in frames.items():
                con.create_table(name, df, overwrite=True)
            f = feature_frame(con, "2025-06-30", window_days=90, channels=["app", "web", "agent"]).sort_index()
            act = period_activity(con, period="month").to_pandas().sort_values(["customer_id", "period_no"],
                                                                               ignore_index=True)
            results[url] = (f, act)
        finally:
            if url.startswith("pyspark"):  # managed tables live in ./spark-warehouse: leave nothing behind
                for name in frames:
                    con.drop_table(name, force=True)
    (f0, a0), (f1, a1) = results.values()
    assert len(f0) > 150 and f0.complaints.sum() > 0 and f0.nps_last.notna().any()
    assert f0.owner_recent_churn_share.notna().any() and f0.subscriptions.sum() > 0
    pd.testing.assert_frame_equal(f0, f1[f0.columns], check_dtype=False, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(a0, a1[a0.columns], check_dtype=False, check_exact=False, rtol=1e-9)
