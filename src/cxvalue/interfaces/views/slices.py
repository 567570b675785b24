"""The "customers in this view" section of each dashboard: the numbers of
:mod:`cxvalue.explore.slices` on the slice the filters keep (everyone without filters), as
blocks whose charts carry a ``drill`` spec ({"param", "values"}: the customer-list filter each
bar stands for) so an interface can link a bar to the customers behind it.

:func:`filter_notes` says which filters a dashboard honours: the report's blocks below the
section are computed on everyone, and a page whose numbers are model fits (drivers, CSI)
cannot honour filters at all.
"""
from __future__ import annotations

from ...explore.filters import Filters
from ...explore.slices import slice_summary
from . import Chart, Column, Kpi, Kpis, Note, Table, View, coded_label, records

#: dashboards with a filtered section; the others (perception) say they cannot honour filters
SLICED = ("overview", "value", "voice", "loyalty", "churn", "lifecycle")


def filter_notes(session, view_id: str, f: Filters) -> list[Note]:
    """What the filters do on dashboard ``view_id`` (empty without filters)."""
    if not f:
        return []
    t = session.t
    if view_id not in SLICED:
        return [Note("FilterNotApplied", t("web_filters_not_honoured"))]
    return [Note("FilterNotice", t("web_filters_section_only"))]


def slice_blocks(session, view_id: str, f: Filters, summary=None) -> list:
    """The filtered section of dashboard ``view_id`` (empty when it has none or no data);
    ``summary``: the numbers of :func:`cxvalue.explore.slices.slice_summary`, when already known."""
    if view_id not in SLICED:
        return []
    s = summary if summary is not None else slice_summary(session.con, view_id, f)
    if not s:
        return []
    blocks = BUILDERS[view_id](session, s)
    if not f:  # everyone: the view below has these totals already; keep the drillable charts and lists
        blocks = [b for b in blocks if not isinstance(b, Kpis)]
    return blocks


def _kpis(id, title, items) -> Kpis:
    return Kpis(id, title, items=[Kpi(k, label, v, fmt_) for k, label, v, fmt_ in items if v is not None])


def _bar(id, title, labels, values, param, codes, value_format="int") -> Chart:
    return Chart(id, title, chart="bar", value_format=value_format,
                 data={"labels": labels, "values": [float(v or 0) for v in values],
                       "drill": {"param": param, "values": [str(c) for c in codes]}})


def _overview(session, s) -> list:
    t = session.t
    out = [_kpis("slice-kpis", t("web_slice_title"), [
        ("customers", t("customers_n"), s.get("customers"), "int"),
        ("transactions", t("t_transactions"), s.get("transactions"), "int"),
        ("revenue", f"{t('revenue')} ({session.currency})", s.get("revenue"), "money"),
        ("responses", t("t_responses"), s.get("responses"), "int"),
        ("complaints", t("t_complaints"), s.get("complaints"), "int")])]
    m = s.get("monthly")
    if m is not None and len(m):
        out.append(Chart("slice-revenue", t("monthly_revenue"), chart="line", value_format="money",
                         data={"x": [str(d)[:7] for d in m.month],
                               "series": {f"{t('revenue')} ({session.currency})": m.revenue.astype(float).tolist()}}))
    return out


def _value(session, s) -> list:
    t, tot, tiers = session.t, s["totals"], s["tiers"]
    out = [_kpis("slice-kpis", t("web_slice_title"), [
        ("customers", t("customers_n"), tot["customers"], "int"),
        ("total_clv", f"{t('web_total_clv')} ({session.currency})", tot["total_clv"], "money"),
        ("mean_clv", f"{t('web_mean_clv')} ({session.currency})", tot["mean_clv"], "money"),
        ("mean_p_alive", t("web_mean_p_alive"), tot["mean_p_alive"], "pct")])]
    if len(tiers):
        out.append(_bar("slice-tiers", t("web_customers_by_tier"),
                        [coded_label(t, "tier_", v) for v in tiers.value_tier], tiers.customers, "value_tier",
                        tiers.value_tier))
    return out


def _voice(session, s) -> list:
    t, sm = session.t, s["summary"]
    row = sm.iloc[0].to_dict() if len(sm) else {}
    out = [_kpis("slice-kpis", t("web_slice_title"), [
        ("n", t("web_answers"), row.get("n"), "int"), ("nps", "NPS", row.get("nps"), "points"),
        ("ci_low", t("web_ci_low"), row.get("ci_low"), "points"), ("ci_high", t("web_ci_high"), row.get("ci_high"), "points"),
        ("promoters_pct", t("web_promoters_pct"), row.get("promoters_pct"), "points"),
        ("detractors_pct", t("web_detractors_pct"), row.get("detractors_pct"), "points")])]
    if row.get("small_sample"):
        out[0].warnings.append(Note("SmallSampleWarning", t("cx_small_sample", min_n=30)))
    tr = s["trend"]
    if len(tr):
        clip = lambda xs: [None if v is None or v != v else max(-100.0, min(100.0, float(v))) for v in xs]
        chart = Chart("slice-nps-trend", t("web_nps_by_month"), chart="line", value_format="points",
                      data={"x": [str(p)[:7] for p in tr.period], "series": {"NPS": tr.nps.tolist()},
                            "bands": {"NPS": [clip(tr.ci_low), clip(tr.ci_high)]}})  # NPS lies in [-100, 100]
        small = [str(p)[:7] for p, n in zip(tr.period, tr.small_sample) if n]
        if small:
            chart.warnings.append(Note("SmallSampleWarning", t("web_small_months", min_n=30, months=", ".join(
                small[:12]) + (" ..." if len(small) > 12 else ""))))
        out.append(chart)
    tp = s.get("touchpoints")
    if tp is not None and len(tp):
        out.append(Table("slice-touchpoints", t("web_nps_by_touchpoint"), columns=[
            Column("touchpoint", t("by_touchpoint")), Column("n", t("web_answers"), "int"),
            Column("nps", "NPS", "points"), Column("ci_low", t("web_ci_low"), "points"),
            Column("ci_high", t("web_ci_high"), "points")], rows=records(tp)))
    return out


def _loyalty(session, s) -> list:
    t, seg = session.t, s["segments"]
    return [_bar("slice-loyalty", t("web_customers_by_loyalty"), [coded_label(t, "seg_", v) for v in seg.loyalty_segment],
                 seg.customers, "loyalty_segment", seg.loyalty_segment)] if len(seg) else []


def _churn(session, s) -> list:
    t, tot = session.t, s["totals"]
    out = [_kpis("slice-kpis", t("web_slice_title"), [
        ("customers", t("customers_n"), tot["customers"], "int"),
        ("mean_p_churn", t("web_mean_p_churn"), tot["mean_p_churn"], "pct1"),
        ("value_at_risk", f"{t('web_value_at_risk')} ({session.currency})", tot.get("value_at_risk"), "money")])]
    d = s["deciles"]
    if len(d):
        out.append(_bar("slice-deciles", t("web_customers_by_decile"), [f"{t('churn_decile')} {int(v)}" for v in d.risk_decile],
                        d.customers, "risk_decile", [int(v) for v in d.risk_decile]))
    r = s["reasons"]
    if len(r):
        out.append(_bar("slice-reasons", t("churn_main_reason"), [coded_label(t, "churn_fam_", v) for v in r.main_reason],
                        r.customers, "main_reason", r.main_reason))
    rl = s.get("retention")
    if rl is not None and len(rl):
        rows = records(rl, [c for c in ("customer_id", "p_churn", "value_at_risk", "main_reason", "action")
                            if c in rl.columns])
        for row in rows:
            row["main_reason"] = coded_label(t, "churn_fam_", row.get("main_reason"))
            row["action"] = coded_label(t, "", row.get("action")) if row.get("action") else None
        out.append(Table("slice-retention", t("churn_retention_list_n", n=len(rows)), columns=[
            Column("customer_id", t("web_customer")), Column("p_churn", t("web_p_churn"), "pct1"),
            Column("value_at_risk", f"{t('web_value_at_risk')} ({session.currency})", "money"),
            Column("main_reason", t("churn_main_reason")), Column("action", t("churn_action"))], rows=rows))
    return out


def _lifecycle(session, s) -> list:
    t, st = session.t, s["stages"]
    return [_bar("slice-stages", t("web_customers_by_stage"), [coded_label(t, "lifecycle_", v) for v in st.current_stage],
                 st.customers, "stage", st.current_stage)] if len(st) else []


BUILDERS = {"overview": _overview, "value": _value, "voice": _voice, "loyalty": _loyalty, "churn": _churn,
            "lifecycle": _lifecycle}


def dashboard(session, view_id: str, f: Filters, base: View | None, summary=None) -> View | None:
    """Dashboard ``view_id``: the filtered section, then the report's view ``base`` (computed on
    everyone), with notes on what the filters did."""
    blocks = slice_blocks(session, view_id, f, summary)
    if base is None and not blocks:
        return None
    v = View(view_id, base.title if base else session.t(f"view_{view_id}"))
    if base is not None:
        v.warnings, v.as_of, v.skipped, v.meta = list(base.warnings), base.as_of, base.skipped, dict(base.meta)
    v.warnings = filter_notes(session, view_id, f) + v.warnings
    v.meta["filters"] = f.active()
    v.blocks = blocks + (list(base.blocks) if base else [])
    return v
