"""Load files into the store: read → validate against the table contract → write.

Guarantees:

- nothing is lost: every rejected row goes to the ``quarantine`` table (load id, table,
  source, row, column, reason, expected, got, raw values as JSON), and each
  :class:`LoadReport` satisfies ``rows_read == rows_loaded + rows_rejected``;
- atomic: on a DuckDB store the file is typed and checked in temporary tables of the
  connection (outside the store; scans of tables made inside a transaction would run on
  one thread), then every change to the store (new columns, rows, quarantine, log) is one
  transaction — a failure half-way leaves the store exactly as before; on other
  engines rows go to a staging table first and are moved in one statement;
- idempotent: a file whose content was already loaded into a table is skipped (content
  hash in ``load_log``); rows whose key is already in the store are rejected as
  ``duplicate_key`` unless ``replace=True``, which updates them.
"""
from __future__ import annotations

import json
import os
import time
import uuid
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, UTC
from pathlib import Path

import duckdb
import numpy as np

from ..errors import ConfigError, CxValueError, CxValueWarning, DataContractError, LoadAborted
from ..schema import SQL_TYPES, TABLE_ORDER, TABLES, Table, get_table
from ..store import backend_name, ensure_room, raw_duckdb, reclaim_space, room_for_load
from .derive import apply_derive
from .mapping import Mapping, load_mapping
from .readers import ReadOptions, Source, open_query, open_source
from .validate import (INFER_SAMPLE, LoadRules, checked_query, infer_extra_types, mistyped_extras,
                       optimizers_off, q, resolve_columns, retype_extras)

QUARANTINE_SQL = ("load_id VARCHAR, table_name VARCHAR, source VARCHAR, row BIGINT, column_name VARCHAR, "
                  "reason VARCHAR, expected VARCHAR, got VARCHAR, raw VARCHAR, quarantined_at TIMESTAMP")
LOAD_LOG_SQL = ("load_id VARCHAR, table_name VARCHAR, source VARCHAR, content_hash VARCHAR, loaded_at TIMESTAMP, "
                "rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, customers_created BIGINT, "
                "mapping VARCHAR, status VARCHAR")
SUPPORTED_FILES = (".csv", ".txt", ".tsv", ".dat", ".xlsx", ".xlsm", ".parquet", ".pq")


@dataclass
class LoadReport:
    table: str
    source: str
    load_id: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict = field(default_factory=dict)
    customers_created: int = 0
    columns: dict = field(default_factory=dict)     # source header -> store column
    extra_columns: list = field(default_factory=list)
    dropped_columns: list = field(default_factory=list)
    skipped: bool = False
    message: str = ""
    examples: list = field(default_factory=list)    # first rejected rows (row, column, reason, expected, got)
    warnings: list = field(default_factory=list)    # what loaded but deserves a look (e.g. formulas without values)
    seconds: float = 0.0

    def __post_init__(self):
        self.check()

    def check(self):
        if self.rows_read != self.rows_loaded + self.rows_rejected:
            raise AssertionError(f"load report does not reconcile: read {self.rows_read} != "
                                 f"loaded {self.rows_loaded} + rejected {self.rows_rejected}")

    def to_dict(self) -> dict:
        return asdict(self)


def _fail_point(step: str) -> None:
    """Hook for fault-injection tests (monkeypatched to raise at a given step)."""


def _ddl_columns(plan_cols) -> str:
    return ", ".join(f"{q(c.name)} {SQL_TYPES[c.spec.dtype]}" for c in plan_cols)


def _ensure_meta(con) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS quarantine ({QUARANTINE_SQL})")
    con.execute(f"CREATE TABLE IF NOT EXISTS load_log ({LOAD_LOG_SQL})")
    if not _table_columns(con, "customer_stubs"):
        # the stub customers (an id only, made for a row that named an unknown customer): a
        # customers file fills them instead of being rejected as duplicates. Stores made before
        # this table: a customer with nothing but an id is a stub.
        con.execute("CREATE TABLE customer_stubs (customer_id VARCHAR, load_id VARCHAR)")
        if _table_columns(con, "customers"):
            con.execute(f"INSERT INTO customer_stubs SELECT customer_id, NULL FROM ({_bare_customers(con)})")


def _bare_customers(con) -> str:
    """SELECT of the customers with nothing but an id."""
    others = [c for c in _table_columns(con, "customers") if c != "customer_id"]
    where = " AND ".join(f"{q(c)} IS NULL" for c in others) or "true"
    return f"SELECT customer_id FROM customers WHERE {where}"


def _stub_ids(con) -> str:
    """SELECT of the stub customers' ids (see :func:`_ensure_meta`)."""
    return "SELECT customer_id FROM customer_stubs" if _table_columns(con, "customer_stubs") else _bare_customers(con)


def _table_columns(con, name: str) -> dict[str, str]:
    rows = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                       "AND table_schema = current_schema() ORDER BY ordinal_position", [name]).fetchall()
    return {r[0]: r[1] for r in rows}


def _ensure_table(con, table, plan) -> None:
    existing = _table_columns(con, table.name)
    if not existing:
        base = [c for c in plan.columns if not c.extra and (c.source is not None or c.name in table.column_names)]
        cols = base + [c for c in plan.columns if c.extra]
        con.execute(f"CREATE TABLE {q(table.name)} ({_ddl_columns(cols)})")
        return
    for c in plan.columns:
        if c.name not in existing:
            con.execute(f"ALTER TABLE {q(table.name)} ADD COLUMN {q(c.name)} {SQL_TYPES[c.spec.dtype]}")


@dataclass
class _Run:
    """What the steps of one :func:`load_file` call share."""
    con: object            # the store (an Ibis backend)
    stage: object          # DuckDB connection that reads, types and checks the source
    native: bool           # the store is that DuckDB connection (else rows are moved to the store)
    spec: Table
    mapping: Mapping
    options: ReadOptions
    label: str             # the file path, or "<url> :: <query>"
    load_id: str
    rules: LoadRules = field(default_factory=LoadRules)
    src: Source | None = None
    in_txn: bool = False
    unverified: set = field(default_factory=set)   # extra columns typed from a sample, checked by validation
    guessed: set = field(default_factory=set)      # extra columns whose type was guessed on a sample
    parsed: set = field(default_factory=set)       # source columns the CSV reader parses as numbers

    @property
    def name(self) -> str:
        return Path(self.label).name


def load_file(con, table: str, path: str | Path | None = None, *, mapping: str | Path | Mapping | None = None,
              options: ReadOptions | dict | None = None, query: str | None = None, query_url: str | None = None,
              unknown_customer: str | None = None, replace: bool = False, strict: bool = False,
              memory_limit: str | None = None, rules: LoadRules | None = None, progress=None) -> LoadReport:
    """Load one file (or SQL query result) into ``table`` of the store ``con`` (an Ibis backend).

    ``unknown_customer``: ``"create"`` stub customers for ids not in ``customers`` (default: the
    setting's default) or ``"reject"`` such rows. ``strict``: abort (and roll back) on the first bad row,
    raising an error that names file, row, column, expected and got. ``memory_limit``: DuckDB's
    memory cap during the load (default: the default of setting ``load_memory_limit``); staging spills to disk
    beyond it. ``rules``: plausible dates, time zone, repeated rows, line items and the share of
    rejected rows that refuses the load (default :class:`LoadRules`: the settings' defaults, except
    that any share is accepted; the interfaces pass :func:`rules_from_settings`, 5% by default).
    """
    t0 = time.perf_counter()
    spec = get_table(table)
    mp, opts = _mapping_and_options(table, mapping, options)
    unknown_customer, memory_limit = _setting_defaults(unknown_customer, memory_limit)
    rules = rules or LoadRules()
    step = progress or (lambda msg: None)
    duck = raw_duckdb(con)
    run = _Run(con, duck if duck is not None else duckdb.connect(), duck is not None, spec, mp, opts,
               str(path) if path is not None else f"{query_url} :: {query}", uuid.uuid4().hex[:12], rules)
    # records are numbered in scan order (keep it), and memory is capped so that the staged copy of
    # a big file spills to disk
    auto = str(memory_limit).strip().lower() == "auto"
    restore = _set_options(run.stage, preserve_insertion_order=True,
                           memory_limit=AUTO_MEMORY if auto else (memory_limit or None))
    try:
        step("read")
        run.src = open_query(run.stage, query_url, query) if query is not None else open_source(run.stage, path, opts)
        if auto:   # the source's width is known: its need
            memory_limit = auto_memory_limit(len(run.src.headers))
            run.stage.execute(f"SET memory_limit = '{memory_limit}'")
        if run.src.content_hash and not replace and _already_loaded(con, run.stage if run.native else None, table,
                                                                    run.src.content_hash):
            return LoadReport(table, run.label, run.load_id, skipped=True, seconds=time.perf_counter() - t0,
                              message=f"{run.name} was already loaded into {table} (same content): skipped")
        ensure_room(con, room_for_load(path), f"loading {run.name} into {table}")
        if mp.derive:
            apply_derive(run.stage, run.src, mp.derive, spec, opts, _duck_types(run.stage, run.src))
        plan, native_types = _plan(run)
        step("validate")
        report, checks, good_sql = _validate(run, plan, native_types, replace=replace,
                                             unknown_customer=unknown_customer)
        step("write")
        _write(run, plan, report, checks, good_sql, replace=replace, strict=strict, unknown_customer=unknown_customer)
        report.warnings = list(run.src.warnings)
        for w in report.warnings:
            warnings.warn(w, CxValueWarning, stacklevel=2)
        report.seconds = time.perf_counter() - t0
        report.check()
        return report
    except BaseException as exc:
        _rollback(run)
        if isinstance(exc, CxValueError) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, duckdb.OutOfMemoryException):
            width = f" with {len(run.src.headers):,} columns" if run.src is not None else ""
            raise LoadAborted(f"loading {run.name}{width} into {table} ran out of memory (memory limit "
                              f"{memory_limit or 'DuckDB default'}) and was rolled back (the store is unchanged): "
                              f"raise it with --memory-limit (setting load_memory_limit); a wide file needs about "
                              f"{PER_COLUMN_MB} MB per column") from exc
        raise LoadAborted(f"loading {run.name} into {table} failed and was rolled back "
                          f"(the store is unchanged): {type(exc).__name__}: {exc}") from exc
    finally:
        _clean_up(run, restore)


AUTO_MEMORY = "2GB"     # load_memory_limit=auto: the cap of a file of up to 1,000 columns
PER_COLUMN_MB = 2       # ... and of a wider one per column: DuckDB builds a row group (122,880 rows) of
                        # every column in memory before it compresses it (about 1 MB per number column)


def auto_memory_limit(columns: int) -> str:
    """The memory cap of ``load_memory_limit=auto`` for a source of ``columns`` columns:
    :data:`AUTO_MEMORY`, or :data:`PER_COLUMN_MB` per column when that is more, at most 3/4 of
    the machine's memory. It depends on the width only: a longer file spills, a wider one
    needs more memory per row group being written."""
    want = max(2000, PER_COLUMN_MB * columns)
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
        want = min(want, max(2000, ram * 3 // 4))
    except (ValueError, OSError, AttributeError):   # no sysconf (Windows): the width's need
        pass
    return f"{want}MB"


def _mapping_and_options(table: str, mapping, options) -> tuple[Mapping, ReadOptions]:
    """The mapping (a file, a Mapping or none) and the read options, the mapping's on top."""
    mp = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    if mp.table and mp.table != table:
        raise CxValueError(f"mapping {mp.path} is for table {mp.table!r}, not {table!r}")
    opts = options if isinstance(options, ReadOptions) else ReadOptions.from_dict(options or {})
    return mp, (ReadOptions.from_dict(mp.options, base=opts) if mp.options else opts)


def _setting_defaults(unknown_customer: str | None, memory_limit: str | None) -> tuple[str, str | None]:
    """``unknown_customer`` and ``memory_limit``, the settings' defaults when not given (the
    interfaces pass the resolved settings; library code never reads the project's settings)."""
    if unknown_customer is None or memory_limit is None:
        from ..config import defaults
        settings = defaults()
        unknown_customer = settings["unknown_customer"] if unknown_customer is None else unknown_customer
        memory_limit = settings["load_memory_limit"] if memory_limit is None else memory_limit
    if unknown_customer not in ("create", "reject"):
        raise CxValueError(f"unknown_customer={unknown_customer!r} is not valid: expected 'create' or 'reject'")
    return unknown_customer, memory_limit


def rules_from_settings(settings: dict | None = None) -> LoadRules:
    """The :class:`LoadRules` of resolved ``settings`` (default: the settings' defaults)."""
    if settings is None:
        from ..config import defaults
        settings = defaults()
    return LoadRules(earliest_date=settings["earliest_date"], latest_date_years=int(settings["latest_date_years"]),
                     timezone=settings["timezone"], allow_repeated_rows=bool(settings["allow_repeated_rows"]),
                     max_reject_share=float(settings["max_reject_share"]))


WIDE_EXTRAS = 40   # extra columns beyond which a text file is typed from a sample and its number columns parsed by the reader


def _plan(run: _Run):
    """The column plan of the source (headers → contract columns), extra columns typed as they
    are in the store or, for new ones, from their values; and the source's SQL types."""
    stage, src = run.stage, run.src
    # a text file's scan is all VARCHAR (no second sniff of the file: seconds for a wide one)
    native_types = ({"__idx": "BIGINT", **{h: "VARCHAR" for h in src.headers}} if src.text and not run.mapping.derive
                    else _duck_types(stage, src))
    plan = resolve_columns(run.spec, src.headers, run.mapping, run.name, line_items=run.rules.line_items)
    store_cols = _store_columns(run.con, stage if run.native else None, run.spec.name)
    extras = [c.source for c in plan.columns if c.extra and not _dtype_of(store_cols.get(c.name))
              and native_types.get(c.source, "VARCHAR") == "VARCHAR"]   # typed in the store or the source: known
    wide = sum(c.extra for c in plan.columns) > WIDE_EXTRAS and src.relation.startswith("(")
    sniffed = src.sniffed_types() if wide and src.sniffed_types is not None and not run.mapping.derive else {}
    # many columns: the reader's sniffer names the number columns; the others' types are guessed
    # on the first rows, staged once (each group of columns then reads a small table, not the
    # file); validation checks every guess as it types every value (a column that fails on a
    # later row is typed again from every row)
    inferred = {h: kind for h in extras if (kind := _sniffed_number(sniffed.get(h, "")))}
    rest = [h for h in extras if h not in inferred]
    if not wide:
        inferred.update(infer_extra_types(stage, src, rest, run.options, native_types))
    else:
        if rest:
            stage.execute(f"CREATE OR REPLACE TEMP TABLE __sample AS SELECT * FROM {src.relation} LIMIT {INFER_SAMPLE}")
            inferred.update(infer_extra_types(stage, replace(src, relation="__sample"), rest, run.options,
                                              native_types, verify=False))
            stage.execute("DROP TABLE __sample")
        run.guessed = {c.name for c in plan.columns if c.extra and inferred.get(c.source, "string") != "string"}
        run.unverified = set(run.guessed)
    for c in plan.columns:
        if c.extra:
            dtype = _dtype_of(store_cols.get(c.name)) or inferred.get(c.source, "string")
            object.__setattr__(c, "spec", type(c.spec)(c.name, dtype))
    if sniffed:
        _parse_numbers(run, plan, native_types, sniffed)
    return plan, native_types


_SNIFFED_INT = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "HUGEINT")


def _sniffed_number(sql_type: str) -> str | None:
    """int or float for a column the CSV reader's sniffer found to hold numbers (else None)."""
    base = sql_type.split("(")[0].upper()
    return "int" if base in _SNIFFED_INT else "float" if base in ("DOUBLE", "FLOAT", "DECIMAL") else None


def _parse_numbers(run: _Run, plan, native_types: dict[str, str], sniffed: dict[str, str]) -> None:
    """A wide text file's extra number columns parsed by the CSV reader (as DOUBLE; validation
    checks whole numbers) instead of typed from text in SQL — a survey export's hundreds of
    rating columns are then read about as fast as DuckDB reads the file alone. Only columns the
    sniffer found to hold numbers (an NA code such as ``NA`` or ``-`` keeps a column text); one
    whose value fails to parse on a later row is read as text again (see :func:`_unparse`)."""
    src, options = run.src, run.options
    if src.typed_scan is None or options.decimal != ".":
        return
    parsed = {c.source for c in plan.columns if c.extra and c.source and c.spec.dtype in ("int", "float")
              and _sniffed_number(sniffed.get(c.source, "")) and not run.mapping.values.get(c.name)
              and native_types.get(c.source) == "VARCHAR"}
    if len(parsed) > WIDE_EXTRAS:
        run.parsed = parsed
        native_types.update({h: "DOUBLE" for h in parsed})
        src.relation = src.typed_scan({h: "DOUBLE" for h in parsed})


def _unparse(run: _Run, plan, native_types: dict[str, str], failed: set[str]) -> None:
    """Columns ``failed`` (a value the reader could not parse as a number) read as text again:
    validation types them from text (an extra column's guess is checked on every value)."""
    run.parsed -= failed
    native_types.update({h: "VARCHAR" for h in failed})
    run.unverified |= {c.name for c in plan.columns if c.source in failed} & run.guessed
    run.src.relation = run.src.typed_scan({h: "DOUBLE" for h in run.parsed})


def _typed_again(run: _Run, plan, native_types, checks) -> bool:
    """Once the source is typed into ``__typed``: whether it must
    be typed again — a number column parsed by the reader held text on some row (read it as text),
    or a type guessed on a sample failed on a later row (type that column from every row)."""
    failed = run.src.cast_failures() & run.parsed if run.parsed else set()
    if failed:
        _unparse(run, plan, native_types, failed)
        return True
    wrong = mistyped_extras(run.stage, "__typed", checks, run.unverified) if run.unverified else set()
    if wrong:
        _retype(run, plan, native_types, wrong)
    return bool(wrong)


def _retype(run: _Run, plan, native_types, names: set[str]) -> None:
    """Extra columns ``names`` typed again from every row of the source (a number column parsed
    by the reader that held a fraction: float)."""
    cols = [c for c in plan.columns if c.name in names]
    text = [c.source for c in cols if c.source not in run.parsed]
    types = retype_extras(run.stage, run.src, text, run.options, native_types) if text else {}
    for c in cols:
        object.__setattr__(c, "spec", type(c.spec)(c.name, types.get(c.source, "float")))
    run.unverified -= names


def _reference_tables(run: _Run, plan, *, replace: bool, unknown_customer: str):
    """SQL relations of the keys already in the store (None: no such check) and of the known
    customers (None: unknown customers are not rejected)."""
    spec, stage = run.spec, run.stage
    if not run.native:
        return _mirror_remote_keys(run.con, stage, spec, plan, replace, unknown_customer)
    existing_keys = customers = rows = None
    stored = _table_columns(stage, spec.name)
    keyed = bool(plan.key)
    if not keyed and not run.rules.allow_repeated_rows:   # keyless: a repeated row is a re-export, no new data
        rows = (q(spec.name) if stored else None, [c.name for c in plan.present if c.name in stored])
    if keyed and stored and all(k in stored for k in plan.key) and not replace:
        existing_keys = q(spec.name)
        if spec.name == "customers":     # stub customers are filled, not duplicates
            existing_keys = f"(SELECT * FROM customers WHERE customer_id NOT IN ({_stub_ids(stage)}))"
    if spec.name != "customers" and any(c.spec.customer_ref for c in plan.present) and unknown_customer == "reject":
        customers = "customers" if _table_columns(stage, "customers") else "(SELECT NULL::VARCHAR AS customer_id WHERE false)"
    return existing_keys, customers, rows


def _validate(run: _Run, plan, native_types, *, replace: bool, unknown_customer: str):
    """Type and check the source: the rejected rows into ``__bad``; returns the report (rows
    rejected by reason, nothing loaded yet), the checks and the SELECT of the good rows."""
    stage, src = run.stage, run.src
    existing_keys, customers, rows = _reference_tables(run, plan, replace=replace, unknown_customer=unknown_customer)
    staged = not src.relation.startswith("(")      # a staged table (lines, Excel, query), not a file scan
    typed_once = staged or src.text                # type and check once; later passes scan the result
    cp = checked_query(plan, src, run.options, run.mapping, native_types=native_types, existing_keys=existing_keys,
                       customers=customers, existing_rows=rows, rules=run.rules, materialize=typed_once)
    # the typing statements are one wide projection: DuckDB's common-subexpression pass costs
    # the square of its size (minutes for 2,000 columns), more than the repeated casts it saves
    with optimizers_off(stage, src, "common_subexpressions"):
        for stmt in cp.pre:           # typing text sources once, the key hashes seen twice
            stage.execute(stmt)
    if typed_once and _typed_again(run, plan, native_types, cp.checks):
        return _validate(run, plan, native_types, replace=replace, unknown_customer=unknown_customer)
    if src.finish:                # parser rejects are recorded once the source was read
        src.finish()
    if staged and typed_once:
        stage.execute(f"DROP TABLE {src.relation}")  # the typed copy is made: free the text copy
    has_dups = cp.dups is not None and stage.execute("SELECT count(*) FROM __duph").fetchone()[0] > 0
    if has_dups:
        stage.execute(cp.dups)
    stage.execute(f"CREATE OR REPLACE TEMP TABLE __bad AS {cp.bad if has_dups else cp.bad_no_dups}")
    _fail_point("checked")
    by_reason, cross = {}, 0
    for k, n in stage.execute("SELECT __check, count(*) FROM __bad GROUP BY 1").fetchall():
        by_reason[cp.checks[k - 1].reason] = by_reason.get(cp.checks[k - 1].reason, 0) + n
        cross += n if k > cp.n_row else 0
    for r in src.rejects:
        by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + 1
    rejected = sum(by_reason.values())
    report = LoadReport(run.spec.name, run.label, run.load_id, rows_read=rejected, rows_rejected=rejected,
                        rejected_by_reason=by_reason, columns=plan.mapped(),
                        extra_columns=[c.name for c in plan.columns if c.extra and c.source],
                        dropped_columns=plan.dropped)
    good_sql = cp.good if cross else cp.good_rowwise   # no anti-join when only per-row checks failed
    return report, cp.checks, good_sql


def _write(run: _Run, plan, report: LoadReport, checks, good_sql: str, *, replace: bool, strict: bool,
           unknown_customer: str) -> None:
    """Quarantine the rejected rows and write the good ones: on DuckDB in one transaction of the
    store (staging in temp tables outside it is done), elsewhere through a staging table."""
    stage, spec, present = run.stage, run.spec, plan.present
    if run.native:
        stage.execute("BEGIN TRANSACTION")
        run.in_txn = True
        _ensure_meta(stage)
    _quarantine(stage, run.con if not run.native else None, run.src, report, checks)
    if strict and report.rows_rejected:
        raise _strict_error(run, report)
    good_named = f"SELECT {', '.join(f'v_{i} AS {q(c.name)}' for i, c in enumerate(present))} FROM ({good_sql})"
    if not run.native:
        if replace and plan.key:
            raise CxValueError(f"--replace is only supported on DuckDB stores, not {backend_name(run.con)}")
        _write_remote(run.con, stage, spec, report, run.src, run.mapping, good_named, run.rules.max_reject_share,
                      plan.key)
    else:
        _insert(run, plan, report, good_sql, good_named, replace=replace, unknown_customer=unknown_customer)


def _insert(run: _Run, plan, report: LoadReport, good_sql: str, good_named: str, *, replace: bool,
            unknown_customer: str) -> None:
    """DuckDB store, inside the load's transaction: the good rows (replacing rows with the same
    key when ``replace``), stub customers, the log line; then commit."""
    stage, spec, present = run.stage, run.spec, plan.present
    existed = bool(_table_columns(stage, spec.name))
    _ensure_table(stage, spec, plan)
    cols = ", ".join(q(c.name) for c in present)
    if existed and plan.key and (replace or spec.name == "customers"):
        good = _upsert(stage, spec, plan.key, present, good_named, only_stubs=not replace)
    else:
        good = stage.execute(f"INSERT INTO {q(spec.name)} ({cols}) {good_sql}").fetchone()[0]
    report.rows_loaded, report.rows_read = int(good), int(good) + report.rows_rejected
    _check_reject_share(report, run.rules.max_reject_share, plan.key)
    _fail_point("inserted")
    _record_scales(stage, spec, present, run.mapping, run.load_id)
    report.customers_created = _create_customers(stage, spec, present, unknown_customer, good_named, run.load_id)
    stage.execute("INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok')",
                  [run.load_id, spec.name, run.label, run.src.content_hash, _now(), report.rows_read,
                   report.rows_loaded, report.rows_rejected, report.customers_created, run.mapping.path or ""])
    _fail_point("logged")
    stage.execute("COMMIT")
    run.in_txn = False


SCALES_SQL = "table_name VARCHAR, column_name VARCHAR, low DOUBLE, high DOUBLE, source VARCHAR, load_id VARCHAR"


def _record_scales(stage, spec, present, mapping: Mapping, load_id: str) -> None:
    """The declared answer scale of each rating column loaded (the mapping's ``scales`` or the
    contract's default), in ``column_scales``: what analyses on the store rescale by (the 0-100
    index needs the scale, not the range the answers happen to cover). The last load of a
    column sets it."""
    rows = []
    for c in present:
        if c.spec.scale is None:
            continue
        lo, hi = mapping.scale_for(c.name, c.spec.scale)
        rows.append((spec.name, c.name, float(lo), float(hi),
                     "mapping" if (lo, hi) != tuple(c.spec.scale) else "contract", load_id))
    if not rows:
        return
    stage.execute(f"CREATE TABLE IF NOT EXISTS column_scales ({SCALES_SQL})")
    stage.execute("DELETE FROM column_scales WHERE table_name = ? AND column_name IN "
                  f"({', '.join('?' for _ in rows)})", [spec.name, *[r[1] for r in rows]])
    stage.executemany("INSERT INTO column_scales VALUES (?, ?, ?, ?, ?, ?)", rows)


def declared_scales(con, table: str) -> dict[str, tuple[float, float]]:
    """Column → declared answer scale (low, high) of the rating columns of ``table`` in the store
    ``con`` (an Ibis backend): as recorded by the loads, else the contract's default for the
    contract's rating columns (stores loaded before scales were recorded)."""
    from ..schema import get_table
    out: dict[str, tuple[float, float]] = {}
    if table not in con.list_tables():
        return out
    spec = get_table(table)
    for col in con.table(table).columns:
        try:
            c = spec.column(col)
        except KeyError:     # an extra column: no declared scale
            continue
        if c.scale is not None:
            out[col] = tuple(map(float, c.scale))
    if "column_scales" in con.list_tables():
        t = con.table("column_scales")
        rows = t.filter(t.table_name == table).select("column_name", "low", "high").to_pandas()
        out.update({r.column_name: (float(r.low), float(r.high)) for r in rows.itertuples()})
    return out


def _upsert(stage, spec, key: tuple[str, ...], present, good_named: str, *, only_stubs: bool) -> int:
    """Rows whose key is in the store update it — only the columns the file has, so that a file
    with fewer columns blanks nothing — and the others are inserted. ``only_stubs``: update only
    stub customers (a customers file without --replace; other existing keys were rejected as
    duplicates). Returns the rows written."""
    t = q(spec.name)
    stage.execute(f"CREATE OR REPLACE TEMP TABLE __good AS {good_named}")
    match = " AND ".join(f"{t}.{q(k)} = __good.{q(k)}" for k in key)
    sets = [c.name for c in present if c.name not in key]
    stubs = f" AND {t}.customer_id IN ({_stub_ids(stage)})" if only_stubs else ""
    updated = 0
    if sets:
        updated = stage.execute(f"UPDATE {t} SET {', '.join(f'{q(c)} = __good.{q(c)}' for c in sets)} FROM __good "
                                f"WHERE {match}{stubs}").fetchone()[0]
    else:   # a file of keys only: nothing to update, but the rows are in the store
        updated = stage.execute(f"SELECT count(*) FROM __good WHERE EXISTS (SELECT 1 FROM {t} WHERE {match})"
                                ).fetchone()[0]
    cols = ", ".join(q(c.name) for c in present)
    inserted = stage.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM __good WHERE NOT EXISTS "
                             f"(SELECT 1 FROM {t} WHERE {match})").fetchone()[0]
    if spec.name == "customers" and _table_columns(stage, "customer_stubs"):
        stage.execute("DELETE FROM customer_stubs WHERE customer_id IN (SELECT customer_id FROM __good)")
    stage.execute("DROP TABLE __good")
    return int(updated) + int(inserted)


def _check_reject_share(report: LoadReport, max_share: float, key: tuple[str, ...] = ()) -> None:
    """Refuse (roll back) a load that rejects more than ``max_share`` of its rows: it is more
    likely a file read the wrong way (a mapping, line items taken for orders) than bad rows."""
    if not report.rows_read or report.rows_rejected <= max_share * report.rows_read:
        return
    top = sorted(report.rejected_by_reason.items(), key=lambda kv: -kv[1])[:3]
    ex = {e["reason"]: e for e in reversed(report.examples)}
    parts = []
    for reason, n in top:
        e = ex.get(reason)
        where = f" (e.g. row {e['row']}: {e['column'] or 'the row'}: expected {e['expected']}, got {e['got']!r})" if e else ""
        parts.append(f"{reason} {n:,}{where}")
    hint = ""
    if key == ("order_id",) and report.rejected_by_reason.get("duplicate_key", 0) >= max_share * report.rows_read:
        hint = ("; if the file has one row per order line, map its line number to 'line' or load it with "
                "--line-items")
    raise DataContractError(
        f"{Path(report.source).name}: {report.rows_rejected:,} of {report.rows_read:,} rows "
        f"({report.rows_rejected / report.rows_read:.1%}) would be rejected, more than the {max_share:.0%} allowed — "
        f"{'; '.join(parts)}{hint}. Nothing was loaded; fix the file or mapping, or load anyway with --allow-rejects "
        f"(setting max_reject_share)", source=report.source)


def _strict_error(run: _Run, report: LoadReport) -> DataContractError:
    ex = report.examples[0]
    return DataContractError(
        f"{run.name} row {ex['row']}: column {ex['column']!r}: {ex['reason']}: expected "
        f"{ex['expected']}, got {ex['got']!r} ({report.rows_rejected} bad row(s); nothing was loaded)",
        source=run.label, row=ex["row"], column=ex["column"], expected=ex["expected"], got=ex["got"])


def _rollback(run: _Run) -> None:
    if run.in_txn:
        try:
            run.stage.execute("ROLLBACK")
        except duckdb.Error:
            pass
        if run.native:
            reclaim_space(run.stage)   # the blocks the load wrote go back to the disk


def _clean_up(run: _Run, restore: dict) -> None:
    """Close the source, drop the staging tables, close or reset the stage."""
    if run.src is not None:
        run.src.close()
    for t in ("__bad", "__dups", "__duph", "__raw", "__vals", "__checked", "__typed", "__good", "__src", "src", "src_lines"):
        try:
            run.stage.execute(f"DROP TABLE IF EXISTS {t}")
        except duckdb.Error:
            pass
    if not run.native:
        run.stage.close()
    else:
        _set_options(run.stage, **restore)


_RESET = object()


def _set_options(stage, **options) -> dict:
    """Set DuckDB options (``None``: leave as is; ``_RESET``: back to DuckDB's default); returns
    the previous values, to restore them (a default as ``_RESET``: sizes read back are rounded)."""
    before = {}
    for name, value in options.items():
        if value is None:
            continue
        was = stage.execute(f"SELECT current_setting('{name}')").fetchone()[0]
        stage.execute(f"RESET {name}")
        default = stage.execute(f"SELECT current_setting('{name}')").fetchone()[0]
        before[name] = _RESET if was == default else was
        if value is _RESET:
            continue
        try:
            stage.execute(f"SET {name} = ?", [value])
        except duckdb.Error as exc:
            _set_options(stage, **before)  # this one and the ones set before it
            raise ConfigError(f"{name}={value!r} is not valid for DuckDB: {str(exc).splitlines()[0]}") from None
    return before


def _duck_types(stage, src: Source) -> dict[str, str]:
    """Column name → SQL type of the staged source (VARCHAR for text files)."""
    return {row[0]: _sqltype(row[1]) for row in stage.execute(f"DESCRIBE SELECT * FROM {src.relation}").fetchall()}


def _sqltype(t: str) -> str:
    t = str(t).upper()
    return "TIMESTAMP" if t.startswith("TIMESTAMP") else t


def _dtype_of(sqltype: str | None) -> str | None:
    if sqltype is None:
        return None
    sqltype = _sqltype(sqltype)
    rev = {v: k for k, v in SQL_TYPES.items()}
    return rev.get(sqltype, "string" if sqltype == "VARCHAR" else None)


def _store_columns(con, stage, table: str) -> dict[str, str]:
    if stage is not None:
        return _table_columns(stage, table)
    if table not in con.list_tables():
        return {}
    schema = con.table(table).schema()
    rev = {"string": "VARCHAR", "int64": "BIGINT", "float64": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE",
           "timestamp": "TIMESTAMP"}
    return {n: rev.get(str(t).split("(")[0].lower().rstrip("!"), "VARCHAR") for n, t in schema.items()}


def _already_loaded(con, stage, table: str, digest: str) -> bool:
    if stage is not None:
        if not _table_columns(stage, "load_log"):
            return False
        return bool(stage.execute("SELECT count(*) FROM load_log WHERE table_name = ? AND content_hash = ? "
                                  "AND status = 'ok'", [table, digest]).fetchone()[0])
    if "load_log" not in con.list_tables():
        return False
    lg = con.table("load_log")
    return lg.filter((lg.table_name == table) & (lg.content_hash == digest)).count().execute() > 0


def _quarantine(stage, remote, src: Source, report: LoadReport, checks) -> None:
    """Rejected rows → quarantine, with user-facing row numbers and raw values as JSON."""
    rows = []
    if report.rows_rejected > len(src.rejects):
        bad = stage.execute("SELECT __idx, __check, __got, __raw FROM __bad ORDER BY __idx").fetchnumpy()
        nums = src.row_numbers(np.asarray(bad["__idx"]))
        for k in range(len(nums)):
            c = checks[int(bad["__check"][k]) - 1]
            got = bad["__got"][k]
            rows.append((int(nums[k]), c.column, c.reason, c.expected, None if got is None else str(got), bad["__raw"][k]))
    for r in src.rejects:
        rows.append((r["row"], r["column"], r["reason"], r["expected"], r["got"],
                     json.dumps({"line": r["raw"]}, ensure_ascii=False)))
    rows.sort(key=lambda r: r[0])
    report.examples = [dict(zip(("row", "column", "reason", "expected", "got"), r[:5])) for r in rows[:20]]
    if not rows:
        return
    import pyarrow as pa
    now = _now()
    tbl = pa.table({"load_id": [report.load_id] * len(rows), "table_name": [report.table] * len(rows),
                    "source": [report.source] * len(rows), "row": [r[0] for r in rows],
                    "column_name": [r[1] for r in rows], "reason": [r[2] for r in rows],
                    "expected": [r[3] for r in rows], "got": [r[4] for r in rows],
                    "raw": [r[5] for r in rows], "quarantined_at": [now] * len(rows)})
    if remote is None:
        stage.register("__q", tbl)
        stage.execute("INSERT INTO quarantine SELECT * FROM __q")
        stage.unregister("__q")
    else:
        report._pending_quarantine = tbl  # written with the rows by _write_remote


def _create_customers(stage, spec, present, mode: str, loaded: str, load_id: str | None = None) -> int:
    """``unknown_customer="create"``: add a stub customer (id only) for every id the rows just
    loaded (SELECT ``loaded``) refer to that the customers table lacks; returns how many were added."""
    if spec.name == "customers" or mode != "create":
        return 0
    refs = [c.name for c in present if c.spec.customer_ref]
    if not refs:
        return 0
    if not _table_columns(stage, "customers"):
        stage.execute("CREATE TABLE customers (" + ", ".join(f"{q(c.name)} {SQL_TYPES[c.dtype]}"
                                                           for c in TABLES["customers"].columns) + ")")
    ids = " UNION ".join(f"SELECT {q(r)} AS customer_id FROM ({loaded}) WHERE {q(r)} IS NOT NULL" for r in refs)
    stage.execute(f"CREATE OR REPLACE TEMP TABLE __stubs AS SELECT customer_id FROM ({ids}) "
                  f"EXCEPT SELECT customer_id FROM customers")
    n = stage.execute("INSERT INTO customers (customer_id) SELECT customer_id FROM __stubs").fetchone()[0]
    stage.execute("INSERT INTO customer_stubs SELECT customer_id, ? FROM __stubs", [load_id])
    stage.execute("DROP TABLE __stubs")
    return int(n)


def _now():
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


# ---- other engines (PySpark, Postgres ...): validate in DuckDB, move rows through a staging table
def _mirror_remote_keys(con, stage, spec, plan, replace, unknown_customer):
    existing = customers = None
    tables = con.list_tables()
    if plan.key and spec.name in tables and not replace and all(k in con.table(spec.name).columns for k in plan.key):
        keys = con.table(spec.name).select(*plan.key).distinct().to_pyarrow()
        stage.register("__remote_keys", keys)
        existing = "__remote_keys"
    if spec.name != "customers" and unknown_customer == "reject" and any(c.spec.customer_ref for c in plan.present):
        if "customers" in tables:
            stage.register("__remote_customers", con.table("customers").select("customer_id").distinct().to_pyarrow())
            customers = "__remote_customers"
        else:
            customers = "(SELECT NULL::VARCHAR AS customer_id WHERE false)"
    return existing, customers, None    # keyless re-exports are recognised on DuckDB stores only


def _write_remote(con, stage, spec, report, src, mp, good_sql: str, max_share: float = 1.0, key: tuple = ()):
    """Other engines: the good rows (validated in the DuckDB stage) go to a staging table of the
    store, then into the target in one statement; then the quarantine rows and the log line."""
    import pyarrow as pa
    rows = stage.execute(good_sql).to_arrow_table()
    report.rows_loaded, report.rows_read = rows.num_rows, rows.num_rows + report.rows_rejected
    _check_reject_share(report, max_share, key)
    tables = con.list_tables()
    if spec.name in tables:
        target_cols = con.table(spec.name).columns
        new = [c for c in rows.column_names if c not in target_cols]
        if new:
            raise CxValueError(f"{Path(report.source).name}: columns {new} are not in the store's {spec.name} table; "
                               f"on a {backend_name(con)} store add them first or drop them with the mapping's 'drop'")
        for c in target_cols:
            if c not in rows.column_names:
                typ = con.table(spec.name).schema()[c]
                rows = rows.append_column(c, pa.nulls(len(rows), type=typ.to_pyarrow()))
        rows = rows.select(list(target_cols))
    staging = f"cx_staging_{report.load_id}"
    try:
        con.create_table(staging, rows)
        if spec.name in tables:
            con.insert(spec.name, con.table(staging))
        else:
            con.create_table(spec.name, con.table(staging))
    finally:
        try:
            con.drop_table(staging, force=True)
        except Exception:
            pass
    qt = getattr(report, "_pending_quarantine", None)
    if qt is not None:
        if "quarantine" in tables:
            con.insert("quarantine", qt)
        else:
            con.create_table("quarantine", qt)
        del report._pending_quarantine
    log = pa.table({"load_id": [report.load_id], "table_name": [spec.name], "source": [report.source],
                    "content_hash": [src.content_hash], "loaded_at": [_now()], "rows_read": [report.rows_read],
                    "rows_loaded": [report.rows_loaded], "rows_rejected": [report.rows_rejected],
                    "customers_created": [0], "mapping": [mp.path or ""], "status": ["ok"]})
    if "load_log" in tables:
        con.insert("load_log", log)
    else:
        con.create_table("load_log", log)


def load_dir(con, folder: str | Path, *, options: ReadOptions | dict | None = None, unknown_customer: str | None = None,
             replace: bool = False, strict: bool = False, memory_limit: str | None = None, rules: LoadRules | None = None,
             progress=None) -> tuple[list[LoadReport], list[str]]:
    """Load every file in ``folder`` named after a table (``transactions.csv``, ``customers.xlsx`` ...),
    customers first. A ``<table>.yaml`` beside a file is used as its mapping. Returns the reports and
    the names of files that were not loaded (not named after a table)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CxValueError(f"{str(folder)!r} is not a folder")
    files = {}
    ignored = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in (".yaml", ".yml") or p.name.startswith(".") or p.is_dir():
            continue
        stem = p.name.split(".")[0]
        if stem in TABLES and p.suffix.lower() in SUPPORTED_FILES:
            if stem in files:
                raise CxValueError(f"{folder}: two files for table {stem!r}: {files[stem].name} and {p.name}")
            files[stem] = p
        else:
            ignored.append(p.name)
    if not files:
        raise CxValueError(f"{folder}: no file named after a table ({', '.join(TABLES)}), e.g. transactions.csv")
    reports = []
    for name in TABLE_ORDER:
        if name in files:
            m = next((folder / f"{name}{s}" for s in (".yaml", ".yml") if (folder / f"{name}{s}").exists()), None)
            if progress:
                progress(f"{name}: {files[name].name}")
            reports.append(load_file(con, name, files[name], mapping=m, options=options,
                                     unknown_customer=unknown_customer, replace=replace, strict=strict,
                                     memory_limit=memory_limit, rules=rules))
    return reports, ignored
