"""What the voice / perception / loyalty commands work on: the store, or a file given on the
command line.

A survey file that fits the ``responses`` contract (it has a date column) is loaded through
the validating loader into an in-memory store (bad rows are quarantined and counted, as
with ``cxvalue load``). Any other survey file — the ECSI items, an airline satisfaction
export without dates — is read as it is (CSV with detected encoding and delimiter, Excel,
Parquet) so that its own column names can be used in ``--outcome``, ``--drivers`` and
``--model``.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import CxValueError
from ..schema import get_table, normalize_name
from ..timeutil import as_date

__all__ = ["read_any", "is_contract_file", "survey_frame", "nps_answers", "filter_period", "parse_list", "parse_pair",
           "BREAKDOWNS", "CUSTOMER_BREAKDOWNS"]

#: response columns NPS is broken down by (when present), then customer attributes
BREAKDOWNS = ("touchpoint", "channel", "product", "wave")
CUSTOMER_BREAKDOWNS = ("member_tier", "segment")


def parse_list(value: str | None) -> list[str] | None:
    """'a,b, c' → ['a', 'b', 'c'] (None stays None)."""
    if value is None:
        return None
    items = [v.strip() for v in str(value).split(",") if v.strip()]
    return items or None


def parse_pair(value: str | None, name: str, cast=float):
    """'5,8' → (5.0, 8.0); a clear error otherwise."""
    if value is None:
        return None
    parts = parse_list(value) or []
    try:
        if len(parts) != 2:
            raise ValueError
        return cast(parts[0]), cast(parts[1])
    except ValueError:
        raise CxValueError(f"{name}={value!r} is not valid: expected two values separated by a comma, "
                           "e.g. 5,8") from None


def _header(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq
        return list(pq.read_schema(path).names)
    if suffix in (".xlsx", ".xlsm"):
        return [str(c) for c in pd.read_excel(path, nrows=0).columns]
    return [str(c) for c in read_any(path, nrows=0).columns]


def read_any(path, *, nrows: int | None = None, sheet=None) -> pd.DataFrame:
    """A table file as pandas, as it is: CSV/TXT (encoding and delimiter detected, types
    inferred by DuckDB), Excel .xlsx or Parquet."""
    path = Path(path)
    if not path.exists():
        raise CxValueError(f"file {str(path)!r} not found")
    if path.is_dir():
        raise CxValueError(f"{str(path)!r} is a folder: expected a file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        df = pd.read_parquet(path)
        return df.head(nrows) if nrows is not None else df
    if suffix in (".xlsx", ".xlsm"):
        return pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, nrows=nrows)
    if suffix == ".xls":
        raise CxValueError(f"{path.name}: legacy .xls is not supported: save it as .xlsx or CSV")
    import duckdb

    from ..io.readers import _transcode, detect_encoding
    enc = detect_encoding(path)
    read_path, tmp = path, None
    if enc not in ("utf-8", "utf-8-sig", "utf8"):
        read_path = tmp = _transcode(path, enc)
    try:
        con = duckdb.connect()
        try:
            rel = con.read_csv(str(read_path), header=True)
            if nrows is not None:
                rel = rel.limit(nrows)
            df = rel.df()
        except duckdb.Error as exc:
            raise CxValueError(f"{path.name}: cannot read as CSV: {str(exc).splitlines()[0]}") from None
        finally:
            con.close()
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    # the unnamed first column of R / pandas exports (row names)
    first = df.columns[0] if len(df.columns) else None
    if first in ("column0", "column00", "", "Unnamed: 0") and df[first].is_unique:
        df = df.drop(columns=first)
    return df


def is_contract_file(path, table: str = "responses") -> bool:
    """Whether a file's header names the required columns of ``table`` (directly or by alias)."""
    spec = get_table(table)
    names = {normalize_name(h) for h in _header(Path(path))}
    for col in spec.required:
        c = spec.column(col)
        if not ({normalize_name(c.name)} | {normalize_name(a) for a in c.aliases}) & names:
            return False
    return True


def survey_frame(file: Path | None, con=None, *, columns=None, options: dict | None = None) -> pd.DataFrame:
    """Survey answers as pandas: the ``responses`` table of store ``con`` (``file`` None), a
    contract file loaded through the validating loader, or any other file read as it is."""
    if file is None:
        from ..store import table
        t = table(con, "responses")
        if columns:
            t = t.select(*[c for c in columns if c in t.columns])
        return t.to_pandas()
    if is_contract_file(file, "responses"):
        from ..io.memory import load_into_memory
        mem, _ = load_into_memory("responses", file, options=options)
        return mem.table("responses").to_pandas()
    return read_any(file)


def nps_answers(con, *, score: str = "nps", date_col: str = "date", columns=(), value_tier=None,
                as_of=None) -> pd.DataFrame:
    """The store's answers with a ``score`` (0-10) as pandas: ``customer_id``, ``date_col``,
    ``score``, the response breakdowns (touchpoint, channel, product, wave) and any of
    ``columns`` that responses has, the customers' ``member_tier`` / ``segment`` joined in,
    and ``value_tier`` (:func:`cxvalue.value.customer_value.customer_tiers`: the CLV
    analysis' customer pyramid when present, else value quantiles) when ``value_tier`` is
    true — or, when None, when ``columns`` asks for it. Errors name the missing table or column."""
    from ..store import has_table
    if not has_table(con, "responses"):
        raise CxValueError("the store has no responses: load them with `cxvalue load responses FILE`")
    r = con.table("responses")
    from ..columns import find_column, match_column
    score = match_column(r.columns, score, "--score", "the survey data")
    # a breakdown not in responses may be joined in later (from customers): kept as given
    columns = [c if c in r.columns or c in ("period", "value_tier", "member_tier", "segment") else
               find_column(r.columns, c) or c for c in columns]
    want = ["customer_id", date_col, score, *BREAKDOWNS, *columns]
    cols = [c for c in dict.fromkeys(want) if c in r.columns]
    df = r.filter(r[score].notnull()).select(*cols).to_pandas()
    if "customer_id" in df.columns and len(df):
        if has_table(con, "customers"):
            cust = con.table("customers")
            extra = [c for c in CUSTOMER_BREAKDOWNS if c in cust.columns and c not in df.columns]
            if extra:
                cd = cust.select("customer_id", *extra).to_pandas().set_index("customer_id")
                df = df.join(cd, on="customer_id")
        if value_tier is None:
            value_tier = "value_tier" in columns
        if value_tier and "value_tier" not in df.columns and has_table(con, "transactions"):
            from ..value.customer_value import customer_tiers
            df["value_tier"] = df["customer_id"].map(customer_tiers(con, as_of=as_of))
    return df


def filter_period(df: pd.DataFrame, since=None, until=None, date_col: str = "date") -> pd.DataFrame:
    """Rows with ``date_col`` in [since, until] (days, inclusive)."""
    if since is None and until is None:
        return df
    if date_col not in df.columns:
        raise CxValueError(f"--since/--until need a {date_col!r} column; the data has "
                           f"{', '.join(map(str, df.columns[:15]))}")
    d = pd.to_datetime(df[date_col], errors="coerce")
    keep = pd.Series(True, index=df.index)
    if since is not None:
        keep &= d >= pd.Timestamp(as_date(since, "since"))
    if until is not None:
        keep &= d < pd.Timestamp(as_date(until, "until")) + pd.Timedelta(days=1)
    out = df[keep.to_numpy()]
    if out.empty:
        raise CxValueError(f"no answers dated between {since or 'the start'} and {until or 'the end'}")
    return out
