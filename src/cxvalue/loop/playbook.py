"""The strategy playbook (concepts.md H3): one source of recommended actions, per value-matrix
strategy × relationship lifecycle stage, and per churn reason family × value tier.

Seed 004 places each customer in the value matrix (current × potential value: platinum
白金 → pursue 追求, gold 黄金 → target 目标, iron 铁质 → maintain 维持, lead 铅质 → de-prioritise
放弃; :mod:`cxvalue.value.segments`) and in a relationship lifecycle stage (exploration 考察,
formation 形成, stability 稳定, decline 退化; :mod:`cxvalue.lifecycle.stages`) whose
characteristics differ — volume small / rising fast / maximal / falling; cost high / falling /
falling / rising; and whose typical failures differ: early abort (both sides may be
dissatisfied), mid-way abort (trust was built but rising value expectations went unmet),
early exit (too little continuing added value, or benefits felt unequal), while the
relationship lasts when the supplier's value stays above the competitors', both sides win
and switching costs are high; a declining relationship can be developed a second time
(退化期的二次开发). The playbook turns the two positions into one *play* per customer. The
retention actions per churn reason family × value tier (F5, formerly the churn playbook of
:mod:`cxvalue.churn.retention`) are its ``retention`` section.

A playbook is a dict or a YAML file; entries given override :data:`DEFAULT_PLAYBOOK`::

    strategies:                 # value-matrix strategy × lifecycle stage → play
      pursue:
        decline: "Key-account director visits within a week"    # free text is shown as written
        formation: play_pursue_formation                         # a catalogue key: both languages
      grow:                     # a strategy of your own value matrix: 'unknown' is then required,
        unknown: play_target    # the play of every stage not given
    at_risk_decile: 3           # churn risk deciles 1–3 (1 = most at risk): the retention action replaces the play
    retention:                  # the churn part: reason family × value tier (see below)
      tiers: {high: 0.8, medium: 0.5}
      min_value_at_risk: 0
      actions:
        complaint: {high: churn_act_escalate_complaint, medium: churn_act_resolve_complaint}
        price: churn_act_plan_review                             # one action for every tier

The stage ``unknown`` is the play of customers without a lifecycle stage (the lifecycle step has
not run, or the customer has no purchase in it). A file holding only ``tiers``, ``actions`` and
``min_value_at_risk`` is a retention part in the format of the former churn playbook: it updates
the ``retention`` section only. :func:`load_playbook` merges several sources in order — the
settings ``playbook`` then ``churn_playbook`` (:func:`playbook_from_settings`) — so a churn
playbook file keeps working on top of a whole playbook.

Applying it (:func:`customer_plays`, :func:`customer_strategies`) is a join in the engine:
``customer_value`` (value tier and strategy) × ``lifecycle`` (current stage) × the playbook's
cells, then ``churn_scores`` (risk decile, main reason) and ``retention_list`` (the retention
action per reason and value tier) when the store has them. The recommended ``action`` is the
retention action for customers in churn risk deciles 1 to ``at_risk_decile`` (decile 1 = the
10% most at risk, as in ``churn_scores``) that are on the retention list, else the play;
``action_source`` says which.
"""
from __future__ import annotations

import copy
import warnings
from pathlib import Path

import ibis
import pandas as pd

from ..errors import CxValueError, DataQualityWarning
from ..lifecycle.stages import STAGES
from ..store import has_table
from ..value.segments import STRATEGIES, TIER_QUANTILES, VALUE_TIERS

#: the stages a play is given for: the lifecycle stages, and ``unknown`` (no stage known)
PLAY_STAGES = (*STAGES, "unknown")
#: value-matrix strategies, best first, and the tier each belongs to (platinum → pursue, ...)
STRATEGY_ORDER = tuple(STRATEGIES.values())
STRATEGY_TIER = {s: tier for tier, s in STRATEGIES.items()}
#: the keys of a whole playbook, and of its retention part (the former churn playbook)
PLAYBOOK_KEYS = ("strategies", "at_risk_decile", "retention")
RETENTION_KEYS = ("tiers", "actions", "min_value_at_risk")

DEFAULT_PLAYBOOK: dict = {
    # one play per value-matrix strategy × lifecycle stage; "unknown": the strategy on its own
    "strategies": {
        s: {**{stage: f"play_{s}_{stage}" for stage in STAGES}, "unknown": f"play_{s}"} for s in STRATEGY_ORDER
    },
    # customers in churn risk deciles 8-10 (the 30% most at risk) get the retention action instead of the play
    "at_risk_decile": 3,
    "retention": {
        "tiers": dict(TIER_QUANTILES),
        "min_value_at_risk": 0.0,
        "actions": {
            "complaint": {"high": "churn_act_escalate_complaint", "medium": "churn_act_resolve_complaint",
                          "low": "churn_act_resolve_complaint_standard"},
            "experience": {"high": "churn_act_manager_call", "medium": "churn_act_service_recovery",
                           "low": "churn_act_survey_follow_up"},
            "engagement": {"high": "churn_act_personal_offer", "medium": "churn_act_reactivation_offer",
                           "low": "churn_act_win_back_campaign"},
            "price": {"high": "churn_act_tailored_pricing", "medium": "churn_act_plan_review",
                      "low": "churn_act_lower_cost_plan"},
            "contract": {"high": "churn_act_long_contract_benefits", "medium": "churn_act_renewal_incentive",
                         "low": "churn_act_renewal_reminder"},
            "channel": {"high": "churn_act_omnichannel_service", "medium": "churn_act_preferred_channel",
                        "low": "churn_act_self_service"},
            "tenure": {"high": "churn_act_onboarding_call", "medium": "churn_act_onboarding_journey",
                       "low": "churn_act_welcome_messages"},
            "product": {"high": "churn_act_product_fit_review", "medium": "churn_act_product_upgrade",
                        "low": "churn_act_product_tips"},
            "salesperson": {"high": "churn_act_second_owner", "medium": "churn_act_transition_plan",
                            "low": "churn_act_transition_plan"},
            "default": {"high": "churn_act_account_review", "medium": "churn_act_retention_offer",
                        "low": "churn_act_monitor"},
        },
    },
}


# --------------------------------------------------------------------------- loading
def _read(source, what: str = "playbook") -> tuple[dict, str]:
    """(the mapping, the prefix its errors start with) of a dict or a YAML file."""
    if isinstance(source, (str, Path)):
        from ..io.mapping import read_yaml_file
        data = read_yaml_file(source, f"{what} file", "strategies, at_risk_decile and retention "
                                                      "(or tiers, actions and min_value_at_risk)")
        return data, f"{what} file {source}:"
    if not isinstance(source, dict):
        raise CxValueError(f"{what}: expected a mapping with strategies, at_risk_decile and retention (or a YAML "
                           f"file), got {type(source).__name__}")
    return source, what


def _action(v, where: str, key: str) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int, float)) or not str(v).strip():
        raise CxValueError(f"{where} {key}: expected an action (a catalogue key such as play_pursue_stability "
                           f"or churn_act_monitor, or text), got {v!r}")
    return str(v).strip()


def _merge_strategies(pb: dict, data, where: str) -> None:
    if not isinstance(data, dict):
        raise CxValueError(f"{where} strategies: expected a mapping of value-matrix strategy → "
                           f"{{lifecycle stage: action}}, got {type(data).__name__}")
    for strategy, plays in data.items():
        key = f"strategies.{strategy}"
        if not isinstance(plays, dict):
            plays = {stage: plays for stage in PLAY_STAGES}   # one play for every stage
        bad = [s for s in plays if s not in PLAY_STAGES]
        if bad:
            raise CxValueError(f"{where} {key}: stage {bad[0]!r} is not valid: expected "
                               f"{', '.join(PLAY_STAGES)}")
        given = {s: _action(a, where, f"{key}.{s}") for s, a in plays.items()}
        old = pb["strategies"].get(str(strategy))
        if old is None:
            if "unknown" not in given:
                raise CxValueError(f"{where} {key}: a strategy not in the default playbook needs a play for "
                                   f"'unknown' (the play of customers without a lifecycle stage and of the stages "
                                   f"not given)")
            old = {s: given["unknown"] for s in PLAY_STAGES}
        pb["strategies"][str(strategy)] = {**old, **given}


def _merge_retention(ret: dict, data, where: str, prefix: str = "") -> None:
    """Update the retention part ``ret`` (tiers, min_value_at_risk, actions) with ``data``."""
    if not isinstance(data, dict):
        raise CxValueError(f"{where} {prefix or 'retention'}: expected a mapping with actions (and optional tiers, "
                           f"min_value_at_risk), got {type(data).__name__}")
    unknown = [k for k in data if k not in RETENTION_KEYS]
    if unknown:
        raise CxValueError(f"{where} key {prefix}{unknown[0]!r} is not valid: expected tiers, actions or "
                           f"min_value_at_risk")
    tiers = data.get("tiers") or {}
    if not isinstance(tiers, dict):
        raise CxValueError(f"{where} {prefix}tiers: expected high and medium as quantiles between 0 and 1, "
                           f"got {tiers!r}")
    for k, v in tiers.items():
        if k not in ("high", "medium") or isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
            raise CxValueError(f"{where} {prefix}tiers.{k}={v!r}: expected high and medium as quantiles between "
                               f"0 and 1")
    merged = {**ret["tiers"], **tiers}
    if merged["medium"] >= merged["high"]:
        raise CxValueError(f"{where} {prefix}tiers: medium ({merged['medium']}) must be below high "
                           f"({merged['high']})")
    ret["tiers"] = merged
    actions = data.get("actions") or {}
    if not isinstance(actions, dict):
        raise CxValueError(f"{where} {prefix}actions: expected a mapping of reason family → {{value tier: action}}, "
                           f"got {type(actions).__name__}")
    for reason, acts in actions.items():
        if not isinstance(acts, dict):
            acts = {t: acts for t in VALUE_TIERS}  # one action for every tier
        bad = [t for t in acts if t not in VALUE_TIERS]
        if bad:
            raise CxValueError(f"{where} {prefix}actions.{reason}: tier {bad[0]!r} is not valid: expected "
                               f"{', '.join(VALUE_TIERS)}")
        given = {t: _action(a, where, f"{prefix}actions.{reason}.{t}") for t, a in acts.items()}
        ret["actions"].setdefault(str(reason), dict(ret["actions"]["default"])).update(given)
    if "min_value_at_risk" in data:
        v = data["min_value_at_risk"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise CxValueError(f"{where} {prefix}min_value_at_risk={v!r}: expected a number of at least 0")
        ret["min_value_at_risk"] = float(v)


def _merge(pb: dict, source) -> None:
    data, where = _read(source)
    keys = list(data)
    if any(k in PLAYBOOK_KEYS for k in keys):          # a whole playbook
        stray = [k for k in keys if k not in PLAYBOOK_KEYS]
        if stray:
            hint = " (the retention part belongs under retention:)" if stray[0] in RETENTION_KEYS else ""
            raise CxValueError(f"{where} key {stray[0]!r} is not valid: expected {', '.join(PLAYBOOK_KEYS)}{hint}")
        if data.get("strategies") is not None:
            _merge_strategies(pb, data["strategies"], where)
        if "at_risk_decile" in data:
            v = data["at_risk_decile"]
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 10):
                raise CxValueError(f"{where} at_risk_decile={v!r}: expected a churn risk decile from 1 to 10 "
                                   f"(or null: the play is never replaced)")
            pb["at_risk_decile"] = v
        if data.get("retention") is not None:
            _merge_retention(pb["retention"], data["retention"], where, "retention.")
        return
    unknown = [k for k in keys if k not in RETENTION_KEYS]
    if unknown:
        raise CxValueError(f"{where} key {unknown[0]!r} is not valid: expected tiers, actions or min_value_at_risk "
                           f"(a retention playbook) or {', '.join(PLAYBOOK_KEYS)} (a whole playbook)")
    _merge_retention(pb["retention"], data, where)   # the former churn playbook: the retention part


def load_playbook(*sources) -> dict:
    """The default playbook updated with each of ``sources`` in turn (None, a dict or a YAML file
    path: a whole playbook, or a retention part in the churn-playbook format), validated.
    Errors name the file (or ``playbook``) and the key."""
    pb = copy.deepcopy(DEFAULT_PLAYBOOK)
    for source in sources:
        if source is not None and source != "":
            _merge(pb, source)
    return pb


def playbook_from_settings(settings: dict | None) -> dict:
    """The playbook of the settings ``playbook`` (a whole playbook) then ``churn_playbook`` (its
    retention part, or a whole playbook too), over the defaults."""
    s = settings or {}
    return load_playbook(s.get("playbook"), s.get("churn_playbook"))


def retention_playbook(playbook=None) -> dict:
    """The retention part (``tiers``, ``min_value_at_risk``, ``actions``) of
    ``load_playbook(playbook)``: what :func:`cxvalue.churn.retention.retention_list` applies."""
    return load_playbook(playbook)["retention"]


# --------------------------------------------------------------------------- the playbook as data
def play_of(playbook: dict, strategy, stage) -> str | None:
    """The play for ``strategy`` × ``stage`` (an unknown or missing stage: the ``unknown`` play);
    None for a strategy the playbook does not know."""
    plays = playbook["strategies"].get(strategy)
    if plays is None:
        return None
    return plays.get(stage if stage in STAGES else "unknown")


def retention_action_of(playbook: dict, reason, tier: str) -> str:
    """The retention action for churn reason family ``reason`` × value tier ``tier``."""
    acts = playbook["retention"]["actions"]
    return acts.get(reason, acts["default"]).get(tier, acts["default"][tier])


def playbook_cells(playbook: dict) -> pd.DataFrame:
    """One row per strategy × stage of the playbook: ``strategy``, ``value_tier`` (the value-matrix
    tier of a default strategy, else empty), ``stage``, ``play``; default strategies first."""
    order = [s for s in STRATEGY_ORDER if s in playbook["strategies"]] + \
        [s for s in playbook["strategies"] if s not in STRATEGY_ORDER]
    return pd.DataFrame([{"strategy": s, "value_tier": STRATEGY_TIER.get(s, ""), "stage": stage,
                          "play": playbook["strategies"][s][stage]} for s in order for stage in PLAY_STAGES])


def retention_cells(playbook: dict) -> pd.DataFrame:
    """One row per reason family × value tier of the retention part: ``reason``, ``value_tier``, ``action``."""
    return pd.DataFrame([{"reason": r, "value_tier": tier, "action": a}
                         for r, acts in playbook["retention"]["actions"].items() for tier, a in acts.items()])


# --------------------------------------------------------------------------- applied per customer, in the engine
def _cid(t):
    return t.customer_id.cast("string")


def customer_plays(con, playbook: dict | None = None):
    """Ibis table, one row per customer of ``customer_value``: ``customer_id``, ``value_tier``,
    ``strategy``, ``stage`` (the lifecycle's current stage; ``unknown`` without one), ``ended``
    (the relationship has ended; null without a lifecycle) and ``play``.

    A strategy the playbook does not know gets no play (null) and a :class:`DataQualityWarning`
    naming it."""
    pb = playbook if playbook is not None else load_playbook()
    if not has_table(con, "customer_value"):
        raise CxValueError("no customer_value table in the store: run the customer value step first "
                           "(`cxvalue value` or `cxvalue run`)")
    cv = con.table("customer_value")
    if "strategy" in cv.columns:
        strategy = cv.strategy.cast("string")
    elif "value_tier" in cv.columns:
        strategy = cv.value_tier.cast("string").substitute(STRATEGIES, else_=ibis.null("string"))
    else:
        raise CxValueError("customer_value: expected a strategy or value_tier column (the value matrix of the "
                           "customer value step)")
    tier = cv.value_tier.cast("string") if "value_tier" in cv.columns else ibis.null("string")
    t = cv.select(customer_id=_cid(cv), value_tier=tier, strategy=strategy)
    if has_table(con, "lifecycle"):
        lc = con.table("lifecycle")
        ended = lc.ended.cast("boolean") if "ended" in lc.columns else ibis.null("boolean")
        lc = lc.select(_lc=_cid(lc), _stage=lc.current_stage.cast("string"), ended=ended)
        t = t.left_join(lc, t.customer_id == lc._lc).drop("_lc")
        stage = ibis.cases((t._stage.isin(list(STAGES)), t._stage), else_=ibis.literal("unknown"))
        t = t.mutate(stage=stage).drop("_stage")
    else:
        warnings.warn("no lifecycle table in the store: every customer's stage is unknown and gets the strategy's "
                      "general play (run `cxvalue lifecycle` or `cxvalue run` for the plays per stage)",
                      DataQualityWarning, stacklevel=2)
        t = t.mutate(stage=ibis.literal("unknown"), ended=ibis.null("boolean"))
    cells = playbook_cells(pb)
    grid = ibis.memtable(cells[["strategy", "stage", "play"]].rename(
        columns={"strategy": "_ps", "stage": "_pst", "play": "play"}))
    t = t.left_join(grid, (t.strategy == grid._ps) & (t.stage == grid._pst)).drop("_ps", "_pst")
    known = set(pb["strategies"])
    found = [s for s in cv.select(s=strategy).distinct().to_pandas().s if s is not None and s == s]
    missing = sorted(str(s) for s in found if s not in known)
    if missing:
        warnings.warn(f"value-matrix strateg{'ies' if len(missing) > 1 else 'y'} {', '.join(map(repr, missing))} "
                      f"not in the playbook: those customers get no play (add them under strategies:)",
                      DataQualityWarning, stacklevel=2)
    return t.select("customer_id", "value_tier", "strategy", "stage", "ended", "play")


def customer_strategies(con, playbook: dict | None = None):
    """Ibis table, one row per customer of ``customer_value``: :func:`customer_plays`, then
    ``p_churn``, ``risk_decile``, ``main_reason`` (from ``churn_scores``), ``retention_tier``,
    ``value_at_risk`` and ``retention_action`` (from ``retention_list``; null when absent), and
    the recommended ``action`` with its ``action_source``: ``retention`` when the customer's risk
    decile is at most ``at_risk_decile`` (1 = most at risk) and the retention list has an action for them, else
    ``strategy`` (the play)."""
    pb = playbook if playbook is not None else load_playbook()
    t = customer_plays(con, pb)
    if has_table(con, "churn_scores"):
        sc = con.table("churn_scores")
        cols = {"p_churn": sc.p_churn.cast("float64")}
        cols["risk_decile"] = sc.risk_decile.cast("int64") if "risk_decile" in sc.columns else ibis.null("int64")
        cols["main_reason"] = sc.main_reason.cast("string") if "main_reason" in sc.columns else ibis.null("string")
        sc = sc.select(_sc=_cid(sc), **cols)
        t = t.left_join(sc, t.customer_id == sc._sc).drop("_sc")
    else:
        t = t.mutate(p_churn=ibis.null("float64"), risk_decile=ibis.null("int64"), main_reason=ibis.null("string"))
    if has_table(con, "retention_list"):
        rl = con.table("retention_list")
        rl = rl.select(_rl=_cid(rl), retention_tier=rl.value_tier.cast("string"),
                       value_at_risk=rl.value_at_risk.cast("float64"), retention_action=rl.action.cast("string"))
        t = t.left_join(rl, t.customer_id == rl._rl).drop("_rl")
    else:
        if pb.get("at_risk_decile") is not None:
            warnings.warn("no retention list in the store: no customer gets a retention action instead of the play "
                          "(run `cxvalue churn` and `cxvalue retention`, or `cxvalue run`)",
                          DataQualityWarning, stacklevel=2)
        t = t.mutate(retention_tier=ibis.null("string"), value_at_risk=ibis.null("float64"),
                     retention_action=ibis.null("string"))
    cut = pb.get("at_risk_decile")
    if cut is None:
        at_risk = ibis.literal(False)
    else:
        at_risk = (t.risk_decile <= int(cut)).fill_null(False) & t.retention_action.notnull()
    t = t.mutate(action=ibis.ifelse(at_risk, t.retention_action, t.play),
                 action_source=ibis.ifelse(at_risk, ibis.literal("retention"), ibis.literal("strategy")))
    return t


def strategy_matrix(strategies, playbook: dict | None = None) -> pd.DataFrame:
    """Customers per strategy × stage (``strategies``: the :func:`customer_strategies` table or
    expression): one row per playbook cell — the four lifecycle stages of every strategy, and
    ``unknown`` where customers have no stage — plus any strategy of the data the playbook lacks.
    Columns ``strategy``, ``value_tier``, ``stage``, ``customers``, ``customer_share``,
    ``at_risk`` (customers whose action is the retention action), ``play``."""
    pb = playbook if playbook is not None else load_playbook()
    t = ibis.memtable(strategies) if isinstance(strategies, pd.DataFrame) else strategies
    counts = t.group_by(["strategy", "stage"]).aggregate(
        customers=t.count(), at_risk=(t.action_source == "retention").cast("int64").sum(),
        tier=t.value_tier.max()).to_pandas()
    cells = playbook_cells(pb)
    extra = counts[~counts.set_index(["strategy", "stage"]).index.isin(
        cells.set_index(["strategy", "stage"]).index)]
    extra = extra.assign(value_tier=extra.tier.fillna(""), play=None)[["strategy", "value_tier", "stage", "play"]]
    out = pd.concat([cells, extra], ignore_index=True).merge(
        counts[["strategy", "stage", "customers", "at_risk", "tier"]], on=["strategy", "stage"], how="left")
    out["customers"] = out.customers.fillna(0).astype("int64")
    out["at_risk"] = out.at_risk.fillna(0).astype("int64")
    out["value_tier"] = out.value_tier.where(out.value_tier.astype(bool), out.tier.fillna(""))
    out = out[(out.stage != "unknown") | (out.customers > 0)].drop(columns="tier")
    total = int(out.customers.sum())
    out["customer_share"] = out.customers / total if total else 0.0
    out["strategy"] = out.strategy.fillna("")
    return out[["strategy", "value_tier", "stage", "customers", "customer_share", "at_risk", "play"]] \
        .reset_index(drop=True)
