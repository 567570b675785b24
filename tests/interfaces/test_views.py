"""Views are data: numbers stay numbers in JSON, formatting happens only in fmt(), warnings are
captured typed, and the HTML renderer escapes what it shows."""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import SmallSampleWarning
from cxvalue.interfaces.report.build import render_block, render_view
from cxvalue.interfaces.views import Chart, Column, Kpi, Kpis, Note, Table, Text, View, capture, fmt, records


def test_view_json_keeps_numbers_and_cleans_missing_values():
    df = pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [np.float64(0.5), np.nan],
                       "d": [pd.Timestamp("2025-01-02"), pd.NaT]})
    v = View("x", "X", blocks=[Kpis("k", items=[Kpi("n", "N", np.int64(20_000), "int")]),
                               Table("t", columns=[Column("a", "A", "int")], rows=records(df)),
                               Chart("c", chart="line", data={"x": [1, 2], "series": {"s": [1.0, math.inf]}})],
             meta={"total": np.float64(1.5)})
    d = json.loads(json.dumps(v.to_dict()))
    assert d["blocks"][0]["items"][0]["value"] == 20000          # a number, not "20,000"
    assert d["blocks"][1]["rows"] == [{"a": 1, "b": 0.5, "d": "2025-01-02T00:00:00"}, {"a": None, "b": None, "d": None}]
    assert d["blocks"][2]["data"]["series"]["s"] == [1.0, None]
    assert d["meta"] == {"total": 1.5} and [b["kind"] for b in d["blocks"]] == ["kpis", "table", "chart"]
    assert v.block("t").rows[0]["a"] == 1
    with pytest.raises(KeyError, match="view 'x' has no block 'z'; blocks: k, t, c"):
        v.block("z")


@pytest.mark.parametrize("value, format, unit, text", [
    (1234.5, "money", "CNY", "1,234 CNY"), (0.1234, "pct1", "", "12.3%"), (0.5, "pct", "", "50%"),
    (3, "signed", "", "+3.0"), (None, "number", "", "–"), (float("nan"), "int", "", "–"), (2e-6, "p", "", "< 0.001"), (0.0, "p", "", "< 0.001"), (0.0312, "p", "", "0.031"),
    (12.3456, "number", "", "12.35"), (25_000, "number", "", "25,000"),
    ("web", "text", "", "web"), ("2025-01-02T00:00:00", "date", "", "2025-01-02"), (1.23456, "float3", "", "1.235")])
def test_fmt(value, format, unit, text):
    assert fmt(value, format, unit=unit) == text


def test_capture_keeps_typed_warnings_only_once():
    with capture() as notes:
        for _ in range(2):
            warnings.warn("few answers", SmallSampleWarning, stacklevel=1)
    assert notes == [Note("SmallSampleWarning", "few answers")]


def test_html_is_escaped_and_a_warning_is_shown_once_per_view():
    w = Note("SmallSampleWarning", "<b>few</b>")
    v = View("x", "X", blocks=[Text("a", text="<script>alert(1)</script>", warnings=[w]),
                               Table("b", "T&C", columns=[Column("n", "<n>")], rows=[{"n": "<i>"}], warnings=[w])])
    html = render_view(v, "en", lambda k, **kw: k)
    assert "<script>" not in html and "&lt;script&gt;" in html and "T&amp;C" in html and "&lt;i&gt;" in html
    assert html.count("&lt;b&gt;few&lt;/b&gt;") == 1
    assert render_block(Kpis("k", items=[Kpi("p", "P", 0.25, "pct")]), "en").count("25%") == 1
