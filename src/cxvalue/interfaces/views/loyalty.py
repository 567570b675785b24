"""Loyalty view (order 48): repeat purchase by channel and product (C1, C2), premium-service
users vs others (C3), behavioural × attitudinal segments (C4) and incentive-driven repeat
purchases (C5). ``build`` reads the result tables of the ``loyalty`` step; the ``loyalty``
command builds the same view from :func:`cxvalue.loyalty.analysis.loyalty_analysis` frames
(:func:`loyalty_view`)."""
from __future__ import annotations

from ...store import read_result
from . import (Chart, Column, Kpi, Kpis, Table, Text, View, by_label, fmt, records, segment_label, small_note,
                step_notes, view)

STEP = "loyalty"
TABLES = ("loyalty_channel", "loyalty_product", "loyalty_service", "loyalty_segment_summary", "loyalty_incentive")
TOP_PRODUCTS = 10


@view("loyalty", 48)
def build(session) -> View | None:
    tables = {n: read_result(session.con, n) for n in TABLES}
    if all(v is None or v.empty for v in tables.values()):
        return None
    return loyalty_view(session, tables, notes=step_notes(session, STEP), limit=TOP_PRODUCTS)


def _group_label(t, g) -> str:
    return t("grp_other") if g == "other" else (t("grp_vip") if g == "vip" else str(g))


def loyalty_view(session, tables: dict, *, notes=(), limit: int | None = None) -> View | None:
    """The loyalty view from frames named like the result tables (``notes``: the warnings
    raised computing them; each block carries them; ``limit``: list only the products with
    the most customers)."""
    t, cur = session.t, session.currency
    tables = {k: v for k, v in tables.items() if v is not None and len(v)}
    if not tables:
        return None
    notes = list(notes)
    v = View("loyalty", t("view_loyalty"))
    kp = Kpis("loyalty-summary", t("sec_loyalty"), warnings=notes)   # the old section id "loyalty" is the view's
    v.blocks.append(kp)
    for key, tkey in (("loyalty_channel", "loy_channel_title"), ("loyalty_product", "loy_product_title")):
        if key in tables:
            v.blocks += _repeat(t, tables[key], key.split("_", 1)[1], tkey, notes, limit)
    sv = tables.get("loyalty_service")
    if sv is not None:
        v.blocks += _service(t, cur, sv, notes, kp)
    ss = tables.get("loyalty_segment_summary")
    if ss is not None:
        v.blocks += _segments(t, ss, notes, kp)
    inc = tables.get("loyalty_incentive")
    if inc is not None:
        v.blocks += _incentive(t, inc, notes, kp)
    return v


def _repeat(t, df, what: str, title_key: str, notes, limit=None) -> list:
    col = str(df.columns[0])
    id = f"loyalty-{what}"
    name = by_label(t, col)
    if col == what:
        title = t(title_key, n=min(len(df), TOP_PRODUCTS))
    else:
        title = t("loy_repeat_by_title", by=name)
    top = df.sort_values("customers", ascending=False, kind="stable").head(TOP_PRODUCTS) if what == "product" else df
    small = df["small_sample"].astype(bool)
    warns = notes + ([small_note(t, name)] if small.any() else [])
    note = ""
    if limit is not None and len(df) > limit:
        note = t("loy_rows_shown", shown=limit, total=len(df))
        df = df.sort_values("customers", ascending=False, kind="stable").head(limit)
    return [
        Chart(id, title, warnings=warns, chart="interval_bar", value_format="pct1",
              data={"labels": [segment_label(t, col, x) for x in top[col].astype(str)],
                    "values": top["repeat_rate"].astype(float).tolist(),
                    "lows": top["ci_low"].astype(float).tolist(), "highs": top["ci_high"].astype(float).tolist(),
                    "marks": top["small_sample"].astype(bool).tolist(), "ns": top["customers"].astype(int).tolist(),
                    "x_label": t("col_repeat_rate")}),
        Table(f"{id}-table", title, warnings=warns, columns=[
            Column("label", name), Column("customers", t("col_customers"), "int"),
            Column("repeat_customers", t("col_repeat_customers"), "int"),
            Column("repeat_rate", t("col_repeat_rate"), "pct1"), Column("ci_low", t("col_ci_low"), "pct1"),
            Column("ci_high", t("col_ci_high"), "pct1"),
            Column("occasions_per_customer", t("col_occasions_per_customer"), "float2"),
            Column("revenue_share", t("col_revenue_share"), "pct1")],
            rows=[{**r, "label": segment_label(t, col, r[col]) + ("*" if r["small_sample"] else "")}
                  for r in records(df)], note=note)]


def _service(t, cur, sv, notes, kp) -> list:
    cols = ["customers", "retention_rate", "repeat_rate", "spend_12m", "spend_per_purchase", "purchases_per_year"]
    if "churn_rate" in sv.columns:
        cols.append("churn_rate")
    fmts = {"customers": "int", "purchases_per_year": "float2"}
    columns = [Column("label", t("col_group"))] + [
        Column(c, t(f"col_{c}") + (f" ({cur})" if "spend" in c else ""),
               fmts.get(c, "pct1" if c.endswith("rate") else "money")) for c in cols]
    if {"ci_low", "ci_high"} <= set(sv.columns):
        columns[3:3] = [Column("ci_low", t("col_ci_low"), "pct1"), Column("ci_high", t("col_ci_high"), "pct1")]
    rows = [{**r, "label": _group_label(t, r["group"])} for r in records(sv)]
    for r in rows:
        kp.items.append(Kpi(f"retention_{r['group']}", t("loy_kpi_retention", group=r["label"]),
                            r["retention_rate"], "pct1"))
    small = sv["small_sample"].astype(bool) if "small_sample" in sv.columns else None
    warns = notes + ([small_note(t, t("col_group"))] if small is not None and small.any() else [])
    blocks = [Table("loyalty-service", t("loy_service_title"), warnings=warns, columns=columns, rows=rows)]
    if len(rows) == 2:
        a, b = rows
        blocks.append(Text("loyalty-service-sentence", tone="plain", text=t(
            "loy_service_sentence", flag=a["label"], r1=fmt(a["retention_rate"], "pct1"),
            r0=fmt(b["retention_rate"], "pct1"), s1=fmt(a["spend_per_purchase"], "money", unit=cur),
            s0=fmt(b["spend_per_purchase"], "money", unit=cur))))
    return blocks


def _segments(t, ss, notes, kp) -> list:
    title = t("loy_segments_title")
    rows = [{**r, "label": t(f"seg_{r['segment']}")} for r in records(ss)]
    for r in rows:
        if r["segment"] == "true":
            kp.items.append(Kpi("true_loyalty_share", r["label"], r["share"], "pct1"))
    blocks = [
        Chart("loyalty-segments", title, warnings=notes, chart="interval_bar", value_format="pct1",
              data={"labels": [r["label"] for r in rows], "values": ss["share"].fillna(0).astype(float).tolist(),
                    "ns": ss["customers"].astype(int).tolist(), "x_label": t("col_share")}),
        Table("loyalty-segments-table", title, warnings=notes, columns=[
            Column("label", t("col_group")), Column("customers", t("col_customers"), "int"),
            Column("share", t("col_share"), "pct1"), Column("repeats_per_year", t("col_repeats_per_year"), "float2"),
            Column("attitude_score", t("col_attitude_score"), "float2"),
            Column("incentive_share", t("col_incentive_share"), "pct1")], rows=rows)]
    c = ss.iloc[0]
    if "cut_attitude" in ss.columns:
        blocks.append(Text("loyalty-cutoffs", text=t(
            "loy_cutoffs", rpy=float(c["cut_repeats_per_year"]), tenure=int(c["cut_min_tenure_days"]),
            active=int(c["cut_active_days"]), attitude=str(c["cut_attitude"]), amin=float(c["cut_attitude_min"]))))
    return blocks


def _incentive(t, inc, notes, kp) -> list:
    title = t("loy_incentive_title")
    blocks = []
    a = inc[inc["by"] == "all"]
    if len(a):
        a = a.iloc[0]
        kp.items.append(Kpi("incentive_share", t("col_incentive_share"), float(a["incentive_share"]), "pct1"))
        blocks.append(Text("loyalty-incentive", title, warnings=notes, tone="plain", text=t(
            "loy_incentive_sentence", share=fmt(a["incentive_share"], "pct1"), lo=fmt(a["ci_low"], "pct1"),
            hi=fmt(a["ci_high"], "pct1"), first=fmt(a["incentive_share_first"], "pct1"))))
    bc = inc[inc["by"] != "all"]
    if len(bc):
        by = str(bc["by"].iloc[0])
        name = by_label(t, by)
        small = bc["small_sample"].astype(bool)
        warns = notes + ([small_note(t, name)] if small.any() else [])
        blocks.append(Chart("loyalty-incentive-chart", f"{title} — {name}", warnings=warns, chart="interval_bar",
                            value_format="pct1", data={
                                "labels": [segment_label(t, by, g) for g in bc["group"].astype(str)],
                                "values": bc["incentive_share"].astype(float).tolist(),
                                "lows": bc["ci_low"].astype(float).tolist(), "highs": bc["ci_high"].astype(float).tolist(),
                                "marks": small.tolist(), "ns": bc["purchases"].astype(int).tolist(),
                                "x_label": t("col_incentive_share")}))
    blocks.append(Table("loyalty-incentive-table", title, warnings=notes, columns=[
        Column("by_label", t("col_breakdown")), Column("group_label", t("col_group")),
        Column("purchases", t("col_purchases"), "int"), Column("repeat_purchases", t("col_repeat_purchases"), "int"),
        Column("incentive_share", t("col_incentive_share"), "pct1"), Column("ci_low", t("col_ci_low"), "pct1"),
        Column("ci_high", t("col_ci_high"), "pct1"),
        Column("incentive_share_first", t("col_incentive_share_first"), "pct1"),
        Column("incentive_driven_share", t("col_incentive_driven_share"), "pct1")],
        rows=[{**r, "by_label": t("col_all") if r["by"] == "all" else by_label(t, r["by"]),
               "group_label": t("col_all") if r["group"] == "all" else segment_label(t, r["by"], r["group"])}
              for r in records(inc)]))
    return blocks
