"""``cxvalue run`` (every analysis step on the store), ``cxvalue report`` (HTML and JSON of
every view) and ``cxvalue demo`` (generate + load + run + report)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import AsOfOpt, JsonOpt, LangOpt, StoreOpt, session
from ..render import console, print_json, warn


def _bar():
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(), console=console.get(), transient=False)


def progress_detail(detail: dict | None) -> str:
    """" 300,000/1,000,000 comments": a long step's own progress (steps.report_progress)."""
    if not detail:
        return ""
    total = f"/{detail['total']:,}" if detail.get("total") else ""
    return f" {detail['done']:,}{total} {detail.get('unit') or ''}".rstrip()


def run_with_progress(sess, only=None, *, bar=None, quiet: bool = False, incremental: bool = False):
    """Run the steps with a progress bar (or silently); return the outcomes. ``incremental``:
    steps whose inputs did not change since their last run are not run again."""
    from ....steps import run_steps
    if quiet:
        return run_steps(sess, only=only, incremental=incremental)
    own = bar is None
    bar = bar or _bar()
    if own:
        bar.start()
    try:
        task = bar.add_task("analyses", total=None)

        def progress(name, i, n, detail=None):
            bar.update(task, completed=i, total=n, description=f"analysis: {name}{progress_detail(detail)}"
                       if name else "analyses done")
        outcomes = run_steps(sess, only=only, progress=progress, incremental=incremental)
    finally:
        if own:
            bar.stop()
    return outcomes


def run_step(sess, step: str, *, quiet: bool):
    """Run ``step`` (and the upstream steps whose tables are missing) for a command; a skipped
    step ends the command with its reason. Returns the step's outcome."""
    from ....errors import CxValueError
    outcomes = run_with_progress(sess, [step], quiet=quiet)
    o = next(o for o in outcomes if o.step == step)
    if o.status != "ok":
        raise CxValueError(f"{step}: {o.reason}")
    sess.refresh()
    return o


def print_outcomes(outcomes, lang: str) -> None:
    """What each step did: tables written (rows) and its summary, or why it was skipped."""
    from ....i18n import t
    console.print(f"[bold]{t('run_title', lang)}[/]")
    for o in outcomes:
        mark = {"ok": "[green]✓[/]", "skipped": "[yellow]–[/]"}.get(o.status, "[red]✗[/]")
        if o.status != "ok":
            console.print(f"{mark} [bold]{o.step}[/] {t('run_skipped', lang)}: {o.reason}", highlight=False)
            continue
        if o.unchanged:
            console.print(f"{mark} [bold]{o.step}[/] [dim]{t('run_unchanged', lang)}[/]", highlight=False)
            continue
        tables = ", ".join(f"{k} ({v:,})" for k, v in o.tables.items())
        summary = ", ".join(f"{k}={_short(v)}" for k, v in o.summary.items())
        console.print(f"{mark} [bold]{o.step}[/] [dim]{o.seconds:.1f}s[/]  {summary}\n    [dim]→ {tables}[/]",
                      highlight=False)
    for o in outcomes:
        for w in o.warnings:
            warn(w["category"], f"{o.step}: {w['message']}")


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


@app.command()
def run(only: Optional[list[str]] = typer.Option(None, "--only", help="Run only this step (repeatable); steps it "
                                                   "needs run too when their tables are missing. See --list."),
        list_steps: bool = typer.Option(False, "--list", help="List the steps (in run order) with what they need and write."),
        force: bool = typer.Option(False, "--force", help="Run every step, also those whose inputs did not change."),
        store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt, lang: Optional[str] = LangOpt,
        as_json: bool = JsonOpt):
    """Run every analysis on the store, in the order their inputs require; print what each wrote.

    A step whose input tables are missing is skipped with the reason (also shown in the report). A
    step whose inputs (loaded data, upstream results, settings, as-of date, code) did not change
    since its last run is not run again ("unchanged"; --force runs it). The closed loop's cases,
    case outcomes and initiatives always run.
    """
    from ....steps import ordered
    if list_steps:
        steps = ordered()
        if as_json:
            print_json([{"step": s.name, "domain": s.domain, "needs": [list(n) if isinstance(n, tuple) else n
                                                                        for n in s.needs], "writes": list(s.writes)}
                        for s in steps])
            return
        for s in steps:
            needs = ", ".join(" | ".join(n) if isinstance(n, tuple) else n for n in s.needs)
            console.print(f"[bold]{s.name}[/] ({s.domain}) needs {needs or '-'} → {', '.join(s.writes)}", highlight=False)
        return
    sess = session(store, lang, as_of)
    outcomes = run_with_progress(sess, only, quiet=as_json, incremental=not force)
    if as_json:
        print_json({"as_of": str(sess.as_of) if sess.as_of else None, "steps": [o.to_dict() for o in outcomes]})
        return
    print_outcomes(outcomes, sess.lang)


@app.command()
def report(out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write (setting 'report')."),
           json_out: Optional[Path] = typer.Option(None, "--json", help="Also write every view as JSON to this file."),
           lang: Optional[str] = LangOpt, store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt):
    """Write the self-contained HTML report (works offline) from the store's result tables."""
    from ...report.build import build_report, write_views_json
    from ...views import build_views
    sess = session(store, lang, as_of, report=str(out) if out else None)
    with console.status("building report…"):
        views = build_views(sess)
        path = build_report(sess, sess.settings["report"], views)
        if json_out:
            write_views_json(sess, json_out, views)
    console.print(sess.t("report_written", path=path.resolve()))
    if json_out:
        console.print(sess.t("json_written", path=Path(json_out).resolve()))


def prepare_demo_folder(folder: Path, store: str) -> str:
    """Empty the demo's data folder and delete its DuckDB store (the demo is rebuilt from scratch)."""
    import shutil
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    store = str(store)
    path = Path(store.replace("duckdb://", "")) if "://" not in store or store.startswith("duckdb://") else None
    if path is not None and path.exists():
        path.unlink()
        Path(str(path) + ".wal").unlink(missing_ok=True)
    return store


def _export_cases(store) -> dict:
    """The closed-loop tables of the demo store about to be rebuilt (empty when it has none)."""
    from ....loop.cases import export_loop
    from ....store import connect
    url = str(store)
    path = Path(url.replace("duckdb://", "")) if "://" not in url or url.startswith("duckdb://") else None
    if path is None or not path.with_suffix(path.suffix or ".duckdb").exists():
        return {}
    con = connect(url, create=False)
    try:
        return export_loop(con)
    finally:
        con.disconnect()


def _demo_initiatives(sess) -> None:
    """The demo company's improvement initiatives, created and started on their dates."""
    from ....datasets.demo import demo_initiatives
    from ....loop.initiatives import change, create_initiative
    for spec in demo_initiatives(lang=sess.lang):
        started_at = spec.pop("started_at")
        ini = create_initiative(sess.con, **spec, comment="demo company")
        change(sess.con, ini.initiative_id, "start", by=spec["owner"], version=ini.version,
               comment="launched", at=started_at)


@app.command()
def demo(customers: int = typer.Option(20_000, "--customers", "-n", help="Number of simulated customers."),
         seed: int = typer.Option(0, "--seed", help="Random seed."),
         folder: Path = typer.Option(Path("demo/data"), "--data", help="Folder for the generated files."),
         report_path: Path = typer.Option(Path("demo/cxvalue-report.html"), "--report", help="Report to write."),
         store: Optional[str] = typer.Option("demo/cxvalue.duckdb", "--store", "-s", help="Store to build (rebuilt from scratch)."),
         keep_cases: bool = typer.Option(False, "--keep-cases", help="Keep the closed loop's cases and their "
                                         "events from the store being rebuilt (the rules then open no duplicates)."),
         lang: Optional[str] = LangOpt):
    """Generate the demo company, load it, run every analysis and write the report (both languages)."""
    from rich.table import Table

    from ....datasets.demo import write_demo
    from ....io.load import load_dir, rules_from_settings
    from ....store import status
    from ...report.build import build_report
    t0 = time.perf_counter()
    kept = _export_cases(store) if keep_cases else {}
    store_url = prepare_demo_folder(folder, store)
    sess = session(store_url, lang, connect=False)
    with _bar() as bar:
        gen = bar.add_task(f"generating {customers:,} customers", total=1)
        counts = write_demo(folder, customers, seed=seed,
                            progress=lambda done, total: bar.update(gen, completed=done, total=total))
        bar.update(gen, completed=bar.tasks[gen].total)
        from ....store import connect
        sess.con = connect(store_url, create=True)   # demo builds its store
        task = bar.add_task("loading into the store", total=len(counts))
        done = iter(range(len(counts) + 1))
        reports, _ = load_dir(sess.con, folder, unknown_customer=sess.settings["unknown_customer"],
                              memory_limit=sess.settings["load_memory_limit"],
                              rules=rules_from_settings(sess.settings), progress=lambda msg: bar.update(
            task, completed=next(done), description=f"loading {msg}"))
        bar.update(task, completed=len(counts), description="loaded into the store")
        from ....datasets.demo import read_demo_loop
        from ....loop.cases import restore_loop
        restore_loop(sess.con, kept or read_demo_loop(folder))   # kept cases, or the simulated history
        if not kept:
            _demo_initiatives(sess)
        sess.refresh()
        outcomes = run_with_progress(sess, bar=bar)
        sess.refresh()
        task = bar.add_task("writing the report", total=2)
        path = build_report(sess, report_path)
        bar.advance(task)
        other = "zh" if sess.lang == "en" else "en"
        from ..options import session as again
        other_sess = again(store_url, other, con=sess.con)
        build_report(other_sess, Path(report_path).with_suffix(f".{other}.html"))
        bar.advance(task)
    info = status(sess.con)
    L = sess.lang
    tb = Table(title=sess.t("demo_done") + f" — {sess.t('demo_title')}")
    for c in ("table", "rows", "rows_rejected"):
        tb.add_column(sess.t(c), justify="right" if c != "table" else "left")
    rejected = {r.table: r.rows_rejected for r in reports}
    for r in info["tables"]:
        tb.add_row(r["table"], f"{r['rows']:,}", f"{rejected.get(r['table'], 0):,}")
    console.print(tb)
    print_outcomes(outcomes, L)
    console.print(f"[green]{sess.t('report_written', path=path.resolve())}[/]  ({time.perf_counter() - t0:.0f}s)")
    console.print(sess.t("as_of_note", as_of=sess.as_of))
    console.print(sess.t("demo_serve_hint", store=store_url))
