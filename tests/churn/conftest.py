"""Fixtures of the churn tests: the Telco sample (real data) and the demo company in an in-memory store."""
from __future__ import annotations

import os

import pytest

from churn_demo import demo_store

os.environ.setdefault("OMP_NUM_THREADS", "1")

TELCO = "telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv"


@pytest.fixture(scope="session")
def telco_path(shared_data):
    return shared_data / TELCO


@pytest.fixture(scope="session")
def telco(telco_path):
    from cxvalue.churn.data import read_flat_file
    return read_flat_file(telco_path)


@pytest.fixture(scope="session")
def demo():
    return demo_store(10_000, seed=int(os.environ.get("CXVALUE_TEST_DEMO_SEED", 1)))


DEMO_CUTOFFS = ("2024-07-09", "2025-01-05", "2025-07-04")  # 180 days apart, the last 180 days before the end


@pytest.fixture(scope="session")
def demo_dataset(demo):
    from cxvalue.churn import build_dataset
    con, _ = demo
    return build_dataset(con, list(DEMO_CUTOFFS), horizon_days=180)


@pytest.fixture(scope="session")
def demo_churn(demo, demo_dataset):
    """Every churn analysis on the demo store, written to it (as the pipeline does)."""
    from cxvalue.churn.pipeline import _write, analyse_churn, analyse_reasons, analyse_retention, analyse_survival
    con, _ = demo
    res = analyse_churn(con, {}, cutoffs=list(DEMO_CUTOFFS), dataset=demo_dataset)
    _write(con, res)
    for step in (analyse_survival, analyse_reasons, analyse_retention):
        more = step(con, {})
        _write(con, more)
        res.update(more)
    return res
