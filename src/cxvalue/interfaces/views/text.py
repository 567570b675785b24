"""The customers' own words (D6): sentiment of comments and complaints, the themes and pain
points they name and what each costs in NPS, with example verbatims — from the step "text"
(tables ``comment_analysis``, ``theme_summary``, ``theme_trend``) or a file analysis."""
from __future__ import annotations

import pandas as pd

from ...store import has_table, read_result
from . import Chart, Column, Kpi, Kpis, Note, Table, View, label, segment_label, step_notes, view

VERBATIMS = 3          # example comments per pain point


def theme_label(lexicon: dict, code: str, lang: str) -> str:
    """The theme's label in ``lang`` from the lexicon (a discovered theme: its code)."""
    entry = lexicon.get(code) or {}
    return str(entry.get(lang) or entry.get("en") or code)


def _lexicon(session) -> dict:
    from ...text.themes import load_lexicon
    return load_lexicon(session.settings.get("text_themes"))


def text_view(session, frames: dict, *, notes=None, lexicon=None) -> View | None:
    """The view of ``frames`` (``comments``: the per-comment frame of
    :func:`cxvalue.text.pipeline.analyse_comments` or the table ``comment_analysis``;
    ``theme_summary``; optionally ``methods``, {language: method}). None without comments."""
    t, lang = session.t, session.lang
    c = frames.get("comments")
    if c is None or len(c) == 0:
        return None
    lex = lexicon if lexicon is not None else _lexicon(session)
    v = View("text", t("view_text"))
    langs = c["language"].value_counts()
    mt = frames.get("text_methods")
    v.blocks.append(Kpis("text-kpis", t("text_kpis"), warnings=list(notes or ()), items=[
        Kpi("comments", t("text_comments"), int(len(c)), "int"),
        Kpi("zh", t("text_lang_zh"), int(langs.get("zh", 0)), "int"),
        Kpi("en", t("text_lang_en"), int(langs.get("en", 0)), "int"),
        Kpi("negative_share", t("text_negative_share"), float((c["sentiment"] == "negative").mean()), "pct"),
        Kpi("themed_share", t("text_themed_share"), float(c["themes"].notna().mean()), "pct")]))
    if mt is not None and len(mt):
        v.blocks.append(Table("text-methods", t("text_methods"), columns=[
            Column("language", t("text_language")), Column("method", t("text_method")),
            Column("comments", t("text_comments"), "int"), Column("roc_auc", t("text_roc_auc_cv"), "float3")],
            rows=[{"language": t(f"text_lang_{r['language']}") if r["language"] in ("zh", "en") else r["language"],
                   "method": t(f"text_m_{r['method']}"), "comments": r["comments"], "roc_auc": r.get("roc_auc")}
                  for r in mt.to_dict("records")], note=t("text_methods_note")))
    methods = {} if mt is None else dict(zip(mt["language"], mt["method"]))
    s = frames.get("theme_summary")
    if s is not None and len(s):
        s = s[s["mentions"] > 0].sort_values("impact")   # the most costly pain point first (impact <= 0)
        labels = [theme_label(lex, x, lang) for x in s["theme"]]
        v.blocks.append(Chart("text-theme-impact", t("text_impact_chart"), chart="interval_bar", value_format="signed",
                              data={"labels": labels, "values": s["impact"].astype(float).tolist(),
                                    "lows": s["ci_low"].astype(float).tolist(),
                                    "highs": s["ci_high"].astype(float).tolist(),
                                    "ns": s["mentions"].astype(int).tolist()}))
        v.blocks.append(Table("text-themes", t("text_themes"), columns=[
            Column("label", t("text_theme")), Column("mentions", t("text_mentions"), "int"),
            Column("share", t("share"), "pct1"), Column("negative_share", t("text_negative_share"), "pct"),
            Column("mean_sentiment", t("text_mean_sentiment"), "float2"),
            Column("nps_mentioners", t("text_nps_mentioners"), "signed"),
            Column("nps_others", t("text_nps_others"), "signed"), Column("impact", t("text_impact"), "signed"),
            Column("ci_low", t("col_ci_low"), "signed"), Column("ci_high", t("col_ci_high"), "signed")],
            rows=[{**{k: r[k] for k in ("mentions", "share", "negative_share", "mean_sentiment", "nps_mentioners",
                                        "nps_others", "impact", "ci_low", "ci_high") if k in r}, "label": lab}
                  for r, lab in zip(s.to_dict("records"), labels)],
            note=t("text_impact_note")))
        v.blocks.append(_verbatims(t, c, list(s["theme"].head(5)), lex, lang))
    d = frames.get("theme_drivers")
    if d is not None and len(d):
        d = d.sort_values("importance", ascending=False)
        lab = [theme_label(lex, x, lang) + " ✱" if k == "theme" else label(t, "dim_" + x.replace("experience_", ""), x)
               for k, x in zip(d["kind"], d["driver"])]
        v.blocks.append(Chart("text-drivers", t("text_drivers"), chart="bar", value_format="pct1",
                              data={"labels": lab, "values": d["share"].astype(float).tolist()}))
    tr = frames.get("theme_trend")
    if tr is not None and len(tr) and s is not None and len(s):
        top = list(s["theme"].head(5))
        tt = tr[tr["theme"].isin(top)].groupby(["period", "theme"], as_index=False)["mentions"].sum()
        periods = sorted(tt["period"].unique())
        series = {theme_label(lex, k, lang): [int(tt[(tt.period == p_) & (tt.theme == k)]["mentions"].sum())
                                              for p_ in periods] for k in top}
        v.blocks.append(Chart("text-trend", t("text_trend"), chart="line", value_format="int",
                              data={"x": [str(p_) for p_ in periods], "series": series}))
    v.meta = {"comments": int(len(c)), "methods": methods,
              "method_notes": [] if mt is None else [n for n in mt["notes"].dropna()]}
    return v


def _verbatims(t, c: pd.DataFrame, themes: list[str], lex: dict, lang: str) -> Table:
    """Up to :data:`VERBATIMS` recent negative comments for each of the top pain points (the
    column ``verbatim`` is scrubbed for roles that may not see personal data)."""
    rows = []
    neg = c[(c["sentiment"] == "negative") & c["pain_points"].notna()]
    if "date" in neg:
        neg = neg.sort_values("date", ascending=False)
    for code in themes:
        hit = neg[neg["pain_points"].str.split(",").map(lambda xs, k=code: k in xs)]
        for r in hit.head(VERBATIMS).to_dict("records"):
            rows.append({"theme": theme_label(lex, code, lang), "verbatim": r.get("text"),
                         "touchpoint": segment_label(t, "touchpoint", r["touchpoint"])
                         if isinstance(r.get("touchpoint"), str) else None,
                         "date": str(r["date"])[:10] if r.get("date") is not None and not pd.isna(r["date"]) else None})
    return Table("text-verbatims", t("text_verbatims"), columns=[
        Column("theme", t("text_theme")), Column("verbatim", t("text_verbatim")),
        Column("touchpoint", t("by_touchpoint")), Column("date", t("web_date"), "date")], rows=rows)


@view("text", 41)
def build(session) -> View | None:
    con = session.con
    if not has_table(con, "comment_analysis"):
        return None
    frames = {"comments": read_result(con, "comment_analysis"),
              **{k: read_result(con, k) if has_table(con, k) else None
                 for k in ("theme_summary", "text_methods", "theme_drivers", "theme_trend")}}
    return text_view(session, frames, notes=[Note(n.category, n.message) for n in step_notes(session, "text")])
