"""CLI command ``cxvalue lifecycle``: stages, patterns, transitions and stage characteristics, on
the store (step "lifecycle", which writes the lifecycle tables) or directly on a transactions
file (analysed in memory); both show the lifecycle view (``--json``: its JSON)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import AsOfOpt, JsonOpt, LangOpt, StoreOpt, session
from ..render import print_json, print_view
from .data import open_input


@app.command()
def lifecycle(file: Optional[Path] = typer.Argument(None, help="Transactions file (CSV, Excel, Parquet); without it the store."),
              period: Optional[str] = typer.Option(None, "--period", help="month (default) or quarter."),
              end_rule: Optional[str] = typer.Option(None, "--end-rule", help="p_alive (default) or inactivity."),
              inactive_days: Optional[int] = typer.Option(None, "--inactive-days", help="Days without a purchase after "
                                                          "which a relationship has ended (365)."),
              rules: Optional[Path] = typer.Option(None, "--rules", help="YAML file of lifecycle rule thresholds "
                                                   "(over the setting lifecycle_rules)."),
              store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt, as_json: bool = JsonOpt,
              lang: Optional[str] = LangOpt):
    """Relationship lifecycle: stage per customer and period (exploration, formation, stability, decline),
    stage transitions, stage characteristics and patterns (early abort, mid-way abort, early exit,
    long-term retention). On the store it writes the lifecycle tables."""
    from ....lifecycle.pipeline import analyse_lifecycle, lifecycle_rules
    from ...views import build_view, capture
    from ...views.lifecycle import lifecycle_view
    from .run import run_step
    sess = session(store, lang, as_of)
    sess.settings["lifecycle_rules"] = lifecycle_rules(sess.settings, rules, period=period, end_rule=end_rule,
                                                       inactive_days=inactive_days)
    if file is not None:
        with capture() as notes:
            res = analyse_lifecycle(open_input("transactions", file, sess), sess.settings)
        v = lifecycle_view(sess, res, notes=notes)
    else:
        run_step(sess, "lifecycle", quiet=as_json)
        v = build_view("lifecycle", sess)
    print_json(v.to_dict()) if as_json else print_view(v, sess.lang)
