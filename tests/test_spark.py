"""The PySpark path is real: a load and an engine-side feature query on a local[1] session."""
from __future__ import annotations

import pytest

pytest.importorskip("pyspark")

from cxvalue.io.load import load_file  # noqa: E402
from cxvalue.store import connect  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_con():
    con = connect("pyspark://local[1]")
    yield con
    for t in con.list_tables():
        con.drop_table(t, force=True)


def test_load_and_feature_query_on_pyspark_match_duckdb(spark_con, tmp_path):
    csv = tmp_path / "tx.csv"
    csv.write_text("customer_id,date,amount,channel\na,2024-01-01,10,app\na,2024-01-05,5,web\nb,2024-02-01,7,app\n"
                   "b,2024-02-30,1,app\nc,2024-03-01,-3,app\n", encoding="utf-8")
    results = {}
    for name, con in (("spark", spark_con), ("duckdb", connect("duckdb://"))):
        rep = load_file(con, "transactions", csv)
        assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (5, 3, 2)
        tx = con.table("transactions")
        feat = (tx.group_by("customer_id")
                .aggregate(n=tx.count(), revenue=tx.amount.sum(), first=tx.date.min().cast("date"),
                           last=tx.date.max().cast("date"))
                .order_by("customer_id").to_pandas())
        q = con.table("quarantine").order_by("row").to_pandas()
        results[name] = (feat, q[["row", "reason"]].values.tolist())
    import pandas as pd
    pd.testing.assert_frame_equal(results["spark"][0], results["duckdb"][0], check_dtype=False)
    assert results["spark"][1] == results["duckdb"][1] == [[5, "bad_date"], [6, "negative_amount"]]
    # idempotent on Spark too
    assert load_file(spark_con, "transactions", csv).skipped


def test_a_staged_result_replaces_the_table_at_once_on_both_engines(spark_con):
    """StagedResult (a long step's batches): the previous result stays until publish; then the
    staged rows replace it and the staging table is gone — on DuckDB and on Spark."""
    import pandas as pd

    import cxvalue.text.pipeline  # noqa: F401  (declares text_methods)
    from cxvalue.store import StagedResult, write_result
    for con in (spark_con, connect("duckdb://")):
        old = pd.DataFrame({"language": ["zh"], "method": ["fallback"], "comments": [1], "roc_auc": [0.5],
                            "against": [None], "notes": [None]})
        write_result(con, "text_methods", old)
        st = StagedResult(con, "text_methods", dtypes={"against": "string", "notes": "string"})
        st.append(old.assign(language="en", comments=2))
        st.append(old.assign(language="xx", comments=3, notes="n"))     # a part whose column is not all missing
        assert con.table("text_methods").count().execute() == 1 and len(st) == 2
        write_result(con, "text_methods", st)
        got = con.table("text_methods").order_by("language").to_pandas()
        assert got.language.tolist() == ["en", "xx"] and got.comments.tolist() == [2, 3]
        assert "_staging_text_methods" not in con.list_tables()
