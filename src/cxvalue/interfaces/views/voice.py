"""Voice view (order 40): NPS with intervals, by method, trend and breakdowns, and the test
of two segments. ``build`` reads the result tables of the ``nps`` step; the ``nps`` command
builds the same view from :func:`cxvalue.voice.nps.nps_analysis` frames (:func:`voice_view`)."""
from __future__ import annotations


from ...store import read_result
from ...value.segments import TIER_ORDER
from . import (Chart, Column, Kpi, Kpis, Table, Text, View, by_label, records, segment_label, slug,
                small_note, step_notes, view)

STEP = "nps"
TABLES = ("nps_summary", "nps_trend", "nps_segments", "nps_compare", "nps_pairwise", "nps_segment_trend")
#: breakdowns the report shows, in this order (the command shows its --by columns)
SHOWN = ("touchpoint", "channel", "value_tier", "member_tier", "wave", "product", "segment")
MAX_SEGMENTS = 12
MIN_N = 30


@view("voice", 40)
def build(session) -> View | None:
    tables = {n: read_result(session.con, n) for n in TABLES}
    s = tables["nps_summary"]
    if s is None or s.empty:
        return None
    return voice_view(session, tables, notes=step_notes(session, STEP))


def voice_view(session, tables: dict, *, notes=(), method: str = "wald", freq: str | None = None,
               shown=None, min_n: int = MIN_N) -> View | None:
    """The voice view from NPS frames named like the result tables (``nps_summary``,
    ``nps_trend``, ``nps_segments``, ``nps_compare``). ``notes``: the warnings raised computing
    them (each block carries them); ``method``: the interval shown first; ``freq``: the trend
    period shown (default: months when there are three, else quarters); ``shown``: the
    breakdowns, in order (default :data:`SHOWN`, each with its :data:`MAX_SEGMENTS` largest
    segments; given breakdowns list every segment)."""
    t = session.t
    s = tables.get("nps_summary")
    if s is None or s.empty:
        return None
    notes = list(notes)
    rows = s[s["method"] == method]
    head = (rows if len(rows) else s).iloc[0]
    used = str(head["method"])
    v = View("voice", t("view_voice"), meta={"method": used, "confidence": float(head["confidence"]), "min_n": min_n})
    v.blocks.append(Kpis("nps", t("sec_nps"), warnings=list(notes), items=[
        Kpi("nps", t("col_nps"), float(head["nps"]), "signed"),
        Kpi("ci_low", t("col_ci_low"), float(head["ci_low"]), "signed"),
        Kpi("ci_high", t("col_ci_high"), float(head["ci_high"]), "signed"),
        Kpi("n", t("col_n"), int(head["n"]), "int"),
        Kpi("promoters_pct", t("col_promoters_pct"), float(head["promoters_pct"]), "float1"),
        Kpi("passives_pct", t("col_passives_pct"), float(head["passives_pct"]), "float1"),
        Kpi("detractors_pct", t("col_detractors_pct"), float(head["detractors_pct"]), "float1")]))
    v.blocks.append(Text("nps-intro", text=t("nps_intro", method=t(f"nps_method_{used}"), nps=float(head["nps"]),
                                             lo=float(head["ci_low"]), hi=float(head["ci_high"]), n=int(head["n"]))))
    v.blocks.append(Table("nps-methods", t("nps_methods_title"), warnings=list(notes), columns=[
        Column("method_label", t("col_method")), Column("nps", t("col_nps"), "signed"),
        Column("ci_low", t("col_ci_low"), "signed"), Column("ci_high", t("col_ci_high"), "signed"),
        Column("n", t("col_n"), "int"), Column("promoters_pct", t("col_promoters_pct"), "float1"),
        Column("passives_pct", t("col_passives_pct"), "float1"),
        Column("detractors_pct", t("col_detractors_pct"), "float1")],
        rows=[{**r, "method_label": t(f"nps_method_{r['method']}")} for r in records(s)]))
    v.blocks += _trend(t, tables.get("nps_trend"), notes, freq, min_n)
    v.blocks += _segments(t, tables.get("nps_segments"), notes, shown, min_n, limit=MAX_SEGMENTS if shown is None else None)
    v.blocks += _compare(t, tables.get("nps_compare"), notes)
    v.blocks += _segment_trend(t, tables.get("nps_segment_trend"), notes, min_n)
    v.blocks += _pairwise(t, tables.get("nps_pairwise"), notes, shown)
    return v


MAX_TREND_SERIES = 6     # segments drawn in the per-segment trend (the largest)


def _segment_trend(t, st, notes, min_n) -> list:
    if st is None or st.empty:
        return []
    by, freq = str(st["by"].iloc[0]), str(st["freq"].iloc[0])
    top = st.groupby("segment")["n"].sum().sort_values(ascending=False).index[:MAX_TREND_SERIES]
    periods = sorted(set(st["period"].astype(str)), key=lambda p: st.loc[st["period"] == p, "period_start"].min())
    series = {}
    for seg in top:
        part = st[st["segment"] == seg].set_index("period")["nps"]
        series[segment_label(t, by, seg)] = [float(part[p]) if p in part.index else None for p in periods]
    title = t("nps_segment_trend_title", by=by_label(t, by), freq=t(f"nps_freq_{freq}"))
    warns = list(notes)
    if st["small_sample"].astype(bool).any():
        warns.append(small_note(t, t("col_period"), min_n))
    note = "" if len(top) == st["segment"].nunique() else t("nps_segments_shown", shown=len(top), total=st["segment"].nunique())
    rows = [{**r, "label": segment_label(t, by, r["segment"]), "period_label": r["period"] + ("*" if r["small_sample"] else "")}
            for r in records(st)]
    return [Chart("nps-segment-trend", title, warnings=warns, chart="line", value_format="signed",
                  data={"x": periods, "series": series, "y_label": "NPS", "x_label": t(f"nps_freq_{freq}")}),
            Table("nps-segment-trend-table", title, warnings=warns, note=note, columns=[
                Column("label", by_label(t, by)), Column("period_label", t("col_period")), Column("n", t("col_n"), "int"),
                Column("nps", t("col_nps"), "signed"), Column("ci_low", t("col_ci_low"), "signed"),
                Column("ci_high", t("col_ci_high"), "signed"), Column("nps_change", t("col_change"), "signed"),
                Column("p_value_change", t("col_p_value"), "p")], rows=rows)]


def _pairwise(t, pw, notes, shown) -> list:
    if pw is None or pw.empty:
        return []
    blocks = []
    present = list(dict.fromkeys(pw["by"]))
    for by in [b for b in (shown or SHOWN) if b in present] or present:
        part = pw[pw["by"] == by].sort_values("p_value", kind="stable")
        adjust = str(part["adjust"].iloc[0])
        k = int(part["significant"].sum())
        blocks.append(Table(f"nps-pairs-{slug(by)}", t("nps_pairs_title", by=by_label(t, by)), warnings=list(notes),
                            note=t(f"nps_pairs_note_{adjust}", pairs=len(part), k=k), columns=[
                                Column("a_label", "A"), Column("b_label", "B"), Column("nps_a", "NPS A", "signed"),
                                Column("nps_b", "NPS B", "signed"), Column("difference", t("col_difference"), "signed"),
                                Column("ci_low", t("col_ci_low"), "signed"), Column("ci_high", t("col_ci_high"), "signed"),
                                Column("p_value", t("col_p_value"), "p"), Column("p_adjusted", t("col_p_adjusted"), "p"),
                                Column("significant_label", t("col_significant"))],
                            rows=[{**r, "a_label": segment_label(t, by, r["a"]), "b_label": segment_label(t, by, r["b"]),
                                   "significant_label": t("answer_yes") if r["significant"] else t("answer_no")}
                                  for r in records(part)]))
    return blocks


def _trend(t, trend, notes, freq, min_n) -> list:
    if trend is None or trend.empty:
        return []
    if freq is None or freq not in set(trend["freq"]):
        freqs = set(trend["freq"])
        freq = "M" if (trend["freq"] == "M").sum() >= 3 or freqs == {"M"} else ("Q" if "Q" in freqs else sorted(freqs)[0])
    tr = trend[trend["freq"] == freq].sort_values("period_start")
    title = t("nps_trend_title", freq=t(f"nps_freq_{freq}"))
    warns = list(notes)
    if tr["small_sample"].astype(bool).any():
        warns.append(small_note(t, t("col_period"), min_n))
    blocks = [Chart("nps-trend", title, warnings=warns, chart="line", value_format="signed",
                    data={"x": tr["period"].astype(str).tolist(), "series": {"NPS": tr["nps"].astype(float).tolist()},
                          "bands": {"NPS": [tr["ci_low"].astype(float).tolist(), tr["ci_high"].astype(float).tolist()]},
                          "y_label": "NPS", "x_label": t(f"nps_freq_{freq}")})]
    last = tr.iloc[-1]
    if len(tr) > 1 and last["nps_change"] == last["nps_change"]:
        blocks.append(Text("nps-change", text=t("nps_change_note", period=last["period"], nps=float(last["nps"]),
                                                change=float(last["nps_change"]), p=float(last["p_value_change"])),
                           tone="plain"))
    rows = [{**r, "label": r["period"] + ("*" if r["small_sample"] else "")} for r in records(tr)]
    blocks.append(Table("nps-trend-table", title, warnings=warns, columns=[
        Column("label", t("col_period")), Column("n", t("col_n"), "int"), Column("nps", t("col_nps"), "signed"),
        Column("ci_low", t("col_ci_low"), "signed"), Column("ci_high", t("col_ci_high"), "signed"),
        Column("promoters_pct", t("col_promoters_pct"), "float1"),
        Column("detractors_pct", t("col_detractors_pct"), "float1"),
        Column("nps_change", t("col_change"), "signed"), Column("p_value_change", t("col_p_value"), "p")], rows=rows))
    return blocks


def _ordered(by: str, tab):
    if by == "value_tier":
        order = {v: i for i, v in enumerate(TIER_ORDER)}
        return tab.sort_values("segment", key=lambda s: s.map(order).fillna(len(order)), kind="stable")
    if by in ("wave", "period"):
        return tab.sort_values("segment", kind="stable")
    return tab.sort_values("n", ascending=False, kind="stable")


def _segments(t, segs, notes, shown, min_n, limit=None) -> list:
    if segs is None or segs.empty:
        return []
    present = list(dict.fromkeys(segs["by"]))
    order = [b for b in (shown or SHOWN) if b in present]
    blocks = []
    for by in order:
        part = segs[segs["by"] == by]
        top = _ordered(by, part.sort_values("n", ascending=False, kind="stable").head(MAX_SEGMENTS))
        tab = _ordered(by, part) if limit is None or len(part) <= limit else top
        note = "" if len(tab) == len(part) else t("nps_segments_shown", shown=len(tab), total=len(part))
        name = by_label(t, by)
        title = t("nps_by_title", by=name)
        warns = list(notes)
        if tab["small_sample"].astype(bool).any():
            warns.append(small_note(t, name, min_n))
        blocks.append(Chart(f"nps-by-{slug(by)}", title, warnings=warns, chart="interval_bar", value_format="signed",
                            data={"labels": [segment_label(t, by, x) for x in top["segment"]],
                                  "values": top["nps"].astype(float).tolist(),
                                  "lows": top["ci_low"].astype(float).tolist(),
                                  "highs": top["ci_high"].astype(float).tolist(),
                                  "marks": top["small_sample"].astype(bool).tolist(),
                                  "ns": top["n"].astype(int).tolist(), "x_label": t("nps_axis")}))
        cols = [Column("label", name), Column("n", t("col_n"), "int"), Column("nps", t("col_nps"), "signed"),
                Column("ci_low", t("col_ci_low"), "signed"), Column("ci_high", t("col_ci_high"), "signed"),
                Column("promoters_pct", t("col_promoters_pct"), "float1"),
                Column("detractors_pct", t("col_detractors_pct"), "float1")]
        if "p_value_vs_rest" in tab.columns:
            cols.append(Column("p_value_vs_rest", t("col_p_value_vs_rest"), "p"))
        rows = [{**r, "label": segment_label(t, by, r["segment"]) + ("*" if r["small_sample"] else "")}
                for r in records(tab)]
        blocks.append(Table(f"nps-by-{slug(by)}-table", title, warnings=warns, columns=cols, rows=rows, note=note))
    return blocks


def _compare(t, comp, notes) -> list:
    if comp is None or comp.empty:
        return []
    c = comp.iloc[0]
    return [Table("nps-compare", t("nps_compare_title", by=by_label(t, str(c["by"])), a=c["a"], b=c["b"]),
                  warnings=list(notes), columns=[
                      Column("a", "A"), Column("b", "B"), Column("nps_a", "NPS A", "signed"),
                      Column("nps_b", "NPS B", "signed"), Column("difference", t("col_difference"), "signed"),
                      Column("ci_low", t("col_ci_low"), "signed"), Column("ci_high", t("col_ci_high"), "signed"),
                      Column("z", "z", "float2"), Column("p_value", t("col_p_value"), "p"),
                      Column("significant_label", t("col_significant"))],
                  rows=[{**r, "significant_label": t("answer_yes") if r["significant"] else t("answer_no")} for r in records(comp)])]
