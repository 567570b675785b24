"""``cxvalue nps``: NPS with intervals, breakdowns, trends and significance tests, on the
store or directly on a survey file; shows the voice view (``--json``: the view's JSON)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session

FileArg = typer.Argument(None, help="Survey file (CSV, Excel, Parquet); default: the store's responses table.")


def show(view, sess, as_json: bool, *, on_store: bool) -> None:
    """Print ``view`` (tables, or its JSON); a view of the store is dated with the store's as-of date."""
    from ..render import show as render
    render(view, sess, as_json, as_of=sess.as_of if on_store else None)


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
    adjust: str = typer.Option("holm", "--adjust", help="Multiple-comparison correction of the all-pairs segment "
                               "comparisons: holm (family-wise error), bh (Benjamini-Hochberg, false discovery "
                               "rate) or none."),
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """Net Promoter Score with margins of error (Wald / adjusted Wald), by segment and period.
    With --by, every pair of segments is compared (p adjusted by --adjust); with --by and
    --trend, the trend of each segment of the first --by column.

    Examples: `cxvalue nps --by touchpoint,value_tier --trend Q`,
    `cxvalue nps answers.csv --score recommend --by channel --compare app,web --json`.
    """
    from ...views import capture
    from ...views.voice import voice_view
    from ....voice.inputs import parse_list, parse_pair, survey_frame
    from ....voice.nps import nps_analysis
    sess = session(store, lang)
    byl = parse_list(by) or []
    with capture() as notes:
        data = sess.con if file is None else survey_frame(file)
        frames = nps_analysis(data, score=score, by=byl, trend=trend, compare=parse_pair(compare, "--compare", cast=str),
                              date_col=date_col, since=since, until=until, method=method, confidence=confidence,
                              min_n=min_n, adjust=adjust)
    view = voice_view(sess, frames, notes=notes, method=method, freq=trend, shown=byl, min_n=min_n)
    show(view, sess, as_json, on_store=file is None)
