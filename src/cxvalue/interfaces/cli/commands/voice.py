"""``cxvalue nps``: NPS with intervals, breakdowns, trends and significance tests, on the
store or directly on a survey file."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import console, print_frame, print_json
from ....errors import CxValueError, one_of
from ....voice.inputs import filter_period, frames_to_json, parse_list, parse_pair, survey_frame

FileArg = typer.Argument(None, help="Survey file (CSV, Excel, Parquet); default: the store's responses table.")


@app.command("nps")
def nps_command(
    file: Optional[Path] = FileArg,
    by: Optional[str] = typer.Option(None, "--by", help="Break down by these columns (comma-separated), e.g. "
                                     "touchpoint,channel,value_tier; 'period' = the --trend period."),
    trend: Optional[str] = typer.Option(None, "--trend", help="Trend per period: M (month), Q (quarter) or Y (year)."),
    compare: Optional[str] = typer.Option(None, "--compare", help="Test two segments of the first --by column "
                                          "against each other, e.g. --by period --trend Q --compare 2024Q4,2025Q4."),
    score: str = typer.Option("nps", "--score", help="Column with the 0-10 likelihood-to-recommend answers."),
    date_col: str = typer.Option("date", "--date-col", help="Date column (for --trend, --since, --until)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only answers on or after this date (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only answers on or before this date (YYYY-MM-DD)."),
    method: str = typer.Option("wald", "--method", help="Interval: wald or adjusted_wald."),
    confidence: float = typer.Option(0.95, "--confidence", help="Confidence level of the intervals."),
    min_n: int = typer.Option(30, "--min-n", help="Fewer answers than this → small_sample flag."),
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """Net Promoter Score with margins of error (Wald / adjusted Wald), by segment and period.

    Examples: `cxvalue nps --by touchpoint,value_tier --trend Q`,
    `cxvalue nps answers.csv --score recommend --by channel --compare app,web --json`.
    """
    from ....i18n import t
    from ....voice.nps import FREQS, METHODS, nps_by, nps_difference, nps_score, nps_trend
    sess = session(store, lang)
    s = sess.settings
    L = s["lang"]
    one_of("method", method, METHODS)
    if trend is not None:
        one_of("trend", trend, FREQS)
    byl = parse_list(by) or []
    df = survey_frame(file, sess.con if file is None else None, columns=["customer_id", score, date_col, *byl])
    if score not in df.columns:
        raise CxValueError(f"--score {score!r} is not a column of the survey data; columns: "
                           f"{', '.join(map(str, df.columns[:20]))}")
    if file is None and ("value_tier" in byl or any(b in ("member_tier", "segment") for b in byl)):
        from ....voice.pipeline import nps_frame
        full = nps_frame(sess.con, value_tier="value_tier" in byl)
        df = full if full is not None else df
    df = filter_period(df, since, until, date_col)
    if "period" in byl:
        if date_col not in df.columns:
            raise CxValueError(f"--by period needs a {date_col!r} column (use --date-col)")
        freq = trend or "Q"
        df = df.assign(period=pd.to_datetime(df[date_col], errors="coerce").dt.to_period(FREQS[freq]).astype(str))
    missing = [b for b in byl if b not in df.columns]
    if missing:
        raise CxValueError(f"--by {', '.join(missing)}: not a column of the survey data; columns: "
                           f"{', '.join(map(str, df.columns[:20]))}")
    out: dict = {}
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        est = nps_score(df[score], method=method, confidence=confidence, min_n=min_n)
        out["overall"] = est.to_dict()
        for b in byl:
            out.setdefault("by", {})[b] = nps_by(df, b, score_col=score, method=method, confidence=confidence,
                                                 min_n=min_n)
        if trend is not None:
            if date_col not in df.columns:
                raise CxValueError(f"--trend needs a {date_col!r} column (use --date-col)")
            out["trend"] = nps_trend(df, date_col, trend, score_col=score, method=method, confidence=confidence,
                                     min_n=min_n)
        if compare is not None:
            if not byl:
                raise CxValueError("--compare A,B needs --by COLUMN: the column whose two values are compared")
            a, b = parse_pair(compare, "--compare", cast=str)
            col = df[byl[0]].astype(str)
            for v in (a, b):
                if not (col == v).any():
                    raise CxValueError(f"--compare: {v!r} is not a value of {byl[0]!r}; values: "
                                       f"{', '.join(sorted(col.unique())[:15])}")
            d = nps_difference(df.loc[(col == a).to_numpy(), score], df.loc[(col == b).to_numpy(), score],
                               method=method, confidence=confidence)
            out["compare"] = {"by": byl[0], "a": a, "b": b, **d.to_dict()}
        caught = [str(x.message) for x in w if issubclass(x.category, Warning)]
    out["warnings"] = caught
    if as_json:
        print_json(frames_to_json(out))
        return
    o = out["overall"]
    console.print(f"[bold]{t('sec_nps', L)}[/]: {o['nps']:+.1f}  ({t('col_ci', L)} {o['ci_low']:+.1f} … "
                  f"{o['ci_high']:+.1f}, {method}; n = {o['n']:,}; {t('col_promoters_pct', L)} "
                  f"{o['promoters_pct']:.1f}, {t('col_detractors_pct', L)} {o['detractors_pct']:.1f})")
    cols = ["n", "nps", "ci_low", "ci_high", "promoters_pct", "detractors_pct", "small_sample"]
    for b, tab in out.get("by", {}).items():
        print_frame(tab[[b, *cols, "p_value_vs_rest"]], t("nps_by_title", L, by=t(f"by_{b}", L)))
    if "trend" in out:
        tr = out["trend"]
        print_frame(tr[["period", *cols, "nps_change", "p_value_change"]],
                    t("nps_trend_title", L, freq=t(f"nps_freq_{trend}", L)), max_rows=60)
    if "compare" in out:
        c = out["compare"]
        console.print(f"{c['by']} {c['a']} vs {c['b']}: {c['difference']:+.1f} points "
                      f"({t('col_ci', L)} {c['ci_low']:+.1f} … {c['ci_high']:+.1f}), z = {c['z']:.2f}, "
                      f"p = {c['p_value']:.4f}{' *' if c['significant'] else ''}")
    for m in caught:
        console.print(f"[yellow]warning: {m}")
