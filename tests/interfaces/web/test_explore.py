"""cxvalue.explore: the precomputed customer directory gives the same filtered numbers and
customer lists as the joins and semi-joins over the raw events it replaces; filters mean what
docs/web.md says."""
from __future__ import annotations

import datetime as dt
import shutil

import ibis
import pandas as pd
import pytest

from cxvalue.explore.drill import DIRECTORY, customer_list, customer_table
from cxvalue.explore.filters import Filters
from cxvalue.explore.slices import slice_summary

# every kind of filter once: none, a customer attribute, an event attribute, a period with a channel, and a
# value tier with a channel and a touchpoint together (each case takes seconds: the suite's time is budgeted)
FILTERS = [Filters(), Filters(segment="business"), Filters(product="PEK-SHA"),
           Filters(date_from=dt.date(2025, 4, 1), date_to=dt.date(2025, 9, 30), channel="web"),
           Filters(value_tier="platinum", channel="agent", touchpoint="cabin_crew")]


@pytest.fixture(scope="module")
def stores(demo_store, tmp_path_factory):
    """(with the directory, the same store without it)."""
    folder = tmp_path_factory.mktemp("explore")
    a, b = folder / "with.duckdb", folder / "without.duckdb"
    shutil.copy(demo_store["store"], a)
    shutil.copy(demo_store["store"], b)
    con_b = ibis.duckdb.connect(str(b))
    con_b.drop_table(DIRECTORY)
    con_a = ibis.duckdb.connect(str(a))
    assert DIRECTORY in con_a.list_tables()
    yield con_a, con_b
    con_a.disconnect()
    con_b.disconnect()


def _same(x, y, what):
    if isinstance(x, pd.DataFrame):
        pd.testing.assert_frame_equal(x.reset_index(drop=True), y.reset_index(drop=True), check_dtype=False,
                                      obj=what)
    elif isinstance(x, dict):
        assert set(x) == set(y), what
        for k in x:
            _same(x[k], y[k], f"{what}.{k}")
    elif isinstance(x, float):
        assert x == pytest.approx(y, rel=1e-9, nan_ok=True), what
    else:
        assert x == y, what


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.active().items()) or "all")
def test_directory_and_raw_events_give_the_same_numbers(stores, f):
    with_dir, without = stores
    for view in ("overview", "value", "voice", "loyalty", "churn", "lifecycle"):
        _same(slice_summary(with_dir, view, f), slice_summary(without, view, f), f"{view} {f.active()}")
    a, n = customer_list(with_dir, f, {"stage": "stability"}, sort="p_churn", size=100)
    b, m = customer_list(without, f, {"stage": "stability"}, sort="p_churn", size=100)
    assert n == m
    pd.testing.assert_frame_equal(a[b.columns], b, check_dtype=False)


def test_filters_mean_what_the_docs_say(stores):
    con, _ = stores
    tx, r, cv = con.table("transactions"), con.table("responses"), con.table("customer_value")
    # channel on a customer page: the customers with any purchase, answer or complaint in that channel
    ids = set(tx.filter(tx.channel == "app").customer_id.execute()) | \
        set(r.filter((r.channel == "app") & r.customer_id.notnull()).customer_id.execute())
    c = con.table("complaints")
    ids |= set(c.filter(c.channel == "app").customer_id.execute())
    got = set(customer_table(con, Filters(channel="app")).customer_id.execute())
    assert got == ids
    # touchpoint on the overview: the transactions of customers who answered at that touchpoint
    answered = set(r.filter((r.touchpoint == "app") & r.customer_id.notnull()).customer_id.execute())
    n = int(tx.filter(tx.customer_id.isin(list(answered))).count().execute())
    assert slice_summary(con, "overview", Filters(touchpoint="app"))["transactions"] == n
    # value tier + period on answers: the answers in the period of customers of that tier
    gold = list(cv.filter(cv.value_tier == "gold").customer_id.execute())
    f = Filters(value_tier="gold", date_from=dt.date(2025, 1, 1))
    want = int(r.filter(r.customer_id.isin(gold) & (r.date >= dt.datetime(2025, 1, 1)) & r.nps.notnull())
               .count().execute())
    assert slice_summary(con, "voice", f)["summary"].n.iloc[0] == want


def test_customer_360_from_the_directory_equals_the_lookups(stores, demo_store):
    from cxvalue.explore.drill import customer_profile
    with_dir, without = stores
    for cid in (demo_store["customer"], "C0000001", "C0000777"):
        a, b = customer_profile(with_dir, cid), customer_profile(without, cid)
        for section in ("profile", "value", "churn", "lifecycle", "loyalty", "retention"):
            for k, v in (a[section] or {}).items():
                assert str(v) == str(b[section][k]), (cid, section, k)
        assert a["counts"] == b["counts"]
        pd.testing.assert_frame_equal(a["transactions"], b["transactions"])
