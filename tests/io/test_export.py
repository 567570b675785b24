"""Exports people open in a spreadsheet: formula-like text is neutralised (OWASP CSV injection),
numbers stay numbers, Chinese survives Excel (UTF-8 with BOM)."""
from __future__ import annotations

import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.io.export import write_table

PAYLOADS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "=HYPERLINK(\"http://x\")"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formulas_are_neutralised_and_numbers_kept(tmp_path, suffix):
    df = pd.DataFrame({"comment": PAYLOADS + ["航班延误", None], "amount": [-5.0, 1, 2, 3, 4, 5, 6, 7]})
    path = write_table(df, tmp_path / f"out{suffix}")
    back = pd.read_csv(path, encoding="utf-8-sig") if suffix == ".csv" else pd.read_excel(path)
    assert back.comment.iloc[:6].tolist() == ["'" + p for p in PAYLOADS]
    assert back.comment.iloc[6] == "航班延误" and back.amount.iloc[0] == -5.0
    if suffix == ".xlsx":
        from openpyxl import load_workbook
        ws = load_workbook(path).active
        assert all(ws.cell(row=i + 2, column=1).data_type == "s" for i in range(6))   # strings, not formulas


def test_bad_target_is_a_clear_error(tmp_path):
    with pytest.raises(CxValueError, match="expected a .csv or .xlsx"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.json")
    with pytest.raises(CxValueError, match="does not exist"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "missing" / "x.csv")
