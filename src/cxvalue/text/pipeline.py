"""The step "text" (D6): every survey comment and complaint text of the store — language,
sentiment, themes, pain points, and for complaints a suggested root cause — and what the themes
cost in NPS.

Tables: ``comment_analysis`` (one row per comment), ``theme_summary`` (per theme: mentions,
sentiment, NPS of those who mention it vs the others, the impact of its detractors on NPS with
an interval; survey comments) and ``theme_trend`` (mentions per quarter and touchpoint).
Sentiment: :func:`cxvalue.text.sentiment.score_sentiment` with the answers' NPS as weak labels
(setting ``text_sentiment``, default auto); themes: the lexicon of
:func:`cxvalue.text.themes.load_lexicon` (setting ``text_themes``).
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

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


def methods_table(comments: pd.DataFrame, sent) -> pd.DataFrame:
    """One row per language scored: method, comments, ROC-AUC of the method kept and its notes."""
    rows = []
    m = sent.metrics if len(sent.metrics) else pd.DataFrame(columns=["method", "language", "against", "roc_auc"])
    for lang, method in sorted(sent.methods.items()):
        hit = m[(m["language"] == lang) & (m["method"] == method)]
        rows.append({"language": lang, "method": method, "comments": int((comments["language"] == lang).sum()),
                     "roc_auc": float(hit["roc_auc"].iloc[0]) if len(hit) else float("nan"),
                     "against": str(hit["against"].iloc[0]) if len(hit) else None,
                     "notes": " ".join(n for n in sent.notes if str(n).startswith(f"{lang}:")) or None})
    return pd.DataFrame(rows, columns=["language", "method", "comments", "roc_auc", "against", "notes"])

COLUMNS = ("source", "source_id", "customer_id", "date", "touchpoint", "nps", "text", "category")


def store_comments(con) -> pd.DataFrame:
    """The comments of the store as one frame (:data:`COLUMNS`): the survey answers' non-empty
    ``comment`` and the complaints' ``text``."""
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
        return pd.DataFrame({k: pd.Series(dtype=object) for k in COLUMNS})
    t = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    return t.to_pandas()


def analyse_comments(df: pd.DataFrame, *, labels=None, method: str = "auto", lexicon=None,
                     random_state: int = 0) -> dict:
    """Sentiment, themes, pain points and root causes of ``df`` (:data:`COLUMNS`; ``nps`` may be
    missing; rows without text get no sentiment and no theme). Returns ``{"comments"`` (``df``
    with language, p_positive, sentiment, method, themes, pain_points, root_cause), ``"flags"``
    (one bool column per theme, aligned with ``comments``), ``"codes"`` (the theme codes),
    ``"sentiment"`` (the :class:`~cxvalue.text.sentiment.SentimentResult`, which states the
    method per language)}."""
    from .sentiment import score_sentiment
    from .themes import load_lexicon, match_themes, pain_points, suggest_root_causes
    lex = lexicon if isinstance(lexicon, dict) else load_lexicon(lexicon)
    texts = df["text"].astype(object).where(df["text"].notna(), None).tolist()
    nps = df["nps"] if "nps" in df and df["nps"].notna().any() else None
    sent = score_sentiment(texts, labels=labels, nps=nps, method=method, random_state=random_state)
    scores = sent.scores.reset_index(drop=True)
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
    return {"comments": out, "flags": themes[codes].reset_index(drop=True), "codes": codes, "sentiment": sent}


def theme_tables(answers: pd.DataFrame, codes: list[str]) -> dict:
    """``theme_summary`` (:func:`cxvalue.text.impact.theme_impact`) and ``theme_trend`` (per
    quarter and touchpoint) of ``answers``: one row per survey answer — with or without a
    comment — with ``nps``, ``text``, ``date``, ``touchpoint``, ``p_positive``, ``sentiment`` and
    the bool theme columns ``codes``."""
    from .impact import theme_impact, theme_trend
    a = answers[answers["nps"].notna()] if "nps" in answers else answers.iloc[0:0]
    if a.empty or not codes:
        return {"theme_summary": pd.DataFrame(), "theme_trend": pd.DataFrame()}
    summary = theme_impact(a, theme_columns=codes, nps_col="nps", sentiment_col="p_positive", text_col="text")
    trend = theme_trend(a, theme_columns=codes, date_col="date", freq="Q",
                        by="touchpoint" if a["touchpoint"].notna().any() else None, text_col="text") \
        if "date" in a and a["date"].notna().any() else pd.DataFrame()
    return {"theme_summary": summary, "theme_trend": trend}


def store_answers(con, comments: pd.DataFrame, flags: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Every survey answer of the store with an NPS, with its comment's sentiment and themes
    (answers without a comment: no theme)."""
    r = con.table("responses")
    if "nps" not in r.columns:
        return pd.DataFrame()
    sid = r.response_id.cast("string") if "response_id" in r.columns else \
        (r.customer_id.cast("string") + "@" + r.date.cast("string"))
    ratings = {c: r[c].cast("float64") for c in r.columns if c.startswith("experience_")}   # the key drivers
    a = r.filter(r.nps.notnull()).select(source_id=sid, nps=r.nps.cast("float64"), date=r.date.cast("timestamp"),
                                         touchpoint=r.touchpoint.cast("string") if "touchpoint" in r.columns
                                         else ibis.null("string"), **ratings).to_pandas()
    c = pd.concat([comments[["source", "source_id", "text", "p_positive", "sentiment"]], flags], axis=1)
    c = c[c["source"] == "response"].drop(columns="source")
    a = a.merge(c, on="source_id", how="left")
    for k in codes:
        a[k] = a[k].astype("boolean").fillna(False).astype(bool)
    return a


def theme_driver_table(answers: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The key driver analysis of NPS with the pain points beside the experience ratings
    (:func:`cxvalue.text.impact.theme_drivers`, relative weights); empty without ratings."""
    from .impact import theme_drivers
    if not any(c.startswith("experience_") for c in answers.columns) or not codes:
        return pd.DataFrame()
    table, _ = theme_drivers(answers[answers["nps"].notna()], theme_columns=codes, negative_only=True)
    return table[["kind", "driver", "importance", "share", "rank", "performance", "n"]]


def suggest_categories(comments: pd.DataFrame, category: pd.Series, *, min_per_class: int = 20,
                       random_state: int = 0) -> tuple[pd.Series, dict]:
    """Where complaints carry a ``category`` (a labelled reason), a supervised theme classifier
    (:class:`cxvalue.text.themes.ThemeClassifier`) trained on the categorised ones suggests one
    for every complaint; returns (suggested category per row of ``comments``, cross-validated
    accuracy and top-2). Categories with fewer than ``min_per_class`` complaints are left out."""
    from .themes import ThemeClassifier
    is_c = (comments["source"] == "complaint").to_numpy()
    y = pd.Series(category, index=comments.index).where(is_c)
    counts = y.value_counts()
    keep = counts[counts >= min_per_class].index
    train = y.isin(keep)
    if len(keep) < 2:
        return pd.Series(None, index=comments.index, dtype=object), {}
    clf = ThemeClassifier(random_state=random_state)
    cv = clf.cross_validate(comments.loc[train, "text"].tolist(), y[train].tolist(), cv=3, k=2)
    clf.fit(comments.loc[train, "text"].tolist(), y[train].tolist())
    out = pd.Series(None, index=comments.index, dtype=object)
    out[is_c] = clf.predict(comments.loc[is_c, "text"].tolist())
    return out, cv


def run_text(session) -> StepResult:
    df = store_comments(session.con)
    if df.empty:
        raise StepSkipped("no comments: needs responses with a comment column or complaints with a text column")
    res = analyse_comments(df, method=session.settings.get("text_sentiment", "auto"),
                           lexicon=session.settings.get("text_themes"))
    c = res["comments"]
    tables = {"comment_analysis": c[["source", "source_id", "customer_id", "date", "touchpoint", "language",
                                     "p_positive", "sentiment", "method", "themes", "pain_points", "root_cause",
                                     "text"]],
              "text_methods": methods_table(c, res["sentiment"])}
    if has_table(session.con, "responses"):
        answers = store_answers(session.con, c, res["flags"], res["codes"])
        tables.update({k: v for k, v in theme_tables(answers, res["codes"]).items() if len(v)})
        drivers = theme_driver_table(answers, res["codes"])
        if len(drivers):
            tables["theme_drivers"] = drivers
    summary_cv = {}
    if "category" in c and c["category"].notna().any():       # complaints with a labelled reason
        c["suggested_category"], cv = suggest_categories(c, c["category"])
        tables["comment_analysis"] = tables["comment_analysis"].assign(suggested_category=c["suggested_category"])
        if cv:
            summary_cv = {"category_accuracy": round(float(cv["accuracy"]), 3)} if "accuracy" in cv else {}
            tables["text_methods"] = tables["text_methods"].assign(category_accuracy=cv.get("accuracy"))
    methods = res["sentiment"].methods
    summary = {"comments": len(c), "negative_share": round(float((c.sentiment == "negative").mean()), 3),
               **{f"method_{k}": v for k, v in methods.items()}, **summary_cv}
    if "theme_summary" in tables:
        summary["top_pain_point"] = str(tables["theme_summary"].sort_values("impact").iloc[0]["theme"])
    return StepResult(tables=tables, summary=summary)


register(Step("text", run_text, needs=(("responses", "complaints"),),
              writes=("comment_analysis", "theme_summary", "theme_trend", "theme_drivers", "text_methods"),
              domain="text",
              doc="Sentiment, themes and pain points of comments and complaints; the themes' impact on NPS (D6)."))
