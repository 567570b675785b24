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
