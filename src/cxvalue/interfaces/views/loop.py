"""The closed loop in the report and the workplace: did following up work (table
``case_outcomes``, :mod:`cxvalue.loop.outcomes`) and the closed-loop KPIs
(:func:`cxvalue.interfaces.views.cases.kpis_view`)."""
from __future__ import annotations

import pandas as pd

from ...store import has_table, read_result
from . import Chart, Column, Kpi, Kpis, Note, Table, View, coded_label, skipped_steps, step_notes, view

#: how each kind of metric is shown: (format of the means, format of the effect)
FORMATS = {"retention": ("pct1", "pp"), "nps": ("signed", "signed"), "spend": ("money", "money")}


def _formats(metric: str) -> tuple[str, str]:
    return FORMATS[metric.split("_")[0]]


def _fmt(v, fm: str, session) -> str:
    from . import fmt
    if fm == "pp":      # a difference of two shares, in percentage points
        return "–" if v is None or pd.isna(v) else f"{float(v) * 100:+.1f} pp"
    return fmt(v, fm, lang=session.lang)


def metric_label(t, metric: str) -> str:
    kind, _, h = metric.rpartition("_") if metric[-1].isdigit() else (metric, "", "")
    return t(f"out_m_{kind}", days=h) if h else t(f"out_m_{metric}")


def outcomes_blocks(session, res: pd.DataFrame) -> list:
    t = session.t
    blocks = []
    for rule, f in res.groupby("rule", sort=True):
        main = f[f.group.isin(["within_sla", "contacted"])]
        items = []
        for metric in ("retention_180", "retention_90", "nps_change"):
            r = main[main.metric == metric]
            if len(r):
                r, fm = r.iloc[0], _formats(metric)[1]
                items.append(Kpi(metric, metric_label(t, metric) + " · " + t("out_effect"), _fmt(r.effect, fm, session),
                                 "text"))
                items.append(Kpi(f"{metric}_ci", t("out_ci"), f"[{_fmt(r.ci_low, fm, session)}, "
                                 f"{_fmt(r.ci_high, fm, session)}]", "text"))
        r180 = main[main.metric == "retention_180"]
        if len(r180) and pd.notna(r180.iloc[0].relative_churn_change):
            items.append(Kpi("relative_churn", t("out_relative_churn"), float(r180.iloc[0].relative_churn_change),
                             "pct"))
        observational = bool(f.observational.all())
        notes = [Note("note", t("out_note_matched" if (f.method == "matched").any() else "out_note_holdout"))]
        if f.small_sample.any():
            notes.append(Note("SmallSampleWarning", t("out_note_small")))
        blocks.append(Kpis(f"outcomes-{rule}", t("out_title_rule", rule=rule, group=t(
            "out_g_contacted" if observational else "out_g_within_sla")), items=items, warnings=notes))
        chart_rows = f[f.metric == "retention_180"]
        if len(chart_rows):
            blocks.append(Chart(f"outcomes-{rule}-retention", t("out_chart_retention"), chart="interval_bar",
                                value_format="pct1",
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
        blocks.append(Table(f"outcomes-{rule}-table", t("out_table", rule=rule, control=control), columns=[
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


@view("loop", 80)
def build(session) -> View | None:
    """The report's closed-loop section: outcomes, then the KPIs."""
    from .cases import kpis_view
    out = outcomes_view(session)
    kpis = kpis_view(session)
    if not out.blocks and not kpis.blocks:
        return None
    v = View("loop", session.t("view_loop"), blocks=out.blocks + kpis.blocks, meta={**kpis.meta, **out.meta})
    if v.blocks:
        v.blocks[0].warnings = step_notes(session, "cases", "case outcomes") + v.blocks[0].warnings
    return v
