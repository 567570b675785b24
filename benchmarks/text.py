"""Throughput of the text step's pieces on mixed Chinese/English comments, next to the peers
measured in the same run: a jieba + TF-IDF + logistic-regression baseline and snownlp's own
sentiment scorer.

    .venv/bin/python benchmarks/text.py                  # 1,000,000 comments
    .venv/bin/python benchmarks/text.py --comments 100000 --snownlp 2000
    .venv/bin/python benchmarks/text.py --step --comments 1000000   # the whole step on a store

Comments are the demo company's (its phrase bank, 12% English), repeated with a counter so
that no two are equal. Goal (issue 12): >= 5,000 comments/s per method on 2 cores, memory
bounded. Prints comments/s per method and the ratio to the baseline.
"""
from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np


def comments(n: int, seed: int = 0):
    from cxvalue.datasets.demo import generate
    r = generate(20_000, seed=seed)["responses"]
    base = r.loc[r.comment.notna(), ["comment", "nps"]].reset_index(drop=True)
    idx = np.resize(np.arange(len(base)), n)
    texts = [f"{c} {i % 997}" if i >= len(base) else c for i, c in enumerate(base.comment.to_numpy()[idx])]
    return texts, base.nps.to_numpy()[idx].astype(float)


def build_store(path, n: int, seed: int = 0) -> dict:
    """A DuckDB store with ``n`` comments: the demo company's survey answers (with their ratings,
    touchpoints and NPS) and complaints (with their categories) repeated with a counter, 90% survey
    comments and 10% complaint texts. Reused when it exists with the same size."""
    import duckdb

    from cxvalue.datasets.demo import generate
    if path.exists():
        con = duckdb.connect(str(path), read_only=True)
        counts = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("responses", "complaints")}
        con.close()
        if counts["responses"] + counts["complaints"] == n:
            return counts
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    d = generate(20_000, seed=seed)
    r = d["responses"][d["responses"].comment.notna()].reset_index(drop=True)
    c = d["complaints"][d["complaints"].text.notna()].reset_index(drop=True)
    n_r, n_c = n - n // 10, n // 10
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    con.register("r0", r.assign(k=np.arange(len(r))))
    con.register("c0", c.assign(k=np.arange(len(c))))
    rest = ", ".join(f"r0.{x}" for x in r.columns if x not in ("response_id", "comment", "date", "k"))
    con.execute(f"""create table responses as select 'R' || lpad(i::varchar, 9, '0') as response_id,
        r0.date + to_days((i // {len(r)})::integer % 700) as date,
        case when i < {len(r)} then r0.comment else r0.comment || ' ' || (i // {len(r)})::varchar end as comment, {rest}
        from range({n_r}) t(i) join r0 on r0.k = i % {len(r)}""")
    rest = ", ".join(f"c0.{x}" for x in c.columns if x not in ("complaint_id", "text", "k"))
    con.execute(f"""create table complaints as select 'CP' || lpad(i::varchar, 9, '0') as complaint_id,
        case when i < {len(c)} then c0.text else c0.text || ' ' || (i // {len(c)})::varchar end as text, {rest}
        from range({n_c}) t(i) join c0 on c0.k = i % {len(c)}""")
    con.close()
    tmp.rename(path)          # a store only once it is complete
    return {"responses": n_r, "complaints": n_c}


def run_step(a) -> None:
    """The step "text" on a store of ``--comments`` comments, in a child process (`cxvalue run
    --only text`, with its progress bar): wall time, comments/s and the child's peak memory."""
    import subprocess
    import sys
    from pathlib import Path
    store = Path(a.dir) / f"text-{a.comments}.duckdb"
    t0 = time.perf_counter()
    counts = build_store(store, a.comments)
    print(f"store {store}: {counts['responses']:,} survey comments + {counts['complaints']:,} complaints "
          f"({time.perf_counter() - t0:.0f} s to build or check)", flush=True)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "cxvalue", "run", "--only", "text", "--store", str(store)])
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if r.returncode:
        raise SystemExit(f"cxvalue run --only text failed ({r.returncode})")
    print(f"step text: {a.comments:,} comments in {wall:.1f} s = {a.comments / wall:,.0f} comments/s "
          f"({'meets' if a.comments / wall >= 5000 else 'below'} the 5,000/s goal); peak memory {peak:,.0f} MB")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"comments": a.comments, "seconds": wall, "per_second": a.comments / wall, "peak_mb": peak}, f)


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--comments", type=int, default=1_000_000)
    ap.add_argument("--snownlp", type=int, default=2_000, help="comments scored by snownlp (it is slow)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--weak-all", action="store_true", help="also cross-fit weak supervision on every comment")
    ap.add_argument("--step", action="store_true", help="run the whole step on a store instead of its pieces")
    ap.add_argument("--dir", default=".bench", help="where the --step store is built (reused)")
    a = ap.parse_args()
    if a.step:
        return run_step(a)
    from threadpoolctl import threadpool_limits

    from cxvalue.text.language import detect_languages
    from cxvalue.text.sentiment import score_sentiment
    from cxvalue.text.themes import match_themes
    texts, nps = comments(a.comments)
    n = len(texts)
    res = {}
    with threadpool_limits(1):
        langs, s = timed(detect_languages, texts)
        res["language"] = n / s
        _, s = timed(match_themes, texts, languages=langs)
        res["themes"] = n / s
        _, s = timed(score_sentiment, texts, method="fallback")
        res["sentiment_fallback"] = n / s
        # weak supervision as the step does it: trained (cross-fitted) on a random sample of
        # text_train_comments comments, the others scored by the trained models
        from cxvalue.text.pipeline import TRAIN_COMMENTS
        from cxvalue.text.sentiment import score_with
        t0 = time.perf_counter()
        pick = np.random.default_rng(0).permutation(n)
        train, rest = np.sort(pick[:TRAIN_COMMENTS]), np.sort(pick[TRAIN_COMMENTS:])
        fit = score_sentiment([texts[i] for i in train], nps=nps[train], method="weak")
        score_with(fit, [texts[i] for i in rest])
        res["sentiment_weak"] = n / (time.perf_counter() - t0)
        if a.weak_all:
            _, s = timed(score_sentiment, texts, nps=nps, method="weak")
            res["sentiment_weak_cross_fitted_on_all"] = n / s
        # the peer: jieba words + TF-IDF + logistic regression on the same weak labels
        import jieba
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        jieba.setLogLevel(60)
        t0 = time.perf_counter()
        tok = [" ".join(jieba.lcut(x)) for x in texts]
        y = np.where(nps <= 6, 0, np.where(nps >= 9, 1, -1))
        X = TfidfVectorizer(token_pattern=r"(?u)\S+", min_df=2).fit_transform(tok)
        keep = y >= 0
        LogisticRegression(max_iter=1000).fit(X[keep], y[keep]).predict_proba(X)
        res["baseline_jieba_tfidf_lr"] = n / (time.perf_counter() - t0)
        from snownlp import SnowNLP
        zh = [x for x, lang in zip(texts, langs) if lang == "zh"][:a.snownlp]
        t0 = time.perf_counter()
        scored = [SnowNLP(x).sentiments for x in zh]
        assert len(scored) == len(zh)
        res["peer_snownlp"] = len(zh) / (time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base = res["baseline_jieba_tfidf_lr"]
    print(f"{n:,} comments; peak memory {peak:,.0f} MB")
    for k, v in res.items():
        print(f"  {k:28s} {v:12,.0f} comments/s   {v / base:6.2f} x baseline   "
              f"{'meets' if v >= 5000 else 'below'} the 5,000/s goal" if not k.startswith(("baseline", "peer"))
              else f"  {k:28s} {v:12,.0f} comments/s   {v / base:6.2f} x baseline")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"comments": n, "per_second": res, "peak_mb": peak}, f, indent=1)


if __name__ == "__main__":
    main()
