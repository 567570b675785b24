"""Relationship lifecycle view (G1, G2): customers per current stage, the stage flow over time,
the stage transition matrix, stage characteristics against the seed's profile, and lifecycle
patterns.

:func:`lifecycle_view` turns frames shaped like the lifecycle result tables
(:func:`cxvalue.lifecycle.pipeline.analyse_lifecycle`) into the view; :func:`build` reads them
from the store with the step's warnings from the run log; ``cxvalue lifecycle FILE`` passes the
frames of an analysis of a transactions file.
"""
from __future__ import annotations

from ...lifecycle.characteristics import SEED_PROFILE
from ...lifecycle.patterns import PATTERNS
from ...lifecycle.stages import STAGES
from ...lifecycle.transitions import STATES, matrix_wide
from ...store import read_result
from . import Chart, Column, Kpi, Kpis, Table, Text, View, has_rows, records, step_notes, stored_value, view

STEP = "lifecycle"
TABLES = ("lifecycle_summary", "lifecycle_flow", "lifecycle_transitions", "lifecycle_characteristics",
          "lifecycle_patterns")
#: the measures of a stage set against the seed's profile: (measure, column, format)
MEASURES = (("volume", "purchases_per_period", "float2"), ("price", "amount_per_purchase", "money"),
            ("cost", "cost_share", "pct1"), ("profit", "profit_per_period", "money"))


@view("lifecycle", 70)
def build(session) -> View | None:
    frames = {n: read_result(session.con, n) for n in TABLES}
    return lifecycle_view(session, frames, notes=step_notes(session, STEP))


def lifecycle_view(session, frames: dict, *, notes=()) -> View | None:
    """The lifecycle view of ``frames`` (result-table names → DataFrames); ``notes``: the typed
    warnings raised while computing them (shown on the first block). None without the flow."""
    t, cur = session.t, session.currency
    flow = frames.get("lifecycle_flow")
    if not has_rows(flow):
        return None
    v = View("lifecycle", t("view_lifecycle"))
    summ = frames.get("lifecycle_summary")
    if has_rows(summ):
        m = {k: stored_value(x) for k, x in zip(summ.metric, summ.value)}
        v.as_of = str(m["as_of"]) if m.get("as_of") is not None else None
        v.meta.update(as_of=m.get("as_of"), customers=m.get("customers"),
                      rules={k[5:]: x for k, x in m.items() if k.startswith("rule_")},
                      current_stage={s: m.get(f"current_{s}", 0) for s in STAGES}, ended=m.get("ended"))
        v.blocks.append(Kpis("lifecycle-kpis", t("lifecycle_title"), items=[
            Kpi("customers", t("customers_n"), m.get("customers"), "int"),
            *[Kpi(f"current_{s}", t(f"lifecycle_{s}"), m.get(f"current_{s}", 0), "int") for s in STAGES],
            Kpi("ended", t("lifecycle_ended"), m.get("ended"), "int")]))
    v.blocks.append(Text("lifecycle-intro", text=t("lifecycle_intro")))
    stages = [s for s in STAGES if s in flow.columns]
    v.blocks.append(Chart("lifecycle-flow", t("lifecycle_flow"), chart="stacked_area", value_format="int",
                          data={"x": flow.period.astype(str).tolist(),
                                "series": {t(f"lifecycle_{s}"): flow[s].astype(float).tolist() for s in stages}}))
    tr = frames.get("lifecycle_transitions")
    if has_rows(tr):
        w = matrix_wide(tr)
        to = [s for s in STATES if s in w.columns]
        v.blocks.append(Table("lifecycle-transitions", t("lifecycle_transitions"), columns=[
            Column("from_label", t("lifecycle_from_to"))] + [Column(s, t(f"lifecycle_{s}"), "pct1") for s in to],
            rows=[{"from_stage": i, "from_label": t(f"lifecycle_{i}"), **{s: float(row[s]) for s in to}}
                  for i, row in w.iterrows()]))
    ch = frames.get("lifecycle_characteristics")
    if has_rows(ch):
        cols = [Column("stage_label", t("lifecycle_stage")), Column("customers", t("customers_n"), "int")]
        for measure, col, f in MEASURES:
            cols += [Column(col, t(f"lifecycle_m_{measure}", currency=cur), f),
                     Column(f"seed_{measure}", t("lifecycle_seed_profile"))]
        rows = []
        for r in records(ch):
            i = STAGES.index(r["stage"]) if r["stage"] in STAGES else None
            seed = {f"seed_{m}": t(SEED_PROFILE[m][i]) if i is not None else "" for m in SEED_PROFILE}
            rows.append({**r, "stage_label": t(f"lifecycle_{r['stage']}"), **seed})
        v.blocks.append(Table("lifecycle-characteristics", t("lifecycle_characteristics"), columns=cols, rows=rows,
                              note=t("lifecycle_seed_columns_note")))
    pats = frames.get("lifecycle_patterns")
    if has_rows(pats):
        p = pats[pats.group == "all"] if "group" in pats.columns else pats
        order = {x: i for i, x in enumerate(PATTERNS)}
        p = p.sort_values("pattern", key=lambda s: s.map(order))
        rows = [{**r, "pattern_label": t(f"lifecycle_{r['pattern']}")} for r in records(p)]
        v.blocks += [
            Chart("lifecycle-patterns", t("lifecycle_patterns"), chart="bar", value_format="pct1",
                  data={"labels": [r["pattern_label"] for r in rows], "values": p.share.astype(float).tolist()}),
            Table("lifecycle-patterns-table", "", columns=[
                Column("pattern_label", t("lifecycle_pattern")), Column("customers", t("customers_n"), "int"),
                Column("share", t("lifecycle_share"), "pct1"),
                Column("share_decided", t("lifecycle_share_decided"), "pct1"),
                Column("mean_purchases", t("lifecycle_mean_purchases"), "float1"),
                Column("mean_days", t("lifecycle_mean_days"), "int")], rows=rows)]
    v.blocks[0].warnings = list(notes) + v.blocks[0].warnings
    return v
