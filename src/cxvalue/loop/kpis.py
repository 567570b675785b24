"""Closed-loop KPIs from the case ledgers, computed in the engine: per team and owner the cases,
median hours to first response and to resolution, SLA attainment and reopen rate; the
root-cause Pareto; cases per 1,000 answering customers by touchpoint. Hold-out cases are left
out (they are not worked).

Definitions:

* first response — the first start, note, resolve or close that a person made (``by`` not a
  rule; an assignment or escalation is not a response): :func:`cxvalue.loop.cases.first_responses`;
* resolution — the first ``resolve`` event;
* SLA attained — first response at or before ``sla_due`` (the follow-up SLA: the rules set how
  soon the customer is to be contacted); missed — a response after it, or none yet past it at
  ``clock``; cases not yet responded to and not yet due are not counted either way;
* reopen rate — cases reopened at least once / cases resolved at least once.
"""
from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from ..store import has_table


def _per_case(con, clock: dt.datetime):
    """The worked cases as of their last event (:func:`cxvalue.loop.cases.current_cases`) with
    their first response, resolution and reopen count."""
    from .cases import current_cases, first_responses
    cur = current_cases(con)
    e = con.table("case_events")
    res = e.filter(e.action == "resolve")
    reo = e.filter(e.action == "reopen")
    t = cur.filter(~cur.holdout)
    for r in (first_responses(con),
              res.group_by("case_id").aggregate(resolved_at=res.at.min()),
              reo.group_by("case_id").aggregate(reopens=reo.count())):
        r = r.rename(_cid="case_id")
        t = t.left_join(r, t.case_id == r._cid).drop("_cid")
    hours = lambda a, b: (b.epoch_seconds() - a.epoch_seconds()) / 3600.0  # noqa: E731
    clock_ts = ibis.timestamp(clock)
    attained = ibis.cases((t.first_response.notnull() & (t.first_response <= t.sla_due), 1),
                          (t.first_response.notnull() & (t.first_response > t.sla_due), 0),
                          (t.first_response.isnull() & (t.sla_due < clock_ts), 0), else_=ibis.null("int64"))
    return t.mutate(hours_to_first_response=hours(t.opened_at, t.first_response),
                    hours_to_resolution=hours(t.opened_at, t.resolved_at),
                    sla_attained=ibis.ifelse(t.sla_due.isnull(), ibis.null("int64"), attained),
                    was_resolved=t.resolved_at.notnull().cast("int64"),
                    was_reopened=(t.reopens.fill_null(0) > 0).cast("int64"))


def closed_loop_kpis(con, clock: dt.datetime) -> dict[str, pd.DataFrame] | None:
    """{"teams", "owners", "root_causes", "touchpoints"} (tidy frames), None before the first case."""
    if not has_table(con, "cases"):
        return None
    t = _per_case(con, clock)

    def by(key):
        g = t.group_by(key).aggregate(
            cases=t.count(), open=(t.status.isin(["open", "in_progress", "escalated"])).cast("int64").sum(),
            median_hours_to_first_response=t.hours_to_first_response.median(),
            median_hours_to_resolution=t.hours_to_resolution.median(),
            sla_attainment=t.sla_attained.mean(), sla_counted=t.sla_attained.count(),
            resolved=t.was_resolved.sum(), reopened=t.was_reopened.sum())
        df = g.order_by(ibis.desc("cases")).to_pandas()
        df["reopen_rate"] = df.reopened / df.resolved.where(df.resolved > 0)
        return df
    out = {"teams": by("team_now"), "owners": by("owner")}
    rc = t.filter(t.root_cause.notnull())
    p = rc.group_by("root_cause").aggregate(cases=rc.count()).order_by(ibis.desc("cases")).to_pandas()
    if len(p):
        p["share"] = p.cases / p.cases.sum()
        p["cumulative_share"] = p.share.cumsum()
    out["root_causes"] = p
    if has_table(con, "responses") and "touchpoint" in con.table("responses").columns \
            and "response_id" in con.table("responses").columns:
        r = con.table("responses")
        s = t.filter(t.source == "survey")
        rr = r.select(_rid=r.response_id.cast("string"), touchpoint=r.touchpoint)
        joined = s.join(rr, s.source_id == rr._rid)
        cases = joined.group_by("touchpoint").aggregate(cases=joined.count())
        base = r.filter(r.customer_id.notnull()).group_by("touchpoint").aggregate(customers=r.customer_id.nunique())
        cc = cases.rename(_tp="touchpoint")
        tp = base.left_join(cc, base.touchpoint == cc._tp).drop("_tp").to_pandas()
        tp["cases"] = tp.cases.fillna(0).astype(int)
        tp["cases_per_1000"] = 1000.0 * tp.cases / tp.customers
        out["touchpoints"] = tp.sort_values("cases_per_1000", ascending=False).reset_index(drop=True)
    return out
