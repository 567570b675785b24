"""Fixtures of the lifecycle tests: the demo company in an in-memory store, with its ground truth."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def lifecycle_demo():
    """The demo company (12,000 customers) in an in-memory DuckDB store and every lifecycle result."""
    from cxvalue.datasets.demo import generate
    from cxvalue.lifecycle.pipeline import analyse_lifecycle
    from cxvalue.store import connect
    tables = generate(12_000, seed=int(os.environ.get("CXVALUE_TEST_DEMO_SEED", 2)), truth=True)
    con = connect("duckdb://")
    for name, frame in tables.items():
        if name != "truth":
            con.create_table(name, frame)
    return con, tables["truth"].set_index("customer_id"), analyse_lifecycle(con, {})
