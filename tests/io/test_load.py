"""Ingestion: readers, validation with exact quarantine counts, atomicity, idempotency, real data."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from cxvalue.errors import CxValueError, DataContractError, LoadAborted
from cxvalue.io import load as load_mod
from cxvalue.io.load import load_dir, load_file
from cxvalue.io.readers import ReadOptions, detect_encoding
from cxvalue.store import connect, raw_duckdb, status


@pytest.fixture()
def con():
    return connect("duckdb://")


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


CUSTOMERS = "customer_id,signup_date,gender\nc1,2023-01-01,F\nc2,2023-02-01,M\nc3,2023-03-01,F\n"
BAD_TX = """customer_id,date,amount,order_id,is_return,quantity
c1,2024-01-05,100.0,o1,,1
,2024-01-05,10,o2,,1
c1,2024-01-05,abc,o3,,1
c1,2024-13-45,10,o4,,1
c1,2999-01-01,10,o5,,1
c1,2024-01-05,-5,o6,,1
c1,2024-01-05,-5,o7,true,1
c2,2024-01-06,20,o1,,1
zz,2024-01-06,20,o8,,1
c2,2024-01-06,20,o9,,1,extra
c2,2024-01-06,20,o10,,-1
c2,2024-01-06,20,o11,,1.5
c2,2024-01-06,20,o12,maybe,1
c3,2024-01-06,,o13,,1
c3,2024/01/07,30,o14,no,2
"""


def test_dozen_kinds_of_bad_rows_exact_quarantine_counts(con, tmp_path):
    load_file(con, "customers", write(tmp_path / "customers.csv", CUSTOMERS))
    rep = load_file(con, "transactions", write(tmp_path / "tx.csv", BAD_TX), unknown_customer="reject")
    assert rep.rows_read == 15 and rep.rows_loaded == 3 and rep.rows_rejected == 12
    assert rep.rejected_by_reason == {"missing_value": 2, "wrong_type": 3, "bad_date": 1, "future_date": 1,
                                      "negative_amount": 2, "duplicate_key": 1, "unknown_customer": 1,
                                      "malformed_row": 1}
    q = con.table("quarantine").to_pandas().sort_values("row")
    rows = con.table("quarantine").order_by("row").to_pyarrow().to_pylist()
    # row numbers as a spreadsheet shows them: header = row 1
    assert [[r["row"], r["column_name"], r["reason"]] for r in rows] == [
        [3, "customer_id", "missing_value"], [4, "amount", "wrong_type"], [5, "date", "bad_date"],
        [6, "date", "future_date"], [7, "amount", "negative_amount"], [9, "order_id", "duplicate_key"],
        [10, "customer_id", "unknown_customer"], [11, None, "malformed_row"], [12, "quantity", "negative_amount"],
        [13, "quantity", "wrong_type"], [14, "is_return", "wrong_type"], [15, "amount", "missing_value"]]
    bad_type = q[q.row == 4].iloc[0]
    assert bad_type.expected.startswith("a number") and bad_type.got == "abc"
    assert json.loads(bad_type.raw) == {"customer_id": "c1", "date": "2024-01-05", "amount": "abc",
                                        "order_id": "o3", "is_return": None, "quantity": "1"}
    tx = con.table("transactions").to_pandas().sort_values("order_id")
    assert tx.order_id.tolist() == ["o1", "o14", "o7"]
    assert tx.set_index("order_id").loc["o7", "amount"] == -5 and bool(tx.set_index("order_id").loc["o7", "is_return"])
    assert str(tx.set_index("order_id").loc["o14", "date"])[:10] == "2024-01-07"


def test_survey_ranges_scales_and_allowed_values(con, tmp_path):
    write(tmp_path / "resp.csv", "customer_id,date,nps,satisfaction,experience_convenience,rating_seat\n"
          "c1,2024-01-01,9,8,6,4\nc1,2024-01-02,11,8,6,4\nc1,2024-01-03,7,12,6,4\n"
          "c1,2024-01-04,7,8,9,4\nc1,2024-01-05,7,8,6,0\nc1,2024-01-06,-1,8,6,4\n")
    write(tmp_path / "resp.yaml", "scales:\n  experience_*: [1, 7]\n  rating_seat: [1, 5]\n")
    rep = load_file(con, "responses", tmp_path / "resp.csv", mapping=tmp_path / "resp.yaml")
    assert (rep.rows_loaded, rep.rows_rejected) == (1, 5)
    q = con.table("quarantine").to_pandas().sort_values("row")
    assert q.column_name.tolist() == ["nps", "satisfaction", "experience_convenience", "rating_seat", "nps"]
    assert set(q.reason) == {"out_of_range"}
    assert q.expected.iloc[2] == "a value between 1 and 7"
    write(tmp_path / "subs.csv", "customer_id,start_date,period\nc1,2024-01-01,month\nc1,2024-01-01,weekly\n")
    rep = load_file(con, "subscriptions", tmp_path / "subs.csv")
    assert rep.rejected_by_reason == {"not_allowed": 1}


def test_missing_required_column_suggests_closest_header(con, tmp_path):
    write(tmp_path / "tx.csv", "customer_id,date,amout\nc1,2024-01-01,3\n")
    with pytest.raises(DataContractError, match=r"tx.csv: missing required column 'amount' \(expected float\) "
                                                r"— a header that may hold it: 'amout'"):
        load_file(con, "transactions", tmp_path / "tx.csv")
    assert "transactions" not in con.list_tables()
    # only plausible names are suggested (it said: closest header: 'Country'); a quantity and a unit
    # price suggest the derive: to write
    write(tmp_path / "lines.csv", "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                                  "1,2,2024-01-01,3.5,c1,UK\n")
    with pytest.raises(DataContractError) as err:
        load_file(con, "transactions", tmp_path / "lines.csv", mapping=load_mod.Mapping(
            columns={"InvoiceDate": "date", "CustomerID": "customer_id"}))
    assert "'Country'" not in str(err.value).split("Headers found")[0]
    assert 'derive: {amount: "Quantity * UnitPrice"}' in str(err.value)


def test_strict_mode_names_file_row_column_expected_got_and_loads_nothing(con, tmp_path):
    write(tmp_path / "tx.csv", "customer_id;date;amount\nc1;2024-01-01;3\nc1;2024-01-02;12,5\n")
    with pytest.raises(DataContractError, match=r"tx.csv row 3: column 'amount': wrong_type: expected a number "
                                                r"\(use --decimal ',' for decimal commas\), got '12,5'"):
        load_file(con, "transactions", tmp_path / "tx.csv", options={"delimiter": ";"}, strict=True)
    assert "transactions" not in con.list_tables()


def test_decimal_comma_and_semicolon(con, tmp_path):
    write(tmp_path / "tx.csv", "customer_id;date;amount\nc1;05.01.2024;1.234,5\n")
    rep = load_file(con, "transactions", tmp_path / "tx.csv",
                    options={"delimiter": ";", "decimal": ",", "date_format": "%d.%m.%Y"})
    assert rep.rows_loaded == 1
    row = con.table("transactions").to_pandas().iloc[0]
    assert row.amount == 1234.5 and str(row.date)[:10] == "2024-01-05"


def test_gbk_chinese_csv_with_chinese_headers(con, tmp_path):
    text = "会员号,交易日期,消费金额,渠道,产品\nA001,2024-03-01,1280.5,手机应用,北京-上海\nA002,2024-03-02,860,柜台,广州-成都\n"
    path = write(tmp_path / "交易.csv", text, encoding="gbk")
    assert detect_encoding(path) == "gb18030"
    rep = load_file(con, "transactions", path)
    assert rep.rows_loaded == 2 and rep.columns["会员号"] == "customer_id" and rep.columns["消费金额"] == "amount"
    df = con.table("transactions").to_pandas().sort_values("customer_id")
    assert df["channel"].tolist() == ["手机应用", "柜台"] and df["product"].tolist() == ["北京-上海", "广州-成都"]


def test_mapping_file_maps_columns_and_value_codes(con, tmp_path):
    path = write(tmp_path / "churn.csv", "客户编号,流失日期,原因,是否主动\nA1,2024-01-01,搬家,Y\nA2,2024-01-02,价格,N\n",
                 encoding="utf-8-sig")
    mp = write(tmp_path / "m.yaml", "table: churn_events\ncolumns: {客户编号: customer_id, 原因: reason, 是否主动: voluntary}\n"
               "values:\n  voluntary: {Y: true, N: false}\n")
    assert detect_encoding(path) == "utf-8-sig"
    rep = load_file(con, "churn_events", path, mapping=mp)
    assert rep.rows_loaded == 2
    df = con.table("churn_events").to_pandas().sort_values("customer_id")
    assert df.voluntary.tolist() == [True, False] and df.reason.tolist() == ["搬家", "价格"]


def test_atomic_failure_half_way_leaves_store_exactly_as_before(con, tmp_path, monkeypatch):
    load_file(con, "customers", write(tmp_path / "customers.csv", CUSTOMERS))
    load_file(con, "transactions", write(tmp_path / "t1.csv", "customer_id,date,amount\nc1,2024-01-01,5\n"))
    before = {t: con.table(t).to_pandas() for t in con.list_tables()}

    def boom(step):
        if step == "inserted":
            raise RuntimeError("disk full (injected)")
    monkeypatch.setattr(load_mod, "_fail_point", boom)
    with pytest.raises(LoadAborted, match="rolled back"):
        load_file(con, "transactions", write(tmp_path / "t2.csv",
                                             "customer_id,date,amount,channel,x\nc9,2024-01-02,7,app,1\nc1,bad,1,app,2\n"))
    after = {t: con.table(t).to_pandas() for t in con.list_tables()}
    assert before.keys() == after.keys()
    for k in before:
        pd.testing.assert_frame_equal(before[k], after[k])
    monkeypatch.setattr(load_mod, "_fail_point", lambda step: None)
    rep = load_file(con, "transactions", tmp_path / "t2.csv")  # the same file loads fine afterwards
    assert (rep.rows_loaded, rep.rows_rejected, rep.customers_created) == (1, 1, 1)


def test_idempotent_same_file_twice_and_key_duplicates(con, tmp_path):
    f = write(tmp_path / "tx.csv", "order_id,customer_id,date,amount\no1,c1,2024-01-01,5\no2,c1,2024-01-02,6\n")
    assert load_file(con, "transactions", f).rows_loaded == 2
    rep = load_file(con, "transactions", f)
    assert rep.skipped and rep.rows_loaded == 0 and "already loaded" in rep.message
    assert con.table("transactions").count().execute() == 2
    g = write(tmp_path / "tx2.csv", "order_id,customer_id,date,amount\no2,c1,2024-01-02,60\no3,c1,2024-01-03,7\n")
    rep = load_file(con, "transactions", g)
    assert (rep.rows_loaded, rep.rejected_by_reason) == (1, {"duplicate_key": 1})
    h = write(tmp_path / "tx3.csv", "order_id,customer_id,date,amount\no2,c1,2024-01-02,61\n")
    assert load_file(con, "transactions", h, replace=True).rows_loaded == 1
    df = con.table("transactions").to_pandas().set_index("order_id")
    assert len(df) == 3 and df.loc["o2", "amount"] == 61


def test_excel_and_parquet(con, tmp_path):
    df = pd.DataFrame({"customer_id": ["a", "b", "c"], "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                       "amount": [1.5, -2.0, 3.0]})
    df.to_excel(tmp_path / "tx.xlsx", index=False)
    rep = load_file(con, "transactions", tmp_path / "tx.xlsx")
    assert (rep.rows_loaded, rep.rows_rejected) == (2, 1)
    assert con.table("quarantine").to_pandas().row.tolist() == [3]  # Excel row of the -2.0
    con2 = connect("duckdb://")
    df.to_parquet(tmp_path / "tx.parquet")
    rep = load_file(con2, "transactions", tmp_path / "tx.parquet")
    assert (rep.rows_loaded, rep.rows_rejected) == (2, 1)
    assert con2.table("quarantine").to_pandas().row.tolist() == [3]  # as in the Excel sheet (header = row 1)


def test_sql_source(con, tmp_path):
    import sqlite3
    db = tmp_path / "crm.sqlite"
    with sqlite3.connect(db) as c:
        c.execute("create table orders (cust text, ts text, total real)")
        c.executemany("insert into orders values (?, ?, ?)", [("a", "2024-01-01", 3.0), ("b", "2024-02-01", 4.5)])
    rep = load_file(con, "transactions", query="select cust as customer_id, ts as date, total as amount from orders",
                    query_url=f"sqlite://{db}")
    assert rep.rows_loaded == 2
    assert con.table("transactions").amount.sum().execute() == 7.5


def test_load_dir_loads_customers_first_and_lists_other_files(con, tmp_path):
    write(tmp_path / "customers.csv", CUSTOMERS)
    write(tmp_path / "transactions.csv", "customer_id,date,amount\nc1,2024-01-01,5\n")
    write(tmp_path / "notes.txt", "hello")
    reports, ignored = load_dir(con, tmp_path, unknown_customer="reject")
    assert [r.table for r in reports] == ["customers", "transactions"] and ignored == ["notes.txt"]
    assert reports[1].rows_loaded == 1


def test_cdnow_master_whitespace_file(con, shared_data, tmp_path):
    mp = write(tmp_path / "cdnow.yaml", "columns: {number_of_cds: quantity, dollar_value: amount}\n"
               "options: {format: whitespace}\n")
    rep = load_file(con, "transactions", shared_data / "cdnow" / "CDNOW_master.txt", mapping=mp)
    assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (69_659, 69_659, 0)
    tx = con.table("transactions")
    assert tx.customer_id.nunique().execute() == 23_570
    assert rep.customers_created == 23_570
    assert str(tx.date.min().execute())[:10] == "1997-01-01" and str(tx.date.max().execute())[:10] == "1998-06-30"


def test_cdnow_sample_without_header(con, shared_data):
    opts = ReadOptions(format="whitespace", header=False, names=["master_id", "customer_id", "date", "quantity", "amount"])
    rep = load_file(con, "transactions", shared_data / "cdnow" / "CDNOW_sample.txt", options=opts)
    assert (rep.rows_loaded, rep.rows_rejected) == (6_919, 0)
    assert con.table("transactions").customer_id.nunique().execute() == 2_357


def test_telco_blank_total_charges_are_missing_not_errors(con, shared_data):
    rep = load_file(con, "customers", shared_data / "telco_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv")
    assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (7_043, 7_043, 0)
    assert rep.columns["customerID"] == "customer_id"
    c = con.table("customers")
    assert c.total_charges.isnull().sum().execute() == 11
    assert c.filter(c.total_charges.isnull()).tenure.max().execute() == 0
    assert str(c.schema()["total_charges"]).startswith("float64")
    assert c.churn.sum().execute() == 1_869  # Yes/No read as boolean


def test_status_reports_tables_and_quarantine(con, tmp_path):
    load_file(con, "transactions", write(tmp_path / "tx.csv", "customer_id,date,amount\nc1,2024-01-01,5\nc2,x,1\n"))
    info = status(con)
    names = {t["table"]: t for t in info["tables"]}
    assert names["transactions"]["rows"] == 1 and names["customers"]["rows"] == 1
    assert info["quarantine"] == [{"table_name": "transactions", "reason": "bad_date", "column_name": "date", "rows": 1}]
    assert info["loads"][0]["rows_read"] == 2


def test_unknown_table_and_option_errors(con, tmp_path):
    with pytest.raises(CxValueError, match="unknown table 'transaction'.*did you mean 'transactions'"):
        load_file(con, "transaction", tmp_path / "x.csv")
    with pytest.raises(CxValueError, match="unknown reader option"):
        ReadOptions.from_dict({"delim": ";"})


def test_fixed_width_file(con, tmp_path):
    path = write(tmp_path / "tx.dat", "C00001202401050012.50\nC00002202401070100.00\nC0000320240107xx.xxxx\n")
    rep = load_file(con, "transactions", path, options={"format": "fixed", "widths": [6, 8, 7], "header": False,
                                                        "names": ["customer_id", "date", "amount"]})
    assert (rep.rows_loaded, rep.rows_rejected) == (2, 1)
    df = con.table("transactions").to_pandas().sort_values("customer_id")
    assert df.amount.tolist() == [12.5, 100.0] and str(df.date.iloc[0])[:10] == "2024-01-05"
    assert con.table("quarantine").to_pandas().row.tolist() == [3]


@pytest.mark.parametrize("attempt", range(3))  # the order bug it guards against shows in some runs only
def test_large_csv_read_in_parallel_numbers_rejected_rows_in_file_order(tmp_path, attempt):
    """A CSV big enough to be scanned by several threads: rejected rows keep their exact row
    numbers (DuckDB 1.5's CREATE TABLE AS from a parallel CSV scan does not reliably keep the
    file's order, so records are numbered over the scan), parser rejects shift later rows
    correctly, and the load restores the connection's options."""
    n = 600_000
    bad = {1_234: "c1,not-a-date,5,o{i}", 250_000: "c1,2024-01-01,-3,o{i}", 333_333: "c1,2024-01-01,5,o{i},extra",
           420_000: "c1,2024-01-01,5,o17", 599_998: "c1,2024-01-01,abc,o{i}"}
    lines = ["customer_id,date,amount,order_id"]
    for i in range(n):
        lines.append((bad.get(i) or "c{c},2024-01-{d:02d},{a}.25,o{i}").format(c=i % 997, d=1 + i % 28, a=i % 400, i=i))
    f = tmp_path / "big.csv"
    f.write_text("\n".join(lines) + "\n")
    assert f.stat().st_size > 16e6  # several of DuckDB's 8 MB per-thread CSV pieces
    con = connect(str(tmp_path / "store.duckdb"))
    duck = raw_duckdb(con)
    duck.execute("SET preserve_insertion_order = false")
    limit = duck.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    rep = load_file(con, "transactions", f, memory_limit="300MB")
    assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (n, n - 5, 5)
    rows = con.table("quarantine").order_by("row").to_pyarrow().to_pylist()
    # data record i is on row i + 2 (header = row 1)
    assert [(r["row"], r["reason"], r["column_name"]) for r in rows] == [
        (1_236, "bad_date", "date"), (250_002, "negative_amount", "amount"), (333_335, "malformed_row", None),
        (420_002, "duplicate_key", "order_id"), (600_000, "wrong_type", "amount")]
    dup = next(r for r in rows if r["reason"] == "duplicate_key")
    assert json.loads(dup["raw"]) == {"customer_id": "c1", "date": "2024-01-01 00:00:00", "amount": "5.0",
                                      "order_id": "o17"}  # validated values (see docs/data-contract.md)
    assert duck.execute("SELECT current_setting('preserve_insertion_order'), current_setting('memory_limit')"
                        ).fetchone() == (False, limit)
    assert duck.execute("SELECT count(DISTINCT order_id), sum(amount) FROM transactions").fetchone() == (
        n - 5, sum(i % 400 + 0.25 for i in range(n) if i not in bad))
    with pytest.raises(CxValueError, match="memory_limit"):
        load_file(con, "transactions", f, memory_limit="lots")
    assert duck.execute("SELECT current_setting('preserve_insertion_order'), current_setting('memory_limit')"
                        ).fetchone() == (False, limit)
    con.disconnect()
