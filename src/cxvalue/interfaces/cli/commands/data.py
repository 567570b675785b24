"""Data commands: ``cxvalue load``, ``status``, ``quarantine``."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional

import typer

from ....errors import CxValueError
from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import console


def _table(**kw):
    from rich.table import Table
    return Table(**kw)


def open_input(table: str, file: Path | None, sess, *, mapping=None, options: dict | None = None):
    """The data a command works on: ``file`` loaded (validated, with quarantine) into an
    in-memory store when given, else the session's store. Returns an Ibis backend."""
    if file is None:
        return sess.con
    from ....io.memory import load_into_memory
    return load_into_memory(table, file, mapping=mapping, options=options,
                            memory_limit=sess.settings["load_memory_limit"])[0]


def _load_progress(quiet: bool):
    from contextlib import nullcontext
    if quiet:
        return nullcontext(lambda msg: None)
    status = console.status("loading…")

    class _Ctx:
        def __enter__(self):
            status.__enter__()
            return lambda msg: status.update(f"[bold]{msg}…")

        def __exit__(self, *a):
            return status.__exit__(*a)
    return _Ctx()


def _print_report(rep, lang: str):
    from ....i18n import t
    if rep.skipped:
        console.print(f"[yellow]{rep.message}")
        return
    ok = "[green]✓" if rep.rows_rejected == 0 else "[yellow]![/yellow]"
    console.print(f"{ok} {rep.table}: {t('rows_read', lang)} {rep.rows_read:,} = {t('rows_loaded', lang)} "
                  f"{rep.rows_loaded:,} + {t('rows_rejected', lang)} {rep.rows_rejected:,}  "
                  f"({rep.seconds:.1f}s, {rep.source})")
    renamed = {k: v for k, v in rep.columns.items() if k != v and v not in rep.extra_columns}
    if renamed:
        console.print("  columns mapped: " + ", ".join(f"{k} → {v}" for k, v in renamed.items()))
    if rep.extra_columns:
        console.print("  extra columns kept: " + ", ".join(rep.extra_columns))
    if rep.dropped_columns:
        console.print("  columns dropped by the mapping: " + ", ".join(rep.dropped_columns))
    if rep.customers_created:
        console.print(f"  {rep.customers_created:,} customers not in the customers table were created as stubs")
    if rep.rows_rejected:
        tb = _table(title=f"{rep.rows_rejected:,} rows quarantined (first {len(rep.examples)}; see `cxvalue quarantine`)")
        for c in ("row", "column", "reason", "expected", "got"):
            tb.add_column(c)
        for ex in rep.examples[:10]:
            tb.add_row(str(ex["row"]), str(ex["column"] or ""), ex["reason"], str(ex["expected"]), str(ex["got"])[:60])
        console.print(tb)


@app.command()
def load(
    table: Optional[str] = typer.Argument(None, help="Table of the data contract: customers, transactions, "
                                          "subscriptions, responses, complaints, churn_events, referrals, acquisition."),
    file: Optional[Path] = typer.Argument(None, help="CSV/TXT, Excel .xlsx or Parquet file."),
    dir: Optional[Path] = typer.Option(None, "--dir", help="Load every file in this folder named after a table."),
    map: Optional[Path] = typer.Option(None, "--map", "-m", help="Mapping YAML: column names, value codes, options."),
    query: Optional[str] = typer.Option(None, "--query", help="Load the result of this SQL query instead of a file."),
    source_url: Optional[str] = typer.Option(None, "--from", help="Database URL the --query runs on (any Ibis URL)."),
    format: Optional[str] = typer.Option(None, "--format", help="csv, whitespace, fixed, excel or parquet (default: from the suffix)."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="File encoding (default: detected; e.g. gb18030)."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", help="Field delimiter (default: detected)."),
    decimal: str = typer.Option(".", "--decimal", help="Decimal separator: '.' or ','."),
    header: bool = typer.Option(True, "--header/--no-header", help="Whether the first line holds column names."),
    names: Optional[str] = typer.Option(None, "--names", help="Comma-separated column names (files without header)."),
    widths: Optional[str] = typer.Option(None, "--widths", help="Comma-separated field widths (fixed-width files)."),
    skip_rows: int = typer.Option(0, "--skip-rows", help="Lines to skip before the header."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="Excel sheet name or 0-based index."),
    date_format: Optional[str] = typer.Option(None, "--date-format", help="strptime format of dates, e.g. %d/%m/%Y "
                                              "(two-digit years: %y, 00-68 → 20xx, 69-99 → 19xx)."),
    quote: Optional[str] = typer.Option(None, "--quote", help="CSV quote character (default: detected, normally \"); "
                                        "'' for files that do not quote values."),
    max_line_mb: Optional[int] = typer.Option(None, "--max-line-mb", help="CSV records longer than this many MB go "
                                              "to quarantine as line_too_long (default 32)."),
    unknown_customer: Optional[str] = typer.Option(None, "--unknown-customer", help="create (stub customers) or reject."),
    replace: bool = typer.Option(False, "--replace", help="Update rows whose key is already in the store (only the "
                                 "columns the file has); reload a file loaded before."),
    strict: bool = typer.Option(False, "--strict", help="Abort (load nothing) at the first bad row."),
    allow_repeats: bool = typer.Option(False, "--allow-repeats",
                                       help="Tables without their id column: keep rows equal to stored ones "
                                            "(true repeats; setting allow_repeated_rows). Default: such rows are "
                                            "a re-export and go to quarantine as duplicate_row."),
    line_items: bool = typer.Option(False, "--line-items",
                                    help="Transactions without a line column: the rows are order lines (several "
                                         "per order_id), not orders; order_id is then no key."),
    allow_rejects: bool = typer.Option(False, "--allow-rejects",
                                       help="Load even when more than max_reject_share (default 5%) of the rows "
                                            "are rejected (by default such a load is refused and rolled back)."),
    memory_limit: Optional[str] = typer.Option(None, "--memory-limit",
                                               help="DuckDB memory cap while loading, e.g. 2GB, or auto (setting load_memory_limit, "
                                                    "default auto: 2GB, 2MB per column beyond 1,000 columns); a large "
                                                    "file's staged copy spills to disk beyond it."),
    store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt,
):
    """Load a file (or a folder of files) into the store, validating it against the data contract.

    Rejected rows go to the quarantine table with row, column, reason, expected and got;
    rows read = loaded + rejected. Loading the same file twice does not duplicate rows.
    """
    from ....io.load import load_dir, load_file, rules_from_settings
    from ....io.readers import ReadOptions
    sess = session(store, lang, create=True, unknown_customer=unknown_customer, load_memory_limit=memory_limit,
                   allow_repeated_rows=True if allow_repeats else None, max_reject_share=1.0 if allow_rejects else None)
    s = sess.settings
    rules = dataclasses.replace(rules_from_settings(s), line_items=line_items)
    opts = ReadOptions.from_dict({
        "format": format, "encoding": encoding, "delimiter": delimiter, "decimal": decimal, "header": header,
        "names": names.split(",") if names else None, "widths": widths,
        "skip_rows": skip_rows, "sheet": sheet, "date_format": date_format, "quote": quote,
        "max_line_mb": max_line_mb})
    con = sess.con
    with _load_progress(as_json) as step:
        if dir is not None:
            if table or file:
                raise CxValueError("give either --dir FOLDER or TABLE FILE, not both")
            reports, ignored = load_dir(con, dir, options=opts, unknown_customer=s["unknown_customer"],
                                        replace=replace, strict=strict, memory_limit=s["load_memory_limit"],
                                        rules=rules, progress=step)
        else:
            if not table:
                raise CxValueError("missing TABLE: `cxvalue load TABLE FILE` or `cxvalue load --dir FOLDER`")
            if file is None and query is None:
                raise CxValueError(f"missing FILE: `cxvalue load {table} FILE` (or --query SQL --from URL)")
            if query is not None and not source_url:
                raise CxValueError("--query needs --from DATABASE_URL")
            reports = [load_file(con, table, file, mapping=map, options=opts, query=query, query_url=source_url,
                                 unknown_customer=s["unknown_customer"], replace=replace, strict=strict,
                                 memory_limit=s["load_memory_limit"], rules=rules, progress=step)]
            ignored = []
    if as_json:
        print(json.dumps({"loads": [r.to_dict() for r in reports], "ignored_files": ignored}, ensure_ascii=False,
                         default=str, indent=2))
        return
    for r in reports:
        _print_report(r, s["lang"])
    if ignored:
        console.print(f"[yellow]not loaded (not named after a table): {', '.join(ignored)}")


@app.command()
def status(store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt):
    """Show what is in the store: tables, row counts, date ranges, loads, quarantined rows by reason
    (the report's overview view)."""
    from ...views import View
    from ...views.overview import build
    from ..render import print_json, print_view
    sess = session(store, lang)
    v = build(sess, activity=False) or View("overview", sess.t("data_overview"))
    v.as_of = str(sess.as_of) if sess.as_of else None
    if as_json:
        print_json(v.to_dict())
        return
    console.print(f"store: {sess.settings['store']}")
    if not v.blocks:
        console.print(sess.t("empty_store"))
        return
    print_view(v, sess.lang)


@app.command()
def quarantine(table: Optional[str] = typer.Option(None, "--table", help="Only rows rejected from this table."),
               limit: int = typer.Option(50, "--limit", help="How many rows to show."),
               out: Optional[Path] = typer.Option(None, "--out", help="Write all matching rows to this .csv or .xlsx file."),
               store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt):
    """List quarantined (rejected) rows with file, row, column, reason, expected and got."""
    from ....store import quarantined
    from ...views.overview import quarantine_view
    from ..render import print_json, print_view
    sess = session(store, lang)
    if out:
        from ....io.export import write_table
        write_table(quarantined(sess.con, table=table), out, sheet="quarantine")
        console.print(f"written to {out}")
        return
    v = quarantine_view(sess, quarantined(sess.con, table=table, limit=limit))
    print_json(v.to_dict()) if as_json else print_view(v, sess.lang, max_rows=limit)
