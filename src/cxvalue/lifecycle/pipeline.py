"""The lifecycle in the analysis run (step "lifecycle"): stages, patterns, transitions and stage
characteristics written to the store. ``cxvalue lifecycle`` calls the same function.

Tables: ``lifecycle`` (one row per customer: first/last purchase, purchases, ended, end_date,
end_reason, p_alive, current_stage, highest_stage, pattern), ``lifecycle_periods`` (customer ×
period stages), ``lifecycle_transitions`` (counts and shares, overall and per year),
``lifecycle_characteristics``, ``lifecycle_patterns``, ``lifecycle_flow`` and
``lifecycle_summary`` (metric, value: the as-of date, customers, customers per current stage
and the rules used).

Settings read: ``lifecycle_rules`` (a dict of :class:`~cxvalue.lifecycle.stages.LifecycleRules`
fields, e.g. ``{period: quarter, inactive_days: 540}``).
"""
from __future__ import annotations

import pandas as pd

from ..steps import Step, StepResult, register
from ..store import declare, has_table
from .characteristics import stage_characteristics
from .patterns import lifecycle_patterns, pattern_summary
from .stages import STAGES, LifecycleRules, lifecycle_stages
from .transitions import stage_flow, transition_matrix


declare("lifecycle", key=("customer_id",), columns=("current_stage", "highest_stage", "pattern", "p_alive"),
        doc="One row per customer: first/last purchase, stage now and highest, ended, pattern.")
declare("lifecycle_periods", columns=("customer_id", "stage"), doc="Customer x period stages.")
declare("lifecycle_transitions", doc="Stage transition counts and shares, overall and per year.")
declare("lifecycle_characteristics", key=("stage",), doc="Volume, price, cost and profit per stage.")
declare("lifecycle_patterns", columns=("pattern", "share"), doc="Lifecycle patterns (seed 004), overall and per segment.")
declare("lifecycle_flow", columns=("period",), doc="Customers per stage and period.")
declare("lifecycle_summary", key=("metric",), columns=("value",),
        doc="As-of date, customers, customers per current stage and the rules used.")
WRITES = ("lifecycle", "lifecycle_periods", "lifecycle_transitions", "lifecycle_characteristics",
          "lifecycle_patterns", "lifecycle_flow", "lifecycle_summary")


def lifecycle_rules(settings: dict | None = None, rules=None, **overrides) -> dict:
    """The rules of a lifecycle analysis as a dict: the ``lifecycle_rules`` setting, updated with
    ``rules`` (a dict or a YAML file of rule thresholds) and the non-None ``overrides``
    (e.g. ``period="quarter"``); validated (:class:`LifecycleRules`)."""
    out = dict((settings or {}).get("lifecycle_rules") or {})
    if rules is not None and not isinstance(rules, dict):
        from ..io.mapping import read_yaml_file
        rules = read_yaml_file(rules, "rules file", "rule names and values")
    out.update(rules or {})
    out.update({k: v for k, v in overrides.items() if v is not None})
    LifecycleRules.from_dict(out)
    return out


def analyse_lifecycle(con, settings: dict | None = None, *, rules: LifecycleRules | dict | None = None,
                      as_of=None) -> dict[str, pd.DataFrame]:
    """Every lifecycle result as a dict of frames named after their store tables."""
    if rules is None:
        rules = (settings or {}).get("lifecycle_rules")
    if as_of is None:
        as_of = (settings or {}).get("as_of")
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
           "lifecycle_patterns": pats, "lifecycle_flow": stage_flow(periods),
           "lifecycle_summary": lifecycle_summary(rel, rules, periods.attrs.get("as_of"))}
    for f in out.values():
        f.attrs.update(as_of=periods.attrs.get("as_of"), period=rules.period)
    return out


def lifecycle_summary(relationships: pd.DataFrame, rules: LifecycleRules, as_of) -> pd.DataFrame:
    """``metric``, ``value`` (text, as in the store): ``as_of``, ``customers``, ``ended``,
    ``current_<stage>`` (customers whose relationship is in that stage now) and ``rule_<name>``
    for every rule."""
    now = relationships.loc[~relationships["ended"].astype(bool), "current_stage"].value_counts()
    rows = [("as_of", as_of), ("customers", len(relationships)), ("ended", int(relationships["ended"].sum()))]
    rows += [(f"current_{s}", int(now.get(s, 0))) for s in STAGES]
    rows += [(f"rule_{k}", v) for k, v in rules.to_dict().items()]
    return pd.DataFrame({"metric": [r[0] for r in rows], "value": [str(r[1]) for r in rows]})


def run_lifecycle(session) -> StepResult:
    res = analyse_lifecycle(session.con, session.settings, as_of=session.as_of)
    rel = res["lifecycle"]
    shares = rel.pattern.value_counts(normalize=True)
    return StepResult(res, {"customers": int(len(rel)), "long_term": float(shares.get("long_term", 0)),
                            "early_abort": float(shares.get("early_abort", 0))})


register(Step("lifecycle", run_lifecycle, needs=("transactions",), writes=WRITES, domain="lifecycle",
              doc="Lifecycle stages, transitions, characteristics and patterns (seed 004)."))
