"""Themes, pain points and their NPS impact (concepts.md D6, D6+): the bilingual lexicon and its
YAML, matching, pain points and root causes, NMF themes from the data, the supervised reason
classifier, and the impact / trend / drivers / verbatims of cxvalue.text.impact — on the demo
company and on real tweets to US airlines (../shared/data/twitter_airline)."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from cxvalue.errors import CxValueError, NotFittedError
from cxvalue.estimator import SUMMARY_COLUMNS
from cxvalue.loop.taxonomy import DEFAULT as ROOT_CAUSES
from cxvalue.text.impact import theme_drivers, theme_impact, theme_trend, theme_verbatims
from cxvalue.text.themes import (
    DIMENSIONS, ThemeClassifier, discover_themes, lexicon_table, load_lexicon, match_themes, pain_points,
    suggest_root_cause, suggest_root_causes, theme_dimensions, topic_purity,
)

#: the twitter file's complaint reasons → the lexicon themes of that family
REASON_THEMES = {
    "Late Flight": ["delay"], "Cancelled Flight": ["cancellation"], "Lost Luggage": ["baggage"],
    "Damaged Luggage": ["baggage"], "Customer Service Issue": ["customer_service"],
    "Flight Attendant Complaints": ["staff"], "Flight Booking Problems": ["booking"], "longlines": ["queue"],
    "Bad Flight": ["seat", "food", "entertainment", "cabin", "safety"],
}
#: the demo's complaint categories → the lexicon theme whose root cause they should get
CATEGORY_THEME = {"delay": "delay", "baggage": "baggage", "service": "staff", "refund": "refund",
                  "booking": "booking", "points": "loyalty"}


def clean_tweets(text: pd.Series) -> pd.Series:
    """Undo the label leak of Tweets.csv: its text had every "cancel" replaced by "Cancelled Flight"
    and every "late" by "Late Flight", case-insensitively, inside words too ("Cancelled Flightled",
    "Late Flightr" = later, "pLate Flights" = plates) — the label's words planted in the tweet. The
    inverse replacement restores the tweet (lower-case)."""
    return text.str.replace("Cancelled Flight", "cancel", regex=False).str.replace("Late Flight", "late", regex=False)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def lex():
    return load_lexicon()


@pytest.fixture(scope="module")
def tweets(shared_data):
    d = pd.read_csv(shared_data / "twitter_airline" / "Tweets.csv")
    d["clean"] = clean_tweets(d["text"])
    return d


@pytest.fixture(scope="module")
def reasons(tweets):
    """The negative tweets with a labelled reason ("Can't Tell" is no reason)."""
    return tweets[tweets["negativereason"].notna() & (tweets["negativereason"] != "Can't Tell")].reset_index(drop=True)


@pytest.fixture(scope="module")
def tweet_themes(tweets):
    return match_themes(tweets["clean"], languages="en")


@pytest.fixture(scope="module")
def demo():
    from cxvalue.datasets.demo import generate
    return generate(20_000, seed=0)


@pytest.fixture(scope="module")
def demo_frame(demo, lex):
    """Responses with their theme and dimension columns and a comment sentiment: negative when the
    comment opens with one of the phrase bank's complaints (the sentiment model is tested elsewhere)."""
    from cxvalue.datasets._demo_bank import NEG
    r = demo["responses"].copy()
    neg = tuple(p for d in NEG.values() for pair in d for p in pair)
    r["sentiment"] = [None if not isinstance(c, str) else ("negative" if c.startswith(neg) else "positive")
                      for c in r["comment"]]
    r["p_positive"] = r["sentiment"].map({"negative": 0.1, "positive": 0.9})
    m = match_themes(r["comment"], lexicon=lex)
    dims = theme_dimensions(m, lex).add_prefix("dim_")
    return pd.concat([r, m.drop(columns="themes"), dims], axis=1), m


# --------------------------------------------------------------------------- the lexicon
def test_default_lexicon_covers_the_dimensions_and_pain_points(lex):
    tab = lexicon_table(lex)
    assert set(DIMENSIONS) <= set(tab["dimension"].dropna())
    assert {"delay", "baggage", "refund", "seat", "food", "booking", "staff", "price", "loyalty", "schedule",
            "brand", "cancellation", "customer_service", "queue"} <= set(lex)
    assert set(tab["root_cause"]) <= set(ROOT_CAUSES)
    assert (tab["terms_en"] >= 5).all() and (tab["terms_zh"] >= 5).all()
    assert tab["en"].str.len().gt(0).all() and tab["zh"].str.len().gt(0).all()
    assert tab["terms_en"].sum() > 600 and tab["terms_zh"].sum() > 400


def test_user_lexicon_extends_replaces_drops_and_orders(tmp_path, lex):
    p = tmp_path / "mine.yaml"
    p.write_text("""
themes:
  delay: {terms: {en: [tardy], zh: [晚飞]}}
  lounge:
    dimension: relationship
    root_cause: product
    en: Lounges
    zh: 贵宾室
    terms: {en: [lounge], zh: [休息室]}
drop: [brand]
order: [lounge]
""", encoding="utf-8")
    mine = load_lexicon(p)
    assert list(mine)[0] == "lounge" and "brand" not in mine and len(mine) == len(lex) - 1 + 1
    assert "tardy" in mine["delay"]["terms"]["en"] and "delay" in mine["delay"]["terms"]["en"]
    m = match_themes(["The flight was tardy", "贵宾室里的休息室很好"], lexicon=mine)
    assert m["themes"].tolist() == [["delay"], ["lounge", "loyalty"]]
    assert load_lexicon()["delay"]["terms"]["en"] == lex["delay"]["terms"]["en"]   # the default is untouched
    q = tmp_path / "only.yaml"
    q.write_text("replace: true\nthemes:\n  wifi: {dimension: product, root_cause: product, en: Wi-Fi, zh: 无线网,"
                 " terms: {en: [wifi], zh: [wifi]}}\n", encoding="utf-8")
    only = load_lexicon(q)
    assert list(only) == ["wifi"]
    assert match_themes(["no wifi", "No WIFI on board"], languages="en", lexicon=str(q))["wifi"].all()


@pytest.mark.parametrize("body, key", [
    ("themes:\n  delay: {root_cause: late}\n", "themes.delay.root_cause"),
    ("themes:\n  delay: {dimension: comfort}\n", "themes.delay.dimension"),
    ("themes:\n  wifi: {en: Wi-Fi, zh: 无线网, terms: {en: [wifi]}}\n", "themes.wifi.dimension"),
    ("themes:\n  delay: {terms: {fr: [retard]}}\n", "themes.delay.terms.fr"),
    ("themes:\n  delay: {terms: {en: ['']}}\n", "themes.delay.terms.en[0]"),
    ("themes:\n  Delay!: {root_cause: delay}\n", "themes.Delay!"),
    ("thems:\n  delay: {}\n", "thems"),
    ("drop: [nosuch]\n", "drop[0]"),
    ("themes: [1, 2\n", "not valid YAML"),
])
def test_lexicon_errors_name_the_file_and_the_key(tmp_path, body, key):
    p = tmp_path / "bad.yaml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(CxValueError) as e:
        load_lexicon(p)
    msg = str(e.value)
    assert str(p) in msg and key in msg and "\n" not in msg


# --------------------------------------------------------------------------- matching
def test_english_matching_inflections_and_word_boundaries():
    texts = ["Our flight was delayed", "Two delays today", "The flight got cancelled", "Cancellations again",
             "No replies to my emails", "Check-in took ages", "checkin was slow", "Not enough leg room",
             "hot chocolate please", "worst airline", "I was dealing with my kids", "Great deal!"]
    m = match_themes(texts, languages="en")
    assert m.loc[0:1, "delay"].all() and m.loc[2:3, "cancellation"].all()
    assert m.loc[4, "customer_service"] and m.loc[5:6, "queue"].all() and m.loc[7, "seat"]
    assert not m.loc[8, "delay"]               # "late" inside chocolate
    assert not m.loc[9, "queue"]               # "line" inside airline
    assert not m.loc[10, "price"] and m.loc[11, "price"]       # "deal=" has no inflections


def test_chinese_matching_languages_and_missing_texts(lex):
    s = pd.Series(["APP闪退，订票失败", "航班延误三个小时", None, "", "😀👍", float("nan"), "wifi太慢"],
                  index=list("abcdefg"))
    m = match_themes(s)
    assert list(m.index) == list("abcdefg") and list(m.columns) == [*lex, "themes"]
    assert m.loc["a", "booking"] and m.loc["b", "delay"] and m.loc["g", "entertainment"]
    assert m.loc[["c", "d", "e", "f"], "themes"].map(len).eq(0).all()
    assert all(m["themes"].map(lambda t: t == [c for c in lex if c in t]))          # lexicon order
    # the language decides the terms: an English text routed as Chinese meets only Chinese terms
    assert match_themes(["flight delayed"], languages=["zh"])["themes"].iloc[0] == []
    assert match_themes([], languages="en").shape == (0, len(lex) + 1)
    with pytest.raises(CxValueError, match="one string"):
        match_themes("flight delayed")
    with pytest.raises(CxValueError, match="one language per text"):
        match_themes(["a", "b"], languages=["en"])


def test_pain_points_and_root_causes(lex):
    texts = ["Flight delayed and my bag was lost", "Friendly crew, great food", "座椅太挤", "Nothing to say"]
    m = match_themes(texts)
    pp = pain_points(m, ["negative", "positive", "negative", "negative"])
    assert pp.tolist() == [["baggage", "delay"], [], ["seat"], []]
    assert pain_points(m, [True, False, True, True]).tolist() == pp.tolist()
    assert pain_points(m, [0.1, 0.9, 0.2, 0.3]).tolist() == pp.tolist()
    assert pain_points(m, pd.DataFrame({"p_positive": [0.1, 0.9, 0.2, 0.3]})).tolist() == pp.tolist()
    with pytest.raises(CxValueError, match="negative / neutral / positive"):
        pain_points(m, ["bad", "good", "bad", "bad"])
    # the first theme in LEXICON order decides (baggage comes before delay), whatever the order given
    assert suggest_root_cause(["delay", "baggage"]) == lex["baggage"]["root_cause"] == "process"
    assert suggest_root_cause(m.iloc[0]) == "process" and suggest_root_cause(m.iloc[0].drop("themes")) == "process"
    assert suggest_root_cause("空乘态度恶劣") == "staff_attitude"
    assert suggest_root_cause([]) is None and suggest_root_cause(None) is None
    assert suggest_root_causes(m).tolist() == ["process", "staff_attitude", "product", None]


def test_the_demo_phrase_bank_is_recognised_by_its_dimension(lex):
    from cxvalue.datasets._demo_bank import NEG, POS
    rows = [(d, t) for bank in (NEG, POS) for d, pairs in bank.items() for pair in pairs for t in pair]
    m = match_themes([t for _, t in rows], lexicon=lex)
    missed = [t for (d, t), themes in zip(rows, m["themes"]) if d not in {lex[c]["dimension"] for c in themes}]
    assert not missed, missed


def test_demo_complaints_get_the_root_cause_of_their_category(demo, lex):
    c = demo["complaints"]
    rc = suggest_root_causes(match_themes(c["text"], lexicon=lex), lex)
    expected = c["category"].map(lambda k: lex[CATEGORY_THEME[k]]["root_cause"])
    agree = float((rc == expected).mean())
    print(f"\ndemo complaints: suggested root cause = category's for {agree:.1%} of {len(c)}")
    assert agree >= 0.90


# --------------------------------------------------------------------------- impact on NPS (demo)
def test_demo_convenience_is_the_detractors_top_pain_point(demo_frame, lex):
    df, m = demo_frame
    det = (df["nps"] <= 6) & df["comment"].notna()
    pp = pain_points(m[det], df.loc[det, "sentiment"])
    counts = Counter(t for p in pp for t in p)
    top = counts.most_common(1)[0][0]
    assert lex[top]["dimension"] == "convenience"                         # flight times: "schedule"
    dims = Counter(lex[t]["dimension"] for p in pp for t in {*p})
    by_dim = Counter({d: int((theme_dimensions(m[det], lex)[d] & (df.loc[det, "sentiment"] == "negative")).sum())
                      for d in DIMENSIONS})
    assert by_dim.most_common(1)[0][0] == "convenience" and dims
    imp = theme_impact(df, theme_columns=[f"dim_{d}" for d in DIMENSIONS], n_boot=1000)
    first = imp.iloc[0]
    assert first["theme"] == "dim_convenience" and first["ci_high"] < 0 and first["ci_low"] < first["impact"]
    assert first["nps_mentioners"] < first["nps_others"] and first["gain"] == -first["impact"]
    # the impact by hand: NPS(all) − NPS(all without the detractors who mention convenience)
    cat = np.select([df["nps"] >= 9, df["nps"] <= 6], [1, -1], 0)
    drop = (df["nps"] <= 6) & df["dim_convenience"]
    by_hand = 100 * cat.mean() - 100 * cat[~drop.to_numpy()].mean()
    assert first["impact"] == pytest.approx(by_hand, abs=1e-9) and first["n"] == len(df)
    assert first["share"] == pytest.approx(df["dim_convenience"].sum() / df["comment"].notna().sum())
    assert first["negative_share"] > 0.9 and first["mean_sentiment"] < 0.2
    print("\n" + imp[["theme", "mentions", "share", "nps_mentioners", "nps_others", "impact", "ci_low",
                      "ci_high"]].round(2).to_string())


def test_theme_impact_per_theme_and_its_edge_cases(demo_frame, lex):
    df, _ = demo_frame
    imp = theme_impact(df, theme_columns=list(lex), n_boot=500)
    assert list(imp.columns[:12]) == ["theme", "mentions", "share", "detractor_mentions", "mean_sentiment",
                                      "negative_share", "nps_mentioners", "nps_others", "nps_all", "impact",
                                      "ci_low", "ci_high"]
    assert imp["impact"].is_monotonic_increasing and (imp["impact"] <= 0).all()
    assert lex[imp.iloc[0]["theme"]]["dimension"] == "convenience" and imp.iloc[0]["ci_high"] < 0
    none = imp[imp["mentions"] == 0]
    assert (none[["impact", "ci_low", "ci_high"]] == 0).all().all()
    again = theme_impact(df, theme_columns=list(lex), n_boot=500)
    pd.testing.assert_frame_equal(imp, again)                                   # seeded
    with pytest.raises(CxValueError, match="nosuch"):
        theme_impact(df, theme_columns=["nosuch"])
    with pytest.raises(CxValueError, match="must be bool"):
        theme_impact(df, theme_columns=["touchpoint"])


def test_theme_trend_drivers_and_verbatims(demo_frame, lex):
    df, _ = demo_frame
    tr = theme_trend(df, theme_columns=list(lex), freq="Q", by="touchpoint")
    assert list(tr.columns) == ["period", "touchpoint", "theme", "mentions", "share", "comments"]
    assert tr["period"].str.match(r"^\d{4}Q[1-4]$").all() and tr["share"].between(0, 1).all()
    total = tr[tr["theme"] == "schedule"]["mentions"].sum()
    assert total == int(df.loc[df["comment"].notna(), "schedule"].sum())
    table, model = theme_drivers(df, theme_columns=[f"dim_{d}" for d in DIMENSIONS])
    assert set(table["kind"]) == {"rating", "theme"}
    assert table["importance"].sum() == pytest.approx(model.r2_)
    assert table.loc[table["kind"] == "theme", "driver"].iloc[0] == "dim_convenience"    # strongest theme
    v = theme_verbatims(df, theme_columns=["schedule", "baggage"], n=3)
    assert v.groupby("theme").size().to_dict() == {"baggage": 3, "schedule": 3}
    assert set(v.columns) >= {"theme", "rank", "verbatim", "date", "p_positive"}
    assert (v["p_positive"] < 0.5).all()                                             # complaints first


# --------------------------------------------------------------------------- real tweets
def test_cleaning_the_tweets_removes_the_label_leak(tweets):
    assert tweets["text"].str.contains("Cancelled Flightled", regex=False).sum() > 400
    assert not tweets["clean"].str.contains("Cancelled Flight|Late Flight").any()
    assert tweets["clean"].str.contains("cancelled", case=False).sum() > 400


def test_lexicon_against_the_labelled_complaint_reasons(reasons, tweet_themes, tweets):
    m = tweet_themes[tweets["negativereason"].notna() & (tweets["negativereason"] != "Can't Tell")]
    m = m.reset_index(drop=True)
    rows = []
    families = {}
    for reason, themes in REASON_THEMES.items():
        families.setdefault(tuple(themes), []).append(reason)
    for themes, rs in families.items():
        hit = m[list(themes)].any(axis=1)
        y = reasons["negativereason"].isin(rs)
        rows.append({"reasons": " + ".join(rs), "themes": " + ".join(themes), "n": int(y.sum()),
                     "recall": float((hit & y).sum() / y.sum()), "precision": float((hit & y).sum() / hit.sum())})
    tab = pd.DataFrame(rows)
    print("\n" + tab.round(3).to_string())
    assert (tab["recall"] >= 0.5).all()
    assert (tab.set_index("themes").loc[["delay", "cancellation", "baggage", "customer_service"], "precision"]
            >= 0.5).all()
    found = np.zeros(len(m), bool)
    for reason, themes in REASON_THEMES.items():
        y = (reasons["negativereason"] == reason).to_numpy()
        found |= y & m[themes].any(axis=1).to_numpy()
    found = found.mean()
    assert found >= 0.6                        # the reason's family among the matched themes


def test_reason_classifier_on_the_labelled_tweets(reasons):
    cv = ThemeClassifier().cross_validate(reasons["clean"], reasons["negativereason"], cv=5, k=2)
    print(f"\nreason classifier, 5-fold: accuracy {cv['accuracy']:.3f} {cv['accuracy_ci']}, "
          f"top-2 {cv['top_k']:.3f}, n={cv['n']}, {len(cv['classes'])} classes")
    assert cv["accuracy"] >= 0.67 and cv["top_k"] >= 0.83
    assert cv["accuracy_ci"][0] < cv["accuracy"] < cv["accuracy_ci"][1]
    assert np.allclose(cv["proba"].sum(axis=1), 1.0)


def test_nmf_themes_against_the_labelled_reasons(reasons):
    res = discover_themes(reasons["clean"], k=9, languages="en")
    q = topic_purity(res.assignments["topic"], reasons["negativereason"])
    print(f"\nNMF k=9 vs the 9 reasons: purity {q['purity']:.3f} (majority {q['majority_share']:.3f}), "
          f"ARI {q['adjusted_rand']:.3f}, n={q['n']}\n" + res.topics[["topic", "label", "size"]].to_string())
    assert q["purity"] > q["majority_share"] and q["adjusted_rand"] > 0
    assert res.topics["label"].str.count(" / ").eq(2).all() and res.k == {"en": 9}
    assert res.topics["keywords"].map(len).eq(10).all()


def test_discover_themes_chooses_k_and_is_deterministic(demo):
    texts = demo["responses"]["comment"].dropna().iloc[:2000]
    a = discover_themes(texts, random_state=0)
    b = discover_themes(texts, k=a.k, random_state=0)          # the same final fits: seeded
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    assert set(a.k) == {"zh", "en"} and all(4 <= k <= 12 for k in a.k.values())
    sel = a.selection
    assert sel.groupby("language")["chosen"].sum().eq(1).all() and set(sel["k"]) == set(range(4, 13))
    assert a.assignments.index.equals(texts.index) and (a.assignments["topic"] >= 0).mean() > 0.9
    assert "NPMI" in a.criterion
    new = a.assign(["航班时刻太少", "Seats are too cramped"])
    assert (new["topic"] >= 0).all() and list(new["language"]) == ["zh", "en"]
    lexicon = a.to_lexicon()
    assert len(lexicon) == len(a.topics) and all(e["root_cause"] == "other" for e in lexicon.values())


# --------------------------------------------------------------------------- the classifier's contract
def test_theme_classifier_follows_the_estimator_contract(demo):
    c = demo["complaints"]
    est = ThemeClassifier(C=2.0)
    assert clone(est).get_params()["C"] == 2.0 and "C=2.0" in repr(est)
    with pytest.raises(NotFittedError):
        est.predict_proba(["x"])
    assert est.fit(c["text"], c["category"]) is est
    assert list(est.summary_.columns[:5]) == ["class", *SUMMARY_COLUMNS]
    assert est.summary_["estimate"].sum() == pytest.approx(1.0) and est.n_ == len(c)
    P = est.predict_proba(["行李丢失", "The refund never came"])
    assert P.shape == (2, 6) and np.allclose(P.sum(axis=1), 1)
    assert list(est.predict(["行李丢失", "The refund never came"])) == ["baggage", "refund"]
    top = est.top_k(["积分没有到账"], k=2)
    assert list(top.columns) == ["label_1", "p_1", "label_2", "p_2"] and top.loc[0, "label_1"] == "points"
    assert est.score(c["text"], c["category"]) == 1.0
    with pytest.raises(CxValueError, match="confidence"):
        ThemeClassifier(confidence=1.5).fit(c["text"], c["category"])
    with pytest.raises(CxValueError, match="2 different labels"):
        ThemeClassifier().fit(["a", "b"], ["x", "x"])
