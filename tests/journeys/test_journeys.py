"""Journeys (D9, D9+): process-control charts and run rules, funnels in the engine, the
planted broken step found with its NPS impact, and the command on a file."""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.journeys.spc import individuals_chart, p_chart, run_rules


# --------------------------------------------------------------------------- SPC
def test_each_western_electric_rule():
    z = np.zeros(30)
    z[2] = 3.2                       # rule 1
    z[6], z[8] = 2.3, 2.5            # rule 2: 2 of 3 beyond 2 sigma
    z[12:16] = [1.2, 1.5, 0.2, 1.1]  # rule 3 needs 4 of 5: only 3 here ...
    z[16] = 1.3                      # ... now 4 of 5 (13, 15, 16 and 12)
    z[20:28] = -0.4                  # rule 4: eight below the centre
    r = run_rules(z)
    assert r.beyond_3sigma.tolist() == [i == 2 for i in range(30)]
    assert r.two_of_three_beyond_2sigma[[6, 8]].all() and not r.two_of_three_beyond_2sigma[7]
    assert r.four_of_five_beyond_1sigma[[12, 13, 15, 16]].all() and not r.four_of_five_beyond_1sigma[14]
    assert r.eight_on_one_side[20:28].all() and not r.eight_on_one_side[28]
    assert not r.out_of_control[[0, 1, 3, 4, 5, 10, 18, 29]].any()
    assert not run_rules([np.nan] * 3 + [3.5]).out_of_control[:3].any()   # no data: never flagged


def test_p_chart_limits_and_a_planted_shift():
    rng = np.random.default_rng(0)
    n = rng.integers(80, 120, 90)
    p = np.full(90, 0.9)
    p[50:60] = 0.6
    c = p_chart(rng.binomial(n, p), n)
    # revised limits: the broken days leave the baseline, the centre is the normal rate
    assert c.center.iloc[0] == pytest.approx(0.9, abs=0.01) and not c.baseline[50:60].any()
    sigma = np.sqrt(c.center * (1 - c.center) / c.n)
    assert np.allclose(c.ucl, np.minimum(c.center + 3 * sigma, 1)) and np.allclose(c.lcl, c.center - 3 * sigma)
    assert c.out_of_control[50:60].all() and c.beyond_3sigma[50:60].all()
    assert c.beyond_3sigma.drop(range(50, 60)).sum() <= 1
    unrevised = p_chart(rng.binomial(n, p), n, revise=False)
    assert unrevised.center.iloc[0] < 0.88            # dragged down by the broken days
    with pytest.raises(CxValueError, match="0 <= x <= n"):
        p_chart([5], [3])


def test_individuals_chart_uses_the_mean_moving_range():
    v = np.array([10.0, 12, 11, 13, 12, 11, 10, 12, 40, 11])
    c = individuals_chart(v)
    base = np.delete(v, 8)                             # 40 is beyond the first limits: revised out
    sigma = np.abs(np.diff(base)).mean() / 1.128
    assert c.sigma.iloc[0] == pytest.approx(sigma) and c.center.iloc[0] == pytest.approx(base.mean())
    assert c.out_of_control.tolist() == [i == 8 for i in range(10)]


# --------------------------------------------------------------------------- funnels
def events(days: int = 60, seed: int = 0, sessions: bool = True, order: bool = True) -> tuple[pd.DataFrame, range]:
    """Booking sessions in two channels; the app's payment fails on 7 planted days (days 40-46),
    over the first ``days`` days of one simulated stretch of 70 days."""
    ev, broken = _simulated(seed)
    ev = ev[ev.timestamp < pd.Timestamp("2025-01-01") + pd.Timedelta(days=days)].reset_index(drop=True)
    if not sessions:
        ev = ev.drop(columns="session_id")
    if not order:
        ev = ev.drop(columns="step_order")
    return ev, broken


@functools.lru_cache(maxsize=2)
def _simulated(seed: int, days: int = 70) -> tuple[pd.DataFrame, range]:
    rng = np.random.default_rng(seed)
    steps = ["search", "select", "pay", "confirm"]
    go_on = {"app": [0.8, 0.9, 0.95], "web": [0.7, 0.85, 0.95]}
    broken = range(40, 47)
    rows, sid = [], 0
    for d, day in enumerate(pd.date_range("2025-01-01", periods=days)):
        for ch in ("app", "web"):
            for _ in range(rng.integers(80, 120)):
                sid += 1
                t = day + pd.Timedelta(seconds=int(rng.integers(0, 70000)))
                cust = f"c{sid % 400}"
                rows.append((f"s{sid}", cust, ch, "booking", "search", 1, t, "ok", None))
                for k, s in enumerate(steps[1:], 1):
                    p = go_on[ch][k - 1] * (0.55 / 0.95 if ch == "app" and s == "confirm" and d in broken else 1)
                    if rng.random() > p:
                        if s == "confirm" and ch == "app" and d in broken:
                            rows.append((f"s{sid}", cust, ch, "booking", "pay", 3, t, "error", "PAY_TIMEOUT"))
                        break
                    t += pd.Timedelta(seconds=int(rng.exponential(40 if ch == "app" else 60)))
                    rows.append((f"s{sid}", cust, ch, "booking", s, k + 1, t, "ok", None))
    ev = pd.DataFrame(rows, columns=["session_id", "customer_id", "channel", "journey", "step", "step_order",
                                     "timestamp", "outcome", "error_code"]).astype({"error_code": "string"})
    return ev, broken


def _con(ev: pd.DataFrame):
    import ibis
    con = ibis.duckdb.connect()
    con.create_table("events", ev)
    return con


def test_funnel_counts_match_pandas():
    from cxvalue.journeys.funnels import funnel_tables
    ev, _ = events(days=50)
    f = funnel_tables(_con(ev).table("events"))
    fu = f["journey_funnel"].set_index(["channel", "step"])
    reached = ev.groupby(["channel", "step"]).session_id.nunique()
    assert (fu.reached == reached.reindex(fu.index)).all()
    app = fu.loc["app"].sort_values("rank")
    assert app.index.tolist() == ["search", "select", "pay", "confirm"]
    assert app.conversion.iloc[1] == pytest.approx(app.reached.iloc[1] / app.reached.iloc[0])
    started = ev[ev.channel == "app"].session_id.nunique()
    ch = f["journey_channels"].set_index("channel")
    assert ch.loc["app", "instances"] == started
    done = ev[(ev.channel == "app")].groupby("session_id").step.apply(lambda s: "confirm" in set(s))
    assert ch.loc["app", "completion"] == pytest.approx(done.mean())
    secs = ev[ev.channel == "app"].groupby("session_id").timestamp.agg(lambda s: (s.max() - s.min()).total_seconds())
    assert ch.loc["app", "median_seconds"] == pytest.approx(secs[done].median(), abs=1)
    assert ch["index"].between(0, 100).all() and ch.loc["app", "speed"] == 1.0   # the app is faster
    assert fu.loc[("app", "pay"), "error_share"] > 0 and fu.loc[("web", "pay"), "error_share"] == 0


@pytest.mark.parametrize("sessions,order", [(True, False), (False, True)])
def test_without_sessions_or_step_order(sessions, order):
    """Without step_order the steps are ordered by where journeys reach them first; without
    session ids a journey is one customer's events in it on one day."""
    from cxvalue.journeys.funnels import funnel_tables
    ev, _ = events(days=10, sessions=sessions, order=order)
    f = funnel_tables(_con(ev).table("events"))
    fu = f["journey_funnel"]
    assert fu[fu.channel == "web"].sort_values("rank").step.tolist() == ["search", "select", "pay", "confirm"]
    if not sessions:
        per_day = ev.assign(day=ev.timestamp.dt.date).groupby(["channel", "customer_id", "day"]).ngroups
        assert f["journey_channels"].instances.sum() == per_day


def test_the_broken_step_is_found_with_its_nps_impact():
    """The planted payment outage is the most severe alert, on the planted days; the customers
    who hit it answer lower (planted: 3 points lower for 30 days)."""
    from cxvalue.journeys.pipeline import analyse_journeys
    ev, broken = events(days=70)
    con = _con(ev)
    rng = np.random.default_rng(3)
    failed = ev[ev.error_code.notna()].groupby("customer_id").timestamp.min()
    cust = ev.customer_id.unique()
    ans = pd.DataFrame({"customer_id": rng.choice(cust, 3000),
                        "date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 75, 3000), "D")})
    ans["nps"] = rng.choice(np.arange(11), 3000, p=[.02] * 5 + [.05, .05, .15, .15, .25, .25])
    hit = ans.customer_id.map(failed)
    lower = (ans.date > hit.dt.normalize()) & (ans.date <= hit + pd.Timedelta(days=30))
    ans.loc[lower, "nps"] = (ans.loc[lower, "nps"] - 3).clip(lower=0)
    con.create_table("responses", ans)
    res = analyse_journeys(con)
    top = res["journey_alerts"].iloc[0]
    assert (top.channel, top.from_step, top.step, top.direction) == ("app", "pay", "confirm", "below")
    days = pd.date_range("2025-01-01", periods=70)
    assert top.first_day <= days[broken[0]] and top.last_day >= days[broken[-1]]
    spc = res["journey_spc"]
    app = spc[(spc.channel == "app") & (spc.step == "confirm")].set_index("day")
    assert app.loc[days[list(broken)], "out_of_control"].all()
    assert top.nps_difference < -10 and top.nps_ci_high < 0
    assert set(res["journey_friction"].channel) == {"app", "web"}


def test_journeys_on_a_file_from_the_cli(tmp_path):
    import json
    from typer.testing import CliRunner
    from cxvalue.interfaces.cli.main import app
    ev, _ = events(days=50)
    f = tmp_path / "events.csv"
    ev.to_csv(f, index=False)
    res = CliRunner().invoke(app, ["journeys", str(f), "--json"])
    assert res.exit_code == 0, res.output
    v = json.loads(res.output)
    blocks = {b["id"]: b for b in v["blocks"]}
    assert {"journeys", "journey-channels", "journey-funnel-booking", "journey-funnel", "journey-alerts",
            "journey-pchart"} <= set(blocks)
    assert blocks["journey-alerts"]["rows"][0]["what"] == "pay → confirm"
    bad = CliRunner().invoke(app, ["journeys", str(f), "--journey", "checkin"])
    assert bad.exit_code != 0 and "--journey 'checkin': not in the events" in str(bad.exception)


def test_the_step_on_events_without_customers_or_enough_days(tmp_path):
    """Sessions without customer ids: no friction comparison; 5 days: too short to chart — the
    step writes what it has and drops what it has not (no earlier run's rows stay)."""
    from cxvalue.interfaces.session import open_session
    from cxvalue.steps import run_steps
    from cxvalue.store import connect, has_table
    ev, _ = events(days=20)
    con = connect("duckdb://")
    con.create_table("events", ev)
    assert run_steps(open_session(con=con), only=["journeys"])[0].status == "ok"
    assert has_table(con, "journey_friction") and has_table(con, "journey_spc")
    con.drop_table("events")
    short, _ = events(days=5)
    con.create_table("events", short.drop(columns="customer_id"))
    (o,) = run_steps(open_session(con=con), only=["journeys"])
    assert o.status == "ok", o.reason
    assert not has_table(con, "journey_friction") and not has_table(con, "journey_spc")
    assert con.table("journey_funnel").count().execute() == 8
