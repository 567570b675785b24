"""The closed loop's steps. "cases": apply the case rules (:mod:`cxvalue.loop.rules`) as of the
analysis date — open the cases they call for and escalate the overdue ones; it appends to the
``cases`` and ``case_events`` ledgers (idempotently). "case outcomes": compare the worked cases
with the hold-out (:mod:`cxvalue.loop.outcomes`), table ``case_outcomes``."""
from __future__ import annotations

from ..steps import Step, StepResult, StepSkipped, register
from ..store import declare, has_table
from . import cases  # noqa: F401  (declares the ledgers)
from .outcomes import OUTCOME_COLUMNS, followup_outcomes
from .rules import apply_rules, load_rules, run_clock
from . import strategy  # noqa: F401  (the step "strategy": the H3 playbook per customer)


def run_cases(session) -> StepResult:
    con = session.con
    if not any(has_table(con, t) for t in ("responses", "complaints", "retention_list")):
        raise StepSkipped("needs responses, complaints or the retention step's retention_list")
    if session.as_of is None:
        raise StepSkipped("no analysis date: the store holds no dated activity")
    ids: list[str] = []
    opened = apply_rules(con, session.as_of, load_rules(session.settings.get("case_rules")), escalated=ids)
    escalated = opened.pop("escalated", 0)
    if ids:
        from .cases import get_case
        from .notify import notice, owner_emails, send
        send(session.settings, [notice("escalated", get_case(con, i), by="rule:sla") for i in ids],
             emails=owner_emails(con))
    return StepResult(summary={**{f"opened_{k}": v for k, v in opened.items()}, "escalated": escalated})


register(Step("cases", run_cases, needs=(("responses", "complaints", "retention_list"),), writes=("cases", "case_events"),
              domain="loop", uses=("retention_list", "customer_value", "comment_analysis"), always=True,
              doc="Open the cases the case rules call for (detractors, low satisfaction, late complaints, value at risk)."))


declare("case_outcomes", columns=OUTCOME_COLUMNS,
        doc="Did following up work? Per case rule and outcome (retention at 90/180 days, NPS change on the next "
            "answer, spend in the following 90/180 days), each group of worked cases (all, within the SLA, late, "
            "not reached) against the rule's random hold-out, with intervals; matched and observational when a "
            "rule has no hold-out.")


def run_case_outcomes(session) -> StepResult:
    if session.as_of is None:
        raise StepSkipped("no analysis date: the store holds no dated activity")
    res = followup_outcomes(session.con, run_clock(session.as_of))
    if res is None or res.empty:
        raise StepSkipped("no case old enough to measure: outcomes need cases opened 90 days or more before the "
                          "analysis date (or a next answer)")
    main = res[(res.group == "within_sla") & (res.metric == "retention_180")]
    summary = {"comparisons": len(res), "rules": int(res.rule.nunique())}
    if len(main):
        summary["retention_180_effect_within_sla"] = round(float(main.effect.iloc[0]), 4)
    return StepResult(tables={"case_outcomes": res}, summary=summary)


register(Step("case outcomes", run_case_outcomes, needs=("cases", "case_events"), writes=("case_outcomes",),
              domain="loop", uses=("responses", "churn_events", "transactions", "customer_value", "customers"),
              always=True, doc="Did following up work: worked cases against the random hold-out on retention, NPS and spend."))


MEASURE_COLUMNS = ("initiative_id", "title", "kpi", "status", "start_date", "design", "n_before", "n_after", "before",
                   "after", "effect", "ci_low", "ci_high", "p_value", "target_value", "target_reached",
                   "after_days_observed", "as_of")
declare("initiative_measures", key=("initiative_id",), columns=MEASURE_COLUMNS[1:],
        doc="Each started improvement initiative's KPI re-measured on every run (CEM step 7): before vs after its "
            "start, the effect (difference-in-differences when it has a scope) with its interval, and whether the "
            "target is reached.")


def run_initiatives(session) -> StepResult:
    """Re-measure every active or done initiative whose start date has passed, as of the analysis
    date (90 days each side); one that cannot be measured yet is reported, not dropped silently."""
    import datetime as dt
    import warnings

    import pandas as pd

    from ..errors import CxValueWarning
    from .initiatives import InitiativeError, get_initiative, list_initiatives, measure
    if session.as_of is None:
        raise StepSkipped("no analysis date: the store holds no dated activity")
    started = list_initiatives(session.con)
    started = started[started.status.isin(["active", "done"])
                      & (pd.to_datetime(started.start_date).dt.date <= session.as_of)] if len(started) else started
    if started.empty:
        raise StepSkipped("no active or done initiative has started by the analysis date "
                          "(`cxvalue initiatives add`, then `start`)")
    rows, unmeasured = [], []
    for iid in started.initiative_id:
        ini = get_initiative(session.con, iid)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", CxValueWarning)
                r = measure(session.con, ini, as_of=session.as_of)
        except InitiativeError as exc:
            unmeasured.append(f"{iid}: {exc}")
            continue
        finally:
            for w in caught:          # the same warnings, naming the initiative
                warnings.warn(f"initiative {iid}: {w.message}", w.category, stacklevel=2)
        s = r.summary()
        rows.append({"initiative_id": iid, "title": ini.title, "kpi": s["kpi"], "status": ini.status,
                     "start_date": pd.Timestamp(ini.start_date), "design": s["design"], "n_before": s["n_before"],
                     "n_after": s["n_after"], "before": s["before"], "after": s["after"],
                     "effect": s["effect"]["estimate"], "ci_low": s["effect"]["ci_low"],
                     "ci_high": s["effect"]["ci_high"], "p_value": s["effect"]["p_value"],
                     "target_value": s["target_value"], "target_reached": s["target_reached"],
                     "after_days_observed": s["periods"].get("after_days_observed"),
                     "as_of": pd.Timestamp(dt.datetime.combine(session.as_of, dt.time()))})
    if unmeasured:
        warnings.warn(f"{len(unmeasured)} initiative(s) could not be re-measured: " + "; ".join(unmeasured[:5]),
                      CxValueWarning, stacklevel=2)
    if not rows:
        raise StepSkipped("no started initiative could be re-measured yet: " + "; ".join(unmeasured[:3]))
    df = pd.DataFrame(rows, columns=list(MEASURE_COLUMNS))
    df["target_reached"] = df.target_reached.astype("boolean")
    return StepResult(tables={"initiative_measures": df},
                      summary={"measured": len(df), "unmeasured": len(unmeasured),
                               "targets_reached": int(df.target_reached.fillna(False).sum())})


register(Step("initiatives", run_initiatives, needs=("initiatives", "initiative_events"),
              writes=("initiative_measures",), domain="loop", uses=("responses", "complaints", "cases"), always=True,
              doc="Re-measure every started improvement initiative's KPI before vs after its start (CEM step 7)."))
