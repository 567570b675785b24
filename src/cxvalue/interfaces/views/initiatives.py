"""Views of the improvement initiatives (H2): the list, one initiative with its re-measurement
(before vs after, the difference-in-differences against untouched segments) and history, and
the suggested initiatives — built from :mod:`cxvalue.loop.initiatives`; the CLI and the web
workplace render them."""
from __future__ import annotations

from ...errors import CxValueError
from ...loop.initiatives import (STATUSES, InitiativeError, get_initiative, initiative_history, list_initiatives,
                                 measure, parse_kpi, suggest)
from . import Column, Kpi, Kpis, Table, Text, View, capture, coded_label, label, records


def dim_label(t, dim) -> str:
    return label(t, f"dim_{dim}", str(dim).replace("_", " "))


def kpi_label(t, kpi: str) -> str:
    """A KPI name as people read it (experience_convenience → Convenience: experience)."""
    try:
        spec = parse_kpi(kpi)
    except InitiativeError:
        return str(kpi)
    if spec.measure == "case_rate":
        return t("ini_kpi_case_rate", rc=coded_label(t, "rc_", spec.code))
    if spec.measure == "complaint_rate":
        return t("ini_kpi_complaint_rate_of", category=spec.code) if spec.code else t("ini_kpi_complaint_rate")
    if spec.dimension is None:
        return t(f"ini_kpi_{spec.measure}")
    return t("ini_kpi_dim", dim=dim_label(t, spec.dimension), measure=t(f"measure_{spec.measure}"))


def origin_label(t, kind: str, value: str) -> str:
    if kind == "root_cause":
        what = coded_label(t, "rc_", value)
    elif kind == "driver_gap":
        what = dim_label(t, value)
    elif value.startswith("experience_"):
        what = dim_label(t, value[len("experience_"):])
    elif "_to_" in value:
        a, b = value.split("_to_", 1)
        what = t("roi_move", a=label(t, f"ev_group_{a}", a), b=label(t, f"ev_group_{b}", b))
    else:
        what = value
    return f"{t('ini_origin_' + kind)}: {what}"


def scope_label(t, scope: dict) -> str:
    if not scope:
        return t("ini_scope_all")
    return ", ".join(f"{label(t, 'web_f_' + k, k)} = {v}" for k, v in scope.items())


LIST = (("initiative_id", "ini_id", "text"), ("title", "ini_title_col", "text"), ("origin_label", "ini_origin", "text"),
        ("kpi_label", "ini_kpi", "text"), ("target_value", "ini_target", "float2"),
        ("scope_label", "ini_scope", "text"), ("owner", "ini_owner", "text"), ("status_label", "ini_status", "text"),
        ("start_date", "ini_start", "date"), ("version", "ini_version", "int"))


def initiatives_view(session, *, status: str | None = None, owner: str | None = None) -> View:
    """The initiatives (open ones first, by start date), optionally of one status or owner."""
    import json
    t = session.t
    v = View("initiatives", t("ini_list_title"))
    df = list_initiatives(session.con, status=status, owner=owner)
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    v.blocks.append(Kpis("initiative-counts", "", items=[Kpi(s, coded_label(t, "ini_s_", s), int(counts.get(s, 0)),
                                                              "int") for s in STATUSES]))
    rows = records(df)
    for r in rows:
        scope = json.loads(r["scope"]) if r.get("scope") else {}
        r.update(origin_label=origin_label(t, r["origin_kind"], r["origin"]), kpi_label=kpi_label(t, r["kpi"]),
                 scope_label=scope_label(t, scope), status_label=coded_label(t, "ini_s_", r["status"]))
    v.blocks.append(Table("initiative-list", "", columns=[Column(k, t(lab), f) for k, lab, f in LIST], rows=rows,
                          note="" if rows else t("ini_none")))
    v.meta = {"total": len(rows), "filters": {"status": status, "owner": owner}}
    return v


SUGGEST = (("rank", "ini_rank", "int"), ("title", "ini_title_col", "text"), ("origin_label", "ini_origin", "text"),
           ("kpi_label", "ini_kpi", "text"), ("current", "ini_current", "float2"), ("n", "col_n", "int"),
           ("target_value", "ini_target", "float2"), ("basis_label", "ini_target_basis", "text"),
           ("value", "ini_value", "money"), ("nps_change", "ini_nps_change", "signed"),
           ("existing", "ini_existing", "text"))


def suggestions_view(session, *, top: int = 3) -> View:
    """Initiatives worth starting (:func:`cxvalue.loop.initiatives.suggest`), with a title in the
    session's language: from the experience-value ranking, the CEM requirements and the
    root-cause Pareto."""
    t = session.t
    v = View("initiative_suggestions", t("ini_suggest_title"))
    with capture() as notes:
        df = suggest(session.con, as_of=session.as_of, top=top, taxonomy=session.settings.get("root_causes"))
    rows = records(df)
    for r in rows:
        if r["origin_kind"] == "root_cause":
            r["title"] = t("ini_suggest_rc", rc=coded_label(t, "rc_", r["origin"]))
        else:
            r["title"] = t("ini_suggest_dim", dim=dim_label(t, r["dimension"]))
        r["origin_label"] = origin_label(t, r["origin_kind"], r["origin"])
        r["origin_code"] = f"{r['origin_kind']}:{r['origin']}"
        r["kpi_label"] = kpi_label(t, r["kpi"])
        r["basis_label"] = coded_label(t, "ini_basis_", r["target_basis"]) if r.get("target_basis") else None
    v.blocks.append(Table("initiative-suggestions", t("ini_suggest_title"), warnings=notes,
                          columns=[Column(k, t(lab), f) for k, lab, f in SUGGEST], rows=rows,
                          note=t("ini_suggest_note", days=df.attrs.get("window_days", 90)) if rows
                          else t("ini_suggest_none")))
    v.meta = {"as_of": df.attrs.get("as_of"), "since": df.attrs.get("since"), "total": len(rows)}
    return v


GROUPS = (("group_label", "ini_group", "text"), ("n_before", "ini_n_before", "int"), ("before", "col_before", "float2"),
          ("n_after", "ini_n_after", "int"), ("after", "col_after", "float2"), ("change", "col_change", "float2"),
          ("ci_low", "col_ci_low", "float2"), ("ci_high", "col_ci_high", "float2"), ("p_value", "col_p_value", "p"))


def initiative_view(session, initiative_id: str, **measure_kw) -> View:
    """One initiative: its state, the KPI re-measured (``measure_kw``: the arguments of
    :func:`cxvalue.loop.initiatives.measure` — windows or waves, method, resamples, seed,
    confidence) and every event. A re-measurement that cannot be made yet (no data after the
    start, no answers in a window) is a note, not an error: the initiative is still shown."""
    t = session.t
    ini = get_initiative(session.con, initiative_id)
    v = View("initiative", f"{t('ini')} {ini.initiative_id}: {ini.title}")
    fields = [("ini_title_col", ini.title), ("ini_status", coded_label(t, "ini_s_", ini.status)),
              ("ini_origin", origin_label(t, ini.origin_kind, ini.origin)), ("ini_kpi", kpi_label(t, ini.kpi)),
              ("ini_target", ini.target_value), ("ini_scope", scope_label(t, ini.scope)), ("ini_owner", ini.owner),
              ("ini_start", ini.start_date.isoformat() if ini.start_date else None),
              ("ini_created", f"{str(ini.created_at)[:19]} · {ini.created_by}"), ("ini_version", ini.version),
              ("ini_recorded", _recorded(t, ini.result)),
              ("ini_allowed", ", ".join(coded_label(t, "ini_a_", a) for a in ini.allowed()))]
    v.blocks.append(Table("initiative-summary", "", columns=[Column("field", ""), Column("value", "")],
                          rows=[{"field": t(k), "value": val} for k, val in fields if val is not None]))
    m, error = None, None
    with capture() as notes:
        try:
            kw = dict(measure_kw)
            if session.as_of is not None and kw.get("before_wave") is None:
                kw.setdefault("as_of", session.as_of)
            m = measure(session.con, ini, **kw)
        except CxValueError as exc:
            error = str(exc)
    if m is None:
        v.blocks.append(Text("initiative-remeasure", t("ini_remeasure_title"), warnings=notes,
                             text=t("ini_cannot_measure", reason=error), tone="warn"))
    else:
        v.blocks += _remeasure_blocks(t, m, notes)
    h = initiative_history(session.con, initiative_id)
    cols = ("seq", "at", "by", "action", "from_status", "to_status", "owner", "target_value", "start_date", "comment")
    rows = []
    for r in records(h, list(cols)):
        r["at"] = str(r["at"])[:19].replace("T", " ")
        r["start_date"] = str(r["start_date"])[:10] if r.get("start_date") else None
        r["action"] = coded_label(t, "ini_a_", r["action"])
        for k in ("from_status", "to_status"):
            r[k] = coded_label(t, "ini_s_", r[k]) if r.get(k) else None
        rows.append(r)
    v.blocks.append(Table("initiative-history", t("case_history"), columns=[
        Column(k, t(f"ini_h_{k}"), "int" if k == "seq" else "float2" if k == "target_value" else "text")
        for k in cols], rows=rows))
    v.meta = {"initiative": ini.to_dict(), "allowed": ini.allowed(),
              "remeasurement": m.to_dict() if m is not None else None, "remeasure_error": error}
    return v


def _remeasure_blocks(t, m, notes) -> list:
    g = m.groups.set_index("group")
    main = "treated" if "treated" in g.index else "all"
    row = g.loc[main]
    items = [Kpi("before", t("col_before"), row["before"], "float2"), Kpi("after", t("col_after"), row["after"], "float2"),
             Kpi("change", t("col_change"), row["change"], "float2"),
             Kpi("ci", t("ini_ci", pct=round(100 * m.confidence)),
                 f"{_num(row['ci_low'])} … {_num(row['ci_high'])}", "text")]
    if m.did:
        items += [Kpi("did", t("ini_did"), m.did["estimate"], "float2"),
                  Kpi("did_ci", t("ini_did_ci", pct=round(100 * m.confidence)),
                      f"{_num(m.did['ci_low'])} … {_num(m.did['ci_high'])}", "text")]
    if m.target_value is not None:
        items.append(Kpi("target", t("ini_target"), m.target_value, "float2"))
        if m.target_reached is not None:
            items.append(Kpi("target_reached", t("ini_target_reached"),
                             t("answer_yes") if m.target_reached else t("answer_no"), "text"))
    blocks = [Kpis("initiative-effect", t("ini_remeasure_title"), warnings=list(notes), items=items)]
    rows = records(m.groups)
    for r in rows:
        r["group_label"] = t(f"ini_group_{r['group']}")
    blocks.append(Table("initiative-groups", "", columns=[Column(k, t(lab), f) for k, lab, f in GROUPS], rows=rows))
    p = m.periods
    if p["kind"] == "waves":
        when = t("ini_periods_waves", before=p["before_wave"], after=p["after_wave"])
    else:
        when = t("ini_periods_dates", before_from=p["before_from"], before_to=p["before_to"],
                 after_from=p["after_from"], after_to=p["after_to"])
    method = t("ini_method_bootstrap", n=m.n_boot) if m.n_boot else t("ini_method_welch")
    design = t("ini_design_did") if m.did else (t("ini_design_no_untouched") if m.scope else t("ini_design_before_after"))
    blocks.append(Text("initiative-method", "", text=f"{when} {method} {design}", tone="plain"))
    return blocks


def _recorded(t, result: dict | None) -> str | None:
    """The re-measurement recorded when the initiative was completed, in one line."""
    if not result or not result.get("effect"):
        return None
    e = result["effect"]
    what = t("ini_did") if result.get("design") == "did" else t("col_change")
    return t("ini_recorded_value", what=what, estimate=_num(e.get("estimate")), low=_num(e.get("ci_low")),
             high=_num(e.get("ci_high")), kpi=kpi_label(t, result.get("kpi", "")))


def _num(v) -> str:
    from . import fmt
    return fmt(v, "float2")


def remeasure_view(session, initiative_id: str, **measure_kw) -> View:
    """The re-measurement of one initiative only (``cxvalue initiatives measure``); unlike the
    initiative page, a re-measurement that cannot be made is an error here."""
    t = session.t
    ini = get_initiative(session.con, initiative_id)
    kw = dict(measure_kw)
    if session.as_of is not None and kw.get("before_wave") is None:
        kw.setdefault("as_of", session.as_of)
    with capture() as notes:
        m = measure(session.con, ini, **kw)
    v = View("initiative_remeasure", f"{t('ini')} {ini.initiative_id}: {ini.title} · {kpi_label(t, m.kpi)}")
    v.blocks = _remeasure_blocks(t, m, notes)
    v.meta = {"initiative": ini.to_dict(), "remeasurement": m.to_dict()}
    return v


def completion_result(session, initiative_id: str, **measure_kw) -> tuple[dict | None, str | None]:
    """(the re-measurement to record when an initiative is completed, or None; why not)."""
    kw = dict(measure_kw)
    if session.as_of is not None and kw.get("before_wave") is None:
        kw.setdefault("as_of", session.as_of)
    with capture():
        try:
            return measure(session.con, initiative_id, **kw).summary(), None
        except CxValueError as exc:
            return None, str(exc)
