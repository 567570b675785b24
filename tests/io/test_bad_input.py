"""Bad input, table-driven (issue 16): each case is a file a hostile or careless user could load,
and what must happen — which rows go to quarantine with which reason, or which one-line error.
Every load must reconcile: rows read = loaded + rejected."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from cxvalue.io.load import load_file
from cxvalue.store import connect

TX = "customer_id,date,amount\n"

# (id, table, file name, content: text or a DataFrame written as Parquet, {row: reason})
CASES = [
    ("nan_amount", "transactions", "tx.csv", TX + "c1,2024-01-05,NaN\nc1,2024-01-06,10\n", {2: "not_finite"}),
    ("inf_amount", "transactions", "tx.csv", TX + "c1,2024-01-05,inf\nc1,2024-01-06,-inf\nc1,2024-01-07,5\n",
     {2: "not_finite", 3: "not_finite"}),
    ("infinity_word", "transactions", "tx.csv", TX + "c1,2024-01-05,Infinity\nc1,2024-01-06,1\n", {2: "not_finite"}),
    ("overflow", "transactions", "tx.csv", TX + "c1,2024-01-05,1e309\nc1,2024-01-06,1e308\n", {2: "not_finite"}),
    ("parquet_nan_inf", "transactions", "tx.parquet",
     pd.DataFrame({"customer_id": ["c1"] * 4, "date": pd.to_datetime(["2024-01-05"] * 4),
                   "amount": [float("nan"), math.inf, -math.inf, 3.0]}),
     {1: "not_finite", 2: "not_finite", 3: "not_finite"}),          # Parquet rows count from 1 (no header)
    ("nan_rating", "responses", "r.csv", "customer_id,date,nps,satisfaction\nc1,2024-01-05,9,nan\nc1,2024-01-06,8,7\n",
     {2: "not_finite"}),
]


def _write(path, content):
    if isinstance(content, pd.DataFrame):           # NaN kept as NaN (pandas would write a null)
        import pyarrow as pa
        import pyarrow.parquet as pq
        pq.write_table(pa.table({c: pa.array(content[c].to_numpy(), from_pandas=False) for c in content.columns}), path)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, tmp_path):
    _, table, name, content, want = case
    con = connect("duckdb://")
    rep = load_file(con, table, _write(tmp_path / name, content))
    assert rep.rows_read == rep.rows_loaded + rep.rows_rejected
    q = con.table("quarantine").to_pandas() if rep.rows_rejected else pd.DataFrame(columns=["row", "reason"])
    assert dict(zip(q["row"].astype(int), q["reason"])) == want
    if table == "transactions":                       # what loaded sums to a number
        total = con.table("transactions").amount.sum().execute()
        assert total is None or math.isfinite(total)


# ---------------------------------------------------------------- --replace and stub customers
def _csv(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_replace_reloads_a_file_loaded_before(tmp_path):
    con = connect("duckdb://")
    f = _csv(tmp_path, "c.csv", "customer_id,signup_date,gender\nc1,2023-01-01,F\nc2,2023-02-01,M\n")
    assert load_file(con, "customers", f).rows_loaded == 2
    assert load_file(con, "customers", f).skipped                          # same content, no --replace: skipped
    rep = load_file(con, "customers", f, replace=True)                      # --replace runs
    assert not rep.skipped and rep.rows_loaded == 2 and rep.rows_rejected == 0
    assert con.table("customers").count().execute() == 2


def test_replace_updates_only_the_columns_the_file_has(tmp_path):
    con = connect("duckdb://")
    load_file(con, "customers", _csv(tmp_path, "c.csv", "customer_id,signup_date,gender\nc1,2023-01-01,F\n"
                                                         "c2,2023-02-01,M\n"))
    rep = load_file(con, "customers", _csv(tmp_path, "g.csv", "customer_id,gender\nc1,M\nc3,F\n"), replace=True)
    assert (rep.rows_loaded, rep.rows_rejected) == (2, 0)
    c = con.table("customers").order_by("customer_id").to_pandas()
    assert c.customer_id.tolist() == ["c1", "c2", "c3"] and c.gender.tolist() == ["M", "M", "F"]
    assert str(c.signup_date.iloc[0])[:10] == "2023-01-01" and pd.isna(c.signup_date.iloc[2])  # kept / new


def test_a_customers_file_fills_the_stub_customers_of_earlier_transactions(tmp_path):
    con = connect("duckdb://")
    rep = load_file(con, "transactions", _csv(tmp_path, "tx.csv", TX + "c1,2024-01-05,10\nc2,2024-01-06,5\n"))
    assert rep.customers_created == 2
    rep = load_file(con, "customers", _csv(tmp_path, "c.csv", "customer_id,signup_date,gender\nc1,2023-01-01,F\n"
                                                                "c2,2023-02-01,M\nc3,2023-03-01,F\n"))
    assert (rep.rows_loaded, rep.rows_rejected) == (3, 0), rep.rejected_by_reason
    c = con.table("customers").order_by("customer_id").to_pandas()
    assert c.gender.tolist() == ["F", "M", "F"] and len(c) == 3
    assert con.table("customer_stubs").count().execute() == 0               # no stub left
    # a real customer loaded again (no --replace) is still a duplicate
    rep = load_file(con, "customers", _csv(tmp_path, "c2.csv", "customer_id,gender\nc1,M\n"))
    assert rep.rejected_by_reason == {"duplicate_key": 1}
    assert con.table("customers").filter(lambda t: t.customer_id == "c1").gender.execute().tolist() == ["F"]


def test_stubs_of_a_store_made_before_the_stub_table_are_recognised(tmp_path):
    con = connect("duckdb://")
    load_file(con, "transactions", _csv(tmp_path, "tx.csv", TX + "c1,2024-01-05,10\n"))
    con.raw_sql("DROP TABLE customer_stubs")                                 # as in a store of an earlier version
    rep = load_file(con, "customers", _csv(tmp_path, "c.csv", "customer_id,gender\nc1,F\n"))
    assert (rep.rows_loaded, rep.rows_rejected) == (1, 0)
    assert con.table("customers").gender.execute().tolist() == ["F"]


def test_markup_in_the_store_path_is_escaped_in_the_report(tmp_path):
    """Autoescape is on in the report (and web) templates: the store path in the header is text."""
    from cxvalue.interfaces.report.build import build_report
    from cxvalue.interfaces.session import open_session
    folder = tmp_path / "<img src=x onerror=alert(1)>"
    folder.mkdir()
    con = connect(folder / "s.duckdb")
    html = build_report(open_session(con=con), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    con.disconnect()


# ---------------------------------------------------------------- --query sources
@pytest.mark.parametrize("query, message", [
    ("select * from tx; drop table tx", "one SELECT statement, got 2"),
    ("drop table tx", "read-only SELECT, got a DROP"),
    ("copy tx to 'x.csv'", "read-only SELECT, got a COPY"),
    ("insert into tx values ('c9', '2024-01-01', 1)", "read-only SELECT, got a INSERT"),
    ("select * from", "not a valid SELECT"),
])
def test_a_source_query_is_one_read_only_select(tmp_path, query, message):
    import duckdb

    from cxvalue.errors import CxValueError
    src = tmp_path / "src.duckdb"
    with duckdb.connect(str(src)) as c:
        c.execute("create table tx as select 'c1' as customer_id, DATE '2024-01-05' as date, 10.0 as amount")
    con = connect("duckdb://")
    with pytest.raises(CxValueError, match=message):
        load_file(con, "transactions", query=query, query_url=f"duckdb://{src}")
    with duckdb.connect(str(src), read_only=True) as c:          # the source is untouched
        assert c.execute("select count(*) from tx").fetchone()[0] == 1
    assert not (tmp_path / "x.csv").exists()
    # a SELECT loads, and the same result loaded twice is recognised
    ok = "with x as (select * from tx) select * from x"
    assert load_file(con, "transactions", query=ok, query_url=f"duckdb://{src}").rows_loaded == 1
    assert load_file(con, "transactions", query=ok, query_url=f"duckdb://{src}").skipped


def test_a_wide_survey_export_loads(tmp_path):
    """300 rating columns beside the contract's (it ran out of memory at 200: DuckDB rewrote each
    NA list into a join, and planned the checks in time growing with the square of the columns)."""
    import numpy as np
    rng = np.random.default_rng(0)
    n = 50
    df = pd.concat([pd.DataFrame({"customer_id": [f"c{i % 7}" for i in range(n)], "date": "2024-01-05",
                                  "nps": rng.integers(0, 11, n)}),
                    pd.DataFrame({f"q{j}": rng.integers(1, 11, n) for j in range(300)})], axis=1)
    df.loc[3, "q7"] = "n/a"                        # a missing answer in an extra column
    df.to_csv(tmp_path / "wide.csv", index=False)
    con = connect("duckdb://")
    rep = load_file(con, "responses", tmp_path / "wide.csv")
    assert (rep.rows_loaded, rep.rows_rejected) == (n, 0) and len(rep.extra_columns) == 300
    t = con.table("responses")
    assert str(t.schema()["q0"]).startswith("int") and t.q7.isnull().sum().execute() == 1
