"""Fixtures of the web tests: one small demo store (built once per session, with a customer
whose name and comment carry personal data and markup), one account per role, and signed-in
in-process clients."""
from __future__ import annotations

import re
import shutil

import pytest

from cli_runner import cx

PASSWORD = "correct horse battery"
ROLES = ("viewer", "analyst", "case_owner", "manager", "admin")
NASTY = "<script>alert('x')</script> 张伟 call 13812345678 or zhang.wei@example.com"
NAME = "张伟"


@pytest.fixture(scope="session")
def demo_store(demo_run):
    """The session's 1,500-customer demo store (every step run, tests/conftest.py) with accounts
    for every role and a planted customer whose name and comment carry personal data and markup."""
    folder, store = demo_run["folder"], demo_run["store"]
    import duckdb
    con = duckdb.connect(str(store))
    cid = con.execute("select customer_id from responses where customer_id is not null order by date desc limit 1").fetchone()[0]
    con.execute("update customers set name = ? where customer_id = ?", [NAME, cid])
    con.execute("update responses set comment = ? where customer_id = ?", [NASTY, cid])
    case = con.execute("select case_id from cases where not holdout order by case_id limit 1").fetchone()[0]
    con.close()
    r = cx("run", "--only", "customer directory", "--store", store)  # the directory holds names too
    assert r.returncode == 0, r.stderr
    import ibis

    from cxvalue.accounts import Accounts
    acc = Accounts(ibis.duckdb.connect(str(store)))
    for role in ROLES:
        acc.add_user(role, role, PASSWORD)
    acc.con.disconnect()
    return {"store": store, "customer": cid, "folder": folder, "case": case}


@pytest.fixture()
def store_copy(demo_store, tmp_path):
    """A private copy of the demo store (for tests that change it)."""
    dst = tmp_path / "demo.duckdb"
    shutil.copy(demo_store["store"], dst)
    return dst


def make_app(store):
    from cxvalue.config import load_settings
    from cxvalue.interfaces.web.app import create_app
    return create_app(load_settings({"store": str(store)}, project_file="/nonexistent", environ={}))


def login(client, username, password=PASSWORD):
    r = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/"}, follow_redirects=False)


def csrf_of(client) -> str:
    r = client.get("/account")
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', r.text).group(1)


@pytest.fixture(scope="module")
def app(demo_store, tmp_path_factory):
    dst = tmp_path_factory.mktemp("webapp") / "demo.duckdb"
    shutil.copy(demo_store["store"], dst)
    a = make_app(dst)
    yield a
    a.state.web.close()


@pytest.fixture(scope="module")
def clients(app):
    """A signed-in TestClient per role (and "anon", signed out)."""
    from fastapi.testclient import TestClient
    out = {"anon": TestClient(app)}
    for role in ROLES:
        c = TestClient(app)
        r = login(c, role)
        assert r.status_code == 303, r.text
        out[role] = c
    return out
