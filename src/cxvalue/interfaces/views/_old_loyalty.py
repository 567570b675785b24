"""Report section: loyalty (order 48), from the tables of :mod:`cxvalue.loyalty.pipeline`."""
from __future__ import annotations

from ..i18n import t
from ..report import Section, register
from ..report.charts import interval_bar_chart
from ..report.sections import table_html
from ..store import read_result

TOP_PRODUCTS = 10


def _pct(v) -> str:
    return "" if v is None or v != v else f"{100 * v:.1f}%"


@register(48)
def loyalty_section(con, lang, settings):
    ch = read_result(con, "loyalty_channel")
    if ch is None:
        return None
    cur = settings.get("currency", "CNY")
    html, warns = "", []
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    title = t("loy_channel_title", lang)
    html += f"<h3>{title}</h3>" + interval_bar_chart(
        ch["channel"].tolist(), ch["repeat_rate"].tolist(), ch["ci_low"].tolist(), ch["ci_high"].tolist(),
        title=title, value_fmt=pct, marks=ch["small_sample"].astype(bool).tolist())
    html += table_html([t("by_channel", lang), t("col_customers", lang), t("col_repeat_rate", lang),
                        t("col_ci", lang), t("col_occasions_per_customer", lang), t("col_revenue_share", lang)],
                       [[r.channel, int(r.customers), _pct(r.repeat_rate), f"{_pct(r.ci_low)} … {_pct(r.ci_high)}",
                         r.occasions_per_customer, _pct(r.revenue_share)] for r in ch.itertuples()], (1, 2, 4, 5))
    pr = read_result(con, "loyalty_product")
    if pr is not None and len(pr):
        top = pr.sort_values("customers", ascending=False).head(TOP_PRODUCTS)
        title = t("loy_product_title", lang, n=len(top))
        html += f"<h3>{title}</h3>" + interval_bar_chart(
            top["product"].tolist(), top["repeat_rate"].tolist(), top["ci_low"].tolist(), top["ci_high"].tolist(),
            title=title, value_fmt=pct, color="#16a34a")
    sv = read_result(con, "loyalty_service")
    if sv is not None and len(sv):
        html += f"<h3>{t('loy_service_title', lang)}</h3>"
        cols = ["customers", "retention_rate", "repeat_rate", "spend_12m", "spend_per_purchase", "purchases_per_year"]
        if "churn_rate" in sv.columns:
            cols.append("churn_rate")
        rows = []
        for r in sv.to_dict("records"):
            label = t("grp_other", lang) if r["group"] == "other" else (
                t("grp_vip", lang) if r["group"] == "vip" else r["group"])
            rows.append([label] + [(_pct(r[c]) if c.endswith("rate") else r[c]) for c in cols])
        html += table_html([t("col_group", lang)] + [t(f"col_{c}", lang) + (f" ({cur})" if "spend" in c else "")
                                                     for c in cols], rows, tuple(range(1, len(cols) + 1)))
        if len(sv) == 2:
            a, b = sv.iloc[0], sv.iloc[1]
            html += "<p>" + t("loy_service_sentence", lang, flag=t("grp_vip", lang) if a["group"] == "vip" else a["group"],
                              r1=_pct(a["retention_rate"]), r0=_pct(b["retention_rate"]),
                              s1=f"{a['spend_per_purchase']:,.0f} {cur}", s0=f"{b['spend_per_purchase']:,.0f} {cur}") + "</p>"
    ss = read_result(con, "loyalty_segment_summary")
    if ss is not None and len(ss):
        title = t("loy_segments_title", lang)
        html += f"<h3>{title}</h3>"
        labels = [t(f"seg_{s}", lang) for s in ss["segment"]]
        html += interval_bar_chart(labels, ss["share"].fillna(0).tolist(), title=title, value_fmt=pct, color="#7c3aed")
        html += table_html([t("col_group", lang), t("col_customers", lang), t("col_share", lang),
                            t("col_repeats_per_year", lang), t("col_attitude_score", lang),
                            t("col_incentive_share", lang)],
                           [[lab, int(r.customers), _pct(r.share), r.repeats_per_year, r.attitude_score,
                             _pct(r.incentive_share)] for lab, r in zip(labels, ss.itertuples())], (1, 2, 3, 4, 5))
        c = ss.iloc[0]
        if "cut_attitude" in ss.columns:
            html += '<p class="muted">' + t("loy_cutoffs", lang, rpy=float(c["cut_repeats_per_year"]),
                                            tenure=int(c["cut_min_tenure_days"]), active=int(c["cut_active_days"]),
                                            attitude=str(c["cut_attitude"]),
                                            amin=float(c["cut_attitude_min"])) + "</p>"
    inc = read_result(con, "loyalty_incentive")
    if inc is not None and len(inc):
        title = t("loy_incentive_title", lang)
        a = inc[inc["by"] == "all"].iloc[0]
        html += f"<h3>{title}</h3><p>" + t("loy_incentive_sentence", lang, share=_pct(a["incentive_share"]),
                                          lo=_pct(a["ci_low"]), hi=_pct(a["ci_high"]),
                                          first=_pct(a["incentive_share_first"])) + "</p>"
        bc = inc[inc["by"] == "channel"]
        if len(bc):
            html += interval_bar_chart(bc["group"].tolist(), bc["incentive_share"].tolist(), bc["ci_low"].tolist(),
                                       bc["ci_high"].tolist(), title=title, value_fmt=pct, color="#d97706")
    return Section("loyalty", t("sec_loyalty", lang), html, tuple(warns))

