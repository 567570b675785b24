"""Customer value view (B1–B8): CLV totals and distribution, the fitted models' parameters
with intervals, the model check on a holdout, the value matrix and value multiplication.
It reads the result tables written by the ``customer value`` step."""
from __future__ import annotations

import numpy as np

from ...store import read_result
from . import Chart, Column, Kpi, Kpis, Note, Table, Text, View, label, records, step_notes, view

STEP = "customer value"
TIERS = ("platinum", "gold", "iron", "lead")


@view("value", 30)
def build(session) -> View | None:
    con, t, cur = session.con, session.t, session.currency
    cv = read_result(con, "customer_value")
    if cv is None or len(cv) == 0:
        return None
    v = View("value", t("customer_value"))
    months = int(session.settings.get("clv_horizon_months") or 12)
    params = read_result(con, "clv_parameters")
    kp = Kpis("customer-value", "", warnings=step_notes(session, STEP), items=[
        Kpi("customers", t("kpi_customers"), int(len(cv)), "int"),
        Kpi("total_clv", t("kpi_total_clv"), float(cv.clv.sum()), "money", cur),
        Kpi("mean_clv", t("kpi_mean_clv"), float(cv.clv.mean()), "money", cur),
        Kpi("mean_p_alive", t("kpi_p_alive"), float(cv.p_alive.mean()), "float2")])
    v.blocks.append(kp)
    if params is not None and len(params):
        p0 = params.iloc[0]
        kp.items.append(Kpi("margin", t("kpi_margin"), float(p0.margin), "pct"))
        v.blocks.append(Text("value-note", text=t("value_note", as_of=p0.as_of, d=float(p0.discount_rate))))
    clip = cv.clv.clip(upper=cv.clv.quantile(0.99)).to_numpy(dtype=float)
    clip = clip[np.isfinite(clip)]
    if clip.size:
        counts, edges = np.histogram(clip, bins=24)
        v.blocks.append(Chart("clv-distribution", t("clv_distribution", months=months, currency=cur),
                              chart="histogram", value_format="money",
                              data={"edges": edges.tolist(), "counts": counts.tolist()}))
    if params is not None and len(params):
        v.blocks += [_parameters(t, params), _fit_table(t, params)]
    track = read_result(con, "clv_tracking")
    if track is not None and len(track):
        cut = str(track.calibration_end.iloc[0])[:10]
        v.blocks.append(Chart("clv-tracking", t("clv_tracking", cut=cut), chart="line", value_format="number",
                              data={"x": [str(d)[:10] for d in track.date],
                                    "series": {t("actual"): track.actual_cumulative.astype(float).tolist(),
                                               t("predicted"): track.expected_cumulative.astype(float).tolist()}}))
    hold = read_result(con, "clv_holdout")
    if hold is not None and len(hold):
        v.blocks.append(Table("clv-holdout", t("clv_holdout_table"),
                              columns=[Column(c, c, "text" if i == 0 else "number") for i, c in enumerate(hold.columns)],
                              rows=records(hold)))
    m = read_result(con, "value_matrix")
    if m is not None and len(m):
        v.blocks += _matrix(t, m)
    s = read_result(con, "value_multiplication_summary")
    if s is not None and len(s):
        v.blocks += _multiplication(t, s)
    return v


def clv_view(session, res: dict, *, top: int = 20, notes=()) -> View:
    """The view of a CLV fit (:func:`cxvalue.value.customer_value.clv_analysis`): key figures,
    parameters with intervals and log-likelihood, and the top customers by CLV."""
    t, info = session.t, res["info"]
    pred = res["customers"]
    v = View("clv", t("clv_title", model=info["model"]), as_of=info.get("as_of"))
    v.blocks.append(Kpis("clv-kpis", "", warnings=list(notes), items=[
        Kpi("customers", t("kpi_customers"), info["customers"], "int"),
        Kpi("total_clv", t("kpi_total_clv"), info["total_clv"], "money", session.currency),
        Kpi("mean_p_alive", t("kpi_p_alive"), info["mean_p_alive"], "float2"),
        Kpi("margin", t("kpi_margin"), info["margin"], "pct"),
        Kpi("horizon_months", t("clv_horizon"), info["horizon_months"], "int"),
        Kpi("discount_rate", t("clv_discount_rate"), info["discount_rate"], "pct")]))
    if info.get("margin_source") == "assumed":
        v.blocks[0].warnings.append(Note("assumption", t("clv_margin_assumed")))
    params = res["parameters"]
    if len(params):
        tab = _parameters(t, params)
        nc = params.groupby("model", sort=False).converged.first()
        tab.warnings += [Note("ConvergenceWarning", t("clv_not_converged", model=m)) for m, ok in nc.items() if not ok]
        v.blocks += [tab]
    if res.get("comparison") is not None:
        v.blocks.append(_comparison(t, res["comparison"]))
    if res.get("holdout") is not None:
        v.blocks += _holdout(t, res, info)
    cols = [c for c in ("frequency", "recency", "T", "monetary_value", "p_alive", "expected_purchases",
                        "expected_spend", "clv") if c in pred.columns]
    best = pred.sort_values("clv", ascending=False).head(top).reset_index()
    money = ("clv", "expected_spend", "monetary_value")
    v.blocks.append(Table("clv-top", t("clv_top", n=top), columns=[Column("customer_id", "customer_id")] + [
        Column(c, f"{c} ({session.currency})" if c in money else c, "float2" if c not in money else "money")
        for c in cols],
        rows=records(best, ["customer_id", *cols])))
    v.meta = dict(info)
    return v


def _comparison(t, comp) -> Table:
    cols = [Column("model_label", t("model")), Column("loglik", "log-likelihood", "float2"), Column("aic", "AIC", "float1"),
            Column("bic", "BIC", "float1"), Column("converged", t("converged"), "text"),
            Column("degenerate", t("clv_degenerate"), "text"), Column("chosen", t("clv_chosen"), "text")]
    if "holdout_error" in comp.columns:
        cols[5:5] = [Column("holdout_predicted", t("clv_holdout_predicted"), "float1"),
                     Column("holdout_actual", t("clv_holdout_actual"), "int"),
                     Column("holdout_error", t("clv_holdout_error"), "pct")]
    rows = [{**r, "model_label": model_label(t, r["model"]), "converged": t("answer_yes") if r["converged"] else t("answer_no"),
             "chosen": "✓" if r["chosen"] else "",
             "degenerate": r["degenerate"] or ""} for r in records(comp)]
    return Table("clv-fit", t("clv_comparison"), columns=cols, rows=rows)


def _holdout(t, res, info) -> list:
    h = res["holdout"]
    blocks = [Table("clv-holdout", t("clv_holdout_title", cal=info["calibration_end"], end=info["holdout_end"],
                                      model=info["model"]), columns=[
        Column("frequency_label", t("clv_calibration_frequency")), Column("n_customers", t("kpi_customers"), "int"),
        Column("actual_total", t("clv_holdout_actual"), "int"), Column("predicted_total", t("clv_holdout_predicted"), "float1"),
        Column("actual_mean", t("clv_actual_mean"), "float3"), Column("predicted_mean", t("clv_predicted_mean"), "float3")],
        rows=[{**r, "frequency_label": t("col_all") if str(r["calibration_frequency"]) == "all"
               else r["calibration_frequency"]} for r in records(h)])]
    tr = res.get("tracking")
    if tr is not None and len(tr):
        hold = tr[tr.holdout]
        last = tr.iloc[-1]
        mape = float(hold.error.abs().mean()) if len(hold) else float("nan")
        blocks.append(Kpis("clv-tracking", t("clv_tracking_title"), items=[
            Kpi("tracking_error_end", t("clv_tracking_end"), float(last.error), "pct"),
            Kpi("tracking_mape", t("clv_tracking_mape"), mape, "pct"),
            Kpi("holdout_error", t("clv_holdout_error"), info.get("holdout_error"), "pct")]))
    return blocks


def model_label(t, code) -> str:
    """bgnbd → BG/NBD etc.: the model's name, not its code."""
    return label(t, f"model_name_{code}", code)


def _parameters(t, params) -> Table:
    return Table("clv-parameters", t("clv_parameters"), columns=[
        Column("model_label", t("model")), Column("parameter", t("parameter")), Column("estimate", t("estimate"), "float3"),
        Column("std_error", t("std_error"), "float3"), Column("ci_low", t("ci_low"), "float3"),
        Column("ci_high", t("ci_high"), "float3")],
        rows=[{"model": r["model"], "model_label": model_label(t, r["model"]), "parameter": r["parameter"],
               "estimate": r["estimate"], "std_error": r["std_error"],
               "ci_low": r["ci_low"], "ci_high": r["ci_high"]} for r in records(params)])


def _fit_table(t, params) -> Table:
    fit = params.groupby("model", sort=False)[["loglik", "aic", "bic", "converged"]].first().reset_index()
    return Table("clv-fit", t("clv_fit"), columns=[
        Column("model_label", t("model")), Column("loglik", "log-likelihood", "float2"), Column("aic", "AIC", "float1"),
        Column("bic", "BIC", "float1"), Column("converged", t("converged"), "text")],
        rows=[{**r, "model_label": model_label(t, r["model"]), "converged": t("answer_yes") if r["converged"] else t("answer_no")}
              for r in records(fit)])


def _matrix(t, m) -> list:
    by = m.set_index("value_tier")
    cells = []
    for tier in TIERS:
        if tier in by.index:
            r = by.loc[tier]
            cells.append({"value_tier": tier, "label": t("tier_" + tier), "customers": int(r.customers),
                          "customer_share": float(r.customer_share), "strategy": r.strategy,
                          "strategy_label": t("strategy_" + r.strategy)})
    grid = Table("value-matrix-grid", t("value_matrix"), columns=[
        Column("current", t("current_value")), Column("potential", t("potential_value")),
        Column("label", t("value_tier")), Column("customers", t("kpi_customers"), "int"),
        Column("customer_share", t("share"), "pct"), Column("strategy_label", t("strategy"))],
        rows=[{"current": t("high") if c["value_tier"] in ("platinum", "iron") else t("low"),
               "potential": t("high") if c["value_tier"] in ("platinum", "gold") else t("low"), **c} for c in cells])
    table = Table("value-matrix", t("value_matrix"), columns=[
        Column("label", t("value_tier")), Column("customers", t("kpi_customers"), "int"),
        Column("customer_share", t("share"), "pct1"), Column("current_value", t("current_value"), "money"),
        Column("current_value_share", t("share"), "pct1"), Column("potential_value", t("potential_value"), "money"),
        Column("potential_value_share", t("share"), "pct1"), Column("strategy_label", t("strategy"))],
        rows=[{**r, "label": t("tier_" + r["value_tier"]), "strategy_label": t("strategy_" + r["strategy"])}
              for r in records(m)])
    return [grid, table]


def _multiplication(t, s) -> list:
    comps = ("base_revenue", "upbuying_revenue", "crossbuying_revenue", "referral_revenue")
    chart = Chart("value-multiplication", t("value_multiplication"), chart="stacked_bar", value_format="money",
                  data={"labels": [str(int(y)) for y in s.relationship_year],
                        "series": {t(c): s[c].astype(float).tolist() for c in comps},
                        "line": {t("cost_per_customer"): s.cost_per_customer.astype(float).tolist()}})
    cols = ["relationship_year", "customers", *comps, "cost_per_customer", "profit", "cumulative_profit"]
    table = Table("value-multiplication-table", "", columns=[
        Column(c, t(c) if c != "customers" else t("kpi_customers"), "int" if i < 2 else "money")
        for i, c in enumerate(cols)], rows=records(s, cols))
    return [chart, table]
