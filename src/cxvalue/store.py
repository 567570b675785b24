"""The store: one entry point, :func:`connect`, returning an Ibis backend.

Default is an embedded DuckDB file (``cxvalue.duckdb`` in the working folder, see the
``store`` setting). Accepted URLs:

- ``PATH`` or ``PATH.duckdb`` or ``duckdb://PATH`` — DuckDB file (created when missing, unless
  ``create=False``: the interfaces' reading commands never create a store)
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
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import ibis

from .errors import CxValueError, StoreError, StoreWarning
from .schema import TABLES

DEFAULT_STORE = "cxvalue.duckdb"


def connect(url: str | Path | None = None, *, read_only: bool = False, create: bool = True):
    """Open the store at ``url`` (default ``cxvalue.duckdb``; interfaces pass the ``store``
    setting) and return an Ibis backend.

    A DuckDB file that does not exist is created (with its folder) unless ``create=False``: then
    a :class:`StoreError` says to load data first (the CLI's commands open the store through
    their session with ``create=False``; only ``load`` and ``demo`` build stores). A file DuckDB cannot read (not a
    database, a damaged header or catalogue) is a one-line :class:`StoreError`; a write-ahead log
    beside the file that DuckDB could not replay is a :class:`StoreWarning` (see
    :func:`wal_discarded`)."""
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
    if not path.exists():
        if not create or read_only:
            raise StoreError(f"no store at {str(path)!r}: load data first with `cxvalue load TABLE FILE` "
                             "(or `cxvalue demo`)")
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path.is_dir():
        raise StoreError(f"store {str(path)!r} is a folder, not a DuckDB file")
    wal = _wal_path(path)
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    _OPENED[:] = [str(path)]
    try:
        con = ibis.duckdb.connect(str(path), read_only=read_only)
        con.con.execute("SET enable_progress_bar = false")  # interfaces show their own progress
    except Exception as exc:
        text = str(exc)
        if "not a valid duckdb database" in text.lower():
            raise StoreError(f"{str(path)!r} is not a DuckDB database, or its header is damaged "
                             f"({_first_line(text)}): check --store (setting store); if it is the store, restore "
                             "it from a backup or rebuild it from the source files") from None
        if "failure while replaying wal" in text.lower():
            raise StoreError(f"the write-ahead log {str(wal)!r} of the store is damaged ({_first_line(text)}): "
                             f"move {wal.name} aside and the store opens as of its last checkpoint (the changes "
                             "the log holds are lost), or restore the store from a backup") from None
        if _is_damage(text):
            raise StoreError(_damaged(repr(str(path)), text, opened=False)) from None
        if re.search(r"\block\b", text.lower()):   # "Could not set lock on file …" (not "block")
            pid = re.search(r"PID (\d+)", text)
            raise StoreError(f"store {str(path)!r} is in use by another process{f' (PID {pid.group(1)})' if pid else ''}: "
                             "DuckDB allows one writer per file. If it is `cxvalue serve`, run analyses from its "
                             "Admin → Jobs page (or POST /admin/jobs), or stop the server first") from None
        raise StoreError(f"cannot open DuckDB store {str(path)!r}: {_first_line(text)}") from None
    if wal_bytes:
        lost = wal_discarded(con.con, wal, wal_bytes)
        if lost:
            warnings.warn(f"the write-ahead log {str(wal)!r} beside the store ({wal_bytes:,} bytes) could not be "
                          f"replayed{'' if lost >= wal_bytes else f' in full (about {lost:,} bytes of it)'}: DuckDB "
                          "ignored it — a crash during a write, or a damaged or foreign file. Changes it held, if "
                          "any, are not in the store: if data is missing, restore the store from a backup; "
                          f"otherwise delete {wal.name} (the next write to the store replaces it)",
                          StoreWarning, stacklevel=2)
    return con


_OPENED: list[str] = []   # the DuckDB file opened last: named by the CLI's one-line engine errors


def _wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


_UNITS = {"bytes": 1, "byte": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
          "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4}


def wal_discarded(duck, wal: Path, wal_bytes: int) -> int:
    """Bytes of the write-ahead log ``wal`` (``wal_bytes`` long before the store was opened)
    that DuckDB did not replay: 0 when it replayed all of it or the file is gone (checkpointed).

    DuckDB (1.x) stops replaying at the first entry whose checksum or framing is wrong and goes
    on silently; the log it took is reported by ``pragma_database_size().wal_size`` (rounded to
    0.1 of its unit), while the file keeps its length until the next write truncates it."""
    try:
        now = wal.stat().st_size
    except FileNotFoundError:
        return 0
    if now != wal_bytes:
        return 0
    try:
        text = duck.execute("SELECT wal_size FROM pragma_database_size() "
                            "WHERE database_name = current_database()").fetchone()[0]
    except Exception:  # noqa: BLE001 - an engine without the pragma: nothing to say
        return 0
    m = re.match(r"\s*([\d.]+)\s*([A-Za-z]+)", str(text or ""))
    if not m or m.group(2).lower() not in _UNITS:
        return 0
    unit = _UNITS[m.group(2).lower()]
    replayed_max = int((float(m.group(1)) + (0 if unit == 1 else 0.1)) * unit)
    return max(0, wal_bytes - replayed_max) if replayed_max < wal_bytes else 0


# --------------------------------------------------------------------------- engine faults
_DAMAGE_MARKS = ("corrupt database file", "corrupt wal file", "does not match stored checksum",
                 "not a valid duckdb database", "failure while replaying wal", "database file is corrupt")


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(text).__name__


def _is_damage(text: str) -> bool:
    low = str(text).lower()
    return any(m in low for m in _DAMAGE_MARKS)


def _damaged(where: str, text: str, *, opened: bool = True) -> str:
    if opened:
        return (f"the store {where} is damaged ({_first_line(text)}): run `cxvalue check` to see which tables are "
                "affected, then restore the store from a backup, or rebuild it from the source files "
                "(`cxvalue load --dir FOLDER --store NEW.duckdb`, then `cxvalue run`)")
    return (f"the store {where} is damaged and cannot be opened ({_first_line(text)}): restore it from a backup, "
            "or rebuild it from the source files (`cxvalue load --dir FOLDER --store NEW.duckdb`, then `cxvalue run`)")


def engine_fault(exc: BaseException) -> str | None:
    """A one-line message for a DuckDB error (``exc`` or one it was raised from) that says the
    store's file is damaged, unreadable or out of disk space — else None (a bug: let it show).
    The CLI prints it as ``error: …`` instead of a traceback."""
    duckdb = __import__("sys").modules.get("duckdb")
    if duckdb is None:
        return None
    seen, e = set(), exc
    while e is not None and id(e) not in seen and not isinstance(e, duckdb.Error):
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    if e is None or not isinstance(e, duckdb.Error):
        return None
    text = str(e)
    first, low = _first_line(text), text.lower()
    where = repr(_OPENED[0]) if _OPENED else "file"
    if _is_damage(text):
        return _damaged(where, text)
    if "no space left on device" in low or "disk is full" in low or "disk quota exceeded" in low:
        return (f"the disk of the store {where} is full ({first}): free some space (`cxvalue load` says how much "
                "a load needs), then retry; a failed write leaves the store as it was")
    if isinstance(e, getattr(duckdb, "FatalException", ())) or "database has been invalidated" in low:
        return (f"the store {where} hit a fatal engine error and cannot be used in this process ({first}): "
                "run `cxvalue check`; if it reports damage, restore the store from a backup")
    if isinstance(e, duckdb.IOException) and _OPENED and _OPENED[0] in text:
        return (f"the store {where} cannot be read ({first}): check the disk and the file's permissions, "
                "then run `cxvalue check`")
    return None


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


# --------------------------------------------------------------------------- integrity and disk space
def _duck(con):
    """The DuckDB connection of ``con``: an Ibis backend (None unless DuckDB) or a DuckDB connection."""
    return raw_duckdb(con) if hasattr(con, "con") else con


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def store_file(con) -> Path | None:
    """The file of a DuckDB store (None in memory or on another engine)."""
    raw = _duck(con)
    if raw is None:
        return None
    try:
        path = raw.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    except Exception:  # noqa: BLE001
        return None
    return Path(path) if path and path != ":memory:" else None


def check_integrity(con) -> list[dict]:
    """Read every column of every table of the store in full; one dict per table: ``table``,
    ``rows``, ``columns``, ``ok`` and, for a damaged table, ``error`` (the engine's message).

    DuckDB verifies a checksum on every block it reads, and a row count or a date range is
    answered from metadata and statistics: only reading every value (here a hash of each
    column) finds a damaged block. On other engines every column is counted."""
    raw = raw_duckdb(con)
    out = []
    if raw is None:
        for name in sorted(con.list_tables()):
            row = {"table": name, "rows": None, "columns": None, "ok": True, "error": None}
            try:
                t = con.table(name)
                row["columns"] = len(t.columns)
                aggs = {"__rows": t.count(), **{f"c{i}": t[c].count() for i, c in enumerate(t.columns)}}
                row["rows"] = int(t.aggregate(**aggs).to_pyarrow().to_pylist()[0]["__rows"])
            except Exception as exc:  # noqa: BLE001 - the table cannot be read: that is the finding
                row.update(ok=False, error=_first_line(exc))
            out.append(row)
        return out
    import duckdb
    tables = raw.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND NOT temporary ORDER BY schema_name, table_name").fetchall()
    for schema, name in tables:
        label = name if schema == "main" else f"{schema}.{name}"
        ref = f"{_ident(schema)}.{_ident(name)}"
        row = {"table": label, "rows": None, "columns": None, "ok": True, "error": None}
        try:
            cols = [r[0] for r in raw.execute("SELECT column_name FROM duckdb_columns() WHERE database_name = "
                                              "current_database() AND schema_name = ? AND table_name = ? "
                                              "ORDER BY column_index", [schema, name]).fetchall()]
            row["columns"] = len(cols)
            row["rows"] = int(raw.execute(f"SELECT count(*) FROM {ref}").fetchone()[0])   # metadata: still readable
            hashes = ", ".join(f"bit_xor(hash({_ident(c)}))" for c in cols) or "0"
            raw.execute(f"SELECT count(*), {hashes} FROM {ref}").fetchall()
        except duckdb.Error as exc:
            row.update(ok=False, error=_first_line(exc))
        out.append(row)
    return out


_CHECKPOINT_SETTINGS = ("checkpoint_threshold", "auto_checkpoint_skip_wal_threshold")


def reclaim_space(duck) -> int:
    """Give the store's free space back to the file system after a rolled-back write (a DuckDB
    connection; anything else, or a store in memory: nothing to do). Returns the bytes the file
    shrank by.

    A rolled-back load leaves the blocks it wrote free inside the file, which keeps its length.
    DuckDB cuts a free tail off the file at a checkpoint, but a plain ``CHECKPOINT`` (or ``FORCE
    CHECKPOINT``, or ``VACUUM``) with no change since the last one does nothing. So a tiny change
    (a table created and dropped) is committed as an automatic checkpoint that skips the
    write-ahead log — the log cannot grow on a full disk, the checkpoint writes into the file's
    own free blocks. Blocks a failed write left half-written stay in use until the store is
    closed; :func:`ensure_room` (before the next load) then cuts them off too. Never raises: the
    caller is handling a failure already."""
    import duckdb
    path = store_file(duck)
    if path is None or not path.exists():
        return 0
    try:
        free = duck.execute("SELECT free_blocks FROM pragma_database_size() "
                            "WHERE database_name = current_database()").fetchone()[0]
        if not free:
            return 0
        before = path.stat().st_size
        old = [duck.execute(f"SELECT current_setting('{n}')").fetchone()[0] for n in _CHECKPOINT_SETTINGS]
    except duckdb.Error:
        return 0
    try:
        duck.execute("SET checkpoint_threshold = '0b'")
        duck.execute("SET auto_checkpoint_skip_wal_threshold = 0")
        duck.execute('CREATE TABLE IF NOT EXISTS "__cxvalue_reclaim" (i INTEGER)')
        duck.execute('DROP TABLE IF EXISTS "__cxvalue_reclaim"')
    except duckdb.Error:
        pass
    finally:
        for n, v in zip(_CHECKPOINT_SETTINGS, old):
            try:
                duck.execute(f"SET {n} = '{v}'" if n == "checkpoint_threshold" else f"SET {n} = {int(v)}")
            except (duckdb.Error, ValueError):
                pass
    try:
        return max(0, before - path.stat().st_size)
    except OSError:
        return 0


ROOM_MARGIN = 4 << 20        # the write-ahead log, metadata and the checkpoint, at least
# bytes of disk per byte of source a load needs at least (its typed, compressed copy in the store;
# measured on DuckDB 1.5: CSV 0.23 (repetitive values) to 0.75 (hashes, UUIDs), Parquet 0.7
# (snappy) to 1.8 (zstd)); staging that spills to disk beyond the memory limit comes on top
ROOM_FACTORS = {"text": 0.2, "binary": 0.6}
BINARY_SUFFIXES = (".parquet", ".pq", ".xlsx", ".xlsm")


def room_for_load(path) -> int:
    """Bytes of disk a load of the file ``path`` needs at least beside the store: a share of the
    file's size (:data:`ROOM_FACTORS`: a compressed format needs more per byte than text) plus
    :data:`ROOM_MARGIN`. A lower bound, so that a load is refused only when it clearly cannot fit
    (a load that fails half-way is rolled back and its space given back: :func:`reclaim_space`).
    0 for no file (a query)."""
    if path is None:
        return 0
    try:
        size = Path(path).stat().st_size
    except OSError:
        return 0     # the reader says what is wrong with the path
    kind = "binary" if Path(path).suffix.lower() in BINARY_SUFFIXES else "text"
    return int(size * ROOM_FACTORS[kind]) + ROOM_MARGIN


def _mib(n: int) -> str:
    return f"{n / (1 << 30):,.1f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):,.1f} MiB"


def ensure_room(con, needed_bytes: int, what: str = "the load") -> int:
    """Refuse (:class:`StoreError`, one line) to start ``what`` when the folder of the DuckDB
    store ``con`` has clearly too little free disk: less than ``needed_bytes``, counting the free
    blocks inside the store (DuckDB reuses them). When short, the store's free tail is first given
    back (:func:`reclaim_space`: after a load rolled back on a full disk); the write-ahead log
    needs ``ROOM_MARGIN`` of the disk itself. Returns the bytes available (-1: not checked: other
    engines, stores in memory)."""
    path = store_file(con)
    if path is None or needed_bytes <= 0:
        return -1
    duck = _duck(con)

    def available() -> tuple[int, int]:
        disk = shutil.disk_usage(path.parent).free
        try:
            free, size = duck.execute("SELECT free_blocks, block_size FROM pragma_database_size() "
                                      "WHERE database_name = current_database()").fetchone()
            inside = int(free or 0) * int(size or 0)
        except Exception:  # noqa: BLE001
            inside = 0
        return disk, inside

    disk, inside = available()
    if disk < needed_bytes and inside:
        reclaim_space(duck)       # a free tail (a load rolled back on a full disk) goes back to the disk
        disk, inside = available()
    # the new rows may go into the store's free blocks, the write-ahead log and spilled staging not
    if disk + inside < needed_bytes or disk < min(needed_bytes, ROOM_MARGIN):
        raise StoreError(f"not enough disk space for {what}: it needs at least {_mib(needed_bytes)} in "
                         f"{str(path.parent)!r}, {_mib(disk)} is free"
                         f"{f' (+ {_mib(inside)} reusable inside the store)' if inside else ''}: free some space "
                         "or move the store (setting store) to a bigger disk")
    return disk + inside


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


declare("run_inputs", kind="ledger", key=("run_id", "step"), columns=("at", "fingerprint", "unchanged"),
        doc="The input fingerprint of every step that ran (or was unchanged) in a `cxvalue run`: what an "
            "incremental run compares to decide whether a step must run again.")
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
