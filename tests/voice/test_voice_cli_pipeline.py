"""Issue 4 interfaces: the pipeline's result tables, the report sections, and the CLI commands
nps / drivers / gaps / csi / experience-value / loyalty on the store and on files (subprocess)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import pandas as pd
import pytest

from cxvalue.datasets import demo
from cxvalue.store import connect

N_CUSTOMERS = 4_000
TABLES = ("customers", "transactions", "subscriptions", "responses", "churn_events")


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


# --------------------------------------------------------------------------- pipeline and report
def test_pipeline_tables_and_report(data, tmp_path):
    import cxvalue.pipeline as P
    from cxvalue.report import build_report
    con = connect("duckdb://")
    for name in TABLES:
        con.create_table(name, data[name])
    P._import_capabilities()
    mine = [(o, n, f) for o, n, f in P.ANALYSES if 40 <= o <= 59]
    assert [n for _, n, _ in mine] == ["nps", "drivers", "cem", "csi", "loyalty", "experience_value"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = {n: f(con, {"currency": "CNY"}) for _, n, f in mine}
    assert results["drivers"]["top"] == "experience_convenience"
    assert results["cem"] == {"key": "convenience", "requirement": "convenience"}
    assert results["csi"]["model"] == "contract"
    expected = {
        "nps_summary": {"method", "nps", "ci_low", "ci_high", "n"},
        "nps_trend": {"freq", "period", "nps", "ci_low", "ci_high", "nps_change", "p_value_change"},
        "nps_segments": {"by", "segment", "nps", "ci_low", "ci_high", "small_sample", "p_value_vs_rest"},
        "driver_importance": {"method", "driver", "share", "share_ci_low", "share_ci_high", "rank", "performance",
                              "quadrant", "outcome"},
        "driver_summary": {"parameter", "estimate"},
        "cem_gaps": {"dimension", "experience", "expectation", "satisfaction", "key_experience", "gap",
                     "requirement_rank"},
        "cem_compare": {"before_wave", "after_wave", "dimension", "measure", "before", "after", "change", "p_value"},
        "csi_scores": {"model", "lv", "segment", "index", "r_squared", "gof"},
        "csi_paths": {"relationship", "from", "to", "estimate", "ci_low", "ci_high"},
        "loyalty_channel": {"channel", "customers", "repeat_rate", "ci_low", "ci_high"},
        "loyalty_product": {"product", "repeat_rate"},
        "loyalty_service": {"group", "retention_rate", "spend_per_purchase", "churn_rate"},
        "loyalty_segments": {"customer_id", "segment", "behavioural_high", "attitudinal_high"},
        "loyalty_segment_summary": {"segment", "customers", "share", "cut_repeats_per_year", "cut_attitude_min"},
        "loyalty_incentive": {"by", "group", "incentive_share", "incentive_share_first"},
        "experience_value": {"segment", "group", "metric", "estimate", "ci_low", "ci_high", "n", "measure"},
        "experience_value_comparison": {"metric", "kind", "estimate", "ci_low", "ci_high", "high", "low", "as_of"},
        "experience_roi": {"kind", "item", "coefficient", "mean_gap", "nps_change", "value", "value_base", "rank",
                           "value_source"},
    }
    tables = set(con.list_tables())
    for name, cols in expected.items():
        assert name in tables, name
        assert cols <= set(con.table(name).columns), (name, cols - set(con.table(name).columns))
    assert set(con.table("nps_segments").to_pandas()["by"]) >= {"touchpoint", "channel", "value_tier", "wave"}
    for lang, words in (("en", ["Net Promoter Score", "Importance–performance quadrants", "Key experience",
                                "Path model with coefficients", "True loyalty", "Satisfied customers spent"]),
                        ("zh", ["净推荐值", "重要性–表现四象限", "关键体验", "路径模型及系数", "真正忠诚",
                                "满意客户在调查后"])):
        html = build_report(con, tmp_path / f"r.{lang}.html", lang=lang, settings={"currency": "CNY"}).read_text(
            encoding="utf-8")
        for w in words:
            assert w in html, (lang, w)
        assert html.count("<svg") >= 12 and "<script src" not in html


# --------------------------------------------------------------------------- CLI (subprocesses run in parallel)
def _env():
    return {"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp"}


@pytest.fixture(scope="module")
def cli(data, store, shared_data, tmp_path_factory):
    """Every command on the store and on a file, launched at once; returns {name: CompletedProcess-like}."""
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
        "loyalty_file": ["loyalty", d / "transactions.csv", "--what", "incentive", "--by", "channel", "--json"],
        "error": ["drivers", inv, "--outcome", "nope"],
    }
    procs = {}
    for name, args in runs.items():
        extra = []
        if name.endswith("_store"):
            copy = d / f"{name}.duckdb"
            shutil.copy(store, copy)        # one DuckDB file per process: a file has one writer at a time
            extra = ["--store", copy]
        procs[name] = subprocess.Popen([sys.executable, "-m", "cxvalue", *map(str, args), *map(str, extra)],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=d, env=_env())
    out = {}
    for name, p in procs.items():
        so, se = p.communicate(timeout=300)
        out[name] = subprocess.CompletedProcess(p.args, p.returncode, so, se)
    return out


def _json(res):
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_cli_nps(cli, data):
    from cxvalue.voice.nps import nps_score
    o = _json(cli["nps_store"])
    assert o["overall"]["nps"] == pytest.approx(nps_score(data["responses"]["nps"]).nps)
    assert {r["value_tier"] for r in o["by"]["value_tier"]} == {"high", "medium", "low"}
    assert o["trend"][0]["period"].startswith("2023Q")
    f = _json(cli["nps_file"])
    assert f["overall"]["n"] == len(data["responses"]) and f["compare"]["a"] == "app"
    assert 0 <= f["compare"]["p_value"] <= 1
    text = cli["nps_plain"]           # a file without dates, read as it is; Chinese labels
    assert text.returncode == 0, text.stderr
    assert "净推荐值" in text.stdout and "按渠道的 NPS" in text.stdout
    assert f"{o['overall']['nps']:+.1f}" in text.stdout


def test_cli_drivers(cli):
    s = _json(cli["drivers_store"])
    rw = [r for r in s["importance"] if r["method"] == "relative_weights" and r["segment"] == "all"]
    assert min(rw, key=lambda r: r["rank"])["driver"] == "experience_convenience"
    assert all(r["share_ci_low"] <= r["share"] <= r["share_ci_high"] for r in rw)
    f = _json(cli["drivers_file"])
    assert len(f["drivers"]) == 14 and "Age" not in f["drivers"]
    r2 = {r["parameter"]: r["estimate"] for r in f["summary"]}
    assert r2["r_squared"] == pytest.approx(0.50010, abs=1e-5) and r2["n_used"] == 119_611   # docs/perception.md
    top = min(f["importance"], key=lambda r: r["rank"])
    assert top["driver"] == "Inflight entertainment" and top["quadrant"] == "keep_up"
    e = cli["error"]
    assert e.returncode == 1 and "Traceback" not in e.stderr
    assert e.stderr.strip().startswith("error: --outcome 'nope' is not a column of the survey data")
    assert len(e.stderr.strip().splitlines()) == 1


def test_cli_gaps_and_csi(cli):
    g = _json(cli["gaps_store"])
    all_ = [r for r in g["gaps"] if r["segment"] == "all"]
    assert min(all_, key=lambda r: r["key_rank"])["dimension"] == "convenience"
    conv = [r for r in g["compare"] if r["dimension"] == "convenience" and r["measure"] == "experience"][0]
    assert (conv["before_wave"], conv["after_wave"]) == ("2025H1", "2025H2") and conv["change"] > 0.2  # planted +0.5
    gf = _json(cli["gaps_file"])
    assert {r["segment"] for r in gf["gaps"]} >= {"all", "app", "call_centre"}
    c = _json(cli["csi_file"])
    paths = {r["relationship"]: r["estimate"] for r in c["paths"]}
    assert paths["IMAG -> EXPE"] == pytest.approx(0.5790, abs=5e-5) and paths["SAT -> LOY"] == pytest.approx(0.4955, abs=5e-5)
    assert {r["segment"] for r in c["scores"]} == {"all", "female", "male"}
    cs = _json(cli["csi_store"])
    assert cs["model"] == "contract" and cs["blocks"]["SAT"] == ["satisfaction"]


def test_cli_experience_value_and_loyalty(cli):
    e = _json(cli["ev_store"])
    assert e["sentence"].startswith("Satisfied customers spent +")
    sp = [r for r in e["comparison"] if r["metric"] == "spend"][0]
    assert sp["estimate"] > 0.3 and sp["ci_low"] < sp["estimate"] < sp["ci_high"]
    drv = sorted([r for r in e["roi"] if r["kind"] == "driver"], key=lambda r: r["rank"])
    assert drv[0]["item"] == "experience_convenience"
    f = _json(cli["ev_file"])
    assert f["measure"] == "nps" and f["sentence"].startswith("Promoter customers spent")
    lo = _json(cli["loyalty_store"])
    assert set(lo) >= {"channel", "product", "service", "segments", "incentive", "cutoffs"}
    assert lo["cutoffs"]["attitude_min"] == 9.0
    lf = _json(cli["loyalty_file"])
    assert {r["group"] for r in lf["incentive"]} == set(demo.CHANNELS)
