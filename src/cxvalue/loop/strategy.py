"""The closed loop's step "strategy" (H3): apply the strategy playbook
(:mod:`cxvalue.loop.playbook`) per customer and write ``customer_strategy`` (value tier, strategy,
lifecycle stage, play, churn risk, retention action, the recommended action and its source) and
``strategy_matrix`` (customers per strategy × stage with the play). Registered by importing this
module (``cxvalue.loop.pipeline`` does). Settings read: ``playbook``, ``churn_playbook``.
"""
from __future__ import annotations

from ..steps import Step, StepResult, register
from ..store import declare
from .playbook import customer_strategies, playbook_from_settings, strategy_matrix

declare("customer_strategy", key=("customer_id",),
        columns=("value_tier", "strategy", "stage", "play", "action", "action_source"),
        doc="Per customer: value-matrix tier and strategy, lifecycle stage, the playbook's play, churn risk, "
            "the retention action and the recommended action (H3).")
declare("strategy_matrix", key=("strategy", "stage"), columns=("value_tier", "customers", "at_risk", "play"),
        doc="Customers per value-matrix strategy x lifecycle stage with the playbook's play (H3).")


def run_strategy(session) -> StepResult:
    pb = playbook_from_settings(session.settings)
    per_customer = customer_strategies(session.con, pb)
    matrix = strategy_matrix(per_customer, pb)
    summary = {"customers": int(matrix.customers.sum()), "retention_actions": int(matrix.at_risk.sum()),
               "stage_unknown": int(matrix.loc[matrix.stage == "unknown", "customers"].sum()),
               "at_risk_decile": pb["at_risk_decile"]}
    return StepResult({"customer_strategy": per_customer, "strategy_matrix": matrix}, summary)


register(Step("strategy", run_strategy, needs=("customer_value",), writes=("customer_strategy", "strategy_matrix"),
              domain="loop", uses=("lifecycle", "churn_scores", "retention_list"),
              doc="The strategy playbook per customer: value-matrix strategy x lifecycle stage, and the retention "
                  "action for customers at risk (H3)."))
