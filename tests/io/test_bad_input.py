"""Bad input, table-driven (issue 16): each case is a file a hostile or careless user could load,
and what must happen — which rows go to quarantine with which reason, or which one-line error.
Every load must reconcile: rows read = loaded + rejected."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from cxvalue.io.load import load_file
from cxvalue.store import connect

TX = "customer_id,date,amount\n"

# (id, table, file name, content: text or a DataFrame written as Parquet, {row: reason})
CASES = [
    ("nan_amount", "transactions", "tx.csv", TX + "c1,2024-01-05,NaN\nc1,2024-01-06,10\n", {2: "not_finite"}),
    ("inf_amount", "transactions", "tx.csv", TX + "c1,2024-01-05,inf\nc1,2024-01-06,-inf\nc1,2024-01-07,5\n",
     {2: "not_finite", 3: "not_finite"}),
    ("infinity_word", "transactions", "tx.csv", TX + "c1,2024-01-05,Infinity\nc1,2024-01-06,1\n", {2: "not_finite"}),
    ("overflow", "transactions", "tx.csv", TX + "c1,2024-01-05,1e309\nc1,2024-01-06,1e308\n", {2: "not_finite"}),
    ("parquet_nan_inf", "transactions", "tx.parquet",
     pd.DataFrame({"customer_id": ["c1"] * 4, "date": pd.to_datetime(["2024-01-05"] * 4),
                   "amount": [float("nan"), math.inf, -math.inf, 3.0]}),
     {2: "not_finite", 3: "not_finite", 4: "not_finite"}),          # numbered as its CSV export: first record = 2
    ("nan_rating", "responses", "r.csv", "customer_id,date,nps,satisfaction\nc1,2024-01-05,9,nan\nc1,2024-01-06,8,7\n",
     {2: "not_finite"}),
    # dates: two-digit years (read as year 24), year 1, far future; offsets are converted, not dropped
    ("two_digit_year", "transactions", "tx.csv", TX + "c1,24-01-02,1\nc1,2024-01-02,2\n", {2: "implausible_date"}),
    ("year_one", "transactions", "tx.csv", TX + "c1,0001-01-01,1\nc1,1899-12-31,2\nc1,1900-01-01,3\n",
     {2: "implausible_date", 3: "implausible_date"}),
    ("far_future_end", "subscriptions", "s.csv", "customer_id,start_date,end_date\nc1,2024-01-01,2999-01-01\n"
     "c1,2024-01-01,2030-01-01\n", {2: "implausible_date"}),
    # two columns of a row that contradict each other
    ("resolved_before_opened", "complaints", "c.csv", "customer_id,opened,resolved\nc1,2024-03-01,2024-02-01\n"
     "c1,2024-03-01,2024-03-02\nc1,2024-03-01,\n", {2: "inconsistent_dates"}),
    ("ended_before_started", "subscriptions", "s.csv", "customer_id,start_date,end_date\nc1,2024-03-01,2023-03-01\n"
     "c1,2024-03-01,2024-03-01\n", {2: "inconsistent_dates"}),
    ("self_referral", "referrals", "r.csv", "referrer_id,referred_id\nc1,c1\nc1,c2\n", {2: "self_referral"}),
    # encodings, decided per row: invalid bytes quarantine their row only, wherever they are
    ("invalid_utf8_early", "transactions", "tx.csv",
     (TX.replace("amount", "amount,note") + "c1,2024-01-05,1,很好\n").encode() + b"c1,2024-01-06,2,bad\xff\xfe\n" +
     "".join(f"c{i},2024-01-07,{i},不错\n" for i in range(40)).encode(), {3: "bad_encoding"}),
    ("invalid_utf8_late", "transactions", "tx.csv",
     (TX.replace("amount", "amount,note") + "".join(f"c{i % 9},2024-01-05,{i},很好的服务\n" for i in range(60_000))
      ).encode() + b"c1,2024-01-06,2,bad\xff\n", {60_002: "bad_encoding"}),
    ("gb18030_with_a_utf8_row", "transactions", "tx.csv",
     (TX.replace("amount", "amount,note") + "".join(f"c{i},2024-01-07,{i},服务很好\n" for i in range(40))
      ).encode("gb18030") + "c1,2024-01-08,1,好\n".encode() + b"c1,2024-01-08,2,\x80\xff\n", {43: "bad_encoding"}),
    ("utf16_without_bom", "transactions", "tx.csv", (TX + "c1,2024-01-05,1\nc2,2024-01-06,2\n").encode("utf-16-le"), {}),
    ("utf16be_without_bom", "transactions", "tx.csv", (TX + "c1,2024-01-05,1\n").encode("utf-16-be"), {}),
    # a 3 MB field loads (the limit is 32 MB); over the limit, that row alone goes to quarantine
    ("field_of_3_mb", "transactions", "tx.csv", TX.replace("amount", "amount,note") + "c1,2024-01-05,1," +
     "x" * (3 << 20) + "\nc1,2024-01-06,2,ok\n", {}),
]


def _write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, pd.DataFrame):         # NaN kept as NaN (pandas would write a null)
        import pyarrow as pa
        import pyarrow.parquet as pq
        pq.write_table(pa.table({c: pa.array(content[c].to_numpy(), from_pandas=False) for c in content.columns}), path)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, tmp_path):
    _, table, name, content, want = case
    con = connect("duckdb://")
    rep = load_file(con, table, _write(tmp_path / name, content))
    assert rep.rows_read == rep.rows_loaded + rep.rows_rejected
    q = con.table("quarantine").to_pandas() if rep.rows_rejected else pd.DataFrame(columns=["row", "reason"])
    assert dict(zip(q["row"].astype(int), q["reason"])) == want
    if table == "transactions":                       # what loaded sums to a number
        total = con.table("transactions").amount.sum().execute()
        assert total is None or math.isfinite(total)


def _excel_file(path, rows, formulas=()):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for cell, f in formulas:       # openpyxl saves formulas without a computed value
        ws[cell] = f
    wb.create_sheet("Second")
    wb.save(path)
    return path


def _bit_flipped(path):
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 40):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


# (id, table, file name, content or a function of tmp_path, reader options, a fragment of the one-line error)
ERRORS = [
    ("broken_quote", "transactions", "tx.csv", TX.replace("amount", "amount,note") +
     'c1,2024-01-05,1,"good one"\nc2,2024-01-05,2,"broken\nc3,2024-01-05,3,"good, three"\nc4,2024-01-05,4,"x"\n', {},
     "quoting is broken at line 3"),
    ("broken_quote_at_the_end", "transactions", "tx.csv", TX.replace("amount", "amount,note") +
     'c1,2024-01-05,1,"a, b"\nc3,2024-01-05,3,"unterminated\n', {}, "quoting is broken at line 3"),
    ("long_line_in_the_sample", "transactions", "tx.csv", TX.replace("amount", "amount,note") + "c1,2024-01-05,1," +
     "x" * (2 << 20) + "\n", {"max_line_mb": 1}, "longer than 1 MB"),
    ("sheet_out_of_range", "transactions", "tx.xlsx",
     lambda p: _excel_file(p, [["customer_id", "date", "amount"], ["c1", "2024-01-05", 1]]), {"sheet": 5},
     "--sheet 5 is out of range: the workbook has 2 sheet(s)"),
    ("bit_flipped_xlsx", "transactions", "tx.xlsx",
     lambda p: _bit_flipped(_excel_file(p, [["customer_id", "date", "amount"]] +
                                        [[f"c{i}", "2024-01-05", i] for i in range(2000)])), {},
     "cannot read as an Excel workbook"),
    ("widths_not_numbers", "transactions", "tx.txt", TX, {"widths": "abc"}, "reader option widths: expected comma-separated"),
    ("skip_rows_not_a_number", "transactions", "tx.csv", TX, {"skip_rows": "two"}, "reader option skip-rows: expected a whole"),
    ("negative_skip_rows", "transactions", "tx.csv", TX, {"skip_rows": -1}, "expected a whole number >= 0"),
    ("header_not_a_bool", "transactions", "tx.csv", TX, {"header": "maybe"}, "reader option header: expected true or false"),
    ("date_format_not_a_format", "transactions", "tx.csv", TX, {"date_format": "%Q"},
     "reader option date-format: expected a strptime format"),
    ("wrong_delimiter", "transactions", "tx.csv", TX + "c1,2024-01-05,1\n", {"delimiter": ";"},
     "its fields seem to be separated by ',' — give --delimiter ','"),
    ("unknown_encoding", "transactions", "tx.csv", TX + "c1,2024-01-05,1\n", {"encoding": "nope"},
     "--encoding 'nope' is not an encoding Python knows"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_bad_file_is_one_line_error(case, tmp_path):
    from cxvalue.errors import CxValueError
    _, table, name, content, options, message = case
    path = content(tmp_path / name) if callable(content) else _write(tmp_path / name, content)
    con = connect("duckdb://")
    with pytest.raises(CxValueError) as err:
        load_file(con, table, path, options=options)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert "transactions" not in con.list_tables()                     # nothing loaded


def test_formula_cells_without_saved_values_are_named(tmp_path):
    from cxvalue.errors import CxValueWarning
    path = _excel_file(tmp_path / "tx.xlsx", [["customer_id", "date", "amount"], ["c1", "2024-01-05", 1],
                                              ["c2", "2024-01-06", 2], ["c3", "2024-01-07", None]],
                       formulas=[("C3", "=C2*2"), ("C4", "=1+1")])
    con = connect("duckdb://")
    with pytest.warns(CxValueWarning, match=r"2 formula cell\(s\) have no saved value .*\(C3, C4\)"):
        rep = load_file(con, "transactions", path)
    assert rep.warnings and rep.rows_read == rep.rows_loaded + rep.rows_rejected
    assert rep.rejected_by_reason == {"missing_value": 2}                # the empty amounts are not lost silently


def test_offsets_are_converted_to_the_store_time_zone(tmp_path):
    from cxvalue.io.validate import LoadRules
    f = _csv(tmp_path, "tx.csv", TX + "c1,2024-01-02T10:00:00+08:00,1\nc1,2024-01-02 10:00:00Z,2\n"
                                      "c1,2024-01-02 10:00,3\nc1,2024-01-02T10:00:00.5-0500,4\n")
    got = {}
    for tz in ("UTC", "Asia/Shanghai"):
        con = connect("duckdb://")
        load_file(con, "transactions", f, rules=LoadRules(timezone=tz))
        got[tz] = [str(d) for d in con.table("transactions").order_by("amount").date.execute()]
    assert got["UTC"] == ["2024-01-02 02:00:00", "2024-01-02 10:00:00", "2024-01-02 10:00:00",
                          "2024-01-02 15:00:00.500000"]
    assert got["Asia/Shanghai"] == ["2024-01-02 10:00:00", "2024-01-02 18:00:00", "2024-01-02 10:00:00",
                                    "2024-01-02 23:00:00.500000"]          # no offset: a local time, as given


def test_two_digit_years_load_with_a_date_format(tmp_path):
    con = connect("duckdb://")
    rep = load_file(con, "transactions", _csv(tmp_path, "tx.csv", TX + "c1,24-01-02,1\nc1,99-12-31,2\n"),
                    options={"date_format": "%y-%m-%d"})
    assert rep.rows_loaded == 2
    assert [str(d)[:10] for d in con.table("transactions").order_by("amount").date.execute()] == ["2024-01-02", "1999-12-31"]


@pytest.mark.parametrize("table, header, row", [
    ("responses", "customer_id,date,nps", "c1,2024-01-05,9"),
    ("complaints", "customer_id,opened,category", "c1,2024-01-05,delay"),
    ("subscriptions", "customer_id,start_date,plan", "c1,2024-01-05,gold"),
    ("transactions", "customer_id,date,amount", "c1,2024-01-05,10"),
])
def test_a_keyless_re_export_does_not_double_the_data(tmp_path, table, header, row):
    from cxvalue.io.validate import LoadRules
    con = connect("duckdb://")
    first = _csv(tmp_path, "a.csv", f"{header}\n{row}\n{row.replace('c1', 'c2')}\n")
    again = _csv(tmp_path, "b.csv", f"{header}\n{row}\n\n{row.replace('c1', 'c2')}\n{row.replace('c1', 'c3')}\n")
    assert load_file(con, table, first).rows_loaded == 2
    rep = load_file(con, table, again)          # one blank line different, one new row
    assert (rep.rows_loaded, rep.rejected_by_reason) == (1, {"duplicate_row": 2})
    assert con.table(table).count().execute() == 3
    rep = load_file(con, table, _csv(tmp_path, "c.csv", f"{header}\n{row}\n"), rules=LoadRules(allow_repeated_rows=True))
    assert rep.rows_loaded == 1 and con.table(table).count().execute() == 4     # a true repeat, when allowed


# ---------------------------------------------------------------- --replace and stub customers
def _csv(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_replace_reloads_a_file_loaded_before(tmp_path):
    con = connect("duckdb://")
    f = _csv(tmp_path, "c.csv", "customer_id,signup_date,gender\nc1,2023-01-01,F\nc2,2023-02-01,M\n")
    assert load_file(con, "customers", f).rows_loaded == 2
    assert load_file(con, "customers", f).skipped                          # same content, no --replace: skipped
    rep = load_file(con, "customers", f, replace=True)                      # --replace runs
    assert not rep.skipped and rep.rows_loaded == 2 and rep.rows_rejected == 0
    assert con.table("customers").count().execute() == 2


def test_replace_updates_only_the_columns_the_file_has(tmp_path):
    con = connect("duckdb://")
    load_file(con, "customers", _csv(tmp_path, "c.csv", "customer_id,signup_date,gender\nc1,2023-01-01,F\n"
                                                         "c2,2023-02-01,M\n"))
    rep = load_file(con, "customers", _csv(tmp_path, "g.csv", "customer_id,gender\nc1,M\nc3,F\n"), replace=True)
    assert (rep.rows_loaded, rep.rows_rejected) == (2, 0)
    c = con.table("customers").order_by("customer_id").to_pandas()
    assert c.customer_id.tolist() == ["c1", "c2", "c3"] and c.gender.tolist() == ["M", "M", "F"]
    assert str(c.signup_date.iloc[0])[:10] == "2023-01-01" and pd.isna(c.signup_date.iloc[2])  # kept / new


def test_a_customers_file_fills_the_stub_customers_of_earlier_transactions(tmp_path):
    con = connect("duckdb://")
    rep = load_file(con, "transactions", _csv(tmp_path, "tx.csv", TX + "c1,2024-01-05,10\nc2,2024-01-06,5\n"))
    assert rep.customers_created == 2
    rep = load_file(con, "customers", _csv(tmp_path, "c.csv", "customer_id,signup_date,gender\nc1,2023-01-01,F\n"
                                                                "c2,2023-02-01,M\nc3,2023-03-01,F\n"))
    assert (rep.rows_loaded, rep.rows_rejected) == (3, 0), rep.rejected_by_reason
    c = con.table("customers").order_by("customer_id").to_pandas()
    assert c.gender.tolist() == ["F", "M", "F"] and len(c) == 3
    assert con.table("customer_stubs").count().execute() == 0               # no stub left
    # a real customer loaded again (no --replace) is still a duplicate
    rep = load_file(con, "customers", _csv(tmp_path, "c2.csv", "customer_id,gender\nc1,M\n"))
    assert rep.rejected_by_reason == {"duplicate_key": 1}
    assert con.table("customers").filter(lambda t: t.customer_id == "c1").gender.execute().tolist() == ["F"]


def test_stubs_of_a_store_made_before_the_stub_table_are_recognised(tmp_path):
    con = connect("duckdb://")
    load_file(con, "transactions", _csv(tmp_path, "tx.csv", TX + "c1,2024-01-05,10\n"))
    con.raw_sql("DROP TABLE customer_stubs")                                 # as in a store of an earlier version
    rep = load_file(con, "customers", _csv(tmp_path, "c.csv", "customer_id,gender\nc1,F\n"))
    assert (rep.rows_loaded, rep.rows_rejected) == (1, 0)
    assert con.table("customers").gender.execute().tolist() == ["F"]


def test_markup_in_the_store_path_is_escaped_in_the_report(tmp_path):
    """Autoescape is on in the report (and web) templates: the store path in the header is text."""
    from cxvalue.interfaces.report.build import build_report
    from cxvalue.interfaces.session import open_session
    folder = tmp_path / "<img src=x onerror=alert(1)>"
    folder.mkdir()
    con = connect(folder / "s.duckdb")
    html = build_report(open_session(con=con), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    con.disconnect()


# ---------------------------------------------------------------- --query sources
@pytest.mark.parametrize("query, message", [
    ("select * from tx; drop table tx", "one SELECT statement, got 2"),
    ("drop table tx", "read-only SELECT, got a DROP"),
    ("copy tx to 'x.csv'", "read-only SELECT, got a COPY"),
    ("insert into tx values ('c9', '2024-01-01', 1)", "read-only SELECT, got a INSERT"),
    ("select * from", "not a valid SELECT"),
])
def test_a_source_query_is_one_read_only_select(tmp_path, query, message):
    import duckdb

    from cxvalue.errors import CxValueError
    src = tmp_path / "src.duckdb"
    with duckdb.connect(str(src)) as c:
        c.execute("create table tx as select 'c1' as customer_id, DATE '2024-01-05' as date, 10.0 as amount")
    con = connect("duckdb://")
    with pytest.raises(CxValueError, match=message):
        load_file(con, "transactions", query=query, query_url=f"duckdb://{src}")
    with duckdb.connect(str(src), read_only=True) as c:          # the source is untouched
        assert c.execute("select count(*) from tx").fetchone()[0] == 1
    assert not (tmp_path / "x.csv").exists()
    # a SELECT loads, and the same result loaded twice is recognised
    ok = "with x as (select * from tx) select * from x"
    assert load_file(con, "transactions", query=ok, query_url=f"duckdb://{src}").rows_loaded == 1
    assert load_file(con, "transactions", query=ok, query_url=f"duckdb://{src}").skipped


def test_a_wide_survey_export_loads(tmp_path):
    """300 rating columns beside the contract's (it ran out of memory at 200: DuckDB rewrote each
    NA list into a join, and planned the checks in time growing with the square of the columns)."""
    import numpy as np
    rng = np.random.default_rng(0)
    n = 50
    df = pd.concat([pd.DataFrame({"customer_id": [f"c{i % 7}" for i in range(n)], "date": "2024-01-05",
                                  "nps": rng.integers(0, 11, n)}),
                    pd.DataFrame({f"q{j}": rng.integers(1, 11, n) for j in range(300)})], axis=1)
    df.loc[3, "q7"] = "n/a"                        # a missing answer in an extra column
    df.to_csv(tmp_path / "wide.csv", index=False)
    con = connect("duckdb://")
    rep = load_file(con, "responses", tmp_path / "wide.csv")
    assert (rep.rows_loaded, rep.rows_rejected) == (n, 0) and len(rep.extra_columns) == 300
    t = con.table("responses")
    assert str(t.schema()["q0"]).startswith("int") and t.q7.isnull().sum().execute() == 1


def test_a_wide_file_whose_sample_types_fail_later_is_typed_from_every_row(tmp_path, monkeypatch):
    """A wide file is typed from a sample and checked while every value is typed: a column that is
    whole numbers in the sample and has a fraction, a word or a date-like text later is typed again
    from every row — nothing is rejected for a guess, and the other columns keep their type."""
    import numpy as np
    import cxvalue.io.validate as v
    monkeypatch.setattr(v, "INFER_SAMPLE", 30)
    rng = np.random.default_rng(1)
    n = 120
    df = pd.concat([pd.DataFrame({"customer_id": [f"c{i % 9}" for i in range(n)], "date": "2024-01-05",
                                  "nps": rng.integers(0, 11, n)}),
                    pd.DataFrame({f"q{j}": rng.integers(1, 11, n) for j in range(60)})], axis=1)
    df["q1"] = df["q1"].astype(object)
    df["q2"] = df["q2"].astype(object)
    df.loc[100, "q1"] = "2.5"                      # a fraction after the sample: float
    df.loc[90, "q2"] = "don't know"                # a word after the sample: text
    df.to_csv(tmp_path / "wide.csv", index=False)
    con = connect("duckdb://")
    rep = load_file(con, "responses", tmp_path / "wide.csv")
    assert (rep.rows_loaded, rep.rows_rejected) == (n, 0)
    schema = con.table("responses").schema()
    assert str(schema["q0"]).startswith("int") and str(schema["q1"]).startswith("float")
    assert str(schema["q2"]).startswith("string")
    assert con.table("responses").q1.sum().execute() == pytest.approx(df["q1"].astype(float).sum())


def test_auto_memory_limit_grows_with_the_width_only():
    from cxvalue.io.load import auto_memory_limit
    assert auto_memory_limit(30) == auto_memory_limit(1000) == "2000MB"
    mb = int(auto_memory_limit(2000)[:-2])
    import os
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
    assert mb == min(4000, max(2000, ram * 3 // 4))


# ---------------------------------------------------------------- line items and the share of rejected rows
def _line_items(n_orders=300, lines=4):
    rows = [f"o{o},c{o % 50},2024-01-{1 + o % 28:02d},{l + 1}.5,p{l}" for o in range(n_orders) for l in range(lines)]
    return "order_id,customer_id,date,amount,product\n" + "\n".join(rows) + "\n"


def test_line_items_are_refused_as_orders_then_load_as_lines(tmp_path):
    from cxvalue.errors import DataContractError
    from cxvalue.io.load import rules_from_settings
    f = _csv(tmp_path, "lines.csv", _line_items())
    con = connect("duckdb://")
    with pytest.raises(DataContractError, match=r"900 of 1,200 rows \(75.0%\) would be rejected.*duplicate_key 900"
                                                r".*--line-items.*Nothing was loaded"):
        load_file(con, "transactions", f, rules=rules_from_settings())       # the CLI's rules: 5% at most
    assert "transactions" not in con.list_tables()
    from dataclasses import replace
    rep = load_file(con, "transactions", f, rules=replace(rules_from_settings(), line_items=True))
    assert (rep.rows_loaded, rep.rows_rejected) == (1200, 0)
    assert con.table("transactions").amount.sum().execute() == pytest.approx(300 * (1.5 + 2.5 + 3.5 + 4.5))
    # the same export again is recognised row by row
    rep = load_file(con, "transactions", _csv(tmp_path, "again.csv", _line_items() + "\n"),
                    rules=replace(rules_from_settings(), line_items=True, max_reject_share=1.0))
    assert rep.rejected_by_reason == {"duplicate_row": 1200}


def test_line_numbers_make_the_key(tmp_path):
    text = "order_id,line,customer_id,date,amount\no1,1,c1,2024-01-05,3\no1,2,c1,2024-01-05,4\no1,2,c1,2024-01-05,9\n"
    con = connect("duckdb://")
    rep = load_file(con, "transactions", _csv(tmp_path, "l.csv", text))
    assert (rep.rows_loaded, rep.rejected_by_reason) == (2, {"duplicate_key": 1})


def test_numeric_ids_with_gaps_lose_the_trailing_zero_and_rows_number_alike(tmp_path):
    """Issue 13: a customer id column read as numbers with gaps came as 17850.0; the CSV and the
    Parquet export of the same data numbered a rejected record 143 and 142."""
    df = pd.DataFrame({"customer_id": [17850.0, None, 12346.0], "date": ["2024-01-05"] * 3, "amount": [1.0, 2.0, 3.0]})
    df.to_csv(tmp_path / "tx.csv", index=False)
    df.to_parquet(tmp_path / "tx.parquet")
    rows = {}
    for name in ("tx.csv", "tx.parquet"):
        con = connect("duckdb://")
        load_file(con, "transactions", tmp_path / name)
        assert sorted(con.table("transactions").customer_id.execute()) == ["12346", "17850"]
        rows[name] = con.table("quarantine").row.execute().tolist()
    assert rows["tx.csv"] == rows["tx.parquet"] == [3]


def test_fixed_width_with_several_fields_reads_its_header(tmp_path):
    """--widths with more than one field failed with 'Values were not provided for the prepared
    statement parameters' (one header placeholder per field)."""
    f = _csv(tmp_path, "fx.txt", "customer_id date       amount\nc1          2024-01-05 10\nc2          2024-01-06 5\n")
    con = connect("duckdb://")
    rep = load_file(con, "transactions", f, options={"format": "fixed", "widths": [12, 11, 6]})
    assert (rep.rows_loaded, rep.rows_rejected) == (2, 0)


def test_a_line_over_the_limit_alone_goes_to_quarantine(tmp_path):
    """Past the sniffed start, a line longer than --max-line-mb (default 32 MB; 1 MB here, the same
    code path) is quarantined as line_too_long, with its first 1,000 characters; the rest loads."""
    text = TX.replace("amount", "amount,note") + "".join(f"c1,2024-01-05,{i},ok\n" for i in range(30_000)) + \
        "c1,2024-01-06,2," + "x" * (2 << 20) + "\nc1,2024-01-07,3,ok\n"
    con = connect("duckdb://")
    rep = load_file(con, "transactions", _write(tmp_path / "tx.csv", text), options={"max_line_mb": 1})
    assert (rep.rows_loaded, rep.rejected_by_reason) == (30_001, {"line_too_long": 1})
    q = con.table("quarantine").to_pandas().iloc[0]
    assert q.row == 30_002 and len(q.raw) < 1100 and "--max-line-mb" in q.expected   # raw: JSON of its first 1,000 characters


def _wide_ratings(n: int, columns: int = 60, seed: int = 3) -> pd.DataFrame:
    import numpy as np
    rng = np.random.default_rng(seed)
    df = pd.concat([pd.DataFrame({"customer_id": [f"c{i % 97}" for i in range(n)], "date": "2024-01-05",
                                  "nps": rng.integers(0, 11, n)}),
                    pd.DataFrame({f"q{j}": rng.integers(1, 11, n) for j in range(columns)})], axis=1)
    return df.astype({f"q{j}": object for j in range(6)})


def test_a_wide_files_number_columns_are_parsed_by_the_reader_and_late_surprises_are_typed_again(tmp_path, monkeypatch):
    """The number columns of a wide file are parsed by the CSV reader (its sniffer names them);
    a value beyond the sniffed rows that is a fraction (int → float), a word (→ text), an NA code
    or NaN (→ missing, as NA codes are) or inf (float, quarantined: not a finite number) is handled as if the column had been
    typed from text — nothing else is rejected, every value is kept."""
    import cxvalue.io.readers as readers
    monkeypatch.setattr(readers, "SNIFF_ROWS", 30)
    n = 6000
    df = _wide_ratings(n)
    df.loc[5000, "q1"] = "2.5"
    df.loc[5100, "q2"] = "don't know"
    df.loc[5200, "q3"] = "NA"
    df.loc[5300, "q4"] = "inf"
    df.loc[5350, "q5"] = "nan"
    df.loc[5400, "q0"] = " 7 "
    df.to_csv(tmp_path / "wide.csv", index=False)
    con = connect("duckdb://")
    rep = load_file(con, "responses", tmp_path / "wide.csv")
    assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (n, n - 1, 1)
    assert rep.rejected_by_reason == {"not_finite": 1}
    q = con.raw_sql("SELECT row, column_name, reason FROM quarantine").fetchall()
    assert q == [(5302, "q4", "not_finite")]        # header line + 0-based 5300 + 1
    schema = con.table("responses").schema()
    assert {c: str(schema[c]) for c in ("q0", "q1", "q2", "q3", "q4", "q5", "q6")} == {
        "q0": "int64", "q1": "float64", "q2": "string", "q3": "int64", "q4": "float64", "q5": "int64",
        "q6": "int64"}
    got = con.table("responses").to_pandas()
    keep = df.drop(index=5300).reset_index(drop=True)
    assert got["q1"].sum() == pytest.approx(pd.to_numeric(keep["q1"]).sum())
    assert got["q3"].isna().sum() == got["q5"].isna().sum() == 1 and got["q0"].sum() == pd.to_numeric(keep["q0"]).sum()
    assert (got["q2"] == "don't know").sum() == 1 and got["q59"].sum() == keep["q59"].sum()


def test_a_second_wide_file_is_parsed_with_the_stores_types_and_a_bad_value_is_quarantined(tmp_path, monkeypatch):
    """Columns typed in the store keep their type: a word in a stored whole-number column
    quarantines its row (wrong_type, the right row number), the other rows load."""
    import cxvalue.io.readers as readers
    monkeypatch.setattr(readers, "SNIFF_ROWS", 30)
    con = connect("duckdb://")
    _wide_ratings(300, seed=1).to_csv(tmp_path / "a.csv", index=False)
    assert load_file(con, "responses", tmp_path / "a.csv").rows_loaded == 300
    df = _wide_ratings(5000, seed=2)
    df.loc[4500, "q1"] = "n/k"
    df.loc[4600, "q2"] = "3.5"
    df.to_csv(tmp_path / "b.csv", index=False)
    rep = load_file(con, "responses", tmp_path / "b.csv")
    assert (rep.rows_loaded, rep.rows_rejected) == (4998, 2)
    assert sorted(con.raw_sql("SELECT row, column_name, reason FROM quarantine").fetchall()) == [
        (4502, "q1", "wrong_type"), (4602, "q2", "wrong_type")]
    assert con.table("responses").count().execute() == 300 + 4998
