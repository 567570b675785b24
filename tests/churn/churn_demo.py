"""The demo company in an in-memory DuckDB store, for the churn tests (imported by conftest and test modules)."""
from __future__ import annotations


def demo_store(n: int, seed: int):
    """The demo company (``n`` customers) in an in-memory DuckDB store, plus the ground-truth table."""
    from cxvalue.datasets.demo import generate
    from cxvalue.store import connect
    tables = generate(n, seed=seed, truth=True)
    con = connect("duckdb://")
    for name, frame in tables.items():
        if name != "truth":
            con.create_table(name, frame)
    return con, tables["truth"].set_index("customer_id")
