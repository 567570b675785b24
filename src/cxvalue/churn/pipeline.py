"""Churn in the analysis run (steps "churn prediction", "survival", "churn reasons",
"retention"): each step reads the store, calls the library and returns frames that become store tables. The CLI commands call the same functions.

Tables written:

- ``churn_scores`` — per active customer at the end of the data: ``p_churn``, ``risk_decile``,
  ``main_reason``, ``top_reasons``, ``reason_1..3`` with value and SHAP contribution;
- ``churn_metrics`` (metric, value), ``churn_validation`` (time-aware, per test cut-off),
  ``churn_lift``, ``churn_calibration`` (out-of-time test), ``churn_drivers`` (mean |SHAP|);
- ``churn_survival`` (Kaplan–Meier curves), ``churn_survival_summary``, ``churn_logrank``,
  ``churn_cox``, ``churn_ph_test``;
- ``churn_reasons``, ``churn_voluntary``, ``complaint_impact``;
- ``retention_list``, ``owner_risk``.

The ``analyse_*_file`` functions run the same analyses on a customer-level file (one row per
customer, e.g. the IBM Telco sample) and return frames shaped like the store tables, so that
the CLI and the web render them with the same view (:mod:`cxvalue.interfaces.views.churn`).

Settings read (with defaults): ``churn_definition`` ("auto"), ``churn_horizon_days`` (180),
``churn_active_days`` (365), ``churn_cutoffs`` (3), ``inactivity_days`` (365),
``playbook`` and ``churn_playbook`` (None: the default strategy playbook, docs/strategy.md),
``business_type``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..config import defaults
from ..errors import CxValueError, CxValueWarning
from ..steps import Step, StepResult, StepSkipped, register
from ..store import declare, has_table, read_result
from .data import as_date, data_end, days

COX_MAX_ROWS = 50_000


def options(settings: dict | None = None, **overrides) -> dict:
    """Churn settings: the settings' defaults (cxvalue.config) < ``settings`` < explicit
    (non-None) overrides."""
    out = defaults()
    out.update({k: v for k, v in (settings or {}).items() if v is not None})
    out.update({k: v for k, v in overrides.items() if v is not None})
    return out


def _end(con, o: dict):
    """The analysis date: the ``as_of`` setting, else the store's last activity date."""
    return as_date(o["as_of"], "as_of") if o.get("as_of") is not None else data_end(con)


def analyse_churn(con, settings: dict | None = None, *, cutoffs=None, model=None, dataset=None,
                  **overrides) -> dict[str, pd.DataFrame]:
    """Features and labels at ``churn_cutoffs`` cut-offs spaced by the horizon (the last one a horizon
    before the end of the data), time-aware validation, then a calibrated model on all cut-offs
    scoring every active customer at the end of the data. ``dataset`` reuses features and labels
    built with :func:`~cxvalue.churn.definitions.build_dataset` at ``cutoffs``."""
    from .definitions import build_dataset, default_cutoffs, population, resolve_definition
    from .evaluation import calibration_table, classification_metrics, lift_table
    from .features import feature_frame
    from .prediction import ChurnModel
    o = options(settings, **overrides)
    h = int(o["churn_horizon_days"])
    end = _end(con, o)
    definition = resolve_definition(con, o["churn_definition"], o["business_type"])
    cutoffs = sorted(cutoffs) if cutoffs is not None else default_cutoffs(end, h, int(o["churn_cutoffs"]))
    data = dataset or build_dataset(con, cutoffs, horizon_days=h, definition=definition,
                                    active_days=int(o["churn_active_days"]))
    cutoffs = sorted(pd.Timestamp(c).date() for c in data.cutoff.unique())
    counts = data.cutoff.value_counts()
    cutoffs = [c for c in cutoffs if counts.get(pd.Timestamp(c), 0) >= 20]
    if not cutoffs or data.y.nunique() < 2:
        raise CxValueError("too few customers at risk (or no churners) at the cut-offs to fit a churn model: "
                           "load more history or use a shorter churn_horizon_days")
    model = model or ChurnModel(cv=3)
    out = {}
    test = cutoffs[-1]
    train = [c for c in cutoffs if days(c, h) <= test]
    if train:
        tr = data.cutoff.isin([pd.Timestamp(c) for c in train]).to_numpy()
        te = (data.cutoff == pd.Timestamp(test)).to_numpy()
        held = type(model)(**{**model.get_params(), "cv": None}).fit(data.X[tr], data.y[tr])
        p = held.predict_proba(data.X[te])["p_churn"].to_numpy()
        y = data.y[te].to_numpy()
        met = classification_metrics(y, p)
        out["churn_validation"] = pd.DataFrame([{"test_cutoff": str(test), "train_cutoffs": ", ".join(map(str, train)),
                                                 "n_train": int(tr.sum()), "n_test": int(te.sum()), **met}])
        out["churn_lift"] = lift_table(y, p)
        out["churn_calibration"] = calibration_table(y, p)
    else:
        warnings.warn("only one cut-off: no out-of-time validation (metrics are cross-validated)", CxValueWarning,
                      stacklevel=2)
    cv = model.cv if model.cv and np.bincount(data.y).min() >= (model.cv or 0) * 2 else None
    final = type(model)(**{**model.get_params(), "cv": cv}).fit(data.X, data.y, groups=data.X.index)
    pop = population(con, end, definition=definition, active_days=int(o["churn_active_days"])).to_pandas()
    X = feature_frame(con, end, **_channel_opts(con, data.X))
    X = X.loc[X.index.intersection(pop.customer_id)]
    if X.empty:
        raise CxValueError(f"no active customers at the end of the data {end} to score")
    scores = final.predict_proba(X).join(final.explain(X, top=3))
    scores.insert(1, "risk_decile", pd.qcut(-scores.p_churn.rank(method="first"), 10, labels=False) + 1
                  if len(scores) >= 10 else 1)
    scores["as_of"] = str(end)
    scores.index.name = "customer_id"
    out["churn_scores"] = scores
    out["churn_drivers"] = final.importance_
    summ = final.summary()
    rows = [("definition", definition), ("horizon_days", h), ("as_of", str(end)),
            ("cutoffs", ", ".join(map(str, cutoffs))), ("customers_scored", len(scores)),
            ("mean_p_churn", float(scores.p_churn.mean()))]
    if "churn_validation" in out:
        v = out["churn_validation"].iloc[0]
        rows += [(f"test_{k}", float(v[k])) for k in ("roc_auc", "pr_auc", "brier", "churn_rate")]
    rows += [(k, v) for k, v in summ.items()]
    out["churn_metrics"] = pd.DataFrame({"metric": [r[0] for r in rows], "value": [str(r[1]) for r in rows]})
    return out


def _channel_opts(con, X: pd.DataFrame) -> dict:
    """Channel-share columns fixed to the training columns (same feature set at scoring)."""
    if not has_table(con, "transactions") or "channel" not in con.table("transactions").columns:
        return {}
    t = con.table("transactions")
    shares = [c for c in X.columns if c.startswith("channel_share_")]
    vals = t.select("channel").distinct().to_pandas().channel.dropna().tolist()
    from .features import _safe
    by_safe = {_safe(v): v for v in vals}
    return {"channels": [by_safe[c[len("channel_share_"):]] for c in shares if c[len("channel_share_"):] in by_safe]}


#: time unit of the store's survival analysis (durations in months)
SURVIVAL_UNIT = "month"


def _km_frames(sa) -> dict[str, pd.DataFrame]:
    """The Kaplan–Meier results as tables: curves, one row per group (customers, events, median
    and Ŝ(t) with intervals) and log-rank tests (the overall test first, as group pair
    ``(all)``, then the pairwise tests)."""
    out = {"churn_survival": sa.curves_, "churn_survival_summary": sa.groups_}
    if sa.logrank_:
        overall = {"group_a": "(all)", "group_b": "(all)",
                   **{k: sa.logrank_[k] for k in ("test_statistic", "p", "degrees_of_freedom")}}
        out["churn_logrank"] = pd.concat([pd.DataFrame([overall]), sa.pairwise_], ignore_index=True)
    return out


def analyse_survival(con, settings: dict | None = None, *, by: str | None = "segment", times=(6, 12, 24, 36),
                     **overrides) -> dict[str, pd.DataFrame]:
    """Kaplan–Meier by ``by`` (months; Ŝ at ``times``), log-rank tests and a Cox model on profile covariates."""
    from .survival import CoxModel, SurvivalAnalysis, survival_frame
    o = options(settings, **overrides)
    sf = survival_frame(con, as_of=o.get("as_of"), inactivity_days=int(o["inactivity_days"]),
                        business_type=o["business_type"], unit=SURVIVAL_UNIT)
    if by is not None and by not in sf.columns:
        by = None
    sa = SurvivalAnalysis(by=by, times=times).fit(sf, duration_col="duration", event_col="event")
    out = _km_frames(sa)
    covs = [c for c in ("segment", "vip", "acquisition_channel") if c in sf.columns and sf[c].nunique() > 1]
    if covs and sf.event.sum() >= 10:
        # hazard ratios are estimated to ample precision on COX_MAX_ROWS customers (seeded sample)
        cox_data = sf.sample(COX_MAX_ROWS, random_state=0) if len(sf) > COX_MAX_ROWS else sf
        cox = CoxModel(covariates=covs).fit(cox_data, duration_col="duration", event_col="event")
        out["churn_cox"], out["churn_ph_test"] = cox.summary_, cox.ph_test_
    return out


def analyse_reasons(con, settings: dict | None = None, **overrides) -> dict[str, pd.DataFrame]:
    """Reason distribution and voluntary share (churn events), and complaint impact (complaints)."""
    from .reasons import churn_reasons, complaint_impact
    o = options(settings, **overrides)
    out = {}
    if has_table(con, "churn_events"):
        r = churn_reasons(con, as_of=o.get("as_of"))
        out["churn_reasons"], out["churn_voluntary"] = r["reasons"], r["voluntary"]
    if has_table(con, "complaints") and has_table(con, "transactions"):
        out["complaint_impact"] = complaint_impact(con, as_of=o.get("as_of"), inactivity_days=int(o["inactivity_days"]),
                                                   business_type=o["business_type"])
    return out


def analyse_retention(con, settings: dict | None = None, *, scores: pd.DataFrame | None = None, playbook=None,
                      follow_probability: float | None = None, **overrides) -> dict[str, pd.DataFrame]:
    """Value at risk and the ranked retention list (needs ``churn_scores``), and the value at risk
    per salesperson when customers have an owner. The actions come from the strategy playbook
    (settings ``playbook`` then ``churn_playbook``, then ``playbook`` given here: a whole playbook
    or its retention part); with the value matrix in the store (``customer_value``) the list also
    carries each customer's strategy, lifecycle stage and play (:func:`cxvalue.loop.playbook.customer_plays`)."""
    from ..loop.playbook import customer_plays, load_playbook
    from ..value.customer_value import customer_values
    from .owners import estimate_follow_probability, owners_of
    from .retention import retention_list
    o = options(settings, **overrides)
    if scores is None:
        scores = read_result(con, "churn_scores")
        if scores is None:
            raise CxValueError("no churn scores in the store: run `cxvalue churn` first")
        scores = scores.set_index("customer_id")
    pb = load_playbook(o.get("playbook"), o.get("churn_playbook"), playbook)
    values = customer_values(con, as_of=o.get("as_of"))
    owners = owners_of(con)
    plays = None
    if has_table(con, "customer_value"):
        plays = customer_plays(con, pb).to_pandas().set_index("customer_id")
        plays.index = plays.index.astype(str)
    out = {"retention_list": retention_list(scores, values, playbook=pb, owners=owners, plays=plays,
                                            **_uplift_inputs(con, o))}
    if owners is not None:
        source = "given"
        if follow_probability is None:
            follow_probability = estimate_follow_probability(con)
            source = "estimated" if follow_probability is not None else "assumed"
        out["owner_risk"] = _owner_risk(values.reindex(scores.index), owners.reindex(scores.index), scores,
                                        1.0 if follow_probability is None else follow_probability, source)
    return out


def _uplift_inputs(con, o: dict) -> dict:
    """The retention list's uplift arguments from the store's ``uplift_scores`` (none: {}): the
    predictions, the offer cost (setting ``offer_cost``, else the mean ``offer_cost`` of the
    campaign's treated customers, else 0) and whether the campaign's outcome was an amount."""
    scores = read_result(con, "uplift_scores")
    if scores is None or scores.empty:
        return {}
    m = read_result(con, "uplift_summary")
    m = dict(zip(m.metric, m.value)) if m is not None else {}
    cost = o.get("offer_cost")
    if cost is None and has_table(con, "campaigns") and "offer_cost" in con.table("campaigns").columns:
        c = con.table("campaigns")
        mean = c.filter((c.campaign == str(m.get("campaign", ""))) & c.treated).offer_cost.mean().execute()
        cost = float(mean) if mean is not None and pd.notna(mean) else None
    return {"uplift": scores.set_index(scores.customer_id.astype(str)), "offer_cost": float(cost or 0.0),
            "uplift_amount": m.get("outcome_kind") == "amount"}


def _owner_risk(values, owners, scores, follow_probability: float, source: str) -> pd.DataFrame:
    """:func:`~cxvalue.churn.owners.owner_concentration` with the follow probability, where it
    came from (given, estimated from churn events, or assumed 1) and the concentration index
    as columns (frame attributes do not survive the store)."""
    from .owners import owner_concentration
    risk = owner_concentration(values, owners, scores=scores, follow_probability=follow_probability)
    risk["follow_probability"] = follow_probability
    risk["follow_probability_source"] = source
    risk["hhi"] = risk.attrs["hhi"]
    return risk


# --------------------------------------------------------------------------- flat customer-level files
def _flat(data) -> tuple[pd.DataFrame, str]:
    """A customer-level DataFrame (given, or read from a file path) and its name."""
    from pathlib import Path

    from .data import read_flat_file
    if isinstance(data, pd.DataFrame):
        return data, "data"
    return read_flat_file(data), Path(data).name


def identifier_columns(X: pd.DataFrame) -> list[str]:
    """Columns that identify a row rather than describe a customer: text with a distinct value
    for more than half of the rows (a surname, an e-mail), or whole numbers distinct on every row
    and in file order (a row number). As features they fit noise (a surname was the 5th most
    important feature of a bank-churn file and cost 0.007 AUC)."""
    out = []
    n = len(X)
    for c in X.columns:
        s = X[c].dropna()
        if n < 20 or s.empty:
            continue
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            if s.nunique() > 0.5 * n:
                out.append(c)
        elif pd.api.types.is_integer_dtype(s) and s.nunique() == n and s.is_monotonic_increasing:
            out.append(c)
    return out


def _without_identifiers(X: pd.DataFrame, kept: set) -> tuple[pd.DataFrame, list]:
    """``X`` without its :func:`identifier_columns` (except ``kept``), said in a warning."""
    ids = [c for c in identifier_columns(X) if c not in kept]
    if ids:
        warnings.warn(f"left out {len(ids)} column(s) that identify rows rather than describe customers: "
                      f"{', '.join(map(str, ids))} (distinct text for most rows, or a row number); keep one with "
                      f"--keep COLUMN", CxValueWarning, stacklevel=3)
        X = X.drop(columns=ids)
    return X, ids


def analyse_churn_file(data, *, target: str, id_col: str | None = None, drop=(), folds: int = 5,
                       model=None, keep=()) -> dict:
    """A churn model on a customer-level file or DataFrame with an outcome column (Yes/No, 1/0,
    true/false; e.g. Telco ``Churn``): ``folds``-fold cross-validated, out-of-fold calibrated
    probabilities for every customer, their top reasons, lift, calibration and drivers.

    Returns frames shaped like the store tables — ``churn_metrics`` (metric, value),
    ``churn_folds`` (metrics per fold), ``churn_cv_summary`` (their mean with a t interval), ``churn_lift``, ``churn_calibration`` (out of fold),
    ``churn_drivers``, ``churn_scores`` (highest risk first, with the observed ``churned``) —
    and ``info`` (source, target, id column, dropped columns)."""
    from .data import column, id_column, parse_event
    from .evaluation import calibration_table, lift_table
    from .prediction import ChurnModel
    df, source = _flat(data)
    tcol = column(df, target, "--target")
    if tcol is None:
        raise CxValueError("target: expected the outcome column (Yes/No, 1/0 or true/false)")
    icol = id_column(df, id_col)
    y = parse_event(df[tcol], tcol)
    dropped = [column(df, d, "--drop") for d in drop]
    X = df.drop(columns=[tcol] + ([icol] if icol else []) + dropped)
    X, ids = _without_identifiers(X, {column(df, k, "--keep") for k in keep})
    dropped += ids
    if icol:
        X.index = df[icol].astype(str)
    X.index.name = "customer_id"
    model = model or ChurnModel(cv=folds)
    model.fit(X, y)
    oof = model.oof_
    scores = oof.join(model.explain(X, top=3)).sort_values("p_churn", ascending=False, kind="stable")
    rows = [("source", source), ("target", tcol), ("customers_scored", int(len(X))), ("dropped", ", ".join(dropped)),
            ("folds", int(model.cv)), ("mean_p_churn", float(oof.p_churn.mean())), *model.summary().items()]
    return {"churn_metrics": pd.DataFrame({"metric": [r[0] for r in rows], "value": [r[1] for r in rows]}),
            "churn_folds": model.cv_results_, "churn_cv_summary": model.summary_,
            "churn_lift": lift_table(oof.churned, oof.p_churn),
            "churn_calibration": calibration_table(oof.churned, oof.p_churn), "churn_drivers": model.importance_,
            "churn_scores": scores,
            "info": {"source": source, "target": tcol, "id_column": icol, "dropped": dropped}}


def analyse_survival_file(data, *, duration: str, event: str, by: str | None = None,
                          times=(12, 24, 36, 48, 60, 72), cox: bool = False, covariates=None) -> dict:
    """Kaplan–Meier (by ``by``), log-rank tests and optionally a Cox model on a customer-level file
    or DataFrame with a duration and an event column. Returns frames shaped like the store tables
    (``churn_survival``, ``churn_survival_summary``, ``churn_logrank``, ``churn_cox``,
    ``churn_ph_test``) and ``info`` (source, columns, Cox concordance and the leaky columns left out)."""
    from .data import id_column
    from .survival import CoxModel, SurvivalAnalysis
    df, source = _flat(data)
    sa = SurvivalAnalysis(by=by, times=times).fit(df, duration_col=duration, event_col=event)
    out = _km_frames(sa)
    info = {"source": source, "duration": duration, "event": event, "by": by, "unit": None}
    if cox:
        icol = id_column(df)
        cm = CoxModel(covariates=list(covariates) if covariates else None,
                      exclude=[c for c in (icol,) if c]).fit(df, duration_col=duration, event_col=event)
        out["churn_cox"], out["churn_ph_test"] = cm.summary_, cm.ph_test_
        info.update(concordance=cm.concordance_, excluded=list(cm.excluded_))
    out["info"] = info
    return out


def analyse_retention_file(data, *, playbook=None, follow_probability: float | None = None) -> dict:
    """The ranked retention list from a file or DataFrame of scores: a customer id, ``p_churn`` and
    ``value`` (or ``clv``) per customer, optionally ``main_reason``, ``top_reasons`` and ``owner``
    (then also the value at risk per owner, with ``follow_probability``, default 1)."""
    from .data import column, id_column
    from .retention import retention_list
    df, source = _flat(data)
    icol = id_column(df)
    if icol is None:
        raise CxValueError(f"{source}: no customer id column (customer_id, customerID, ...)")
    df = df.set_index(df[icol].astype(str).rename("customer_id"))
    pcol = column(df, "p_churn", "p_churn")
    vcol = next((c for c in df.columns if str(c).lower() in ("value", "clv")), None)
    if vcol is None:
        raise CxValueError(f"{source}: expected a value or clv column (the customer's value)")
    scores = df.rename(columns={pcol: "p_churn"})
    values = df[[vcol]].rename(columns={vcol: "value"}).assign(value_source=str(vcol).lower())
    owners = df["owner"] if "owner" in df.columns else None
    out = {"retention_list": retention_list(scores, values, playbook=playbook, owners=owners),
           "info": {"source": source}}
    if owners is not None and owners.notna().any():
        fp, src = (1.0, "assumed") if follow_probability is None else (follow_probability, "given")
        out["owner_risk"] = _owner_risk(values, owners, scores, fp, src)
    return out


# --------------------------------------------------------------------------- uplift (campaigns)
def _uplift_frames(model, source: dict) -> dict[str, pd.DataFrame]:
    """The result frames of a fitted :class:`~cxvalue.churn.uplift.UpliftModel`: ``uplift_summary``
    (metric, value), ``uplift_qini``, ``uplift_deciles``, ``uplift_segments`` (held-out groups)."""
    a, q, oof = model.ate_, model.qini_, model.oof_
    rows = {**source, "learner": model.learner, "folds": int(model.folds), "customers": int(len(oof)),
            "n_treated": a["n_treated"], "n_control": a["n_control"], "outcome_kind": "binary" if model.binary_ else "amount",
            "mean_treated": a["mean_treated"], "mean_control": a["mean_control"], "ate": a["estimate"],
            "ate_std_error": a["std_error"], "ate_ci_low": a["ci_low"], "ate_ci_high": a["ci_high"], "ate_p": a["p"],
            "confidence": float(model.confidence), "mean_predicted_uplift": float(oof.uplift.mean()),
            "qini_coefficient": q["coefficient"], "qini_normalised": q["normalised"], "qini_p_random": q["p_random"],
            "qini_random_p95": q["random_p95"], "permutations": q["permutations"], "threshold": model.threshold_}
    from .uplift import SEGMENTS
    seg = oof.groupby("segment").agg(customers=("uplift", "size"), mean_uplift=("uplift", "mean"),
                                     mean_p_control=("p_control", "mean")).reindex(list(SEGMENTS)).fillna(
        {"customers": 0}).reset_index()
    seg["share"] = seg.customers / max(len(oof), 1)
    return {"uplift_summary": pd.DataFrame({"metric": list(rows), "value": [str(v) for v in rows.values()]}),
            "uplift_qini": model.qini_curve_, "uplift_deciles": model.deciles_, "uplift_segments": seg}


def analyse_uplift_file(data, *, treatment: str, outcome: str, treated: str | None = None, control: str | None = None,
                        id_col: str | None = None, drop=(), keep=(), model=None) -> dict:
    """Uplift of a campaign from a customer-level file or DataFrame: one row per customer with a
    ``treatment`` column (the arm: ``treated`` / ``control`` values, or 1/0, true/false), the
    ``outcome`` (1/0, Yes/No or an amount) and features. Rows in neither arm are left out (a
    warning says how many). Returns the frames of :func:`_uplift_frames`, ``uplift_scores`` (the
    held-out uplift, expected outcomes and segment of every customer, highest uplift first) and
    ``info``."""
    from .data import column, id_column, parse_event
    from .uplift import UpliftModel
    df, source = _flat(data)
    tcol, ycol = column(df, treatment, "--treatment"), column(df, outcome, "--outcome")
    arm = df[tcol]
    if treated is not None or control is not None:
        if treated is None or control is None:
            raise CxValueError("give both --treated and --control (the values of the two arms), or neither")
        text = arm.astype("string").str.strip()
        t = pd.Series(np.where(text == str(treated).strip(), 1.0, np.where(text == str(control).strip(), 0.0, np.nan)),
                      index=df.index)
        for v, flag in ((treated, "--treated"), (control, "--control")):
            if not (text == str(v).strip()).any():
                seen = ", ".join(map(repr, text.dropna().unique()[:6]))
                raise CxValueError(f"{flag} {v!r}: no row of {tcol!r} has that value (values: {seen})")
    else:
        t = pd.Series(parse_event(arm, tcol).astype(float), index=df.index)
    out_of_arms = int(t.isna().sum())
    if out_of_arms:
        warnings.warn(f"left out {out_of_arms} row(s) of {tcol!r} in neither arm", CxValueWarning, stacklevel=2)
    df, t = df[t.notna()], t[t.notna()]
    yv = df[ycol]
    y = (parse_event(yv, ycol).astype(float) if not pd.api.types.is_numeric_dtype(yv) or set(yv.dropna().unique()) <= {0, 1}
         else pd.to_numeric(yv, errors="coerce").to_numpy(dtype=float))
    icol = id_column(df, id_col)
    dropped = [column(df, d, "--drop") for d in drop]
    X = df.drop(columns=[tcol, ycol] + ([icol] if icol else []) + dropped)
    X, ids = _without_identifiers(X, {column(df, k, "--keep") for k in keep})
    X.index = df[icol].astype(str) if icol else pd.Index([str(i + 2) for i in range(len(df))])
    X.index.name = "customer_id"
    model = (model or UpliftModel()).fit(X, t.to_numpy(), y)
    frames = _uplift_frames(model, {"source": source, "treatment": tcol, "outcome": ycol})
    frames["uplift_scores"] = model.oof_.sort_values("uplift", ascending=False, kind="stable")
    frames["info"] = {"source": source, "treatment": tcol, "outcome": ycol, "id_column": icol,
                      "dropped": dropped + ids, "out_of_arms": out_of_arms}
    return frames


def analyse_uplift(con, settings: dict | None = None, *, campaign: str | None = None, model=None,
                   **overrides) -> dict[str, pd.DataFrame]:
    """Uplift of a campaign in the store's ``campaigns`` table (default: the setting
    ``uplift_campaign``, else the campaign sent last): the churn features of its customers on the
    day before it was sent, the learners of :class:`~cxvalue.churn.uplift.UpliftModel` validated
    on held-out folds, then every customer known at the as-of date scored with the same features
    then (``uplift_scores``: uplift, expected outcome with and without the offer, segment)."""
    from .features import feature_frame
    from .uplift import UpliftModel
    o = options(settings, **overrides)
    if not has_table(con, "campaigns"):
        raise CxValueError("no campaigns in the store: load them with `cxvalue load campaigns FILE`")
    c = con.table("campaigns")
    campaign = campaign or o.get("uplift_campaign")
    names = c.group_by("campaign").aggregate(sent=c.date.min(), n=c.count()).order_by("sent").to_pandas()
    if names.empty:
        raise CxValueError("the campaigns table is empty")
    if campaign is None:
        campaign = names.campaign.iloc[-1]
    elif campaign not in set(names.campaign.astype(str)):
        raise CxValueError(f"campaign {campaign!r} is not in the store: expected one of "
                           f"{', '.join(map(str, names.campaign))}")
    rows = c.filter(c.campaign == campaign).select("customer_id", "treated", "outcome", "date").to_pandas()
    sent = as_date(pd.to_datetime(rows.date).min().date(), "date")
    X = feature_frame(con, days(sent, -1))
    known = rows.customer_id.astype(str).isin(X.index)
    if not known.all():
        warnings.warn(f"campaign {campaign!r}: {int((~known).sum())} customer(s) unknown before the send date were "
                      f"left out", CxValueWarning, stacklevel=2)
    rows = rows[known]
    model = (model or UpliftModel()).fit(X.loc[rows.customer_id.astype(str)], rows.treated.astype(bool).to_numpy(),
                                         rows.outcome.to_numpy(dtype=float))
    end = _end(con, o)
    now = feature_frame(con, end, **_channel_opts(con, X))
    scores = model.predict(now.reindex(columns=X.columns)).assign(campaign=campaign, as_of=end)
    scores.index.name = "customer_id"
    frames = _uplift_frames(model, {"campaign": campaign, "sent": str(sent), "as_of": str(end)})
    frames["uplift_scores"] = scores.sort_values("uplift", ascending=False, kind="stable")
    return frames


declare("churn_scores", key=("customer_id",), columns=("p_churn", "risk_decile", "main_reason", "as_of"),
        doc="Churn probability, risk decile and top reasons per active customer at the as-of date.")
declare("churn_metrics", key=("metric",), columns=("value",), doc="Definition, horizon, cut-offs and test metrics.")
declare("churn_validation", doc="Out-of-time validation per test cut-off.")
declare("churn_lift", doc="Lift by risk decile on the out-of-time test.")
declare("churn_calibration", doc="Predicted vs observed churn on the out-of-time test.")
declare("churn_drivers", doc="Mean |SHAP| per feature.")
declare("churn_survival", doc="Kaplan–Meier curves (months) per group.")
declare("churn_survival_summary", doc="Customers, events and survival at fixed times per group.")
declare("churn_logrank", doc="Log-rank tests: overall and pairwise.")
declare("churn_cox", doc="Cox model hazard ratios.")
declare("churn_ph_test", doc="Proportional-hazards test of the Cox model.")
declare("churn_reasons", doc="Churn reasons from churn events.")
declare("churn_voluntary", doc="Voluntary vs involuntary churn share.")
declare("complaint_impact", key=("status",), columns=("hazard_ratio",), doc="Churn hazard by complaint status.")
declare("retention_list", key=("customer_id",), columns=("p_churn", "value_at_risk"),
        doc="Customers ranked by value at risk with the playbook action.")
declare("owner_risk", doc="Value at risk per salesperson (customer owner).")
declare("uplift_summary", key=("metric",), columns=("value",),
        doc="Uplift of a campaign: ATE with its interval, Qini coefficient (held out) and its p vs random.")
declare("uplift_qini", columns=("share_targeted", "incremental", "random"), doc="Qini curve of the held-out uplift.")
declare("uplift_deciles", key=("decile",), columns=("predicted", "observed"),
        doc="Observed vs predicted uplift per decile of predicted uplift (held out).")
declare("uplift_segments", key=("segment",), columns=("customers", "share"),
        doc="Persuadables, sure things, lost causes and do-not-disturbs of the campaign (held out).")
declare("uplift_scores", key=("customer_id",), columns=("uplift", "p_treated", "p_control", "segment"),
        doc="Predicted uplift of the offer for every customer at the as-of date.")

ACTIVITY = (("transactions", "subscriptions"),)


def _churn(session) -> StepResult:
    res = analyse_churn(session.con, session.settings, as_of=session.as_of)
    m = dict(zip(res["churn_metrics"].metric, res["churn_metrics"].value))
    return StepResult(res, {"customers_scored": int(m["customers_scored"]),
                            "test_auc": float(m.get("test_roc_auc", "nan")), "mean_p_churn": float(m["mean_p_churn"])})


def _survival(session) -> StepResult:
    res = analyse_survival(session.con, session.settings, as_of=session.as_of)
    s = res["churn_survival_summary"]
    return StepResult(res, {"groups": int(len(s)), "customers": int(s.customers.sum()), "events": int(s.events.sum())})


def _reasons(session) -> StepResult:
    res = analyse_reasons(session.con, session.settings, as_of=session.as_of)
    if not res:
        raise StepSkipped("needs churn_events, or complaints with transactions")
    out = {}
    if "churn_voluntary" in res:
        out["voluntary_share"] = float(res["churn_voluntary"].voluntary_share.iloc[0])
    if "complaint_impact" in res:
        ci = res["complaint_impact"].set_index("status")
        out["hr_unresolved"] = float(ci.hazard_ratio.get("unresolved", np.nan))
    return StepResult(res, out)


def _retention(session) -> StepResult:
    res = analyse_retention(session.con, session.settings, as_of=session.as_of)
    rl = res["retention_list"]
    return StepResult(res, {"customers": int(len(rl)), "value_at_risk": float(rl.value_at_risk.sum())})


register(Step("churn prediction", _churn, needs=ACTIVITY,
              writes=("churn_scores", "churn_metrics", "churn_validation", "churn_lift", "churn_calibration",
                      "churn_drivers"), domain="churn", doc="Leakage-free churn labels and a calibrated model."))
register(Step("survival", _survival, needs=ACTIVITY,
              writes=("churn_survival", "churn_survival_summary", "churn_logrank", "churn_cox", "churn_ph_test"),
              domain="churn", doc="Kaplan–Meier, log-rank and Cox."))
register(Step("churn reasons", _reasons, needs=(), writes=("churn_reasons", "churn_voluntary", "complaint_impact"),
              domain="churn", doc="Churn reasons and complaint impact."))
def _uplift(session) -> StepResult:
    res = analyse_uplift(session.con, session.settings, as_of=session.as_of)
    m = dict(zip(res["uplift_summary"].metric, res["uplift_summary"].value))
    return StepResult(res, {"campaign": str(m["campaign"]), "ate": float(m["ate"]),
                            "qini": float(m["qini_coefficient"]), "customers_scored": int(len(res["uplift_scores"]))})


register(Step("uplift", _uplift, needs=("campaigns", ACTIVITY[0]), writes=("uplift_summary", "uplift_qini", "uplift_deciles",
                                                                        "uplift_segments", "uplift_scores"),
              domain="churn", doc="Uplift of the last retention campaign (T-/X-learner, Qini) for every customer."))
register(Step("retention", _retention, needs=("churn_scores",), writes=("retention_list", "owner_risk"),
              uses=("customer_value", "lifecycle", "uplift_scores"), domain="churn",
              doc="Retention list (playbook actions, strategy and play per customer) and value at risk per owner."))
