"""CLI commands for churn: ``cxvalue churn``, ``cxvalue survival``, ``cxvalue retention``.

Each works on the store (runs the analysis, writes its tables, prints the result) or directly on
a file: a customer-level file (one row per customer, e.g. the IBM Telco sample) read with pandas.
``--json`` prints machine-readable output. The commands only parse options and render; the
numbers come from the library (:mod:`cxvalue.churn`)."""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import console, err_console, print_frame
from ....errors import CxValueError


def _records(df) -> list:
    return json.loads(df.to_json(orient="records", force_ascii=False, date_format="iso"))


def _emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str, indent=2))


def _split(s: str | None) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()] if s else []


def _show_warnings(caught, as_json: bool) -> list[str]:
    msgs = [f"{w.category.__name__}: {w.message}" for w in caught]
    if not as_json:
        for m in msgs:
            err_console.print(f"[yellow]{m}")
    return msgs


@app.command()
def churn(file: Optional[Path] = typer.Argument(None, help="Customer-level file with an outcome column (CSV, Excel, "
                                                "Parquet); without it the store's transactions/subscriptions."),
          target: Optional[str] = typer.Option(None, "--target", "-t", help="Outcome column of FILE: Yes/No, 1/0 or true/false."),
          id_col: Optional[str] = typer.Option(None, "--id", help="Customer id column of FILE (default: detected)."),
          drop: Optional[str] = typer.Option(None, "--drop", help="Comma-separated columns never used as features "
                                             "(e.g. TotalCharges, which restates tenure)."),
          folds: int = typer.Option(5, "--folds", help="Cross-validation folds (honest out-of-fold metrics)."),
          horizon: Optional[int] = typer.Option(None, "--horizon", help="Store: outcome window in days after each cut-off (180)."),
          definition: Optional[str] = typer.Option(None, "--definition", help="Store: auto, inactivity, contractual, p_alive or events."),
          cutoffs: Optional[str] = typer.Option(None, "--cutoffs", help="Store: comma-separated cut-off dates (YYYY-MM-DD)."),
          top: int = typer.Option(20, "--top", help="How many highest-risk customers to show."),
          out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write every score to this .csv or .xlsx file."),
          store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt):
    """Predict churn: calibrated probabilities, honest metrics, lift, and each customer's top reasons.

    On a file: `cxvalue churn telco.csv --target Churn --drop TotalCharges`. On the store: builds
    leakage-free features at cut-offs, validates out of time and scores every active customer
    (writes churn_scores, churn_metrics, churn_lift, churn_calibration, churn_drivers)."""
    sess = session(store, lang)
    s = sess.settings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if file is not None:
            res = _churn_file(file, target, id_col, _split(drop), folds)
        else:
            if target or id_col:
                raise CxValueError("--target and --id apply to a FILE; on the store the outcome comes from the churn definition")
            from ....churn.pipeline import _write, analyse_churn
            from ....churn.prediction import ChurnModel
            con = sess.con
            r = analyse_churn(con, s, cutoffs=_split(cutoffs) or None, model=ChurnModel(cv=folds or None),
                              churn_horizon_days=horizon, churn_definition=definition)
            _write(con, r)
            m = dict(zip(r["churn_metrics"].metric, r["churn_metrics"].value))
            res = {"source": "store", "metrics": m, "validation": r.get("churn_validation"),
                   "lift": r.get("churn_lift"), "calibration": r.get("churn_calibration"),
                   "drivers": r["churn_drivers"], "scores": r["churn_scores"].sort_values("p_churn", ascending=False)}
    msgs = _show_warnings([w for w in caught if issubclass(w.category, UserWarning)], as_json)
    scores = res["scores"]
    if out is not None:
        from ....churn.retention import export_retention
        export_retention(scores.rename_axis("customer_id"), out, lang=s["lang"])
    if as_json:
        payload = {k: (_records(v) if hasattr(v, "to_json") else v) for k, v in res.items() if k != "scores"}
        payload["scores"] = _records(scores.head(top).reset_index())
        payload["warnings"] = msgs
        _emit(payload)
        return
    console.print(f"[bold]churn[/] — {res['source']}")
    console.print(", ".join(f"{k}={v}" for k, v in res["metrics"].items() if not k.startswith("cv_log")))
    if res.get("lift") is not None:
        print_frame(res["lift"], "lift by decile (out of sample)")
    print_frame(res["drivers"].head(12), "drivers (mean |SHAP|)")
    cols = [c for c in ("p_churn", "main_reason", "top_reasons", "churned") if c in scores.columns]
    print_frame(scores[cols].head(top).reset_index(), f"top {top} at risk")
    if out is not None:
        console.print(f"scores written to {out}")


def _churn_file(file: Path, target: str | None, id_col: str | None, drop: list[str], folds: int) -> dict:
    from .data import column, id_column, parse_event, read_flat_file
    from ....churn.evaluation import calibration_table, lift_table
    from ....churn.prediction import ChurnModel
    if not target:
        raise CxValueError(f"`cxvalue churn {file.name}` needs --target COLUMN: the outcome (Yes/No, 1/0, true/false)")
    if folds < 2:
        raise CxValueError(f"--folds {folds}: expected 2 or more (honest cross-validated metrics)")
    df = read_flat_file(file)
    tcol = column(df, target, "--target")
    icol = id_column(df, id_col)
    y = parse_event(df[tcol], tcol)
    dropped = [column(df, d, "--drop") for d in drop]
    X = df.drop(columns=[tcol] + ([icol] if icol else []) + dropped)
    if icol:
        X.index = df[icol].astype(str)
    X.index.name = "customer_id"
    model = ChurnModel(cv=folds).fit(X, y)
    oof = model.oof_
    scores = oof.join(model.explain(X, top=3)).sort_values("p_churn", ascending=False)
    m = {"customers": len(X), "features": len(model.feature_names_in_), "dropped": ", ".join(dropped),
         **{k: round(v, 4) if isinstance(v, float) else v for k, v in model.summary().items()}}
    return {"source": str(file), "metrics": m, "folds": model.cv_results_, "lift": lift_table(oof.churned, oof.p_churn),
            "calibration": calibration_table(oof.churned, oof.p_churn), "drivers": model.importance_, "scores": scores}


@app.command()
def survival(file: Optional[Path] = typer.Argument(None, help="Customer-level file with a duration and an event column; "
                                                   "without it the store."),
             duration: Optional[str] = typer.Option(None, "--duration", "-d", help="Duration column of FILE (e.g. tenure)."),
             event: Optional[str] = typer.Option(None, "--event", "-e", help="Event column of FILE: Yes/No, 1/0 or true/false."),
             by: Optional[str] = typer.Option(None, "--by", help="Column to compare groups by (store default: segment)."),
             times: Optional[str] = typer.Option(None, "--times", help="Comma-separated times for S(t) (file default "
                                                 "12,24,36,48,60,72; store default 6,12,24,36 months)."),
             cox: bool = typer.Option(False, "--cox", help="Also fit a Cox model (hazard ratios, PH check)."),
             covariates: Optional[str] = typer.Option(None, "--covariates", help="Comma-separated Cox covariates (default: all)."),
             curves: bool = typer.Option(False, "--curves", help="Include the full Kaplan–Meier curves in --json output."),
             store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt):
    """Kaplan–Meier survival by segment with intervals, median tenure, log-rank tests and a Cox model.

    On a file: `cxvalue survival telco.csv --duration tenure --event Churn --by Contract`.
    On the store: tenure in months from subscriptions or purchases (writes churn_survival ...)."""
    from ....churn.survival import CoxModel, SurvivalAnalysis
    sess = session(store, lang)
    s = sess.settings
    tl = [float(x) for x in _split(times)] if times else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if file is not None:
            from .data import read_flat_file
            if not duration or not event:
                raise CxValueError(f"`cxvalue survival {file.name}` needs --duration COLUMN and --event COLUMN")
            df = read_flat_file(file)
            sa = SurvivalAnalysis(by=by, times=tl or (12, 24, 36, 48, 60, 72)).fit(df, duration_col=duration, event_col=event)
            res = {"source": str(file), "summary": sa.summary_, "logrank": sa.logrank_, "pairwise": sa.pairwise_}
            if cox:
                from .data import id_column
                icol = id_column(df)
                cm = CoxModel(covariates=_split(covariates) or None,
                              exclude=[c for c in (icol,) if c]).fit(df, duration_col=duration, event_col=event)
                res.update(cox=cm.summary_, ph_test=cm.ph_test_, concordance=cm.concordance_, excluded=cm.excluded_)
            curve_df = sa.curves_
        else:
            if duration or event:
                raise CxValueError("--duration and --event apply to a FILE; on the store durations come from the data")
            from ....churn.pipeline import _write, analyse_survival
            con = sess.con
            r = analyse_survival(con, s, by=by or "segment", times=tl or (6, 12, 24, 36))
            _write(con, r)
            res = {"source": "store", "unit": "month", "summary": r["churn_survival_summary"],
                   "logrank": r.get("churn_logrank"), "cox": r.get("churn_cox"), "ph_test": r.get("churn_ph_test")}
            curve_df = r["churn_survival"]
    msgs = _show_warnings([w for w in caught if issubclass(w.category, UserWarning)], as_json)
    if as_json:
        payload = {k: (_records(v) if hasattr(v, "to_json") else v) for k, v in res.items()}
        if curves:
            payload["curves"] = _records(curve_df)
        payload["warnings"] = msgs
        _emit(payload)
        return
    summ = res["summary"]
    compact = summ[[c for c in summ.columns if not c.endswith(("_lower", "_upper")) and c != "churn_share"]]
    print_frame(compact, f"Kaplan–Meier — {Path(res['source']).name}", floatfmt="{:.3f}")
    lr = res.get("logrank")
    if isinstance(lr, dict):
        console.print(f"log-rank: χ²={lr['test_statistic']:.2f}, df={lr['degrees_of_freedom']}, p={lr['p']:.3g}")
    elif lr is not None:
        print_frame(lr, "log-rank tests")
    if res.get("cox") is not None:
        print_frame(res["cox"], "Cox model (hazard ratios)")
        print_frame(res["ph_test"], "proportional-hazards check")


@app.command()
def retention(file: Optional[Path] = typer.Argument(None, help="File of scores (customer id, p_churn, value or clv; "
                                                    "optional main_reason, owner); without it the store."),
              playbook: Optional[Path] = typer.Option(None, "--playbook", help="Playbook YAML: actions per reason and value tier."),
              out: Optional[Path] = typer.Option(None, "--out", "-o", help="Export the list to a .csv or .xlsx file."),
              top: int = typer.Option(20, "--top", help="How many customers to show."),
              follow: Optional[float] = typer.Option(None, "--follow-probability", help="Share of customers who follow "
                                                     "a departing owner (default: estimated, else 1)."),
              store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt):
    """Ranked retention list: value at risk = P(churn) × value, recommended action per reason and value tier,
    and the value at risk per salesperson. Writes retention_list and owner_risk on the store."""
    from ....i18n import t
    from ....churn.retention import export_retention, retention_list
    sess = session(store, lang)
    s = sess.settings
    owners_tab = None
    if file is not None:
        from .data import column, id_column, read_flat_file
        df = read_flat_file(file)
        icol = id_column(df)
        if icol is None:
            raise CxValueError(f"{file.name}: no customer id column (customer_id, customerID, ...)")
        df.index = df[icol].astype(str)
        df.index.name = "customer_id"
        pcol = column(df, "p_churn", "p_churn")
        vcol = next((c for c in df.columns if c.lower() in ("value", "clv")), None)
        if vcol is None:
            raise CxValueError(f"{file.name}: expected a value or clv column (the customer's value)")
        scores = df.rename(columns={pcol: "p_churn"})
        values = df[[vcol]].rename(columns={vcol: "value"}).assign(value_source=vcol.lower())
        owners = df["owner"] if "owner" in df.columns else None
        rl = retention_list(scores, values, playbook=playbook, owners=owners)
    else:
        from ....churn.pipeline import _write, analyse_retention
        con = sess.con
        r = analyse_retention(con, s, playbook=playbook, follow_probability=follow)
        _write(con, r)
        rl, owners_tab = r["retention_list"], r.get("owner_risk")
    if out is not None:
        export_retention(rl, out, lang=s["lang"], playbook=playbook)
    if as_json:
        payload = {"customers": len(rl), "value_at_risk": float(rl.value_at_risk.sum()),
                   "list": _records(rl.head(top).reset_index())}
        if owners_tab is not None:
            payload["owner_risk"] = _records(owners_tab)
            payload["hhi"] = owners_tab.attrs.get("hhi")
        if out is not None:
            payload["written"] = str(out)
        _emit(payload)
        return
    view = rl.head(top).reset_index()
    view["action"] = [t(a, s["lang"]) for a in view.action]
    print_frame(view[["rank", "customer_id", "p_churn", "value", "value_at_risk", "value_tier", "main_reason", "action"]],
                f"retention list — value at risk {rl.value_at_risk.sum():,.0f}")
    if owners_tab is not None:
        print_frame(owners_tab.head(10), "value at risk if the owner leaves")
    if out is not None:
        console.print(f"written to {out}")
