"""Churn view (F1–F6): churn prediction (metrics, validation, lift, calibration, drivers),
survival by segment (Kaplan–Meier, log-rank, Cox), churn reasons, complaint impact, and value
at risk with the retention list and the value at risk per salesperson.

:func:`churn_view` turns frames shaped like the churn result tables into the view; the
store's view (:func:`build`) reads those tables and the steps' warnings from the run log,
the CLI passes the frames of an analysis of a file (:func:`cxvalue.churn.pipeline.analyse_churn_file`,
…) with the warnings it raised. Nothing is computed here but sums and a pivot for display.
"""
from __future__ import annotations

from ...i18n import catalogue
from ...store import read_result
from . import (Chart, Column, Kpi, Kpis, Note, Table, Text, View, coded_label, fmt, has_rows, records, segment_label,
               skipped_steps,
                step_notes, stored_value, view)
from .strategy import action_label, stage_label, strategy_label

#: the view's sections, the step whose tables each one shows, and those tables
STEPS = {"prediction": "churn prediction", "survival": "survival", "reasons": "churn reasons",
         "complaints": "churn reasons", "uplift": "uplift", "retention": "retention"}
SECTIONS = tuple(STEPS)
TABLES = {"prediction": ("churn_metrics", "churn_validation", "churn_lift", "churn_calibration", "churn_drivers"),
          "survival": ("churn_survival", "churn_survival_summary", "churn_logrank", "churn_cox", "churn_ph_test"),
          "reasons": ("churn_reasons", "churn_voluntary"), "complaints": ("complaint_impact",),
          "uplift": ("uplift_summary", "uplift_qini", "uplift_deciles", "uplift_segments"),
          "retention": ("retention_list", "owner_risk")}
CURVES_DRAWN = 6          # survival curves drawn (largest groups); the table lists every group
CURVE_POINTS = 400        # steps kept per drawn curve
MIN_CHURNERS = 30         # fewer churners in a test set: lift and calibration are imprecise
MIN_CUSTOMERS = 30        # fewer customers in a complaint status: its hazard ratio is imprecise


def _col(df, *names):
    """The first of ``names`` that is a column of ``df`` (result tables are read defensively)."""
    return next((n for n in names if n in df.columns), None)


# --------------------------------------------------------------------------- the store's view
def store_frames(con, sections=SECTIONS, *, scores: bool = False) -> dict:
    """The churn result tables of ``sections`` from the store (None when missing)."""
    names = [n for s in sections for n in TABLES[s]] + (["churn_scores"] if scores else [])
    return {n: read_result(con, n) for n in dict.fromkeys(names)}


def store_view(session, sections=SECTIONS, *, top: int | None = None, curves: bool = False) -> View | None:
    """The churn view of the store restricted to ``sections`` (what a CLI command shows after
    running its step); ``top`` adds the highest-risk customers to the prediction section."""
    frames = store_frames(session.con, sections, scores=top is not None)
    notes = {STEPS[s]: step_notes(session, STEPS[s]) for s in sections}
    v = churn_view(session, frames, notes=notes, sections=sections, top=top, curves=curves)
    if v is not None:
        steps = {STEPS[s] for s in sections}
        v.as_of = str(session.as_of) if session.as_of else None
        v.skipped = [s for s in skipped_steps(session, "churn") if s["step"] in steps]
    return v


@view("churn", 60)
def build(session) -> View | None:
    frames = store_frames(session.con)
    return churn_view(session, frames, notes={s: step_notes(session, s) for s in set(STEPS.values())})


# --------------------------------------------------------------------------- frames -> view
def churn_view(session, frames: dict, *, notes=None, sections=SECTIONS, top: int | None = None,
               curves: bool = False) -> View | None:
    """The churn view of ``frames`` (result-table names → DataFrames, plus ``info`` for a file
    analysis). ``notes``: step name → the typed warnings it raised, shown on the first block of
    the step's section. None when no section has data."""
    t = session.t
    notes = notes or {}
    info = frames.get("info") or {}
    v = View("churn", t("view_churn"))
    parts = {"prediction": _prediction, "survival": _survival, "reasons": _reasons, "complaints": _complaints,
             "uplift": _uplift, "retention": _retention}
    for s in sections:
        blocks = parts[s](session, frames, info, v.meta, top=top, curves=curves)
        if blocks:
            blocks[0].warnings = list(notes.get(STEPS[s], ())) + blocks[0].warnings
            v.blocks += blocks
    if not v.blocks:
        return None
    if info.get("source"):
        v.meta["source"] = info["source"]
    return v


def _prediction(session, frames, info, meta, *, top=None, **_) -> list:
    t = session.t
    met = frames.get("churn_metrics")
    if not has_rows(met):
        return []
    m = {k: stored_value(x) for k, x in zip(met.metric, met.value)}
    meta["metrics"] = m
    oot = "test_roc_auc" in m          # validated out of time on the store; cross-validated on a file
    auc, pr = ("test_roc_auc", "test_pr_auc") if oot else ("cv_roc_auc", "cv_pr_auc")
    blocks = [Kpis("churn-prediction", t("churn_prediction"), items=[
        Kpi("customers_scored", t("churn_customers_scored"), m.get("customers_scored"), "int"),
        Kpi("mean_p_churn", t("churn_mean_p"), m.get("mean_p_churn"), "pct1"),
        Kpi("roc_auc", t("churn_test_auc" if oot else "churn_cv_auc"), m.get(auc), "float3"),
        Kpi("pr_auc", t("churn_test_pr_auc" if oot else "churn_cv_pr_auc"), m.get(pr), "float3")])]
    if "definition" in m:
        blocks.append(Text("churn-prediction-note", text=t("churn_prediction_note", definition=m["definition"],
                                                            h=m.get("horizon_days"), cutoffs=m.get("cutoffs"),
                                                            as_of=m.get("as_of"))))
    else:
        blocks.append(Text("churn-prediction-note", text=t("churn_file_note", target=m.get("target"),
                                                            source=m.get("source"), folds=m.get("folds"))))
    val = frames.get("churn_validation")
    if has_rows(val):
        cols = [Column("test_cutoff", t("churn_test_cutoff"), "date"), Column("train_cutoffs", t("churn_train_cutoffs")),
                Column("n_train", t("churn_n_train"), "int"), Column("n_test", t("churn_n_test"), "int")]
        blocks.append(Table("churn-validation", t("churn_validation"), columns=cols + _metric_columns(t, val),
                            rows=records(val)))
    folds = frames.get("churn_folds")
    if has_rows(folds):
        blocks.append(Table("churn-folds", t("churn_folds"), columns=[Column("fold", t("churn_fold"), "int"),
                                                                      Column("n", t("customers_n"), "int")]
                            + _metric_columns(t, folds), rows=records(folds)))
    cvs = frames.get("churn_cv_summary")
    if has_rows(cvs):
        blocks.append(Table("churn-cv-summary", t("churn_cv_summary"), columns=[
            Column("metric_label", t("churn_metric")), Column("estimate", t("estimate"), "float3"),
            Column("std_error", t("std_error"), "float3"), Column("ci_low", t("ci_low"), "float3"),
            Column("ci_high", t("ci_high"), "float3")],
            rows=[{**r, "metric_label": t(f"churn_m_{r['parameter']}")} for r in records(cvs)]))
    lift = frames.get("churn_lift")
    if has_rows(lift):
        chart = Chart("churn-lift", t("churn_lift_chart"), chart="bar", value_format="float2",
                      data={"labels": [f"{t('churn_decile')} {int(d)}" for d in lift.decile],
                            "values": lift.lift.astype(float).tolist()})
        churners = int(lift.churners.sum())
        if churners < MIN_CHURNERS:
            chart.warnings.append(Note("SmallSampleWarning", t("churn_few_churners", n=churners)))
        blocks += [chart, Table("churn-lift-table", "", columns=[
            Column("decile", t("churn_decile"), "int"), Column("customers", t("customers_n"), "int"),
            Column("churners", t("churn_churners"), "int"), Column("churn_rate", t("churn_rate"), "pct1"),
            Column("mean_p_churn", t("churn_mean_p"), "pct1"), Column("lift", t("churn_lift"), "float2"),
            Column("capture", t("churn_capture"), "pct1")], rows=records(lift))]
    cal = frames.get("churn_calibration")
    if has_rows(cal):
        lo, hi = _col(cal, "ci_lower", "ci_low"), _col(cal, "ci_upper", "ci_high")
        blocks.append(Table("churn-calibration", t("churn_calibration"), columns=[
            Column("bin", t("churn_bin"), "int"), Column("customers", t("customers_n"), "int"),
            Column("mean_p_churn", t("churn_mean_p"), "pct1"), Column("churn_rate", t("churn_observed"), "pct1"),
            Column("ci_low", t("ci_low"), "pct1"), Column("ci_high", t("ci_high"), "pct1")],
            rows=[{**r, "ci_low": r.get(lo), "ci_high": r.get(hi)} for r in records(cal)]))
    drv = frames.get("churn_drivers")
    if has_rows(drv):
        top12 = drv.head(12)
        rows = [{**r, "family_label": coded_label(t, "churn_fam_", r["family"]), "feature_label": feature_label(t, r["feature"])}
                for r in records(top12)]
        blocks += [
            Chart("churn-drivers", t("churn_drivers"), chart="bar", value_format="float3",
                  data={"labels": [f"{r['feature_label']} ({r['family_label']})" for r in rows],
                        "values": top12.mean_abs_shap.astype(float).tolist()}),
            Table("churn-drivers-table", "", columns=[
                Column("feature_label", t("churn_feature")), Column("family_label", t("churn_family")),
                Column("mean_abs_shap", t("churn_mean_abs_shap"), "float3"),
                Column("mean_shap", t("churn_mean_shap"), "float3")], rows=rows, note=t("churn_drivers_note"))]
    sc = frames.get("churn_scores")
    if top and has_rows(sc):
        best = sc.sort_values("p_churn", ascending=False, kind="stable").head(top)
        best = best.reset_index() if "customer_id" not in best.columns else best
        cols = [Column("customer_id", t("churn_customer")), Column("p_churn", t("churn_p_churn"), "pct1")]
        if "risk_decile" in best.columns:
            cols.append(Column("risk_decile", t("churn_decile"), "int"))
        cols += [Column("main_reason_label", t("churn_main_reason")), Column("top_reasons", t("churn_top_reasons"))]
        if "churned" in best.columns:
            cols.append(Column("churned", t("churn_churned"), "int"))
        keep = [c.key for c in cols if c.key != "main_reason_label"] + ["main_reason"]
        blocks.append(Table("churn-scores", t("churn_top_risk", n=len(best)), columns=cols, rows=[
            {**r, "main_reason_label": coded_label(t, "churn_fam_", r.get("main_reason", "other"))}
            for r in records(best, [c for c in keep if c in best.columns])]))
    return blocks


def _metric_columns(t, df) -> list[Column]:
    fmts = {"churn_rate": "pct1", "roc_auc": "float3", "pr_auc": "float3", "brier": "float3", "log_loss": "float3"}
    return [Column(k, t(f"churn_m_{k}"), f) for k, f in fmts.items() if k in df.columns]


def _survival(session, frames, info, meta, *, curves=False, **_) -> list:
    t = session.t
    cur, summ = frames.get("churn_survival"), frames.get("churn_survival_summary")
    if cur is None or not has_rows(summ):
        return []
    from ...churn.pipeline import SURVIVAL_UNIT
    unit = info.get("unit", SURVIVAL_UNIT) if info else SURVIVAL_UNIT
    meta["survival"] = {k: info[k] for k in ("duration", "event", "by", "concordance", "excluded") if k in info}
    meta["survival"]["unit"] = unit
    x_label = t("churn_months") if unit == "month" else t("churn_duration", column=info.get("duration", ""))
    groups = [str(g) for g in summ.group][:CURVES_DRAWN]
    by = str(info.get("by") or "") if info else ""
    glab = lambda g: t("col_all") if str(g).strip("()") == "all" else segment_label(t, by, g)   # noqa: E731
    plot, bands = {}, {}
    lo, hi = _col(cur, "ci_lower", "ci_low"), _col(cur, "ci_upper", "ci_high")
    for g in groups:
        c = cur[cur.group.astype(str) == g].sort_values("time")
        if len(c) > CURVE_POINTS:  # thin the steps for the chart; the table keeps every group
            import numpy as np
            c = c.iloc[np.unique(np.linspace(0, len(c) - 1, CURVE_POINTS).astype(int))]
        name = glab(g)
        plot[name] = [c.time.astype(float).tolist(), c.survival.astype(float).tolist()]
        if lo and hi:
            bands[name] = [c[lo].astype(float).tolist(), c[hi].astype(float).tolist()]
    chart = Chart("churn-survival", t("churn_survival"), chart="step", value_format="float2",
                  data={"curves": plot, "bands": bands, "x_label": x_label, "y_label": t("churn_survival_prob"),
                        "marks": [12, 24] if unit == "month" else []})
    times = [c[2:-1] for c in summ.columns if c.startswith("S(") and c.endswith(")")]
    mlo, mhi = _col(summ, "median_ci_lower", "median_ci_low"), _col(summ, "median_ci_upper", "median_ci_high")
    table = Table("churn-survival-table", t("churn_survival_table"), columns=[
        Column("group_label", t("churn_group")), Column("customers", t("customers_n"), "int"),
        Column("events", t("churn_churners"), "int"), Column("median", t("churn_median"), "float1"),
        Column("median_ci_low", t("ci_low"), "float1"), Column("median_ci_high", t("ci_high"), "float1")]
        + [Column(f"S({x})", f"S({x})", "float3") for x in times],
        rows=[{**r, "group_label": glab(r["group"]), "median_ci_low": r.get(mlo), "median_ci_high": r.get(mhi)}
              for r in records(summ)],
        note=t("churn_curves_drawn", n=CURVES_DRAWN, groups=len(summ)) if len(summ) > CURVES_DRAWN else "")
    blocks = [chart, table]
    lr = frames.get("churn_logrank")
    if has_rows(lr):
        o = lr.iloc[0]
        blocks.append(Table("churn-logrank", t("churn_logrank"), columns=[
            Column("group_a_label", t("churn_group")), Column("group_b_label", t("churn_group")),
            Column("test_statistic", t("churn_chi2"), "float2"), Column("p", t("churn_p"), "p")],
            rows=[{**r, "group_a_label": glab(r["group_a"]), "group_b_label": glab(r["group_b"])} for r in records(lr)],
            note=t("churn_logrank_note", stat=fmt(float(o.test_statistic), "float1"),
                                     p=fmt(float(o.p), "p"))))
    cox = frames.get("churn_cox")
    if has_rows(cox):
        blocks.append(_cox(t, cox, frames.get("churn_ph_test"), info))
    if curves:
        blocks.append(Table("churn-survival-curves", t("churn_survival_curves"), columns=[
            Column(c, c, "text" if c == "group" else "float3") for c in cur.columns], rows=records(cur)))
    return blocks


def feature_label(t, name) -> str:
    """A churn feature or Cox covariate in words: ``tenure_days`` → "Tenure (days)",
    ``channel_share_app`` → "Share of purchases: app", ``segment=business`` → "Segment: business"
    (the catalogue's ``feat_*`` entries; an unknown name is shown as it is)."""
    s = str(name)
    if "=" in s:
        col, value = s.split("=", 1)
        return f"{feature_label(t, col)}: {segment_label(t, col, value)}"
    if s.startswith("channel_share_"):
        return t("feat_channel_share", channel=segment_label(t, "channel", s[len("channel_share_"):]))
    key = f"feat_{s}"
    return t(key) if t(key) != key else s


def _cox(t, cox, ph, info) -> Table:
    # the estimate of the estimator contract is the coefficient β; the table shows hazard ratios exp(β)
    lo, hi = _col(cox, "hazard_ratio_ci_low", "ci_lower"), _col(cox, "hazard_ratio_ci_high", "ci_upper")
    viol = dict(zip(ph.covariate, ph.ph_violated)) if has_rows(ph) else {}
    php = dict(zip(ph.covariate, ph.p)) if has_rows(ph) else {}
    rows = [{**r, "hr_ci_low": r.get(lo), "hr_ci_high": r.get(hi), "ph_p": php.get(r["covariate"]),
             "ph_violated": bool(viol.get(r["covariate"], False)),
             "ph_check": t("churn_ph_violated") if viol.get(r["covariate"]) else t("churn_ph_ok"),
             "covariate_label": feature_label(t, r["covariate"])}
            for r in records(cox)]
    note = t("churn_concordance", c=f"{info['concordance']:.3f}") if info.get("concordance") is not None else ""
    return Table("churn-cox", t("churn_cox"), columns=[
        Column("covariate_label", t("churn_covariate")), Column("hazard_ratio", t("churn_hazard_ratio"), "float2"),
        Column("hr_ci_low", t("ci_low"), "float2"), Column("hr_ci_high", t("ci_high"), "float2"),
        Column("p", t("churn_p"), "p"), Column("ph_check", t("churn_ph_check"))], rows=rows, note=note)


def _reasons(session, frames, info, meta, **_) -> list:
    t = session.t
    reasons, vol = frames.get("churn_reasons"), frames.get("churn_voluntary")
    if not has_rows(reasons):
        return []
    blocks = []
    if has_rows(vol):
        a = vol[vol.group == "all"].iloc[0]
        blocks.append(Kpis("churn-reasons", t("churn_reasons"), items=[
            Kpi("churners", t("churn_churners"), int(a.churners), "int"),
            Kpi("voluntary_share", t("churn_voluntary_share"), float(a.voluntary_share), "pct1")]))
    allr = reasons[reasons.group == "all"]
    rows = [{**r, "reason_label": coded_label(t, "churn_r_", r["reason"]),
             "type": t("churn_voluntary") if r["voluntary"] == 1 else (
                 t("churn_involuntary") if r["voluntary"] == 0 else "")} for r in records(allr)]
    blocks += [
        Chart("churn-reasons-chart" if blocks else "churn-reasons", t("churn_reasons"), chart="bar",
              value_format="pct1", data={"labels": [r["reason_label"] for r in rows],
                                         "values": allr.share.astype(float).tolist(),
                                         "ns": allr.churners.astype(int).tolist(), "x_label": t("churn_share")}),
        Table("churn-reasons-table", "", columns=[
            Column("reason_label", t("reason")), Column("churners", t("churn_churners"), "int"),
            Column("share", t("churn_share"), "pct1"), Column("type", t("churn_type")),
            Column("share_voluntary", t("churn_share_voluntary"), "pct1"),
            Column("seed_share", t("churn_seed_share"), "pct")], rows=rows)]
    if has_rows(vol) and len(vol) > 1:
        blocks.append(Table("churn-voluntary", t("churn_by_segment"), columns=[
            Column("group_label", t("churn_group")), Column("churners", t("churn_churners"), "int"),
            Column("voluntary", t("churn_voluntary"), "int"), Column("involuntary", t("churn_involuntary"), "int"),
            Column("voluntary_share", t("churn_voluntary_share"), "pct1")],
            rows=[{**r, "group_label": t("col_all") if str(r["group"]) == "all" else segment_label(t, "", r["group"])}
                  for r in records(vol)]))
    return blocks


def _complaints(session, frames, info, meta, **_) -> list:
    t = session.t
    ci = frames.get("complaint_impact")
    if not has_rows(ci):
        return []
    hr = "hazard_ratio"
    lo, hi = _col(ci, "hazard_ratio_ci_low", "ci_lower"), _col(ci, "hazard_ratio_ci_high", "ci_upper")
    rows = [{**r, "status_label": coded_label(t, "churn_status_", r["status"]), "hazard_ratio": r.get(hr),
             "hr_ci_low": r.get(lo), "hr_ci_high": r.get(hi)} for r in records(ci)]
    table = Table("complaint-impact", t("churn_complaint_impact"), columns=[
        Column("status_label", t("churn_status")), Column("customers", t("customers_n"), "int"),
        Column("churned", t("churn_churners"), "int"), Column("churn_rate", t("churn_rate"), "pct1"),
        Column("hazard_ratio", t("churn_hazard_ratio"), "float2"), Column("hr_ci_low", t("ci_low"), "float2"),
        Column("hr_ci_high", t("ci_high"), "float2"), Column("p", t("churn_p"), "p")], rows=rows,
        note=t("churn_complaint_note"))
    table.warnings += [Note("SmallSampleWarning", t("churn_few_in_status", status=r["status_label"], n=r["customers"]))
                       for r in rows if r["status"] != "none" and (r["customers"] or 0) < MIN_CUSTOMERS]
    chart = Chart("complaint-impact-chart", t("churn_hazard_ratio"), chart="interval_bar", value_format="float2",
                  data={"labels": [r["status_label"] for r in rows], "values": [r["hazard_ratio"] for r in rows],
                        "lows": [r["hr_ci_low"] for r in rows], "highs": [r["hr_ci_high"] for r in rows]})
    return [table, chart]


def _uplift(session, frames, info, meta, **_) -> list:
    """The campaign's uplift: ATE, Qini on held-out folds, observed vs predicted per decile, the
    four groups of customers."""
    t = session.t
    met = frames.get("uplift_summary")
    if not has_rows(met):
        return []
    m = {k: stored_value(x) for k, x in zip(met.metric, met.value)}
    meta["uplift"] = m
    pct = m.get("outcome_kind") == "binary"
    unit = "pp" if pct else "float3"
    sig = m.get("qini_p_random") is not None and float(m["qini_p_random"]) < 0.05
    blocks = [Kpis("uplift", t("uplift_title"), items=[
        Kpi("campaign_customers", t("uplift_customers"), m.get("customers"), "int"),
        Kpi("ate", t("uplift_ate"), m.get("ate"), unit),
        Kpi("ate_ci", t("uplift_ate_ci"), f"{fmt(m.get('ate_ci_low'), unit)} – {fmt(m.get('ate_ci_high'), unit)}", "text"),
        Kpi("qini", t("uplift_qini"), m.get("qini_coefficient"), "number"),
        Kpi("qini_p", t("uplift_qini_p"), m.get("qini_p_random"), "p")]),
        Text("uplift-note", text=t("uplift_note", campaign=m.get("campaign") or m.get("source") or "",
                                   learner=str(m.get("learner", "")).upper(), folds=m.get("folds"),
                                   treated=fmt(m.get("n_treated"), "int"), control=fmt(m.get("n_control"), "int"),
                                   predicted=fmt(m.get("mean_predicted_uplift"), unit), ate=fmt(m.get("ate"), unit),
                                   normalised=fmt(m.get("qini_normalised"), "float3"),
                                   verdict=t("uplift_qini_sig" if sig else "uplift_qini_not_sig",
                                             n=m.get("permutations"))), tone="plain")]
    q = frames.get("uplift_qini")
    if has_rows(q):
        blocks.append(Chart("uplift-qini", t("uplift_qini_chart"), chart="line", value_format="float3", data={
            "x": [fmt(x, "pct") for x in q.share_targeted], "x_label": t("uplift_share_targeted"),
            "y_label": t("uplift_incremental"),
            "series": {t("uplift_model"): q.incremental.astype(float).tolist(),
                       t("uplift_random"): q.random.astype(float).tolist()}}))
    d = frames.get("uplift_deciles")
    if has_rows(d):
        blocks.append(Chart("uplift-deciles-chart", t("uplift_deciles"), chart="interval_bar", value_format=unit, data={
            "labels": [str(int(x)) for x in d.decile], "values": d.observed.astype(float).tolist(),
            "lows": d.ci_low.astype(float).tolist(), "highs": d.ci_high.astype(float).tolist(),
            "ns": d.n.astype(int).tolist(), "x_label": t("uplift_observed")}))
        blocks.append(Table("uplift-deciles", t("uplift_deciles"), columns=[
            Column("decile", t("uplift_decile"), "int"), Column("n", t("col_customers"), "int"),
            Column("predicted", t("uplift_predicted"), unit), Column("observed", t("uplift_observed"), unit),
            Column("ci_low", t("col_ci_low"), unit), Column("ci_high", t("col_ci_high"), unit),
            Column("mean_treated", t("uplift_mean_treated"), "pct1" if pct else "float3"),
            Column("mean_control", t("uplift_mean_control"), "pct1" if pct else "float3")], rows=records(d),
            note=t("uplift_deciles_note")))
    g = frames.get("uplift_segments")
    if has_rows(g):
        blocks.append(Table("uplift-segments", t("uplift_segments"), columns=[
            Column("label", t("uplift_segment")), Column("customers", t("col_customers"), "int"),
            Column("share", t("col_share"), "pct1"), Column("mean_uplift", t("uplift_mean_uplift"), unit),
            Column("mean_p_control", t("uplift_p_control"), "pct1" if pct else "float3")],
            rows=[{**r, "label": t(f"uplift_seg_{r['segment']}")} for r in records(g)],
            note=t("uplift_segments_note", threshold=fmt(m.get("threshold"), unit).lstrip("+"))))
    return blocks


def _retention(session, frames, info, meta, *, top=None, **_) -> list:
    t, cur = session.t, session.currency
    rl = frames.get("retention_list")
    if not has_rows(rl):
        return []
    from ...value.segments import TIER_ORDER
    src = rl.value_source.mode().iloc[0] if "value_source" in rl.columns else ""
    total = float(rl.value_at_risk.sum())
    meta["retention"] = {"customers": int(len(rl)), "value_at_risk": total, "value_source": src}
    blocks = [Kpis("value-at-risk", t("churn_value_at_risk_title"), items=[
        Kpi("value_at_risk", t("churn_value_at_risk"), total, "money", cur),
        Kpi("listed", t("churn_listed"), int(len(rl)), "int"),
        Kpi("value_source", t("churn_value_source"), coded_label(t, "churn_vs_", src), "text")])]
    piv = rl.pivot_table(index="main_reason", columns="value_tier", values="value_at_risk", aggfunc="sum",
                         fill_value=0)
    tiers = [c for c in TIER_ORDER if c in piv.columns] + [c for c in piv.columns if c not in TIER_ORDER]
    piv = piv[tiers]
    piv = piv.loc[piv.sum(axis=1).sort_values(ascending=False, kind="stable").index]   # largest first
    blocks.append(Table("value-at-risk-by-reason", t("churn_var_by_reason"), columns=[
        Column("main_reason_label", t("churn_main_reason"))] + [
        Column(c, _tier(t, c), "money") for c in tiers],
        rows=[{"main_reason": i, "main_reason_label": coded_label(t, "churn_fam_", i), **dict(zip(tiers, map(float, row)))}
              for i, row in zip(piv.index, piv.to_numpy())]))
    n = top or 20
    best = rl.sort_values("rank").head(n)
    best = best.reset_index() if "customer_id" not in best.columns else best
    plays = "play" in best.columns      # the store's list carries each customer's strategy × stage play
    lifted = "expected_saved" in best.columns   # ranked by the offer's expected value saved (uplift)
    blocks.append(Table("retention-list", t("churn_retention_list_uplift_n" if lifted else "churn_retention_list_n",
                                            n=len(best)), columns=[
        Column("rank", "#", "int"), Column("customer_id", t("churn_customer")),
        Column("p_churn", t("churn_p_churn"), "pct1"), Column("value", t("churn_value"), "money"),
        Column("value_at_risk", t("churn_value_at_risk"), "money")] + ([
        Column("uplift", t("uplift_uplift"), "pp"), Column("uplift_segment_label", t("uplift_segment")),
        Column("expected_saved", t("uplift_expected_saved"), "money")] if lifted else []) + [
        Column("value_tier_label", t("churn_value_tier")),
        Column("main_reason_label", t("churn_main_reason")), Column("action_label", t("churn_action"))] + ([
        Column("strategy_label", t("web_strategy")), Column("stage_label", t("lifecycle_stage")),
        Column("play_label", t("strategy_play"))] if plays else []),
        rows=[{**r, "value_tier_label": _tier(t, r["value_tier"]), "main_reason_label": coded_label(t, "churn_fam_", r["main_reason"]),
               "action_label": t(r["action"]),
               **({"uplift_segment_label": t(f"uplift_seg_{r['uplift_segment']}") if r.get("uplift_segment") else None}
                  if lifted else {}),
               **({"strategy_label": strategy_label(t, r.get("strategy")), "stage_label": stage_label(t, r.get("stage")),
                   "play_label": action_label(t, r.get("play"))} if plays else {})} for r in records(best)],
        note=t("strategy_retention_list_note") if plays else ""))
    owners = frames.get("owner_risk")
    if has_rows(owners):
        o = owners.iloc[0]
        fp = float(o.follow_probability) if "follow_probability" in owners.columns else 1.0
        fsrc = o.follow_probability_source if "follow_probability_source" in owners.columns else "given"
        items = [Kpi("owners", t("churn_owners"), int(len(owners)), "int")]
        if "hhi" in owners.columns:
            items.append(Kpi("hhi", t("churn_hhi"), float(o.hhi), "float3"))
        items.append(Kpi("follow_probability", t("churn_follow_probability"), fp, "pct"))
        kp = Kpis("owner-concentration", t("churn_owner_concentration"), items=items)
        head = owners.head(10)
        blocks += [kp, Table("owner-risk", t("churn_owner_risk"), columns=[
            Column("owner", t("churn_owner")), Column("customers", t("customers_n"), "int"),
            Column("value", t("churn_value"), "money"), Column("value_share", t("churn_value_share"), "pct1"),
            Column("cumulative_share", t("churn_cumulative_share"), "pct1"),
            Column("value_at_risk_if_leaves", t("churn_if_leaves"), "money")], rows=records(head),
            note=t({"assumed": "churn_owner_note_assumed", "estimated": "churn_owner_note_estimated"}.get(
                fsrc, "churn_owner_note"), p=fmt(fp, "pct")))]
    return blocks


def _tier(t, tier) -> str:
    key = f"churn_tier_{tier}"
    return t(key) if key in catalogue() else coded_label(t, "tier_", tier)
