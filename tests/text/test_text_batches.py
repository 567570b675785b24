"""The step "text" beyond its training sample (setting text_train_comments): every comment is
scored exactly once in bounded batches, with the same themes and nearly the same sentiment as a
run that trains on everything; its progress is reported; labelled comments (setting
text_labels) always train; a failure half-way leaves the previous result as it was."""
from __future__ import annotations

import ibis
import pandas as pd
import pytest

from cxvalue.datasets.demo import generate


@pytest.fixture(scope="module")
def demo():
    return generate(10_000, seed=5)


def _store(demo, path):
    con = ibis.duckdb.connect(str(path))
    for name in ("responses", "complaints"):
        con.create_table(name, demo[name])
    return con


def _run(con, progress=None, **settings):
    from cxvalue.config import load_settings
    from cxvalue.interfaces.session import Session
    from cxvalue.steps import run_steps
    st = load_settings({k: str(v) for k, v in settings.items()}, project_file="/nonexistent", environ={})
    out = run_steps(Session(st, con=con), only=["text"], progress=progress)
    return {o.step: o for o in out}["text"]


@pytest.fixture(scope="module")
def runs(demo, tmp_path_factory):
    """The same store analysed twice: training on every comment, and on a sample of 1,000."""
    folder = tmp_path_factory.mktemp("batches")
    full, part = _store(demo, folder / "full.duckdb"), _store(demo, folder / "part.duckdb")
    calls = []
    o_full = _run(full)
    with pytest.MonkeyPatch.context() as mp:
        from cxvalue.text import pipeline
        mp.setattr(pipeline, "BATCH_COMMENTS", 700)       # several batches
        o_part = _run(part, progress=lambda *a: calls.append(a), text_train_comments=1000)
    yield {"full": (full, o_full), "part": (part, o_part), "calls": calls}
    full.disconnect()
    part.disconnect()


def test_every_comment_is_scored_once(runs, demo):
    con, o = runs["part"]
    assert o.status == "ok", o.reason
    ca = con.table("comment_analysis").to_pandas()
    n = int(demo["responses"].comment.notna().sum()) + int(demo["complaints"].text.notna().sum())
    assert n > 3000 and len(ca) == n and not ca.duplicated(["source", "source_id"]).any()
    assert set(ca.loc[ca.source == "response", "source_id"]) == set(demo["responses"].loc[
        demo["responses"].comment.notna(), "response_id"])
    assert 700 < o.summary["trained_on"] < 1300 and o.summary["comments"] == n
    m = con.table("text_methods").to_pandas()
    assert m.notes.str.contains("random sample of").all() and m.comments.sum() == (ca.language != "none").sum()
    assert "_staging_comment_analysis" not in con.list_tables()


def test_same_themes_and_nearly_the_same_sentiment_as_training_on_everything(runs):
    a = runs["full"][0].table("comment_analysis").to_pandas().set_index(["source", "source_id"]).sort_index()
    b = runs["part"][0].table("comment_analysis").to_pandas().set_index(["source", "source_id"]).sort_index()
    assert a.index.equals(b.index)
    assert (a.themes.fillna("") == b.themes.fillna("")).all() and (a.language == b.language).all()
    assert (a.sentiment == b.sentiment).mean() > 0.9
    assert (a.root_cause.fillna("") == b.root_cause.fillna("")).all()
    assert (a.suggested_category.fillna("") == b.suggested_category.fillna("")).mean() > 0.9
    sa = runs["full"][0].table("theme_summary").to_pandas().set_index("theme")
    sb = runs["part"][0].table("theme_summary").to_pandas().set_index("theme")
    assert (sa.mentions == sb.mentions.reindex(sa.index)).all()        # mentions do not depend on the model
    assert sa.sort_values("impact").index[0] == sb.sort_values("impact").index[0]


def test_progress_is_reported_in_the_step(runs):
    inside = [a[3] for a in runs["calls"] if len(a) == 4]
    assert len(inside) >= 5 and all(d["unit"] == "comments" for d in inside)   # training, then the batches
    done = [d["done"] for d in inside]
    assert done == sorted(done) and done[0] == 0 and done[-1] == inside[-1]["total"]


def test_labelled_comments_always_train_and_decide(demo, tmp_path):
    con = _store(demo, tmp_path / "s.duckdb")
    r = demo["responses"]
    c = r[r.comment.notna()].copy()
    # label 150 negative and 150 positive comments by their text's tone (the demo's phrase bank)
    from cxvalue.datasets._demo_bank import NEG, POS
    neg = {p for d in NEG.values() for pair in d for p in pair}
    pos = {p for d in POS.values() for pair in d for p in pair}
    c["label"] = c.comment.map(lambda s: "negative" if any(s.startswith(p) for p in neg)
                               else "positive" if any(s.startswith(p) for p in pos) else None)
    lab = pd.concat([c[c.label == "negative"].head(150), c[c.label == "positive"].head(150)])
    lab[["response_id", "label"]].to_csv(tmp_path / "labels.csv", index=False)
    o = _run(con, text_train_comments=1000, text_labels=tmp_path / "labels.csv")
    assert o.status == "ok", o.reason
    m = con.table("text_methods").to_pandas().set_index("language")
    assert "best ROC-AUC on" in m.loc["zh", "notes"]            # the labels decided between the methods
    assert o.summary["trained_on"] >= 1000 - 300                 # the sample and the labelled comments
    # by text instead of id, and one-line errors
    lab[["comment", "label"]].rename(columns={"comment": "text"}).to_csv(tmp_path / "by_text.csv", index=False)
    assert _run(con, text_labels=tmp_path / "by_text.csv").status == "ok"
    pd.DataFrame({"response_id": ["R1"], "label": ["maybe"]}).to_csv(tmp_path / "bad.csv", index=False)
    o = _run(con, text_labels=tmp_path / "bad.csv")      # a clear reason, not a crash
    assert o.status == "skipped" and "bad.csv, row 2, column 'label'" in o.reason, o.reason
    pd.DataFrame({"id": ["R1"], "label": ["positive"]}).to_csv(tmp_path / "nokey.csv", index=False)
    o = _run(con, text_labels=tmp_path / "nokey.csv")
    assert o.status == "skipped" and "response_id, complaint_id, source_id or text" in o.reason, o.reason
    con.disconnect()


def test_a_failure_half_way_leaves_the_previous_result(demo, tmp_path, monkeypatch):
    from cxvalue.text import pipeline
    con = _store(demo, tmp_path / "s.duckdb")
    assert _run(con).status == "ok"
    before = con.table("comment_analysis").to_pandas()
    real, calls = pipeline.score_comments, []

    def failing(*a, **k):
        calls.append(1)
        if len(calls) == 1:          # the training sample is staged by then
            raise RuntimeError("disk full")
        return real(*a, **k)
    monkeypatch.setattr(pipeline, "score_comments", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        _run(con, text_train_comments=1000)
    pd.testing.assert_frame_equal(con.table("comment_analysis").to_pandas(), before)
    monkeypatch.setattr(pipeline, "score_comments", real)
    assert _run(con, text_train_comments=1000).status == "ok"
    assert "_staging_comment_analysis" not in con.list_tables() and con.table("comment_analysis").count().execute() \
        == len(before)
    con.disconnect()


def test_engine_aggregates_equal_the_pandas_functions(runs, demo):
    """theme_summary and theme_trend are aggregated in the engine; theme_impact / theme_trend on
    the same answers in pandas give the same numbers (intervals included: the same draws)."""
    from cxvalue.text.pipeline import theme_tables
    from cxvalue.text.themes import load_lexicon
    con = runs["full"][0]
    codes = list(load_lexicon())
    ca = con.table("comment_analysis").to_pandas()
    ca = ca[ca.source == "response"]
    r = demo["responses"]
    a = r[r.nps.notna()][["response_id", "nps", "date", "touchpoint"]].merge(
        ca[["source_id", "p_positive", "sentiment", "themes"]], left_on="response_id", right_on="source_id", how="left")
    a["commented"] = a.source_id.notna()
    for k in codes:
        a[k] = a.themes.fillna("").str.split(",").map(lambda t, k=k: k in t)
    want = theme_tables(a, codes, text_col="commented")
    got = con.table("theme_summary").to_pandas()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want["theme_summary"].reset_index(drop=True),
                                  check_dtype=False, atol=1e-9)
    gt = con.table("theme_trend").to_pandas().sort_values(["period", "touchpoint", "theme"]).reset_index(drop=True)
    wt = want["theme_trend"].sort_values(["period", "touchpoint", "theme"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(gt, wt, check_dtype=False, atol=1e-12)
