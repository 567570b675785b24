"""Perception analyses over the store (steps "drivers", "cem", "csi", "experience value"). Result tables:

* ``driver_importance`` (step "drivers") — :class:`~cxvalue.perception.drivers.KeyDriverAnalysis` of
  the NPS answer (else satisfaction) on the follow-up ratings (``rating_*``, else
  ``experience_*``), both methods, 200 bootstrap replicates: ``method``, ``driver``,
  ``importance``, ``share``, ``ci_low``, ``ci_high``, ``share_ci_low``,
  ``share_ci_high``, ``rank``, ``performance``, ``n``, ``quadrant``, ``outcome``;
  ``driver_summary``: R² (with interval), rows used, drivers.
* ``cem_gaps`` (step "cem") — :func:`~cxvalue.perception.cem.cem_summary` over all answers;
  ``cem_compare``: :func:`~cxvalue.perception.cem.cem_compare` of the last two survey
  waves (``before_wave``, ``after_wave`` columns added).
* ``csi_scores`` / ``csi_paths`` / ``csi_model`` (step "csi") — the satisfaction index model that
  fits the responses' columns (:func:`~cxvalue.perception.csi.resolve_model`), see
  :func:`~cxvalue.perception.analyses.csi_analysis`.
* ``experience_value`` / ``experience_value_comparison`` / ``experience_roi`` (step "experience value") — E1
  (:class:`~cxvalue.perception.experience_value.ExperienceValue`, satisfaction groups
  when answered, else NPS classes) and E2
  (:func:`~cxvalue.perception.roi.experience_roi`), see
  :func:`~cxvalue.perception.analyses.experience_value_analysis`.
"""
from __future__ import annotations

import warnings

import pandas as pd

from ..errors import CxValueError, CxValueWarning
from ..steps import Step, StepResult, StepSkipped, register
from ..store import declare, has_table
from .analyses import _ev_frames, _outcome, _roi_frame, cem_tables, csi_analysis, driver_tables

__all__ = ["run_drivers", "run_cem", "run_csi", "run_experience_value", "driver_tables", "cem_tables"]

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


declare("driver_importance", key=("method", "driver"),
        columns=("importance", "share", "share_ci_low", "share_ci_high", "rank", "performance", "quadrant", "outcome"),
        doc="Key driver importance (relative weights, Shapley) with bootstrap intervals and IPA quadrants.")
declare("driver_summary", columns=("parameter", "estimate", "outcome"), doc="R² of the driver model and its interval.")
declare("cem_gaps", key=("dimension",), columns=("experience", "gap", "key_rank", "requirement_rank"),
        doc="CEM experience, expectation and gaps per dimension.")
declare("cem_compare", columns=("before_wave", "after_wave", "dimension", "measure", "change", "p_value"),
        doc="CEM measures of the last two survey waves compared.")
declare("csi_scores", columns=("model", "lv", "segment", "index", "r_squared", "gof"),
        doc="Satisfaction index (PLS-PM) scores per latent variable and segment.")
declare("csi_paths", columns=("relationship", "from", "to", "estimate", "ci_low", "ci_high"),
        doc="Path coefficients of the satisfaction index model.")
declare("csi_model", columns=("model", "lv", "item", "weight", "loading", "label_en", "label_zh"),
        doc="The satisfaction index model: constructs, their indicators, outer weights and loadings.")
declare("csi_reliability", columns=("model", "lv", "cronbach_alpha", "rho_a", "rho_c", "ave"),
        doc="Satisfaction index model: reliability and convergent validity of each construct.")
declare("csi_discriminant", columns=("model", "lv_a", "lv_b", "htmt", "correlation", "fornell_larcker_ok"),
        doc="Satisfaction index model: discriminant validity (HTMT, Fornell-Larcker) of each pair of constructs.")
declare("csi_structural", columns=("model", "from", "to", "vif", "f_squared"),
        doc="Satisfaction index model: collinearity (VIF) and effect size (f²) of each path.")
declare("csi_predict", columns=("model", "lv", "item", "q2_predict", "rmse_pls", "rmse_lm"),
        doc="Satisfaction index model: out-of-sample prediction (PLSpredict) of each endogenous indicator.")
declare("csi_fit", columns=("model", "srmr", "n", "tol"), doc="Satisfaction index model: SRMR and fit settings.")
declare("kano_features", key=("feature",), columns=("n", "category", "significant", "better", "worse"),
        doc="Kano classification of each feature asked as a functional / dysfunctional question pair.")
declare("experience_value", columns=("segment", "group", "metric", "estimate", "ci_low", "ci_high", "n", "measure"),
        doc="E1: spend and retention of customers per satisfaction group after the survey.")
declare("experience_value_comparison", columns=("metric", "kind", "estimate", "ci_low", "ci_high", "as_of"),
        doc="E1: high vs low satisfaction groups compared.")
declare("experience_roi", key=("kind", "item"), columns=("coefficient", "mean_gap", "nps_change", "value", "rank"),
        doc="E2: value of closing each experience gap.")


def run_drivers(session) -> StepResult:
    df = _responses(session.con, ("rating_", "experience_"), ("nps", "satisfaction"))
    if df is None:
        raise StepSkipped("responses has no rating_* or experience_* columns")
    outcome = _outcome(df.columns)
    if outcome is None or sum(str(c).startswith(("rating_", "experience_")) for c in df.columns) < 2:
        raise StepSkipped("drivers need an nps or satisfaction column and at least two rating_* / experience_* columns")
    tabs = driver_tables(df, outcome=outcome)
    top = tabs["driver_importance"]
    top = top[(top["method"] == "relative_weights") & (top["rank"] == 1)]["driver"].iloc[0]
    return StepResult(tabs, {"outcome": outcome, "r2": float(tabs["driver_summary"]["estimate"].iloc[0]), "top": top})


def run_cem(session) -> StepResult:
    df = _responses(session.con, ("experience_", "expectation_", "importance_", "ideal_"), ("wave",))
    if df is None or not any(str(c).startswith("experience_") for c in df.columns):
        raise StepSkipped("responses has no experience_* columns (CEM needs experience and expectation ratings)")
    tabs = cem_tables(df)
    g = tabs["cem_gaps"]
    key = g.loc[g["key_rank"] == 1, "dimension"]
    req = g.loc[g["requirement_rank"] == 1, "dimension"]
    return StepResult(tabs, {"key": key.iloc[0] if len(key) else None, "requirement": req.iloc[0] if len(req) else None})


def run_csi(session) -> StepResult:
    from .plspm import TEMPLATES
    r = session.con.table("responses")
    items = {str(i).lower() for tpl in TEMPLATES.values() for b in tpl["blocks"].values() for i in b}
    items |= {f"rating_{i}" for i in items}
    cols = [c for c in r.columns if str(c).lower() in items or c == "touchpoint"]
    if not cols:
        raise StepSkipped("responses has none of the items of a satisfaction index template (docs/perception.md)")
    df = r.select(*cols).to_pandas()
    from ..io.load import declared_scales
    tabs = csi_analysis(df, n_boot=BOOT_CSI if len(df) <= 20_000 else 0, random_state=0,
                        by="touchpoint" if "touchpoint" in df.columns else None,
                        declared=declared_scales(session.con, "responses"))
    sc = tabs["csi_scores"]
    sat = sc[(sc["lv"] == "SAT") & (sc["segment"] == "all")]
    return StepResult(tabs, {"model": str(sc["model"].iloc[0]), "gof": float(sc["gof"].iloc[0]),
                             "satisfaction_index": float(sat["index"].iloc[0]) if len(sat) else None})


def run_experience_value(session) -> StepResult:
    from . import ExperienceValue, experience_roi
    con = session.con
    cols = con.table("responses").columns
    measure = "satisfaction" if "satisfaction" in cols else ("nps" if "nps" in cols else None)
    if measure is None or "customer_id" not in cols:
        raise StepSkipped("responses needs customer_id and a satisfaction or nps column")
    out, summary = {}, {}
    try:
        ev = ExperienceValue(measure=measure, n_boot=BOOT_E1, random_state=0).fit(con, as_of=session.as_of)
    except CxValueError as exc:
        warnings.warn(f"experience value (E1) not computed: {exc}", CxValueWarning, stacklevel=2)
        ev = None
    if ev is not None:
        out.update(_ev_frames(ev, measure))
        sp = ev.comparison_[(ev.comparison_["segment"] == "all") & (ev.comparison_["metric"] == "spend")]
        if len(sp):
            summary["spend_uplift_pct"] = 100 * float(sp["estimate"].iloc[0])
        summary["customers"] = len(ev.customers_)
    outcome = "nps" if "nps" in cols else "satisfaction"
    try:
        roi = experience_roi(con, outcome=outcome, n_boot=BOOT_E2, random_state=0, as_of=session.as_of)
    except CxValueError as exc:
        warnings.warn(f"value of closing the gaps (E2) not computed: {exc}", CxValueWarning, stacklevel=2)
        roi = None
    if roi is not None:
        out["experience_roi"] = _roi_frame(roi, outcome)
        drv = roi[roi["kind"] == "driver"]
        if len(drv):
            summary["top_driver"] = str(drv.sort_values("rank")["item"].iloc[0])
    if not out:
        raise StepSkipped("neither E1 nor E2 could be computed (see the warnings)")
    return StepResult(out, summary)


register(Step("drivers", run_drivers, needs=("responses",), writes=("driver_importance", "driver_summary"),
              domain="perception", doc="Key driver analysis (relative weights, Shapley) and IPA quadrants."))
register(Step("cem", run_cem, needs=("responses",), writes=("cem_gaps", "cem_compare"), domain="perception",
              doc="CEM experience gaps and wave comparison."))
register(Step("csi", run_csi, needs=("responses",), writes=("csi_scores", "csi_paths", "csi_model", "csi_reliability", "csi_discriminant",
                                                 "csi_structural", "csi_predict", "csi_fit"), domain="perception",
              doc="Satisfaction index (PLS path model)."))
def run_kano(session) -> StepResult:
    from .kano import find_kano_pairs
    r = session.con.table("responses")
    pairs = find_kano_pairs(r.columns)
    if not pairs:
        raise StepSkipped("responses has no Kano question pairs (kano_<feature>_functional / _dysfunctional)")
    df = r.select(*[c for p in pairs.values() for c in p]).to_pandas()
    from .analyses import kano_analysis
    tabs = kano_analysis(df, pairs=pairs)
    k = tabs["kano_features"]
    return StepResult(tabs, {"features": int(len(k)), "must_be": int((k["category"] == "M").sum()),
                             "attractive": int((k["category"] == "A").sum())})


register(Step("kano", run_kano, needs=("responses",), writes=("kano_features",), domain="perception",
              doc="Kano classification of feature question pairs."))
register(Step("experience value", run_experience_value, needs=("responses", "transactions"),
              writes=("experience_value", "experience_value_comparison", "experience_roi"),
              uses=("customer_value",), domain="perception", doc="E1 and E2: the value of experience."))
