"""Characteristics of each lifecycle stage (concepts.md G1), measured on the customer × period
stages: transaction volume, price paid (willingness to pay), cost and profit.

The seed's table, which the measured one is set against:

============  ============  ============  ================  ============
              exploration   formation     stability         decline
============  ============  ============  ================  ============
volume        small         rising fast   maximal, steady   falling
price paid    low           rising        highest           falling
cost          high          falling       falling           rising
profit        minimal       rising        maximal           falling fast
============  ============  ============  ================  ============

Per stage: ``customers``, ``customer_periods``, ``purchases_per_period`` (volume),
``amount_per_purchase`` (price paid), ``cost_per_purchase``, ``cost_share`` (cost / amount),
``profit_per_period`` and ``profit_per_purchase``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .stages import STAGES

#: the seed's qualitative profile per stage (keys of the message catalogue)
SEED_PROFILE = {
    "volume": ("lifecycle_small", "lifecycle_rising_fast", "lifecycle_maximal", "lifecycle_falling"),
    "price": ("lifecycle_low", "lifecycle_rising", "lifecycle_highest", "lifecycle_falling"),
    "cost": ("lifecycle_high", "lifecycle_falling", "lifecycle_falling", "lifecycle_rising"),
    "profit": ("lifecycle_minimal", "lifecycle_rising", "lifecycle_maximal", "lifecycle_falling_fast"),
}


def stage_characteristics(periods: pd.DataFrame) -> pd.DataFrame:
    """One row per stage (in lifecycle order) with the measures listed in the module docstring."""
    g = periods.groupby("stage")
    out = pd.DataFrame({
        "customers": g.customer_id.nunique(), "customer_periods": g.size(),
        "purchases": g.purchases.sum(), "amount": g.amount.sum(), "cost": g.cost.sum(), "profit": g.profit.sum()})
    out = out.reindex([s for s in STAGES if s in out.index])
    buys = out.purchases.where(out.purchases > 0)
    res = pd.DataFrame({
        "customers": out.customers.astype(int), "customer_periods": out.customer_periods.astype(int),
        "purchases_per_period": out.purchases / out.customer_periods,
        "amount_per_purchase": out.amount / buys, "cost_per_purchase": out.cost / buys,
        "cost_share": out.cost / out.amount.where(out.amount != 0),
        "profit_per_period": out.profit / out.customer_periods, "profit_per_purchase": out.profit / buys})
    res.index.name = "stage"
    return res.reset_index().replace([np.inf, -np.inf], np.nan)
