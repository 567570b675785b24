"""CLI command ``cxvalue strategy``: the strategy playbook applied to the store (step "strategy",
which writes ``customer_strategy`` and ``strategy_matrix``) — customers per value-matrix strategy ×
lifecycle stage with the play of each cell, and the playbook's retention actions; ``--json``:
the strategy view's JSON."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import AsOfOpt, JsonOpt, LangOpt, StoreOpt, session
from ..render import print_json, print_view


@app.command()
def strategy(playbook: Optional[Path] = typer.Option(None, "--playbook", help="Playbook YAML: a play per value-matrix "
                                                     "strategy x lifecycle stage and the retention actions (setting "
                                                     "playbook; docs/strategy.md)."),
             store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt, as_json: bool = JsonOpt,
             lang: Optional[str] = LangOpt):
    """Strategy per value-matrix cell x lifecycle stage (H3): customers per strategy (pursue, target,
    maintain, de-prioritise) and stage (exploration, formation, stability, decline) with the recommended
    play, and the retention action for customers at churn risk. Runs the value analysis first when
    the store has none; uses the lifecycle, churn scores and retention list when present."""
    from ....loop.playbook import load_playbook
    from ...views import build_view
    from ...views import strategy as _registers_the_view  # noqa: F401
    from .run import run_step
    if playbook is not None:
        load_playbook(playbook)   # a bad file stops here, naming the file and the key
    sess = session(store, lang, as_of, playbook=str(playbook) if playbook else None)
    run_step(sess, "strategy", quiet=as_json)
    v = build_view("strategy", sess)
    print_json(v.to_dict()) if as_json else print_view(v, sess.lang)
