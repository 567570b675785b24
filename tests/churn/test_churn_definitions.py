"""Churn definitions at a cut-off: features never see the future, labels only see it, windows are checked."""
from __future__ import annotations

import pandas as pd
import pytest

from cxvalue.churn import churn_labels, feature_frame, population, temporal_validation
from cxvalue.errors import CxValueError
from cxvalue.store import connect

CUT = "2024-06-30"


def _store(after: bool):
    """Three customers; ``after=True`` adds rows dated after the cut-off (a big purchase, a resolution,
    a survey answer, a new complaint) that no feature at the cut-off may see."""
    con = connect("duckdb://")
    cust = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment": ["x", "y", "x", "y"],
                         "signup_date": pd.to_datetime(["2024-01-01"] * 4), "owner": ["s1", "s1", "s2", None]})
    tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "d"],
                       "date": pd.to_datetime(["2024-02-01 00:00:00", "2024-06-30 23:00:00", "2024-05-01 00:00:00", "2024-01-15 00:00:00",
                                               "2024-03-01 00:00:00"], format="ISO8601"),
                       "amount": [100.0, 50.0, 80.0, 30.0, 10.0], "channel": ["app", "web", "app", "app", "app"]})
    comp = pd.DataFrame({"customer_id": ["b"], "opened": pd.to_datetime(["2024-06-01"]),
                         "resolved": pd.to_datetime(["2024-07-05"] if after else [None])})
    resp = pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2024-03-01"]), "nps": [9]})
    ev = pd.DataFrame({"customer_id": ["d"], "date": pd.to_datetime(["2024-04-01"]), "reason": ["moved"],
                       "voluntary": [True]})
    if after:
        tx = pd.concat([tx, pd.DataFrame({"customer_id": ["a", "b", "b"],
                                          "date": pd.to_datetime(["2024-07-01", "2024-07-02", "2024-09-01"]),
                                          "amount": [10_000.0, 5.0, 5.0], "channel": ["phone"] * 3})])
        resp = pd.concat([resp, pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2024-07-02"]),
                                              "nps": [0]})])
        comp = pd.concat([comp, pd.DataFrame({"customer_id": ["a"], "opened": pd.to_datetime(["2024-07-03"]),
                                              "resolved": pd.to_datetime([None])})])
        ev = pd.concat([ev, pd.DataFrame({"customer_id": ["c"], "date": pd.to_datetime(["2024-08-01"]),
                                          "reason": ["better_product_elsewhere"], "voluntary": [True]})])
    # the data run to the end of 2024 in both stores
    tx = pd.concat([tx, pd.DataFrame({"customer_id": ["z"], "date": pd.to_datetime(["2024-12-31"]), "amount": [1.0],
                                      "channel": ["app"]})])
    for name, df in (("customers", cust), ("transactions", tx), ("complaints", comp), ("responses", resp),
                     ("churn_events", ev)):
        con.create_table(name, df)
    return con


def test_features_at_cutoff_never_see_later_rows():
    before, full = _store(after=False), _store(after=True)
    f0 = feature_frame(before, CUT, channels=["app", "web"])
    f1 = feature_frame(full, CUT, channels=["app", "web"])
    # a leaky implementation would count a's 10,000 purchase, b's later purchases, the NPS 0 answer,
    # the complaint opened after the cut-off or b's resolution on 2024-07-05
    pd.testing.assert_frame_equal(f0, f1)
    a, b = f1.loc["a"], f1.loc["b"]
    assert (a.purchases, a.spend, a.recency_days, a.nps_last) == (2, 150.0, 0.0, 9.0)  # 23:00 on the cut-off day counts
    assert (b.complaints, b.complaints_unresolved, b.complaints_resolved) == (1, 1, 0)  # resolved later: open then
    assert a.complaints == 0 and a.channel_share_web == 0.5 and a.tenure_days == 181
    assert "z" not in f1.index  # first seen after the cut-off
    assert f1.loc["a", "owner_recent_churn_share"] == 0.0


def test_labels_only_look_after_the_cutoff():
    con = _store(after=True)
    lab = churn_labels(con, CUT, horizon_days=90, definition="inactivity")
    assert list(lab.index) == ["a", "b", "c"]  # d left (churn event) before the cut-off
    assert lab.loc["a", "churned"] == 0 and lab.loc["b", "churned"] == 0
    assert lab.loc["c", "churned"] == 1 and lab.loc["c", "reason"] == "better_product_elsewhere"
    assert lab.loc["c", "churn_date"] == pd.Timestamp("2024-08-01")
    short = churn_labels(con, CUT, horizon_days=1, definition="inactivity")
    assert short.loc["b", "churned"] == 1  # b's next purchase (2024-07-02) is outside a one-day window
    with pytest.raises(CxValueError, match=r"cutoff 2024-10-01 \+ horizon 180 days = 2025-03-30 is after the end of "
                                           r"the data 2024-12-31: .* pick a cutoff on or before 2024-07-04"):
        churn_labels(con, "2024-10-01", horizon_days=180)
    with pytest.raises(CxValueError, match="definition='soon' is not valid: expected one of 'auto', 'inactivity'"):
        churn_labels(con, CUT, definition="soon")
    with pytest.raises(CxValueError, match="definition='contractual' needs the subscriptions table"):
        churn_labels(con, CUT, definition="contractual")
    assert set(population(con, CUT, active_days=61).to_pandas().customer_id) == {"a", "b"}
    assert set(population(con, CUT, active_days=30).to_pandas().customer_id) == {"a"}


def test_contractual_definition():
    con = connect("duckdb://")
    con.create_table("subscriptions", pd.DataFrame({
        "subscription_id": ["s1", "s2", "s3", "s4"], "customer_id": ["a", "b", "c", "c"],
        "start_date": pd.to_datetime(["2023-01-01", "2023-06-01", "2023-01-01", "2024-03-01"]).date,
        "end_date": pd.to_datetime(["2024-03-01", None, "2024-02-01", "2024-12-31"]).date}))
    # the store has no activity after 2024-03-01 (last start): ``end`` says the data run to the end of 2024
    lab = churn_labels(con, "2024-01-15", horizon_days=30, definition="contractual", end="2024-12-31")
    assert lab.churned.to_dict() == {"a": 0, "b": 0, "c": 1}  # c has no active contract on 2024-02-14
    lab = churn_labels(con, "2024-01-15", horizon_days=60, definition="contractual", end="2024-12-31")
    assert lab.churned.to_dict() == {"a": 1, "b": 0, "c": 0}  # a ended on 03-01; c renewed (s4) by 03-15
    assert lab.loc["a", "churn_date"] == pd.Timestamp("2024-03-01")
    assert list(population(con, "2024-02-15", definition="contractual").to_pandas().customer_id.sort_values()) == ["a", "b"]


def test_time_aware_validation_on_demo(demo, demo_dataset):
    con, truth = demo
    cutoffs = ["2024-07-09", "2025-01-05", "2025-07-04"]
    data = demo_dataset
    assert data.X.index.equals(data.y.index) and set(data.cutoff.dt.date.astype(str)) == set(cutoffs)
    # every customer at a cut-off was known then: first purchase on or before the cut-off
    first = con.table("transactions").to_pandas().groupby("customer_id").date.min()
    for c in cutoffs:
        ids = data.X.index[(data.cutoff == pd.Timestamp(c)).to_numpy()]
        assert (first.loc[ids] <= pd.Timestamp(c) + pd.Timedelta(days=1)).all()
    res = temporal_validation(con, cutoffs, horizon_days=180, dataset=data)
    assert list(res.test_cutoff) == ["2025-01-05", "2025-07-04"]
    assert list(res.train_cutoffs) == ["2024-07-09", "2024-07-09, 2025-01-05"]  # windows end by the test cut-off
    assert (res.roc_auc > 0.65).all()
    with pytest.raises(CxValueError, match="no test cut-off has a training cut-off at least 180 days before it"):
        temporal_validation(con, ["2025-05-01", "2025-07-04"], horizon_days=180)
