"""Report sections: key drivers and IPA (42), CEM gaps (44), satisfaction index path model
(46), the value of experience (50). They read the tables of :mod:`cxvalue.perception.pipeline`."""
from __future__ import annotations

from ..i18n import t
from ..report import Section, register
from ..report.charts import interval_bar_chart, path_diagram, quadrant_chart
from ..report.sections import table_html
from ..store import read_result


def driver_label(name: str, lang: str) -> str:
    """Display label of a driver / dimension column (experience_convenience → Convenience)."""
    s = str(name)
    for prefix in ("experience_", "rating_", "expectation_", "importance_", "ideal_"):
        if s.startswith(prefix):
            s = s[len(prefix):]
            break
    label = t(f"dim_{s}", lang)
    return label if label != f"dim_{s}" else s.replace("_", " ")


def _pct(v) -> str:
    return "" if v is None or v != v else f"{100 * v:.1f}%"


@register(42)
def drivers_section(con, lang, settings):
    imp = read_result(con, "driver_importance")
    summ = read_result(con, "driver_summary")
    if imp is None or summ is None or imp.empty:
        return None
    rw = imp[imp["method"] == "relative_weights"].sort_values("rank")
    sh = imp[imp["method"] == "shapley"].set_index("driver")
    r2 = float(summ.loc[summ["parameter"] == "r_squared", "estimate"].iloc[0])
    n = int(summ.loc[summ["parameter"] == "n_used", "estimate"].iloc[0])
    outcome = str(imp["outcome"].iloc[0])
    html = f"<p>{t('drivers_intro', lang, r2=r2, outcome=outcome, k=len(rw), n=n)}</p>"
    labels = [driver_label(d, lang) for d in rw["driver"]]
    html += interval_bar_chart(labels, rw["share"].tolist(), rw["share_ci_low"].tolist(),
                               rw["share_ci_high"].tolist(), title=t("col_importance", lang),
                               value_fmt=lambda v: f"{100 * v:.1f}%")
    icut, pcut = rw["share"].mean(), rw["performance"].mean()
    names = {"top_left": t("quadrant_concentrate_here", lang), "top_right": t("quadrant_keep_up", lang),
             "bottom_left": t("quadrant_low_priority", lang), "bottom_right": t("quadrant_possible_overkill", lang)}
    html += f"<h3>{t('ipa_title', lang)}</h3>" + quadrant_chart(
        labels, rw["performance"].tolist(), rw["share"].tolist(), x_cut=pcut, y_cut=icut, quadrant_names=names,
        title=t("ipa_title", lang), x_label=t("ipa_x", lang), y_label=t("ipa_y", lang))
    rows = [[lab, int(r.rank), _pct(r.share), f"{_pct(r.share_ci_low)} … {_pct(r.share_ci_high)}",
             _pct(sh["share"].get(r.driver)) if len(sh) else "", r.performance, t(f"quadrant_{r.quadrant}", lang)]
            for lab, r in zip(labels, rw.itertuples())]
    html += table_html([t("col_driver", lang), t("col_rank", lang), t("col_importance", lang), t("col_ci", lang),
                        t("col_shapley", lang), t("col_performance", lang), t("col_quadrant", lang)], rows,
                       (1, 2, 4, 5))
    return Section("drivers", t("sec_drivers", lang), html)


@register(44)
def cem_section(con, lang, settings):
    g = read_result(con, "cem_gaps")
    if g is None or g.empty:
        return None
    key = g[g["key_rank"] == 1]
    req = g[g["requirement_rank"] == 1]
    html = "<p>" + t("cem_intro", lang,
                     kdim=driver_label(key["dimension"].iloc[0], lang) if len(key) else "–",
                     value=float(key["key_experience"].iloc[0]) if len(key) else float("nan"),
                     req=driver_label(req["dimension"].iloc[0], lang) if len(req) else "–",
                     gap=float(req["gap"].iloc[0]) if len(req) else float("nan")) + "</p>"
    labels = [driver_label(d, lang) for d in g["dimension"]]
    html += interval_bar_chart(labels, g["key_experience"].tolist(), title=t("cem_chart_title", lang),
                               value_fmt=lambda v: f"{v:+.1f}")
    cols = ["experience", "expectation", "satisfaction", "importance", "key_experience", "ideal", "gap",
            "requirement_rank"]
    heads = ["col_experience", "col_expectation", "col_satisfaction_gap", "col_importance_weight",
             "col_key_experience", "col_ideal", "col_gap", "col_requirement_rank"]
    rows = [[lab] + [(None if v != v else v) if not isinstance(v, float) else v for v in (r[c] for c in cols)]
            for lab, r in zip(labels, g.to_dict("records"))]
    html += table_html([t("col_dimension", lang)] + [t(h, lang) for h in heads], rows, tuple(range(1, 9)))
    comp = read_result(con, "cem_compare")
    if comp is not None and len(comp):
        c = comp[comp["measure"].isin(["experience", "satisfaction", "gap"])]
        html += f"<h3>{t('cem_compare_title', lang, before=comp['before_wave'].iloc[0], after=comp['after_wave'].iloc[0])}</h3>"
        html += table_html([t("col_dimension", lang), t("col_measure", lang), t("col_before", lang),
                            t("col_after", lang), t("col_change", lang), t("col_p_value", lang)],
                           [[driver_label(r.dimension, lang), t(f"measure_{r.measure}", lang), r.before, r.after,
                             f"{r.change:+.2f}", "" if r.p_value != r.p_value else f"{r.p_value:.3f}"]
                            for r in c.itertuples()], (2, 3, 4, 5))
    return Section("cem", t("sec_cem", lang), html)


@register(46)
def csi_section(con, lang, settings):
    sc = read_result(con, "csi_scores")
    paths = read_result(con, "csi_paths")
    if sc is None or paths is None or sc.empty:
        return None
    from .plspm import TEMPLATES
    model = str(sc["model"].iloc[0])
    labels = (TEMPLATES.get(model) or {}).get("labels") or {}
    lab = lambda lv: labels.get(lv, {}).get(lang, lv)  # noqa: E731
    overall = sc[sc["segment"] == "all"]
    gof = float(sc["gof"].iloc[0]) if "gof" in sc.columns else float("nan")
    html = "<p>" + t("csi_intro", lang, model=model.upper(), n=int(overall["n"].iloc[0]), gof=gof) + "</p>"
    nodes = []
    for r in overall.itertuples():
        note = f"{t('col_index', lang).split(' ')[0]} {r.index:.0f}" if r.index == r.index else ""
        if r.r_squared == r.r_squared and r.r_squared > 0:
            note += f" · R² {r.r_squared:.2f}"
        nodes.append((r.lv, lab(r.lv), note))
    edges = [(r["from"], r["to"], float(r["estimate"])) for r in paths.to_dict("records")]
    html += f"<h3>{t('csi_paths_title', lang)}</h3>" + path_diagram(nodes, edges, title=t("csi_paths_title", lang))
    html += table_html([t("col_lv", lang), t("col_index", lang), t("col_r_squared", lang)],
                       [[lab(r.lv), r.index, r.r_squared] for r in overall.itertuples()], (1, 2))
    html += table_html([t("col_path", lang), t("col_estimate", lang), t("col_ci", lang), t("col_p_value", lang)],
                       [[f"{lab(r['from'])} → {lab(r['to'])}", r["estimate"],
                         "" if r["ci_low"] != r["ci_low"] else f"{r['ci_low']:.2f} … {r['ci_high']:.2f}",
                         f"{r['p_value']:.3g}"] for r in paths.to_dict("records")], (1, 3))
    seg = sc[(sc["segment"] != "all") & (sc["lv"] == "SAT")]
    if len(seg):
        html += interval_bar_chart(seg["segment"].tolist(), seg["index"].tolist(),
                                   title=f"{lab('SAT')} — {t('col_index', lang)}", value_fmt=lambda v: f"{v:.1f}")
    return Section("csi", t("sec_csi", lang), html)


@register(50)
def experience_value_section(con, lang, settings):
    from .experience_value import GROUPS, value_sentence
    g = read_result(con, "experience_value")
    comp = read_result(con, "experience_value_comparison")
    roi = read_result(con, "experience_roi")
    if (g is None or comp is None) and roi is None:
        return None
    cur = settings.get("currency", "CNY")
    html, warns = "", []
    if g is not None and comp is not None and len(g):
        measure = str(g["measure"].iloc[0])
        window = int(g["window_days"].iloc[0])
        conf = float(g["confidence"].iloc[0])
        months = max(1, round(window / 30.4375))
        ga = g[g["segment"] == "all"]
        n = int(ga[ga["metric"] == ga["metric"].iloc[0]]["n"].sum())
        html += "<p>" + t("ev_intro", lang, months=months, as_of=str(comp["as_of"].iloc[0])[:10], n=n) + "</p>"
        html += f'<p><b>{value_sentence(comp, lang=lang, currency=cur, confidence=conf, window_days=window)}</b></p>'
        order = list(GROUPS[measure])[::-1]
        for metric, title_key, fmt in (("spend", "ev_spend_chart", lambda v: f"{v:,.0f}"),
                                       ("renewal_rate", "ev_renewal_chart", lambda v: f"{100 * v:.0f}%")):
            m = ga[ga["metric"] == metric].set_index("group").reindex(order)
            if m["estimate"].notna().any():
                html += f"<h3>{t(title_key, lang)}</h3>" + interval_bar_chart(
                    [t(f"ev_group_{x}", lang) for x in order], m["estimate"].tolist(), m["ci_low"].tolist(),
                    m["ci_high"].tolist(), title=t(title_key, lang), value_fmt=fmt,
                    marks=m["small_sample"].fillna(False).astype(bool).tolist())
                if m["small_sample"].fillna(False).any():
                    warns.append(t("cx_small_sample", lang, min_n=30))
        piv = ga.pivot_table(index="metric", columns="group", values="estimate", observed=True, sort=False)
        piv = piv.reindex(columns=order)
        c = comp[comp["segment"] == "all"].set_index("metric")
        rows = []
        for metric in piv.index:
            r = c.loc[metric] if metric in c.index else None
            diff = "" if r is None else (f"{100 * r['estimate']:+.0f}%" if r["kind"] == "relative"
                                         else f"{r['estimate']:+.2f}")
            ci = "" if r is None or r["ci_low"] != r["ci_low"] else (
                f"{100 * r['ci_low']:+.0f}% … {100 * r['ci_high']:+.0f}%" if r["kind"] == "relative"
                else f"{r['ci_low']:+.2f} … {r['ci_high']:+.2f}")
            rows.append([t(f"ev_m_{metric}", lang)] + [piv.loc[metric, x] for x in order] + [diff, ci])
        html += table_html([t("col_metric", lang)] + [t(f"ev_group_{x}", lang) for x in order]
                           + [t("col_change", lang), t("col_ci", lang)], rows, (1, 2, 3, 4, 5))
    if roi is not None and len(roi):
        src = t(f"value_source_{roi['value_source'].iloc[0]}", lang)
        drv = roi[roi["kind"] == "driver"].sort_values("rank")
        mv = roi[roi["kind"] == "move"].sort_values("rank")
        top = driver_label(drv["item"].iloc[0], lang) if len(drv) else "–"
        html += f"<h3>{t('roi_title', lang)}</h3><p>" + t(
            "roi_intro", lang, source=src, n=int(roi["surveyed"].iloc[0]), base=int(roi["base_customers"].iloc[0]),
            top=top) + "</p>"
        labels = [t("roi_close_gap", lang, dim=driver_label(d, lang)) for d in drv["item"]]
        html += interval_bar_chart(labels, drv["value_base"].tolist(),
                                   (drv["ci_low"] * drv["value_base"] / drv["value"].where(drv["value"] != 0)).tolist(),
                                   (drv["ci_high"] * drv["value_base"] / drv["value"].where(drv["value"] != 0)).tolist(),
                                   title=t("roi_title", lang), color="#16a34a")
        rows = []
        for r in list(drv.to_dict("records")) + list(mv.to_dict("records")):
            if r["kind"] == "driver":
                item = t("roi_close_gap", lang, dim=driver_label(r["item"], lang))
            else:
                a, b = str(r["item"]).split("_to_")
                item = t("roi_move", lang, a=t(f"ev_group_{a}", lang), b=t(f"ev_group_{b}", lang))
            rows.append([item, int(r["rank"]), r["coefficient"] if r["coefficient"] == r["coefficient"] else None,
                         r["mean_gap"] if r["mean_gap"] == r["mean_gap"] else None, r["nps_change"],
                         int(r["customers"]), r["value"], r["value_base"]])
        html += table_html([t("col_item", lang), t("col_rank", lang), t("col_coefficient", lang),
                            t("col_mean_gap", lang), t("col_nps_change", lang), t("col_customers", lang),
                            t("col_value", lang) + f" ({cur})", t("col_value_base", lang) + f" ({cur})"], rows,
                           (1, 2, 3, 4, 5, 6, 7))
    return Section("experience-value", t("sec_experience_value", lang), html, tuple(warns))
