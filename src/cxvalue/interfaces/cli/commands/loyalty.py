"""``cxvalue loyalty``: repeat purchase by channel and product (C1, C2), service loyalty (C3),
behavioural × attitudinal segments (C4), incentive-driven repeat buying (C5) — on the store
or directly on a transactions file."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import console, print_frame, print_json
from .data import open_input
from ....errors import CxValueError, one_of

WHAT = ("channel", "product", "service", "segments", "incentive", "all")


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
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """Loyalty: repeat-purchase rates by channel and product, premium-service users vs others,
    behavioural × attitudinal loyalty segments with explicit cut-offs, incentive-driven
    repeat purchases.

    Examples: `cxvalue loyalty --what segments --attitude-min 8 --attitude satisfaction`,
    `cxvalue loyalty tx.csv --what incentive --by channel --json`.
    """
    from ....i18n import t
    from ....voice.inputs import frames_to_json, parse_list
    from ....loyalty.metrics import incentive_share, repeat_purchase_rate, service_loyalty
    from ....loyalty.segments import LoyaltyCutoffs, loyalty_segments, segment_summary
    sess = session(store, lang)
    s = sess.settings
    L = s["lang"]
    one_of("what", what, WHAT)
    if file is None:
        if customers is not None or responses is not None:
            raise CxValueError("--customers/--responses go with a transactions FILE")
        con = sess.con
    else:
        from ....io.load import load_file
        con = open_input("transactions", file, sess)
        if customers is not None:
            load_file(con, "customers", customers, replace=True)
        if responses is not None:
            load_file(con, "responses", responses, unknown_customer="create")
    cat = parse_list(category)
    cat = cat[0] if cat and len(cat) == 1 else cat
    amin = attitude_min if attitude_min is not None else (9.0 if attitude == "nps" else 8.0)
    cut = LoyaltyCutoffs(repeats_per_year=repeats_per_year, min_tenure_days=min_tenure, active_days=active_days,
                         attitude=attitude, attitude_min=amin)
    tables = con.list_tables()
    tx_cols = con.table("transactions").columns
    out: dict = {}
    want = WHAT[:-1] if what == "all" else (what,)
    for w in want:
        if w in ("channel", "product"):
            col = by if (by and w == what) else w
            if col not in tx_cols:
                if what != "all":
                    raise CxValueError(f"--what {w}: transactions have no {col!r} column")
                continue
            out[w] = repeat_purchase_rate(con, col, category=cat, since=since, until=until)
        elif w == "service":
            if "customers" not in tables or flag not in con.table("customers").columns:
                if what != "all":
                    raise CxValueError(f"--what service needs customers with a {flag!r} column (--customers FILE "
                                       "with a file)")
                continue
            out[w] = service_loyalty(con, flag=flag, category=cat, as_of=until)
        elif w == "segments":
            if "responses" not in tables:
                if what != "all":
                    raise CxValueError("--what segments needs survey answers: the store's responses, or "
                                       "--responses FILE")
                continue
            seg = loyalty_segments(con, cut, as_of=until, category=cat)
            out["segments"] = segment_summary(seg)
            out["cutoffs"] = cut.to_dict()
        elif w == "incentive":
            if "incentive" not in tx_cols:
                if what != "all":
                    raise CxValueError("--what incentive needs an 'incentive' column in transactions")
                continue
            out[w] = incentive_share(con, by=by if what == "incentive" else None, category=cat, since=since,
                                     until=until)
    if not out:
        raise CxValueError("no loyalty analysis is possible on these tables")
    if as_json:
        print_json(frames_to_json(out))
        return
    titles = {"channel": "loy_channel_title", "product": "loy_product_title", "service": "loy_service_title",
              "segments": "loy_segments_title", "incentive": "loy_incentive_title"}
    for k, v in out.items():
        if k == "cutoffs":
            console.print(t("loy_cutoffs", L, rpy=v["repeats_per_year"], tenure=v["min_tenure_days"],
                            active=v["active_days"], attitude=v["attitude"], amin=v["attitude_min"]))
            continue
        print_frame(v, t(titles[k], L, n=min(len(v), 30)))
