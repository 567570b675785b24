"""CLI command for journeys (D9, D9+): ``cxvalue journeys [FILE]``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import show
from .run import run_step


@app.command()
def journeys(file: Optional[Path] = typer.Argument(None, help="Events file (instrumented touchpoints: session or customer, channel, journey, "
                                                   "step, timestamp, outcome/error code); without it the store's events."),
             journey: Optional[str] = typer.Option(None, "--journey", help="Only this journey (an ad-hoc run on the store)."),
             since: Optional[str] = typer.Option(None, "--since", help="Events from this date (YYYY-MM-DD; ad hoc)."),
             until: Optional[str] = typer.Option(None, "--until", help="Events up to this date (YYYY-MM-DD; ad hoc)."),
             store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt):
    """Journeys on instrumented channels: funnels (step conversion, drop-off, retries, errors), time to
    complete, the composite index per channel, process-control charts of daily step conversion and time
    with Western Electric run rules (out-of-control days), and NPS and churn after friction.

    Example: `cxvalue journeys events.csv`; on the store step "journeys" (journey_funnel, journey_channels,
    journey_spc, journey_spc_time, journey_alerts, journey_friction)."""
    from ....journeys.pipeline import analyse_journeys, analyse_journeys_file
    from ...views import capture, Text
    from ...views.journeys import journeys_view, store_frames
    sess = session(store, lang)
    adhoc = file is None and (journey or since or until)
    if file is not None:
        with capture() as notes:
            res = analyse_journeys_file(file, journey=journey, since=since, until=until)
        v = journeys_view(sess, res, notes=notes)
    elif adhoc:
        with capture() as notes:
            res = analyse_journeys(sess.con, journey=journey, since=since, until=until)
        v = journeys_view(sess, res, notes=notes)
        v.blocks.insert(0, Text("journeys-adhoc", text=sess.t("churn_adhoc_note"), tone="plain"))
    else:
        run_step(sess, "journeys", quiet=as_json)
        from ...views import step_notes
        v = journeys_view(sess, store_frames(sess.con), notes=step_notes(sess, "journeys"))
    if v is None:
        from ....errors import CxValueError
        raise CxValueError("nothing to show: the journey analysis wrote no results")
    show(v, sess, as_json)
