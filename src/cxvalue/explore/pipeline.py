"""The workplace's precomputed table (step "customer directory"): ``customer_directory``, one
row per customer with everything a filtered dashboard, the customer list and its exports need —
profile, value tier and CLV, churn risk, value at risk, lifecycle stage, loyalty segment — and
the distinct channels, products and touchpoints of the customer's purchases, answers and
complaints (lists), so that a dashboard filter or a drill-down is one scan of one table instead
of joins and semi-joins over the raw events on every request.

Built entirely in the engine (``CREATE TABLE AS SELECT``): nothing per customer reaches Python.
"""
from __future__ import annotations

from ..steps import Step, StepResult, StepSkipped, register
from ..store import declare, has_table
from .drill import customer_table

#: list columns of the directory: (directory column, [(event table, its column), ...])
EVENT_LISTS = (("channels", (("transactions", "channel"), ("responses", "channel"), ("complaints", "channel"))),
               ("products", (("transactions", "product"), ("responses", "product"))),
               ("touchpoints", (("responses", "touchpoint"),)))
#: the result tables the directory reads when they exist
SOURCES = ("customer_value", "churn_scores", "retention_list", "lifecycle", "loyalty_segments")

declare("customer_directory", key=("customer_id",),
        doc="One row per customer for the workplace: profile, value tier, CLV, P(alive), churn risk and decile, "
            "main reason, value at risk and action, lifecycle stage, loyalty segment, and the lists of "
            "channels, products and touchpoints of their events.")


def directory(con):
    """The ``customer_directory`` expression (see the module docstring)."""
    t = customer_table(con, precomputed=False)
    for col, sources in EVENT_LISTS:
        parts = []
        for table, c in sources:
            if has_table(con, table) and c in con.table(table).columns:
                e = con.table(table)
                parts.append(e.filter(e[c].notnull()).select(_cid=e.customer_id, _v=e[c].cast("string")))
        if not parts:
            continue
        u = parts[0]
        for p in parts[1:]:
            u = u.union(p)
        agg = u.group_by("_cid").aggregate(**{col: u._v.collect(distinct=True)})
        t = t.left_join(agg, t.customer_id == agg._cid).drop("_cid")
    return t


def run_directory(session) -> StepResult:
    con = session.con
    if not (has_table(con, "customers") or has_table(con, "customer_value")):
        raise StepSkipped("needs the customers table or the customer value step's customer_value")
    d = directory(con)
    return StepResult(tables={"customer_directory": d})


register(Step("customer directory", run_directory, needs=(("customers", "customer_value"),),
              writes=("customer_directory",), domain="explore", uses=SOURCES,
              doc="The workplace's per-customer table (filters, drill-down, exports)."))
