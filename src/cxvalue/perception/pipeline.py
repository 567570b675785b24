"""Perception analyses over the store (orders 42-50). Result tables:

* ``driver_importance`` (42) — :class:`~cxvalue.perception.drivers.KeyDriverAnalysis` of
  the NPS answer (else satisfaction) on the follow-up ratings (``rating_*``, else
  ``experience_*``), both methods, 200 bootstrap replicates: ``method``, ``driver``,
  ``importance``, ``share``, ``ci_low``, ``ci_high``, ``share_ci_low``,
  ``share_ci_high``, ``rank``, ``performance``, ``n``, ``quadrant``, ``outcome``;
  ``driver_summary``: R² (with interval), rows used, drivers.
* ``cem_gaps`` (44) — :func:`~cxvalue.perception.cem.cem_summary` over all answers;
  ``cem_compare``: :func:`~cxvalue.perception.cem.cem_compare` of the last two survey
  waves (``before_wave``, ``after_wave`` columns added).
* ``csi_scores`` / ``csi_paths`` (46) — the satisfaction index model that fits the
  responses' columns (:func:`~cxvalue.perception.csi.resolve_model`).
* ``experience_value`` / ``experience_value_comparison`` / ``experience_roi`` (50) — E1
  (:class:`~cxvalue.perception.experience_value.ExperienceValue`, satisfaction groups
  when answered, else NPS classes) and E2
  (:func:`~cxvalue.perception.experience_value.experience_roi`).
"""
from __future__ import annotations

import warnings

import pandas as pd

from ..errors import CxValueError
from ..pipeline import analysis
from ..store import has_table, write_result

__all__ = ["run_drivers", "run_cem", "run_csi", "run_experience_value", "driver_tables", "cem_tables"]

BOOT_DRIVERS = 200
BOOT_E1 = 500
BOOT_E2 = 100
BOOT_CSI = 50


def _responses(con, prefixes=(), extra=()) -> pd.DataFrame | None:
    if not has_table(con, "responses"):
        return None
    r = con.table("responses")
    cols = [c for c in r.columns if c in extra or str(c).startswith(tuple(prefixes))]
    if not cols:
        return None
    return r.select(*cols).to_pandas()


def driver_tables(df: pd.DataFrame, *, outcome: str, drivers=None, positive=None, na_values=None,
                  methods=("relative_weights", "shapley"), n_boot: int = BOOT_DRIVERS, random_state=0,
                  importance_cut="mean", performance_cut="mean") -> dict[str, pd.DataFrame]:
    """Key driver analysis → ``driver_importance`` (with IPA quadrants per method) and
    ``driver_summary`` tables."""
    from .drivers import KeyDriverAnalysis, detect_drivers, importance_performance
    if outcome not in df.columns:
        raise CxValueError(f"outcome {outcome!r} is not a column of the survey data; columns: "
                           f"{', '.join(map(str, df.columns[:25]))}")
    drivers = list(drivers) if drivers else detect_drivers(df, outcome)
    kda = KeyDriverAnalysis(methods=methods, na_values=na_values, n_boot=n_boot, random_state=random_state)
    kda.fit(df, outcome=outcome, drivers=drivers, positive=positive)
    parts = []
    for m in kda.methods_:
        tab = kda.table(m)
        q = importance_performance(tab, importance_cut=importance_cut, performance_cut=performance_cut)
        tab["quadrant"] = q["quadrant"].to_numpy()
        parts.append(tab)
    imp = pd.concat(parts, ignore_index=True)
    imp["outcome"] = outcome
    summ = kda.summary_.copy()
    summ["outcome"] = outcome
    return {"driver_importance": imp, "driver_summary": summ}


def cem_tables(df: pd.DataFrame, *, wave_col: str = "wave", before=None, after=None) -> dict[str, pd.DataFrame]:
    """``cem_gaps`` over all answers and ``cem_compare`` of two waves (default: the last two)."""
    from .cem import cem_compare, cem_summary
    out = {"cem_gaps": cem_summary(df, layout="respondent")}
    if wave_col in df.columns:
        waves = sorted(df[wave_col].dropna().astype(str).unique())
        if before is None and after is None and len(waves) >= 2:
            before, after = waves[-2], waves[-1]
        if before is not None and after is not None:
            for w in (before, after):
                if w not in waves:
                    raise CxValueError(f"wave {w!r} is not in column {wave_col!r}; waves: {', '.join(waves)}")
            wv = df[wave_col].astype(str)
            comp = cem_compare(df[(wv == before).to_numpy()], df[(wv == after).to_numpy()], layout="respondent")
            comp.insert(0, "after_wave", after)
            comp.insert(0, "before_wave", before)
            out["cem_compare"] = comp
    return out


@analysis(42, "drivers")
def run_drivers(con, settings):
    df = _responses(con, ("rating_", "experience_"), ("nps", "satisfaction"))
    if df is None:
        return None
    outcome = "nps" if "nps" in df.columns else ("satisfaction" if "satisfaction" in df.columns else None)
    if outcome is None or sum(str(c).startswith(("rating_", "experience_")) for c in df.columns) < 2:
        return None
    try:
        tabs = driver_tables(df, outcome=outcome)
    except CxValueError:
        return None
    for name, frame in tabs.items():
        write_result(con, name, frame)
    top = tabs["driver_importance"]
    top = top[(top["method"] == "relative_weights") & (top["rank"] == 1)]["driver"].iloc[0]
    return {"outcome": outcome, "r2": round(float(tabs["driver_summary"]["estimate"].iloc[0]), 3), "top": top}


@analysis(44, "cem")
def run_cem(con, settings):
    df = _responses(con, ("experience_", "expectation_", "importance_", "ideal_"), ("wave",))
    if df is None or not any(str(c).startswith("experience_") for c in df.columns):
        return None
    tabs = cem_tables(df)
    for name, frame in tabs.items():
        write_result(con, name, frame)
    g = tabs["cem_gaps"]
    key = g.loc[g["key_rank"] == 1, "dimension"]
    req = g.loc[g["requirement_rank"] == 1, "dimension"]
    return {"key": key.iloc[0] if len(key) else None, "requirement": req.iloc[0] if len(req) else None}


@analysis(46, "csi")
def run_csi(con, settings):
    from .csi import csi_tables, fit_csi
    if not has_table(con, "responses"):
        return None
    from .plspm import TEMPLATES
    r = con.table("responses")
    items = {str(i).lower() for tpl in TEMPLATES.values() for b in tpl["blocks"].values() for i in b}
    items |= {f"rating_{i}" for i in items}
    cols = [c for c in r.columns if str(c).lower() in items or c == "touchpoint"]
    if not cols:
        return None
    df = r.select(*cols).to_pandas()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pls, spec = fit_csi(df, None, n_boot=BOOT_CSI if len(df) <= 20_000 else 0, random_state=0)
    except CxValueError:
        return None
    by = "touchpoint" if "touchpoint" in df.columns else None
    tabs = csi_tables(pls, spec, df, by=by)
    for name, frame in tabs.items():
        write_result(con, name, frame)
    sc = tabs["csi_scores"]
    sat = sc[(sc["lv"] == "SAT") & (sc["segment"] == "all")]
    return {"model": spec["name"], "gof": round(float(pls.gof_), 3),
            "satisfaction_index": round(float(sat["index"].iloc[0]), 1) if len(sat) else None}


@analysis(50, "experience_value")
def run_experience_value(con, settings):
    from .experience_value import ExperienceValue, experience_roi
    if not (has_table(con, "responses") and has_table(con, "transactions")):
        return None
    cols = con.table("responses").columns
    measure = "satisfaction" if "satisfaction" in cols else ("nps" if "nps" in cols else None)
    if measure is None or "customer_id" not in cols:
        return None
    out = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ev = ExperienceValue(measure=measure, n_boot=BOOT_E1, random_state=0).fit(con)
    except CxValueError:
        ev = None
    if ev is not None:
        g = ev.groups_.assign(measure=measure, window_days=ev.window_days, confidence=ev.confidence)
        c = ev.comparison_.assign(measure=measure, window_days=ev.window_days, confidence=ev.confidence,
                                  as_of=ev.as_of_)
        write_result(con, "experience_value", g)
        write_result(con, "experience_value_comparison", c)
        sp = ev.comparison_[(ev.comparison_["segment"] == "all") & (ev.comparison_["metric"] == "spend")]
        if len(sp):
            out["spend_uplift_pct"] = round(100 * float(sp["estimate"].iloc[0]), 1)
        out["customers"] = len(ev.customers_)
    outcome = "nps" if "nps" in cols else "satisfaction"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            roi = experience_roi(con, outcome=outcome, n_boot=BOOT_E2, random_state=0)
    except CxValueError:
        roi = None
    if roi is not None:
        roi = roi.assign(outcome=outcome, surveyed=roi.attrs["surveyed"], base_customers=roi.attrs["base_customers"])
        write_result(con, "experience_roi", roi)
        drv = roi[roi["kind"] == "driver"]
        if len(drv):
            out["top_driver"] = str(drv.sort_values("rank")["item"].iloc[0])
    return out or None
