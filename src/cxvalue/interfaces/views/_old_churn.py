"""Report sections for churn (orders 60–67): churn prediction (lift chart, calibration, drivers),
survival curves by segment, churn reasons, complaint impact, value at risk and salesperson risk.
They read the result tables written by the churn analyses; nothing is computed here."""
from __future__ import annotations

from html import escape

import numpy as np

from ..i18n import catalogue, t
from ..report import Section, register
from ..report.charts import bar_chart, step_chart
from ..report.sections import kpis_html, table_html
from ..store import read_result


def label(prefix: str, value, lang: str) -> str:
    """The catalogue label of ``prefix + value`` when there is one, else the value itself."""
    key = f"{prefix}{value}"
    return t(key, lang) if key in catalogue() else str(value)




def _num(v, fmt="{:.3f}"):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "" if np.isnan(f) else ("∞" if np.isinf(f) else fmt.format(f))


@register(60)
def prediction_section(con, lang, settings):
    met = read_result(con, "churn_metrics")
    if met is None or len(met) == 0:
        return None
    m = dict(zip(met.metric, met.value))
    html = kpis_html([(t("churn_customers_scored", lang), f"{int(float(m['customers_scored'])):,}"),
                  (t("churn_mean_p", lang), _num(m["mean_p_churn"], "{:.1%}")),
                  (t("churn_test_auc", lang), _num(m.get("test_roc_auc", "nan"))),
                  (t("churn_test_pr_auc", lang), _num(m.get("test_pr_auc", "nan")))])
    html += f'<p class="muted">{escape(t("churn_prediction_note", lang, definition=m["definition"], h=m["horizon_days"], cutoffs=m["cutoffs"], as_of=m["as_of"]))}</p>'
    lift = read_result(con, "churn_lift")
    if lift is not None and len(lift):
        html += f"<h3>{t('churn_lift_chart', lang)}</h3>" + bar_chart(
            [f"{t('churn_decile', lang)} {int(d)}" for d in lift.decile], lift.lift.astype(float).tolist(),
            title=t("churn_lift_chart", lang), value_fmt=lambda v: f"{v:.2f}×")
        html += table_html([t(k, lang) for k in ("churn_decile", "customers_n", "churn_churners", "churn_rate",
                                                 "churn_mean_p", "churn_lift", "churn_capture")],
                           [[int(r.decile), int(r.customers), int(r.churners), _num(r.churn_rate, "{:.1%}"),
                             _num(r.mean_p_churn, "{:.1%}"), _num(r.lift, "{:.2f}"), _num(r.capture, "{:.1%}")]
                            for r in lift.itertuples()], (0, 1, 2, 3, 4, 5, 6))
    cal = read_result(con, "churn_calibration")
    if cal is not None and len(cal):
        html += f"<h3>{t('churn_calibration', lang)}</h3>" + table_html(
            [t(k, lang) for k in ("churn_bin", "customers_n", "churn_mean_p", "churn_observed", "churn_ci")],
            [[int(r.bin), int(r.customers), _num(r.mean_p_churn, "{:.1%}"), _num(r.churn_rate, "{:.1%}"),
              f"{_num(r.ci_lower, '{:.1%}')} – {_num(r.ci_upper, '{:.1%}')}"] for r in cal.itertuples()], (0, 1, 2, 3))
    drv = read_result(con, "churn_drivers")
    if drv is not None and len(drv):
        top = drv.head(12)
        html += f"<h3>{t('churn_drivers', lang)}</h3>" + bar_chart(
            [f"{f} ({label('churn_fam_', fam, lang)})" for f, fam in zip(top.feature, top.family)],
            top.mean_abs_shap.astype(float).tolist(), title=t("churn_drivers", lang), value_fmt=lambda v: f"{v:.3f}")
        html += f'<p class="muted">{escape(t("churn_drivers_note", lang))}</p>'
    return Section("churn-prediction", t("churn_prediction", lang), html)


@register(62)
def survival_section(con, lang, settings):
    curves = read_result(con, "churn_survival")
    summ = read_result(con, "churn_survival_summary")
    if curves is None or summ is None or len(summ) == 0:
        return None
    groups = list(summ.group)[:6]
    plot, bands = {}, {}
    for g in groups:
        c = curves[curves.group == g].sort_values("time")
        if len(c) > 400:  # thin the steps for the chart; the table keeps every step
            c = c.iloc[np.unique(np.linspace(0, len(c) - 1, 400).astype(int))]
        plot[str(g)] = (c.time.astype(float).tolist(), c.survival.astype(float).tolist())
        bands[str(g)] = (c.ci_lower.astype(float).tolist(), c.ci_upper.astype(float).tolist())
    html = step_chart(plot, bands=bands, title=t("churn_survival", lang), x_label=t("churn_months", lang),
                      y_label=t("churn_survival_prob", lang), marks=[12, 24])
    times = [c[2:-1] for c in summ.columns if c.startswith("S(") and c.endswith(")")]
    head = [t("churn_group", lang), t("customers_n", lang), t("churn_churners", lang), t("churn_median", lang)] + \
        [f"S({x})" for x in times]
    rows = [[r["group"], int(r["customers"]), int(r["events"]),
             f"{_num(r['median'], '{:.1f}')} ({_num(r['median_ci_lower'], '{:.1f}')}–{_num(r['median_ci_upper'], '{:.1f}')})"]
            + [_num(r[f"S({x})"]) for x in times] for _, r in summ.iterrows()]
    html += table_html(head, rows, tuple(range(1, len(head))))
    lr = read_result(con, "churn_logrank")
    if lr is not None and len(lr):
        o = lr.iloc[0]
        html += f'<p>{escape(t("churn_logrank_note", lang, stat=f"{o.test_statistic:.1f}", p=f"{o.p:.2g}"))}</p>'
    cox = read_result(con, "churn_cox")
    ph = read_result(con, "churn_ph_test")
    if cox is not None and len(cox):
        viol = dict(zip(ph.covariate, ph.ph_violated)) if ph is not None else {}
        html += f"<h3>{t('churn_cox', lang)}</h3>" + table_html(
            [t(k, lang) for k in ("churn_covariate", "churn_hazard_ratio", "churn_ci", "churn_p", "churn_ph_check")],
            [[r.covariate, _num(r.hazard_ratio, "{:.2f}"), f"{r.ci_lower:.2f}–{r.ci_upper:.2f}", _num(r.p, "{:.2g}"),
              t("churn_ph_violated", lang) if viol.get(r.covariate) else "✓"] for r in cox.itertuples()], (1, 3))
    return Section("churn-survival", t("churn_survival", lang), html)


@register(64)
def reasons_section(con, lang, settings):
    reasons = read_result(con, "churn_reasons")
    vol = read_result(con, "churn_voluntary")
    if reasons is None or len(reasons) == 0:
        return None
    from .reasons import SEED_REASON_SHARE
    html = ""
    if vol is not None and len(vol):
        a = vol[vol.group == "all"].iloc[0]
        html += kpis_html([(t("churn_churners", lang), f"{int(a.churners):,}"),
                       (t("churn_voluntary_share", lang), _num(a.voluntary_share, "{:.1%}"))])
    allr = reasons[reasons.group == "all"]
    html += bar_chart([label("churn_r_", r, lang) for r in allr.reason], allr.share.astype(float).tolist(),
                      title=t("churn_reasons", lang), value_fmt=lambda v: f"{v:.1%}")
    vshare = allr[allr.voluntary == 1.0]
    vtot = vshare.churners.sum()
    rows = [[label("churn_r_", r.reason, lang), int(r.churners), _num(r.share, "{:.1%}"),
             t("churn_voluntary", lang) if r.voluntary == 1 else (t("churn_involuntary", lang) if r.voluntary == 0 else ""),
             _num(r.churners / vtot, "{:.1%}") if r.voluntary == 1 and vtot else "",
             _num(SEED_REASON_SHARE.get(r.reason, np.nan), "{:.0%}")] for r in allr.itertuples()]
    html += table_html([t(k, lang) for k in ("reason", "churn_churners", "churn_share", "churn_type",
                                             "churn_share_voluntary", "churn_seed_share")], rows, (1, 2, 4, 5))
    if vol is not None and len(vol) > 1:
        html += f"<h3>{t('churn_by_segment', lang)}</h3>" + table_html(
            [t(k, lang) for k in ("churn_group", "churn_churners", "churn_voluntary", "churn_involuntary",
                                  "churn_voluntary_share")],
            [[r.group, int(r.churners), int(r.voluntary), int(r.involuntary), _num(r.voluntary_share, "{:.1%}")]
             for r in vol.itertuples()], (1, 2, 3, 4))
    return Section("churn-reasons", t("churn_reasons", lang), html)


@register(65)
def complaint_section(con, lang, settings):
    ci = read_result(con, "complaint_impact")
    if ci is None or len(ci) == 0:
        return None
    html = f'<p class="muted">{escape(t("churn_complaint_note", lang))}</p>'
    html += table_html([t(k, lang) for k in ("churn_status", "customers_n", "churn_churners", "churn_rate",
                                             "churn_hazard_ratio", "churn_ci", "churn_p")],
                       [[label("churn_status_", r.status, lang), int(r.customers), int(r.churned),
                         _num(r.churn_rate, "{:.1%}"), _num(r.hazard_ratio, "{:.2f}"),
                         f"{_num(r.ci_lower, '{:.2f}')}–{_num(r.ci_upper, '{:.2f}')}", _num(r.p, "{:.2g}")]
                        for r in ci.itertuples()], (1, 2, 3, 4, 6))
    html += bar_chart([label("churn_status_", s, lang) for s in ci.status], ci.hazard_ratio.fillna(0).astype(float).tolist(),
                      title=t("churn_hazard_ratio", lang), value_fmt=lambda v: f"{v:.2f}")
    return Section("complaint-impact", t("churn_complaint_impact", lang), html)


@register(66)
def value_at_risk_section(con, lang, settings):
    rl = read_result(con, "retention_list")
    if rl is None or len(rl) == 0:
        return None
    cur = settings.get("currency", "CNY")
    src = rl.value_source.mode().iloc[0] if "value_source" in rl else ""
    html = kpis_html([(t("churn_value_at_risk", lang), f"{rl.value_at_risk.sum():,.0f} {cur}"),
                  (t("churn_listed", lang), f"{len(rl):,}"),
                  (t("churn_value_source", lang), label("churn_vs_", src, lang))])
    piv = rl.pivot_table(index="main_reason", columns="value_tier", values="value_at_risk", aggfunc="sum", fill_value=0)
    piv = piv.reindex(columns=[c for c in ("high", "medium", "low") if c in piv.columns])
    html += f"<h3>{t('churn_var_by_reason', lang)}</h3>" + table_html(
        [t("churn_main_reason", lang)] + [label("churn_tier_", c, lang) for c in piv.columns],
        [[label("churn_fam_", i, lang)] + [f"{v:,.0f}" for v in row] for i, row in zip(piv.index, piv.values)],
        tuple(range(1, len(piv.columns) + 1)))
    top = rl.head(20)
    html += f"<h3>{t('churn_retention_list', lang)}</h3>" + table_html(
        ["#", t("churn_customer", lang), t("churn_p_churn", lang), t("churn_value", lang), t("churn_value_at_risk", lang),
         t("churn_value_tier", lang), t("churn_main_reason", lang), t("churn_action", lang)],
        [[int(r.rank), r.customer_id, _num(r.p_churn, "{:.1%}"), f"{r.value:,.0f}", f"{r.value_at_risk:,.0f}",
          label("churn_tier_", r.value_tier, lang), label("churn_fam_", r.main_reason, lang), t(r.action, lang)]
         for r in top.itertuples()], (0, 2, 3, 4))
    owners = read_result(con, "owner_risk")
    if owners is not None and len(owners):
        o = owners.head(10)
        fp = float(owners.follow_probability.iloc[0]) if "follow_probability" in owners else 1.0
        html += f"<h3>{t('churn_owner_risk', lang)}</h3>"
        html += f'<p class="muted">{escape(t("churn_owner_note", lang, p=f"{fp:.0%}"))}</p>' + table_html(
            [t(k, lang) for k in ("churn_owner", "customers_n", "churn_value", "churn_value_share", "churn_cumulative_share",
                                  "churn_if_leaves")],
            [[r.owner, int(r.customers), f"{r.value:,.0f}", _num(r.value_share, "{:.1%}"),
              _num(r.cumulative_share, "{:.1%}"), f"{r.value_at_risk_if_leaves:,.0f}"] for r in o.itertuples()],
            (1, 2, 3, 4, 5))
    return Section("value-at-risk", t("churn_value_at_risk_title", lang), html)
