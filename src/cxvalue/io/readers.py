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
the first data record row 2 (``skip_rows`` and a missing header shift this accordingly). Parquet
files and query results have no header line, but are numbered the same way (first record =
row 2), so that a record has the same number in a CSV and a Parquet export of the same data.
"""
from __future__ import annotations

import codecs
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from ..errors import CxValueError, DataContractError

FORMATS = ("csv", "whitespace", "fixed", "excel", "parquet")
DEFAULT_NA = ("", "NA", "N/A", "n/a", "NULL", "null", "None", "NaN", "nan", "#N/A", "-")
SAMPLE_BYTES = 1 << 20
SNIFF_ROWS = 20_480     # rows the CSV reader's sniffer reads to guess a wide file's number columns


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
    quote: str | None = None           # default: '"' as detected; '' for files that do not quote values
    max_line_mb: int = 32              # CSV records longer than this go to quarantine (line_too_long)

    @classmethod
    def from_dict(cls, d: dict, base: ReadOptions | None = None) -> ReadOptions:
        """Options from a dict (CLI flags, a mapping's ``options``), each checked: a wrong value is a
        one-line error naming the option, what it expects and what it got."""
        base = base or cls()
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise CxValueError(f"unknown reader option(s) {sorted(unknown)}; expected {', '.join(sorted(known))}")
        values = {k: getattr(base, k) for k in known}
        values.update({k: _option(k, v) for k, v in d.items() if v is not None})
        if isinstance(values["na_values"], list):
            values["na_values"] = tuple(str(v) for v in values["na_values"])
        return cls(**values)


def _option(name: str, value):
    """``value`` of reader option ``name`` in its type, or a one-line error."""
    def fail(expected: str):
        raise CxValueError(f"reader option {name.replace('_', '-')}: expected {expected}, got {value!r}")

    if name in ("skip_rows", "max_line_mb"):
        try:
            n = int(str(value).strip())
        except ValueError:
            fail("a whole number")
        if n < (0 if name == "skip_rows" else 1):
            fail("a whole number >= 0" if name == "skip_rows" else "a whole number >= 1")
        return n
    if name == "widths":
        parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
        try:
            widths = [int(str(w).strip()) for w in parts]
        except ValueError:
            fail("comma-separated field widths, e.g. 6,9,3,8")
        if not widths or min(widths) < 1:
            fail("comma-separated field widths of at least 1, e.g. 6,9,3,8")
        return widths
    if name == "names":
        names = value if isinstance(value, (list, tuple)) else str(value).split(",")
        names = [str(n).strip() for n in names]
        if not all(names):
            fail("comma-separated column names, none empty")
        return names
    if name == "header":
        if isinstance(value, bool):
            return value
        t = str(value).strip().lower()
        if t not in ("true", "false", "yes", "no", "1", "0"):
            fail("true or false")
        return t in ("true", "yes", "1")
    if name == "sheet":
        return int(value) if isinstance(value, int) or str(value).strip().isdigit() else str(value)
    if name == "date_format":
        import duckdb
        try:
            duckdb.execute("SELECT try_strptime('2024-01-02', ?)", [str(value)]).fetchone()
        except duckdb.Error as exc:
            fail(f"a strptime format such as %d/%m/%Y or %Y%m%d ({str(exc).splitlines()[0].split(': ', 1)[-1]})")
        return str(value)
    if name == "decimal" and value not in (".", ","):
        fail("'.' or ','")
    if name == "delimiter" and str(value).lower() in ("\\t", "tab"):
        return "\t"
    if name in ("delimiter", "quote") and len(str(value)) > 1:
        fail("one character")
    return value


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
    typed_scan: object = None          # CSV: types -> the scan reading those columns as those SQL types
    cast_failures: object = None       # CSV: () -> the columns that failed their type in a typed scan (forgotten)
    sniffed_types: object = None       # CSV: () -> each column's SQL type as the reader's sniffer guesses it
    text: bool = False                 # values are text to parse: validation types them once, up front
    warnings: list[str] = field(default_factory=list)   # for the user, e.g. formula cells without values

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
    """The encoding of a text file, from its first megabyte:

    - a byte-order mark (UTF-8, UTF-16), or UTF-16 without one (every other byte NUL);
    - UTF-8 when the sample is UTF-8 — also when a few bytes in it are not (at most one invalid
      sequence per 20 valid multi-byte characters): those rows go to quarantine as
      ``bad_encoding``, wherever they are in the file, the rest loads;
    - else the best guess of charset-normalizer, GBK/GB2312 widened to GB18030 (Chinese Excel
      exports). Rows that do not decode in it are kept as they are (see :func:`_transcode`)."""
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    if len(sample) == SAMPLE_BYTES:   # do not judge a character cut at the end of the sample
        cut = sample.rfind(b"\n")
        sample = sample[:cut + 1] if cut > 0 else sample
    text = sample.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - sample.decode("utf-8", errors="ignore").count("\ufffd")
    if invalid == 0:
        return "utf-8"
    multibyte = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if multibyte >= 20 * invalid:
        return "utf-8"
    from charset_normalizer import from_bytes
    # judge the legacy encoding on the lines that are not UTF-8 (a UTF-8 line among them would
    # confuse the guess: a GB18030 file with one UTF-8 row came out as Windows-1250)
    legacy = b"".join(ln for ln in sample.splitlines(keepends=True) if not _is_utf8(ln))
    best = from_bytes(legacy or sample).best()
    enc = (best.encoding if best else "gb18030").lower()
    if enc in ("gbk", "gb2312", "cp936", "hz", "big5"):
        enc = "gb18030" if enc != "big5" else "big5"
    return enc


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when most even (odd) bytes of ``sample`` are NUL — text in
    UTF-16 without a byte-order mark (Latin and CJK text alike have a NUL in one half of most
    characters' units in the ASCII range: digits, commas, line breaks)."""
    half = sample[:65536]
    if len(half) < 8:
        return None
    even, odd = half[0::2].count(0), half[1::2].count(0)
    n = len(half) // 2
    if odd > 0.3 * n and even < 0.05 * n:
        return "utf-16-le"
    if even > 0.3 * n and odd < 0.05 * n:
        return "utf-16-be"
    return None


def _transcode(path: Path, encoding: str) -> Path:
    """Stream ``path`` into a temporary UTF-8 file (bounded memory). Lines that do not decode in
    ``encoding`` are written as they are, so that the CSV reader quarantines exactly those rows
    (``bad_encoding``) — or reads them, if they are UTF-8: the encoding is decided per row.
    UTF-16 is decoded as a stream (its line breaks are two bytes)."""
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="cxvalue-utf8-")
    try:
        if encoding.startswith("utf-16") or encoding.startswith("utf-32"):
            _transcode_stream(path, encoding, fd)
        else:
            _transcode_lines(path, encoding, fd)
    except UnicodeDecodeError as exc:
        os.unlink(tmp)
        raise DataContractError(
            f"{path.name}: cannot decode as {encoding} at byte {exc.start}: give the right --encoding "
            f"(utf-8, gb18030, big5, latin-1 ...)", source=str(path), expected=encoding) from None
    except LookupError:
        os.unlink(tmp)
        raise CxValueError(f"--encoding {encoding!r} is not an encoding Python knows (e.g. utf-8, gb18030, big5, "
                           f"latin-1, utf-16)") from None
    return Path(tmp)


def _transcode_stream(path: Path, encoding: str, fd: int) -> None:
    with open(path, encoding=encoding, newline="") as src, os.fdopen(fd, "w", encoding="utf-8", newline="") as dst:
        for chunk in iter(lambda: src.read(1 << 22), ""):
            dst.write(chunk)


def _transcode_lines(path: Path, encoding: str, fd: int) -> None:
    codecs.lookup(encoding)
    with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
        rest = b""
        for chunk in iter(lambda: src.read(1 << 22), b""):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:            # no line end yet: keep reading
                rest = chunk
                continue
            rest = chunk[cut:]
            dst.write(_decode_lines(chunk[:cut], encoding))
        if rest:
            dst.write(_decode_lines(rest, encoding))


def _decode_lines(block: bytes, encoding: str) -> bytes:
    try:
        return block.decode(encoding).encode("utf-8")
    except UnicodeDecodeError:   # decode line by line; keep the bytes of lines that do not decode
        out = []
        for line in block.splitlines(keepends=True):
            try:
                out.append(line.decode(encoding).encode("utf-8"))
            except UnicodeDecodeError:
                out.append(line)
        return b"".join(out)


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
            f"rejects_table='{name}_rejects'", f"rejects_scan='{name}_rejects_scan'", "null_padding=false",
            # DuckDB's read buffer is 16 lines' worth by default (512 MB for 32 MB lines): two suffice
            f"max_line_size={int(options.max_line_mb) << 20}",
            f"buffer_size={max(2 * (int(options.max_line_mb) << 20), 32 << 20)}"]
    if options.delimiter:
        args.append(f"delim={_sql_str(options.delimiter)}")
    if options.quote is not None:
        args.append(f"quote={_sql_str(options.quote)}")
    if options.skip_rows:
        args.append(f"skip={int(options.skip_rows)}")
    if options.names:
        args.append("names=[" + ", ".join(_sql_str(n) for n in options.names) + "]")
    # the dialect and each column's type are sniffed once; every scan then reads the file with
    # that dialect instead of sniffing it again (seconds per statement for thousands of columns)
    pinned, sniffed = _sniff(con, read_path, args)
    scan = f"read_csv({_sql_str(str(read_path))}, {', '.join(args)})"
    try:
        headers = list(sniffed) if sniffed else [d[0] for d in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    except Exception as exc:
        cause = _csv_cause(exc)
        if "maximum line size" in cause.lower():
            raise DataContractError(f"{path.name}: a line near the start is longer than {options.max_line_mb} MB "
                                    f"({cause}): raise the limit with --max-line-mb", source=str(path)) from None
        raise DataContractError(f"{path.name}: cannot parse as CSV: {cause} — check --delimiter, "
                                f"--encoding, --header/--no-header or --format", source=str(path)) from None
    first_line = 1 + options.skip_rows + (1 if options.header else 0)

    def typed_scan(types: dict[str, str]) -> str:
        """The scan with columns ``types`` read as those SQL types by the parser, the others as
        text: a value that does not parse rejects its row as a CAST error (see ``cast_failures``)."""
        struct = "{" + ", ".join(f"{_sql_str(h)}: {_sql_str(types.get(h, 'VARCHAR'))}" for h in headers) + "}"
        keep = [a for a in args if a != "all_varchar=true" and not (pinned and a.startswith(_PINNED))]
        typed_args = keep + (pinned + [f"columns={struct}"] if pinned else [f"types={struct}"])
        return f"(SELECT row_number() OVER () - 1 AS __idx, * FROM read_csv({_sql_str(str(read_path))}, {', '.join(typed_args)}))"

    # a streaming scan of text: validation parses it once, straight into its typed table
    src = Source(typed_scan({}), headers, str(path), digest, first_line, text=True)

    def cast_failures(con=con) -> set[str]:
        try:
            hit = con.execute(f"SELECT DISTINCT column_name FROM {name}_rejects WHERE error_type = 'CAST'").fetchall()
        except duckdb.CatalogException:  # no scan stored rejects
            return set()
        con.execute(f"DELETE FROM {name}_rejects WHERE error_type = 'CAST'")
        return {h for (h,) in hit}

    def sniffed_types() -> dict[str, str]:
        """Each column's SQL type as the sniffer guesses it on its first :data:`SNIFF_ROWS` rows,
        in the file's dialect ({} when it fails or sees other columns)."""
        if not pinned:
            return {}
        _, types = _sniff(con, read_path, [a for a in pinned if a != "auto_detect=false"] +
                          [a for a in args if not a.startswith(_PINNED)], types=True)
        return types if list(types) == headers else {}
    src.typed_scan, src.cast_failures, src.sniffed_types = typed_scan, cast_failures, sniffed_types

    def finish(con=con, src=src, n=len(headers)):
        try:
            rej = con.execute(f"SELECT line, error_type, error_message, csv_line FROM {name}_rejects ORDER BY line").fetchall()
        except Exception:  # no scan ran
            rej = []
        if (rej and options.quote is None) or any("QUOTE" in r[1] for r in rej):
            _check_quoting(read_path, path, options.quote or '"', [int(r[0]) for r in rej if "QUOTE" in r[1]])
        seen = set()
        for line, etype, msg, raw in rej:
            if line in seen:  # one line can carry several errors: one quarantine row per line
                continue
            seen.add(line)
            reason, expected = _REJECT_REASONS.get(etype, ("malformed_row", f"{n} fields"))
            if reason == "bad_encoding":
                msg = "bytes that are not valid in the file's encoding"
            if reason == "line_too_long":
                expected = f"a line of at most {options.max_line_mb} MB (raise it with --max-line-mb)"
                raw = (raw or "")[:1000]
            src.rejects.append({"row": int(line), "reason": reason, "column": None,
                                "expected": expected, "got": f"{etype.lower()}: {msg}", "raw": raw})
        src.reject_lines = np.array(sorted(seen), dtype=np.int64) - first_line
    src.finish = finish
    return src


_PINNED = ("names=", "delim=", "quote=", "skip=", "header=")   # read options that the sniffed dialect states


def _sniff(con, read_path: Path, args: list[str], types: bool = False) -> tuple[list[str], dict[str, str]]:
    """The file's dialect as read_csv options (``auto_detect=false`` and what the sniffer found
    with ``args``) and its columns: all VARCHAR, or with ``types`` each column's SQL type as the
    sniffer guesses it on its first :data:`SNIFF_ROWS` rows. ``([], {})`` when the sniffer fails
    (the scan then sniffs, and its error is reported)."""
    sniff = [a for a in args if not a.startswith("all_varchar")]   # store_rejects too: it makes the sniffer tolerant
    sniff += [f"sample_size={SNIFF_ROWS}"] if types else ["all_varchar=true"]
    try:
        row = con.execute(f"SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, HasHeader, Columns "
                          f"FROM sniff_csv({_sql_str(str(read_path))}, {', '.join(sniff)})").fetchone()
    except duckdb.Error:
        return [], {}
    delim, quote, escape, new_line, comment, skip, header, columns = row
    text = lambda v: "" if v == "(empty)" else v   # noqa: E731 - how sniff_csv shows an empty setting
    pinned = ["auto_detect=false", f"delim={_sql_str(text(delim))}", f"quote={_sql_str(text(quote))}",
              f"escape={_sql_str(text(escape))}", f"new_line={_sql_str(new_line)}",
              f"comment={_sql_str(text(comment))}", f"skip={int(skip)}", f"header={'true' if header else 'false'}"]
    return pinned, {c["name"]: c["type"] for c in columns}


_REJECT_REASONS = {"INVALID ENCODING": ("bad_encoding", "text in the file's encoding (detected UTF-8 unless --encoding)"),
                   "LINE SIZE OVER MAXIMUM": ("line_too_long", "")}


def _csv_cause(exc: Exception) -> str:
    """The engine's reason for refusing a CSV, in one line (its message spans many lines and
    quotes the offending line, possibly megabytes of it)."""
    import re
    size = re.search(r"Maximum line size of \d+ bytes exceeded\. Actual Size: ?\d+ bytes", str(exc))
    if size:
        return size.group(0)
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    keep = [ln for ln in lines if not ln.startswith(("Original Line", "LINE 1", "^", "*", "Possible fixes",
                                                     "Possible Solution", "CSV Error on Line"))]
    cause = "; ".join(keep[:3]) if keep else type(exc).__name__
    return cause if len(cause) <= 300 else cause[:297] + "..."


def _check_quoting(read_path: Path, path: Path, quote: str, engine_lines: list[int]) -> None:
    """Refuse a CSV whose quoting is broken, naming the line: an unterminated quote makes the
    parser join the next lines into one value (or guess that the file has no quoting), which
    would reject good rows around it and load the broken one. A line with an odd number of quote
    characters opens or closes a value that spans lines; one left unpaired is not closed."""
    q = quote.encode("utf-8")
    odd = []
    with open(read_path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if line.count(q) % 2:
                odd.append(n)
    if len(odd) % 2 == 0 and not engine_lines:
        return                           # balanced: the rejects are other faults
    line = odd[0] if odd else engine_lines[0]
    where = f"line {line}" + (f" (lines with an odd number of quotes: {', '.join(map(str, odd[:10]))})"
                              if len(odd) > 1 else "")
    raise DataContractError(
        f"{path.name}: the quoting is broken at {where}: a value opened with {quote} is not closed, so the rows "
        f"after it cannot be read reliably — fix that line (a quote inside a quoted value is written twice: \"\"), "
        f"or load with --quote '' if the file does not quote its values", source=str(path), row=line)


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
        headers = [h for h in (con.execute(f"SELECT {split('$1')}", [first[0]]).fetchone()[0]) if h != ""]
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
    return Source(rel, headers, str(path), digest, first_row=2)   # numbered as its CSV export would be


def _excel(con, path: Path, options: ReadOptions, digest: str, name: str) -> Source:
    """The sheet's cells as text (values as Excel last saved them). A damaged workbook is a
    one-line error; formula cells without a saved value (a file written by a program that does not
    compute formulas) load as empty, with a warning naming them."""
    try:
        return _excel_rows(con, path, options, digest, name)
    except (CxValueError, FileNotFoundError, PermissionError, MemoryError):
        raise
    except Exception as exc:   # zip, XML and openpyxl's own errors: whatever is wrong, the workbook is unreadable
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise DataContractError(f"{path.name}: cannot read as an Excel workbook ({type(exc).__name__}: {first}): the "
                                f"file is damaged or not .xlsx — open and save it again in Excel, or export it as CSV",
                                source=str(path)) from None


def _excel_sheet(wb, path: Path, sheet):
    if sheet is None:
        return wb.worksheets[0]
    listing = ", ".join(wb.sheetnames)
    if isinstance(sheet, int) or str(sheet).isdigit():
        i = int(sheet)
        if i >= len(wb.worksheets):
            raise CxValueError(f"{path.name}: --sheet {i} is out of range: the workbook has {len(wb.worksheets)} "
                               f"sheet(s), numbered from 0 ({listing}); give a 0-based index or a sheet name")
        return wb.worksheets[i]
    if sheet not in wb.sheetnames:
        raise CxValueError(f"{path.name}: no sheet {sheet!r}; sheets: {listing}")
    return wb[sheet]


def _excel_cell(v):
    if v is None:
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat(sep=" ") if hasattr(v, "hour") else v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _has_formulas(path: Path, ws) -> bool:
    """Whether the sheet's XML holds a formula element (a scan of the compressed part, no parsing)."""
    import zipfile
    part = getattr(ws, "_worksheet_path", None) or getattr(ws, "path", None)
    with zipfile.ZipFile(path) as z:
        names = [part.lstrip("/")] if part and part.lstrip("/") in z.namelist() else \
            [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        for n in names:
            with z.open(n) as fh:
                tail = b""
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    if b"<f>" in tail + chunk or b"<f " in tail + chunk:
                        return True
                    tail = chunk[-3:]
    return False


def _excel_rows(con, path: Path, options: ReadOptions, digest: str, name: str) -> Source:
    import openpyxl
    import pyarrow as pa
    from openpyxl.utils import get_column_letter
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    formulas_wb = None
    try:
        ws = _excel_sheet(wb, path, options.sheet)
        rows = ws.iter_rows(values_only=True)
        formula_rows = None
        if _has_formulas(path, ws):   # read the formulas beside the values, to name cells that have none
            formulas_wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
            formula_rows = _excel_sheet(formulas_wb, path, options.sheet).iter_rows(values_only=True)
        for _ in range(options.skip_rows):
            next(rows, None)
            if formula_rows is not None:
                next(formula_rows, None)
        if options.header:
            head = next(rows, None)
            if formula_rows is not None:
                next(formula_rows, None)
            if head is None:
                raise DataContractError(f"{path.name}: the sheet is empty", source=str(path))
            headers = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(head)]
        else:
            headers = list(options.names or [])
        n = len(headers)
        schema = pa.schema([("__idx", pa.int64())] + [(h, pa.string()) for h in headers])
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM (SELECT 0::BIGINT AS __idx, " +
                    ", ".join(f"NULL::VARCHAR AS \"{h}\"" for h in headers) + ") WHERE false")
        first_row = 1 + options.skip_rows + (1 if options.header else 0)
        batch, idx, unsaved = [], 0, []
        for r in rows:
            f = next(formula_rows, None) if formula_rows is not None else None
            if f is not None:
                unsaved += [f"{get_column_letter(j + 1)}{first_row + idx}" for j, (v, fv) in enumerate(zip(r[:n], f[:n]))
                            if v is None and isinstance(fv, str) and fv.startswith("=")]
            if r is None or all(v is None for v in r):
                idx += 1
                continue
            vals = [_excel_cell(v) for v in r[:n]] + [None] * max(0, n - len(r))
            batch.append([idx] + vals)
            idx += 1
            if len(batch) >= 50_000:
                _append(con, name, schema, batch)
                batch = []
        if batch:
            _append(con, name, schema, batch)
    finally:
        wb.close()
        if formulas_wb is not None:
            formulas_wb.close()
    src = Source(name, headers, str(path), digest, first_row)
    if unsaved:
        src.warnings.append(
            f"{path.name}: {len(unsaved)} formula cell(s) have no saved value and load as empty "
            f"({', '.join(unsaved[:8])}{' ...' if len(unsaved) > 8 else ''}): the file was written by a program "
            f"that does not compute formulas — open and save it in Excel (or LibreOffice) first, or export CSV")
    return src


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
    return Source(name, headers, f"{url} :: {query}", digest, first_row=2)
