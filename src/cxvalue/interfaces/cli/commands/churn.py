"""CLI commands for churn: ``cxvalue churn``, ``cxvalue survival``, ``cxvalue uplift``, ``cxvalue retention``.

Each works on the store or directly on a customer-level file (one row per customer, e.g. the
IBM Telco sample). On the store a command runs its analysis step (which writes the result
tables and logs its warnings) and shows its section of the churn view; options that are not
settings (``--cutoffs``, ``--folds``, ``--by``, ``--times``, ``--follow-probability``) make it an
ad-hoc analysis that is shown but not written. On a file it calls the library's file analysis
(:mod:`cxvalue.churn.pipeline`) and shows the same view. ``--json`` prints the view as JSON.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import AsOfOpt, JsonOpt, LangOpt, StoreOpt, session, split
from ..render import console
from .run import run_step
from ..render import show as render
from ....errors import CxValueError


def show(v, sess, as_json: bool, *, adhoc: bool = False) -> None:
    """Print the view (or its JSON); an ad-hoc analysis says that the store is unchanged."""
    from ...views import Text
    if v is None:
        raise CxValueError("nothing to show: the analysis wrote no results")
    if adhoc:
        v.blocks.insert(0, Text("churn-adhoc", text=sess.t("churn_adhoc_note"), tone="plain"))
        v.meta["adhoc"] = True
        v.as_of = str(sess.as_of) if sess.as_of else None
    render(v, sess, as_json)


def _times(value: Optional[str]) -> list[float] | None:
    try:
        return [float(x) for x in split(value)] or None
    except ValueError:
        raise CxValueError(f"--times {value!r}: expected comma-separated numbers, e.g. 6,12,24") from None


@app.command()
def churn(file: Optional[Path] = typer.Argument(None, help="Customer-level file with an outcome column (CSV, Excel, "
                                                "Parquet); without it the store's transactions/subscriptions."),
          target: Optional[str] = typer.Option(None, "--target", "-t", help="Outcome column of FILE: Yes/No, 1/0 or true/false."),
          id_col: Optional[str] = typer.Option(None, "--id", help="Customer id column of FILE (default: detected)."),
          drop: Optional[str] = typer.Option(None, "--drop", help="Comma-separated columns never used as features "
                                             "(e.g. TotalCharges, which restates tenure)."),
          keep: Optional[str] = typer.Option(None, "--keep", help="FILE: comma-separated columns to use although they "
                                             "look like row identifiers (distinct text for most rows, a row number), "
                                             "which are left out by default."),
          folds: Optional[int] = typer.Option(None, "--folds", help="Cross-validation folds (FILE default 5; on the "
                                              "store an ad-hoc run)."),
          horizon: Optional[int] = typer.Option(None, "--horizon", help="Store: outcome window in days after each "
                                                "cut-off (setting churn_horizon_days)."),
          definition: Optional[str] = typer.Option(None, "--definition", help="Store: auto, inactivity, contractual, "
                                                   "p_alive or events (setting churn_definition)."),
          cutoffs: Optional[str] = typer.Option(None, "--cutoffs", help="Store: comma-separated cut-off dates "
                                                "(YYYY-MM-DD; an ad-hoc run)."),
          top: int = typer.Option(20, "--top", help="How many highest-risk customers to show."),
          out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write every score to this .csv or .xlsx file."),
          store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt, as_json: bool = JsonOpt,
          lang: Optional[str] = LangOpt):
    """Predict churn: calibrated probabilities, honest metrics, lift, and each customer's top reasons.

    On a file: `cxvalue churn telco.csv --target Churn --drop TotalCharges`. On the store: builds
    leakage-free features at cut-offs, validates out of time and scores every active customer
    (step "churn prediction": churn_scores, churn_metrics, churn_lift, churn_calibration, churn_drivers)."""
    from ....churn.pipeline import analyse_churn, analyse_churn_file
    from ....churn.retention import export_retention
    from ....store import read_result
    from ...views import capture
    from ...views.churn import churn_view, store_view
    sess = session(store, lang, as_of, churn_horizon_days=horizon, churn_definition=definition)
    if folds is not None and folds < 2:
        raise CxValueError(f"--folds {folds}: expected 2 or more (honest cross-validated metrics)")
    adhoc = False
    if file is not None:
        if not target:
            raise CxValueError(f"`cxvalue churn {file.name}` needs --target COLUMN: the outcome (Yes/No, 1/0, true/false)")
        with capture() as notes:
            res = analyse_churn_file(file, target=target, id_col=id_col, drop=split(drop), folds=folds or 5,
                                     keep=split(keep))
        v, scores = churn_view(sess, res, notes={"churn prediction": notes}, sections=("prediction",), top=top), \
            res["churn_scores"]
    elif target or id_col or drop or keep:
        raise CxValueError("--target, --id and --drop apply to a FILE; on the store the outcome comes from the churn "
                           "definition")
    elif cutoffs or folds:
        from ....churn.prediction import ChurnModel
        adhoc = True
        with capture() as notes:
            res = analyse_churn(sess.con, sess.settings, cutoffs=split(cutoffs) or None,
                                model=ChurnModel(cv=folds) if folds else None, as_of=sess.as_of)
        v, scores = churn_view(sess, res, notes={"churn prediction": notes}, sections=("prediction",), top=top), \
            res["churn_scores"]
    else:
        run_step(sess, "churn prediction", quiet=as_json)
        v = store_view(sess, ("prediction",), top=top)
        scores = read_result(sess.con, "churn_scores") if out is not None else None
    if out is not None:
        export_retention(scores.sort_values("p_churn", ascending=False), out, lang=sess.lang)
        v.meta["written"] = str(out)
    show(v, sess, as_json, adhoc=adhoc)
    if out is not None and not as_json:
        console.print(sess.t("churn_scores_written", path=out))


@app.command()
def survival(file: Optional[Path] = typer.Argument(None, help="Customer-level file with a duration and an event column; "
                                                   "without it the store."),
             duration: Optional[str] = typer.Option(None, "--duration", "-d", help="Duration column of FILE (e.g. tenure)."),
             event: Optional[str] = typer.Option(None, "--event", "-e", help="Event column of FILE: Yes/No, 1/0 or true/false."),
             by: Optional[str] = typer.Option(None, "--by", help="Column to compare groups by (store: segment; "
                                              "another column makes an ad-hoc run)."),
             times: Optional[str] = typer.Option(None, "--times", help="Comma-separated times for S(t) (file default "
                                                 "12,24,36,48,60,72; store default 6,12,24,36 months)."),
             cox: bool = typer.Option(False, "--cox", help="FILE: also fit a Cox model (hazard ratios, PH check); the "
                                      "store's step always fits one."),
             covariates: Optional[str] = typer.Option(None, "--covariates", help="FILE: comma-separated Cox covariates "
                                                      "(default: all)."),
             curves: bool = typer.Option(False, "--curves", help="Include the full Kaplan–Meier curves as a table."),
             store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt, as_json: bool = JsonOpt,
             lang: Optional[str] = LangOpt):
    """Kaplan–Meier survival by segment with intervals, median tenure, log-rank tests and a Cox model.

    On a file: `cxvalue survival telco.csv --duration tenure --event Churn --by Contract`.
    On the store: tenure in months from subscriptions or purchases (step "survival": churn_survival ...)."""
    from ....churn.pipeline import analyse_survival, analyse_survival_file
    from ...views import capture
    from ...views.churn import churn_view, store_view
    sess = session(store, lang, as_of)
    tl = _times(times)
    adhoc = False
    if file is not None:
        if not duration or not event:
            raise CxValueError(f"`cxvalue survival {file.name}` needs --duration COLUMN and --event COLUMN")
        with capture() as notes:
            res = analyse_survival_file(file, duration=duration, event=event, by=by, times=tl or (12, 24, 36, 48, 60, 72),
                                        cox=cox, covariates=split(covariates) or None)
        v = churn_view(sess, res, notes={"survival": notes}, sections=("survival",), curves=curves)
    elif duration or event or covariates:
        raise CxValueError("--duration, --event and --covariates apply to a FILE; on the store durations come from "
                           "the data and the Cox model uses segment, vip and acquisition channel")
    elif (by and by != "segment") or tl:
        adhoc = True
        with capture() as notes:
            res = analyse_survival(sess.con, sess.settings, by=by or "segment", times=tl or (6, 12, 24, 36),
                                   as_of=sess.as_of)
        v = churn_view(sess, res, notes={"survival": notes}, sections=("survival",), curves=curves)
    else:
        run_step(sess, "survival", quiet=as_json)
        v = store_view(sess, ("survival",), curves=curves)
    show(v, sess, as_json, adhoc=adhoc)


@app.command()
def uplift(file: Optional[Path] = typer.Argument(None, help="Campaign file, one row per customer: the arm, the outcome "
                                                 "and features (CSV, Excel, Parquet); without it the store's campaigns."),
           treatment: Optional[str] = typer.Option(None, "--treatment", help="FILE: the column naming each customer's "
                                                   "arm (with --treated/--control, or 1/0, true/false)."),
           treated: Optional[str] = typer.Option(None, "--treated", help="FILE: the --treatment value of customers who "
                                                 "got the offer."),
           control: Optional[str] = typer.Option(None, "--control", help="FILE: the --treatment value of the randomised "
                                                 "control group."),
           outcome: Optional[str] = typer.Option(None, "--outcome", help="FILE: the outcome the offer aims to raise "
                                                 "(1/0, Yes/No or an amount)."),
           id_col: Optional[str] = typer.Option(None, "--id", help="FILE: customer id column (default: detected)."),
           drop: Optional[str] = typer.Option(None, "--drop", help="FILE: comma-separated columns never used as features."),
           keep: Optional[str] = typer.Option(None, "--keep", help="FILE: comma-separated columns to use although they "
                                              "look like row identifiers."),
           learner: str = typer.Option("x", "--learner", help="Meta-learner: x (X-learner) or t (T-learner)."),
           folds: int = typer.Option(5, "--folds", help="Held-out folds of the validation (Qini, deciles)."),
           threshold: Optional[float] = typer.Option(None, "--threshold", help="Uplift from which a customer is "
                                                     "persuadable (default 0.05 for a 1/0 outcome, 5% of the "
                                                     "outcome's SD for an amount)."),
           campaign: Optional[str] = typer.Option(None, "--campaign", help="Store: the campaign (setting "
                                                  "uplift_campaign; default the one sent last)."),
           out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write every customer's uplift and group to a "
                                              ".csv or .xlsx file."),
           store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt, as_json: bool = JsonOpt,
           lang: Optional[str] = LangOpt):
    """Uplift of a retention campaign with a randomised control group: the average effect with its interval,
    the Qini coefficient on held-out folds (and its p against random targeting), measured vs predicted
    uplift per decile, and persuadables / sure things / lost causes / do-not-disturbs.

    On a file: `cxvalue uplift campaign.csv --treatment group --treated offer --control holdout --outcome
    renewed`. On the store (table campaigns): step "uplift" (uplift_summary, uplift_qini, uplift_deciles,
    uplift_segments, uplift_scores); `cxvalue retention` then ranks by uplift × value − offer cost."""
    from ....churn.pipeline import analyse_uplift, analyse_uplift_file
    from ....churn.uplift import LEARNERS, UpliftModel
    from ....io.export import write_sheets
    from ....store import read_result
    from ...views import capture
    from ...views.churn import churn_view, store_view
    if learner not in LEARNERS:
        raise CxValueError(f"--learner {learner!r}: expected x or t")
    if folds < 2:
        raise CxValueError(f"--folds {folds}: expected 2 or more")
    sess = session(store, lang, as_of, uplift_campaign=campaign)
    model = UpliftModel(learner=learner, folds=folds, threshold=threshold)
    custom = learner != "x" or folds != 5 or threshold is not None
    adhoc = False
    if file is not None:
        if not (treatment and outcome):
            raise CxValueError(f"`cxvalue uplift {file.name}` needs --treatment COLUMN and --outcome COLUMN "
                               f"(and --treated/--control when the arms are not 1/0)")
        with capture() as notes:
            res = analyse_uplift_file(file, treatment=treatment, treated=treated, control=control, outcome=outcome,
                                      id_col=id_col, drop=split(drop), keep=split(keep), model=model)
        v, scores = churn_view(sess, res, notes={"uplift": notes}, sections=("uplift",)), res["uplift_scores"]
    elif treatment or treated or control or outcome or id_col or drop or keep:
        raise CxValueError("--treatment, --treated, --control, --outcome, --id, --drop and --keep apply to a FILE; "
                           "on the store the campaigns table names the arms and the outcome")
    elif custom:
        adhoc = True
        with capture() as notes:
            res = analyse_uplift(sess.con, sess.settings, model=model, as_of=sess.as_of)
        v, scores = churn_view(sess, res, notes={"uplift": notes}, sections=("uplift",)), res["uplift_scores"]
    else:
        run_step(sess, "uplift", quiet=as_json)
        v = store_view(sess, ("uplift",))
        scores = read_result(sess.con, "uplift_scores") if out is not None else None
    if out is not None:
        if out.suffix.lower() not in (".csv", ".xlsx"):
            raise CxValueError(f"--out {out.name}: expected a .csv or .xlsx file")
        frame = scores.reset_index() if scores.index.name else scores
        out.parent.mkdir(parents=True, exist_ok=True)
        write_sheets({"uplift": frame}, out)
        v.meta["written"] = str(out)
    show(v, sess, as_json, adhoc=adhoc)
    if out is not None and not as_json:
        console.print(sess.t("churn_scores_written", path=out))


@app.command()
def retention(file: Optional[Path] = typer.Argument(None, help="File of scores (customer id, p_churn, value or clv; "
                                                    "optional main_reason, owner); without it the store."),
              playbook: Optional[Path] = typer.Option(None, "--playbook", help="Playbook YAML: actions per reason and "
                                                      "value tier (setting churn_playbook)."),
              out: Optional[Path] = typer.Option(None, "--out", "-o", help="Export the list to a .csv or .xlsx file."),
              top: int = typer.Option(20, "--top", help="How many customers to show."),
              follow: Optional[float] = typer.Option(None, "--follow-probability", help="Share of customers who follow "
                                                     "a departing owner (default: estimated, else 1; on the store an "
                                                     "ad-hoc run)."),
              store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt, as_json: bool = JsonOpt,
              lang: Optional[str] = LangOpt):
    """Ranked retention list: value at risk = P(churn) × value, recommended action per reason and value tier,
    and the value at risk per salesperson (step "retention": retention_list, owner_risk)."""
    from ....churn.pipeline import analyse_retention, analyse_retention_file
    from ....churn.retention import export_retention
    from ....store import read_result
    from ...views import capture
    from ...views.churn import churn_view, store_view
    from ....loop.playbook import playbook_from_settings
    sess = session(store, lang, as_of, churn_playbook=str(playbook) if playbook else None)
    book = playbook_from_settings(sess.settings)      # settings playbook, then --playbook / churn_playbook
    adhoc = False
    if file is not None:
        with capture() as notes:
            res = analyse_retention_file(file, playbook=book, follow_probability=follow)
        v, rl = churn_view(sess, res, notes={"retention": notes}, sections=("retention",), top=top), \
            res["retention_list"]
    elif follow is not None:
        adhoc = True
        with capture() as notes:
            res = analyse_retention(sess.con, sess.settings, follow_probability=follow, as_of=sess.as_of)
        v, rl = churn_view(sess, res, notes={"retention": notes}, sections=("retention",), top=top), \
            res["retention_list"]
    else:
        run_step(sess, "retention", quiet=as_json)
        v = store_view(sess, ("retention",), top=top)
        rl = read_result(sess.con, "retention_list") if out is not None else None
    if out is not None:
        export_retention(rl, out, lang=sess.lang, playbook=book)
        v.meta["written"] = str(out)
    show(v, sess, as_json, adhoc=adhoc)
    if out is not None and not as_json:
        console.print(sess.t("churn_list_written", path=out))
