"""``cxvalue text``: sentiment, themes and pain points of comments (D6) — on a flat file, or
on the store (the step "text"); ``cxvalue text evaluate`` compares the sentiment methods on a
labelled file; ``cxvalue text themes`` discovers themes in a file's comments."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session

MODES = ("evaluate", "themes")


@app.command("text")
def text_command(
    first: Optional[str] = typer.Argument(None, help="FILE to score, or `evaluate FILE` / `themes FILE`; "
                                          "nothing: the store's comments and complaints (step \"text\")."),
    second: Optional[Path] = typer.Argument(None, help="The file of `evaluate` / `themes`."),
    text_col: Optional[str] = typer.Option(None, "--text", help="Column with the comment text (required on a file)."),
    label_col: Optional[str] = typer.Option(None, "--label", help="Column with sentiment labels (positive/negative/"
                                            "neutral, 1/0): supervised sentiment; required by `evaluate`."),
    nps_col: Optional[str] = typer.Option(None, "--nps", help="Column with the 0-10 answer of each comment: weak "
                                          "labels (0-6 negative, 9-10 positive)."),
    id_col: Optional[str] = typer.Option(None, "--id", help="Identifier column kept in the output."),
    method: str = typer.Option("auto", "--method", help="auto, supervised, weak or fallback."),
    folds: int = typer.Option(5, "--folds", help="`evaluate`: cross-validation folds."),
    k: Optional[int] = typer.Option(None, "--k", help="`themes`: number of themes (default: chosen from the data)."),
    themes_file: Optional[Path] = typer.Option(None, "--themes", help="Theme lexicon YAML (setting text_themes)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the scored comments to a .csv or .xlsx file."),
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """The customers' own words: language, sentiment (probability and label, and which method
    scored it), themes, pain points and what each costs in NPS.

    Examples: `cxvalue text comments.csv --text comment --nps score`, `cxvalue text evaluate
    reviews.csv --text review --label label --json`, `cxvalue text themes tweets.csv --text text --k 8`,
    `cxvalue text` (the store's comments; also `cxvalue run --only text`)."""
    from ....errors import CxValueError
    from ..render import show
    sess = session(store, lang, text_themes=str(themes_file) if themes_file else None)
    if first in MODES:
        if second is None:
            raise CxValueError(f"text {first}: give the FILE, e.g. `cxvalue text {first} comments.csv --text comment`")
        df, texts = _read(second, text_col)
        if first == "evaluate":
            v = _evaluate_view(sess, df, texts, label_col, folds)
        else:
            v = _themes_view(sess, texts, k)
        show(v, sess, as_json)
        return
    if first is None:
        from .run import run_step
        from ...views import build_view
        run_step(sess, "text", quiet=as_json)
        v = build_view("text", sess)
        show(v, sess, as_json, as_of=sess.as_of)
        if out is not None:
            from ....store import read_result
            _write(read_result(sess.con, "comment_analysis"), out)
        return
    df, texts = _read(Path(first), text_col)
    _score_file(sess, df, texts, label_col=label_col, nps_col=nps_col, id_col=id_col, method=method, out=out,
                as_json=as_json)


def _read(path: Path, text_col: Optional[str]):
    from ....errors import CxValueError
    from ....voice.inputs import read_any
    df = read_any(path)
    if not text_col:
        raise CxValueError(f"{path.name}: name the comment column with --text (columns: {', '.join(map(str, df.columns))})")
    if text_col not in df.columns:
        raise CxValueError(f"{path.name}: no column {text_col!r} for --text; columns: {', '.join(map(str, df.columns))}")
    return df, df[text_col].astype(object).where(df[text_col].notna(), None)


def _column(df, name: Optional[str], option: str, path_hint: str = "the file"):
    from ....errors import CxValueError
    if name is None:
        return None
    if name not in df.columns:
        raise CxValueError(f"{path_hint}: no column {name!r} for {option}; columns: {', '.join(map(str, df.columns))}")
    return df[name]


def _score_file(sess, df, texts, *, label_col, nps_col, id_col, method, out, as_json):
    import pandas as pd

    from ....text.pipeline import analyse_comments, methods_table, theme_tables
    from ...views.text import text_view
    from ..render import show
    frame = pd.DataFrame({"source": "file",
                          "source_id": (_column(df, id_col, "--id") if id_col else pd.Series(range(1, len(df) + 1)))
                          .astype(str).to_numpy(),
                          "customer_id": None, "date": pd.NaT, "touchpoint": None,
                          "nps": pd.to_numeric(_column(df, nps_col, "--nps"), errors="coerce").to_numpy()
                          if nps_col else float("nan"),
                          "text": texts.to_numpy()})
    labels = _column(df, label_col, "--label")
    res = analyse_comments(frame, labels=None if labels is None else labels.to_numpy(), method=method,
                           lexicon=sess.settings.get("text_themes"))
    notes = []
    themes = theme_tables(pd.concat([res["comments"], res["flags"]], axis=1), res["codes"])
    v = text_view(sess, {"comments": res["comments"], "theme_summary": themes["theme_summary"],
                         "text_methods": methods_table(res["comments"], res["sentiment"])}, notes=notes)
    if v is not None and len(res["sentiment"].metrics):
        v.meta["metrics"] = res["sentiment"].metrics.to_dict("records")
    if out is not None:
        _write(res["comments"].drop(columns=["source", "customer_id", "date", "touchpoint"], errors="ignore")
               .rename(columns={"source_id": id_col or "row"}), out)
        if v is not None:
            v.meta["written"] = str(out)
    show(v, sess, as_json)


def _write(df, out: Path) -> None:
    from ....errors import CxValueError
    from ....io.export import write_table
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise CxValueError(f"--out {out}: expected a .csv or .xlsx file")
    write_table(df, out)


def _evaluate_view(sess, df, texts, label_col, folds):
    from ....errors import CxValueError
    from ....text.sentiment import evaluate_sentiment
    from ...views import Column, Table, View
    if not label_col:
        raise CxValueError("text evaluate: name the label column with --label")
    labels = _column(df, label_col, "--label")
    m = evaluate_sentiment(texts.tolist(), labels.to_numpy(), folds=folds)
    t = sess.t
    v = View("text_evaluate", t("text_evaluate_title", folds=folds))
    v.blocks.append(Table("text-evaluate", "", columns=[
        Column("method", t("text_method")), Column("language", t("text_language")), Column("n", t("col_n"), "int"),
        Column("accuracy", t("text_accuracy"), "float3"), Column("roc_auc", t("text_roc_auc"), "float3"),
        Column("macro_f1", t("text_macro_f1"), "float3")], rows=m.to_dict("records")))
    v.meta = {"folds": folds, "n": int(len(texts))}
    return v


def _themes_view(sess, texts, k):
    from ....text.themes import discover_themes
    from ...views import Column, Table, View
    d = discover_themes(texts.tolist(), k=k)
    t = sess.t
    topics = d.topics.assign(keywords=[", ".join(map(str, k)) if isinstance(k, (list, tuple)) else k
                                       for k in d.topics["keywords"]])
    fmt = {"topic": "int", "size": "int", "share": "pct1", "coherence": "float3"}
    v = View("text_themes", t("text_discovered_title"))
    v.blocks.append(Table("text-discovered", "", columns=[
        Column(c, t(f"text_d_{c}"), fmt.get(c, "text")) for c in topics.columns], rows=topics.to_dict("records")))
    v.meta = {"k": int(len(topics)), "n": int(len(texts))}
    return v
