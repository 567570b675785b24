"""The closed loop in the report and the workplace: did following up work (table
``case_outcomes``, :mod:`cxvalue.loop.outcomes`) and the closed-loop KPIs
(:func:`cxvalue.interfaces.views.cases.kpis_view`)."""
from __future__ import annotations

import pandas as pd

from ...store import has_table, read_result
from . import Chart, Column, Kpi, Kpis, Note, Table, View, coded_label, skipped_steps, step_notes, view

#: how each kind of metric is shown: (format of the means, format of the effect)
FORMATS = {"retention": ("pct1", "pp"), "repurchase": ("pct1", "pp"), "nps": ("signed", "signed"),
           "spend": ("money", "money")}


def _formats(metric: str) -> tuple[str, str]:
    return FORMATS[metric.split("_")[0]]


def _fmt(v, fm: str, session) -> str:
    from . import fmt
    return fmt(v, fm, lang=session.lang)


def metric_label(t, metric: str) -> str:
    kind, _, h = metric.rpartition("_") if metric[-1].isdigit() else (metric, "", "")
    return t(f"out_m_{kind}", days=h) if h else t(f"out_m_{metric}")


def outcomes_blocks(session, res: pd.DataFrame) -> list:
    t = session.t
    blocks = []
    for rule, f in res.groupby("rule", sort=True):
        items = []        # the randomised comparison first (all worked cases), then within the SLA
        for metric in ("retention_180", "nps_change"):
            fe = _formats(metric)[1]
            for g in ("worked", "within_sla", "contacted"):
                r = f[(f.metric == metric) & (f.group == g)]
                if len(r):
                    r = r.iloc[0]
                    items.append(Kpi(f"{metric}_{g}", f"{metric_label(t, metric)} · {coded_label(t, 'out_g_', g)}",
                                     f"{_fmt(r.effect, fe, session)}  [{_fmt(r.ci_low, fe, session)}, "
                                     f"{_fmt(r.ci_high, fe, session)}]", "text"))
                    if metric == "retention_180" and pd.notna(r.relative_churn_change):
                        items.append(Kpi(f"relative_churn_{g}", f"{t('out_relative_churn')} · "
                                         f"{coded_label(t, 'out_g_', g)}", float(r.relative_churn_change), "pct"))
        notes = [Note("note", t("out_note_matched" if (f.method == "matched").any() else "out_note_holdout"))]
        if f.small_sample.any():
            notes.append(Note("SmallSampleWarning", t("out_note_small")))
        blocks.append(Kpis(f"outcomes-{rule}", t("out_title_rule", rule=coded_label(t, "rule_", rule)), items=items,
                           warnings=notes))
        chart_rows = f[f.metric == "retention_180"]
        if len(chart_rows):
            blocks.append(Chart(f"outcomes-{rule}-retention", t("out_chart_retention"), chart="interval_bar",
                                value_format="pp",
                                data={"labels": [coded_label(t, "out_g_", g) for g in chart_rows.group],
                                      "values": chart_rows.effect.astype(float).tolist(),
                                      "lows": chart_rows.ci_low.astype(float).tolist(),
                                      "highs": chart_rows.ci_high.astype(float).tolist(),
                                      "marks": chart_rows.small_sample.astype(bool).tolist()}))
        rows = []
        for r in f.to_dict("records"):
            fm, fe = _formats(r["metric"])
            rows.append({"metric": metric_label(t, r["metric"]),
                         "group": coded_label(t, "out_g_", r["group"]) + ("*" if r["observational"] else ""),
                         "n": r["n"], "n_control": r["n_control"],
                         "mean": _fmt(r["mean"], fm, session), "mean_control": _fmt(r["mean_control"], fm, session),
                         "effect": _fmt(r["effect"], fe, session),
                         "ci": f"[{_fmt(r['ci_low'], fe, session)}, {_fmt(r['ci_high'], fe, session)}]",
                         "p_value": r["p_value"]})
        control = coded_label(t, "out_g_", f.control.iloc[0])
        blocks.append(Table(f"outcomes-{rule}-table", t("out_table", rule=coded_label(t, "rule_", rule), control=control), columns=[
            Column("metric", t("out_metric")), Column("group", t("out_group")),
            Column("n", t("out_n"), "int"), Column("n_control", t("out_n_control"), "int"),
            Column("mean", t("out_mean")), Column("mean_control", t("out_mean_control")),
            Column("effect", t("out_effect")), Column("ci", t("out_ci")), Column("p_value", t("col_p_value"), "p")],
            rows=rows, note=t("out_star")))
    return blocks


def outcomes_view(session) -> View:
    """Did following up work, per rule (empty before the step "case outcomes" has run)."""
    v = View("case_outcomes", session.t("out_title"))
    if has_table(session.con, "case_outcomes"):
        res = read_result(session.con, "case_outcomes")
        if len(res):
            v.blocks = outcomes_blocks(session, res)
            v.meta = {"comparisons": len(res), "rules": sorted(res.rule.unique().tolist())}
    if not v.blocks:
        v.skipped = [s for s in skipped_steps(session, "loop") if s["step"] == "case outcomes"]
    return v


def initiative_blocks(session) -> list:
    """The started initiatives re-measured by the last run (table ``initiative_measures``)."""
    from .initiatives import kpi_label
    if not has_table(session.con, "initiative_measures"):
        return []
    df = read_result(session.con, "initiative_measures")
    if df.empty:
        return []
    t = session.t
    rows = [{"initiative_id": r["initiative_id"], "title": r["title"], "kpi": kpi_label(t, r["kpi"]),
             "status": coded_label(t, "ini_s_", r["status"]), "start_date": r["start_date"],
             "before": r["before"], "after": r["after"], "effect": r["effect"],
             "ci": f"[{_fmt(r['ci_low'], 'float2', session)}, {_fmt(r['ci_high'], 'float2', session)}]",
             "design": t("ini_did") if r["design"] == "did" else t("out_before_after"),
             "target_reached": None if pd.isna(r["target_reached"]) else t("web_yes" if r["target_reached"] else "web_no")}
            for r in df.to_dict("records")]
    return [Table("loop-initiatives", t("out_initiatives"), columns=[
        Column("initiative_id", t("ini_id")), Column("title", t("ini_title_col")), Column("kpi", t("ini_kpi")),
        Column("status", t("ini_status")), Column("start_date", t("ini_start"), "date"),
        Column("before", t("out_before"), "float2"), Column("after", t("out_after"), "float2"),
        Column("effect", t("out_effect"), "float2"), Column("ci", t("out_ci")), Column("design", t("out_design")),
        Column("target_reached", t("ini_target_reached"))], rows=rows,
        warnings=step_notes(session, "initiatives"))]


@view("loop", 80)
def build(session) -> View | None:
    """The report's closed-loop section: outcomes, the initiatives re-measured, then the KPIs."""
    from .cases import kpis_view
    out = outcomes_view(session)
    kpis = kpis_view(session)
    blocks = out.blocks + initiative_blocks(session) + kpis.blocks
    if not blocks:
        return None
    v = View("loop", session.t("view_loop"), blocks=blocks, meta={**kpis.meta, **out.meta})
    v.blocks[0].warnings = step_notes(session, "cases", "case outcomes") + v.blocks[0].warnings
    return v
