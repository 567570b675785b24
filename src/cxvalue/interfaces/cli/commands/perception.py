"""``cxvalue drivers``, ``cxvalue gaps``, ``cxvalue csi`` and ``cxvalue experience-value``:
on the store by default, or directly on a file; each shows its part of the perception view
(``--json``: the view's JSON)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from .voice import show

FileArg = typer.Argument(None, help="Survey file (CSV, Excel, Parquet); default: the store's responses table.")
ByOpt = typer.Option(None, "--by", help="Segment column: repeat the analysis for each of its values.")
SinceOpt = typer.Option(None, "--since", help="Only answers on or after this date (YYYY-MM-DD).")
UntilOpt = typer.Option(None, "--until", help="Only answers on or before this date (YYYY-MM-DD).")


def _survey(file: Path | None, sess):
    """What a survey command works on: the store (an Ibis backend) or the file as a frame."""
    from ....voice.inputs import survey_frame
    return sess.con if file is None else survey_frame(file)


def _numbers(value: str | None, name: str):
    from ....errors import CxValueError
    from ....voice.inputs import parse_list
    items = parse_list(value)
    if items is None:
        return None
    try:
        return [float(v) for v in items]
    except ValueError:
        raise CxValueError(f"{name} {value!r}: expected numbers separated by commas, e.g. {name} 0") from None


# --------------------------------------------------------------------------- drivers
@app.command("drivers")
def drivers_command(
    file: Optional[Path] = FileArg,
    outcome: Optional[str] = typer.Option(None, "--outcome", help="Outcome column (default: nps, else satisfaction)."),
    positive: Optional[str] = typer.Option(None, "--positive", help="Value of a text/binary outcome that counts as "
                                           "1, e.g. --positive satisfied."),
    drivers: Optional[str] = typer.Option(None, "--drivers", help="Driver rating columns, comma-separated "
                                          "(default: rating_*, else experience_*, else whole-number 0-10 columns)."),
    na: Optional[str] = typer.Option(None, "--na", help="Rating code(s) meaning 'not applicable', e.g. --na 0."),
    method: str = typer.Option("both", "--method", help="relative_weights, shapley or both."),
    boot: int = typer.Option(200, "--boot", help="Bootstrap replicates for the intervals (0 = none)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the bootstrap."),
    by: Optional[str] = ByOpt, since: Optional[str] = SinceOpt, until: Optional[str] = UntilOpt,
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """Key driver analysis (relative weights, Shapley) with bootstrap intervals and
    importance–performance quadrants.

    Example: `cxvalue drivers Invistico_Airline.csv --outcome satisfaction --positive satisfied --na 0`.
    """
    from ...views import capture
    from ...views.perception import drivers_view
    from ....errors import one_of
    from ....perception.analyses import drivers_analysis
    from ....voice.inputs import parse_list
    sess = session(store, lang)
    one_of("method", method, ("relative_weights", "shapley", "both"))
    methods = ("relative_weights", "shapley") if method == "both" else (method,)
    with capture() as notes:
        frames = drivers_analysis(_survey(file, sess), outcome=outcome, positive=positive, drivers=parse_list(drivers),
                                  na_values=_numbers(na, "--na"), methods=methods, n_boot=boot, random_state=seed,
                                  by=by, since=since, until=until)
    show(drivers_view(sess, frames, notes=notes, by=by), sess, as_json, on_store=file is None)


# --------------------------------------------------------------------------- gaps (CEM)
@app.command("gaps")
def gaps_command(
    file: Optional[Path] = FileArg,
    dimensions: Optional[str] = typer.Option(None, "--dimensions", help="Dimensions to analyse, comma-separated "
                                             "(default: every experience_<dim> found)."),
    before: Optional[str] = typer.Option(None, "--before", help="Wave measured first (step 7 re-measurement)."),
    after: Optional[str] = typer.Option(None, "--after", help="Wave measured again after acting on the gaps."),
    compare: bool = typer.Option(False, "--compare", help="Compare the last two waves (step 7)."),
    wave_col: str = typer.Option("wave", "--wave-col", help="Column naming the survey wave."),
    by: Optional[str] = ByOpt, since: Optional[str] = SinceOpt, until: Optional[str] = UntilOpt,
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """The CEM seven steps per experience dimension: satisfaction = experience − expectation,
    key experience = importance × satisfaction, gap to the ideal, requirements; --compare or
    --before/--after re-measures between two survey waves.

    Example: `cxvalue gaps --compare`, `cxvalue gaps survey.csv --before 2024H2 --after 2025H2 --json`.
    """
    from ...views import capture
    from ...views.perception import cem_view
    from ....perception.analyses import cem_analysis
    from ....voice.inputs import parse_list
    sess = session(store, lang)
    with capture() as notes:
        frames = cem_analysis(_survey(file, sess), dimensions=parse_list(dimensions), by=by, compare=compare,
                              before=before, after=after, wave_col=wave_col, since=since, until=until)
    show(cem_view(sess, frames, notes=notes, by=by), sess, as_json, on_store=file is None)


# --------------------------------------------------------------------------- csi
@app.command("csi")
def csi_command(
    file: Optional[Path] = FileArg,
    model: Optional[str] = typer.Option(None, "--model", help="ecsi, acsi, contract or a YAML/JSON model file "
                                        "(blocks, paths); default: the template whose items are in the data."),
    scheme: str = typer.Option("centroid", "--scheme", help="Inner weighting: centroid, factorial or path."),
    scaled: Optional[bool] = typer.Option(None, "--scaled/--unscaled", help="Standardise the items (default: as "
                                          "the model file says, else unscaled — items on one answer scale)."),
    boot: int = typer.Option(0, "--boot", help="Bootstrap resamples for path intervals (0 = none)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the bootstrap and of the PLSpredict folds."),
    scale: Optional[str] = typer.Option(None, "--scale", help="Answer scale for the 0-100 index, e.g. 1,10 "
                                        "(default: from the model file or the data)."),
    tol: float = typer.Option(1e-6, "--tol", help="Stopping rule of the outer weights (R plspm's 1e-6; "
                              "formative blocks may need 1e-10)."),
    by: Optional[str] = ByOpt, since: Optional[str] = SinceOpt, until: Optional[str] = UntilOpt,
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """Customer satisfaction index by PLS path modelling (ECSI / ACSI templates or your own
    model file): path coefficients, R², 0-100 indices (overall and per --by segment), and the
    model's assessment: α, ρA, ρc, AVE, HTMT, Fornell-Larcker, VIF, f², Q²predict, SRMR.

    Example: `cxvalue csi satisfaction.csv --model ecsi --boot 200 --by gender`.
    """
    from ...views import capture
    from ...views.perception import csi_view
    from ....perception.analyses import csi_analysis
    from ....voice.inputs import parse_pair
    sess = session(store, lang)
    with capture() as notes:
        frames = csi_analysis(_survey(file, sess), model=model, scheme=scheme, scaled=scaled, n_boot=boot,
                              random_state=seed, item_range=parse_pair(scale, "--scale"), by=by, since=since,
                              until=until, tol=tol)
    show(csi_view(sess, frames, notes=notes, by=by), sess, as_json, on_store=file is None)


# --------------------------------------------------------------------------- kano
@app.command("kano")
def kano_command(
    file: Optional[Path] = FileArg,
    pairs: Optional[str] = typer.Option(None, "--pairs", help="Feature question pairs, e.g. "
                                        "'wifi=wifi_yes,wifi_no;meal=meal_f,meal_d' (default: columns named "
                                        "kano_<feature>_functional / kano_<feature>_dysfunctional)."),
    min_n: int = typer.Option(30, "--min-n", help="Fewer answered pairs than this → small-sample mark."),
    since: Optional[str] = SinceOpt, until: Optional[str] = UntilOpt,
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """Kano classification of features asked as functional / dysfunctional question pairs:
    must-be, one-dimensional, attractive, indifferent, reverse, questionable, with Fong's
    significance and the Better / Worse coefficients.

    Example: `cxvalue kano survey.csv` (answers 1-5 or like / expect / neutral / live with / dislike).
    """
    from ...views import capture
    from ...views.perception import kano_view
    from ....perception.analyses import kano_analysis
    sess = session(store, lang)
    with capture() as notes:
        frames = kano_analysis(_survey(file, sess), pairs=_kano_pairs(pairs), min_n=min_n, since=since, until=until)
    show(kano_view(sess, frames, notes=notes), sess, as_json, on_store=file is None)


def _kano_pairs(text: str | None) -> dict | None:
    from ....errors import CxValueError
    if not text:
        return None
    out = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, cols = part.partition("=")
        f, _, d = cols.partition(",")
        if not (name.strip() and f.strip() and d.strip()):
            raise CxValueError(f"--pairs {part!r}: expected feature=functional_column,dysfunctional_column")
        out[name.strip()] = (f.strip(), d.strip())
    return out


# --------------------------------------------------------------------------- experience value
@app.command("experience-value")
def experience_value_command(
    file: Optional[Path] = typer.Argument(None, help="Survey responses file (with customer_id and date; combine "
                                          "with --transactions) or one row per customer with a score column and "
                                          "follow-up columns (spend, purchases, renewed ...). Default: the store."),
    transactions: Optional[Path] = typer.Option(None, "--transactions", help="Transactions file to link the "
                                                "survey FILE to."),
    subscriptions: Optional[Path] = typer.Option(None, "--subscriptions", help="Subscriptions file (renewals)."),
    measure: str = typer.Option("satisfaction", "--measure", help="satisfaction (satisfied/neutral/dissatisfied) or "
                                "nps (promoter/passive/detractor)."),
    score: Optional[str] = typer.Option(None, "--score", help="Score column of a per-customer FILE (default: the "
                                        "--measure name)."),
    cuts: Optional[str] = typer.Option(None, "--cuts", help="Low,high cut-offs of the groups (default 5,8 for "
                                       "satisfaction, 6,9 for NPS on 0-10)."),
    window: int = typer.Option(365, "--window", help="Follow-up window in days."),
    boot: int = typer.Option(1000, "--boot", help="Bootstrap replicates."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the bootstrap."),
    roi: bool = typer.Option(False, "--roi", help="Also rank where improvement pays most (E2)."),
    by: Optional[str] = ByOpt, since: Optional[str] = SinceOpt, until: Optional[str] = UntilOpt,
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """The value of experience: what satisfied vs dissatisfied customers (or promoters vs
    detractors) did in the following 12 months — purchases, spend, cross-/up-sell, renewal,
    expected tenure — with bootstrap intervals; --roi adds the money value of closing each
    driver's gap.

    Examples: `cxvalue experience-value --roi`, `cxvalue experience-value responses.csv
    --transactions tx.csv --measure nps --json`.
    """
    from ...views import capture
    from ...views.perception import experience_value_view
    from ....errors import CxValueError
    from ....perception.analyses import experience_value_analysis
    from ....voice.inputs import parse_pair, read_any
    from .data import open_input
    sess = session(store, lang)
    with capture() as notes:
        as_of = None
        if file is None:
            if transactions is not None or subscriptions is not None:
                raise CxValueError("--transactions/--subscriptions link a survey FILE: give the responses file too")
            data, as_of = sess.con, sess.as_of
        elif transactions is not None:
            from ....io.load import load_file
            data = open_input("responses", file, sess)
            load_file(data, "transactions", transactions, unknown_customer="create")
            if subscriptions is not None:
                load_file(data, "subscriptions", subscriptions, unknown_customer="create")
        else:
            data = read_any(file)
        frames = experience_value_analysis(data, measure=measure, score=score, cuts=parse_pair(cuts, "--cuts"),
                                           window_days=window, by=by, n_boot=boot, random_state=seed, roi=roi,
                                           as_of=as_of, since=since, until=until)
    show(experience_value_view(sess, frames, notes=notes, by=by), sess, as_json, on_store=file is None)
