"""Report section: NPS with intervals, trend and breakdowns (order 40). Reads the result
tables written by :mod:`cxvalue.voice.pipeline`."""
from __future__ import annotations

from ..i18n import t
from ..report import Section, register
from ..report.charts import interval_bar_chart, line_chart
from ..report.sections import table_html
from ..store import read_result

SHOWN = ("touchpoint", "channel", "value_tier", "member_tier", "wave", "product")
MAX_SEGMENTS = 12


def segment_label(by: str, value: str, lang: str) -> str:
    """Display label of a segment value (value tiers and NPS classes are translated)."""
    if by == "value_tier":
        return t(f"tier_{value}", lang)
    return str(value)


@register(40)
def nps_section(con, lang, settings):
    summary = read_result(con, "nps_summary")
    if summary is None or summary.empty:
        return None
    s = summary[summary["method"] == "wald"].iloc[0]
    html = f"<p>{t('nps_intro', lang, method='Wald', nps=s['nps'], lo=s['ci_low'], hi=s['ci_high'], n=int(s['n']))}</p>"
    html += table_html(["", t("col_nps", lang), t("col_ci", lang), t("col_n", lang), t("col_promoters_pct", lang),
                        t("col_passives_pct", lang), t("col_detractors_pct", lang)],
                       [[r.method, r.nps, f"{r.ci_low:+.1f} … {r.ci_high:+.1f}", int(r.n), r.promoters_pct,
                         r.passives_pct, r.detractors_pct] for r in summary.itertuples()], (1, 3, 4, 5, 6))
    warns = []
    trend = read_result(con, "nps_trend")
    if trend is not None and not trend.empty:
        freq = "M" if (trend["freq"] == "M").sum() >= 3 else "Q"
        tr = trend[trend["freq"] == freq].sort_values("period_start")
        title = t("nps_trend_title", lang, freq=t(f"nps_freq_{freq}", lang))
        html += f"<h3>{title}</h3>" + line_chart(
            tr["period"].tolist(), {"NPS": tr["nps"].tolist()},
            bands={"NPS": (tr["ci_low"].tolist(), tr["ci_high"].tolist())}, title=title, y_label="NPS")
        last = tr.iloc[-1]
        if len(tr) > 1 and last["nps_change"] == last["nps_change"]:
            html += f"<p>{t('nps_change_note', lang, period=last['period'], nps=last['nps'], change=last['nps_change'], p=last['p_value_change'])}</p>"
    segs = read_result(con, "nps_segments")
    if segs is not None and not segs.empty:
        min_n = 30
        for by in [b for b in SHOWN if b in set(segs["by"])]:
            tab = segs[segs["by"] == by].sort_values("n", ascending=False).head(MAX_SEGMENTS)
            if by == "wave":
                tab = tab.sort_values("segment")
            if by == "value_tier":
                from ..perception.experience_value import TIER_ORDER
                order = {v: i for i, v in enumerate(TIER_ORDER)}
                tab = tab.sort_values("segment", key=lambda s: s.map(order).fillna(len(order)))
            title = t("nps_by_title", lang, by=t(f"by_{by}", lang))
            labels = [segment_label(by, v, lang) for v in tab["segment"]]
            html += f"<h3>{title}</h3>" + interval_bar_chart(
                labels, tab["nps"].tolist(), tab["ci_low"].tolist(), tab["ci_high"].tolist(), title=title,
                marks=tab["small_sample"].astype(bool).tolist(), value_fmt=lambda v: f"{v:+.1f}")
            if tab["small_sample"].any():
                warns.append(t("cx_small_sample", lang, min_n=min_n) + f" ({t(f'by_{by}', lang)})")
    return Section("nps", t("sec_nps", lang), html, tuple(warns))
