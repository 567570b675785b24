"""Customer value in the analysis run: the ``customer value`` step fits the CLV models and
writes the value tables (declared here)."""
from __future__ import annotations

from ..steps import Step, StepResult, register
from ..store import declare
from .customer_value import analyse_store

declare("customer_value", key=("customer_id",),
        columns=("frequency", "recency", "T", "p_alive", "clv", "revenue_12m", "value_tier"),
        doc="One row per customer: BTYD summary, P(alive), expected purchases and spend, CLV, "
            "profitability, RFM, discounted and seed CLV, value tier and strategy.")
declare("clv_parameters", key=("model", "parameter"), columns=("estimate", "loglik", "as_of", "margin"),
        doc="Fitted BTYD / Gamma-Gamma parameters with standard errors and intervals.")
declare("clv_holdout", doc="Model check: calibration vs holdout purchases by frequency.")
declare("clv_tracking", columns=("date", "actual_cumulative", "expected_cumulative", "calibration_end"),
        doc="Model check: cumulative actual vs expected repeat purchases.")
declare("value_matrix", key=("value_tier",), columns=("customers", "customer_share", "strategy"),
        doc="Customers and value per value tier (B6).")
declare("value_multiplication", doc="Revenue components per customer and relationship year (B5).")
declare("value_multiplication_summary", key=("relationship_year",), doc="The seed-001 five-year value table.")
declare("delivered_value", doc="Customer-delivered value by product or channel (B7).")

WRITES = ("customer_value", "clv_parameters", "clv_holdout", "clv_tracking", "value_matrix",
          "value_multiplication", "value_multiplication_summary", "delivered_value")


def run_value(session, progress=None) -> StepResult:
    """:func:`analyse_store` as of the session's date; a summary of totals."""
    results = analyse_store(session.con, session.settings, as_of=session.as_of, progress=progress)
    cv = results["customer_value"]
    return StepResult(results, {"customers": int(len(cv)), "total_clv": float(cv.clv.sum()),
                                "mean_p_alive": float(cv.p_alive.mean())})


register(Step("customer value", run_value, needs=("transactions",), writes=WRITES, domain="value",
              doc="CLV models and customer value B1–B8."))
