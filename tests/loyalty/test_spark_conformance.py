"""Engine conformance: the loyalty and E1 aggregations give equal results on DuckDB and PySpark."""
from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("pyspark")

from cxvalue.loyalty import repeat_purchase_rate  # noqa: E402
from cxvalue.perception.experience_value import followup_frame  # noqa: E402

pytestmark = pytest.mark.spark


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index() if df.index.name else df
    return df.sort_values(list(df.columns[:1])).reset_index(drop=True)


def test_loyalty_and_e1_match_on_duckdb_and_pyspark(tiny):
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location("cx_tiny_data", Path(__file__).with_name("tiny_data.py"))
    tiny_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny_data)
    spark = tiny_data.make_store("pyspark://local[1]")
    try:
        # C1 (occasions per customer and channel) and E1 (survey → next-12-months window on DATEs,
        # argmin, left joins, subscriptions, a segment): two keep the Spark run short; C3-C5 use the
        # same constructs (argmax, date deltas, count(where=), joins)
        for fn in (lambda c: repeat_purchase_rate(c, "channel"), lambda c: followup_frame(c, by="touchpoint")):
            a, b = _sorted(fn(tiny)), _sorted(fn(spark))
            if "survey_day" in a.columns:
                a["survey_day"], b["survey_day"] = (pd.to_datetime(x["survey_day"]) for x in (a, b))
            pd.testing.assert_frame_equal(a, b, check_dtype=False)
    finally:
        for t in ("transactions", "customers", "responses", "subscriptions", "churn_events"):
            spark.drop_table(t, force=True)
