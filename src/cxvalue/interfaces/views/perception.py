"""Perception view (order 42): key drivers and importance–performance (D3), CEM experience
gaps (D4), the satisfaction index path model (D5) and the value of experience (E1, E2).

``build`` reads the result tables of the ``drivers``, ``cem``, ``csi`` and ``experience
value`` steps. The commands (``drivers``, ``gaps``, ``csi``, ``experience-value``) build their
part of the same view from the frames of the :mod:`cxvalue.perception.analyses`
(:func:`drivers_view`, :func:`cem_view`, :func:`csi_view`, :func:`experience_value_view`),
with the same block code; a ``segment`` column in the frames (``--by``) adds one table per
segment."""
from __future__ import annotations

import pandas as pd

from ...store import read_result
from . import (Chart, Column, Kpi, Kpis, Table, Text, View, by_label, fmt, label, records, segment_label, slug,
                small_note, step_notes, view)

TABLES = ("driver_importance", "driver_summary", "cem_gaps", "cem_compare", "csi_scores", "csi_paths", "csi_model",
          "csi_reliability", "csi_discriminant", "csi_structural", "csi_predict", "csi_fit", "kano_features",
          "experience_value", "experience_value_comparison", "experience_roi")
PREFIXES = ("experience_", "rating_", "expectation_", "importance_", "ideal_")
#: the CEM measures of a re-measurement, most telling first
COMPARED = ("experience", "satisfaction", "key_experience", "gap", "expectation", "importance", "ideal")


def driver_label(t, name) -> str:
    """Display label of a driver / dimension column (experience_convenience → Convenience)."""
    s = str(name)
    for prefix in PREFIXES:
        if s.startswith(prefix):
            s = s[len(prefix):]
            break
    return label(t, f"dim_{s}", s.replace("_", " "))


def _seg(df, seg):
    return df[df["segment"] == seg] if "segment" in df.columns else df


def _segments(df) -> list:
    return list(dict.fromkeys(df["segment"])) if "segment" in df.columns else ["all"]


@view("perception", 42)
def build(session) -> View | None:
    tb = {n: read_result(session.con, n) for n in TABLES}
    blocks = (drivers_blocks(session, tb, step_notes(session, "drivers"))
              + cem_blocks(session, tb, step_notes(session, "cem"))
              + csi_blocks(session, tb, step_notes(session, "csi"))
              + kano_blocks(session, tb, step_notes(session, "kano"))
              + experience_value_blocks(session, tb, step_notes(session, "experience value")))
    if not blocks:
        return None
    return View("perception", session.t("view_perception"), blocks=blocks)


def _view(session, title_key: str, blocks: list, meta=None) -> View:
    return View("perception", session.t(title_key), blocks=blocks, meta=dict(meta or {}))


def drivers_view(session, tables: dict, *, notes=(), by: str | None = None) -> View:
    """The key-driver part of the view from :func:`cxvalue.perception.analyses.drivers_analysis` frames."""
    return _view(session, "sec_drivers", drivers_blocks(session, tables, notes, by=by), {"by": by})


def kano_view(session, tables: dict, *, notes=()) -> View:
    """The Kano part of the view from :func:`cxvalue.perception.analyses.kano_analysis` frames."""
    return _view(session, "sec_kano", kano_blocks(session, tables, notes))


def kano_blocks(session, tables: dict, notes=()) -> list:
    t = session.t
    k = tables.get("kano_features")
    if k is None or k.empty:
        return []
    notes = list(notes)
    k = k.sort_values(["category", "better"], ascending=[True, False], key=lambda s: s.map(
        {c: i for i, c in enumerate("MOAIRQ")}) if s.name == "category" else s, kind="stable")
    lab = {r["feature"]: label(t, f"dim_{r['feature']}", str(r["feature"]).replace("_", " ")) for r in records(k)}
    warns = notes + ([small_note(t, t("col_feature"), 30)] if k["small_sample"].astype(bool).any() else [])
    rows = [{**r, "label": lab[r["feature"]] + ("*" if r["small_sample"] else ""),
             "category_label": t(f"kano_{r['category_name']}") if r["category_name"] else None,
             "sig_label": t("answer_yes") if r["significant"] else t("answer_no"), "worse_abs": abs(r["worse"] or 0)}
            for r in records(k)]
    return [
        Text("kano-intro", text=t("kano_intro", k=len(k)), tone="plain"),
        Chart("kano-coefficients", t("kano_chart_title"), warnings=warns, chart="quadrant",
              data={"labels": [r["label"] for r in rows], "x": [r["worse_abs"] for r in rows],
                    "y": [r["better"] for r in rows], "x_cut": 0.5, "y_cut": 0.5, "x_range": [0, 1],
                    "y_range": [0, 1], "highlight": None,
                    "quadrant_names": {"top_left": t("kano_attractive"), "top_right": t("kano_one_dimensional"),
                                       "bottom_left": t("kano_indifferent"), "bottom_right": t("kano_must_be")},
                    "x_label": t("kano_x"), "y_label": t("kano_y")}),
        Table("kano-table", t("sec_kano"), warnings=warns, note=t("kano_note"), columns=[
            Column("label", t("col_feature")), Column("n", t("col_n"), "int"),
            Column("category_label", t("col_kano_category")), Column("sig_label", t("col_kano_significant")),
            Column("share_M", t("kano_must_be"), "pct"), Column("share_O", t("kano_one_dimensional"), "pct"),
            Column("share_A", t("kano_attractive"), "pct"), Column("share_I", t("kano_indifferent"), "pct"),
            Column("share_R", t("kano_reverse"), "pct"), Column("share_Q", t("kano_questionable"), "pct"),
            Column("better", "Better", "float2"), Column("worse", "Worse", "float2")], rows=rows)]


def cem_view(session, tables: dict, *, notes=(), by: str | None = None) -> View:
    """The CEM part of the view from :func:`cxvalue.perception.analyses.cem_analysis` frames."""
    return _view(session, "sec_cem", cem_blocks(session, tables, notes, by=by), {"by": by})


def csi_view(session, tables: dict, *, notes=(), by: str | None = None) -> View:
    """The satisfaction-index part of the view from :func:`cxvalue.perception.analyses.csi_analysis` frames."""
    return _view(session, "sec_csi", csi_blocks(session, tables, notes, by=by), {"by": by})


def experience_value_view(session, tables: dict, *, notes=(), by: str | None = None) -> View:
    """The value-of-experience part of the view from
    :func:`cxvalue.perception.analyses.experience_value_analysis` frames."""
    g = tables.get("experience_value")
    meta = {"by": by, "measure": str(g["measure"].iloc[0]) if g is not None and len(g) else None}
    return _view(session, "sec_experience_value", experience_value_blocks(session, tables, notes, by=by), meta)


# --------------------------------------------------------------------------- drivers (D3)
def drivers_blocks(session, tables: dict, notes=(), *, by: str | None = None) -> list:
    t = session.t
    imp, summ = tables.get("driver_importance"), tables.get("driver_summary")
    if imp is None or summ is None or imp.empty:
        return []
    blocks = []
    for seg in _segments(imp):
        im, sm = _seg(imp, seg), _seg(summ, seg)
        if seg == "all":
            blocks += _drivers_all(t, im, sm, list(notes))
        else:
            est = sm.set_index("parameter")["estimate"]
            blocks.append(_drivers_table(
                t, im, list(notes), f"drivers-{slug(seg)}-table",
                t("segment_title", title=t("sec_drivers"), by=by_label(t, by) if by else t("col_segment"), segment=seg),
                note=t("drivers_fit_note", r2=float(est.get("r_squared", float("nan"))),
                       n=int(est.get("n_used", 0)))))
    return blocks


def _primary(imp) -> str:
    methods = list(dict.fromkeys(imp["method"]))
    return "relative_weights" if "relative_weights" in methods else methods[0]


def _drivers_table(t, imp, notes, id: str, title: str, note: str = "") -> Table:
    m = _primary(imp)
    main = imp[imp["method"] == m].sort_values(["rank", "driver"])
    sh = imp[imp["method"] == "shapley"].set_index("driver")["share"] if m != "shapley" else None
    cols = [Column("label", t("col_driver")), Column("rank", t("col_rank"), "int"),
            Column("share", t("col_importance"), "pct1"), Column("share_ci_low", t("col_ci_low"), "pct1"),
            Column("share_ci_high", t("col_ci_high"), "pct1")]
    if "significant" in imp.columns and imp["significant"].notna().any():
        cols.append(Column("sig_label", t("col_beats_noise")))
    if sh is not None and len(sh):
        cols.append(Column("shapley_share", t("col_shapley"), "pct1"))
    cols += [Column("performance", t("col_performance"), "float2"), Column("quadrant_label", t("col_quadrant"))]
    rows = []
    for r in records(main):
        sig = r.get("significant")
        r.update(label=driver_label(t, r["driver"]), quadrant_label=t(f"quadrant_{r['quadrant']}"),
                 sig_label=None if sig is None or sig != sig else t("answer_yes" if sig else "drivers_ns"))
        if sh is not None and len(sh):
            r["shapley_share"] = sh.get(r["driver"])
        rows.append(r)
    return Table(id, title, warnings=notes, columns=cols, rows=rows, note=note)


def _drivers_all(t, imp, summ, notes) -> list:
    m = _primary(imp)
    main = imp[imp["method"] == m].sort_values(["rank", "driver"])
    est = summ.set_index("parameter")
    r2 = float(est.loc["r_squared", "estimate"])
    n = int(est.loc["n_used", "estimate"])
    outcome = str(imp["outcome"].iloc[0])
    sig = main["significant"] if "significant" in main.columns else pd.Series([None] * len(main), index=main.index)
    labels = [driver_label(t, d) + (f" ({t('drivers_ns')})" if pd.notna(s) and not s else "")
              for d, s in zip(main["driver"], sig)]
    kp = Kpis("drivers", t("sec_drivers"), warnings=notes, items=[
        Kpi("outcome", t("col_outcome"), outcome, "text"), Kpi("r_squared", t("col_r_squared"), r2, "float3")])
    for c, key in (("ci_low", "col_ci_low"), ("ci_high", "col_ci_high")):
        if c in est.columns and est.loc["r_squared", c] == est.loc["r_squared", c]:
            kp.items.append(Kpi(f"r_squared_{c}", t(key), float(est.loc["r_squared", c]), "float3"))
    kp.items += [Kpi("n_used", t("col_n"), n, "int"), Kpi("n_drivers", t("col_n_drivers"), int(len(main)), "int"),
                 Kpi("method", t("col_method"), t(f"drivers_method_{m}"), "text")]
    icut = float(main["importance_cut"].iloc[0]) if "importance_cut" in main.columns else float(main["share"].mean())
    pcut = (float(main["performance_cut"].iloc[0]) if "performance_cut" in main.columns
            else float(main["performance"].mean()))
    return [
        kp,
        Text("drivers-intro", text=t("drivers_intro", r2=r2, outcome=outcome, k=len(main), n=n)
             + " " + _na_sentence(t, est, summ, n) + (" " + t("drivers_sig_note") if sig.notna().any() else ""),
             tone="plain"),
        Chart("drivers-importance", t("drivers_chart_title", r2=r2, n=n), warnings=notes, chart="interval_bar",
              value_format="pct1",
              data={"labels": labels, "values": main["share"].astype(float).tolist(),
                    "lows": main["share_ci_low"].astype(float).tolist(),
                    "highs": main["share_ci_high"].astype(float).tolist(), "x_label": t("drivers_axis")}),
        Chart("ipa", t("ipa_title"), warnings=notes, chart="quadrant",
              data={"labels": labels, "x": main["performance"].astype(float).tolist(),
                    "y": main["share"].astype(float).tolist(), "x_cut": pcut, "y_cut": icut,
                    "quadrant_names": {"top_left": t("quadrant_concentrate_here"), "top_right": t("quadrant_keep_up"),
                                       "bottom_left": t("quadrant_low_priority"),
                                       "bottom_right": t("quadrant_possible_overkill")},
                    "x_label": t("ipa_x"), "y_label": t("ipa_y")}),
        _drivers_table(t, imp, notes, "drivers-table", t("sec_drivers"))]


def _na_sentence(t, est, summ, n: int) -> str:
    """How answers were treated: not-applicable codes set missing, rows used."""
    rows = int(est.loc["n_rows", "estimate"]) if "n_rows" in est.index else n
    na = int(est.loc["n_not_applicable", "estimate"]) if "n_not_applicable" in est.index else 0
    codes = str(summ["na_values"].iloc[0]) if "na_values" in summ.columns and len(summ) else ""
    text = t("drivers_na_codes", na=na, codes=codes) + " " if codes else t("drivers_na_none") + " "
    return text + t("drivers_rows_used", n=n, rows=rows)


# --------------------------------------------------------------------------- CEM (D4)
def cem_blocks(session, tables: dict, notes=(), *, by: str | None = None) -> list:
    t = session.t
    g = tables.get("cem_gaps")
    if g is None or g.empty:
        return []
    notes = list(notes)
    blocks = []
    for seg in _segments(g):
        part = _seg(g, seg)
        if seg == "all":
            blocks += _cem_all(t, part, notes)
        else:
            blocks.append(_cem_table(t, part, notes, f"cem-{slug(seg)}-table", t(
                "segment_title", title=t("sec_cem"), by=by_label(t, by) if by else t("col_segment"), segment=seg)))
    comp = tables.get("cem_compare")
    if comp is not None and len(comp):
        order = {m: i for i, m in enumerate(COMPARED)}
        c = comp.sort_values("measure", key=lambda s: s.map(order).fillna(len(order)), kind="stable")
        cols = [Column("label", t("col_dimension")), Column("measure_label", t("col_measure")),
                Column("before", t("col_before"), "float2"), Column("after", t("col_after"), "float2"),
                Column("change", t("col_change"), "float2"), Column("p_value", t("col_p_value"), "p")]
        if "significant" in c.columns:
            cols.append(Column("significant_label", t("col_significant")))
        rows = [{**r, "label": driver_label(t, r["dimension"]), "measure_label": t(f"measure_{r['measure']}"),
                 "significant_label": {True: t("answer_yes"), False: t("answer_no")}.get(r.get("significant"), "")}
                for r in records(c)]
        blocks.append(Table("cem-compare", t("cem_compare_title", before=comp["before_wave"].iloc[0],
                                             after=comp["after_wave"].iloc[0]), warnings=notes, columns=cols, rows=rows))
    return blocks


def _cem_table(t, g, notes, id: str, title: str) -> Table:
    cols = [("experience", "col_experience", "float2"), ("expectation", "col_expectation", "float2"),
            ("satisfaction", "col_satisfaction_gap", "float2"), ("importance", "col_importance_weight", "float2"),
            ("key_experience", "col_key_experience", "float2"), ("key_rank", "col_key_rank", "int"),
            ("ideal", "col_ideal", "float2"), ("gap", "col_gap", "float2"),
            ("requirement_rank", "col_requirement_rank", "int"), ("n", "col_n", "int")]
    return Table(id, title, warnings=notes,
                 columns=[Column("label", t("col_dimension"))] + [Column(c, t(k), f) for c, k, f in cols
                                                                  if c in g.columns],
                 rows=[{**r, "label": driver_label(t, r["dimension"])} for r in records(g)])


def _cem_all(t, g, notes) -> list:
    key = g[g["key_rank"] == 1]
    req = g[g["requirement_rank"] == 1]
    kdim = driver_label(t, key["dimension"].iloc[0]) if len(key) else None
    kval = float(key["key_experience"].iloc[0]) if len(key) else None
    rdim = driver_label(t, req["dimension"].iloc[0]) if len(req) else None
    rgap = float(req["gap"].iloc[0]) if len(req) else None
    labels = [driver_label(t, d) for d in g["dimension"]]
    return [
        Kpis("cem", t("sec_cem"), warnings=notes, items=[
            Kpi("key_dimension", t("cem_key_dimension"), kdim, "text"),
            Kpi("key_experience", t("col_key_experience"), kval, "signed"),
            Kpi("requirement_dimension", t("cem_requirement_dimension"), rdim, "text"),
            Kpi("requirement_gap", t("col_gap"), rgap, "signed")]),
        Text("cem-intro", text=t("cem_intro", kdim=kdim or "–", value=kval if kval is not None else float("nan"),
                                 req=rdim or "–", gap=rgap if rgap is not None else float("nan"))),
        Chart("cem-key-experience", t("cem_chart_title"), warnings=notes, chart="interval_bar", value_format="signed",
              data={"labels": labels, "values": g["key_experience"].astype(float).tolist()}),
        _cem_table(t, g, notes, "cem-table", t("sec_cem"))]


# --------------------------------------------------------------------------- CSI (D5)
def _lv_labeler(t, lang: str, model_name: str, model_frame):
    labels = {}
    if model_frame is not None and len(model_frame) and f"label_{lang}" in model_frame.columns:
        labels = dict(zip(model_frame["lv"], model_frame[f"label_{lang}"]))

    def lab(lv):
        if lv in labels and labels[lv] and labels[lv] != lv:
            return str(labels[lv])
        if model_name == "acsi" and lv == "SAT":
            return t("csi_lv_SAT_acsi")
        return label(t, f"csi_lv_{lv}", lv)
    return lab


def csi_blocks(session, tables: dict, notes=(), *, by: str | None = None) -> list:
    t, lang = session.t, session.lang
    sc, paths, mf = tables.get("csi_scores"), tables.get("csi_paths"), tables.get("csi_model")
    if sc is None or paths is None or sc.empty:
        return []
    notes = list(notes)
    if by is None and "by" in sc.columns and (sc["by"].fillna("").astype(str) != "").any():
        by = str(sc["by"].iloc[0])     # the breakdown the analysis used
    model = str(sc["model"].iloc[0])
    lab = _lv_labeler(t, lang, model, mf)
    overall = sc[sc["segment"] == "all"]
    n = int(overall["n"].iloc[0])
    gof = float(sc["gof"].iloc[0]) if "gof" in sc.columns else None
    items = [Kpi("model", t("model"), model, "text"), Kpi("n", t("col_respondents"), n, "int"),
             Kpi("gof", "GoF", gof, "float2")]
    sat = overall[overall["lv"] == "SAT"]
    if len(sat):
        items.append(Kpi("satisfaction_index", lab("SAT"), float(sat["index"].iloc[0]), "float1"))
    nodes = []
    for r in records(overall):
        note = []
        if r["index"] is not None:
            note.append(f"{t('csi_index_short')} {fmt(r['index'], 'int')}")
        if r["r_squared"] is not None and r["r_squared"] > 0:
            note.append(f"R² {fmt(r['r_squared'], 'float2')}")
        nodes.append([r["lv"], lab(r["lv"]), " · ".join(note)])
    p_col = "p_value" if "p_value" in paths.columns else ("p" if "p" in paths.columns else None)
    path_cols = [Column("path", t("col_path")), Column("estimate", t("col_estimate"), "float3")]
    path_cols += [Column(c, t(k), "float3") for c, k in (("std_error", "std_error"), ("ci_low", "col_ci_low"),
                                                         ("ci_high", "col_ci_high"), ("bca_low", "col_bca_low"),
                                                         ("bca_high", "col_bca_high"))
                  if c in paths.columns and paths[c].notna().any()]
    if "t_value" in paths.columns:
        path_cols.append(Column("t_value", "t", "float2"))
    if p_col:
        path_cols.append(Column(p_col, t("col_p_value"), "p"))
    boot = "inference" in paths.columns and len(paths) and str(paths["inference"].iloc[0]).startswith("bootstrap")
    path_note = (t("csi_paths_boot_note", n=int(str(paths["inference"].iloc[0]).split("(")[1].split()[0]))
                 if boot else t("csi_paths_ols_note"))
    blocks = [
        Kpis("csi", t("sec_csi"), warnings=notes, items=items),
        Text("csi-intro", text=t("csi_intro", model=model.upper(), n=n, gof=gof if gof is not None else float("nan"))
             + _scale_sentence(t, mf), tone="plain"),
        Chart("csi-paths", t("csi_paths_title"), warnings=notes, chart="path",
              data={"nodes": nodes, "edges": [[r["from"], r["to"], r["estimate"]] for r in records(paths)]}),
        Table("csi-scores", t("col_index"), warnings=notes, columns=[
            Column("label", t("col_lv")), Column("lv", "LV"), Column("index", t("col_index"), "float1"),
            Column("score", t("col_score"), "float2"), Column("r_squared", t("col_r_squared"), "float2")] + (
            [Column("r_squared_adj", t("col_r_squared_adj"), "float2")] if "r_squared_adj" in overall.columns else []),
            rows=[{**r, "label": lab(r["lv"]),      # an exogenous construct has no R² (not 0)
                   "r_squared": r["r_squared"] if r.get("r_squared_adj", 0) is not None else None}
                  for r in records(overall)]),
        Table("csi-paths-table", t("csi_paths_title"), warnings=notes, columns=path_cols, note=path_note,
              rows=[{**r, "path": f"{lab(r['from'])} → {lab(r['to'])}"} for r in records(paths)])]
    seg = sc[sc["segment"] != "all"]
    if len(seg):
        lv = "SAT" if (seg["lv"] == "SAT").any() else str(seg["lv"].iloc[-1])
        s1 = seg[seg["lv"] == lv]
        name = by_label(t, by) if by else t("col_segment")
        blocks.append(Chart("csi-segments", f"{lab(lv)} — {t('col_index')}", warnings=notes, chart="interval_bar",
                            value_format="float1", data={"labels": [segment_label(t, by or "", x) for x in s1["segment"].astype(str)],
                                                         "values": s1["index"].astype(float).tolist(),
                                                         "ns": s1["n"].astype(int).tolist(),
                                                         "x_label": t("csi_axis")}))
        lvs = list(dict.fromkeys(seg["lv"]))
        rows = []
        for sname in dict.fromkeys(seg["segment"]):
            part = seg[seg["segment"] == sname].set_index("lv")
            rows.append({"segment": segment_label(t, by or "", sname), "n": int(part["n"].iloc[0]),
                         **{f"index_{x}": (float(part.loc[x, "index"]) if x in part.index else None) for x in lvs}})
        blocks.append(Table("csi-segments-table", f"{t('col_index')} — {name}", warnings=notes, columns=[
            Column("segment", name), Column("n", t("col_n"), "int")] + [
            Column(f"index_{x}", lab(x), "float1") for x in lvs], rows=rows))
    if mf is not None and len(mf):
        blocks.append(Table("csi-items", t("csi_items_title"), warnings=notes, columns=[
            Column("label", t("col_lv")), Column("item", t("col_indicator")), Column("weight", t("col_weight"), "float3"),
            Column("loading", t("col_loading"), "float3")] + (
            [Column("loading_ci_low", t("col_ci_low"), "float3"), Column("loading_ci_high", t("col_ci_high"), "float3")]
            if "loading_ci_low" in mf.columns and mf["loading_ci_low"].notna().any() else []),
            rows=[{**r, "label": lab(r["lv"])} for r in records(mf)]))
    blocks += _csi_assessment_blocks(t, lab, tables, notes)
    return blocks


def _scale_sentence(t, mf) -> str:
    """" The answer scale: 1–10 (from the data contract)." — the scale the index rescales by."""
    if mf is None or not len(mf) or "item_range_low" not in mf.columns or mf["item_range_low"].isna().all():
        return ""
    scales = {(float(a), float(b)) for a, b in zip(mf["item_range_low"], mf["item_range_high"]) if pd.notna(a)}
    src = str(mf["item_range_source"].dropna().iloc[0]) if "item_range_source" in mf.columns and mf["item_range_source"].notna().any() else ""
    scale = (f"{min(scales)[0]:g}–{min(scales)[1]:g}" if len(scales) == 1 else t("csi_scale_per_item"))
    return " " + t("csi_scale", scale=scale, source=t(f"csi_scale_source_{src.replace(' ', '_')}") if src else "")


def _csi_assessment_blocks(t, lab, tables: dict, notes: list) -> list:
    """Reliability, discriminant validity, structural model and prediction of the CSI model."""
    rel, disc, struct, pred, fit = (tables.get(k) for k in ("csi_reliability", "csi_discriminant", "csi_structural",
                                                            "csi_predict", "csi_fit"))
    blocks = []
    if fit is not None and len(fit):
        f = records(fit)[0]
        blocks.append(Text("csi-assessment-intro", text=t("csi_assessment_intro", srmr=float(f["srmr"]),
                                                          verdict=t("csi_srmr_ok" if f["srmr"] < 0.08 else "csi_srmr_high")),
                           tone="plain"))
    if rel is not None and len(rel):
        blocks.append(Table("csi-reliability", t("csi_reliability_title"), warnings=notes, note=t("csi_reliability_note"),
                            columns=[Column("label", t("col_lv")), Column("items", t("col_items"), "int"),
                                     Column("cronbach_alpha", t("col_cronbach_alpha"), "float3"),
                                     Column("rho_a", "ρA", "float3"), Column("rho_c", "ρc", "float3"),
                                     Column("ave", "AVE", "float3")],
                            rows=[{**r, "label": lab(r["lv"])} for r in records(rel)]))
    if disc is not None and len(disc):
        cols = [Column("pair", t("col_constructs")), Column("htmt", "HTMT", "float3")]
        if disc["htmt_ci_high"].notna().any():
            cols += [Column("htmt_ci_low", t("col_ci_low"), "float3"), Column("htmt_ci_high", t("col_ci_high"), "float3")]
        cols += [Column("correlation", t("col_correlation"), "float3"),
                 Column("fl", t("col_fornell_larcker"))]
        rows = [{**r, "pair": f"{lab(r['lv_a'])} ↔ {lab(r['lv_b'])}",
                 "fl": t("csi_fl_ok") if r["fornell_larcker_ok"] else t("csi_fl_fail")} for r in records(disc)]
        blocks.append(Table("csi-discriminant", t("csi_discriminant_title"), warnings=notes,
                            note=t("csi_discriminant_note"), columns=cols, rows=rows))
    if struct is not None and len(struct):
        blocks.append(Table("csi-structural", t("csi_structural_title"), warnings=notes, note=t("csi_structural_note"),
                            columns=[Column("path", t("col_path")), Column("vif", "VIF", "float2"),
                                     Column("f_squared", "f²", "float3")],
                            rows=[{**r, "path": f"{lab(r['from'])} → {lab(r['to'])}"} for r in records(struct)]))
    if pred is not None and len(pred):
        k = int(fit["q2_folds"].iloc[0]) if fit is not None and len(fit) else 10
        blocks.append(Table("csi-predict", t("csi_predict_title"), warnings=notes, note=t("csi_predict_note", k=k),
                            columns=[Column("label", t("col_lv")), Column("item", t("col_indicator")),
                                     Column("q2_predict", "Q²predict", "float3"), Column("rmse_pls", t("col_rmse_pls"), "float3"),
                                     Column("rmse_lm", t("col_rmse_lm"), "float3")],
                            rows=[{**r, "label": lab(r["lv"])} for r in records(pred)]))
    return blocks


# --------------------------------------------------------------------------- the value of experience (E1, E2)
def experience_value_blocks(session, tables: dict, notes=(), *, by: str | None = None) -> list:
    t, lang, cur = session.t, session.lang, session.currency
    g, comp, roi = (tables.get(k) for k in ("experience_value", "experience_value_comparison", "experience_roi"))
    notes = list(notes)
    blocks = []
    if g is not None and comp is not None and len(g) and len(comp):
        blocks += _e1(t, lang, cur, g, comp, notes, by)
    if roi is not None and len(roi):
        blocks += _e2(t, cur, roi, notes, _money_basis(session, roi))
    return blocks


def _money_basis(session, roi) -> str:
    """What the money of E2 is, in words: the predicted customer value over the CLV horizon at
    the stated margin (from the CLV fit), or the last 12 months' spend."""
    t = session.t
    if str(roi["value_source"].iloc[0]) != "clv":
        return t("roi_basis_spend")
    params = read_result(session.con, "clv_parameters")
    months = int(session.settings.get("clv_horizon_months") or 12)
    margin = float(params["margin"].iloc[0]) if params is not None and len(params) and "margin" in params else None
    return t("roi_basis_clv", months=months, margin=fmt(margin, "pct") if margin is not None else "–")


def _group_order(g, c_all) -> list:
    groups = list(dict.fromkeys(g["group"].astype(str)))
    hi, lo = str(c_all["high_group"].iloc[0]), str(c_all["low_group"].iloc[0])
    return [hi] + [x for x in groups if x not in (hi, lo)] + [lo]


def _e1(t, lang, cur, g, comp, notes, by) -> list:
    from ...perception import value_sentence
    window = int(g["window_days"].iloc[0])
    conf = float(g["confidence"].iloc[0])
    months = max(1, round(window / 30.4375))
    ga = g[g["segment"] == "all"]
    ca = comp[comp["segment"] == "all"]
    n = int(ga[ga["metric"] == ga["metric"].iloc[0]]["n"].sum())
    order = _group_order(ga, ca)
    c = ca.set_index("metric")
    items = []
    if "spend" in c.index:
        r = c.loc["spend"]
        items += [Kpi("spend_uplift", t("ev_kpi_spend_uplift"), float(r["estimate"]), "pct"),
                  Kpi("spend_uplift_ci_low", t("col_ci_low"), float(r["ci_low"]), "pct"),
                  Kpi("spend_uplift_ci_high", t("col_ci_high"), float(r["ci_high"]), "pct")]
    if "renewal_rate" in c.index:
        r = c.loc["renewal_rate"]
        items += [Kpi("renewal_high", t("ev_kpi_renewal", group=t(f"ev_group_{order[0]}")), float(r["high"]), "pct"),
                  Kpi("renewal_low", t("ev_kpi_renewal", group=t(f"ev_group_{order[-1]}")), float(r["low"]), "pct")]
    items.append(Kpi("customers", t("col_customers"), n, "int"))
    blocks = [Kpis("experience-value", t("sec_experience_value"), warnings=notes, items=items),
              Text("ev-sentence", text=value_sentence(comp, lang=lang, currency=cur, confidence=conf,
                                                      window_days=window), tone="plain")]
    as_of = comp["as_of"].iloc[0] if "as_of" in comp.columns else None
    if as_of is not None and as_of == as_of:
        blocks.append(Text("ev-intro", text=t("ev_intro", months=months, as_of=str(as_of)[:10], n=n)))
    segs = [s for s in dict.fromkeys(comp["segment"]) if s != "all"]
    name = by_label(t, by) if by else t("col_segment")
    for s in segs:
        blocks.append(Text(f"ev-sentence-{slug(s)}", text=f"{name} = {s}: " + value_sentence(
            comp, lang=lang, segment=s, currency=cur, confidence=conf, window_days=window), tone="plain"))
    for metric, bid, title_key, vf in (("spend", "ev-spend", "ev_spend_chart", "money"),
                                       ("renewal_rate", "ev-renewal", "ev_renewal_chart", "pct")):
        m = ga[ga["metric"] == metric].set_index("group").reindex(order)
        if len(m) and m["estimate"].notna().any():
            small = m["small_sample"].fillna(False).astype(bool)
            warns = notes + ([small_note(t, t(title_key))] if small.any() else [])
            blocks.append(Chart(bid, t(title_key), warnings=warns, chart="interval_bar", value_format=vf,
                                data={"labels": [t(f"ev_group_{x}") for x in order],
                                      "values": m["estimate"].astype(float).tolist(),
                                      "lows": m["ci_low"].astype(float).tolist(),
                                      "highs": m["ci_high"].astype(float).tolist(), "marks": small.tolist()}))
    for kind, bid, title_key, f in (("relative", "ev-relative", "ev_relative_title", "pct"),
                                    ("difference", "ev-difference", "ev_difference_title", "float2")):
        part = comp[comp["kind"] == kind]
        if not len(part):
            continue
        cols = ([Column("segment", name)] if segs else []) + [Column("metric_label", t("col_metric"))]
        cols += [Column(f"group_{x}", t(f"ev_group_{x}"), "number") for x in order]
        cols += [Column("estimate", t("col_change"), f), Column("ci_low", t("col_ci_low"), f),
                 Column("ci_high", t("col_ci_high"), f), Column("p_value", t("col_p_value"), "p")]
        rows = []
        for r in records(part):
            ge = g[(g["segment"] == r["segment"]) & (g["metric"] == r["metric"])].set_index("group")["estimate"]
            rows.append({**r, "metric_label": t(f"ev_m_{r['metric']}"),
                         **{f"group_{x}": (float(ge[x]) if x in ge.index else None) for x in order}})
        blocks.append(Table(bid, t(title_key), warnings=notes, columns=cols, rows=rows))
    return blocks


def _e2(t, cur, roi, notes, basis: str = "") -> list:
    src = basis or t(f"value_source_{roi['value_source'].iloc[0]}")
    drv = roi[roi["kind"] == "driver"].sort_values("rank")
    mv = roi[roi["kind"] == "move"].sort_values("rank")
    top = driver_label(t, drv["item"].iloc[0]) if len(drv) else "–"
    labels = [t("roi_close_gap", dim=driver_label(t, d)) for d in drv["item"]]
    data = {"labels": labels, "values": drv["value_base"].astype(float).tolist(),
            "x_label": t("roi_axis", currency=cur)}
    if {"ci_low_base", "ci_high_base"} <= set(drv.columns):
        data.update(lows=drv["ci_low_base"].astype(float).tolist(), highs=drv["ci_high_base"].astype(float).tolist())
    rows = []
    for r in records(drv) + records(mv):
        if r["kind"] == "driver":
            item = t("roi_close_gap", dim=driver_label(t, r["item"]))
        else:
            a, b = str(r["item"]).split("_to_")
            item = t("roi_move", a=t(f"ev_group_{a}"), b=t(f"ev_group_{b}"))
        rows.append({**r, "item_label": item})
    cols = [Column("item_label", t("col_item")), Column("rank", t("col_rank"), "int"),
            Column("coefficient", t("col_coefficient"), "float3"), Column("mean_gap", t("col_mean_gap"), "float2"),
            Column("nps_change", t("col_nps_change"), "signed"), Column("customers", t("col_customers"), "int"),
            Column("value", f"{t('col_value')} ({cur})", "money"),
            Column("value_base", f"{t('col_value_base')} ({cur})", "money")]
    if {"ci_low_base", "ci_high_base"} <= set(roi.columns):
        cols += [Column("ci_low_base", f"{t('col_ci_low')} ({cur})", "money"),
                 Column("ci_high_base", f"{t('col_ci_high')} ({cur})", "money")]
    return [
        Text("experience-roi", t("roi_title"), warnings=notes, text=t(
            "roi_intro", source=src, n=int(roi["surveyed"].iloc[0]), base=int(roi["base_customers"].iloc[0]), top=top)),
        Chart("experience-roi-chart", t("roi_title"), warnings=notes, chart="interval_bar", value_format="money",
              data=data),
        Table("experience-roi-table", t("roi_title"), warnings=notes, columns=cols, rows=rows,
              note=t("roi_columns_note", currency=cur))]
