"""Strategy view (H3): the strategy playbook applied — customers per value-matrix strategy ×
lifecycle stage with the play of each cell, and the playbook's retention actions per churn
reason family × value tier (the one source of recommended actions, docs/strategy.md).

:func:`strategy_view` turns the ``strategy_matrix`` table (step "strategy",
:func:`cxvalue.loop.playbook.strategy_matrix`) into the view; :func:`build` reads it from the
store with the step's warnings and summary from the run log. Nothing is computed here but a
pivot for display.
"""
from __future__ import annotations

from ...errors import CxValueError
from ...lifecycle.stages import STAGES
from ...loop.playbook import PLAY_STAGES, playbook_from_settings, retention_cells
from ...store import read_result
from ...value.segments import VALUE_TIERS
from . import (Column, Kpi, Kpis, Note, Table, Text, View, coded_label, has_rows, records, skipped_steps,
                step_notes, view)

STEP = "strategy"


def stage_label(t, stage) -> str:
    """The display label of a lifecycle stage, ``unknown`` included."""
    return t(f"lifecycle_{stage}") if stage in STAGES else t("strategy_stage_unknown")


def strategy_label(t, strategy, tier=None) -> str:
    """``Platinum · pursue`` (the value-matrix tier and its strategy), or the strategy alone."""
    s = coded_label(t, "strategy_", strategy) if strategy else "–"
    return f"{coded_label(t, 'tier_', tier)} · {s}" if tier else s


def action_label(t, action) -> str | None:
    """The catalogue text of an action key (free text is shown as written)."""
    return t(action) if isinstance(action, str) and action else None


@view("strategy", 75)
def build(session) -> View | None:
    o = session.outcomes().get(STEP) or {}
    playbook, notes = None, list(step_notes(session, STEP))
    try:
        playbook = playbook_from_settings(session.settings)
    except CxValueError as exc:   # shown on the view: the step reports the same error as its skip reason
        notes.append(Note("DataQualityWarning", session.t("strategy_playbook_error", error=str(exc))))
    v = strategy_view(session, read_result(session.con, "strategy_matrix"), playbook=playbook, notes=notes,
                      summary=o.get("summary") or {})
    if v is not None:   # the step runs in the loop domain: its skip reason, when the last run skipped it
        v.skipped = [s for s in skipped_steps(session, "loop") if s["step"] == STEP]
    return v


def strategy_view(session, matrix, *, playbook: dict | None = None, notes=(), summary: dict | None = None) -> View | None:
    """The strategy view of ``matrix`` (rows as :func:`cxvalue.loop.playbook.strategy_matrix`
    returns); ``playbook`` adds its retention actions; ``summary``: the step's summary (its
    ``at_risk_decile``). None without the matrix."""
    t = session.t
    if not has_rows(matrix):
        return None
    summary = summary or {}
    decile = summary.get("at_risk_decile", playbook.get("at_risk_decile") if playbook else None)
    v = View("strategy", t("view_strategy"))
    total, at_risk = int(matrix.customers.sum()), int(matrix.at_risk.sum())
    unknown = int(matrix.loc[matrix.stage == "unknown", "customers"].sum())
    v.meta.update(customers=total, retention_actions=at_risk, stage_unknown=unknown, at_risk_decile=decile)
    v.blocks.append(Kpis("strategy-kpis", t("strategy_kpis"), warnings=list(notes), items=[
        Kpi("customers", t("strategy_customers"), total, "int"),
        Kpi("retention_actions", t("strategy_retention_actions"), at_risk, "int"),
        Kpi("stage_unknown", t("strategy_stage_unknown_n"), unknown, "int")]))
    v.blocks.append(Text("strategy-intro", text=t("strategy_intro", decile=decile) if decile is not None
                         else t("strategy_intro_no_risk")))
    # customers per strategy (rows) × stage (columns): a pivot for display
    strategies = list(dict.fromkeys(matrix.strategy))
    stages = [s for s in PLAY_STAGES if s in set(matrix.stage)]
    cells = {(r["strategy"], r["stage"]): r for r in records(matrix)}
    tiers = {r["strategy"]: r["value_tier"] for r in cells.values()}
    v.blocks.append(Table("strategy-counts", t("strategy_counts"), columns=[
        Column("strategy_label", t("web_strategy"))] + [Column(s, stage_label(t, s), "int") for s in stages] + [
        Column("customers", t("customers_n"), "int")], rows=[
        {"strategy": s, "strategy_label": strategy_label(t, s, tiers.get(s)),
         **{st: cells.get((s, st), {}).get("customers", 0) for st in stages},
         "customers": sum(cells.get((s, st), {}).get("customers", 0) for st in stages)} for s in strategies]))
    v.blocks.append(Table("strategy-matrix", t("strategy_matrix"), columns=[
        Column("strategy_label", t("web_strategy")), Column("stage_label", t("lifecycle_stage")),
        Column("customers", t("customers_n"), "int"), Column("customer_share", t("share"), "pct1"),
        Column("at_risk", t("strategy_retention_actions"), "int"), Column("play_label", t("strategy_play"))],
        rows=[{**r, "strategy_label": strategy_label(t, r["strategy"], r["value_tier"]),
               "stage_label": stage_label(t, r["stage"]), "play_label": action_label(t, r["play"])}
              for r in records(matrix)], note=t("strategy_matrix_note")))
    if playbook is not None:
        rc = retention_cells(playbook)
        rows = []
        for reason, g in rc.groupby("reason", sort=False):
            acts = dict(zip(g.value_tier, g.action))
            rows.append({"reason": reason, "reason_label": coded_label(t, "churn_fam_", reason),
                         **{tier: action_label(t, acts.get(tier)) for tier in VALUE_TIERS}})
        v.blocks.append(Table("strategy-retention-actions", t("strategy_retention_table"), columns=[
            Column("reason_label", t("churn_main_reason"))] + [
            Column(tier, coded_label(t, "tier_", tier)) for tier in VALUE_TIERS], rows=rows,
            note=t("strategy_retention_note")))
    return v
