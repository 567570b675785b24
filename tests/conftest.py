"""Shared fixtures. Real public data lives in ../shared/data (relative to the repo root)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
if "PYSPARK_SUBMIT_ARGS" not in os.environ or "PYTEST_CXVALUE_SPARK_WAREHOUSE" in os.environ:
    # every test process (each xdist worker: they inherit the controller's environment, so the
    # variable set here is replaced) gets its own Spark warehouse: managed tables of two processes
    # would collide in ./spark-warehouse (and it would land in the checkout)
    import atexit
    import shutil
    import tempfile
    _warehouse = os.environ["PYTEST_CXVALUE_SPARK_WAREHOUSE"] = tempfile.mkdtemp(prefix="cxvalue-test-spark-")
    atexit.register(shutil.rmtree, _warehouse, True)
    os.environ["PYSPARK_SUBMIT_ARGS"] = f"--conf spark.sql.warehouse.dir={_warehouse} pyspark-shell"

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CXVALUE_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real reference data sets (see ../shared/data/README.md)."""
    if not SHARED_DATA.exists():
        pytest.fail(f"shared data not found at {SHARED_DATA}: tests need ../shared/data beside the repo")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, worker_id):
    """One `cxvalue demo` run per test run (1,500 customers, seed 3): its folder, store, report
    paths and the command's result. Under pytest-xdist the first worker that needs it builds it
    (a file lock makes the others wait) and every worker gets a private copy of the store: the
    web tests add accounts and a planted customer to it; the end-to-end test reads the run's
    output and reports, which stay shared and read-only."""
    import pickle
    import shutil

    from filelock import FileLock

    from cli_runner import cx
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    folder = shared / "demo"
    store, report, done = folder / "demo.duckdb", folder / "report.html", folder / "result.pickle"
    with FileLock(str(shared / "demo.lock")):
        if not done.exists():
            folder.mkdir(exist_ok=True)
            r = cx("demo", "--customers", "1500", "--seed", "3", "--data", folder / "data", "--store", store,
                   "--report", report)
            assert r.returncode == 0, r.stderr + r.stdout
            done.write_bytes(pickle.dumps(r))
    r = pickle.loads(done.read_bytes())
    assert r.returncode == 0, r.stderr + r.stdout
    own = tmp_path_factory.mktemp("demo-store") / "demo.duckdb"
    shutil.copy(store, own)
    return {"folder": folder, "store": own, "report": report, "result": r, "customers": 1500}
