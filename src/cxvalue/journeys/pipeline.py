"""Journeys in the analysis run (step "journeys", needs the ``events`` table) and on a file.

Tables written: ``journey_funnel``, ``journey_channels`` (composite index), ``journey_spc``
(p-charts of daily step conversion), ``journey_spc_time`` (individuals charts of the daily median
time to complete), ``journey_alerts`` (runs of out-of-control days) and ``journey_friction``
(NPS and churn after a journey with friction vs a smooth one). See :mod:`cxvalue.journeys.funnels`.
"""
from __future__ import annotations

import pandas as pd

from ..errors import CxValueError
from ..steps import Step, StepResult, register
from ..store import declare, has_table
from .funnels import friction_impact, funnel_tables, process_control

JOURNEY_TABLES = ("journey_funnel", "journey_channels", "journey_spc", "journey_spc_time", "journey_alerts",
                  "journey_friction")


def analyse_journeys(con, *, journey: str | None = None, since=None, until=None, window_days: int = 30,
                     revise: bool = True) -> dict[str, pd.DataFrame]:
    """Every journey table of the store's ``events`` (optionally one ``journey``, events from
    ``since`` to ``until``): funnels, channel index, process-control charts and alerts, and the
    friction → NPS / churn comparison (answers within ``window_days``)."""
    if not has_table(con, "events"):
        raise CxValueError("no events in the store: load them with `cxvalue load events FILE`")
    ev = con.table("events")
    if journey is not None:
        known = ev.select("journey").distinct().to_pandas().journey.astype(str).tolist()
        if journey not in known:
            raise CxValueError(f"--journey {journey!r}: not in the events; expected one of {', '.join(sorted(known))}")
        ev = ev.filter(ev.journey == journey)
    if since is not None:
        ev = ev.filter(ev.timestamp.date() >= pd.Timestamp(since).date())
    if until is not None:
        ev = ev.filter(ev.timestamp.date() <= pd.Timestamp(until).date())
    if ev.count().execute() == 0:
        raise CxValueError("no events in the chosen journey and period")
    out = funnel_tables(ev)
    out.update(process_control(out.pop("journey_daily"), out.pop("journey_daily_time"), revise=revise))
    out["journey_friction"], out["journey_alerts"] = friction_impact(con, ev, alerts=out["journey_alerts"],
                                                                     window_days=window_days)
    return out


def analyse_journeys_file(path, **kwargs) -> dict[str, pd.DataFrame]:
    """:func:`analyse_journeys` of an events file, loaded through the validating loader into an
    in-memory store (bad rows are quarantined and counted, as with ``cxvalue load``)."""
    from ..io.memory import load_into_memory
    mem, report = load_into_memory("events", path)
    out = analyse_journeys(mem, **kwargs)
    out["info"] = {"source": str(path), "rows_loaded": report.rows_loaded, "rows_rejected": report.rows_rejected}
    return out


declare("journey_funnel", key=("journey", "channel", "step"), columns=("reached", "conversion", "drop_off"),
        doc="D9: funnel of each journey per channel: step reach, conversion, drop-off, retries and errors.")
declare("journey_channels", key=("journey", "channel"), columns=("completion", "median_seconds", "index"),
        doc="D9: per journey and channel, completion, time to complete and the composite index (0-100).")
declare("journey_spc", key=("journey", "channel", "step", "day"), columns=("p", "center", "lcl", "ucl", "out_of_control"),
        doc="D9+: p-chart of each step's daily conversion with 3-sigma limits and Western Electric run rules.")
declare("journey_spc_time", key=("journey", "channel", "day"), columns=("value", "center", "lcl", "ucl", "out_of_control"),
        doc="D9+: individuals chart of each journey's daily median time to complete.")
declare("journey_alerts", columns=("journey", "channel", "step", "first_day", "last_day", "direction"),
        doc="D9+: runs of out-of-control days per journey step (or time to complete).")
declare("journey_friction", key=("journey", "channel"), columns=("customers_friction", "customers_smooth"),
        doc="D9: NPS and churn after a journey with friction (dropped, error, retry) vs a smooth one.")


def _journeys(session) -> StepResult:
    from ..store import drop_result
    res = analyse_journeys(session.con)
    a, c = res["journey_alerts"], res["journey_channels"]
    summary = {"journeys": int(c.journey.nunique()), "channels": int(c.channel.nunique()), "alerts": int(len(a)),
               "out_of_control_days": int(a.days.sum()) if len(a) else 0}
    # a table with nothing in it this time (no customer ids: no friction comparison; series too
    # short to chart) is dropped, so that no earlier run's rows stand for this run's
    for name in [n for n, f in res.items() if f is None or f.empty]:
        res.pop(name)
        drop_result(session.con, name)
    return StepResult(res, summary)


register(Step("journeys", _journeys, needs=("events",), writes=JOURNEY_TABLES, uses=("churn_scores",),
              domain="journeys", doc="Funnels, channel index, process control of journey steps, friction vs NPS/churn."))
