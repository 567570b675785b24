"""Throughput of the text step's pieces on mixed Chinese/English comments, next to the peers
measured in the same run: a jieba + TF-IDF + logistic-regression baseline and snownlp's own
sentiment scorer.

    .venv/bin/python benchmarks/text.py                  # 1,000,000 comments
    .venv/bin/python benchmarks/text.py --comments 100000 --snownlp 2000

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


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--comments", type=int, default=1_000_000)
    ap.add_argument("--snownlp", type=int, default=2_000, help="comments scored by snownlp (it is slow)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
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
        _, s = timed(score_sentiment, texts, nps=nps, method="weak")
        res["sentiment_weak"] = n / s
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
