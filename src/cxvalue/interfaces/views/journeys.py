"""Journeys view (D9, D9+): the composite index per channel, each journey's funnel, the
out-of-control days of its steps (alerts and a p-chart of the worst step), and the NPS and
churn after a journey with friction vs a smooth one.

:func:`journeys_view` turns frames shaped like the journey result tables (the store's, or
:func:`cxvalue.journeys.pipeline.analyse_journeys_file`'s) into the view. Nothing is computed
here but sorting and picking the chart to draw.
"""
from __future__ import annotations

from ...store import read_result
from ...journeys.pipeline import JOURNEY_TABLES
from ...journeys.spc import RULES
from . import Chart, Column, Kpi, Kpis, Table, Text, View, fmt, has_rows, records, slug, step_notes, view


def store_frames(con) -> dict:
    return {n: read_result(con, n) for n in JOURNEY_TABLES}


@view("journeys", 65)
def build(session) -> View | None:
    return journeys_view(session, store_frames(session.con), notes=step_notes(session, "journeys"))


def journeys_view(session, frames: dict, *, notes=()) -> View | None:
    t = session.t
    ch = frames.get("journey_channels")
    if not has_rows(ch):
        return None
    v = View("journeys", t("view_journeys"))
    alerts = frames.get("journey_alerts")
    n_alerts = int(len(alerts)) if has_rows(alerts) else 0
    kp = Kpis("journeys", t("jr_title"), warnings=list(notes), items=[
        Kpi("journeys", t("jr_journeys"), int(ch.journey.nunique()), "int"),
        Kpi("instances", t("jr_instances"), int(ch.instances.sum()), "int"),
        Kpi("alerts", t("jr_alerts"), n_alerts, "int")])
    v.blocks += [kp, Text("journeys-note", text=t("jr_note"), tone="plain"),
                 Table("journey-channels", t("jr_index"), columns=[
                     Column("journey", t("jr_journey")), Column("channel", t("col_channel")),
                     Column("instances", t("jr_instances"), "int"), Column("completion", t("jr_completion"), "pct1"),
                     Column("first_time_right", t("jr_first_time_right"), "pct1"),
                     Column("error_free", t("jr_error_free"), "pct1"),
                     Column("median_seconds", t("jr_median_time"), "int"), Column("p90_seconds", t("jr_p90_time"), "int"),
                     Column("index", t("jr_composite"), "float1")], rows=records(ch), note=t("jr_index_note"))]
    f = frames.get("journey_funnel")
    if has_rows(f):
        for jn, g in f.groupby("journey", sort=True):
            chans = list(dict.fromkeys(g.channel))
            steps = g[g.channel == chans[0]].sort_values("rank").step.tolist()
            series = {c: [float(g[(g.channel == c) & (g.step == s)].overall.sum()) for s in steps] for c in chans}
            v.blocks.append(Chart(f"journey-funnel-{slug(jn)}", t("jr_funnel", journey=jn), chart="line",
                                  value_format="pct1", data={"x": steps, "series": series, "x_label": t("jr_step"),
                                                             "y_label": t("jr_overall")}))
        v.blocks.append(Table("journey-funnel", t("jr_funnel_table"), columns=[
            Column("journey", t("jr_journey")), Column("channel", t("col_channel")), Column("rank", "#", "int"),
            Column("step", t("jr_step")), Column("reached", t("jr_reached"), "int"),
            Column("conversion", t("jr_conversion"), "pct1"), Column("drop_off", t("jr_drop_off"), "pct1"),
            Column("repeat_share", t("jr_repeats"), "pct1"), Column("error_share", t("jr_errors"), "pct1")],
            rows=records(f.sort_values(["journey", "channel", "rank"]))))
    if n_alerts:
        a = alerts.assign(days=alerts.days.astype(int))          # most severe first (the library's order)
        rows = [{**r, "what": f"{r['from_step']} → {r['step']}" if r["step"] else t("jr_time_to_complete"),
                 "direction_label": t(f"jr_{r['direction']}"),
                 "rules_label": ", ".join(str(RULES.index(k) + 1) for k in str(r["rules"] or "").split(",") if k in RULES),
                 "value_text": fmt(r["value"], "pct1" if r["measure"] == "conversion" else "int"),
                 "center_text": fmt(r["center"], "pct1" if r["measure"] == "conversion" else "int")} for r in records(a)]
        v.blocks.append(Table("journey-alerts", t("jr_alerts_title"), columns=[
            Column("journey", t("jr_journey")), Column("channel", t("col_channel")), Column("what", t("jr_step")),
            Column("first_day", t("jr_first_day"), "date"), Column("last_day", t("jr_last_day"), "date"),
            Column("days", t("jr_days"), "int"), Column("direction_label", t("jr_direction")),
            Column("value_text", t("jr_value")), Column("center_text", t("jr_center")),
            Column("max_abs_z", t("jr_max_z"), "float1"), Column("rules_label", t("jr_rules"))] + ([
            Column("customers_friction", t("jr_customers_friction"), "int"),
            Column("nps_difference", t("jr_nps_difference"), "signed"), Column("nps_ci_low", t("col_ci_low"), "signed"),
            Column("nps_ci_high", t("col_ci_high"), "signed"), Column("nps_p", "p", "p")]
            if "nps_difference" in a.columns else []), rows=rows, note=t("jr_alerts_note")))
        worst = next((r for r in records(a) if r["measure"] == "conversion"), None)
        spc = frames.get("journey_spc")
        if worst is not None and has_rows(spc):
            s = spc[(spc.journey == worst["journey"]) & (spc.channel == worst["channel"]) & (spc.step == worst["step"])]
            days = [fmt(d, "date") for d in s.day]
            period = t(f"jr_period_{s.period.iloc[0]}") if "period" in s.columns and len(s) else t("jr_period_day")
            v.blocks.append(Chart("journey-pchart", t("jr_pchart", journey=worst["journey"], channel=worst["channel"],
                                                      step=f"{worst['from_step']} → {worst['step']}", period=period),
                                  chart="line",
                                  value_format="pct1", data={
                "x": days, "x_label": period, "y_label": t("jr_conversion"),
                "series": {t("jr_conversion"): s.p.astype(float).tolist(), t("jr_center"): s.center.astype(float).tolist(),
                           t("jr_lcl"): s.lcl.astype(float).tolist(), t("jr_ucl"): s.ucl.astype(float).tolist()}}))
    fr = frames.get("journey_friction")
    if has_rows(fr):
        cols = [Column("journey", t("jr_journey")), Column("channel", t("col_channel")),
                Column("customers_friction", t("jr_customers_friction"), "int"),
                Column("customers_smooth", t("jr_customers_smooth"), "int")]
        if "nps_difference" in fr.columns:
            cols += [Column("answers_friction", t("jr_answers_friction"), "int"),
                     Column("nps_friction", t("jr_nps_friction"), "signed"), Column("nps_smooth", t("jr_nps_smooth"), "signed"),
                     Column("nps_difference", t("jr_nps_difference"), "signed"), Column("nps_ci_low", t("col_ci_low"), "signed"),
                     Column("nps_ci_high", t("col_ci_high"), "signed"), Column("nps_p", "p", "p")]
        if "churned_friction" in fr.columns:
            cols += [Column("churned_friction", t("jr_churned_friction"), "pct1"),
                     Column("churned_smooth", t("jr_churned_smooth"), "pct1")]
        if "p_churn_friction" in fr.columns:
            cols += [Column("p_churn_friction", t("jr_p_churn_friction"), "pct1"),
                     Column("p_churn_smooth", t("jr_p_churn_smooth"), "pct1")]
        v.blocks.append(Table("journey-friction", t("jr_friction_title"), columns=cols, rows=records(fr),
                              note=t("jr_friction_note")))
    info = frames.get("info") or {}
    if info.get("source"):
        v.meta["source"] = info["source"]
    return v

