"""The customer relationship lifecycle (concepts.md G1, G2).

- :mod:`~cxvalue.lifecycle.stages` — stage per customer and period from the transaction
  trajectory (:func:`lifecycle_stages`, rule thresholds in :class:`LifecycleRules`);
- :mod:`~cxvalue.lifecycle.transitions` — stage transition matrix over time, stage flow;
- :mod:`~cxvalue.lifecycle.characteristics` — volume, price paid, cost and profit per stage;
- :mod:`~cxvalue.lifecycle.patterns` — early abort, mid-way abort, early exit, long-term retention.

See docs/lifecycle.md.
"""
from __future__ import annotations

from .characteristics import SEED_PROFILE, stage_characteristics
from .patterns import PATTERNS, lifecycle_patterns, pattern_summary
from .stages import STAGES, LifecycleRules, lifecycle_stages, period_activity
from .transitions import matrix_wide, stage_flow, transition_matrix, transitions

__all__ = ["STAGES", "PATTERNS", "SEED_PROFILE", "LifecycleRules", "lifecycle_stages", "period_activity",
           "transitions", "transition_matrix", "matrix_wide", "stage_flow", "stage_characteristics",
           "lifecycle_patterns", "pattern_summary"]
