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


CHURN_STEPS = ("churn prediction", "survival", "churn reasons", "retention")


@pytest.fixture(scope="session")
def demo_session(demo):
    """A session on the demo store after the churn steps ran (they write the tables and the run log)."""
    from cxvalue.interfaces.session import open_session
    from cxvalue.steps import run_steps
    con, _ = demo
    sess = open_session(con=con)
    outcomes = run_steps(sess, only=list(CHURN_STEPS))
    assert [(o.step, o.status) for o in outcomes] == [(s, "ok") for s in CHURN_STEPS], [o.reason for o in outcomes]
    return sess.refresh()


@pytest.fixture(scope="session")
def demo_churn(demo_session):
    """Every churn result table of the demo store, as the steps wrote it."""
    from cxvalue.steps import STEPS
    from cxvalue.store import read_result
    names = [t for s in CHURN_STEPS for t in STEPS[s].writes]
    return {n: read_result(demo_session.con, n) for n in names}
