"""Overview view: what is in the store (tables, monthly activity) and the load quality
(loads reconcile, quarantined rows by reason, first rejected rows)."""
from __future__ import annotations

from ...store import has_table, status as store_status
from . import Chart, Column, Table, Text, View, records, view


def monthly_activity(con):
    """Revenue and active customers per month, computed in the engine."""
    tx = con.table("transactions")
    m = tx.mutate(year=tx.date.year(), month=tx.date.month())
    agg = (m.group_by(["year", "month"]).aggregate(revenue=m.amount.sum(), customers=m.customer_id.nunique())
           .order_by(["year", "month"]))
    return agg.to_pandas()


def _name(path) -> str:
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


@view("overview", 10)
def build(session, *, activity: bool = True) -> View | None:
    """The store's tables, (with ``activity``) monthly revenue and customers, and load quality."""
    con, t = session.con, session.t
    info = store_status(con)
    if not info["tables"]:
        return None
    v = View("overview", t("data_overview"))
    v.blocks.append(Table("tables", "", columns=[
        Column("table", t("table")), Column("table_label", ""), Column("rows", t("rows"), "int"),
        Column("customers", t("customers_n"), "int"), Column("date_from", t("date_from"), "date"),
        Column("date_to", t("date_to"), "date")],
        rows=[{"table": r["table"], "table_label": t("t_" + r["table"]), "rows": r["rows"],
               "customers": r["customers"], "date_from": r["date_from"] and str(r["date_from"])[:10],
               "date_to": r["date_to"] and str(r["date_to"])[:10]} for r in info["tables"]]))
    if activity and has_table(con, "transactions"):
        df = monthly_activity(con)
        if len(df):
            x = [f"{int(y)}-{int(mo):02d}" for y, mo in zip(df.year, df.month)]
            v.blocks.append(Chart("monthly-revenue", t("monthly_revenue"), chart="line", value_format="money",
                                  data={"x": x, "series": {f"{t('revenue')} ({session.currency})":
                                                           df.revenue.astype(float).tolist()}}))
            v.blocks.append(Chart("monthly-customers", t("monthly_customers"), chart="line", value_format="int",
                                  data={"x": x, "series": {t("customers_n"): df.customers.astype(float).tolist()}}))
    if info["loads"]:
        v.blocks += _load_quality(session, info)
    return v


QUARANTINE_COLUMNS = ("table_name", "source", "row", "column_name", "reason", "expected", "got")


def quarantine_view(session, rows) -> View:
    """Quarantined rows (a frame from :func:`cxvalue.store.quarantined`) as a view."""
    t = session.t
    labels = {"table_name": t("table"), "source": t("source"), "row": "row", "column_name": t("column"),
              "reason": t("reason"), "expected": "expected", "got": "got"}
    rows = rows.assign(source=[_name(x) for x in rows.source]) if len(rows) else rows
    return View("quarantine", t("load_quality") + " — quarantine", blocks=[Table(
        "quarantine-rows", "", columns=[Column(c, labels[c], "int" if c == "row" else "text")
                                        for c in QUARANTINE_COLUMNS],
        rows=records(rows, [c for c in QUARANTINE_COLUMNS if c in rows.columns]))])


def _load_quality(session, info) -> list:
    t = session.t
    loads = info["loads"]
    ok = all(ld["rows_read"] == ld["rows_loaded"] + ld["rows_rejected"] for ld in loads)
    blocks = [
        Table("load-quality", t("load_quality"), columns=[
            Column("table", t("table")), Column("source", t("source")), Column("loaded_at", t("loaded_at"), "text"),
            Column("rows_read", t("rows_read"), "int"), Column("rows_loaded", t("rows_loaded"), "int"),
            Column("rows_rejected", t("rows_rejected"), "int")],
            rows=[{"table": ld["table_name"], "source": _name(ld["source"]), "loaded_at": str(ld["loaded_at"])[:19],
                   "rows_read": ld["rows_read"], "rows_loaded": ld["rows_loaded"],
                   "rows_rejected": ld["rows_rejected"]} for ld in loads]),
        Text("reconcile", text=t("reconcile_ok") if ok else t("reconcile_failed"), tone="ok" if ok else "warn"),
        Text("quarantine-intro", text=t("quarantine_intro"))]
    q = info["quarantine"]
    if not q:
        blocks.append(Text("quarantine-none", text=t("quarantine_none"), tone="plain"))
        return blocks
    blocks.append(Table("quarantine-reasons", "", columns=[
        Column("table", t("table")), Column("reason", t("reason")), Column("reason_label", ""),
        Column("column", t("column")), Column("rows", t("count"), "int")],
        rows=[{"table": r["table_name"], "reason": r["reason"], "reason_label": t("r_" + r["reason"]),
               "column": r["column_name"], "rows": r["rows"]} for r in q]))
    by_reason: dict[str, int] = {}
    for r in q:
        by_reason[t("r_" + r["reason"])] = by_reason.get(t("r_" + r["reason"]), 0) + int(r["rows"])
    blocks.append(Chart("quarantine-chart", t("load_quality"), chart="bar", value_format="int",
                        data={"labels": list(by_reason), "values": list(by_reason.values())}))
    ex = session.con.table("quarantine").order_by(["table_name", "row"]).limit(10).to_pandas()
    blocks.append(Table("quarantine-examples", "", columns=[
        Column("table", t("table")), Column("source", t("source")), Column("row", "row", "int"),
        Column("column", t("column")), Column("reason", t("reason")), Column("expected", "expected"),
        Column("got", "got")],
        rows=[{"table": r.table_name, "source": _name(r.source), "row": int(r.row), "column": r.column_name,
               "reason": r.reason, "expected": r.expected, "got": r.got} for r in ex.itertuples()]))
    return blocks
