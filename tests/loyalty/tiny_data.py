"""Hand-made tables for the loyalty and E1 tests (values worked out by hand in the tests).

Plain module (not a conftest) so that tests/perception can load it too.
"""
from __future__ import annotations

import pandas as pd

from cxvalue.store import connect


def tiny_tables() -> dict[str, pd.DataFrame]:
    ts = pd.to_datetime
    tx = pd.DataFrame([
        # customer, date, amount, channel, product, category, is_return, incentive
        ("c1", "2023-01-10 09:00", 100.0, "app", "A", "ticket", False, False),
        ("c1", "2023-06-01 10:00", 50.0, "app", "A", "lounge", False, True),
        ("c1", "2024-12-31 11:00", 80.0, "web", "B", "ticket", False, True),
        ("c2", "2023-03-01 08:00", 40.0, "web", "B", "ticket", False, False),
        ("c2", "2023-03-01 08:30", 10.0, "web", "B", "seat", False, False),
        ("c2", "2023-03-05 12:00", 60.0, "web", "B", "ticket", False, True),
        ("c2", "2023-03-06 12:00", -60.0, "web", "B", "ticket", True, True),
        ("c3", "2024-11-01 15:00", 30.0, "app", "A", "ticket", False, False),
        ("c4", "2023-02-01 07:00", 200.0, "app", "C", "ticket", False, False),
        ("c4", "2024-06-01 07:00", 300.0, "app", "C", "ticket", False, True),
        ("c4", "2024-07-01 07:00", 100.0, "app", "A", "ticket", False, False),
    ], columns=["customer_id", "date", "amount", "channel", "product", "category", "is_return", "incentive"])
    tx["date"] = ts(tx["date"])
    tx.insert(3, "order_id", [f"o{i}" for i in range(len(tx))])
    customers = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"], "vip": [True, False, False, True],
                              "signup_date": ts(["2023-01-10", "2023-03-01", "2024-11-01", "2023-02-01"])})
    responses = pd.DataFrame([
        ("r1", "c1", "2023-01-15 10:00", 6, 9.0, "app"),
        ("r2", "c1", "2024-12-01 10:00", 10, 3.0, "web"),
        ("r3", "c2", "2023-03-02 10:00", 9, 4.0, "web"),
        ("r4", "c3", "2024-11-05 10:00", 3, 9.0, "app"),
        ("r5", "c4", "2023-02-02 10:00", 7, 7.0, "app"),
    ], columns=["response_id", "customer_id", "date", "nps", "satisfaction", "touchpoint"])
    responses["date"] = ts(responses["date"])
    subs = pd.DataFrame({"subscription_id": ["s1", "s2"], "customer_id": ["c1", "c2"],
                         "start_date": ts(["2022-06-01", "2022-03-01"]), "end_date": ts(["2023-06-01", None]),
                         "plan": ["plus", "plus"], "amount": [298.0, 10.0], "period": ["year", "month"]})
    churn = pd.DataFrame({"customer_id": ["c2"], "date": ts(["2023-09-01"]), "reason": ["moved"],
                          "voluntary": [True]})
    return {"transactions": tx, "customers": customers, "responses": responses, "subscriptions": subs,
            "churn_events": churn}


def make_store(url: str = "duckdb://", tables=None):
    con = connect(url)
    for name, frame in (tables or tiny_tables()).items():
        con.create_table(name, frame, overwrite=True)
    return con
