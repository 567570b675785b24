"""Case views of the closed loop: the case list (queue) and one case with its history, built
from :mod:`cxvalue.loop.cases`; the CLI and (next) the web workplace render them."""
from __future__ import annotations

import ibis
import pandas as pd

from ...loop.cases import STATUSES, case_history, current_cases, get_case
from ...loop.rules import run_clock
from . import Column, Kpi, Kpis, Table, View, coded_label, records, segment_label

LIST = (("case_id", "case_id", "text"), ("customer_id", "web_customer", "text"), ("status", "case_status", "text"),
        ("priority", "case_priority", "text"), ("owner", "case_owner", "text"), ("team_now", "case_team", "text"),
        ("source", "case_source", "text"), ("opened_at", "case_opened", "date"), ("sla_due", "case_sla_due", "date"),
        ("root_cause", "case_root_cause", "text"), ("version", "case_version", "int"))


#: the statuses of the cases still to work (the queue's default)
OPEN_WORK = ("open", "in_progress", "escalated")


def cases_view(session, *, status: str | None = None, owner: str | None = None, team: str | None = None,
               holdout: bool = False, limit: int = 200, offset: int = 0) -> View:
    """The cases to work — open, in progress or escalated, the soonest due first — or those of one
    ``status`` (``"all"``: every status), optionally of one owner or team, ``limit`` from ``offset``;
    ``holdout``: the hold-out's cases instead (recorded, deliberately not worked)."""
    t = session.t
    v = View("cases", t("cases_title"))
    cur = current_cases(session.con)
    if cur is None:
        v.blocks.append(Table("case-list", "", columns=[Column(k, t(lab), f) for k, lab, f in LIST], rows=[]))
        v.meta = {"total": 0}
        return v
    cur = cur.filter(cur.holdout if holdout else ~cur.holdout)
    if owner:
        cur = cur.filter(cur.owner == owner)
    if team:
        cur = cur.filter(cur.team_now == team)
    counts = {r["status"]: r["n"] for r in cur.group_by("status").aggregate(n=cur.count()).to_pyarrow().to_pylist()}
    v.blocks.append(Kpis("case-counts", "", items=[Kpi(s, coded_label(t, "case_s_", s), counts.get(s, 0), "int")
                                                   for s in STATUSES]))
    shown = STATUSES if status == "all" else (status,) if status else OPEN_WORK
    cur = cur.filter(cur.status.isin(list(shown)))
    total = int(sum(counts.get(s, 0) for s in shown))
    offset = max(int(offset), 0)
    rows = cur.order_by([ibis.asc("sla_due"), ibis.desc("opened_at"), "case_id"]).limit(limit, offset=offset) \
        .to_pandas()
    recs = records(rows, [k for k, _, _ in LIST if k in rows.columns])
    clock = run_clock(session.as_of) if session.as_of else None   # the clock the SLA check escalates by
    for r, due in zip(recs, rows["sla_due"]):
        worked = r.get("status") not in ("resolved", "closed") and clock is not None and not pd.isna(due)
        r["sla_hours_left"] = round((due - clock).total_seconds() / 3600.0, 1) if worked else None
        r["status"] = coded_label(t, "case_s_", r.get("status"))
        r["priority"] = coded_label(t, "case_p_", r.get("priority"))
        r["source"] = coded_label(t, "case_src_", r.get("source"))
        if r.get("root_cause"):
            r["root_cause"] = coded_label(t, "rc_", r["root_cause"])
    v.blocks.append(Table("case-list", "", columns=[Column(k, t(lab), f) for k, lab, f in LIST], rows=recs))
    v.meta = {"total": total, "shown": len(recs), "offset": offset, "limit": limit, "all_statuses": int(sum(counts.values())),
              "clock": str(clock) if clock else None,
              "filters": {"status": status or "open_work", "owner": owner, "team": team, "holdout": holdout}}
    return v


def case_view(session, case_id: str) -> View:
    """One case: its current state and every event."""
    t = session.t
    c = get_case(session.con, case_id)
    v = View("case", f"{t('case')} {c.case_id}")
    v.meta = {"case": c.to_dict(), "allowed": c.allowed()}
    fields = [("web_customer", c.customer_id), ("case_status", coded_label(t, "case_s_", c.status)),
              ("case_priority", coded_label(t, "case_p_", c.priority)), ("case_owner", c.owner), ("case_team", c.team),
              ("case_source", coded_label(t, "case_src_", c.source)),
              ("case_rule", coded_label(t, "rule_", c.rule) if c.rule else None),
              ("case_opened", str(c.opened_at)[:19]), ("case_opened_by", c.opened_by),
              ("case_sla_due", str(c.sla_due)[:19] if c.sla_due is not None else None),
              ("case_root_cause", coded_label(t, "rc_", c.root_cause) if c.root_cause else None),
              ("case_corrective_action", c.corrective_action), ("case_outcome", c.outcome),
              ("case_version", c.version),
              ("case_allowed", ", ".join(coded_label(t, "case_a_", a) for a in c.allowed()))]
    v.blocks.append(Table("case-summary", "", columns=[Column("field", ""), Column("value", "")],
                          rows=[{"field": t(k), "value": val} for k, val in fields if val is not None]))
    h = case_history(session.con, case_id)
    cols = ("seq", "at", "by", "action", "from_status", "to_status", "owner", "team", "comment", "root_cause")
    v.blocks.append(Table("case-history", t("case_history"), columns=[
        Column(k, t(f"case_h_{k}"), "int" if k == "seq" else "text") for k in cols],
        rows=[{**r, "at": str(r["at"])[:16].replace("T", " "), "action": coded_label(t, "case_a_", r["action"]),
               "from_status": coded_label(t, "case_s_", r["from_status"]) if r.get("from_status") else None,
               "to_status": coded_label(t, "case_s_", r["to_status"]),
               "root_cause": coded_label(t, "rc_", r["root_cause"]) if r.get("root_cause") else None}
              for r in records(h, list(cols))]))
    return v


KPI_COLUMNS = (("cases", "case_k_cases", "int"), ("open", "case_k_open", "int"),
               ("median_hours_to_first_response", "case_k_first_response", "float1"),
               ("median_hours_to_resolution", "case_k_resolution", "float1"),
               ("sla_attainment", "case_k_sla", "pct"), ("reopen_rate", "case_k_reopen", "pct"))


def kpis_view(session) -> View:
    """Closed-loop KPIs (:func:`cxvalue.loop.kpis.closed_loop_kpis`) at the run clock of the analysis date."""
    from ...loop.kpis import closed_loop_kpis
    from ...loop.rules import run_clock
    from . import Chart
    t = session.t
    v = View("case_kpis", t("case_kpis_title"))
    clock = run_clock(session.as_of) if session.as_of else None
    k = closed_loop_kpis(session.con, clock) if clock else None
    if not k:
        return v
    v.meta = {"clock": str(clock)}
    for key, first, label in (("teams", "team_now", "case_team"), ("owners", "owner", "case_owner")):
        rows = records(k[key], [first] + [c for c, _, _ in KPI_COLUMNS])
        for r in rows:
            r[first] = r.get(first) or t("case_unassigned")
        v.blocks.append(Table(f"case-kpis-{key}", t(f"case_k_by_{key}"),
                              columns=[Column(first, t(label))] + [Column(c, t(lab), f) for c, lab, f in KPI_COLUMNS],
                              rows=rows))
    rc = k["root_causes"]
    if len(rc):
        labels = [coded_label(t, "rc_", c) for c in rc.root_cause]
        v.blocks.append(Chart("case-root-causes", t("case_k_pareto"), chart="bar", value_format="int",
                              data={"labels": labels, "values": rc.cases.astype(float).tolist()}))
        v.blocks.append(Table("case-root-cause-table", "", columns=[
            Column("label", t("case_root_cause")), Column("cases", t("case_k_cases"), "int"),
            Column("share", t("case_k_share"), "pct1"), Column("cumulative_share", t("case_k_cumulative"), "pct1")],
            rows=[{**r, "label": lab} for r, lab in zip(records(rc), labels)]))
    tp = k.get("touchpoints")
    if tp is not None and len(tp):
        v.blocks.append(Table("case-touchpoints", t("case_k_touchpoints"), columns=[
            Column("touchpoint", t("by_touchpoint")), Column("customers", t("customers_n"), "int"),
            Column("cases", t("case_k_cases"), "int"), Column("cases_per_1000", t("case_k_per_1000"), "float1")],
            rows=[{**r, "touchpoint": segment_label(t, "touchpoint", r["touchpoint"])} for r in records(tp)]))
    return v
