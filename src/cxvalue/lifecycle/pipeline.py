"""The lifecycle in the full analysis run (order 70): stages, patterns, transitions and stage
characteristics written to the store. ``cxvalue lifecycle`` calls the same function.

Tables: ``lifecycle`` (one row per customer: first/last purchase, purchases, ended, end_date,
end_reason, p_alive, current_stage, highest_stage, pattern), ``lifecycle_periods`` (customer ×
period stages), ``lifecycle_transitions`` (counts and shares, overall and per year),
``lifecycle_characteristics``, ``lifecycle_patterns`` and ``lifecycle_flow``.

Settings read: ``lifecycle_rules`` (a dict of :class:`~cxvalue.lifecycle.stages.LifecycleRules`
fields, e.g. ``{period: quarter, inactive_days: 540}``).
"""
from __future__ import annotations

import pandas as pd

from ..pipeline import analysis
from ..store import has_table, write_result
from .characteristics import stage_characteristics
from .patterns import lifecycle_patterns, pattern_summary
from .stages import LifecycleRules, lifecycle_stages
from .transitions import stage_flow, transition_matrix


def analyse_lifecycle(con, settings: dict | None = None, *, rules: LifecycleRules | dict | None = None,
                      as_of=None) -> dict[str, pd.DataFrame]:
    """Every lifecycle result as a dict of frames named after their store tables."""
    if rules is None:
        rules = (settings or {}).get("lifecycle_rules")
    rules = rules if isinstance(rules, LifecycleRules) else LifecycleRules.from_dict(rules)
    periods, rel = lifecycle_stages(con, rules=rules, as_of=as_of)
    rel["pattern"] = lifecycle_patterns(rel)
    by = None
    if has_table(con, "customers") and "segment" in con.table("customers").columns:
        cu = con.table("customers")
        seg = cu.select(cu.customer_id.cast("string").name("customer_id"), "segment").to_pandas()
        by = seg.set_index("customer_id").segment
    pats = pattern_summary(rel)
    if by is not None:
        pats = pd.concat([pats.assign(group="all"), pattern_summary(rel, by=by)], ignore_index=True)
        pats = pats[["group"] + [c for c in pats.columns if c != "group"]]
    out = {"lifecycle": rel, "lifecycle_periods": periods,
           "lifecycle_transitions": transition_matrix(periods, rel),
           "lifecycle_characteristics": stage_characteristics(periods),
           "lifecycle_patterns": pats, "lifecycle_flow": stage_flow(periods)}
    for f in out.values():
        f.attrs.update(as_of=periods.attrs.get("as_of"), period=rules.period)
    return out


@analysis(70, "lifecycle")
def _lifecycle(con, settings):
    if not has_table(con, "transactions"):
        return None
    res = analyse_lifecycle(con, settings)
    for name, frame in res.items():
        write_result(con, name, frame)
    rel = res["lifecycle"]
    shares = rel.pattern.value_counts(normalize=True)
    return {"customers": f"{len(rel):,}", "long_term": f"{shares.get('long_term', 0):.2f}",
            "early_abort": f"{shares.get('early_abort', 0):.2f}"}
