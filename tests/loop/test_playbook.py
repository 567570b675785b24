"""The strategy playbook (H3): the defaults cover every value-matrix strategy × lifecycle stage and
every churn reason family × value tier in both languages; YAML overrides merge and bad files fail
with one line naming the file and the key; applied per customer in the engine (a hand-made store
with known answers, and the demo company through the real steps); the retention list takes its
actions from the same playbook; the customer 360, the strategy view and `cxvalue strategy --json`
show it."""
from __future__ import annotations

import json
import os
import shutil
import warnings

import pandas as pd
import pytest

from cli_runner import cx
from cxvalue.errors import CxValueError, DataQualityWarning
from cxvalue.i18n import LANGS, catalogue
from cxvalue.lifecycle.stages import STAGES
from cxvalue.loop.playbook import (DEFAULT_PLAYBOOK, PLAY_STAGES, customer_plays, customer_strategies, load_playbook,
                                   play_of, playbook_cells, playbook_from_settings, retention_action_of,
                                   strategy_matrix)
from cxvalue.store import connect
from cxvalue.value.segments import STRATEGIES, VALUE_TIERS

os.environ.setdefault("OMP_NUM_THREADS", "1")
TIER_OF = {s: tier for tier, s in STRATEGIES.items()}
DEMO_STEPS = ("customer value", "lifecycle", "churn prediction", "retention", "strategy")


def block(view: dict, id: str) -> dict:
    return next(b for b in view["blocks"] if b["id"] == id)


# --------------------------------------------------------------------------- the playbook
def test_defaults_cover_every_cell_and_stage_in_both_languages():
    from cxvalue.churn import DEFAULT_PLAYBOOK as CHURN_PLAYBOOK
    from cxvalue.churn.prediction import REASON_FAMILIES
    cat = catalogue()
    pb = load_playbook()
    assert list(pb["strategies"]) == ["pursue", "target", "maintain", "deprioritise"]
    cells = playbook_cells(pb)
    assert len(cells) == 4 * len(PLAY_STAGES) == 20 and cells.play.is_unique
    for r in cells.itertuples():
        assert r.value_tier == TIER_OF[r.strategy]
        assert r.play in cat and all(cat[r.play][lang].strip() for lang in LANGS), r.play
    assert cat["play_pursue_decline"]["zh"].startswith("退化期二次开发")   # seed 004: 退化期的二次开发
    families = {f for _, f in REASON_FAMILIES} | {"default"}
    assert set(pb["retention"]["actions"]) == families
    for acts in pb["retention"]["actions"].values():
        assert set(acts) == set(VALUE_TIERS) and all(a in cat for a in acts.values())
    assert pb["at_risk_decile"] == 3 and pb["retention"]["tiers"] == {"high": 0.8, "medium": 0.5}
    assert play_of(pb, "pursue", "decline") == "play_pursue_decline" and play_of(pb, "lead", "decline") is None
    assert play_of(pb, "target", None) == play_of(pb, "target", "ended") == "play_target"   # no stage: the strategy's play
    assert retention_action_of(pb, "complaint", "high") == "churn_act_escalate_complaint"
    assert retention_action_of(pb, "other", "low") == "churn_act_monitor"                  # unknown family: default
    # the churn module's playbook is this playbook's retention section: one source of actions
    assert CHURN_PLAYBOOK is DEFAULT_PLAYBOOK["retention"]


def test_yaml_overrides_merge_in_order_and_never_change_the_defaults(tmp_path):
    whole = tmp_path / "playbook.yaml"
    whole.write_text("strategies:\n"
                     "  pursue:\n    decline: 'Key-account director visits within a week'\n"
                     "  grow:\n    unknown: play_target\n    stability: 'Bundle offer'\n"
                     "  maintain: play_maintain\n"
                     "at_risk_decile: 2\n"
                     "retention:\n  actions:\n    price: {high: 'CFO discount'}\n", encoding="utf-8")
    churn = tmp_path / "churn.yaml"      # the former churn playbook: the retention part only
    churn.write_text("min_value_at_risk: 5\nactions:\n  price: ombudsman\n", encoding="utf-8")
    pb = load_playbook(whole)
    assert pb["strategies"]["pursue"]["decline"] == "Key-account director visits within a week"
    assert pb["strategies"]["pursue"]["stability"] == "play_pursue_stability"       # the rest keeps the defaults
    assert pb["strategies"]["grow"] == {"exploration": "play_target", "formation": "play_target",
                                        "stability": "Bundle offer", "decline": "play_target", "unknown": "play_target"}
    assert pb["strategies"]["maintain"] == {s: "play_maintain" for s in PLAY_STAGES}  # one play for every stage
    assert pb["at_risk_decile"] == 2
    assert pb["retention"]["actions"]["price"] == {"high": "CFO discount", "medium": "churn_act_plan_review",
                                                   "low": "churn_act_lower_cost_plan"}
    assert list(playbook_cells(pb).strategy.unique()) == ["pursue", "target", "maintain", "deprioritise", "grow"]
    both = playbook_from_settings({"playbook": str(whole), "churn_playbook": str(churn)})
    assert both["strategies"]["grow"]["stability"] == "Bundle offer"
    assert both["retention"]["actions"]["price"] == {t: "ombudsman" for t in VALUE_TIERS}
    assert both["retention"]["min_value_at_risk"] == 5.0
    assert load_playbook({"at_risk_decile": None})["at_risk_decile"] is None
    assert playbook_from_settings({}) == load_playbook() == DEFAULT_PLAYBOOK


@pytest.mark.parametrize("text, message", [
    ("strategies: [", r"playbook file \S+p\.yaml: not valid YAML: "),
    ("- pursue\n", r"playbook file \S+p\.yaml: expected a mapping with strategies"),
    ("strategies:\n  pursue: {growth: x}\n", r"playbook file \S+p\.yaml: strategies\.pursue: stage 'growth' is not "
                                              r"valid: expected exploration, formation, stability, decline, unknown$"),
    ("strategies:\n  grow: {decline: x}\n", r"strategies\.grow: a strategy not in the default playbook needs a play "
                                            r"for 'unknown'"),
    ("strategies:\n  pursue: {decline: ''}\n", r"strategies\.pursue\.decline: expected an action"),
    ("strategies: [pursue]\n", r"strategies: expected a mapping of value-matrix strategy"),
    ("at_risk_decile: 11\n", r"at_risk_decile=11: expected a churn risk decile from 1 to 10"),
    ("strategies: {}\nactions: {}\n", r"key 'actions' is not valid: expected strategies, at_risk_decile, retention "
                                      r"\(the retention part belongs under retention:\)"),
    ("retention:\n  actions:\n    price: {vip: x}\n", r"retention\.actions\.price: tier 'vip' is not valid: expected "
                                                      r"high, medium, low"),
    ("retention:\n  tiers: {medium: 0.9}\n", r"retention\.tiers: medium \(0\.9\) must be below high \(0\.8\)"),
    ("retention:\n  min_value_at_risk: -1\n", r"retention\.min_value_at_risk=-1: expected a number of at least 0"),
    ("strategy:\n  pursue: x\n", r"key 'strategy' is not valid: expected tiers, actions or min_value_at_risk \(a "
                                 r"retention playbook\) or strategies, at_risk_decile, retention \(a whole playbook\)"),
])
def test_bad_playbook_files_fail_with_one_line_naming_the_file_and_key(tmp_path, text, message):
    p = tmp_path / "p.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(CxValueError, match=message) as e:
        load_playbook(p)
    assert "\n" not in str(e.value)


def test_missing_files_and_bad_settings_are_named(tmp_path):
    with pytest.raises(CxValueError, match=r"playbook file '\S+none\.yaml' not found"):
        playbook_from_settings({"churn_playbook": str(tmp_path / "none.yaml")})
    with pytest.raises(CxValueError, match=r"^playbook strategies\.pursue: stage 'ended' is not valid"):
        load_playbook({"strategies": {"pursue": {"ended": "x"}}})
    with pytest.raises(CxValueError, match=r"playbook: expected a mapping .* got list"):
        load_playbook(["pursue"])


# --------------------------------------------------------------------------- applied per customer: known answers
IDS = [f"c{i}" for i in range(10)]
TIERS = ["platinum", "gold", "iron", "lead", "platinum", "gold", "iron", "lead", "platinum", "gold"]


@pytest.fixture()
def small():
    """Ten customers: value matrix for all, lifecycle stages for seven, churn scores in deciles 10..1 (decile 1 = the highest risk, as churn_scores)."""
    con = connect("duckdb://")
    con.create_table("customer_value", pd.DataFrame({
        "customer_id": IDS, "clv": [1000.0, 50, 800, 5, 3000, 200, 700, 1, 2500, 90], "current_value": 1.0,
        "value_tier": TIERS, "strategy": [STRATEGIES[t] for t in TIERS]}))
    con.create_table("lifecycle", pd.DataFrame({
        "customer_id": IDS[:7], "current_stage": ["exploration", "formation", "stability", "decline", "decline",
                                                  "stability", "formation"],
        "highest_stage": "stability", "pattern": "long_term", "p_alive": 0.5, "ended": [False] * 6 + [True]}))
    con.create_table("churn_scores", pd.DataFrame({
        "customer_id": IDS, "p_churn": [0.1 * i for i in range(10)], "risk_decile": list(range(10, 0, -1)),
        "main_reason": ["complaint", "price", "engagement", "experience", "other"] * 2, "top_reasons": "x",
        "as_of": "2025-06-30"}))
    yield con
    con.disconnect()


def test_plays_follow_the_cell_and_stage_and_unknown_stages_get_the_strategy_play(small):
    pb = load_playbook()
    p = customer_plays(small, pb).to_pandas().set_index("customer_id")
    assert list(p.stage) == ["exploration", "formation", "stability", "decline", "decline", "stability", "formation",
                             "unknown", "unknown", "unknown"]
    assert p.loc["c4", "play"] == "play_pursue_decline" and p.loc["c8", "play"] == "play_pursue"
    assert p.loc["c6", "ended"] == True and pd.isna(p.loc["c8", "ended"])  # noqa: E712
    for cid, r in p.iterrows():
        assert r.play == play_of(pb, r.strategy, r.stage) and r.value_tier == TIER_OF[r.strategy], cid
    small.drop_table("lifecycle")
    with pytest.warns(DataQualityWarning, match=r"no lifecycle table in the store: every customer's stage is unknown"):
        assert set(customer_plays(small, pb).to_pandas().stage) == {"unknown"}    # no lifecycle at all
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = customer_strategies(small, pb).to_pandas()
    assert [str(w.message).split(":")[0] for w in caught if issubclass(w.category, DataQualityWarning)] == [
        "no lifecycle table in the store", "no retention list in the store"]
    assert (t.action == t.play).all() and t.risk_decile.notna().all()


def test_retention_list_and_customer_strategy_use_the_one_playbook(small, tmp_path):
    from cxvalue.interfaces.session import open_session
    from cxvalue.steps import run_steps
    f = tmp_path / "pb.yaml"
    f.write_text("strategies:\n  pursue: {unknown: 'Call the CEO'}\nretention:\n  actions:\n    experience: "
                 "{high: 'Fly in the service director'}\n", encoding="utf-8")
    s = open_session(con=small, playbook=str(f))
    out = run_steps(s, only=["retention", "strategy"])
    assert [(o.step, o.status) for o in out] == [("retention", "ok"), ("strategy", "ok")], [o.reason for o in out]
    pb = load_playbook(f)
    rl = small.table("retention_list").to_pandas().set_index("customer_id")
    for cid, r in rl.iterrows():
        assert r.action == retention_action_of(pb, r.main_reason, r.value_tier), cid
    assert rl.loc["c8", "action"] == "Fly in the service director"    # experience × high, from the playbook setting
    assert rl.loc["c8", ["strategy", "stage", "play"]].tolist() == ["pursue", "unknown", "Call the CEO"]
    assert rl.loc["c0", ["strategy", "stage", "play"]].tolist() == ["pursue", "exploration", "play_pursue_exploration"]
    cs = small.table("customer_strategy").to_pandas().set_index("customer_id")
    assert len(cs) == 10 and (cs.retention_action == rl.action.reindex(cs.index)).all()
    at_risk = cs.risk_decile <= 3                          # deciles 1-3 (1 = most at risk): the retention action
    assert list(cs.index[at_risk]) == ["c7", "c8", "c9"]
    assert (cs.action[at_risk] == cs.retention_action[at_risk]).all() and (cs.action_source[at_risk] == "retention").all()
    assert (cs.action[~at_risk] == cs.play[~at_risk]).all() and (cs.action_source[~at_risk] == "strategy").all()
    m = small.table("strategy_matrix").to_pandas()
    assert m.customers.sum() == 10 and m.at_risk.sum() == 3
    assert len(m[m.stage != "unknown"]) == 16 and set(m[m.stage == "unknown"].strategy) == {"pursue", "target",
                                                                                             "deprioritise"}
    cell = m.set_index(["strategy", "stage"])
    assert cell.loc[("pursue", "decline"), "customers"] == 1 and cell.loc[("maintain", "decline"), "customers"] == 0
    assert cell.loc[("pursue", "unknown"), "play"] == "Call the CEO"
    o = {x.step: x for x in out}["strategy"]
    assert o.summary == {"customers": 10, "retention_actions": 3, "stage_unknown": 3, "at_risk_decile": 3}


def test_strategies_missing_from_the_playbook_warn_and_the_risk_switch_can_be_off(small):
    cv = small.table("customer_value").to_pandas()
    cv.loc[cv.customer_id.isin(["c7", "c8", "c9"]), "strategy"] = "grow"     # a strategy the playbook lacks
    small.create_table("customer_value", cv, overwrite=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = customer_strategies(small, load_playbook({"at_risk_decile": None})).to_pandas().set_index("customer_id")
    msgs = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert msgs == ["value-matrix strategy 'grow' not in the playbook: those customers get no play (add them under "
                    "strategies:)"]
    assert t.play.isna().sum() == 3 and (t.action_source == "strategy").all()   # never replaced by the retention action
    m = strategy_matrix(t.reset_index(), load_playbook())
    assert m.loc[m.strategy == "grow", "customers"].sum() == 3 and m.loc[m.strategy == "grow", "play"].isna().all()


# --------------------------------------------------------------------------- the demo company, through the real steps
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A 1,000-customer demo store file after the value, lifecycle, churn, retention and strategy steps."""
    from cxvalue.datasets.demo import generate
    from cxvalue.interfaces.session import open_session
    from cxvalue.steps import run_steps
    path = tmp_path_factory.mktemp("strategy") / "demo.duckdb"
    con = connect(path)
    for name, frame in generate(1_000, seed=2).items():
        con.create_table(name, frame)
    out = run_steps(open_session(con=con), only=list(DEMO_STEPS))
    assert {o.step: o.status for o in out} == dict.fromkeys(DEMO_STEPS, "ok"), [o.reason for o in out]
    con.disconnect()
    return path


@pytest.fixture()
def demo_session(demo):
    from cxvalue.interfaces.session import open_session
    con = connect(demo)
    yield open_session(con=con)
    con.disconnect()


def test_every_customer_of_the_demo_gets_the_play_of_their_cell_and_stage(demo_session):
    con, pb = demo_session.con, load_playbook()
    cs = con.table("customer_strategy").to_pandas().set_index("customer_id")
    cv = con.table("customer_value").to_pandas().set_index("customer_id")
    lc = con.table("lifecycle").to_pandas().set_index("customer_id")
    assert cs.index.sort_values().equals(cv.index.sort_values().astype(str))
    assert (cs.strategy == cv.strategy.reindex(cs.index)).all()
    assert (cs.stage == lc.current_stage.reindex(cs.index).fillna("unknown")).all()
    assert set(cs.stage) <= set(PLAY_STAGES) and cs.play.notna().all()
    assert all(p == play_of(pb, s, st) for p, s, st in zip(cs.play, cs.strategy, cs.stage))
    risky = (cs.risk_decile <= 3) & cs.retention_action.notna()   # decile 1 = most at risk
    assert cs.p_churn[cs.risk_decile <= 3].min() >= cs.p_churn[cs.risk_decile > 3].max() - 1e-9   # the riskiest
    assert risky.sum() > 0 and (cs.action[risky] == cs.retention_action[risky]).all()
    assert (cs.action[~risky] == cs.play[~risky]).all()
    rl = con.table("retention_list").to_pandas().set_index("customer_id")
    assert (rl.play == cs.play.reindex(rl.index)).all() and (rl.stage == cs.stage.reindex(rl.index)).all()
    assert all(a == retention_action_of(pb, r, t) for a, r, t in zip(rl.action, rl.main_reason, rl.value_tier))
    m = con.table("strategy_matrix").to_pandas().set_index(["strategy", "stage"])
    counts = cs.groupby(["strategy", "stage"]).size()
    assert (m.customers.reindex(counts.index) == counts).all() and m.customers.sum() == len(cs)


def test_the_customer_360_and_the_retention_list_show_the_playbook(demo_session):
    from cxvalue.interfaces.views import build_view
    from cxvalue.interfaces.views.customers import customer_view
    from cxvalue.i18n import t
    cs = demo_session.con.table("customer_strategy").to_pandas()
    risky = cs[cs.action_source == "retention"].iloc[0]
    calm = cs[cs.action_source == "strategy"].iloc[0]
    for lang in LANGS:
        demo_session.lang = lang
        for r in (risky, calm):
            v = customer_view(demo_session, r.customer_id)
            rows = {x["field"]: x["value"] for x in v.block("customer-strategy").rows}
            assert rows[t("strategy_play", lang)] == t(r.play, lang)
            assert rows[t("strategy_action", lang)] == t(r.action, lang)
            assert rows[t("strategy_action_source", lang)] == t(f"strategy_src_{r.action_source}", lang)
            assert rows[t("lifecycle_stage", lang)] == (t(f"lifecycle_{r.stage}", lang) if r.stage in STAGES
                                                        else t("strategy_stage_unknown", lang))
    demo_session.lang = "zh"
    assert "策略动作" in str(customer_view(demo_session, calm.customer_id).to_dict())
    demo_session.lang = "en"
    churn = build_view("churn", demo_session)
    rlb = churn.block("retention-list")
    assert {"strategy_label", "stage_label", "play_label"} <= {c.key for c in rlb.columns}
    plays = cs.set_index("customer_id").play
    assert all(r["play_label"] == t(plays[r["customer_id"]], "en") for r in rlb.rows)


def test_the_strategy_view_is_in_the_report(demo_session):
    from cxvalue.interfaces.views import build_views
    ids = [v.id for v in build_views(demo_session)]
    assert ids.index("strategy") == ids.index("lifecycle") + 1          # after the lifecycle, before the loop
    v = next(v for v in build_views(demo_session) if v.id == "strategy")
    assert [b.id for b in v.blocks] == ["strategy-kpis", "strategy-intro", "strategy-counts", "strategy-matrix",
                                        "strategy-retention-actions"]
    counts = v.block("strategy-counts")
    assert [r["strategy"] for r in counts.rows] == ["pursue", "target", "maintain", "deprioritise"]
    assert sum(r["customers"] for r in counts.rows) == v.meta["customers"] == 1_000


def test_export_carries_play_labels_and_the_strategy_sheet(demo_session, tmp_path):
    import openpyxl

    from cxvalue.churn import export_retention
    rl = demo_session.con.table("retention_list").to_pandas().set_index("customer_id")
    out = export_retention(rl, tmp_path / "list.xlsx", lang="zh")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["retention_list", "playbook", "strategy_playbook"]
    head = [c.value for c in wb["retention_list"][1]]
    assert head[head.index("play") + 1] == "play_label" and wb["strategy_playbook"].max_row == 21
    back = pd.read_csv(export_retention(rl, tmp_path / "list.csv"), encoding="utf-8-sig")
    assert back.play_label.notna().all() and not back.play_label.str.startswith("play_").any()


def test_cli_strategy_json_and_a_playbook_option(demo, tmp_path):
    store = tmp_path / "copy.duckdb"
    shutil.copy(demo, store)
    r = cx("strategy", "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["id"] == "strategy" and out["as_of"] and out["meta"]["customers"] == 1_000
    matrix = block(out, "strategy-matrix")["rows"]
    assert len([m for m in matrix if m["stage"] != "unknown"]) == 16
    assert sum(m["customers"] for m in matrix) == 1_000
    assert all(m["play_label"] and not m["play_label"].startswith("play_") for m in matrix)
    f = tmp_path / "pb.yaml"
    f.write_text("strategies:\n  deprioritise: {decline: 'Close the account politely'}\n", encoding="utf-8")
    r = cx("strategy", "--store", store, "--json", "--playbook", f, "--lang", "zh")
    assert r.returncode == 0, r.stderr
    cell = next(m for m in block(json.loads(r.stdout), "strategy-matrix")["rows"]
                if (m["strategy"], m["stage"]) == ("deprioritise", "decline"))
    assert cell["play"] == cell["play_label"] == "Close the account politely"
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategies:\n  pursue: {growth: x}\n", encoding="utf-8")
    r = cx("strategy", "--store", store, "--playbook", bad)
    assert r.returncode == 1 and f"playbook file {bad}: strategies.pursue: stage 'growth' is not valid" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_the_web_shows_the_strategy_dashboard_and_the_360_block(demo, tmp_path):
    import re

    import ibis
    from fastapi.testclient import TestClient

    from cxvalue.accounts import Accounts
    from cxvalue.config import load_settings
    from cxvalue.interfaces.web.app import create_app
    store = tmp_path / "web.duckdb"
    shutil.copy(demo, store)
    acc = Accounts(ibis.duckdb.connect(str(store)))
    acc.add_user("ana", "analyst", "correct horse battery")
    acc.con.disconnect()
    app = create_app(load_settings({"store": str(store)}, project_file="/nonexistent", environ={}))
    try:
        c = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        assert c.post("/login", data={"username": "ana", "password": "correct horse battery", "csrf_token": token,
                                      "next": "/"}, follow_redirects=False).status_code == 303
        page = c.get("/dashboards/strategy")
        assert page.status_code == 200 and 'id="strategy-matrix"' in page.text and "Premium onboarding" in page.text
        twin = c.get("/dashboards/strategy.json").json()
        assert twin["id"] == "strategy" and any(b["id"] == "strategy-counts" for b in twin["blocks"])
        cid = app.state.web.con().table("customer_strategy").customer_id.execute().iloc[0]
        html = c.get(f"/customers/{cid}").text
        assert 'id="customer-strategy"' in html and "Recommended action" in html
        data = c.get(f"/customers/{cid}.json").json()
        assert any(b["id"] == "customer-strategy" for b in data["blocks"])
    finally:
        app.state.web.close()


def test_the_docs_list_every_default_play_in_both_languages():
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[2] / "docs" / "strategy.md").read_text(encoding="utf-8")
    cat = catalogue()
    keys = set(playbook_cells(DEFAULT_PLAYBOOK).play) | {a for acts in DEFAULT_PLAYBOOK["retention"]["actions"].values()
                                                         for a in acts.values()}
    for k in keys:
        assert f"`{k}` | {cat[k]['en']} | {cat[k]['zh']} |" in doc, k
