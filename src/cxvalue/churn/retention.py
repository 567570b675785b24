"""Retention (concepts.md F4, F5): value at risk and a ranked retention list with the
recommended action per reason and value tier.

``value_at_risk = p_churn × value``, where ``value`` comes from
:func:`cxvalue.value.customer_value.customer_values`: the customer's predictive CLV (store
table ``customer_value``, column ``clv``, written by the value analysis) or, when there is
none, the spend (net of returns) of the last 12 months. ``value_source`` says which one was used.

Value tiers (:func:`cxvalue.value.segments.value_tiers` of the scored customers' values):
``high`` above the ``tiers["high"]`` quantile of value (default the top 20%), ``medium``
above the ``tiers["medium"]`` quantile (default the median), ``low`` otherwise. The playbook maps (reason family × value tier) to an action;
reason families come from the model's top reason (:func:`cxvalue.churn.prediction.reason_family`).
A playbook is a dict or a YAML file::

    tiers: {high: 0.8, medium: 0.5}
    min_value_at_risk: 0
    actions:
      complaint: {high: "senior manager resolves within 48h", medium: churn_act_resolve_complaint}
      default: {high: churn_act_account_review, medium: churn_act_retention_offer, low: churn_act_monitor}

Entries given override the defaults (:data:`DEFAULT_PLAYBOOK`); action keys ``churn_act_*``
have bilingual labels in the message catalogue, free text is shown as written.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CxValueError
from ..value.segments import TIER_QUANTILES, VALUE_TIERS, value_tiers

TIERS = VALUE_TIERS
DEFAULT_PLAYBOOK: dict = {
    "tiers": dict(TIER_QUANTILES),
    "min_value_at_risk": 0.0,
    "actions": {
        "complaint": {"high": "churn_act_escalate_complaint", "medium": "churn_act_resolve_complaint",
                      "low": "churn_act_resolve_complaint_standard"},
        "experience": {"high": "churn_act_manager_call", "medium": "churn_act_service_recovery",
                       "low": "churn_act_survey_follow_up"},
        "engagement": {"high": "churn_act_personal_offer", "medium": "churn_act_reactivation_offer",
                       "low": "churn_act_win_back_campaign"},
        "price": {"high": "churn_act_tailored_pricing", "medium": "churn_act_plan_review", "low": "churn_act_lower_cost_plan"},
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
        "default": {"high": "churn_act_account_review", "medium": "churn_act_retention_offer", "low": "churn_act_monitor"},
    },
}


def load_playbook(playbook: dict | str | Path | None = None) -> dict:
    """The default playbook updated with ``playbook`` (a dict or a YAML file path), validated."""
    pb = copy.deepcopy(DEFAULT_PLAYBOOK)
    if playbook is None:
        return pb
    if isinstance(playbook, (str, Path)):
        from ..io.mapping import read_yaml_file
        playbook = read_yaml_file(playbook, "playbook file", "'actions' (and optional 'tiers')")
    if not isinstance(playbook, dict):
        raise CxValueError(f"playbook: expected a mapping with 'actions' (and optional 'tiers'), got {type(playbook).__name__}")
    unknown = set(playbook) - {"tiers", "actions", "min_value_at_risk"}
    if unknown:
        raise CxValueError(f"playbook key {sorted(unknown)[0]!r} is not valid: expected tiers, actions or min_value_at_risk")
    tiers = playbook.get("tiers") or {}
    for k, v in tiers.items():
        if k not in ("high", "medium") or not isinstance(v, (int, float)) or not 0 < v < 1:
            raise CxValueError(f"playbook tiers.{k}={v!r}: expected high and medium as quantiles between 0 and 1")
    pb["tiers"].update(tiers)
    if pb["tiers"]["medium"] >= pb["tiers"]["high"]:
        raise CxValueError(f"playbook tiers: medium ({pb['tiers']['medium']}) must be below high ({pb['tiers']['high']})")
    for reason, acts in (playbook.get("actions") or {}).items():
        if not isinstance(acts, dict):
            acts = {t: acts for t in TIERS}  # one action for every tier
        bad = set(acts) - set(TIERS)
        if bad:
            raise CxValueError(f"playbook actions.{reason}: tier {sorted(bad)[0]!r} is not valid: expected high, medium, low")
        pb["actions"].setdefault(reason, dict(pb["actions"]["default"])).update({k: str(v) for k, v in acts.items()})
    if "min_value_at_risk" in playbook:
        pb["min_value_at_risk"] = float(playbook["min_value_at_risk"])
    return pb


def retention_list(scores: pd.DataFrame, values: pd.DataFrame, *, playbook: dict | str | Path | None = None,
                   owners: pd.Series | None = None) -> pd.DataFrame:
    """The ranked retention list: one row per scored customer, highest value at risk first.

    ``scores`` is indexed by customer with ``p_churn`` and optionally ``main_reason`` and
    ``top_reasons`` (from :meth:`ChurnModel.explain`); ``values`` has ``value`` (and
    ``value_source``). Columns: ``rank``, ``p_churn``, ``value``, ``value_source``,
    ``value_at_risk``, ``value_tier``, ``main_reason``, ``action``, ``top_reasons``
    (and ``owner`` when given)."""
    pb = load_playbook(playbook)
    if "p_churn" not in scores.columns:
        raise CxValueError("scores: expected a p_churn column (churn probability per customer)")
    p = pd.to_numeric(scores["p_churn"], errors="coerce")
    if p.isna().any() or ((p < 0) | (p > 1)).any():
        raise CxValueError("scores.p_churn: expected probabilities between 0 and 1")
    df = pd.DataFrame({"p_churn": p}, index=scores.index)
    v = values.reindex(df.index)
    df["value"] = pd.to_numeric(v["value"], errors="coerce").fillna(0.0).clip(lower=0.0)
    src = v["value_source"] if "value_source" in v.columns else pd.Series("given", index=df.index)
    df["value_source"] = src.fillna("none")
    df["value_at_risk"] = df.p_churn * df.value
    df["value_tier"] = value_tiers(df.value, **pb["tiers"])
    df["main_reason"] = scores["main_reason"].fillna("other") if "main_reason" in scores.columns else "other"
    acts = pb["actions"]
    df["action"] = [acts.get(r, acts["default"]).get(t, acts["default"][t])
                    for r, t in zip(df.main_reason, df.value_tier)]
    df["top_reasons"] = scores["top_reasons"] if "top_reasons" in scores.columns else ""
    if owners is not None:
        df["owner"] = owners.reindex(df.index)
    df = df[df.value_at_risk >= pb["min_value_at_risk"]]
    df = df.sort_values(["value_at_risk", "p_churn"], ascending=False, kind="stable")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df.index.name = "customer_id"
    return df


def export_retention(df: pd.DataFrame, path: str | Path, *, lang: str = "en", playbook: dict | None = None) -> Path:
    """Write the retention list to ``path``: ``.csv`` (UTF-8 with BOM, opens in Excel) or ``.xlsx``
    (sheets: the list with translated action labels, and the playbook)."""
    from ..i18n import t
    path = Path(path)
    out = df.reset_index() if df.index.name else df.copy()
    if "action" in out.columns:
        out.insert(out.columns.get_loc("action") + 1, "action_label", [t(a, lang) for a in out.action])
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        out.to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        pb = load_playbook(playbook)
        rows = [{"reason": r, "value_tier": tier, "action": a, "action_label": t(a, lang)}
                for r, acts in pb["actions"].items() for tier, a in acts.items()]
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            out.to_excel(xw, sheet_name="retention_list", index=False)
            pd.DataFrame(rows).to_excel(xw, sheet_name="playbook", index=False)
            ws = xw.sheets["retention_list"]
            ws.freeze_panes = "B2"
            for col in ws.columns:
                width = max(len(str(c.value or "")) for c in list(col)[:200])
                ws.column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 60)
    else:
        raise CxValueError(f"{path.name}: unsupported export type {suffix!r}: expected .csv or .xlsx")
    return path
