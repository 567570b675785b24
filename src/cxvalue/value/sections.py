"""Report sections for customer value: CLV distribution and model check, value matrix,
value multiplication. They read the result tables written by the value analysis."""
from __future__ import annotations

from html import escape

from ..i18n import t
from ..report import Section, register
from ..report.charts import histogram, line_chart, stacked_bar_chart
from ..report.sections import kpis_html, table_html
from ..store import read_result




@register(30)
def clv_section(con, lang, settings):
    cv = read_result(con, "customer_value")
    if cv is None or len(cv) == 0:
        return None
    cur = settings.get("currency", "CNY")
    months = int(settings.get("clv_horizon_months", 12))
    params = read_result(con, "clv_parameters")
    html = kpis_html([(t("kpi_customers", lang), f"{len(cv):,}"), (t("kpi_total_clv", lang), f"{cv.clv.sum():,.0f} {cur}"),
                  (t("kpi_mean_clv", lang), f"{cv.clv.mean():,.0f} {cur}"),
                  (t("kpi_p_alive", lang), f"{cv.p_alive.mean():.2f}")])
    if params is not None and len(params):
        p0 = params.iloc[0]
        html += kpis_html([(t("kpi_margin", lang), f"{p0.margin:.0%}")])
        html += f'<p class="muted">{escape(t("value_note", lang, as_of=p0.as_of, d=float(p0.discount_rate)))}</p>'
    clip = cv.clv.clip(upper=cv.clv.quantile(0.99))
    html += f"<h3>{t('clv_distribution', lang, months=months, currency=cur)}</h3>" + histogram(
        clip, bins=24, title=t("clv_distribution", lang, months=months, currency=cur))
    if params is not None and len(params):
        rows = [[r.model, r.parameter, r.estimate, r.se, r.lower_95, r.upper_95] for r in params.itertuples()]
        html += f"<h3>{t('clv_parameters', lang)}</h3>" + table_html(
            ["model", "parameter", "estimate", "se", "lower 95%", "upper 95%"], rows, (2, 3, 4, 5))
        ll = params.groupby("model").loglik.first()
        html += '<p class="muted">' + ", ".join(f"{m}: log-likelihood {v:,.2f}" for m, v in ll.items()) + "</p>"
    track = read_result(con, "clv_tracking")
    if track is not None and len(track):
        cut = str(track.calibration_end.iloc[0])[:10]
        html += f"<h3>{t('clv_tracking', lang, cut=cut)}</h3>" + line_chart(
            [str(d)[:10] for d in track.date], {t("actual", lang): track.actual_cumulative.tolist(),
                                                t("predicted", lang): track.expected_cumulative.tolist()},
            title=t("clv_tracking", lang, cut=cut))
    hold = read_result(con, "clv_holdout")
    if hold is not None and len(hold):
        html += f"<h3>{t('clv_holdout_table', lang)}</h3>" + table_html(
            list(hold.columns), hold.values.tolist(), tuple(range(1, len(hold.columns))))
    return Section("customer-value", t("customer_value", lang), html)


@register(32)
def matrix_section(con, lang, settings):
    m = read_result(con, "value_matrix")
    if m is None or len(m) == 0:
        return None
    by = m.set_index("value_tier")

    def cell(tier):
        if tier not in by.index:
            return "<td>–</td>"
        r = by.loc[tier]
        return (f"<td><b>{escape(t('tier_' + tier, lang))}</b><br>{int(r.customers):,} ({r.customer_share:.0%})<br>"
                f"{escape(t('strategy', lang))}: {escape(t('strategy_' + r.strategy, lang))}</td>")
    hi, lo = ("高", "低") if lang == "zh" else ("high", "low")
    grid = (f"<table><tr><th></th><th>{escape(t('potential_value', lang))}: {hi}</th><th>{escape(t('potential_value', lang))}: {lo}</th></tr>"
            f"<tr><th>{escape(t('current_value', lang))}: {hi}</th>{cell('platinum')}{cell('iron')}</tr>"
            f"<tr><th>{escape(t('current_value', lang))}: {lo}</th>{cell('gold')}{cell('lead')}</tr></table>")
    rows = [[t("tier_" + r.value_tier, lang), r.customers, f"{r.customer_share:.1%}", r.current_value,
             f"{r.current_value_share:.1%}", r.potential_value, f"{r.potential_value_share:.1%}",
             t("strategy_" + r.strategy, lang)] for r in m.itertuples()]
    html = grid + table_html([t("value_tier", lang), t("kpi_customers", lang), t("share", lang), t("current_value", lang),
                              t("share", lang), t("potential_value", lang), t("share", lang), t("strategy", lang)],
                             rows, (1, 3, 5))
    return Section("value-matrix", t("value_matrix", lang), html)


@register(34)
def multiplication_section(con, lang, settings):
    s = read_result(con, "value_multiplication_summary")
    if s is None or len(s) == 0:
        return None
    comps = ("base_revenue", "upbuying_revenue", "crossbuying_revenue", "referral_revenue")
    labels = [str(int(y)) for y in s.relationship_year]
    chart = stacked_bar_chart(labels, {t(c, lang): s[c].astype(float).tolist() for c in comps},
                              line={t("cost_per_customer", lang): s.cost_per_customer.astype(float).tolist()},
                              title=t("value_multiplication", lang))
    cols = ["relationship_year", "customers", *comps, "cost_per_customer", "profit", "cumulative_profit"]
    rows = [[int(r[0]), int(r[1]), *map(float, r[2:])] for r in s[cols].itertuples(index=False)]
    html = chart + table_html([t(c, lang) if c != "customers" else t("kpi_customers", lang) for c in cols],
                              rows, tuple(range(1, len(cols))))
    return Section("value-multiplication", t("value_multiplication", lang), html)
