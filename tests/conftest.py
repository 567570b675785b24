"""Shared fixtures. Real public data lives in ../shared/data (relative to the repo root)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CXVALUE_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real reference data sets (see ../shared/data/README.md)."""
    if not SHARED_DATA.exists():
        pytest.fail(f"shared data not found at {SHARED_DATA}: tests need ../shared/data beside the repo")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """One `cxvalue demo` run per session (1,500 customers, seed 3): its folder, store, report
    paths and the command's result. The web tests add accounts and a planted customer to the
    store; the end-to-end test reads the run's output and reports."""
    from cli_runner import cx
    folder = tmp_path_factory.mktemp("demo")
    store, report = folder / "demo.duckdb", folder / "report.html"
    r = cx("demo", "--customers", "1500", "--seed", "3", "--data", folder / "data", "--store", store,
           "--report", report)
    assert r.returncode == 0, r.stderr + r.stdout
    return {"folder": folder, "store": store, "report": report, "result": r, "customers": 1500}

