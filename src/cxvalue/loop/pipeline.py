"""The closed loop's step "cases": apply the case rules (:mod:`cxvalue.loop.rules`) as of the
analysis date — open the cases they call for and escalate the overdue ones; it appends to the
``cases`` and ``case_events`` ledgers (idempotently) and writes no snapshot table."""
from __future__ import annotations

from ..steps import Step, StepResult, StepSkipped, register
from ..store import has_table
from . import cases  # noqa: F401  (declares the ledgers)
from .rules import apply_rules, load_rules


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
