"""CLI: the commands a user types, their exit codes, JSON output and one-line errors."""
from __future__ import annotations

import json

import pytest

from cli_runner import cx




@pytest.fixture()
def files(tmp_path):
    (tmp_path / "tx.csv").write_text("customer_id,date,amount\nc1,2024-01-01,5\nc2,2024-01-03,x\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("customer,when,total\nc1,2024-01-01,5\n", encoding="utf-8")
    return tmp_path


def test_load_json_status_json_and_report(files):
    store = files / "s.duckdb"
    r = cx("load", "transactions", files / "tx.csv", "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)["loads"][0]
    assert (rep["rows_read"], rep["rows_loaded"], rep["rows_rejected"]) == (2, 1, 1)
    r = cx("status", "--store", store, "--json")
    info = json.loads(r.stdout)
    assert {t["table"]: t["rows"] for t in info["tables"]} == {"customers": 1, "transactions": 1}
    assert info["quarantine"][0]["reason"] == "wrong_type"
    out = files / "r.html"
    r = cx("report", "--store", store, "--out", out, "--lang", "zh")
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    assert "数据概览" in html and "数据导入质量" in html
    assert "<script src" not in html and "<link" not in html  # self-contained, works offline
    r = cx("quarantine", "--store", store, "--json")
    assert json.loads(r.stdout)[0]["got"] == "x"


def test_bad_input_exits_1_with_one_line_error(files):
    r = cx("load", "transactions", files / "bad.csv", "--store", files / "s.duckdb")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("error: bad.csv: missing required column 'date'")
    assert len(r.stderr.strip().splitlines()) == 1
    r = cx("load", "transactionz", files / "tx.csv", "--store", files / "s.duckdb")
    assert r.returncode == 1 and "did you mean 'transactions'" in r.stderr
    r = cx("load", "transactions", files / "tx.csv", "--store", files / "s.duckdb", "--memory-limit", "lots")
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("error: memory_limit='lots' is not valid for DuckDB")


def test_help_and_settings():
    r = cx("--help")
    assert r.returncode == 0 and "load" in r.stdout and "report" in r.stdout and "demo" in r.stdout
    r = cx("--help-settings")
    assert r.returncode == 0 and "unknown_customer" in r.stdout and "CXVALUE_STORE" in r.stdout
    r = cx("load", "--help")
    assert r.returncode == 0 and "--map" in r.stdout and "--dir" in r.stdout


def test_usage_error_exits_2_without_traceback():
    r = cx("load", "--no-such-flag")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "No such option" in r.stderr
