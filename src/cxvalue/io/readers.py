"""Readers: turn a source (CSV, whitespace/fixed-width text, Excel, Parquet, SQL query) into a
relation in a DuckDB staging connection, without loading the whole file into Python.

Each reader returns a :class:`Source`: a SQL ``FROM`` expression whose columns are the
source's headers plus ``__idx`` (0-based record index in file order) and, where the
format can detect them, ``__bad`` (why a record is malformed), together with the rows
the parser itself rejected (CSV lines with the wrong number of fields, bad quoting).

CSV records are numbered with ``row_number() OVER ()`` over the scan, which runs on one
thread. Numbering them by their order in a table made from a parallel scan would be faster,
but DuckDB 1.5 does not reliably keep a CSV's order in ``CREATE TABLE AS`` (rows of a
600,000-line file came out of order in most runs, see tests/io/test_load.py).

Row numbers reported to users are those a spreadsheet shows: the header is row 1 and
the first data record row 2 (``skip_rows`` and a missing header shift this accordingly).
"""
from __future__ import annotations

import codecs
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CxValueError, DataContractError

FORMATS = ("csv", "whitespace", "fixed", "excel", "parquet")
DEFAULT_NA = ("", "NA", "N/A", "n/a", "NULL", "null", "None", "NaN", "nan", "#N/A", "-")
SAMPLE_BYTES = 1 << 20


@dataclass
class ReadOptions:
    """Reader options; each is also a CLI flag of ``cxvalue load`` and a key of a mapping's ``options``."""
    format: str | None = None          # csv | whitespace | fixed | excel | parquet (default: from suffix)
    encoding: str | None = None        # default: detected (UTF-8, UTF-8 BOM, GBK/GB18030, ...)
    delimiter: str | None = None       # default: detected
    decimal: str = "."                 # "," for decimal-comma numbers
    header: bool = True
    names: list[str] | None = None     # column names when the file has no header
    widths: list[int] | None = None    # fixed-width field widths
    skip_rows: int = 0                 # lines to skip before the header
    sheet: str | int | None = None     # Excel sheet name or 0-based index
    na_values: tuple[str, ...] = DEFAULT_NA
    date_format: str | None = None     # strptime format, tried before the defaults
    quote: str | None = None

    @classmethod
    def from_dict(cls, d: dict, base: ReadOptions | None = None) -> ReadOptions:
        base = base or cls()
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise CxValueError(f"unknown reader option(s) {sorted(unknown)}; expected {', '.join(sorted(known))}")
        values = {k: getattr(base, k) for k in known}
        values.update({k: v for k, v in d.items() if v is not None})
        if isinstance(values["na_values"], list):
            values["na_values"] = tuple(str(v) for v in values["na_values"])
        return cls(**values)


@dataclass
class Source:
    relation: str                      # SQL FROM-expression in the staging connection
    headers: list[str]
    source: str
    content_hash: str | None
    first_row: int                     # user-facing row number of the record with __idx 0
    has_bad: bool = False              # relation has a __bad column
    rejects: list[dict] = field(default_factory=list)   # rows the parser rejected
    reject_lines: np.ndarray | None = None              # sorted data-line positions of parser rejects
    cleanup: list = field(default_factory=list)
    finish: object = None              # called once the relation was scanned (collects parser rejects)
    text: bool = False                 # values are text to parse: validation types them once, up front

    def row_numbers(self, idx: np.ndarray) -> np.ndarray:
        """User-facing row numbers of records ``idx`` (0-based index among parsed records)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.reject_lines is None or len(self.reject_lines) == 0:
            return idx + self.first_row
        gaps = self.reject_lines - np.arange(len(self.reject_lines))
        return idx + np.searchsorted(gaps, idx, side="right") + self.first_row

    def close(self):
        for f in self.cleanup:
            try:
                f()
            except OSError:
                pass


def file_hash(path: Path) -> str:
    """Content digest of a file, prefixed with its algorithm (SHA-256: hardware-accelerated on
    current CPUs, about 1 GB/s)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def detect_format(path: Path, options: ReadOptions) -> str:
    if options.format:
        if options.format not in FORMATS:
            raise CxValueError(f"format={options.format!r} is not valid: expected one of {', '.join(FORMATS)}")
        return options.format
    if options.widths:
        return "fixed"
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "excel"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".xls":
        raise CxValueError(f"{path.name}: legacy .xls is not supported: save it as .xlsx or CSV")
    return "csv"


def detect_encoding(path: Path) -> str:
    """'utf-8' (with or without BOM) when the start of the file decodes as UTF-8, else the best guess
    of charset-normalizer, with GBK/GB2312 widened to GB18030 (Chinese Excel exports)."""
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes
    best = from_bytes(sample).best()
    enc = (best.encoding if best else "gb18030").lower()
    if enc in ("gbk", "gb2312", "cp936", "hz", "big5"):
        enc = "gb18030" if enc != "big5" else "big5"
    return enc


def _transcode(path: Path, encoding: str) -> Path:
    """Stream ``path`` into a temporary UTF-8 file (bounded memory)."""
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="cxvalue-utf8-")
    try:
        with open(path, encoding=encoding, newline="") as src, os.fdopen(fd, "w", encoding="utf-8", newline="") as dst:
            for chunk in iter(lambda: src.read(1 << 22), ""):
                dst.write(chunk)
    except UnicodeDecodeError as exc:
        os.unlink(tmp)
        raise DataContractError(
            f"{path.name}: cannot decode as {encoding} at byte {exc.start}: give the right --encoding "
            f"(utf-8, gb18030, big5, latin-1 ...)", source=str(path), expected=encoding) from None
    return Path(tmp)


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def open_source(con, path: str | Path, options: ReadOptions, name: str = "src") -> Source:
    """Stage ``path`` in the DuckDB connection ``con``; see the module docstring."""
    path = Path(path)
    if not path.exists():
        raise CxValueError(f"file {str(path)!r} not found")
    if path.is_dir():
        raise CxValueError(f"{str(path)!r} is a folder: use `cxvalue load --dir` for a folder of table files")
    fmt = detect_format(path, options)
    digest = file_hash(path)
    if fmt == "parquet":
        return _parquet(con, path, digest)
    if fmt == "excel":
        return _excel(con, path, options, digest, name)
    encoding = (options.encoding or detect_encoding(path)).lower().replace("_", "-")
    cleanup, read_path = [], path
    if encoding in ("gbk", "gb2312", "cp936"):
        encoding = "gb18030"
    if encoding not in ("utf-8", "utf8", "utf-8-sig"):
        read_path = _transcode(path, encoding)
        cleanup.append(lambda p=read_path: os.unlink(p))
    if fmt in ("whitespace", "fixed"):
        src = _lines(con, read_path, path, options, fmt, digest)
    else:
        src = _csv(con, read_path, path, options, digest, name)
    src.cleanup.extend(cleanup)
    return src


def _csv(con, read_path: Path, path: Path, options: ReadOptions, digest: str, name: str) -> Source:
    """A streaming scan of all-text columns; validation parses and types it once (``text=True``).
    Parser rejects are collected by ``Source.finish`` after the scan ran."""
    args = ["all_varchar=true", f"header={'true' if options.header else 'false'}", "store_rejects=true",
            f"rejects_table='{name}_rejects'", f"rejects_scan='{name}_rejects_scan'", "null_padding=false"]
    if options.delimiter:
        args.append(f"delim={_sql_str(options.delimiter)}")
    if options.quote is not None:
        args.append(f"quote={_sql_str(options.quote)}")
    if options.skip_rows:
        args.append(f"skip={int(options.skip_rows)}")
    if options.names:
        args.append("names=[" + ", ".join(_sql_str(n) for n in options.names) + "]")
    scan = f"read_csv({_sql_str(str(read_path))}, {', '.join(args)})"
    try:
        headers = [d[0] for d in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    except Exception as exc:
        raise DataContractError(f"{path.name}: cannot parse as CSV: {str(exc).splitlines()[0]} — check --delimiter, "
                                f"--encoding, --header/--no-header or --format", source=str(path)) from None
    first_line = 1 + options.skip_rows + (1 if options.header else 0)
    # a streaming scan: validation parses it once, straight into its typed table
    src = Source(f"(SELECT row_number() OVER () - 1 AS __idx, * FROM {scan})", headers, str(path), digest,
                 first_line, text=True)

    def finish(con=con, src=src, n=len(headers)):
        try:
            rej = con.execute(f"SELECT line, error_type, error_message, csv_line FROM {name}_rejects ORDER BY line").fetchall()
        except Exception:  # no scan ran
            rej = []
        seen = set()
        for line, etype, msg, raw in rej:
            if line in seen:  # one line can carry several errors: one quarantine row per line
                continue
            seen.add(line)
            src.rejects.append({"row": int(line), "reason": "malformed_row", "column": None,
                                "expected": f"{n} fields", "got": f"{etype.lower()}: {msg}", "raw": raw})
        src.reject_lines = np.array(sorted(seen), dtype=np.int64) - first_line
    src.finish = finish
    return src


def _lines(con, read_path: Path, path: Path, options: ReadOptions, fmt: str, digest: str) -> Source:
    """Whitespace-separated or fixed-width text: read whole lines, split them in the engine."""
    scan = (f"read_csv({_sql_str(str(read_path))}, columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', "
            f"escape='', header=false, auto_detect=false, skip={int(options.skip_rows)})")
    lines = f"(SELECT row_number() OVER () - 1 AS __n, rtrim(line, chr(13)) AS line FROM {scan})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE src_lines AS SELECT * FROM {lines} WHERE trim(line) <> ''")
    first = con.execute("SELECT line FROM src_lines ORDER BY __n LIMIT 1").fetchone()
    if first is None:
        raise DataContractError(f"{path.name}: the file is empty", source=str(path))
    widths = options.widths
    if fmt == "fixed" and not widths:
        raise CxValueError(f"{path.name}: --format fixed needs --widths (e.g. --widths 6,9,3,8)")

    def split(expr: str) -> str:
        if fmt == "whitespace":
            return f"regexp_split_to_array(trim({expr}), '\\s+')"
        starts = np.concatenate([[1], np.cumsum(widths)[:-1] + 1])
        return "[" + ", ".join(f"trim(substr({expr}, {s}, {w}))" for s, w in zip(starts, widths)) + "]"

    if options.header:
        headers = [h for h in (con.execute(f"SELECT {split('?')}", [first[0]]).fetchone()[0]) if h != ""]
        body = "WHERE __n > (SELECT min(__n) FROM src_lines)"
    else:
        if not options.names:
            raise CxValueError(f"{path.name}: a file without header needs --names (column names, comma-separated)")
        headers, body = list(options.names), ""
    n = len(headers)
    cols = ", ".join(f"NULLIF(f[{i + 1}], '') AS \"{h}\"" for i, h in enumerate(headers))
    rel = (f"(SELECT row_number() OVER (ORDER BY __n) - 1 AS __idx, "
           f"CASE WHEN len(f) <> {n} THEN 'expected {n} fields, got ' || len(f) END AS __bad, {cols} "
           f"FROM (SELECT __n, {split('line')} AS f FROM src_lines {body}))")
    con.execute(f"CREATE OR REPLACE TEMP TABLE src AS SELECT * FROM {rel}")
    first_row = 1 + options.skip_rows + (1 if options.header else 0)
    return Source("src", headers, str(path), digest, first_row, has_bad=True)


def _parquet(con, path: Path, digest: str) -> Source:
    rel = f"(SELECT file_row_number AS __idx, * EXCLUDE (file_row_number) FROM read_parquet({_sql_str(str(path))}, file_row_number=true))"
    try:
        headers = [d[0] for d in con.execute(f"SELECT * FROM {rel} LIMIT 0").description if d[0] != "__idx"]
    except Exception as exc:
        raise DataContractError(f"{path.name}: cannot read as Parquet: {str(exc).splitlines()[0]}", source=str(path)) from None
    return Source(rel, headers, str(path), digest, first_row=1)


def _excel(con, path: Path, options: ReadOptions, digest: str, name: str) -> Source:
    import openpyxl
    import pyarrow as pa
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise DataContractError(f"{path.name}: cannot open as Excel: {exc}", source=str(path)) from None
    try:
        if options.sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(options.sheet, int) or str(options.sheet).isdigit():
            ws = wb.worksheets[int(options.sheet)]
        else:
            if options.sheet not in wb.sheetnames:
                raise CxValueError(f"{path.name}: no sheet {options.sheet!r}; sheets: {', '.join(wb.sheetnames)}")
            ws = wb[options.sheet]
        rows = ws.iter_rows(values_only=True)
        for _ in range(options.skip_rows):
            next(rows, None)
        if options.header:
            head = next(rows, None)
            if head is None:
                raise DataContractError(f"{path.name}: the sheet is empty", source=str(path))
            headers = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(head)]
        else:
            headers = list(options.names or [])
        n = len(headers)
        schema = pa.schema([("__idx", pa.int64())] + [(h, pa.string()) for h in headers])

        def cell(v):
            if v is None:
                return None
            if hasattr(v, "isoformat"):
                return v.isoformat(sep=" ") if hasattr(v, "hour") else v.isoformat()
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v)

        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM (SELECT 0::BIGINT AS __idx, " +
                    ", ".join(f"NULL::VARCHAR AS \"{h}\"" for h in headers) + ") WHERE false")
        batch, idx = [], 0
        for r in rows:
            if r is None or all(v is None for v in r):
                idx += 1
                continue
            vals = [cell(v) for v in r[:n]] + [None] * max(0, n - len(r))
            batch.append([idx] + vals)
            idx += 1
            if len(batch) >= 50_000:
                _append(con, name, schema, batch)
                batch = []
        if batch:
            _append(con, name, schema, batch)
    finally:
        wb.close()
    first_row = 1 + options.skip_rows + (1 if options.header else 0)
    return Source(name, headers, str(path), digest, first_row)


def _append(con, name, schema, batch):
    import pyarrow as pa
    cols = list(zip(*batch))
    tbl = pa.table([pa.array(c, type=f.type) for c, f in zip(cols, schema)], schema=schema)
    con.register("__excel_batch", tbl)
    con.execute(f"INSERT INTO {name} SELECT * FROM __excel_batch")
    con.unregister("__excel_batch")


def check_select(query: str, url: str = "") -> str:
    """``query`` if it is one read-only SELECT (WITH, UNION and the like included); else a
    one-line error: a source query never runs a second statement, a DROP, a COPY or an INSERT."""
    import sqlglot
    from sqlglot import exp
    scheme = url.split("://", 1)[0].lower() if "://" in url else "duckdb"
    dialect = {"postgres": "postgres", "postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite",
               "pyspark": "spark", "snowflake": "snowflake", "bigquery": "bigquery"}.get(scheme, "duckdb")
    try:
        statements = [st for st in sqlglot.parse(query, read=dialect) if st is not None]
    except sqlglot.errors.ParseError as exc:
        raise CxValueError(f"--query: not a valid SELECT: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise CxValueError(f"--query: expected one SELECT statement, got {len(statements)} statements")
    if not isinstance(statements[0], exp.Query):
        raise CxValueError(f"--query: expected a read-only SELECT, got a {statements[0].key.upper()} statement")
    return query


def _open_database(url: str):
    """The database at ``url``, read-only where the engine allows it (DuckDB files)."""
    import ibis
    if "://" not in url:
        return ibis.duckdb.connect(url, read_only=True)
    scheme, rest = url.split("://", 1)
    if scheme.lower() == "duckdb" and rest and rest != ":memory:":
        return ibis.duckdb.connect(rest, read_only=True)
    return ibis.connect(url)


def open_query(con, url: str, query: str, name: str = "src") -> Source:
    """Stage the result of ``query`` — one read-only SELECT (:func:`check_select`) — run on the
    database at ``url`` (any URL ``ibis.connect`` takes; DuckDB files are opened read-only). The
    source's content hash is that of the URL, the query and the rows it returned, so that the
    same result loaded twice is recognised."""
    check_select(query, url)
    try:
        remote = _open_database(url)
        reader = remote.sql(query).to_pyarrow_batches()
    except Exception as exc:
        raise CxValueError(f"query on {url!r} failed: {str(exc).splitlines()[0]}") from None
    con.register("__query_reader", reader)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT row_number() OVER () - 1 AS __idx, * FROM __query_reader")
    con.unregister("__query_reader")
    headers = [d[0] for d in con.execute(f"SELECT * FROM {name} LIMIT 0").description if d[0] != "__idx"]
    cols = ", ".join('"' + h.replace('"', '""') + '"' for h in headers)
    n, total = con.execute(f"SELECT count(*), sum(hash(__r)::HUGEINT) FROM (SELECT {cols} FROM {name}) __r").fetchone()
    digest = hashlib.sha256(f"{url}\n{query.strip()}\n{n}\n{total}".encode()).hexdigest()
    return Source(name, headers, f"{url} :: {query}", digest, first_row=1)
