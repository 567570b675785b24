"""``cxvalue drivers``, ``cxvalue gaps``, ``cxvalue csi`` and ``cxvalue experience-value``:
on the store by default, or directly on a file."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import console, print_frame, print_json
from .data import open_input
from ....errors import CxValueError, one_of
from ....voice.inputs import filter_period, frames_to_json, parse_list, parse_pair, read_any, survey_frame

FileArg = typer.Argument(None, help="Survey file (CSV, Excel, Parquet); default: the store's responses table.")
ByOpt = typer.Option(None, "--by", help="Segment column: repeat the analysis for each of its values.")
SinceOpt = typer.Option(None, "--since", help="Only answers on or after this date (YYYY-MM-DD).")
UntilOpt = typer.Option(None, "--until", help="Only answers on or before this date (YYYY-MM-DD).")


def _na(value: str | None):
    items = parse_list(value)
    if items is None:
        return None
    out = []
    for v in items:
        try:
            out.append(float(v))
        except ValueError:
            raise CxValueError(f"--na {value!r}: expected numbers separated by commas, e.g. --na 0") from None
    return out


def _positive(value: str | None, column: pd.Series):
    """--positive as given, or as a number when the outcome column is numeric."""
    if value is None:
        return None
    if pd.api.types.is_numeric_dtype(column):
        try:
            return float(value)
        except ValueError:
            pass
    if pd.api.types.is_bool_dtype(column):
        return value.lower() in ("1", "true", "yes")
    return value


def _segments(df: pd.DataFrame, by: str | None, min_rows: int):
    if by is None:
        yield "all", df
        return
    if by not in df.columns:
        raise CxValueError(f"--by {by!r} is not a column of the survey data; columns: "
                           f"{', '.join(map(str, df.columns[:20]))}")
    yield "all", df
    for value, part in df.groupby(df[by].astype(str), sort=True):
        if len(part) >= min_rows:
            yield str(value), part


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
    from ....i18n import t
    from ....perception.pipeline import driver_tables
    sess = session(store, lang)
    s = sess.settings
    L = s["lang"]
    one_of("method", method, ("relative_weights", "shapley", "both"))
    methods = ("relative_weights", "shapley") if method == "both" else (method,)
    df = survey_frame(file, sess.con if file is None else None)
    df = filter_period(df, since, until)
    if outcome is None:
        outcome = "nps" if "nps" in df.columns else ("satisfaction" if "satisfaction" in df.columns else None)
        if outcome is None:
            raise CxValueError("give the outcome column with --outcome (no 'nps' or 'satisfaction' column); columns: "
                               f"{', '.join(map(str, df.columns[:20]))}")
    if outcome not in df.columns:
        raise CxValueError(f"--outcome {outcome!r} is not a column of the survey data; columns: "
                           f"{', '.join(map(str, df.columns[:20]))}")
    pos = _positive(positive, df[outcome])
    drv = parse_list(drivers)
    exclude = [by] if by else []
    if drv is None:
        from ....perception.drivers import detect_drivers
        drv = detect_drivers(df, outcome, exclude=exclude)
    imp, summ = [], []
    for seg, part in _segments(df, by, len(drv) + 30):
        tabs = driver_tables(part, outcome=outcome, drivers=drv, positive=pos, na_values=_na(na), methods=methods,
                             n_boot=boot, random_state=seed)
        imp.append(tabs["driver_importance"].assign(segment=seg))
        summ.append(tabs["driver_summary"].assign(segment=seg))
    imp = pd.concat(imp, ignore_index=True)
    summ = pd.concat(summ, ignore_index=True)
    if as_json:
        print_json(frames_to_json({"outcome": outcome, "positive": positive, "drivers": drv, "importance": imp,
                                   "summary": summ}))
        return
    for seg in imp["segment"].unique():
        sm = summ[(summ["segment"] == seg)].set_index("parameter")["estimate"]
        head = f"{t('sec_drivers', L)} — {outcome}" + (f" — {by} = {seg}" if by else "")
        console.print(f"[bold]{head}[/]: R² = {sm['r_squared']:.4f}, n = {int(sm['n_used']):,}")
        for m in methods:
            tab = imp[(imp["segment"] == seg) & (imp["method"] == m)].copy()
            tab["quadrant"] = [t(f"quadrant_{q}", L) for q in tab["quadrant"]]
            print_frame(tab[["rank", "driver", "importance", "share", "share_ci_low", "share_ci_high", "performance",
                             "quadrant"]], m)


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
    from ....i18n import t
    from ....perception.cem import cem_compare, cem_summary
    sess = session(store, lang)
    s = sess.settings
    L = s["lang"]
    df = survey_frame(file, sess.con if file is None else None)
    if since or until:
        df = filter_period(df, since, until)
    dims = parse_list(dimensions)
    out: dict = {}
    gaps = []
    for seg, part in _segments(df, by, 10):
        gaps.append(cem_summary(part, dimensions=dims).assign(segment=seg))
    out["gaps"] = pd.concat(gaps, ignore_index=True)
    if compare or before or after:
        if wave_col not in df.columns:
            raise CxValueError(f"re-measurement needs a wave column: {wave_col!r} is not in the data (use --wave-col)")
        waves = sorted(df[wave_col].dropna().astype(str).unique())
        if before is None and after is None:
            if len(waves) < 2:
                raise CxValueError(f"--compare needs two waves in {wave_col!r}; found {waves}")
            before, after = waves[-2], waves[-1]
        if before is None or after is None:
            raise CxValueError("give both --before WAVE and --after WAVE (or --compare for the last two waves)")
        for w in (before, after):
            if w not in waves:
                raise CxValueError(f"wave {w!r} is not in column {wave_col!r}; waves: {', '.join(waves)}")
        wv = df[wave_col].astype(str)
        comp = cem_compare(df[(wv == before).to_numpy()], df[(wv == after).to_numpy()], dimensions=dims)
        out["compare"] = comp.assign(before_wave=before, after_wave=after)
    if as_json:
        print_json(frames_to_json(out))
        return
    g = out["gaps"]
    for seg in g["segment"].unique():
        tab = g[g["segment"] == seg]
        title = t("sec_cem", L) + (f" — {by} = {seg}" if by else "")
        print_frame(tab[["dimension", "experience", "expectation", "satisfaction", "importance", "key_experience",
                         "key_rank", "ideal", "gap", "requirement_rank", "n"]], title)
    if "compare" in out:
        c = out["compare"]
        print_frame(c[c["measure"].isin(["experience", "satisfaction", "key_experience", "gap"])]
                    [["dimension", "measure", "before", "after", "change", "p_value", "significant"]],
                    t("cem_compare_title", L, before=before, after=after), max_rows=40)


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
    seed: int = typer.Option(0, "--seed", help="Random seed of the bootstrap."),
    scale: Optional[str] = typer.Option(None, "--scale", help="Answer scale for the 0-100 index, e.g. 1,10 "
                                        "(default: from the model file or the data)."),
    by: Optional[str] = ByOpt, since: Optional[str] = SinceOpt, until: Optional[str] = UntilOpt,
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """Customer satisfaction index by PLS path modelling (ECSI / ACSI templates or your own
    model file): path coefficients, R², 0-100 indices (overall and per --by segment).

    Example: `cxvalue csi satisfaction.csv --model ecsi --boot 200 --by gender`.
    """
    from ....i18n import t
    from ....perception.csi import csi_tables, fit_csi
    sess = session(store, lang)
    s = sess.settings
    L = s["lang"]
    df = survey_frame(file, sess.con if file is None else None)
    if since or until:
        df = filter_period(df, since, until)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pls, spec = fit_csi(df, model, scheme=scheme, scaled=scaled, n_boot=boot, random_state=seed)
        tabs = csi_tables(pls, spec, df, by=by, item_range=parse_pair(scale, "--scale"))
    labels = spec.get("labels") or {}
    out = {"model": spec["name"], "blocks": spec["blocks"], "scaled": spec["scaled"], "gof": pls.gof_,
           "n": len(pls.manifests_),
           "item_range": list(tabs["csi_scores"].attrs.get("item_range", ())), "scores": tabs["csi_scores"],
           "paths": tabs["csi_paths"], "outer_model": pls.outer_model_, "inner_summary": pls.inner_summary_,
           "warnings": [str(w.message) for w in caught]}
    if as_json:
        print_json(frames_to_json(out))
        return
    console.print(f"[bold]{t('sec_csi', L)}[/]: " + t("csi_intro", L, model=str(spec["name"]).upper(),
                                                       n=len(pls.manifests_), gof=pls.gof_))
    sc = tabs["csi_scores"].copy()
    sc["label"] = [labels.get(lv, {}).get(L, lv) for lv in sc["lv"]]
    print_frame(sc[sc["segment"] == "all"][["lv", "label", "index", "score", "r_squared"]], t("col_index", L))
    print_frame(tabs["csi_paths"][["relationship", "estimate", "std_error", "p_value", "ci_low", "ci_high"]],
                t("csi_paths_title", L))
    if by:
        seg = sc[sc["segment"] != "all"].pivot_table(index="segment", columns="lv", values="index", sort=False)
        print_frame(seg.reset_index(), f"{t('col_index', L)} — {by}")
    for w in out["warnings"]:
        console.print(f"[yellow]warning: {w}")


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
    from ....i18n import t
    from ....perception.experience_value import ExperienceValue, experience_roi
    sess = session(store, lang)
    s = sess.settings
    L = s["lang"]
    one_of("measure", measure, ("satisfaction", "nps"))
    cut = parse_pair(cuts, "--cuts")
    ev = ExperienceValue(measure=measure, cuts=cut, window_days=window, by=by, n_boot=boot, random_state=seed)
    con = None
    if file is None:
        if transactions is not None or subscriptions is not None:
            raise CxValueError("--transactions/--subscriptions link a survey FILE: give the responses file too")
        con = sess.con
    elif transactions is not None:
        from ....io.load import load_file
        con = open_input("responses", file, sess)
        load_file(con, "transactions", transactions, unknown_customer="create")
        if subscriptions is not None:
            load_file(con, "subscriptions", subscriptions, unknown_customer="create")
    out: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if con is not None:
            ev.fit(con, since=since, until=until)
        else:
            frame = read_any(file)
            col = score or measure
            if col not in frame.columns and "group" not in frame.columns:
                raise CxValueError(f"{Path(file).name}: no {col!r} column (the survey score; use --score) — or give "
                                   "--transactions to link a responses file to purchases")
            if col in frame.columns:
                frame = frame.rename(columns={col: "score"})
            if "customer_id" in frame.columns:
                frame = frame.set_index("customer_id")
            ev.fit(frame)
        if roi:
            if con is None:
                raise CxValueError("--roi needs the survey answers with driver ratings and the purchases: use the "
                                   "store or a responses FILE with --transactions")
            out["roi"] = experience_roi(con, outcome="nps" if measure == "nps" or "satisfaction" not in
                                        con.table("responses").columns else measure, window_days=window,
                                        n_boot=min(boot, 200), random_state=seed, since=since, until=until)
    cur = s.get("currency", "CNY")
    out.update(measure=measure, as_of=ev.as_of_, sentence=ev.sentence(L, currency=cur), groups=ev.groups_,
               comparison=ev.comparison_, warnings=[str(w.message) for w in caught])
    if by:
        out["sentences"] = {seg: ev.sentence(L, segment=seg, currency=cur)
                            for seg in ev.comparison_["segment"].unique() if seg != "all"}
    if as_json:
        print_json(frames_to_json(out))
        return
    console.print(f"[bold]{t('sec_experience_value', L)}[/]")
    console.print(out["sentence"])
    g = ev.groups_[ev.groups_["segment"] == "all"]
    piv = g.pivot_table(index="metric", columns="group", values="estimate", observed=True, sort=False)
    print_frame(piv.reset_index(), t("sec_experience_value", L))
    c = ev.comparison_
    print_frame(c[["segment", "metric", "kind", "estimate", "ci_low", "ci_high", "p_value"]] if by else
                c[["metric", "kind", "estimate", "ci_low", "ci_high", "p_value"]], t("col_change", L), max_rows=60)
    if "roi" in out:
        r = out["roi"]
        print_frame(r[["kind", "rank", "item", "coefficient", "mean_gap", "nps_change", "customers", "value",
                       "ci_low", "ci_high", "value_base"]], t("roi_title", L))
    for w in out["warnings"]:
        console.print(f"[yellow]warning: {w}")
