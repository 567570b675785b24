"""``cxvalue loyalty``: repeat purchase by channel and product (C1, C2), service loyalty (C3),
behavioural × attitudinal segments (C4), incentive-driven repeat buying (C5) — on the store
or directly on a transactions file; shows the loyalty view (``--json``: the view's JSON)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import AsOfOpt, JsonOpt, LangOpt, StoreOpt, session
from .voice import show


@app.command("loyalty")
def loyalty_command(
    file: Optional[Path] = typer.Argument(None, help="Transactions file (CSV, Excel, Parquet); default: the store."),
    what: str = typer.Option("all", "--what", help="channel (C1), product (C2), service (C3), segments (C4), "
                             "incentive (C5) or all."),
    by: Optional[str] = typer.Option(None, "--by", help="Column for the repeat-purchase rate instead of channel/"
                                     "product (e.g. category), or the breakdown of the incentive share."),
    category: Optional[str] = typer.Option(None, "--category", help="Only these product categories "
                                           "(comma-separated), e.g. ticket."),
    since: Optional[str] = typer.Option(None, "--since", help="Only purchases on or after this date."),
    until: Optional[str] = typer.Option(None, "--until", help="Only purchases on or before this date (also the "
                                        "as-of date of retention and segments)."),
    customers: Optional[Path] = typer.Option(None, "--customers", help="Customers file (vip flag) for --what service."),
    responses: Optional[Path] = typer.Option(None, "--responses", help="Survey file (nps) for --what segments."),
    flag: str = typer.Option("vip", "--flag", help="Customers column marking premium-service users (C3)."),
    repeats_per_year: float = typer.Option(2.0, "--repeats-per-year", help="C4: behavioural loyalty needs at least "
                                           "this many repeat purchases per year..."),
    min_tenure: int = typer.Option(180, "--min-tenure", help="C4: ...a relationship of at least this many days..."),
    active_days: int = typer.Option(365, "--active-days", help="C4: ...and a purchase within this many days."),
    attitude: str = typer.Option("nps", "--attitude", help="C4: attitude measure, nps or satisfaction."),
    attitude_min: Optional[float] = typer.Option(None, "--attitude-min", help="C4: attitudinal loyalty when the "
                                                 "latest answer is at least this (default 9 for nps, 8 for "
                                                 "satisfaction)."),
    store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt, as_json: bool = JsonOpt,
    lang: Optional[str] = LangOpt,
):
    """Loyalty: repeat-purchase rates by channel and product, premium-service users vs others,
    behavioural × attitudinal loyalty segments with explicit cut-offs, incentive-driven
    repeat purchases.

    Examples: `cxvalue loyalty --what segments --attitude-min 8 --attitude satisfaction`,
    `cxvalue loyalty tx.csv --what incentive --by channel --json`.
    """
    from ...views import capture
    from ...views.loyalty import loyalty_view
    from ....errors import CxValueError
    from ....loyalty.analysis import loyalty_analysis
    from ....voice.inputs import parse_list
    from .data import open_input
    sess = session(store, lang, as_of)
    with capture() as notes:
        if file is None:
            if customers is not None or responses is not None:
                raise CxValueError("--customers/--responses go with a transactions FILE")
            con = sess.con
            until = until or sess.as_of  # the store's analysis date, as in the loyalty step
        else:
            from ....io.load import load_file
            con = open_input("transactions", file, sess)
            if customers is not None:
                load_file(con, "customers", customers, replace=True)
            if responses is not None:
                load_file(con, "responses", responses, unknown_customer="create")
        frames = loyalty_analysis(con, what=what, by=by, category=parse_list(category), since=since, until=until,
                                  flag=flag, repeats_per_year=repeats_per_year, min_tenure_days=min_tenure,
                                  active_days=active_days, attitude=attitude, attitude_min=attitude_min)
    show(loyalty_view(sess, frames, notes=notes), sess, as_json, on_store=file is None)
