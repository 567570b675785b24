"""The step "text" on a store built from the demo company, its view in both languages, and the
`cxvalue text` commands on flat files (score, evaluate, themes, --out)."""
from __future__ import annotations

import json

import ibis
import pandas as pd
import pytest

from cli_runner import cx

from cxvalue.datasets._demo_bank import NEG, POS
from cxvalue.datasets.demo import generate


@pytest.fixture(scope="module")
def demo():
    return generate(4000, seed=3)


@pytest.fixture(scope="module")
def store(demo, tmp_path_factory):
    from cxvalue.interfaces.session import open_session
    from cxvalue.steps import run_steps
    path = tmp_path_factory.mktemp("text") / "s.duckdb"
    con = ibis.duckdb.connect(str(path))
    for name in ("responses", "complaints"):
        con.create_table(name, demo[name])
    out = {o.step: o for o in run_steps(open_session(con=con), only=["text"])}
    yield con, out["text"], path
    con.disconnect()


def test_every_comment_and_complaint_is_analysed(store, demo):
    con, outcome, _ = store
    assert outcome.status == "ok", outcome.reason
    ca = con.table("comment_analysis").to_pandas()
    n_comments = int(demo["responses"].comment.notna().sum())
    assert (ca.source == "response").sum() == n_comments and (ca.source == "complaint").sum() == len(demo["complaints"])
    assert set(ca.language) <= {"zh", "en", "none"} and ca.p_positive.between(0, 1).all()
    m = con.table("text_methods").to_pandas().set_index("language")
    assert set(m.method) <= {"weak", "fallback", "supervised"} and m.loc["zh", "method"] == "weak"
    # complaints get the root cause of their category (the lexicon's mapping)
    cp = ca[ca.source == "complaint"].merge(demo["complaints"][["complaint_id", "category"]],
                                            left_on="source_id", right_on="complaint_id")
    assert (cp.loc[cp.category == "delay", "root_cause"] == "delay").mean() > 0.9
    assert (cp.loc[cp.category == "refund", "root_cause"] == "billing").mean() > 0.9
    # the complaints' own categories train a classifier that suggests one for each complaint
    assert (cp.suggested_category == cp.category).mean() > 0.9
    d = con.table("theme_drivers").to_pandas()
    assert {"rating", "theme"} == set(d.kind) and d.loc[d.kind == "rating", "driver"].str.startswith("experience_").all()


def test_the_planted_pain_point_costs_most(store):
    con, _, _ = store
    s = con.table("theme_summary").to_pandas().sort_values("impact")
    top = s.iloc[0]
    assert top.theme == "schedule" and top.ci_high < 0            # convenience: too few flight times
    assert (s.impact <= 0).all()


def test_sentiment_follows_the_text_not_only_the_score(store, demo):
    """The demo plants 10% of comments whose text contradicts the score: sentiment is still right
    on most of them (it reads the text)."""
    con, _, _ = store
    ca = con.table("comment_analysis").to_pandas()
    neg = {p for d in NEG.values() for pair in d for p in pair}
    pos = {p for d in POS.values() for pair in d for p in pair}
    r = ca[ca.source == "response"].merge(demo["responses"][["response_id", "nps"]], left_on="source_id",
                                          right_on="response_id")
    truth = r.text.map(lambda s: "negative" if any(s.startswith(p) for p in neg)
                       else "positive" if any(s.startswith(p) for p in pos) else None)
    contra = ((r.nps <= 6) & (truth == "positive")) | ((r.nps >= 9) & (truth == "negative"))
    assert contra.mean() > 0.03
    assert (r.sentiment[contra] == truth[contra]).mean() > 0.5


def test_view_in_both_languages_and_masked_verbatims(store):
    con, _, path = store
    from cxvalue.interfaces.session import open_session
    from cxvalue.interfaces.views import build_view
    from cxvalue.interfaces.views.customers import mask
    for lang, word in (("en", "Flight times"), ("zh", "航班时刻")):
        v = build_view("text", open_session(con=con, lang=lang))
        ids = [b.id for b in v.blocks]
        assert ids == ["text-kpis", "text-methods", "text-theme-impact", "text-themes", "text-verbatims",
                       "text-drivers", "text-trend"]
        assert word in v.block("text-themes").rows[0]["label"]
    v.block("text-verbatims").rows[0]["verbatim"] = "call me at 13912345678 or a@b.com"
    masked = mask(v)
    assert "13912345678" not in json.dumps(masked.to_dict(), ensure_ascii=False)


def test_cli_on_files(demo, tmp_path):
    r = demo["responses"].loc[demo["responses"].comment.notna(), ["response_id", "comment", "nps"]].head(1500)
    f = tmp_path / "comments.csv"
    r.to_csv(f, index=False)
    out = tmp_path / "scored.xlsx"
    res = cx("text", f, "--text", "comment", "--nps", "nps", "--id", "response_id", "--out", out, "--json")
    assert res.returncode == 0, res.stderr
    v = json.loads(res.stdout)
    assert v["id"] == "text" and v["meta"]["comments"] == len(r) and out.exists()
    back = pd.read_excel(out)
    assert {"response_id", "sentiment", "themes"} <= set(back.columns) and len(back) == len(r)
    assert cx("text", f, "--store", tmp_path / "x.duckdb").returncode != 0          # --text is required
    neg = {p for d in NEG.values() for pair in d for p in pair}
    lab = r.assign(label=r.comment.map(lambda s: "negative" if any(s.startswith(p) for p in neg) else "positive"))
    g = tmp_path / "labelled.csv"
    lab.to_csv(g, index=False)
    res = cx("text", "evaluate", g, "--text", "comment", "--label", "label", "--folds", "3", "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)["blocks"][0]["rows"]
    assert {"supervised", "fallback"} <= {x["method"] for x in rows}
    res = cx("text", "themes", g, "--text", "comment", "--k", "5", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["meta"]["k"] >= 5
