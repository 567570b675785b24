"""Report section for the relationship lifecycle (order 70): the stage flow over time, the stage
transition matrix, stage characteristics against the seed's profile, and lifecycle patterns.
It reads the tables written by the lifecycle analysis."""
from __future__ import annotations

from html import escape

from ..i18n import t
from ..report import Section, register
from ..report.charts import bar_chart, stacked_area_chart
from ..report.sections import table_html
from ..store import read_result
from .characteristics import SEED_PROFILE
from .stages import STAGES
from .transitions import matrix_wide


def _pct(v) -> str:
    return "" if v != v else f"{v:.1%}"


@register(70)
def lifecycle_section(con, lang, settings):
    flow = read_result(con, "lifecycle_flow")
    if flow is None or len(flow) == 0:
        return None
    stages = [s for s in STAGES if s in flow.columns]
    html = f'<p class="muted">{escape(t("lifecycle_intro", lang))}</p>'
    html += f"<h3>{t('lifecycle_flow', lang)}</h3>" + stacked_area_chart(
        flow.period.astype(str).tolist(), {t(f"lifecycle_{s}", lang): flow[s].astype(float).tolist() for s in stages},
        title=t("lifecycle_flow", lang))
    tr = read_result(con, "lifecycle_transitions")
    if tr is not None and len(tr):
        w = matrix_wide(tr)
        html += f"<h3>{t('lifecycle_transitions', lang)}</h3>" + table_html(
            [t("lifecycle_from_to", lang)] + [t(f"lifecycle_{s}", lang) for s in w.columns],
            [[t(f"lifecycle_{i}", lang)] + [_pct(v) for v in row] for i, row in zip(w.index, w.values)],
            tuple(range(1, len(w.columns) + 1)))
    ch = read_result(con, "lifecycle_characteristics")
    if ch is not None and len(ch):
        ch = ch.set_index("stage")
        cur = settings.get("currency", "CNY")
        cols = [s for s in STAGES if s in ch.index]
        rows = []
        for measure, col, fmt in (("volume", "purchases_per_period", "{:.2f}"), ("price", "amount_per_purchase", "{:,.0f}"),
                                  ("cost", "cost_share", "{:.1%}"), ("profit", "profit_per_period", "{:,.0f}")):
            seed = dict(zip(STAGES, SEED_PROFILE[measure]))
            rows.append([t(f"lifecycle_m_{measure}", lang, currency=cur)] +
                        [f"{fmt.format(ch.loc[s, col])} ({t(seed[s], lang)})" if ch.loc[s, col] == ch.loc[s, col]
                         else f"– ({t(seed[s], lang)})" for s in cols])
        rows.append([t("customers_n", lang)] + [f"{int(ch.loc[s, 'customers']):,}" for s in cols])
        html += f"<h3>{t('lifecycle_characteristics', lang)}</h3>" + table_html(
            [t("lifecycle_measure", lang)] + [t(f"lifecycle_{s}", lang) for s in cols], rows, tuple(range(1, len(cols) + 1)))
        html += f'<p class="muted">{escape(t("lifecycle_seed_note", lang))}</p>'
    pats = read_result(con, "lifecycle_patterns")
    if pats is not None and len(pats):
        p = pats[pats.group == "all"] if "group" in pats.columns else pats
        html += f"<h3>{t('lifecycle_patterns', lang)}</h3>" + bar_chart(
            [t(f"lifecycle_{x}", lang) for x in p.pattern], p.share.astype(float).tolist(),
            title=t("lifecycle_patterns", lang), value_fmt=lambda v: f"{v:.1%}")
        html += table_html([t(k, lang) for k in ("lifecycle_pattern", "customers_n", "lifecycle_share",
                                                 "lifecycle_share_decided", "lifecycle_mean_purchases")],
                           [[t(f"lifecycle_{r.pattern}", lang), int(r.customers), _pct(r.share), _pct(r.share_decided),
                             f"{r.mean_purchases:.1f}"] for r in p.itertuples()], (1, 2, 3, 4))
    return Section("lifecycle", t("lifecycle_title", lang), html)
