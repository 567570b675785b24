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
        from .notify import notice, send
        send(session.settings, [notice("escalated", get_case(con, i), by="rule:sla") for i in ids])
    return StepResult(summary={**{f"opened_{k}": v for k, v in opened.items()}, "escalated": escalated})


register(Step("cases", run_cases, needs=(("responses", "complaints", "retention_list"),), writes=("cases", "case_events"),
              domain="loop", uses=("retention_list", "customer_value"),
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
              doc="Did following up work: worked cases against the random hold-out on retention, NPS and spend."))
