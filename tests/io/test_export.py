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


def _cells(path):
    from openpyxl import load_workbook
    wb = load_workbook(path)
    return [(ws.title, c) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_every_export_path_neutralises(tmp_path):
    """The retention list (every sheet), the web downloads and the one-table writer: no cell
    starts a formula."""
    from cxvalue.churn.retention import export_retention
    from cxvalue.io.export import table_bytes
    df = pd.DataFrame({"customer_id": PAYLOADS, "owner": PAYLOADS[::-1], "reason": ["=cmd|' /C calc'!A0"] * 6,
                       "action": ["churn_act_call"] * 6, "p_churn": [0.9] * 6, "value": [-1.0, 2, 3, 4, 5, 6]})
    for path in (export_retention(df, tmp_path / "r.xlsx"), tmp_path / "w.xlsx"):
        if path.name == "w.xlsx":
            path.write_bytes(table_bytes(df, "xlsx"))
        cells = _cells(path)
        assert cells and not [c.coordinate for _, c in cells if c.data_type == "f" or
                              (isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")))]
        assert any(c.value == -1.0 for _, c in cells)            # numbers stay numbers
    csv = export_retention(df, tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    web = table_bytes(df, "csv").decode("utf-8").lstrip("\ufeff").splitlines()
    for lines in (csv, web):
        fields = [f.strip('"') for line in lines[1:] for f in line.split(",")[:3]]
        assert not [f for f in fields if f.startswith(("=", "+", "-", "@"))], lines[:3]
    with pytest.raises(CxValueError, match="csv or xlsx"):
        table_bytes(df, "json")


def test_no_export_bypasses_the_neutraliser():
    """Every CSV/Excel file cxvalue writes for people goes through cxvalue.io.export."""
    import re
    from pathlib import Path
    src = Path(__file__).resolve().parents[2] / "src" / "cxvalue"
    hits = [f"{p.relative_to(src)}:{i}" for p in src.rglob("*.py") if p.name != "export.py"
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"\.to_csv\(|\.to_excel\(|ExcelWriter\(", line)]
    assert not hits, hits
