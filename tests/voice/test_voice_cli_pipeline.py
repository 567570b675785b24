"""Voice, perception and loyalty interfaces: the steps' result tables, the views and the report
built from them, and the CLI commands nps / drivers / gaps / csi / experience-value / loyalty on
the store and on files (in-process), whose --json is the view's JSON."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from cli_runner import cx
from cxvalue.datasets import demo
from cxvalue.store import connect

N_CUSTOMERS = 4_000
TABLES = ("customers", "transactions", "subscriptions", "responses", "churn_events")
STEPS = ["nps", "drivers", "cem", "csi", "experience value", "loyalty"]


@pytest.fixture(scope="module")
def data():
    return demo.generate(N_CUSTOMERS, seed=1)


@pytest.fixture(scope="module")
def store(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("voice")
    path = folder / "store.duckdb"
    con = connect(path)
    for name in TABLES:
        con.create_table(name, data[name])
    con.disconnect()
    return path


def block(view: dict, id: str) -> dict:
    found = [b for b in view["blocks"] if b["id"] == id]
    assert found, (id, [b["id"] for b in view["blocks"]])
    return found[0]


def kpis(b: dict) -> dict:
    assert b["kind"] == "kpis"
    return {k["key"]: k["value"] for k in b["items"]}


def ids(view: dict) -> list[str]:
    return [b["id"] for b in view["blocks"]]


# --------------------------------------------------------------------------- steps, views and report
@pytest.fixture(scope="module")
def ran(data):
    from cxvalue.interfaces.session import open_session
    from cxvalue.steps import run_steps
    con = connect("duckdb://")
    for name in TABLES:
        con.create_table(name, data[name])
    sess = open_session(con=con)
    outcomes = run_steps(sess, only=STEPS)
    sess.refresh()
    return con, sess, outcomes


def test_steps_write_the_result_tables(ran):
    con, _, outcomes = ran
    assert [o.step for o in outcomes] == STEPS
    assert all(o.status == "ok" for o in outcomes), [(o.step, o.reason) for o in outcomes]
    res = {o.step: o.summary for o in outcomes}
    assert res["drivers"]["top"] == "experience_convenience"
    assert res["cem"] == {"key": "convenience", "requirement": "convenience"}
    assert res["csi"]["model"] == "contract"
    warned = {o.step: {w["category"] for w in o.warnings} for o in outcomes}
    assert "SmallSampleWarning" in warned["nps"]      # the first months have few answers
    expected = {
        "nps_summary": {"method", "nps", "ci_low", "ci_high", "n"},
        "nps_trend": {"freq", "period", "nps", "ci_low", "ci_high", "nps_change", "p_value_change"},
        "nps_segments": {"by", "segment", "nps", "ci_low", "ci_high", "small_sample", "p_value_vs_rest"},
        "driver_importance": {"method", "driver", "share", "share_ci_low", "share_ci_high", "rank", "performance",
                              "quadrant", "outcome", "importance_cut", "performance_cut"},
        "driver_summary": {"parameter", "estimate"},
        "cem_gaps": {"dimension", "experience", "expectation", "satisfaction", "key_experience", "gap",
                     "requirement_rank"},
        "cem_compare": {"before_wave", "after_wave", "dimension", "measure", "before", "after", "change", "p_value"},
        "csi_scores": {"model", "lv", "segment", "index", "r_squared", "gof"},
        "csi_paths": {"relationship", "from", "to", "estimate", "ci_low", "ci_high"},
        "csi_model": {"model", "lv", "item", "weight", "loading", "label_en", "label_zh"},
        "loyalty_channel": {"channel", "customers", "repeat_rate", "ci_low", "ci_high"},
        "loyalty_product": {"product", "repeat_rate"},
        "loyalty_service": {"group", "retention_rate", "spend_per_purchase", "churn_rate"},
        "loyalty_segments": {"customer_id", "segment", "behavioural_high", "attitudinal_high"},
        "loyalty_segment_summary": {"segment", "customers", "share", "cut_repeats_per_year", "cut_attitude_min"},
        "loyalty_incentive": {"by", "group", "incentive_share", "incentive_share_first"},
        "experience_value": {"segment", "group", "metric", "estimate", "ci_low", "ci_high", "n", "measure"},
        "experience_value_comparison": {"metric", "kind", "estimate", "ci_low", "ci_high", "high", "low", "as_of"},
        "experience_roi": {"kind", "item", "coefficient", "mean_gap", "nps_change", "value", "value_base", "rank",
                           "value_source", "ci_low_base", "ci_high_base"},
    }
    tables = set(con.list_tables())
    for name, cols in expected.items():
        assert name in tables, name
        assert cols <= set(con.table(name).columns), (name, cols - set(con.table(name).columns))
    assert set(con.table("nps_segments").to_pandas()["by"]) >= {"touchpoint", "channel", "value_tier", "wave"}


def test_views_on_the_store(ran):
    from cxvalue.interfaces.views import build_view
    con, sess, _ = ran
    voice = build_view("voice", sess).to_dict()
    assert voice["id"] == "voice" and voice["as_of"] == str(sess.as_of)
    summary = con.table("nps_summary").to_pandas().set_index("method")
    k = kpis(block(voice, "nps"))
    assert k["nps"] == pytest.approx(summary.loc["wald", "nps"]) and isinstance(k["nps"], float)
    assert k["n"] == summary.loc["wald", "n"] and k["ci_low"] < k["nps"] < k["ci_high"]
    assert [r["method"] for r in block(voice, "nps-methods")["rows"]] == ["wald", "adjusted_wald"]
    for id in ("nps-intro", "nps-trend", "nps-trend-table", "nps-by-touchpoint", "nps-by-value_tier-table",
               "nps-by-wave", "nps-by-channel-table"):
        assert id in ids(voice)
    trend = block(voice, "nps-trend")
    assert trend["chart"] == "line" and trend["data"]["x"][0] == "2023-01"          # months: more than three
    assert len(trend["data"]["bands"]["NPS"][0]) == len(trend["data"]["x"])
    cats = {w["category"] for w in trend["warnings"]}
    assert "SmallSampleWarning" in cats                                               # the step's warning
    tiers = block(voice, "nps-by-value_tier")
    assert tiers["data"]["labels"] == ["High value (top 20%)", "Medium value (next 30%)", "Low value (bottom 50%)"]
    assert all(lo <= v <= hi for v, lo, hi in zip(tiers["data"]["values"], tiers["data"]["lows"],
                                                   tiers["data"]["highs"]))
    product = block(voice, "nps-by-product-table")
    assert len(product["rows"]) == 12 and product["note"]                             # the 12 largest of many
    per = build_view("perception", sess).to_dict()
    for id in ("drivers", "ipa", "drivers-table", "cem", "cem-key-experience", "cem-compare", "csi", "csi-paths",
               "csi-items", "experience-value", "ev-sentence", "ev-spend", "experience-roi-table"):
        assert id in ids(per)
    assert block(per, "ipa")["chart"] == "quadrant"
    top = min(block(per, "drivers-table")["rows"], key=lambda r: r["rank"])
    assert top["driver"] == "experience_convenience" and 0 < top["share"] < 1
    assert kpis(block(per, "cem"))["key_dimension"] == "Convenience"
    loy = build_view("loyalty", sess).to_dict()
    for id in ("loyalty-summary", "loyalty-channel", "loyalty-product-table", "loyalty-service", "loyalty-segments",
               "loyalty-cutoffs", "loyalty-incentive", "loyalty-incentive-chart"):
        assert id in ids(loy)
    assert kpis(block(loy, "loyalty-summary"))["incentive_share"] == pytest.approx(
        con.table("loyalty_incentive").to_pandas().query("by == 'all'")["incentive_share"].iloc[0])


def test_report(ran, tmp_path):
    from cxvalue.interfaces.report.build import build_report
    from cxvalue.interfaces.session import open_session
    con, _, _ = ran
    for lang, words in (("en", ["Net Promoter Score", "Importance–performance quadrants", "Key experience",
                                "Path model with coefficients", "True loyalty", "Satisfied customers spent"]),
                        ("zh", ["净推荐值", "重要性–表现四象限", "关键体验", "路径模型及系数", "真正忠诚",
                                "满意客户在调查后"])):
        html = build_report(open_session(con=con, lang=lang), tmp_path / f"r.{lang}.html").read_text(encoding="utf-8")
        for w in words:
            assert w in html, (lang, w)
        for id in ("nps", "drivers", "cem", "csi", "experience-value", "loyalty"):
            assert html.count(f'id="{id}"') == 1, id          # the old sections' ids (loyalty: the view's), once each
        assert html.count("<svg") >= 12 and "<script src" not in html


# --------------------------------------------------------------------------- CLI (in-process, one after another)
@pytest.fixture(scope="module")
def cli(data, store, shared_data, tmp_path_factory):
    """Every command on the store and on a file; returns {name: result with returncode, stdout, stderr}."""
    d = tmp_path_factory.mktemp("cli")
    responses = data["responses"]
    responses.to_csv(d / "responses.csv", index=False)
    data["transactions"].to_csv(d / "transactions.csv", index=False)
    pd.DataFrame({"recommend": responses["nps"], "channel": responses["channel"]}).to_csv(d / "plain.csv", index=False)
    inv = shared_data / "invistico_airline" / "Invistico_Airline.csv"
    ecsi = shared_data / "ecsi_bank" / "satisfaction.csv"
    runs = {
        "nps_store": ["nps", "--by", "touchpoint,value_tier", "--trend", "Q", "--json"],
        "nps_file": ["nps", d / "responses.csv", "--by", "channel", "--compare", "app,web", "--json"],
        "nps_plain": ["nps", d / "plain.csv", "--score", "recommend", "--by", "channel", "--lang", "zh"],
        "nps_small": ["nps", d / "plain.csv", "--score", "recommend", "--by", "channel", "--min-n", "200", "--json"],
        "drivers_store": ["drivers", "--boot", "20", "--json"],
        "drivers_file": ["drivers", inv, "--outcome", "satisfaction", "--positive", "satisfied", "--na", "0",
                         "--method", "relative_weights", "--boot", "0", "--json"],
        "gaps_store": ["gaps", "--compare", "--json"],
        "gaps_file": ["gaps", d / "responses.csv", "--by", "touchpoint", "--json"],
        "csi_store": ["csi", "--json"],
        "csi_file": ["csi", ecsi, "--model", "ecsi", "--by", "gender", "--json"],
        "ev_store": ["experience-value", "--boot", "100", "--roi", "--json"],
        "ev_file": ["experience-value", d / "responses.csv", "--transactions", d / "transactions.csv", "--measure",
                    "nps", "--boot", "50", "--json"],
        "loyalty_store": ["loyalty", "--json"],
        "loyalty_asof_store": ["loyalty", "--what", "service", "--as-of", "2025-06-30", "--json"],
        "loyalty_file": ["loyalty", d / "transactions.csv", "--what", "incentive", "--by", "channel", "--json"],
        "error": ["drivers", inv, "--outcome", "nope"],
    }
    return {name: cx(*args, *(["--store", store] if name.endswith("_store") else []), cwd=d)
            for name, args in runs.items()}


def _json(res):
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_cli_nps(cli, data):
    from cxvalue.voice.nps import nps_difference, nps_score
    r = data["responses"]
    o = _json(cli["nps_store"])
    assert o["id"] == "voice" and o["meta"]["method"] == "wald" and o["as_of"]
    k = kpis(block(o, "nps"))
    assert k["nps"] == pytest.approx(nps_score(r["nps"]).nps) and k["n"] == int(r["nps"].notna().sum())
    assert {row["segment"] for row in block(o, "nps-by-value_tier-table")["rows"]} == {"high", "medium", "low"}
    assert [b for b in ids(o) if b.startswith("nps-by-")] == ["nps-by-touchpoint", "nps-by-touchpoint-table",
                                                               "nps-by-value_tier", "nps-by-value_tier-table"]
    trend = block(o, "nps-trend-table")["rows"]
    assert trend[0]["period"].startswith("2023Q") and all(row["freq"] == "Q" for row in trend)
    assert block(o, "nps-trend")["data"]["x"] == [row["period"] for row in trend]
    f = _json(cli["nps_file"])
    assert kpis(block(f, "nps"))["n"] == len(r) and f["as_of"] is None
    c = block(f, "nps-compare")["rows"][0]
    ref = nps_difference(r.loc[r.channel == "app", "nps"], r.loc[r.channel == "web", "nps"])
    assert (c["a"], c["b"], c["by"]) == ("app", "web", "channel")
    assert c["difference"] == pytest.approx(ref.difference) and 0 <= c["p_value"] <= 1
    assert c["p_value"] == pytest.approx(ref.p_value)
    text = cli["nps_plain"]           # a file without dates, read as it is; Chinese labels
    assert text.returncode == 0, text.stderr
    assert "净推荐值" in text.stdout and "按渠道的 NPS" in text.stdout
    assert f"{k['nps']:+.1f}" in text.stdout
    s = _json(cli["nps_small"])       # small segments: typed warning and a note on the breakdown's blocks
    tab = block(s, "nps-by-channel-table")
    small = [row for row in tab["rows"] if row["small_sample"]]
    assert small and all(row["n"] < 200 and row["label"].endswith("*") for row in small)
    msgs = [w["message"] for w in tab["warnings"] if w["category"] == "SmallSampleWarning"]
    assert any("min_n=200" in m for m in msgs) and any("fewer than 200 answers" in m for m in msgs)
    assert block(s, "nps-by-channel")["data"]["marks"] == [row["small_sample"] for row in tab["rows"]]


def test_cli_drivers(cli):
    s = _json(cli["drivers_store"])
    assert s["id"] == "perception" and ids(s)[:5] == ["drivers", "drivers-intro", "drivers-importance", "ipa",
                                                      "drivers-table"]
    rw = block(s, "drivers-table")["rows"]
    assert min(rw, key=lambda r: r["rank"])["driver"] == "experience_convenience"
    assert all(r["share_ci_low"] <= r["share"] <= r["share_ci_high"] for r in rw)
    assert all(r["shapley_share"] is not None for r in rw)               # both methods
    chart = block(s, "drivers-importance")["data"]
    assert chart["values"] == [r["share"] for r in rw]
    f = _json(cli["drivers_file"])
    rows = block(f, "drivers-table")["rows"]
    assert len(rows) == 14 and "Age" not in {r["driver"] for r in rows}
    k = kpis(block(f, "drivers"))
    assert k["r_squared"] == pytest.approx(0.50010, abs=1e-5) and k["n_used"] == 119_611   # docs/perception.md
    assert k["n_drivers"] == 14 and k["outcome"] == "satisfaction"
    top = min(rows, key=lambda r: r["rank"])
    assert top["driver"] == "Inflight entertainment" and top["quadrant"] == "keep_up"
    ipa = block(f, "ipa")["data"]
    assert ipa["x_cut"] == pytest.approx(sum(r["performance"] for r in rows) / 14)
    e = cli["error"]
    assert e.returncode == 1 and "Traceback" not in e.stderr
    assert e.stderr.strip().startswith("error: --outcome 'nope' is not a column of the survey data")
    assert len(e.stderr.strip().splitlines()) == 1


def test_cli_gaps_and_csi(cli):
    g = _json(cli["gaps_store"])
    gaps = block(g, "cem-table")["rows"]
    assert all(r["segment"] == "all" for r in gaps)
    assert min(gaps, key=lambda r: r["key_rank"])["dimension"] == "convenience"
    assert kpis(block(g, "cem"))["key_dimension"] == "Convenience"
    conv = [r for r in block(g, "cem-compare")["rows"] if r["dimension"] == "convenience" and
            r["measure"] == "experience"][0]
    assert (conv["before_wave"], conv["after_wave"]) == ("2025H1", "2025H2") and conv["change"] > 0.2  # planted +0.5
    gf = _json(cli["gaps_file"])
    assert {"cem-table", "cem-app-table", "cem-call_centre-table"} <= set(ids(gf))
    assert {r["segment"] for r in block(gf, "cem-app-table")["rows"]} == {"app"}
    assert "cem-compare" not in ids(gf)                                    # not asked for
    c = _json(cli["csi_file"])
    paths = {r["relationship"]: r["estimate"] for r in block(c, "csi-paths-table")["rows"]}
    assert paths["IMAG -> EXPE"] == pytest.approx(0.5790, abs=5e-5) and paths["SAT -> LOY"] == pytest.approx(0.4955, abs=5e-5)
    assert {r["segment"] for r in block(c, "csi-segments-table")["rows"]} == {"female", "male"}
    assert {r["segment"] for r in block(c, "csi-scores")["rows"]} == {"all"}
    edges = block(c, "csi-paths")["data"]["edges"]
    assert ["IMAG", "EXPE", pytest.approx(0.5790, abs=5e-5)] in edges
    cs = _json(cli["csi_store"])
    assert kpis(block(cs, "csi"))["model"] == "contract"
    assert [r["item"] for r in block(cs, "csi-items")["rows"] if r["lv"] == "SAT"] == ["satisfaction"]


def test_cli_experience_value_and_loyalty(cli):
    e = _json(cli["ev_store"])
    assert block(e, "ev-sentence")["text"].startswith("Satisfied customers spent +")
    sp = [r for r in block(e, "ev-relative")["rows"] if r["metric"] == "spend"][0]
    assert sp["estimate"] > 0.3 and sp["ci_low"] < sp["estimate"] < sp["ci_high"]
    assert kpis(block(e, "experience-value"))["spend_uplift"] == pytest.approx(sp["estimate"])
    drv = sorted([r for r in block(e, "experience-roi-table")["rows"] if r["kind"] == "driver"], key=lambda r: r["rank"])
    assert drv[0]["item"] == "experience_convenience"
    assert block(e, "experience-roi-chart")["data"]["values"] == [r["value_base"] for r in drv]
    f = _json(cli["ev_file"])
    assert f["meta"]["measure"] == "nps" and block(f, "ev-sentence")["text"].startswith("Promoter customers spent")
    lo = _json(cli["loyalty_store"])
    assert lo["id"] == "loyalty"
    assert {"loyalty-summary", "loyalty-channel", "loyalty-product", "loyalty-service", "loyalty-segments",
            "loyalty-incentive"} <= set(ids(lo))
    seg = block(lo, "loyalty-segments-table")["rows"]
    assert [r["segment"] for r in seg] == ["true", "spurious", "latent", "none"]
    assert seg[0]["cut_attitude_min"] == 9.0 and sum(r["share"] for r in seg) == pytest.approx(1.0)
    assert len(block(lo, "loyalty-product-table")["rows"]) > 10          # the command lists every product
    # the analysis date moves the retention window of C3 and is stated in the output
    la = _json(cli["loyalty_asof_store"])
    assert la["as_of"] == "2025-06-30" and lo["as_of"] != "2025-06-30"
    rates = [r["retention_rate"] for r in block(la, "loyalty-service")["rows"]]
    assert rates != [r["retention_rate"] for r in block(lo, "loyalty-service")["rows"]]
    lf = _json(cli["loyalty_file"])
    inc = block(lf, "loyalty-incentive-table")["rows"]
    assert {r["group"] for r in inc if r["by"] == "channel"} == set(demo.CHANNELS)
    assert [r["group"] for r in inc if r["by"] == "all"] == ["all"]
    assert set(block(lf, "loyalty-incentive-chart")["data"]["labels"]) == set(demo.CHANNELS)
    assert "loyalty-channel" not in ids(lf)                              # --what incentive only
