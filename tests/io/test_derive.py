"""Derived columns (``derive:`` in a mapping file, issue 13): computed in the engine from source
columns, checked before anything loads."""
from __future__ import annotations

import pytest

from cxvalue.errors import DataContractError
from cxvalue.io.load import load_file
from cxvalue.io.mapping import Mapping, load_mapping
from cxvalue.store import connect

RETAIL = ("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
          "536365,85123A,6,2010-12-01 08:26,2.55,17850,United Kingdom\n"
          "536365,71053,6,2010-12-01 08:26,3.39,17850,United Kingdom\n"
          "536366,22633,3,2010-12-01 08:28,\"1,85\",17851,France\n")
COLS = {"InvoiceNo": "order_id", "InvoiceDate": "date", "CustomerID": "customer_id"}


def _load(tmp_path, derive, text=RETAIL, **kw):
    f = tmp_path / "retail.csv"
    f.write_text(text, encoding="utf-8")
    con = connect("duckdb://")
    from cxvalue.io.validate import LoadRules
    rep = load_file(con, "transactions", f, mapping=Mapping(columns=COLS, derive=derive),
                    rules=LoadRules(line_items=True), **kw)
    return con, rep


def test_amount_is_quantity_times_unit_price(tmp_path):
    con, rep = _load(tmp_path, {"amount": "Quantity * UnitPrice"})
    assert (rep.rows_loaded, rep.rejected_by_reason) == (2, {"missing_value": 1})   # '1,85' is not a number
    assert sorted(con.table("transactions").amount.execute().round(2)) == [15.3, 20.34]


def test_decimal_comma_and_functions(tmp_path):
    text = RETAIL.replace("2.55", '"2,55"').replace("3.39", '"3,39"')
    con, rep = _load(tmp_path, {"amount": "round(Quantity * UnitPrice, 1)", "channel": "lower(Country)"},
                     text=text, options={"decimal": ","})
    t = con.table("transactions").order_by("amount").to_pandas()
    assert t.amount.tolist() == [5.6, 15.3, 20.3] and t.channel.tolist() == ["france", "united kingdom", "united kingdom"]


@pytest.mark.parametrize("expr, message", [
    ("Quantity * UnitPrize", "'UnitPrize' is not a column of the file — did you mean 'UnitPrice'?"),
    ("Quantity * Country", "column 'Country' is used as a number but holds none"),
    ("(select 1)", "SUBQUERY is not allowed"),
    ("read_csv('/etc/passwd')", "is not allowed in a derived column"),
    ("my_udf(Quantity)", "function my_udf() is not allowed"),
    ("Quantity *", "not a valid expression"),
])
def test_bad_expressions_are_one_line_errors(tmp_path, expr, message):
    with pytest.raises(DataContractError) as err:
        _load(tmp_path, {"amount": expr})
    assert message in str(err.value) and "\n" not in str(err.value)
    assert "derive amount" in str(err.value)


def test_derive_target_must_be_a_contract_column(tmp_path):
    with pytest.raises(DataContractError, match="'amont' is not a column of transactions — did you mean 'amount'"):
        _load(tmp_path, {"amont": "Quantity * UnitPrice"})


def test_mapping_file_section(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text('derive: {amount: "Quantity * UnitPrice"}\n', encoding="utf-8")
    assert load_mapping(m).derive == {"amount": "Quantity * UnitPrice"}
    m.write_text("derive: [a]\n", encoding="utf-8")
    with pytest.raises(Exception, match="'derive' must be a mapping"):
        load_mapping(m)
