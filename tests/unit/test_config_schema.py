from __future__ import annotations

import pytest

from cxvalue.config import SETTINGS, load_settings
from cxvalue.errors import ConfigError, CxValueError, NotFittedError, check_is_fitted, one_of
from cxvalue.i18n import LANGS, catalogue, t
from cxvalue.schema import TABLES, get_table, normalize_name, snake_case
from cxvalue.store import connect


def test_settings_precedence(tmp_path):
    f = tmp_path / "cxvalue.toml"
    f.write_text('[cxvalue]\nlang = "zh"\ncurrency = "USD"\nstore = "a.duckdb"\n')
    s = load_settings(project_file=f, environ={"CXVALUE_CURRENCY": "EUR", "CXVALUE_STORE": "b.duckdb"})
    assert (s["lang"], s["currency"], s["store"]) == ("zh", "EUR", "b.duckdb")
    s = load_settings({"store": "c.duckdb", "lang": None}, project_file=f, environ={})
    assert (s["store"], s["lang"]) == ("c.duckdb", "zh")
    assert load_settings(environ={}, project_file=tmp_path / "none.toml")["unknown_customer"] == "create"
    assert {x.name for x in SETTINGS} >= {"store", "lang", "currency", "business_type", "as_of"}
    assert load_settings({"timezone": "Asia/Shanghai"}, environ={}, project_file=tmp_path / "none.toml")["timezone"] \
        == "Asia/Shanghai"
    with pytest.raises(ConfigError, match="setting 'timezone' from the command line: expected an IANA time zone"):
        load_settings({"timezone": "Mars/Olympus"}, environ={}, project_file=tmp_path / "none.toml")


def test_settings_errors(tmp_path):
    with pytest.raises(ConfigError, match="setting 'lang' from the command line: expected one of en, zh, got 'fr'"):
        load_settings({"lang": "fr"}, environ={})
    with pytest.raises(ConfigError, match=r"setting 'as_of' from \$CXVALUE_AS_OF: expected a date YYYY-MM-DD.*got '2025-13-01'"):
        load_settings(environ={"CXVALUE_AS_OF": "2025-13-01"})
    import datetime as dt
    assert load_settings(environ={"CXVALUE_AS_OF": "2025-06-30"})["as_of"] == dt.date(2025, 6, 30)
    assert load_settings(environ={})["as_of"] is None
    f = tmp_path / "cxvalue.toml"
    f.write_text("colour = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(project_file=f, environ={})


def test_catalogue_is_bilingual_and_covers_tables_and_reasons():
    cat = catalogue()
    assert all(set(LANGS) <= set(v) for v in cat.values())
    for name in TABLES:
        assert f"t_{name}" in cat
    from cxvalue.io.validate import REASONS
    for r in REASONS:
        assert f"r_{r}" in cat
    assert t("data_overview", "zh") == "数据概览"


def test_schema_contract():
    tx = get_table("transactions")
    assert tx.required == ("customer_id", "date", "amount")
    assert get_table("responses").column("nps").max == 10
    assert get_table("responses").column("experience_convenience").dtype == "float"
    assert normalize_name("Customer ID") == normalize_name("customer_id") == "customerid"
    assert snake_case("TotalCharges") == "total_charges" and snake_case("Seat comfort") == "seat_comfort"
    with pytest.raises(CxValueError, match="unknown table 'custmers'.*did you mean 'customers'"):
        get_table("custmers")


def test_estimator_helpers():
    class E:
        pass
    with pytest.raises(NotFittedError, match="this E is not fitted yet"):
        check_is_fitted(E())
    with pytest.raises(CxValueError, match="model='x' is not valid: expected one of 'a', 'b'"):
        one_of("model", "x", ["a", "b"])


def test_connect_urls(tmp_path):
    con = connect(tmp_path / "s")
    assert (tmp_path / "s.duckdb").exists() or con.list_tables() == []
    assert connect("duckdb://").list_tables() == []
    assert connect(f"duckdb://{tmp_path / 'x.duckdb'}").name == "duckdb"


def test_every_setting_is_documented():
    """docs/settings.md has a row for every setting of config.SETTINGS, with its env variable
    (a table-valued setting is set in cxvalue.toml only)."""
    from pathlib import Path

    from cxvalue.config import SETTINGS
    doc = (Path(__file__).resolve().parents[2] / "docs" / "settings.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in doc.splitlines() if line.startswith("| `")}
    missing = [s.name for s in SETTINGS if s.name not in rows or (f"`CXVALUE_{s.name.upper()}`" not in rows[s.name]
                                                                  and "cxvalue.toml" not in rows[s.name])]
    assert not missing, f"docs/settings.md lacks {missing}"


def test_load_rules_defaults_are_the_settings_defaults():
    """One set of values: the library's LoadRules and the settings agree (the library alone accepts any
    share of rejected rows; the interfaces refuse above max_reject_share)."""
    from dataclasses import asdict

    from cxvalue.io.load import rules_from_settings
    from cxvalue.io.validate import LoadRules
    want = asdict(rules_from_settings())
    assert want.pop("max_reject_share") == 0.05
    got = asdict(LoadRules())
    assert got.pop("max_reject_share") == 1.0 and got == want


def test_columns_and_values_match_ignoring_case_and_spaces():
    """Issue 13: `Satisfaction` for `satisfaction`, `Tenure Months` for `tenure_months`; the error
    lists every column (it stopped at 20, hiding the right one)."""
    from cxvalue.columns import match_column, match_value
    from cxvalue.errors import CxValueError
    cols = [f"q{i}" for i in range(30)] + ["Satisfaction", "Tenure Months"]
    assert match_column(cols, "satisfaction", "--outcome") == "Satisfaction"
    assert match_column(cols, "tenure_months", "--by") == "Tenure Months"
    with pytest.raises(CxValueError) as err:
        match_column(cols, "satisfied", "--outcome", "the survey data")
    assert "q29" in str(err.value) and "Tenure Months" in str(err.value)
    assert match_value(["Satisfied", "Not satisfied"], "satisfied ", "--positive", "Q1") == "Satisfied"
    with pytest.raises(CxValueError, match="--positive 'happy' is not a value of 'Q1'; values: Not satisfied, Satisfied"):
        match_value(["Satisfied", "Not satisfied"], "happy", "--positive", "Q1")


def test_the_message_catalogue_refuses_a_key_defined_twice():
    import pytest
    import yaml
    from cxvalue.i18n import _UniqueKeys
    with pytest.raises(RuntimeError, match="'a' is defined twice"):
        yaml.load("a: {en: x, zh: y}\nb: {en: x, zh: y}\na: {en: z, zh: w}\n", Loader=_UniqueKeys)
    assert yaml.load("a: {en: x, zh: y}\n", Loader=_UniqueKeys) == {"a": {"en": "x", "zh": "y"}}


def test_a_library_warning_is_shown_in_the_readers_language():
    """cxvalue.i18n.warn: English in the warning, the key and parameters kept, so that a view's
    note (captured or stored with a run) reads in Chinese in a Chinese report."""
    import warnings
    from cxvalue.errors import SmallSampleWarning
    from cxvalue.i18n import warn
    from cxvalue.interfaces.views import capture
    from cxvalue.steps import _typed
    with capture() as notes:
        warn("warn_nps_small_periods", SmallSampleWarning, n=2, min_n=30, names="2023Q1; 2023Q2")
    [n] = notes
    assert n.category == "SmallSampleWarning" and n.message.startswith("2 period(s) with fewer than min_n=30")
    assert n.text("zh").startswith("2 个时期的答卷少于 min_n=30 份") and n.text("en") == n.message
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn("warn_nps_small_periods", SmallSampleWarning, n=1, min_n=30, names="2023Q1")
    [stored] = _typed(caught)
    assert stored["key"] == "warn_nps_small_periods" and stored["params"]["names"] == "2023Q1"
