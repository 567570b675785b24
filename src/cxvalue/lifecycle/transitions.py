"""Stage transitions over time (concepts.md G1, G2): how customers move between lifecycle stages.

From the customer × period stages (:func:`cxvalue.lifecycle.stages.lifecycle_stages`) each
pair of consecutive periods of a customer is one transition ``from_stage → to_stage``
(staying in a stage counts too); the last period of an ended relationship moves to
``ended``; the last period of a current customer is not a transition (censored).

:func:`transition_matrix` returns tidy counts and row shares — the estimated one-period
transition probabilities P(to | from) — overall and per calendar year of the
``from`` period; :func:`stage_flow` the number of customers in each stage per period (the
lifecycle stage flow drawn in the report).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .stages import STAGES

STATES = STAGES + ("ended",)


def transitions(periods: pd.DataFrame, relationships: pd.DataFrame) -> pd.DataFrame:
    """One row per transition: ``customer_id``, ``period`` (of the from stage), ``year``,
    ``from_stage``, ``to_stage``."""
    p = periods[["customer_id", "period", "period_no", "stage"]]
    same = p.customer_id.to_numpy()[1:] == p.customer_id.to_numpy()[:-1]
    nxt = np.r_[p.stage.to_numpy()[1:], [None]]
    has_next = np.r_[same, False]
    last = ~has_next
    ended = p.customer_id.map(relationships["ended"]).fillna(False).to_numpy(bool)
    to = np.where(has_next, nxt, np.where(last & ended, "ended", None))
    out = pd.DataFrame({"customer_id": p.customer_id.to_numpy(), "period": p.period.to_numpy(),
                        "year": p.period.str[:4].to_numpy(), "from_stage": p.stage.to_numpy(), "to_stage": to})
    return out[out.to_stage.notna()].reset_index(drop=True)


def transition_matrix(periods: pd.DataFrame, relationships: pd.DataFrame, *, by_year: bool = True) -> pd.DataFrame:
    """Transition counts and row shares: ``year`` ("all" for the whole window, else the calendar
    year of the from period), ``from_stage``, ``to_stage``, ``transitions``, ``share``."""
    tr = transitions(periods, relationships)
    frames = [tr.assign(year="all")] + ([tr] if by_year else [])
    t = pd.concat(frames, ignore_index=True)
    m = t.groupby(["year", "from_stage", "to_stage"]).size().rename("transitions").reset_index()
    m["share"] = m.transitions / m.groupby(["year", "from_stage"]).transitions.transform("sum")
    order = {s: i for i, s in enumerate(STATES)}
    m = m.sort_values(["year", "from_stage", "to_stage"],
                      key=lambda s: s.map(order) if s.name != "year" else s.map(lambda y: (y != "all", y)))
    return m.reset_index(drop=True)


def matrix_wide(matrix: pd.DataFrame, year: str = "all", value: str = "share") -> pd.DataFrame:
    """One year's matrix as a from × to table (rows: from stage, columns: to state)."""
    m = matrix[matrix.year == year].pivot(index="from_stage", columns="to_stage", values=value)
    return m.reindex(index=[s for s in STAGES if s in m.index], columns=[s for s in STATES if s in m.columns]).fillna(0)


def stage_flow(periods: pd.DataFrame) -> pd.DataFrame:
    """Customers in each stage per period: ``period`` and one column per stage."""
    f = periods.groupby(["period", "stage"]).size().unstack("stage", fill_value=0)
    return f.reindex(columns=[s for s in STAGES if s in f.columns]).sort_index().reset_index()
