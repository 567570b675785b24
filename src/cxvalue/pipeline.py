"""The full analysis run: every registered analysis over the store, then the report.

Capabilities register an analysis with :func:`analysis`; ``cxvalue demo`` (and later
``cxvalue run``) executes them in order. Each takes ``(con, settings)``, writes its
results to store tables and returns a short dict for the terminal summary.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

ANALYSES: list[tuple[int, str, Callable]] = []


def analysis(order: int, name: str):
    """Decorator: register an analysis step (lower ``order`` runs first)."""
    def deco(fn):
        ANALYSES.append((order, name, fn))
        ANALYSES.sort(key=lambda a: a[0])
        return fn
    return deco


def run_analyses(con, settings: dict, progress=None) -> dict[str, dict]:
    """Run every registered analysis whose input tables exist; return their summaries."""
    _import_capabilities()
    out = {}
    for _, name, fn in ANALYSES:
        if progress:
            progress(name)
        res = fn(con, settings)
        if res is not None:
            out[name] = res
    return out


def _import_capabilities():
    """Import the modules that register analyses (each registers itself on import)."""
    from .plugins import import_all
    import_all("pipeline")


def run_demo(*, customers: int, seed: int, folder: Path, store: str, report: Path, lang: str, console) -> dict:
    """Generate the demo company into ``folder``, load it into a fresh ``store``, run the analyses,
    write the report (both languages) and print a summary."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from .config import load_settings
    from .datasets.demo import write_demo
    from .i18n import t
    from .io.load import load_dir
    from .report import build_report
    from .store import connect, status

    t0 = time.perf_counter()
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    store_path = Path(store.replace("duckdb://", "")) if "://" not in store or store.startswith("duckdb://") else None
    if store_path is not None and store_path.exists():
        store_path.unlink()  # the demo store is rebuilt from scratch
        Path(str(store_path) + ".wal").unlink(missing_ok=True)
    settings = load_settings({"store": store, "lang": lang})
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        gen = bar.add_task(f"generating {customers:,} customers", total=1)
        counts = write_demo(folder, customers, seed=seed,
                            progress=lambda done, total: bar.update(gen, completed=done, total=total))
        bar.update(gen, completed=bar.tasks[gen].total)
        con = connect(store)
        task = bar.add_task("loading into the store", total=len(counts))
        done = iter(range(len(counts) + 1))
        reports, _ = load_dir(con, folder, progress=lambda msg: bar.update(
            task, completed=next(done), description=f"loading {msg}"))
        bar.update(task, completed=len(counts), description="loaded into the store")
        task = bar.add_task("running analyses", total=None)
        results = run_analyses(con, settings, progress=lambda name: bar.update(task, description=f"analysis: {name}"))
        bar.update(task, total=1, completed=1, description="analyses done")
        task = bar.add_task("writing the report", total=2)
        other = "zh" if lang == "en" else "en"
        path = build_report(con, report, lang=lang, settings=settings)
        bar.advance(task)
        build_report(con, Path(report).with_suffix(f".{other}.html"), lang=other, settings=settings)
        bar.advance(task)
    info = status(con)
    tb = Table(title=t("demo_done", lang) + f" — {t('demo_title', lang)}")
    for c in ("table", "rows", "rows_rejected"):
        tb.add_column(t(c, lang), justify="right" if c != "table" else "left")
    rejected = {r.table: r.rows_rejected for r in reports}
    for r in info["tables"]:
        tb.add_row(r["table"], f"{r['rows']:,}", f"{rejected.get(r['table'], 0):,}")
    console.print(tb)
    for name, res in results.items():
        console.print(f"[bold]{name}[/]: " + ", ".join(f"{k}={v}" for k, v in res.items()))
    console.print(f"[green]{t('report_written', lang, path=path.resolve())}[/]  ({time.perf_counter() - t0:.0f}s)")
    return {"report": str(path), "tables": info["tables"], "results": results}
