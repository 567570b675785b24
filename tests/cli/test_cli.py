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
    r = cx("load", "transactions", files / "tx.csv", "--store", store, "--json", "--allow-rejects")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)["loads"][0]
    assert (rep["rows_read"], rep["rows_loaded"], rep["rows_rejected"]) == (2, 1, 1)
    r = cx("status", "--store", store, "--json")
    info = json.loads(r.stdout)
    assert info["id"] == "overview" and info["as_of"] == "2024-01-01"
    blocks = {b["id"]: b for b in info["blocks"]}
    assert {t["table"]: t["rows"] for t in blocks["tables"]["rows"]} == {"customers": 1, "transactions": 1}
    assert blocks["quarantine-reasons"]["rows"][0]["reason"] == "wrong_type"
    assert blocks["load-quality"]["rows"][0]["rows_rejected"] == 1
    out = files / "r.html"
    r = cx("report", "--store", store, "--out", out, "--lang", "zh")
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    assert "数据概览" in html and "数据导入质量" in html
    assert "<script src" not in html and "<link" not in html  # self-contained, works offline
    r = cx("quarantine", "--store", store, "--json")
    rows = json.loads(r.stdout)["blocks"][0]["rows"]
    assert (rows[0]["got"], rows[0]["row"], rows[0]["column_name"]) == ("x", 3, "amount")
    r = cx("status", "--store", store)
    assert r.returncode == 0 and "transactions" in r.stdout and "as of 2024-01-01" in r.stdout


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


def test_run_on_own_store_skips_with_reasons_and_logs(files):
    """`cxvalue run` on a store with only transactions: value-type steps run, survey steps are
    skipped with the table they need; the run_log ledger grows by one row per step and run."""
    import duckdb
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(0)
    n = 400
    tx = pd.DataFrame({"customer_id": [f"c{i % 120}" for i in range(n)],
                       "date": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
                       "amount": rng.gamma(2, 30, n).round(2)})
    tx.to_csv(files / "orders.csv", index=False)
    store = files / "own.duckdb"
    assert cx("load", "transactions", files / "orders.csv", "--store", store).returncode == 0
    r = cx("run", "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["as_of"] == str(tx.date.max().date())
    steps = {s["step"]: s for s in out["steps"]}
    assert steps["customer value"]["status"] == "ok" and steps["customer value"]["tables"]["customer_value"] == 120
    assert steps["nps"]["status"] == "skipped"
    assert steps["nps"]["reason"] == "needs table responses: load it with `cxvalue load responses FILE`"
    assert [s for s, o in steps.items() if o["status"] == "ok"] == [
        "customer value", "loyalty", "churn prediction", "survival", "lifecycle", "retention", "customer directory",
        "strategy", "cases"]
    assert steps["case outcomes"]["reason"].startswith("no case old enough to measure")   # the cases just opened
    assert steps["customer directory"]["tables"]["customer_directory"] == 120  # no customers table: from customer_value
    assert steps["churn reasons"]["reason"] == "needs churn_events, or complaints with transactions"
    r = cx("run", "--store", store, "--only", "lifecycle", "--json")
    assert [s["step"] for s in json.loads(r.stdout)["steps"]] == ["lifecycle"]
    con = duckdb.connect(str(store), read_only=True)
    log = con.execute("select run_id, step, status from run_log").df()
    con.close()
    assert log.run_id.nunique() == 2 and len(log) == len(steps) + 1
    # the report says why a domain is missing
    html = files / "own.html"
    jf = files / "own.json"
    assert cx("report", "--store", store, "--out", html, "--json", jf).returncode == 0
    views = {v["id"]: v for v in json.loads(jf.read_text(encoding="utf-8"))["views"]}
    assert {"overview", "value", "voice"} <= set(views)
    assert views["voice"]["blocks"] == [] and views["voice"]["skipped"][0]["step"] == "nps"
    assert "needs table responses" in html.read_text(encoding="utf-8")
    r = cx("run", "--store", store, "--only", "nosuch")
    assert r.returncode == 1 and "unknown step 'nosuch': expected one of customer value" in r.stderr
    r = cx("run", "--list")
    assert r.returncode == 0 and "retention (churn) needs churn_scores" in r.stdout


def test_entry_point_smoke_subprocess(files):
    """The installed entry point (`python -m cxvalue`) in a real process: help and a one-line error."""
    from cli_runner import cx_subprocess
    r = cx_subprocess("--help")
    assert r.returncode == 0 and "run" in r.stdout and "demo" in r.stdout
    r = cx_subprocess("load", "transactions", files / "bad.csv", "--store", files / "s.duckdb")
    assert r.returncode == 1 and r.stderr.startswith("error: bad.csv: missing required column 'date'")


def test_a_long_steps_progress_is_shown_in_the_bar():
    from cxvalue.interfaces.cli.commands.run import progress_detail
    assert progress_detail({"done": 300000, "total": 1000000, "unit": "comments"}) == " 300,000/1,000,000 comments"
    assert progress_detail({"done": 5, "total": None, "unit": ""}) == " 5" and progress_detail(None) == ""


def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, tmp_path, capsys):
    """Ctrl+C inside a command, and while the CLI is still loading: "interrupted", exit 130."""
    import pytest

    from cxvalue.interfaces.cli import entry as entry_mod

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr("cxvalue.interfaces.cli.commands.data.session", interrupted)
    r = cx("status", "--store", tmp_path / "s.duckdb")
    assert r.returncode == 130 and "interrupted" in r.stderr and "Traceback" not in r.stderr
    monkeypatch.setattr("cxvalue.interfaces.cli.main.main", interrupted)   # as if during the imports
    with pytest.raises(SystemExit) as ex:
        entry_mod.entry()
    assert ex.value.code == 130 and capsys.readouterr().err.strip() == "interrupted"


@pytest.mark.parametrize("command", ["clv", "loyalty", "nps", "drivers", "churn", "lifecycle", "report", "status"])
def test_every_command_on_a_store_without_transactions_prints_one_line(tmp_path, command):
    """Issue 13: `clv` and `loyalty` printed a 57-line traceback on an empty store."""
    (tmp_path / "c.csv").write_text("customer_id\nc1\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    assert cx("load", "customers", tmp_path / "c.csv", "--store", store).returncode == 0
    r = cx(command, "--store", store)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) <= 2, r.stderr
