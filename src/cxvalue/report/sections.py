"""Built-in report sections: data overview and load quality (foundation)."""
from __future__ import annotations

from html import escape


from ..i18n import t
from ..store import status as store_status
from . import Section, register
from .charts import bar_chart, line_chart


def table_html(headers: list[str], rows: list[list], num_cols: tuple[int, ...] = ()) -> str:
    """A plain HTML table; cells are escaped, columns in ``num_cols`` right-aligned."""
    th = "".join(f'<th class="{"num" if i in num_cols else ""}">{escape(str(h))}</th>' for i, h in enumerate(headers))
    body = []
    for r in rows:
        tds = "".join(f'<td class="{"num" if i in num_cols else ""}">{escape(_cell(v))}</td>' for i, v in enumerate(r))
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def kpis_html(items) -> str:
    """Key figures as a row of boxes: ``[(label, value text), ...]``."""
    return '<div class="kpis">' + "".join(f'<div class="kpi">{escape(k)}<b>{escape(v)}</b></div>' for k, v in items) + "</div>"


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def monthly_activity(con):
    """Revenue and active customers per month, computed in the engine."""
    tx = con.table("transactions")
    m = tx.mutate(year=tx.date.year(), month=tx.date.month())
    agg = (m.group_by(["year", "month"]).aggregate(revenue=m.amount.sum(), customers=m.customer_id.nunique())
           .order_by(["year", "month"]))
    return agg.to_pandas()


@register(10)
def data_overview(con, lang, settings):
    info = store_status(con)
    if not info["tables"]:
        return None
    rows = [[f"{r['table']} — {t('t_' + r['table'], lang)}", r["rows"], r["customers"], r["date_from"] and str(r["date_from"])[:10],
             r["date_to"] and str(r["date_to"])[:10]] for r in info["tables"]]
    html = table_html([t(k, lang) for k in ("table", "rows", "customers_n", "date_from", "date_to")], rows, (1, 2))
    if "transactions" in con.list_tables():
        df = monthly_activity(con)
        if len(df):
            x = [f"{int(y)}-{int(mo):02d}" for y, mo in zip(df.year, df.month)]
            html += f"<h3>{t('monthly_revenue', lang)}</h3>" + line_chart(
                x, {t("revenue", lang) + f" ({settings.get('currency', 'CNY')})": df.revenue.astype(float).tolist()},
                title=t("monthly_revenue", lang))
            html += f"<h3>{t('monthly_customers', lang)}</h3>" + line_chart(
                x, {t("customers_n", lang): df.customers.astype(float).tolist()}, title=t("monthly_customers", lang))
    return Section("overview", t("data_overview", lang), html)


@register(20)
def load_quality(con, lang, settings):
    info = store_status(con)
    if not info["loads"]:
        return None
    loads = info["loads"]
    rows = [[l["table_name"], str(l["source"]).rsplit("/", 1)[-1], str(l["loaded_at"])[:19], l["rows_read"],
             l["rows_loaded"], l["rows_rejected"]] for l in loads]
    ok = all(l["rows_read"] == l["rows_loaded"] + l["rows_rejected"] for l in loads)
    html = table_html([t(k, lang) for k in ("table", "source", "loaded_at", "rows_read", "rows_loaded", "rows_rejected")],
                      rows, (3, 4, 5))
    html += f'<p class="{"ok" if ok else "warn"}">{t("reconcile_ok", lang) if ok else "rows read != loaded + rejected"}</p>'
    html += f'<p class="muted">{t("quarantine_intro", lang)}</p>'
    if info["quarantine"]:
        q = info["quarantine"]
        html += table_html([t(k, lang) for k in ("table", "reason", "column", "count")],
                           [[r["table_name"], t("r_" + r["reason"], lang), r["column_name"], r["rows"]] for r in q], (3,))
        by_reason = {}
        for r in q:
            by_reason[t("r_" + r["reason"], lang)] = by_reason.get(t("r_" + r["reason"], lang), 0) + r["rows"]
        html += bar_chart(list(by_reason), list(by_reason.values()), title=t("load_quality", lang))
        qt = con.table("quarantine")
        ex = qt.order_by(["table_name", "row"]).limit(10).to_pandas()
        html += table_html(["table", "source", "row", "column", "reason", "expected", "got"],
                           [[r.table_name, str(r.source).rsplit("/", 1)[-1], r.row, r.column_name, r.reason, r.expected, r.got]
                            for r in ex.itertuples()], (2,))
    else:
        html += f"<p>{t('quarantine_none', lang)}</p>"
    return Section("load-quality", t("load_quality", lang), html)
