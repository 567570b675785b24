"""The store: one entry point, :func:`connect`, returning an Ibis backend.

Default is an embedded DuckDB file (``cxvalue.duckdb`` in the working folder, see the
``store`` setting). Accepted URLs:

- ``PATH`` or ``PATH.duckdb`` or ``duckdb://PATH`` — DuckDB file (created when missing)
- ``duckdb://`` or ``:memory:`` — DuckDB in memory
- ``postgres://user:password@host:port/database`` (and any other URL ``ibis.connect`` accepts)
- ``pyspark://`` or ``pyspark://local[N]`` — a local Spark session (needs the ``spark`` extra)

Ibis pins the session time zone to UTC on DuckDB and Spark; timestamps are stored as
given (naive).
Analyses read tables only through this module; nothing else in cxvalue is engine-specific
except the DuckDB fast paths of the loader (:mod:`cxvalue.io.load`) and of :func:`lookup`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ibis

from .errors import CxValueError, StoreError
from .schema import TABLES

DEFAULT_STORE = "cxvalue.duckdb"


def connect(url: str | Path | None = None, *, read_only: bool = False):
    """Open the store at ``url`` (default ``cxvalue.duckdb``; interfaces pass the ``store``
    setting) and return an Ibis backend."""
    url = str(DEFAULT_STORE if url is None else url)
    if url in ("duckdb://", ":memory:", "duckdb://:memory:"):
        return ibis.duckdb.connect()
    if url.startswith(("pyspark://", "spark://")):
        return _connect_spark(url.split("://", 1)[1] or "local[1]")
    if url.startswith("duckdb://"):
        url = url[len("duckdb://"):]
    elif "://" in url:
        try:
            return ibis.connect(url)
        except Exception as exc:  # driver missing, server down, bad URL
            raise StoreError(f"cannot open store {url!r}: {exc}") from None
    path = Path(url).expanduser()
    if path.suffix == "":
        path = path.with_suffix(".duckdb")
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = ibis.duckdb.connect(str(path), read_only=read_only)
        con.con.execute("SET enable_progress_bar = false")  # interfaces show their own progress
        return con
    except Exception as exc:
        if "lock" in str(exc).lower():
            import re
            pid = re.search(r"PID (\d+)", str(exc))
            raise StoreError(f"store {str(path)!r} is in use by another process{f' (PID {pid.group(1)})' if pid else ''}: "
                             "DuckDB allows one writer per file. If it is `cxvalue serve`, run analyses from its "
                             "Admin → Jobs page (or POST /admin/jobs), or stop the server first") from None
        raise StoreError(f"cannot open DuckDB store {str(path)!r}: {exc}") from None


_SPARK = {}


def _connect_spark(master: str):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise StoreError("a pyspark:// store needs PySpark: pip install 'cxvalue[spark]'") from None
    if master not in _SPARK:
        session = (SparkSession.builder.master(master).appName("cxvalue")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
        _SPARK[master] = session
    return ibis.pyspark.connect(_SPARK[master])


def backend_name(con) -> str:
    return getattr(con, "name", type(con).__module__.split(".")[-1])


def raw_duckdb(con):
    """The underlying ``duckdb.DuckDBPyConnection`` of a DuckDB backend, else None."""
    return con.con if backend_name(con) == "duckdb" else None


def has_table(con, name: str) -> bool:
    return name in con.list_tables()


def table(con, name: str):
    """The Ibis table ``name``; a clear error if it was never loaded."""
    if not has_table(con, name):
        raise StoreError(f"table {name!r} is not in the store: load it with `cxvalue load {name} FILE`")
    return con.table(name)


_contract_table = table   # for functions whose ``table`` argument names a table


def status(con) -> dict:
    """Tables, row counts, customer counts, date ranges and quarantined rows by reason (engine-side)."""
    present = set(con.list_tables())
    tables = []
    for name, spec in TABLES.items():
        if name not in present:
            continue
        t = con.table(name)
        aggs = {"rows": t.count()}
        if "customer_id" in t.columns:
            aggs["customers"] = t.customer_id.nunique()
        if spec.date_column and spec.date_column in t.columns:
            aggs["date_from"] = t[spec.date_column].min()
            aggs["date_to"] = t[spec.date_column].max()
        row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
        tables.append({"table": name, "rows": int(row["rows"]), "customers": row.get("customers"),
                       "date_from": _iso(row.get("date_from")), "date_to": _iso(row.get("date_to"))})
    quarantine = []
    if "quarantine" in present:
        q = con.table("quarantine")
        agg = (q.group_by(["table_name", "reason", "column_name"]).aggregate(rows=q.count())
               .order_by(["table_name", ibis.desc("rows")]))
        quarantine = [{k: v for k, v in r.items()} for r in agg.to_pyarrow().to_pylist()]
    loads = []
    if "load_log" in present:
        lg = con.table("load_log").order_by("loaded_at")
        loads = [{k: _iso(v) for k, v in r.items()} for r in lg.to_pyarrow().to_pylist()]
    return {"store": describe(con), "tables": tables, "quarantine": quarantine, "loads": loads}


def quarantined(con, *, table: str | None = None, limit: int | None = None):
    """Quarantined rows (pandas; oldest load first, then source and row), optionally of one table."""
    q = _contract_table(con, "quarantine")
    if table:
        q = q.filter(q.table_name == table)
    q = q.order_by(["quarantined_at", "source", "row"])
    return (q.limit(limit) if limit else q).to_pandas()


def describe(con) -> str:
    name = backend_name(con)
    if name == "duckdb":
        try:
            path = con.con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
        except Exception:
            path = None
        return f"duckdb:{path or ':memory:'}"
    return name


def _iso(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


# --------------------------------------------------------------------------- result tables
@dataclass(frozen=True)
class ResultTable:
    """A declared result table: ``snapshot`` (rewritten by each run), ``ledger`` (appended,
    never overwritten: cases, their events, the run log, the audit trail) or ``state`` (small
    tables owned by one module and rewritten whole by it, never by a run: users, sessions, API
    tokens). ``key``: the columns identifying a row; ``columns``: the columns readers rely on
    (checked on every write)."""
    name: str
    kind: str = "snapshot"
    key: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    doc: str = ""


RESULTS: dict[str, ResultTable] = {}
KINDS = ("snapshot", "ledger", "state")


def declare(name: str, *, kind: str = "snapshot", key=(), columns=(), doc: str = "") -> ResultTable:
    """Declare a result table (once; the same declaration again is a no-op)."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is not valid: expected one of {KINDS}")
    if name in TABLES or name in ("load_log", "quarantine"):
        raise ValueError(f"{name!r} is a data-contract table, not a result table")
    spec = ResultTable(name, kind, tuple(key), tuple(dict.fromkeys((*key, *columns))), doc)
    old = RESULTS.get(name)
    if old is not None and old != spec:
        raise ValueError(f"result table {name!r} is declared twice, differently")
    RESULTS[name] = spec
    return spec


declare("run_log", kind="ledger", key=("run_id", "step"),
        columns=("at", "as_of", "domain", "status", "reason", "warnings", "tables", "summary", "seconds"),
        doc="One row per step of every `cxvalue run`: status (ok, skipped), the reason of a skip, "
            "the typed warnings raised, the tables written with their row counts, seconds.")


def result_spec(name: str) -> ResultTable:
    """The declaration of result table ``name`` (domains declare theirs in their ``pipeline``
    module, imported by :func:`cxvalue.steps.import_steps`)."""
    if name not in RESULTS:
        raise StoreError(f"{name!r} is not a declared result table; declared: {', '.join(sorted(RESULTS))}")
    return RESULTS[name]


def _frame(frame, index):
    import pandas as pd
    df = frame
    if isinstance(df, pd.DataFrame):
        if index or (index is None and df.index.name is not None):
            df = df.reset_index()
        df = df.copy()
        df.columns = [str(c) for c in df.columns]
        df.attrs = {}          # analysis metadata on the frame is not stored (the engine cannot keep it)
        for c in df.columns:   # a text column with no value yet: typed as text (Spark cannot store a void column)
            if df[c].dtype == object and df[c].isna().all():
                df[c] = df[c].astype("string")
    return df


def _check_columns(spec: ResultTable, df) -> None:
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise StoreError(f"result table {spec.name!r}: the frame lacks declared column(s) {', '.join(missing)}; "
                         f"it has {', '.join(map(str, df.columns))}")


STAGING_PREFIX = "_staging_"


class StagedResult:
    """A snapshot result written in parts — a long step's batches — into a staging table
    (``_staging_<name>``), so that memory stays bounded. Handed to :func:`write_result` (e.g. as
    a :class:`~cxvalue.steps.StepResult` table) it replaces the result at once; until then the
    previous result stays as it was, and a staging table left by a failed run is dropped by the
    next one. Every part must have the same columns and types (``dtypes``: column → pandas dtype,
    applied to each part, so that a part whose column is all missing keeps the type)."""

    def __init__(self, con, name: str, dtypes: dict | None = None):
        spec = result_spec(name)
        if spec.kind != "snapshot":
            raise StoreError(f"{name!r} is a {spec.kind} table: only snapshot results are staged")
        self.con, self.name, self.dtypes = con, name, dict(dtypes or {})
        self.staging = STAGING_PREFIX + name
        self.rows = 0
        if has_table(con, self.staging):
            con.drop_table(self.staging)

    def append(self, frame) -> None:
        df = _frame(frame, False)
        _check_columns(result_spec(self.name), df)
        if self.dtypes:
            df = df.astype({c: t for c, t in self.dtypes.items() if c in df.columns})
        if self.rows == 0 and not has_table(self.con, self.staging):
            self.con.create_table(self.staging, df)
        else:
            self.con.insert(self.staging, df)
        self.rows += len(df)

    def __len__(self) -> int:
        return self.rows

    def publish(self):
        """Replace result ``name`` by the staged rows (on DuckDB in one transaction)."""
        if not has_table(self.con, self.staging):
            raise StoreError(f"result {self.name!r}: nothing was staged")
        raw = raw_duckdb(self.con)
        if raw is None:
            self.con.create_table(self.name, self.con.table(self.staging), overwrite=True)
            self.con.drop_table(self.staging)
        else:
            raw.begin()
            try:
                raw.execute(f'drop table if exists "{self.name}"')
                raw.execute(f'alter table "{self.staging}" rename to "{self.name}"')
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
        return self.con.table(self.name)


def write_result(con, name: str, frame, *, index: bool | None = None):
    """Write snapshot result ``name`` (a pandas DataFrame, one row per entity, an Ibis
    expression, written by the engine without passing through Python, or a
    :class:`StagedResult`), replacing the previous one. A named index (e.g. customer_id) becomes
    a column. Ledgers are refused."""
    spec = result_spec(name)
    if spec.kind == "ledger":
        raise StoreError(f"{name!r} is a ledger: it is appended to (append_ledger), never overwritten")
    if spec.kind == "state":
        raise StoreError(f"{name!r} is a state table: it is rewritten only by its owner (write_state)")
    if isinstance(frame, StagedResult):
        if frame.name != name:
            raise StoreError(f"the rows staged for {frame.name!r} cannot be written as {name!r}")
        return frame.publish()
    df = _frame(frame, index)
    _check_columns(spec, df)
    con.create_table(name, df, overwrite=True)
    return con.table(name)


def append_ledger(con, name: str, frame, *, index: bool | None = None):
    """Append rows to ledger ``name`` (created on first use); existing rows are never changed."""
    spec = result_spec(name)
    if spec.kind != "ledger":
        raise StoreError(f"{name!r} is a snapshot result, not a ledger: use write_result")
    df = _frame(frame, index)
    _check_columns(spec, df)
    if has_table(con, name):
        con.insert(name, df)
    else:
        con.create_table(name, df)
    return con.table(name)


def append_ledgers(con, frames: dict) -> None:
    """Append to several ledgers at once, all or nothing: on DuckDB in one transaction (a failure
    half-way leaves every ledger as it was); on other engines one after the other."""
    for name in frames:
        if result_spec(name).kind != "ledger":
            raise StoreError(f"{name!r} is not a ledger")
    raw = raw_duckdb(con)
    if raw is None:
        for name, frame in frames.items():
            append_ledger(con, name, frame)
        return
    raw.begin()
    try:
        for name, frame in frames.items():
            append_ledger(con, name, frame)
        raw.commit()
    except BaseException:
        raw.rollback()
        raise


def write_state(con, name: str, frame):
    """Rewrite state table ``name`` (users, sessions, tokens) whole; other kinds are refused."""
    spec = result_spec(name)
    if spec.kind != "state":
        raise StoreError(f"{name!r} is a {spec.kind} table, not a state table")
    df = _frame(frame, False)
    _check_columns(spec, df)
    con.create_table(name, df, overwrite=True)
    return con.table(name)


def drop_result(con, name: str) -> None:
    """Drop a snapshot result table; ledgers and state tables are refused."""
    if result_spec(name).kind != "snapshot":
        raise StoreError(f"{name!r} is a {result_spec(name).kind} table and is never dropped by cxvalue")
    if has_table(con, name):
        con.drop_table(name)


def lookup(con, name: str, column: str, value, *, order_by: str | None = None, descending: bool = True,
           limit: int | None = None, missing_ok: bool = False):
    """The rows of table ``name`` whose ``column`` equals ``value`` (pandas), newest first by
    ``order_by``: the point look-up of a customer page. ``missing_ok``: None when the table is
    not in the store. On DuckDB a parameterised statement (no catalogue or schema queries, no
    expression compilation per call: a few milliseconds); on other engines the Ibis expression."""
    raw = raw_duckdb(con)
    if raw is None:
        if not has_table(con, name):
            if missing_ok:
                return None
            table(con, name)
        t = con.table(name)
        for c in (column, order_by):
            if c is not None and c not in t.columns:
                raise StoreError(f"table {name!r} has no column {c!r}")
        e = t.filter(t[column] == value)
        if order_by:
            e = e.order_by(ibis.desc(order_by) if descending else ibis.asc(order_by))
        return (e.limit(limit) if limit else e).to_pandas()
    import duckdb
    q = f'select * from "{name}" where "{column}" = ?'
    if order_by:
        q += f' order by "{order_by}" {"desc" if descending else "asc"}'
    if limit:
        q += f" limit {int(limit)}"
    try:
        return raw.cursor().execute(q, [value]).df()
    except duckdb.CatalogException:
        if missing_ok:
            return None
        raise StoreError(f"table {name!r} is not in the store: load it with `cxvalue load {name} FILE`") from None
    except duckdb.BinderException as exc:
        raise StoreError(f"table {name!r}: {str(exc).splitlines()[0]}") from None


def read_result(con, name: str):
    """A result table as pandas, or None when the analysis has not run on this store."""
    return con.table(name).to_pandas() if has_table(con, name) else None


# --------------------------------------------------------------------------- the analysis date
ACTIVITY_DATES = (("transactions", "date"), ("subscriptions", "start_date"), ("responses", "date"),
                  ("complaints", "opened"), ("churn_events", "date"))


def last_activity_date(con) -> dt.date:
    """The last date in the store's activity tables (transactions, subscriptions, responses,
    complaints, churn events): the default ``as_of`` of every analysis."""
    import pandas as pd
    have = set(con.list_tables())
    ends = []
    for name, col in ACTIVITY_DATES:
        if name in have and col in con.table(name).columns:
            v = con.table(name)[col].cast("date").max().execute()
            if v is not None and not pd.isna(v):
                ends.append(pd.Timestamp(v).date())
    if not ends:
        raise CxValueError("the store holds no dated activity: load transactions or subscriptions first "
                           "(`cxvalue load transactions FILE`)")
    return max(ends)
