"""The perception analyses as the commands and pages call them — one call each, on a survey
frame or a store: key drivers (:func:`drivers_analysis`), the CEM seven steps
(:func:`cem_analysis`), the satisfaction index model (:func:`csi_analysis`) and the value of
experience (:func:`experience_value_analysis`). Each returns frames named like the result
tables the run writes (:mod:`cxvalue.perception.pipeline`), so that the same view shows a
file's analysis and the store's."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import CxValueError

__all__ = ["drivers_analysis", "cem_analysis", "csi_analysis", "experience_value_analysis", "driver_tables",
           "cem_tables", "survey_segments", "BOOT_DRIVERS"]

BOOT_DRIVERS = 200


def _outcome(cols) -> str | None:
    return "nps" if "nps" in cols else ("satisfaction" if "satisfaction" in cols else None)


def _survey(data, since=None, until=None) -> pd.DataFrame:
    """Survey answers as pandas: ``data`` itself (a frame) or a store's responses, kept to
    the answers dated in [since, until]."""
    from ..voice.inputs import filter_period, survey_frame
    df = data if isinstance(data, pd.DataFrame) else survey_frame(None, data)
    return filter_period(df, since, until) if since is not None or until is not None else df


def survey_segments(df: pd.DataFrame, by: str | None, min_rows: int):
    """``("all", df)`` then, with ``by``, one ``(value, rows)`` per value of column ``by``
    that has at least ``min_rows`` answers (sorted by value)."""
    if by is None:
        yield "all", df
        return
    from ..columns import match_column
    by = match_column(df.columns, by, "--by", "the survey data")
    yield "all", df
    for value, part in df.groupby(df[by].astype(str), sort=True):
        if len(part) >= min_rows:
            yield str(value), part


def _positive(value, column: pd.Series):
    """The outcome value counting as 1, as given, or as a number (a boolean) when the outcome
    column is numeric (boolean); a text value matches ignoring case and spaces (``satisfied`` for
    ``Satisfied``)."""
    if value is None or not isinstance(value, str):
        return value
    if pd.api.types.is_bool_dtype(column):
        return value.lower() in ("1", "true", "yes")
    if pd.api.types.is_numeric_dtype(column):
        try:
            return float(value)
        except ValueError:
            pass
    from ..columns import match_value
    return match_value(column.dropna().unique(), value, "--positive", str(column.name))


# --------------------------------------------------------------------------- drivers (D3)
def driver_tables(df: pd.DataFrame, *, outcome: str, drivers=None, positive=None, na_values=None,
                  methods=("relative_weights", "shapley"), n_boot: int = BOOT_DRIVERS, random_state=0,
                  importance_cut="mean", performance_cut="mean") -> dict[str, pd.DataFrame]:
    """Key driver analysis → ``driver_importance`` (with IPA quadrants per method and the
    cuts used, ``importance_cut`` / ``performance_cut``) and ``driver_summary`` tables."""
    from .drivers import KeyDriverAnalysis, detect_drivers, importance_performance
    from ..columns import match_column
    outcome = match_column(df.columns, outcome, "outcome", "the survey data")
    drivers = list(drivers) if drivers else detect_drivers(df, outcome)
    kda = KeyDriverAnalysis(methods=methods, na_values=na_values, n_boot=n_boot, random_state=random_state)
    kda.fit(df, outcome=outcome, drivers=drivers, positive=positive)
    parts = []
    for m in kda.methods_:
        tab = kda.table(m)
        q = importance_performance(tab, importance_cut=importance_cut, performance_cut=performance_cut)
        tab["quadrant"] = q["quadrant"].to_numpy()
        tab["importance_cut"] = float(q.attrs["importance_cut"])
        tab["performance_cut"] = float(q.attrs["performance_cut"])
        parts.append(tab)
    imp = pd.concat(parts, ignore_index=True)
    imp["outcome"] = outcome
    summ = kda.summary_.copy()
    summ["outcome"] = outcome
    summ["na_values"] = ", ".join(f"{v:g}" if isinstance(v, (int, float)) else str(v)
                                  for v in kda.summary_.attrs.get("na_values", []))
    summ["missing"] = kda.missing
    return {"driver_importance": imp, "driver_summary": summ}


def drivers_analysis(data, *, outcome: str | None = None, positive=None, drivers=None, na_values=None,
                     methods=("relative_weights", "shapley"), n_boot: int = BOOT_DRIVERS, random_state=0,
                     by: str | None = None, since=None, until=None) -> dict[str, pd.DataFrame]:
    """Key drivers of ``outcome`` (default ``nps``, else ``satisfaction``) on a survey frame or a
    store's responses: :func:`driver_tables` overall (``segment`` = ``"all"``) and, with ``by``,
    per value of that column with enough answers (drivers + 30). ``positive``: the value of a
    text / yes-no outcome that counts as 1 (converted to the column's type). ``drivers``
    default to :func:`~cxvalue.perception.drivers.detect_drivers`."""
    from .drivers import detect_drivers
    df = _survey(data, since, until)
    if outcome is None:
        outcome = _outcome(df.columns)
        if outcome is None:
            raise CxValueError("give the outcome column with --outcome (no 'nps' or 'satisfaction' column); columns: "
                               f"{', '.join(map(str, df.columns))}")
    from ..columns import match_column
    outcome = match_column(df.columns, outcome, "--outcome", "the survey data")
    pos = _positive(positive, df[outcome])
    drv = list(drivers) if drivers else detect_drivers(df, outcome, exclude=[by] if by else [])
    imp, summ = [], []
    for seg, part in survey_segments(df, by, len(drv) + 30):
        tabs = driver_tables(part, outcome=outcome, drivers=drv, positive=pos, na_values=na_values, methods=methods,
                             n_boot=n_boot, random_state=random_state)
        imp.append(tabs["driver_importance"].assign(segment=seg))
        summ.append(tabs["driver_summary"].assign(segment=seg))
    return {"driver_importance": pd.concat(imp, ignore_index=True),
            "driver_summary": pd.concat(summ, ignore_index=True)}


# --------------------------------------------------------------------------- CEM (D4)
def cem_analysis(data, *, dimensions=None, by: str | None = None, compare: bool | None = None, before=None,
                 after=None, wave_col: str = "wave", since=None, until=None,
                 layout: str = "auto") -> dict[str, pd.DataFrame]:
    """The CEM seven steps on a survey frame or a store's responses: ``cem_gaps``
    (:func:`~cxvalue.perception.cem.cem_summary` overall, ``segment`` = ``"all"``, and per
    value of ``by`` with at least 10 answers) and ``cem_compare``
    (:func:`~cxvalue.perception.cem.cem_compare` of wave ``before`` → ``after`` of
    ``wave_col``, the last two waves by default, with ``before_wave`` / ``after_wave``).
    ``compare``: True = re-measure (an error without two waves), None = when the data have
    two waves, False = never (unless ``before`` / ``after`` are given)."""
    from .cem import cem_compare, cem_summary
    df = _survey(data, since, until)
    dims = list(dimensions) if dimensions else None
    gaps = [cem_summary(part, dimensions=dims, layout=layout).assign(segment=seg)
            for seg, part in survey_segments(df, by, 10)]
    out = {"cem_gaps": pd.concat(gaps, ignore_index=True)}
    wanted = bool(compare) or before is not None or after is not None
    if not wanted and compare is False:
        return out
    if wave_col not in df.columns:
        if wanted:
            raise CxValueError(f"re-measurement needs a wave column: {wave_col!r} is not in the data (use --wave-col)")
        return out
    waves = sorted(df[wave_col].dropna().astype(str).unique())
    if before is None and after is None:
        if len(waves) < 2:
            if wanted:
                raise CxValueError(f"--compare needs two waves in {wave_col!r}; found {waves}")
            return out
        before, after = waves[-2], waves[-1]
    if before is None or after is None:
        raise CxValueError("give both --before WAVE and --after WAVE (or --compare for the last two waves)")
    for w in (before, after):
        if w not in waves:
            raise CxValueError(f"wave {w!r} is not in column {wave_col!r}; waves: {', '.join(waves)}")
    wv = df[wave_col].astype(str)
    comp = cem_compare(df[(wv == before).to_numpy()], df[(wv == after).to_numpy()], dimensions=dims, layout=layout)
    comp.insert(0, "after_wave", after)
    comp.insert(0, "before_wave", before)
    out["cem_compare"] = comp
    return out


def cem_tables(df: pd.DataFrame, *, wave_col: str = "wave", before=None, after=None) -> dict[str, pd.DataFrame]:
    """``cem_gaps`` over all answers and ``cem_compare`` of two waves (default: the last two, when there are two)."""
    out = cem_analysis(df, wave_col=wave_col, before=before, after=after, layout="respondent")
    out["cem_gaps"] = out["cem_gaps"].drop(columns="segment")
    return out


# --------------------------------------------------------------------------- CSI (D5)
def csi_analysis(data, *, model=None, scheme: str = "centroid", scaled: bool | None = None, n_boot: int = 0,
                 random_state=0, item_range=None, by: str | None = None, since=None,
                 until=None, tol: float = 1e-6, q2_folds: int = 10, declared: dict | None = None) -> dict[str, pd.DataFrame]:
    """A satisfaction index model (template or model file; see :mod:`cxvalue.perception.csi`)
    fitted on a survey frame or a store's responses: ``csi_scores`` and ``csi_paths``
    (:func:`~cxvalue.perception.csi.csi_tables`, per ``by`` segment too) and ``csi_model``
    (one row per indicator: ``model``, ``lv``, ``item``, ``weight``, ``loading``,
    ``label_en`` / ``label_zh`` of the construct, ``scaled``, ``scheme``, ``n``, ``gof`` and the
    answer scale ``item_range_low`` / ``item_range_high`` of the 0-100 index and where it came from,
    ``item_range_source``: option, model file, data contract or assumed — see
    :func:`~cxvalue.perception.csi.item_scale`; ``declared``: column → declared scale, default
    the store's when ``data`` is one), and the model's
    assessment (:mod:`cxvalue.perception.pls_assess`): ``csi_reliability`` (per LV: α, ρA, ρc,
    AVE), ``csi_discriminant`` (per pair of LVs: HTMT with its bootstrap interval when
    ``n_boot``, their correlation and √AVE of each: Fornell–Larcker), ``csi_structural`` (per
    path: VIF, f²), ``csi_predict`` (per endogenous indicator: Q²_predict, RMSE and MAE vs a linear
    model, ``q2_folds``-fold) and ``csi_fit`` (SRMR, n, iterations, tolerance)."""
    from .csi import csi_tables, fit_csi
    df = _survey(data, since, until)
    if declared is None and not isinstance(data, pd.DataFrame):   # the store: the scales its loads declared
        from ..io.load import declared_scales
        declared = declared_scales(data, "responses")
    pls, spec = fit_csi(df, model, scheme=scheme, scaled=scaled, n_boot=n_boot, random_state=random_state, tol=tol)
    tabs = csi_tables(pls, spec, df, by=by, item_range=item_range, declared=declared)
    sc = tabs["csi_scores"]
    tabs["csi_model"] = _csi_model(pls, spec, sc.attrs.get("item_range"), scheme, sc.attrs.get("item_range_source"))
    tabs.update(_csi_assessment(pls, str(spec["name"]), q2_folds, random_state))
    return tabs


def _csi_assessment(pls, model: str, q2_folds: int, random_state) -> dict[str, pd.DataFrame]:
    from .pls_assess import assessment
    a = assessment(pls, q2_folds=q2_folds, random_state=random_state)
    rel = a["reliability"]
    ave = rel.set_index("lv")["ave"]
    fl = a["fornell_larcker"]
    disc = a["htmt"].copy()
    disc["correlation"] = [float(fl.loc[b, a_]) if pd.notna(fl.loc[b, a_]) else float(fl.loc[a_, b])
                           for a_, b in zip(disc["lv_a"], disc["lv_b"])]
    disc["sqrt_ave_a"] = np.sqrt(disc["lv_a"].map(ave))
    disc["sqrt_ave_b"] = np.sqrt(disc["lv_b"].map(ave))
    disc["fornell_larcker_ok"] = (disc["correlation"].abs() < disc[["sqrt_ave_a", "sqrt_ave_b"]].min(axis=1))
    boot = getattr(pls, "bootstrap_", None)
    if boot is not None and (boot["kind"] == "htmt").any():
        b = boot[boot["kind"] == "htmt"].set_index("name")
        key = disc["lv_a"] + " <-> " + disc["lv_b"]
        disc["htmt_ci_low"], disc["htmt_ci_high"] = key.map(b["ci_low"]), key.map(b["ci_high"])
    else:
        disc["htmt_ci_low"] = disc["htmt_ci_high"] = np.nan
    struct = a["inner_vif"].merge(a["f_squared"], on=["from", "to"])
    fit = pd.DataFrame([{"srmr": a["srmr"], "n": int(len(pls.manifests_)), "iterations": int(pls.iterations_),
                         "converged": bool(pls.converged_), "tol": float(pls.tol), "q2_folds": int(q2_folds),
                         "n_boot": int(boot.attrs.get("n_boot", 0)) if boot is not None else 0}])
    return {k: v.assign(model=model) for k, v in (("csi_reliability", rel), ("csi_discriminant", disc),
                                                  ("csi_structural", struct), ("csi_predict", a["q2_predict"]),
                                                  ("csi_fit", fit))}


def _csi_model(pls, spec: dict, item_range, scheme: str, source: str | None = None) -> pd.DataFrame:
    om = pls.outer_model_
    labels = spec.get("labels") or {}

    def scale(item):
        if isinstance(item_range, dict):
            return tuple(item_range.get(item, (None, None)))
        return (tuple(item_range) + (None, None))[:2] if item_range else (None, None)
    boot = getattr(pls, "bootstrap_", None)
    ci = (boot[boot["kind"] == "loading"].set_index("name")[["ci_low", "ci_high"]] if boot is not None
          else pd.DataFrame(columns=["ci_low", "ci_high"]))
    rows = []
    blocks = {**spec["blocks"], **(spec.get("higher_order") or {})}   # a HOC's indicators are its dimensions
    for lv, items in blocks.items():
        for item in items:
            r = om[(om["name"] == item) & (om["block"] == lv)] if {"name", "block"} <= set(om.columns) else om[:0]
            rows.append({"model": str(spec["name"]), "lv": lv, "item": item,
                         "weight": float(r["weight"].iloc[0]) if len(r) and "weight" in r else None,
                         "loading": float(r["loading"].iloc[0]) if len(r) and "loading" in r else None,
                         "loading_ci_low": float(ci.loc[item, "ci_low"]) if item in ci.index else None,
                         "loading_ci_high": float(ci.loc[item, "ci_high"]) if item in ci.index else None,
                         "label_en": (labels.get(lv) or {}).get("en", lv), "label_zh": (labels.get(lv) or {}).get("zh", lv),
                         "scaled": bool(spec.get("scaled", False)), "scheme": scheme, "n": int(len(pls.manifests_)),
                         "gof": float(pls.gof_), "item_range_low": scale(item)[0], "item_range_high": scale(item)[1],
                         "item_range_source": source})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the value of experience (E1, E2)
def _ev_frames(ev, measure: str) -> dict[str, pd.DataFrame]:
    return {"experience_value": ev.groups_.assign(measure=measure, window_days=ev.window_days,
                                                  confidence=ev.confidence),
            "experience_value_comparison": ev.comparison_.assign(measure=measure, window_days=ev.window_days,
                                                                 confidence=ev.confidence, as_of=ev.as_of_)}


def _roi_frame(roi: pd.DataFrame, outcome: str) -> pd.DataFrame:
    scale = roi.attrs["base_customers"] / max(int(roi.attrs["surveyed"]), 1)
    return roi.assign(outcome=outcome, surveyed=roi.attrs["surveyed"], base_customers=roi.attrs["base_customers"],
                      ci_low_base=roi["ci_low"] * scale, ci_high_base=roi["ci_high"] * scale)


def experience_value_analysis(data, *, measure: str = "satisfaction", score: str | None = None, cuts=None,
                              window_days: int = 365, by: str | None = None, n_boot: int = 1000, random_state=0,
                              roi: bool = False, roi_boot: int | None = None, as_of=None, since=None,
                              until=None) -> dict[str, pd.DataFrame]:
    """E1 (and with ``roi`` E2) on a store (responses linked to its transactions and
    subscriptions) or on a frame with one row per customer (a ``score`` column — named
    ``score`` or the ``measure`` — or ``group``, plus follow-up columns such as ``spend``).

    Returns ``experience_value`` (the groups' estimates), ``experience_value_comparison`` (high
    vs low group, per ``by`` segment too) with ``measure``, ``window_days``, ``confidence`` (and
    ``as_of``) columns, and ``experience_roi`` (:func:`~cxvalue.perception.experience_roi` with
    ``outcome``, ``surveyed``, ``base_customers`` and the intervals scaled to the customer base,
    ``ci_low_base`` / ``ci_high_base``; ``roi_boot`` replicates, default min(n_boot, 200))."""
    from . import ExperienceValue, experience_roi
    from ..errors import one_of
    one_of("measure", measure, ("satisfaction", "nps"))
    ev = ExperienceValue(measure=measure, cuts=cuts, window_days=window_days, by=by, n_boot=n_boot,
                         random_state=random_state)
    if isinstance(data, pd.DataFrame):
        if roi:
            raise CxValueError("--roi needs the survey answers with driver ratings and the purchases: use the "
                               "store or a responses FILE with --transactions")
        frame = data
        col = score or measure
        if col not in frame.columns and "group" not in frame.columns:
            raise CxValueError(f"no {col!r} column (the survey score; use --score) — or give --transactions to "
                               "link a responses file to purchases")
        if col in frame.columns:
            frame = frame.rename(columns={col: "score"})
        if "customer_id" in frame.columns:
            frame = frame.set_index("customer_id")
        ev.fit(frame)
        return _ev_frames(ev, measure)
    ev.fit(data, as_of=as_of, since=since, until=until)
    out = _ev_frames(ev, measure)
    if roi:
        cols = data.table("responses").columns
        outcome = "nps" if measure == "nps" or "satisfaction" not in cols else measure
        r = experience_roi(data, outcome=outcome, window_days=window_days,
                           n_boot=min(n_boot, 200) if roi_boot is None else roi_boot, random_state=random_state,
                           as_of=as_of, since=since, until=until)
        out["experience_roi"] = _roi_frame(r, outcome)
    return out


# --------------------------------------------------------------------------- Kano
def kano_analysis(data, *, pairs: dict | None = None, min_n: int = 30, since=None, until=None) -> dict[str, pd.DataFrame]:
    """Kano classification (:mod:`cxvalue.perception.kano`) of a survey frame or a store's
    responses: ``kano_features`` (one row per feature: category counts and shares, the
    category, Fong's significance, Better and Worse)."""
    from .kano import kano_table
    df = _survey(data, since, until)
    return {"kano_features": kano_table(df, pairs, min_n=min_n)}
