"""Improvement initiatives (H2): the ledger and its state machine (every action from every status,
illegal ones refused, conflicts, atomic creation), the re-measurement on generated survey data
with known effects — before vs after with an interval, the difference-in-differences recovering
a planted effect against untouched segments (a touchpoint, a customer segment), the bootstrap,
the waves agreeing with `gaps --before/--after`, rates of complaints and cases — the planted
convenience improvement of the demo, the suggestions, and the CLI's JSON."""
from __future__ import annotations

import datetime as dt
import json
import warnings

import ibis
import numpy as np
import pandas as pd
import pytest

from cli_runner import cx

from cxvalue.errors import SmallSampleWarning
from cxvalue.loop import initiatives as I
from cxvalue.loop.initiatives import (TRANSITIONS, InitiativeConflict, InitiativeError, change, create_initiative,
                                      get_initiative, measure, suggest)

START = dt.date(2024, 7, 1)
EFFECT_APP = 0.8          # the initiative's effect on convenience, on answers about the app
COMMON = 0.3              # what moved for everyone after the start (season, a competitor...): not the initiative
EFFECT_BUSINESS = 0.5     # an effect on service for business customers


def make_survey(n: int = 24_000, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A year of answers (2024) with level differences between touchpoints, a common shift after
    START, the initiative's effect on app answers and one on business customers' service."""
    rng = np.random.default_rng(seed)
    cust = pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(3000)],
                         "segment": rng.choice(["business", "leisure"], 3000, p=[0.35, 0.65])})
    c = rng.integers(0, 3000, n)
    date = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366 * 86400, n), "s")
    after = np.asarray(date >= pd.Timestamp(START))
    tp = rng.choice(["app", "website", "call_centre"], n, p=[0.3, 0.4, 0.3])
    business = (cust.segment.to_numpy()[c] == "business")
    level = pd.Series(tp).map({"app": 5.5, "website": 5.0, "call_centre": 4.5}).to_numpy()
    conv = level + COMMON * after + EFFECT_APP * (after & (tp == "app")) + rng.normal(0, 1.2, n)
    serv = 6 + 0.4 * business + EFFECT_BUSINESS * (after & business) + rng.normal(0, 1.2, n)
    expc = 7 + rng.normal(0, 0.8, n)
    nps = np.clip(np.round(7 + 0.6 * (conv - expc) + rng.normal(0, 1.5, n)), 0, 10).astype(int)
    df = pd.DataFrame({
        "response_id": [f"R{i:06d}" for i in range(n)], "customer_id": cust.customer_id.to_numpy()[c],
        "date": date, "nps": nps, "satisfaction": np.clip(6 + 0.5 * (conv - expc) + rng.normal(0, 1, n), 0, 10),
        "touchpoint": tp, "channel": rng.choice(["web", "agent"], n), "product": rng.choice(["A", "B", "Z"], n,
                                                                                         p=[.6, .39, .01]),
        "wave": np.where(after, "2024H2", "2024H1"),
        "experience_convenience": conv, "expectation_convenience": expc, "ideal_convenience": 9.5 + rng.normal(0, .5, n),
        "importance_convenience": 9 + rng.normal(0, .5, n),
        "experience_service": serv, "expectation_service": 6.5 + rng.normal(0, .8, n),
        "ideal_service": 8 + rng.normal(0, .5, n), "importance_service": 7 + rng.normal(0, .5, n)})
    return df.sort_values("date", ignore_index=True), cust


@pytest.fixture(scope="module")
def survey():
    return make_survey()


@pytest.fixture()
def con(survey):
    df, cust = survey
    c = ibis.duckdb.connect()
    c.create_table("responses", df)
    c.create_table("customers", cust)
    yield c
    c.disconnect()


def _new(con, **kw):
    args = dict(title="More self-service", origin="driver_gap:convenience", owner="li", start_date=START, by="ann")
    args.update(kw)
    return create_initiative(con, **args)


# --------------------------------------------------------------------------- the ledger
EXPECTED = {
    ("planned", "start"): "active", ("planned", "cancel"): "cancelled", ("planned", "assign"): "planned",
    ("planned", "edit"): "planned", ("planned", "note"): "planned",
    ("active", "complete"): "done", ("active", "cancel"): "cancelled", ("active", "assign"): "active",
    ("active", "edit"): "active", ("active", "note"): "active",
    ("done", "note"): "done", ("cancelled", "note"): "cancelled",
}
PATH = {"planned": [], "active": ["start"], "done": ["start", "complete"], "cancelled": ["cancel"]}


def _do(con, ini, action):
    extra = {"owner": "wang"} if action == "assign" else {"target_value": 6.5} if action == "edit" else {}
    return change(con, ini.initiative_id, action, by="li", version=ini.version, comment=f"{action} it", **extra)


def test_the_table_in_the_code_is_the_documented_one():
    assert {(s, a): (to or s) for a, (src, to) in TRANSITIONS.items() for s in src} == EXPECTED


@pytest.mark.parametrize("status", I.STATUSES)
def test_every_action_from_every_status(con, status):
    for action in I.ACTIONS:
        ini = _new(con)
        for step in PATH[status]:
            ini = _do(con, ini, step)
        assert ini.status == status
        want = EXPECTED.get((status, action))
        if want is None:
            with pytest.raises(InitiativeError, match=f"is {status}: it cannot {action}; allowed: "):
                _do(con, ini, action)
            assert get_initiative(con, ini.initiative_id).version == ini.version      # nothing written
        else:
            after = _do(con, ini, action)
            assert after.status == want and after.version == ini.version + 1
            assert set(ini.allowed()) == {a for (s, a) in EXPECTED if s == status}


def test_fields_required_and_clear_errors(con):
    with pytest.raises(InitiativeError, match="needs a title"):
        _new(con, title=" ")
    with pytest.raises(InitiativeError, match="needs an owner"):
        _new(con, owner="")
    with pytest.raises(InitiativeError, match="needs a start date"):
        _new(con, start_date=None)
    with pytest.raises(InitiativeError, match="origin 'convenience' is not valid: expected KIND:VALUE"):
        _new(con, origin="convenience")
    with pytest.raises(InitiativeError, match="driver gap 'parking' is not a dimension of the survey: expected one "
                                              "of convenience, service"):
        _new(con, origin="gap:parking")
    with pytest.raises(InitiativeError, match="root cause 'bad_luck' is not in the taxonomy"):
        _new(con, origin="rc:bad_luck")
    with pytest.raises(InitiativeError, match="KPI 'happiness' is not known"):
        _new(con, kpi="happiness")
    with pytest.raises(InitiativeError, match="the responses table has no column experience_price"):
        _new(con, kpi="experience_price")
    with pytest.raises(InitiativeError, match="scope dimension 'region' is not valid"):
        _new(con, scope="region=north")
    with pytest.raises(InitiativeError, match="scope value_tier: the store cannot tell it — it needs customer_value"):
        _new(con, scope="value_tier=platinum")
    with pytest.raises(InitiativeError, match="scope touchpoint=: expected|scope touchpoint: a value is required"):
        _new(con, scope="touchpoint=")
    with pytest.raises(InitiativeError, match="target value 'high': expected a number"):
        _new(con, target_value="high")
    with pytest.raises(InitiativeError, match="no complaints table"):
        _new(con, origin="rc:delay", kpi="complaint_rate")
    ini = _new(con, scope="touchpoint=app", target_value=6)
    assert (ini.kpi, ini.scope, ini.status, ini.version) == ("experience_convenience", {"touchpoint": "app"},
                                                             "planned", 1)
    assert _new(con, origin="rc:delay").kpi == "case_rate:delay"
    for bad, msg in ((dict(comment=" "), "a comment is required"), (dict(action="assign"), "name the new owner"),
                     (dict(action="edit"), "give a new target value or start date"),
                     (dict(action="note", owner="x"), "the owner changes only with assign"),
                     (dict(action="note", target_value=3), "change only with edit"),
                     (dict(action="note", result={"x": 1}), "recorded on complete"),
                     (dict(action="launch"), "action 'launch' is not known")):
        kw = {"action": "note", "comment": "ok", **bad}
        with pytest.raises(InitiativeError, match=msg):
            change(con, ini.initiative_id, kw.pop("action"), by="li", version=1, **kw)
    with pytest.raises(InitiativeError, match="initiative 'I0' does not exist"):
        get_initiative(con, "I0")


def test_two_users_on_the_same_version_conflict(con):
    ini = _new(con)
    change(con, ini.initiative_id, "start", by="li", version=1, comment="kick-off")
    with pytest.raises(InitiativeConflict, match=r"changed since you opened it \(version 1, now 2, status active\)"):
        change(con, ini.initiative_id, "cancel", by="wang", version=1, comment="not needed")
    assert get_initiative(con, ini.initiative_id).status == "active"


def test_state_is_the_fold_of_the_events_and_nothing_is_rewritten(con):
    ini = _new(con, target_value=6)
    v = change(con, ini.initiative_id, "edit", by="li", version=1, comment="later", start_date="2024-07-15",
               target_value=6.2)
    v = change(con, ini.initiative_id, "assign", by="li", version=v.version, comment="handover", owner="wang")
    v = change(con, ini.initiative_id, "start", by="wang", version=v.version, comment="go", start_date="2024-07-01")
    v = change(con, ini.initiative_id, "complete", by="wang", version=v.version, comment="done",
               result={"effect": {"estimate": 0.8}})
    assert (v.owner, v.target_value, v.start_date, v.status, v.version) == ("wang", 6.2, START, "done", 5)
    assert v.result == {"effect": {"estimate": 0.8}}
    h = I.initiative_history(con, ini.initiative_id)
    assert h.seq.tolist() == [1, 2, 3, 4, 5] and h.action.tolist() == ["create", "edit", "assign", "start", "complete"]
    assert h.by.tolist() == ["ann", "li", "li", "wang", "wang"] and h.comment.iloc[1] == "later"
    assert con.table("initiatives").count().execute() == 1
    cur = I.current_initiatives(con).to_pandas().iloc[0]        # the engine's fold agrees
    assert (cur.status, cur.owner, cur.target_value, cur.version) == ("done", "wang", 6.2, 5)
    lst = I.list_initiatives(con, status="done")
    assert lst.initiative_id.tolist() == [ini.initiative_id]
    assert I.list_initiatives(con, status="planned").empty
    with pytest.raises(InitiativeError, match="status 'open' is not valid"):
        I.list_initiatives(con, status="open")


def test_creation_is_atomic_under_an_injected_failure(con, monkeypatch):
    _new(con)
    real = I.append_ledgers.__globals__["append_ledger"]

    def failing(con_, name, frame, **kw):
        if name == "initiative_events":
            raise RuntimeError("disk full (injected)")
        return real(con_, name, frame, **kw)
    monkeypatch.setitem(I.append_ledgers.__globals__, "append_ledger", failing)
    with pytest.raises(RuntimeError, match="injected"):
        _new(con, title="half written")
    monkeypatch.undo()
    assert con.table("initiatives").title.to_pandas().tolist() == ["More self-service"]
    assert con.table("initiative_events").count().execute() == 1


# --------------------------------------------------------------------------- re-measurement
def _window(df, lo_days, hi_days, start=START):
    s = pd.Timestamp(start)
    return df[(df.date >= s + pd.Timedelta(days=lo_days)) & (df.date < s + pd.Timedelta(days=hi_days))]


def test_before_after_with_an_interval_on_a_known_change(con, survey):
    df, _ = survey
    ini = _new(con, target_value=5.0)
    m = measure(con, ini)
    row = m.groups.iloc[0]
    b, a = _window(df, -90, 0).experience_convenience, _window(df, 0, 90).experience_convenience
    assert (row["group"], row["n_before"], row["n_after"]) == ("all", len(b), len(a))
    assert row["before"] == pytest.approx(b.mean(), abs=1e-9) and row["after"] == pytest.approx(a.mean(), abs=1e-9)
    se = np.sqrt(b.var() / len(b) + a.var() / len(a))                      # Welch, written out
    assert row["std_error"] == pytest.approx(se, rel=1e-9)
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * 1.96 * se, rel=1e-2)
    truth = COMMON + EFFECT_APP * 0.3                                     # everyone: the common shift + the app share
    assert row["ci_low"] < truth < row["ci_high"] and abs(row["change"] - truth) < 3 * se
    assert m.design == "before_after" and m.did is None and m.method == "welch_t"
    assert m.periods["before_from"] == "2024-04-02" and m.periods["after_to"] == "2024-09-28"
    assert m.target_reached is True and m.effect["estimate"] == pytest.approx(row["change"])
    s = m.summary()
    assert s["n_before"] == len(b) and s["target_reached"] and json.dumps(s)
    wide = measure(con, ini, before_days=30, after_days=30)
    assert wide.groups.iloc[0]["n_before"] == len(_window(df, -30, 0))


def test_did_recovers_the_effect_against_untouched_touchpoints(con):
    ini = _new(con, scope="touchpoint=app")
    m = measure(con, ini)
    g = m.groups.set_index("group")
    assert list(g.index) == ["treated", "untouched"] and m.design == "did"
    # the naive before/after of the app answers carries the common shift too ...
    assert g.at["treated", "change"] == pytest.approx(EFFECT_APP + COMMON, abs=0.15)
    assert g.at["untouched", "change"] == pytest.approx(COMMON, abs=0.1)
    assert not g.at["treated", "ci_low"] < EFFECT_APP < g.at["treated", "ci_high"]
    # ... the difference-in-differences removes it
    d = m.did
    assert d["ci_low"] < EFFECT_APP < d["ci_high"] and abs(d["estimate"] - EFFECT_APP) < 3 * d["std_error"]
    assert d["estimate"] == pytest.approx(g.at["treated", "change"] - g.at["untouched", "change"])
    var = sum(g.at[k, "std_error"] ** 2 for k in ("treated", "untouched"))
    assert d["std_error"] == pytest.approx(np.sqrt(var), rel=1e-9)
    assert m.effect["estimate"] == pytest.approx(d["estimate"])
    placebo = measure(con, kpi="experience_service", scope="touchpoint=app", start=START)   # nothing planted there
    assert placebo.did["ci_low"] < 0 < placebo.did["ci_high"]


def test_did_on_a_customer_segment_scope(con):
    m = measure(con, kpi="experience_service", scope={"segment": "business"}, start=START)
    g = m.groups.set_index("group")
    assert g.at["treated", "n_before"] + g.at["untouched", "n_before"] == m.groups.n_before.sum()
    assert m.did["ci_low"] < EFFECT_BUSINESS < m.did["ci_high"]
    assert measure(con, kpi="experience_convenience", scope="segment=business", start=START).did["ci_low"] < 0


def test_bootstrap_is_seeded_and_agrees_with_welch(con):
    kw = dict(kpi="experience_convenience", scope="touchpoint=app", start=START)
    w = measure(con, **kw)
    b1 = measure(con, method="bootstrap", n_boot=300, random_state=3, **kw)
    b2 = measure(con, method="bootstrap", n_boot=300, random_state=3, **kw)
    assert b1.did == b2.did and b1.method == "bootstrap_percentile" and b1.n_boot == 300
    assert b1.did["estimate"] == pytest.approx(w.did["estimate"])
    assert b1.did["ci_low"] == pytest.approx(w.did["ci_low"], abs=0.05)
    assert b1.did["ci_high"] == pytest.approx(w.did["ci_high"], abs=0.05)
    assert b1.groups.std_error.to_numpy() == pytest.approx(w.groups.std_error.to_numpy(), rel=0.2)
    with pytest.raises(InitiativeError, match="at least 100 resamples"):
        measure(con, method="bootstrap", n_boot=10, **kw)
    with pytest.raises(Exception, match="method='magic' is not valid"):
        measure(con, method="magic", **kw)


def test_waves_give_the_numbers_of_gaps_before_after(con, survey):
    from cxvalue.perception.analyses import cem_analysis
    df, _ = survey
    comp = cem_analysis(df, before="2024H1", after="2024H2")["cem_compare"]
    for kpi, measure_name in (("experience_convenience", "experience"), ("gap_convenience", "gap"),
                              ("satisfaction_service", "satisfaction")):
        m = measure(con, kpi=kpi, before_wave="2024H1", after_wave="2024H2")
        row = m.groups.iloc[0]
        dim = kpi.split("_", 1)[1]
        ref = comp[(comp.dimension == dim) & (comp.measure == measure_name)].iloc[0]
        assert (row["n_before"], row["n_after"]) == (ref["n_before"], ref["n_after"])
        for k in ("before", "after", "change", "p_value", "df", "ci_low", "ci_high"):
            assert row[k] == pytest.approx(ref[k], rel=1e-9), (kpi, k)
        assert m.periods == {"kind": "waves", "before_wave": "2024H1", "after_wave": "2024H2"}
    with pytest.raises(InitiativeError, match="give both the before wave and the after wave"):
        measure(con, kpi="nps", before_wave="2024H1")


def test_nps_and_satisfaction_kpis(con, survey):
    df, _ = survey
    m = measure(con, kpi="nps", start=START)
    b = _window(df, -90, 0).nps
    assert m.groups.iloc[0]["before"] == pytest.approx(100 * ((b >= 9).mean() - (b <= 6).mean()))
    s = measure(con, kpi="satisfaction", start=START)
    assert s.groups.iloc[0]["before"] == pytest.approx(_window(df, -90, 0).satisfaction.mean())
    c = measure(con, kpi="satisfaction_convenience", start=START).groups.iloc[0]
    w = _window(df, -90, 0)
    assert c["before"] == pytest.approx((w.experience_convenience - w.expectation_convenience).mean())


def test_small_samples_short_windows_and_no_untouched_units_warn(con):
    with pytest.warns(SmallSampleWarning) as rec:
        measure(con, kpi="experience_convenience", scope="product=Z", start=START, before_days=30, after_days=30)
    import re
    found = {m.group(1) for w in rec for m in [re.search(r"\d+ answers in the (\w+) period \(treated\), fewer than 30",
                                                          str(w.message))] if m}
    assert found == {"before", "after"}, [str(w.message) for w in rec]
    with pytest.warns(SmallSampleWarning, match="the after window has 31 of 90 days"):
        m = measure(con, kpi="nps", start=dt.date(2024, 12, 1))
    assert m.periods["after_days_observed"] == 31
    with pytest.raises(InitiativeError, match="starts on 2025-03-01, after the last data"):
        measure(con, kpi="nps", start=dt.date(2025, 3, 1))
    with pytest.raises(InitiativeError, match="no answers in the before window for the scope touchpoint=kiosk"):
        measure(con, kpi="nps", scope="touchpoint=kiosk", start=START)
    con.create_table("responses", con.table("responses").mutate(touchpoint=ibis.literal("app")), overwrite=True)
    with pytest.warns(SmallSampleWarning, match="no untouched answers outside the scope touchpoint=app"):
        m = measure(con, kpi="nps", scope="touchpoint=app", start=START)
    assert m.did is None and m.design == "before_after"
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        measure(con, kpi="nps", start=START)                         # plenty of answers: no warning


def test_complaint_rate_per_1000_customers_in_contact():
    c = ibis.duckdb.connect()
    ts = pd.Timestamp
    tx = pd.DataFrame({"customer_id": ["A", "B", "C", "D", "A", "B", "E"], "amount": 1.0, "channel": "web",
                       "date": [ts("2024-06-01"), ts("2024-06-02"), ts("2024-06-03"), ts("2024-06-04"),
                                ts("2024-07-05"), ts("2024-07-06"), ts("2024-07-07")]})
    cp = pd.DataFrame({"complaint_id": ["k1", "k2", "k3", "k4"], "customer_id": ["A", "A", "F", "B"],
                       "opened": [ts("2024-06-10"), ts("2024-06-11"), ts("2024-06-12"), ts("2024-07-10")],
                       "category": ["delay", "delay", "refund", "delay"], "channel": ["web", "app", "app", "web"]})
    c.create_table("transactions", tx)
    c.create_table("complaints", cp)
    with pytest.warns(SmallSampleWarning):
        m = measure(c, kpi="complaint_rate", start=START, before_days=60, after_days=60)
    g = m.groups.iloc[0]
    # before: A, B, C, D bought and F complained: 5 in contact, 3 complaints; after: A, B, E: 1 complaint
    assert (g["n_before"], g["n_after"]) == (5, 3)
    assert g["before"] == pytest.approx(1000 * 3 / 5) and g["after"] == pytest.approx(1000 / 3)
    with pytest.warns(SmallSampleWarning):
        d = measure(c, kpi="complaint_rate:delay", start=START, before_days=60, after_days=60).groups.iloc[0]
    assert d["before"] == pytest.approx(1000 * 2 / 5)
    assert m.better == "lower" and m.unit == "customers"
    with pytest.raises(InitiativeError, match="complaints have no survey wave"):
        measure(c, kpi="complaint_rate", before_wave="a", after_wave="b")


def test_case_rate_of_a_root_cause(con, survey):
    from cxvalue.loop.cases import change as case_change, open_cases
    df, _ = survey
    before, after = _window(df, -90, 0), _window(df, 0, 90)
    picked = list(before.response_id[:30]) + list(after.response_id[:10])
    ids = open_cases(con, [dict(customer_id="C0001", source="survey", source_id=r, by="rule:detractor")
                           for r in picked])
    for i, cid in enumerate(ids):
        code = "delay" if i % 2 == 0 else "price"
        case_change(con, cid, "resolve", by="li", version=1, comment="fixed", root_cause=code)
    m = measure(con, kpi="case_rate:delay", start=START)
    g = m.groups.iloc[0]
    assert g["before"] == pytest.approx(1000 * 15 / len(before)) and g["after"] == pytest.approx(1000 * 5 / len(after))
    assert m.better == "lower"


def test_the_demo_convenience_improvement_is_recovered():
    """The simulator plants a convenience step (ground truth); an initiative starting on that day
    re-measures about that step, and nothing on an untouched dimension."""
    from cxvalue.datasets import demo
    gt = demo.GROUND_TRUTH
    step = gt["experience"]["convenience_improvement"]
    end = pd.Timestamp(gt["window"]["default_end_date"])
    start = (end + pd.Timedelta(days=1) - pd.DateOffset(months=step["months_before_end"])).date()
    r = demo.generate(20_000, seed=0)["responses"]
    c = ibis.duckdb.connect()
    c.create_table("responses", r)
    m = measure(c, kpi="experience_convenience", start=start, as_of=end.date())
    g = m.groups.iloc[0]
    assert g["ci_low"] < step["delta"] < g["ci_high"] and g["change"] == pytest.approx(step["delta"], abs=0.15)
    other = measure(c, kpi="experience_price", start=start, as_of=end.date()).groups.iloc[0]
    assert other["ci_low"] < 0 < other["ci_high"]


# --------------------------------------------------------------------------- suggestions
def test_suggest_from_the_gaps_the_value_ranking_and_the_root_causes(con, survey):
    import cxvalue.perception.pipeline  # noqa: F401  (declares the result tables)
    from cxvalue.loop.cases import change as case_change, open_cases
    from cxvalue.perception.analyses import cem_tables
    from cxvalue.perception.roi import experience_roi
    from cxvalue.store import write_result
    df, _ = survey
    write_result(con, "cem_gaps", cem_tables(df)["cem_gaps"])
    latest = df.sort_values("date").groupby("customer_id").last()
    frame = latest[["nps", "experience_convenience", "experience_service", "ideal_convenience", "ideal_service"]]
    frame = frame.assign(value=100.0 + 10 * frame.nps)
    roi = experience_roi(frame, outcome="nps", n_boot=0)
    write_result(con, "experience_roi", roi.assign(value_base=roi["value"] * 2))
    ids = open_cases(con, [dict(customer_id="C1", source="survey", source_id=r, by="rule:detractor")
                           for r in df.response_id[-10:]])
    for cid, code in zip(ids, ["delay"] * 6 + ["price"] * 3 + ["other"]):
        case_change(con, cid, "resolve", by="li", version=1, comment="fixed", root_cause=code)
    ini = _new(con, origin="roi:experience_convenience")
    s = suggest(con, top=3)
    dims = s[s.origin_kind != "root_cause"]
    drv = roi[(roi.kind == "driver") & (roi.value > 0)].sort_values("rank")
    assert drv.item.tolist() == ["experience_convenience"]                  # service does not move NPS here ...
    assert dims.origin_kind.tolist() == ["experience_roi", "driver_gap"]    # ... it comes from the CEM requirements
    assert dims.origin.tolist() == ["experience_convenience", "service"]
    assert dims.kpi.tolist() == ["experience_convenience", "experience_service"]
    assert dims.value.iloc[0] == pytest.approx(2 * drv.value.iloc[0]) and np.isnan(dims.value.iloc[1])
    conv = dims.set_index("dimension").loc["convenience"]
    gaps = cem_tables(df)["cem_gaps"].set_index("dimension")
    assert conv.target_basis == "expectation" and conv.target_value == pytest.approx(gaps.at["convenience",
                                                                                             "expectation"])
    assert conv.existing == ini.initiative_id and dims.set_index("dimension").loc["service"].existing is None
    n, now = I.kpi_value(con, "experience_convenience", since=dt.date(2024, 10, 3), until=dt.date(2024, 12, 31))
    assert (conv.n, conv.current) == (n, pytest.approx(now))
    rc = s[s.origin_kind == "root_cause"]
    assert rc.origin.tolist() == ["delay", "price"]                         # the vital few: 60% + 30% ≥ 80%
    assert rc.kpi.tolist() == ["case_rate:delay", "case_rate:price"] and rc.cases.tolist() == [6, 3]
    assert rc.target_value.tolist() == pytest.approx((rc.current / 2).tolist())
    assert s["rank"].tolist() == list(range(1, len(s) + 1))
    assert len(suggest(con, top=1)[lambda x: x.origin_kind == "root_cause"]) == 1


def test_suggest_on_a_store_without_analyses_is_empty(con):
    assert suggest(con).empty


# --------------------------------------------------------------------------- CLI
def test_cli_json(tmp_path, survey):
    df, cust = survey
    store = tmp_path / "s.duckdb"
    c = ibis.duckdb.connect(str(store))
    c.create_table("responses", df)
    c.create_table("customers", cust)
    c.disconnect()
    r = cx("initiatives", "add", "Self-service kiosks", "--origin", "gap:convenience", "--owner", "li",
           "--start", "2024-07-01", "--target", "6", "--scope", "touchpoint=app", "-m", "pilot in the app",
           "--by", "ann", "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)
    ini = v["meta"]["initiative"]
    iid = ini["initiative_id"]
    assert (ini["status"], ini["scope"], ini["kpi"], ini["created_by"]) == ("planned", {"touchpoint": "app"},
                                                                             "experience_convenience", "ann")
    did = v["meta"]["remeasurement"]["did"]
    assert did["ci_low"] < EFFECT_APP < did["ci_high"]
    r = cx("initiatives", "measure", iid, "--method", "bootstrap", "--boot", "200", "--seed", "1", "--store", store,
           "--json")
    assert r.returncode == 0, r.stderr
    mm = json.loads(r.stdout)["meta"]["remeasurement"]
    assert mm["method"] == "bootstrap_percentile" and mm["n_boot"] == 200 and mm["design"] == "did"
    assert [g["group"] for g in mm["groups"]] == ["treated", "untouched"]
    r = cx("initiatives", "update", iid, "start", "-m", "go", "--by", "li", "--store", store, "--json")
    assert json.loads(r.stdout)["meta"]["initiative"]["status"] == "active"
    r = cx("initiatives", "update", iid, "complete", "-m", "done", "--version", "1", "--store", store)
    assert r.returncode == 1 and "changed since you opened it" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = cx("initiatives", "update", iid, "complete", "-m", "done", "--store", store, "--json")
    done = json.loads(r.stdout)["meta"]["initiative"]
    assert done["status"] == "done" and done["result"]["did"]["estimate"] == pytest.approx(did["estimate"])
    r = cx("initiatives", "list", "--status", "done", "--store", store, "--json")
    assert [x["initiative_id"] for x in json.loads(r.stdout)["blocks"][1]["rows"]] == [iid]
    r = cx("initiatives", "show", iid, "--store", store, "--lang", "zh")
    assert r.returncode == 0 and "双重差分" in r.stdout and "已完成" in r.stdout
    r = cx("initiatives", "suggest", "--store", store, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["blocks"][0]["rows"] == []
    r = cx("initiatives", "add", "x", "--origin", "gap:parking", "--owner", "li", "--start", "2024-07-01",
           "--store", store)
    assert r.returncode == 1 and "driver gap 'parking' is not a dimension" in r.stderr
