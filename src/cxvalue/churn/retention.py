"""Retention (concepts.md F4, F5): value at risk and a ranked retention list with the
recommended action per reason and value tier.

``value_at_risk = p_churn × value``, where ``value`` comes from
:func:`cxvalue.value.customer_value.customer_values`: the customer's predictive CLV (store
table ``customer_value``, column ``clv``, written by the value analysis) or, when there is
none, the spend (net of returns) of the last 12 months. ``value_source`` says which one was used.

Value tiers (:func:`cxvalue.value.segments.value_tiers` of the scored customers' values):
``high`` above the ``tiers["high"]`` quantile of value (default the top 20%), ``medium``
above the ``tiers["medium"]`` quantile (default the median), ``low`` otherwise. The action per
(reason family × value tier) comes from the ``retention`` section of the one strategy playbook
(:mod:`cxvalue.loop.playbook`, docs/strategy.md); reason families come from the model's top
reason (:func:`cxvalue.churn.prediction.reason_family`). The retention part of a playbook is a
dict or a YAML file in the format of the former churn playbook::

    tiers: {high: 0.8, medium: 0.5}
    min_value_at_risk: 0
    actions:
      complaint: {high: "senior manager resolves within 48h", medium: churn_act_resolve_complaint}
      default: {high: churn_act_account_review, medium: churn_act_retention_offer, low: churn_act_monitor}

or a whole playbook (``strategies``, ``at_risk_decile``, ``retention``). Entries given override
the defaults (:data:`DEFAULT_PLAYBOOK`, the playbook's default retention section); action keys
``churn_act_*`` have bilingual labels in the message catalogue, free text is shown as written.
With ``plays`` (:func:`cxvalue.loop.playbook.customer_plays`) the list also carries each
customer's value-matrix ``strategy``, lifecycle ``stage`` and the playbook's ``play``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CxValueError
from ..loop.playbook import DEFAULT_PLAYBOOK as _PLAYBOOK
from ..loop.playbook import load_playbook as _load_whole
from ..loop.playbook import playbook_cells, retention_action_of
from ..value.segments import VALUE_TIERS, value_tiers

TIERS = VALUE_TIERS
#: the default retention part of the strategy playbook (:data:`cxvalue.loop.playbook.DEFAULT_PLAYBOOK`)
DEFAULT_PLAYBOOK: dict = _PLAYBOOK["retention"]


def load_playbook(playbook: dict | str | Path | None = None) -> dict:
    """The retention part (``tiers``, ``min_value_at_risk``, ``actions``) of the default playbook
    updated with ``playbook`` (a dict or a YAML file path: a retention part or a whole playbook),
    validated; errors name the file and the key."""
    return _load_whole(playbook)["retention"]


def retention_list(scores: pd.DataFrame, values: pd.DataFrame, *, playbook: dict | str | Path | None = None,
                   owners: pd.Series | None = None, plays: pd.DataFrame | None = None,
                   uplift: pd.DataFrame | None = None, offer_cost: float = 0.0, uplift_amount: bool = False) -> pd.DataFrame:
    """The ranked retention list: one row per scored customer, highest value at risk first.

    ``scores`` is indexed by customer with ``p_churn`` and optionally ``main_reason`` and
    ``top_reasons`` (from :meth:`ChurnModel.explain`); ``values`` has ``value`` (and
    ``value_source``). Columns: ``rank``, ``p_churn``, ``value``, ``value_source``,
    ``value_at_risk``, ``value_tier``, ``main_reason``, ``action`` (the playbook's retention
    action), ``top_reasons`` (and ``owner`` when given; ``strategy``, ``stage`` and ``play`` from
    ``plays``, a frame indexed by customer as :func:`cxvalue.loop.playbook.customer_plays` returns).

    With ``uplift`` (indexed by customer: ``uplift`` and ``segment``, as
    :meth:`cxvalue.churn.uplift.UpliftModel.predict` returns) the list also carries ``uplift``,
    ``uplift_segment`` and ``expected_saved = uplift × value − offer_cost`` (``uplift −
    offer_cost`` when ``uplift_amount``: the campaign's outcome was an amount, not 1/0) and is
    ranked by ``expected_saved``: an offer goes first to the customers it changes most, not to
    those most at risk (who may be sure things or lost causes). Customers without a prediction
    keep their value at risk and come after."""
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
    whole = {"retention": pb}
    df["action"] = [retention_action_of(whole, r, t) for r, t in zip(df.main_reason, df.value_tier)]
    df["top_reasons"] = scores["top_reasons"] if "top_reasons" in scores.columns else ""
    if owners is not None:
        df["owner"] = owners.reindex(df.index)
    if plays is not None:
        pl = plays.reindex(df.index)
        for c in ("strategy", "stage", "play"):
            df[c] = pl[c] if c in pl.columns else None
        df["stage"] = df.stage.fillna("unknown")
    df = df[df.value_at_risk >= pb["min_value_at_risk"]]
    order = ["value_at_risk", "p_churn"]
    if uplift is not None:
        u = uplift.reindex(df.index)
        df["uplift"] = pd.to_numeric(u["uplift"], errors="coerce")
        df["uplift_segment"] = u["segment"]
        df["expected_saved"] = (df.uplift if uplift_amount else df.uplift * df.value) - float(offer_cost)
        order = ["expected_saved"] + order
    df = df.sort_values(order, ascending=False, kind="stable", na_position="last")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df.index.name = "customer_id"
    return df


def export_retention(df: pd.DataFrame, path: str | Path, *, lang: str = "en",
                     playbook: dict | str | Path | None = None) -> Path:
    """Write the retention list to ``path``: ``.csv`` (UTF-8 with BOM, opens in Excel) or ``.xlsx``
    (sheets: the list with translated action labels, the playbook's retention actions, and — when
    the list carries plays — the strategy playbook). ``playbook``: a whole playbook or its
    retention part (dict or YAML file), over the defaults."""
    from ..i18n import t
    path = Path(path)
    out = df.reset_index() if df.index.name else df.copy()
    for col in ("action", "play"):
        if col in out.columns:
            out.insert(out.columns.get_loc(col) + 1, f"{col}_label",
                       [t(a, lang) if isinstance(a, str) else None for a in out[col]])
    from ..io.export import write_sheets
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise CxValueError(f"{path.name}: unsupported export type {suffix!r}: expected .csv or .xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheets = {"retention_list": out}
    if suffix == ".xlsx":
        whole = _load_whole(playbook)
        sheets["playbook"] = pd.DataFrame([{"reason": r, "value_tier": tier, "action": a, "action_label": t(a, lang)}
                                           for r, acts in whole["retention"]["actions"].items()
                                           for tier, a in acts.items()])
        if "play" in out.columns:
            cells = playbook_cells(whole)
            cells["play_label"] = [t(a, lang) for a in cells.play]
            sheets["strategy_playbook"] = cells
    return write_sheets(sheets, path, format_sheet=_format_list)


def _format_list(name: str, ws) -> None:
    """The retention list's sheet: header and first column frozen, columns as wide as their text."""
    if name != "retention_list":
        return
    ws.freeze_panes = "B2"
    for col in ws.columns:
        width = max(len(str(c.value or "")) for c in list(col)[:200])
        ws.column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 60)
