"""The step "text" (D6): every survey comment and complaint text of the store — language,
sentiment, themes, pain points, and for complaints a suggested root cause — and what the themes
cost in NPS.

Tables: ``comment_analysis`` (one row per comment), ``theme_summary`` (per theme: mentions,
sentiment, NPS of those who mention it vs the others, the impact of its detractors on NPS with
an interval; survey comments) and ``theme_trend`` (mentions per quarter and touchpoint).
Sentiment: :func:`cxvalue.text.sentiment.score_sentiment` with the answers' NPS as weak labels
(setting ``text_sentiment``, default auto; hand labels: setting ``text_labels``); themes: the
lexicon of :func:`cxvalue.text.themes.load_lexicon` (setting ``text_themes``).

Bounded memory at any size: the models train on a random sample of at most
``text_train_comments`` comments (:func:`training_sample`; plus every labelled one); the other
comments are read and scored in batches (:func:`batches`) and staged
(:class:`cxvalue.store.StagedResult`), which replaces ``comment_analysis`` at once when every
batch is done; the theme summary and trend are aggregated in the engine
(:func:`engine_theme_tables`) and the theme drivers fit on a sample of the same size
(:func:`driver_sample`). The step reports its progress in comments.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from ..errors import DataQualityWarning
from ..steps import Step, StepResult, StepSkipped, register
from ..store import declare, has_table

declare("comment_analysis", key=("source", "source_id"),
        columns=("customer_id", "date", "touchpoint", "language", "p_positive", "sentiment", "method", "themes",
                 "pain_points", "root_cause", "text"),
        doc="Per survey comment (source response) and complaint text (source complaint): language, sentiment "
            "(probability of positive, label, method), themes and pain points (comma-separated theme codes), the "
            "suggested root cause of a complaint, and the text.")
declare("theme_summary", key=("theme",),
        columns=("mentions", "share", "mean_sentiment", "negative_share", "nps_mentioners", "nps_others", "impact",
                 "ci_low", "ci_high", "gain", "n"),
        doc="Per theme of the survey comments: mentions, share, sentiment, NPS of mentioners vs the others, and the "
            "impact NPS(all) - NPS(without the theme's detractors) with its interval.")
declare("theme_trend", columns=("period", "touchpoint", "theme", "mentions", "share"),
        doc="Mentions of each theme per quarter and touchpoint (survey comments).")
declare("theme_drivers", key=("driver",), columns=("kind", "importance", "share", "rank", "performance", "n"),
        doc="The key driver analysis of NPS (relative weights) with the pain points as 0/1 drivers beside the "
            "experience ratings (survey answers with a comment).")
declare("text_methods", key=("language",), columns=("method", "comments", "roc_auc", "against", "notes"),
        doc="How the sentiment of each language's comments was scored: the method (supervised, weak, fallback), "
            "the comments, the method's cross-validated ROC-AUC (against the user's labels or the NPS weak labels) "
            "and why it was chosen.")


def methods_table(comments, sent, notes=()) -> pd.DataFrame:
    """One row per language scored: method, comments (``comments``: the scored frame, or
    language → count), ROC-AUC of the method kept and its notes (``notes``: more, every
    language)."""
    counts = comments if isinstance(comments, dict) else comments["language"].value_counts().to_dict()
    rows = []
    m = sent.metrics if len(sent.metrics) else pd.DataFrame(columns=["method", "language", "against", "roc_auc"])
    for lang, method in sorted(sent.methods.items()):
        hit = m[(m["language"] == lang) & (m["method"] == method)]
        rows.append({"language": lang, "method": method, "comments": int(counts.get(lang, 0)),
                     "roc_auc": float(hit["roc_auc"].iloc[0]) if len(hit) else float("nan"),
                     "against": str(hit["against"].iloc[0]) if len(hit) else None,
                     "notes": " ".join([*(n for n in sent.notes if str(n).startswith(f"{lang}:")), *notes]) or None})
    return pd.DataFrame(rows, columns=["language", "method", "comments", "roc_auc", "against", "notes"])

COLUMNS = ("source", "source_id", "customer_id", "date", "touchpoint", "nps", "text", "category")


def comments_expr(con):
    """The comments of the store as one engine expression (:data:`COLUMNS`): the survey answers'
    non-empty ``comment`` and the complaints' ``text``; None when the store has neither."""
    parts = []
    if has_table(con, "responses") and "comment" in con.table("responses").columns:
        r = con.table("responses")
        r = r.filter(r.comment.notnull() & (r.comment.strip().length() > 0))
        parts.append(r.select(
            source=ibis.literal("response"),
            source_id=r.response_id.cast("string") if "response_id" in r.columns else
            (r.customer_id.cast("string") + "@" + r.date.cast("string")),
            customer_id=r.customer_id.cast("string"), date=r.date.cast("timestamp"),
            touchpoint=r.touchpoint.cast("string") if "touchpoint" in r.columns else ibis.null("string"),
            nps=r.nps.cast("float64") if "nps" in r.columns else ibis.null("float64"),
            text=r.comment.cast("string"), category=ibis.null("string")))
    if has_table(con, "complaints") and "text" in con.table("complaints").columns:
        c = con.table("complaints")
        c = c.filter(c.text.notnull() & (c.text.strip().length() > 0))
        parts.append(c.select(
            source=ibis.literal("complaint"),
            source_id=c.complaint_id.cast("string") if "complaint_id" in c.columns else
            (c.customer_id.cast("string") + "@" + c.opened.cast("string")),
            customer_id=c.customer_id.cast("string"), date=c.opened.cast("timestamp"),
            touchpoint=ibis.null("string"), nps=ibis.null("float64"), text=c.text.cast("string"),
            category=c.category.cast("string") if "category" in c.columns else ibis.null("string")))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1])


def analyse_comments(df: pd.DataFrame, *, labels=None, method: str = "auto", lexicon=None,
                     random_state: int = 0) -> dict:
    """Sentiment, themes, pain points and root causes of ``df`` (:data:`COLUMNS`; ``nps`` may be
    missing; rows without text get no sentiment and no theme). Returns ``{"comments"`` (``df``
    with language, p_positive, sentiment, method, themes, pain_points, root_cause), ``"flags"``
    (one bool column per theme, aligned with ``comments``), ``"codes"`` (the theme codes),
    ``"sentiment"`` (the :class:`~cxvalue.text.sentiment.SentimentResult`, which states the
    method per language)}."""
    from .sentiment import score_sentiment
    from .themes import load_lexicon
    lex = lexicon if isinstance(lexicon, dict) else load_lexicon(lexicon)
    texts = df["text"].astype(object).where(df["text"].notna(), None).tolist()
    nps = df["nps"] if "nps" in df and df["nps"].notna().any() else None
    sent = score_sentiment(texts, labels=labels, nps=nps, method=method, random_state=random_state)
    return {**annotate(df, sent.scores, lex), "sentiment": sent}


def score_comments(df: pd.DataFrame, sentiment, lexicon) -> dict:
    """:func:`analyse_comments` of more comments with the sentiment models already fitted
    (``sentiment``: the :class:`~cxvalue.text.sentiment.SentimentResult` of an earlier
    :func:`analyse_comments`; ``lexicon``: a loaded lexicon): the step's batches beyond its
    training sample. Same keys, without ``"sentiment"``."""
    from .sentiment import score_with
    texts = df["text"].astype(object).where(df["text"].notna(), None).tolist()
    return annotate(df, score_with(sentiment, texts), lexicon)


def annotate(df: pd.DataFrame, scores: pd.DataFrame, lex: dict) -> dict:
    """``df`` with its sentiment ``scores`` (language, p_positive, sentiment, method), themes,
    pain points and, for complaints, the suggested root cause."""
    from .themes import match_themes, pain_points, suggest_root_causes
    texts = df["text"].astype(object).where(df["text"].notna(), None).tolist()
    scores = scores.reset_index(drop=True)
    themes = match_themes(texts, languages=scores["language"].to_numpy(), lexicon=lex)
    codes = [c for c in themes.columns if c != "themes"]
    pains = pain_points(themes, scores["sentiment"], lexicon=lex)
    out = df.reset_index(drop=True).copy()
    out = pd.concat([out, scores[["language", "p_positive", "sentiment", "method"]]], axis=1)
    out["themes"] = [",".join(t) if t else None for t in themes["themes"]]
    out["pain_points"] = [",".join(p) if p else None for p in pains]
    rc = suggest_root_causes(themes, lexicon=lex)
    out["root_cause"] = np.where((out["source"] == "complaint").to_numpy(), rc.to_numpy(), None) \
        if "source" in out else None
    return {"comments": out, "flags": themes[codes].reset_index(drop=True), "codes": codes}


def theme_tables(answers: pd.DataFrame, codes: list[str], *, text_col=None) -> dict:
    """``theme_summary`` (:func:`cxvalue.text.impact.theme_impact`) and ``theme_trend`` (per
    quarter and touchpoint) of ``answers``: one row per survey answer — with or without a
    comment — with ``nps``, ``date``, ``touchpoint``, ``p_positive``, ``sentiment``, the bool
    theme columns ``codes`` and the comment (``text_col``: its text, or a bool column "has a
    comment"; default ``comment`` or ``text``)."""
    from .impact import theme_impact, theme_trend
    a = answers[answers["nps"].notna()] if "nps" in answers else answers.iloc[0:0]
    if a.empty or not codes:
        return {"theme_summary": pd.DataFrame(), "theme_trend": pd.DataFrame()}
    summary = theme_impact(a, theme_columns=codes, nps_col="nps", sentiment_col="p_positive", text_col=text_col)
    trend = theme_trend(a, theme_columns=codes, date_col="date", freq="Q",
                        by="touchpoint" if a["touchpoint"].notna().any() else None, text_col=text_col) \
        if "date" in a and a["date"].notna().any() else pd.DataFrame()
    return {"theme_summary": summary, "theme_trend": trend}


def answers_expr(con, comments, codes: list[str]):
    """Engine expression of every survey answer with an NPS, joined to its scored comment
    (``comments``: a table like ``comment_analysis``): ``source_id``, ``nps``, ``date``,
    ``touchpoint``, the ``experience_*`` ratings, ``commented``, ``p_positive``, ``sentiment`` and
    one bool column per theme code (from the comment's ``themes``)."""
    from ..voice.nps import PASSIVE_MIN, PROMOTER_MIN
    r = con.table("responses")
    sid = r.response_id.cast("string") if "response_id" in r.columns else \
        (r.customer_id.cast("string") + "@" + r.date.cast("string"))
    ratings = {c: r[c].cast("float64") for c in r.columns if c.startswith("experience_")}
    a = r.filter(r.nps.notnull()).select(source_id=sid, nps=r.nps.cast("float64"), date=r.date.cast("timestamp"),
                                         touchpoint=r.touchpoint.cast("string") if "touchpoint" in r.columns
                                         else ibis.null("string"), **ratings)
    c = comments.filter(comments.source == "response")
    c = c.select(cid=c.source_id, p_positive=c.p_positive, sentiment=c.sentiment,
                 padded="," + c.themes.fill_null("") + ",")
    j = a.left_join(c, a.source_id == c.cid)
    commented = j.cid.notnull()
    return j.select(*a.columns, commented=commented, p_positive=j.p_positive, sentiment=j.sentiment,
                    category=ibis.cases((j.nps >= PROMOTER_MIN, "promoter"), (j.nps >= PASSIVE_MIN, "passive"),
                                        else_="detractor"),
                    **{k: commented & j.padded.contains(f",{k},") for k in codes})


def engine_theme_tables(answers, codes: list[str]) -> dict:
    """``theme_summary`` and ``theme_trend`` of :func:`theme_tables`, aggregated in the engine
    over any number of answers (``answers``: :func:`answers_expr`): the same numbers."""
    from .impact import impact_from_counts
    a = answers
    prom, pas, det = a.category == "promoter", a.category == "passive", a.category == "detractor"
    aggs = {"n_p": prom.sum(), "n_a": pas.sum(), "n_d": det.sum(), "n_c": a.commented.sum()}
    for j, k in enumerate(codes):
        m = a[k]
        aggs.update({f"k{j}": m.sum(), f"p{j}": (m & prom).sum(), f"a{j}": (m & pas).sum(), f"d{j}": (m & det).sum(),
                     f"s{j}": a.p_positive.mean(where=m), f"g{j}": (a.sentiment == "negative").mean(where=m)})
    t = a.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    if not (t["n_p"] or 0) + (t["n_a"] or 0) + (t["n_d"] or 0):
        return {"theme_summary": pd.DataFrame(), "theme_trend": pd.DataFrame()}
    nan = float("nan")
    counts = pd.DataFrame({
        "theme": codes, "mentions": [int(t[f"k{j}"] or 0) for j in range(len(codes))],
        "promoters": [int(t[f"p{j}"] or 0) for j in range(len(codes))],
        "passives": [int(t[f"a{j}"] or 0) for j in range(len(codes))],
        "detractors": [int(t[f"d{j}"] or 0) for j in range(len(codes))],
        "mean_sentiment": [nan if t[f"s{j}"] is None else float(t[f"s{j}"]) for j in range(len(codes))],
        "negative_share": [nan if t[f"g{j}"] is None else float(t[f"g{j}"]) for j in range(len(codes))]})
    summary = impact_from_counts(counts, promoters=t["n_p"], passives=t["n_a"], detractors=t["n_d"],
                                 commented=t["n_c"] or 0)
    # the trend: mentions per quarter and touchpoint, periods and segments with a comment
    d = a.filter(a.date.notnull())
    period = d.date.year().cast("string") + "Q" + d.date.quarter().cast("string")
    by = ["touchpoint"] if a.touchpoint.notnull().any().execute() else []
    g = d.mutate(period=period).group_by(["period", *by]).aggregate(
        comments=d.commented.sum(), **{f"m{j}": d[k].sum() for j, k in enumerate(codes)})
    g = g.filter(g.comments > 0).to_pandas()
    if g.empty:
        return {"theme_summary": summary, "theme_trend": pd.DataFrame()}
    long = g.melt(id_vars=["period", *by, "comments"], value_vars=[f"m{j}" for j in range(len(codes))],
                  var_name="theme", value_name="mentions")
    long["theme"] = long["theme"].map({f"m{j}": k for j, k in enumerate(codes)})
    long["share"] = long["mentions"] / long["comments"]
    long["theme"] = pd.Categorical(long["theme"], categories=codes)
    trend = long.sort_values(["period", *by, "theme"]).reset_index(drop=True)
    trend["theme"] = trend["theme"].astype(str)
    trend[["mentions", "comments"]] = trend[["mentions", "comments"]].astype("int64")
    return {"theme_summary": summary, "theme_trend": trend[["period", *by, "theme", "mentions", "share", "comments"]]}


def driver_sample(answers, cap: int) -> pd.DataFrame:
    """The commented answers of ``answers`` (:func:`answers_expr`) for the key driver analysis:
    all of them, or a random sample of about ``cap`` (a hash of the answer's id) when there are
    more — the driver shares of a sample that size differ from the full data's in the third
    decimal."""
    c = answers.filter(answers.commented)
    sample = hash_sample(c.source_id.hash(), int(c.count().execute()), cap)
    return (c if sample is None else c.filter(sample)).to_pandas()


def theme_driver_table(answers: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The key driver analysis of NPS with the pain points beside the experience ratings
    (:func:`cxvalue.text.impact.theme_drivers`, relative weights); empty without ratings."""
    from .impact import theme_drivers
    if not any(c.startswith("experience_") for c in answers.columns) or not codes:
        return pd.DataFrame()
    table, _ = theme_drivers(answers[answers["nps"].notna()], theme_columns=codes, negative_only=True)
    return table[["kind", "driver", "importance", "share", "rank", "performance", "n"]]


def category_classifier(comments: pd.DataFrame, *, min_per_class: int = 20, random_state: int = 0):
    """Where complaints carry a ``category`` (a labelled reason), a supervised theme classifier
    (:class:`cxvalue.text.themes.ThemeClassifier`) trained on the categorised ones, to suggest one
    for every complaint; returns (the fitted classifier, its cross-validated accuracy and top-2),
    or (None, {}) with fewer than two categories of ``min_per_class`` complaints (others are left
    out)."""
    from .themes import ThemeClassifier
    if "category" not in comments:
        return None, {}
    y = comments["category"].where((comments["source"] == "complaint").to_numpy())
    counts = y.value_counts()
    keep = counts[counts >= min_per_class].index
    train = y.isin(keep)
    if len(keep) < 2:
        return None, {}
    clf = ThemeClassifier(random_state=random_state)
    cv = clf.cross_validate(comments.loc[train, "text"].tolist(), y[train].tolist(), cv=3, k=2)
    clf.fit(comments.loc[train, "text"].tolist(), y[train].tolist())
    return clf, cv


def suggested_categories(clf, comments: pd.DataFrame) -> pd.Series:
    """The category ``clf`` (:func:`category_classifier`) suggests for each complaint of
    ``comments`` (None for survey comments)."""
    out = pd.Series(None, index=comments.index, dtype=object)
    is_c = (comments["source"] == "complaint").to_numpy()
    if clf is not None and is_c.any():
        out[is_c] = clf.predict(comments.loc[is_c, "text"].tolist())
    return out


LABEL_KEYS = ("source_id", "response_id", "complaint_id")


def read_labels(path) -> pd.DataFrame:
    """The labelled comments of the setting ``text_labels``: a CSV/Excel/Parquet file with a
    ``label`` column (negative / neutral / positive, neg / pos, 0/1 or -1/0/1; empty =
    unlabelled) and, to find each comment in the store, its ``response_id`` / ``complaint_id`` /
    ``source_id`` or else its ``text`` (or ``comment``), compared after trimming. Returns
    ``key`` ("source_id" or "text"), ``value``, ``label``; a one-line error names the file, row
    and what was expected."""
    from ..errors import CxValueError
    from ..voice.inputs import read_any
    from .sentiment import as_labels
    df = read_any(path)
    name = Path(str(path)).name
    cols = {str(c).strip().lower(): c for c in df.columns}
    if "label" not in cols:
        raise CxValueError(f"{name}: no column 'label' (the sentiment of each comment); columns: "
                           f"{', '.join(map(str, df.columns))}")
    key = next((k for k in (*LABEL_KEYS, "text", "comment") if k in cols), None)
    if key is None:
        raise CxValueError(f"{name}: expected a column response_id, complaint_id, source_id or text beside 'label' "
                           f"to find each labelled comment in the store; columns: {', '.join(map(str, df.columns))}")
    try:
        labels = as_labels(df[cols["label"]].tolist())
    except CxValueError as exc:
        bad = next(i for i, v in enumerate(df[cols["label"]].tolist()) if _bad_label(v))
        raise CxValueError(f"{name}, row {bad + 2}, column 'label': {exc}") from None
    value = df[cols[key]].astype("string").str.strip()
    out = pd.DataFrame({"key": "source_id" if key in LABEL_KEYS else "text", "value": value, "label": labels})
    return out[out["value"].notna() & out["label"].notna()].drop_duplicates("value", keep="last").reset_index(drop=True)


def _bad_label(v) -> bool:
    from ..errors import CxValueError
    from .sentiment import as_labels
    try:
        as_labels([v])
        return False
    except CxValueError:
        return True


def _labelled(expr, labels: pd.DataFrame):
    """The engine predicate "this comment is labelled" (by id or by text)."""
    col = expr.source_id if labels["key"].iloc[0] == "source_id" else expr.text.strip()
    return col.isin(labels["value"].tolist())


def match_labels(comments: pd.DataFrame, labels: pd.DataFrame | None) -> np.ndarray | None:
    """The label of each comment (None where unlabelled), from :func:`read_labels`."""
    if labels is None or labels.empty:
        return None
    by_id = labels["key"].iloc[0] == "source_id"
    keys = comments["source_id"].astype("string") if by_id else comments["text"].astype("string").str.strip()
    found = keys.map(dict(zip(labels["value"], labels["label"])))
    return found.astype(object).where(found.notna(), None).to_numpy()


TRAIN_COMMENTS = 200_000   # default of the setting text_train_comments
BATCH_COMMENTS = 50_000    # comments scored at a time beyond the training sample
STORED = ("source", "source_id", "customer_id", "date", "touchpoint", "language", "p_positive", "sentiment",
          "method", "themes", "pain_points", "root_cause", "text")
_DTYPES = {**{c: "string" for c in STORED if c not in ("date", "p_positive")}, "date": "datetime64[us]",
           "p_positive": "float64", "suggested_category": "string"}


def _hash(t):
    return (t.source + ":" + t.source_id).hash()


def hash_sample(key_hash, n: int, cap: int):
    """The engine predicate of a random sample of about ``cap`` of ``n`` rows, by a hash of their
    key (``key_hash``: an integer expression; the same rows on every run), or None when
    ``n <= cap``."""
    if n <= cap:
        return None
    return (key_hash % 1_000_000).abs() < max(1, int(1_000_000 * cap / n))


def training_sample(expr, n: int, cap: int):
    """:func:`hash_sample` of the comments of ``expr`` (by source and id)."""
    return hash_sample(_hash(expr), n, cap)


def batches(expr, n: int, size: int | None = None):
    """``expr`` in about ``n / size`` parts (pandas; default size :data:`BATCH_COMMENTS`), each
    read by its own query: a hash bucket."""
    k = max(1, -(-n // (size or BATCH_COMMENTS)))
    for j in range(k):
        yield expr.filter(((_hash(expr) // 1_000_000) % k).abs() == j).to_pandas()


def _stored(res: dict, clf) -> pd.DataFrame:
    c = res["comments"]
    out = c[list(STORED)]
    if clf is not None:
        out = out.assign(suggested_category=suggested_categories(clf, c))
    return out


def run_text(session) -> StepResult:
    from ..steps import report_progress
    from ..store import StagedResult
    from .themes import load_lexicon
    con, st = session.con, session.settings
    expr = comments_expr(con)
    n = int(expr.count().execute()) if expr is not None else 0
    if not n:
        raise StepSkipped("no comments: needs responses with a comment column or complaints with a text column")
    lex = load_lexicon(st.get("text_themes"))
    labels = read_labels(st["text_labels"]) if st.get("text_labels") else None
    cap = int(st.get("text_train_comments") or TRAIN_COMMENTS)
    sample = training_sample(expr, n, cap)
    if sample is not None and labels is not None and len(labels):
        sample = sample | _labelled(expr, labels)      # the labelled comments are always in the sample
    report_progress(session, 0, n, "comments")
    train = (expr if sample is None else expr.filter(sample)).to_pandas()
    y = match_labels(train, labels)
    if labels is not None and (y is None or not pd.notna(y).any()):
        warnings.warn(f"text_labels: none of the {len(labels):,} labelled comments of {st['text_labels']} matches a "
                      f"comment of the store (by {labels['key'].iloc[0] if len(labels) else 'id'})",
                      DataQualityWarning, stacklevel=2)
        y = None
    res = analyse_comments(train, labels=y, method=st.get("text_sentiment", "auto"), lexicon=lex)
    clf, cv = category_classifier(res["comments"])
    staged = StagedResult(con, "comment_analysis", dtypes=_DTYPES)
    staged.append(_stored(res, clf))
    languages = res["comments"]["language"].value_counts()
    negative = int((res["comments"]["sentiment"] == "negative").sum())
    done = len(train)
    report_progress(session, done, n, "comments")
    if sample is not None:
        for part in batches(expr.filter(~sample), n - done):
            r = score_comments(part, res["sentiment"], lex)
            staged.append(_stored(r, clf))
            languages = languages.add(r["comments"]["language"].value_counts(), fill_value=0)
            negative += int((r["comments"]["sentiment"] == "negative").sum())
            done += len(part)
            report_progress(session, done, n, "comments")
    notes = [] if sample is None else [
        f"Trained on a random sample of {len(train):,} of {n:,} comments (setting text_train_comments); the others "
        f"were scored by the trained models."]
    tables = {"comment_analysis": staged,
              "text_methods": methods_table({k: int(v) for k, v in languages.items()}, res["sentiment"], notes)}
    codes = res["codes"]
    if has_table(con, "responses") and "nps" in con.table("responses").columns:
        a = answers_expr(con, con.table(staged.staging), codes)      # aggregated in the engine
        tables.update({k: v for k, v in engine_theme_tables(a, codes).items() if len(v)})
        drivers = theme_driver_table(driver_sample(a, cap), codes)
        if len(drivers):
            tables["theme_drivers"] = drivers
    summary = {"comments": n, "negative_share": round(negative / n, 3),
               **{f"method_{k}": v for k, v in res["sentiment"].methods.items()}}
    if sample is not None:
        summary["trained_on"] = len(train)
    if cv and "accuracy" in cv:
        summary["category_accuracy"] = round(float(cv["accuracy"]), 3)
        tables["text_methods"] = tables["text_methods"].assign(category_accuracy=cv.get("accuracy"))
    if "theme_summary" in tables:
        summary["top_pain_point"] = str(tables["theme_summary"].sort_values("impact").iloc[0]["theme"])
    return StepResult(tables=tables, summary=summary)


register(Step("text", run_text, needs=(("responses", "complaints"),),
              writes=("comment_analysis", "theme_summary", "theme_trend", "theme_drivers", "text_methods"),
              domain="text",
              doc="Sentiment, themes and pain points of comments and complaints; the themes' impact on NPS (D6)."))
