"""Contract checks as SQL over a staged source (runs in DuckDB, vectorised, streaming).

:func:`resolve_columns` matches a source's headers to a table's contract columns.
:func:`checked_query` builds one SELECT that types every column and names, for each
row, the first problem found (or NULL): ``__reason``, ``__column``, ``__expected`` and
``__got``. Reasons, in the order they are checked:

``malformed_row`` · ``bad_encoding`` · ``line_too_long`` (the reader's) · ``missing_value`` · ``wrong_type`` ·
``not_finite`` · ``bad_date`` · ``future_date`` · ``implausible_date`` · ``out_of_range`` · ``not_allowed`` ·
``negative_amount`` · ``inconsistent_dates`` · ``self_referral`` · ``duplicate_key`` · ``duplicate_row`` ·
``unknown_customer``.

What is plausible (the date range, the time zone that offsets are converted to, whether a keyless
row equal to a stored one is a repeat or a re-export) is a :class:`LoadRules`.
"""
from __future__ import annotations

import datetime as dt
import difflib
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import DataContractError
from ..schema import DEFAULT_SCALE, SQL_TYPES, Column, Table, is_kano_column, is_rating_column, normalize_name, snake_case
from .mapping import Mapping
from .readers import DEFAULT_NA, ReadOptions, Source

REASONS = ("malformed_row", "bad_encoding", "line_too_long", "missing_value", "wrong_type", "not_finite", "bad_date",
           "future_date", "implausible_date", "out_of_range", "not_allowed", "negative_amount", "inconsistent_dates",
           "self_referral", "duplicate_key", "duplicate_row", "unknown_customer")
TRUE_WORDS = ("true", "t", "yes", "y", "1", "是", "对", "真")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否", "不", "假")
DATE_FORMATS = ("%Y%m%d", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M",
                "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class LoadRules:
    """What a load accepts beyond the contract's types (settings ``earliest_date``,
    ``latest_date_years``, ``timezone``, ``allow_repeated_rows``)."""
    line_items: bool = False            # transactions without a line column: rows are order lines (no order key)
    earliest_date: str = "1900-01-01"   # dates before it are implausible (a two-digit year read as 0024)
    latest_date_years: int = 10         # ... and dates more than this many years after today
    timezone: str = "UTC"               # values with an offset (+08:00, Z) are converted to this zone
    allow_repeated_rows: bool = False   # keyless tables: a row equal to a stored one is a re-export, not a repeat
    max_reject_share: float = 1.0       # a load rejecting more of its rows is refused (the CLI's default: 5%)

    def date_bounds(self, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
        today = today or dt.date.today()
        try:
            earliest = dt.date.fromisoformat(str(self.earliest_date))
        except ValueError:
            raise DataContractError(f"earliest_date={self.earliest_date!r} is not a date: expected YYYY-MM-DD") from None
        years = int(self.latest_date_years)
        try:
            latest = today.replace(year=today.year + years)
        except ValueError:             # 29 February
            latest = today.replace(year=today.year + years, day=28)
        return earliest, latest


@dataclass
class ColumnPlan:
    name: str            # contract (or extra) column name in the store
    source: str | None   # header in the source, None when absent
    spec: Column
    extra: bool = False


@dataclass
class Plan:
    table: Table
    columns: list[ColumnPlan]
    dropped: list[str] = field(default_factory=list)
    key: tuple[str, ...] = ()   # the key this file's rows have (empty: keyless, see :func:`file_key`)

    @property
    def present(self) -> list[ColumnPlan]:
        return [c for c in self.columns if c.source is not None]

    def mapped(self) -> dict[str, str]:
        return {c.source: c.name for c in self.present}


def q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def among(expr: str, values_sql: str) -> str:
    """``expr IN (values)`` for a constant list of texts, as ``list_contains`` (``expr`` compared as
    text): DuckDB rewrites each IN list into a join, and hundreds of them (a wide file) exhaust
    its memory. NULL stays NULL."""
    return f"list_contains([{values_sql}], CAST({expr} AS VARCHAR))"


def lit(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _na_sql(options: ReadOptions) -> str:
    """The SQL list of the non-empty NA codes of ``options`` ('' when there are none)."""
    return ", ".join(lit(v) for v in options.na_values if v != "")


def resolve_columns(table: Table, headers: list[str], mapping: Mapping, source: str,
                    extra_types: dict[str, str] | None = None, line_items: bool = False) -> Plan:
    """Match headers to contract columns: mapping file, then exact names, then aliases.

    Headers that match no contract column become extra columns (snake_case names; rating
    columns of tables that take them get the rating scale); ``mapping.drop`` is left out."""
    taken = _mapped_headers(table, headers, mapping, source)
    free = [h for h in headers if h not in taken.values() and h not in mapping.drop]
    _match_names(table, free, taken)
    plans = [ColumnPlan(c.name, taken.get(c.name), c) for c in table.columns]
    _check_required(plans, headers, free, taken, source)
    plans += _extra_columns(table, headers, taken, mapping, extra_types or {})
    plan = Plan(table, plans, [h for h in headers if h in mapping.drop])
    plan.key = file_key(table, [p.name for p in plan.present], line_items)
    return plan


def file_key(table: Table, present: list[str], line_items: bool = False) -> tuple[str, ...]:
    """The key of a file's rows: the table's key when the file has every key column; for
    transactions without a ``line`` column, ``order_id`` (one row per order) — unless
    ``line_items``: then the rows are order lines and have no key (rows equal to stored ones are
    caught instead, :func:`_row_fingerprint_check`); else none."""
    if table.key and all(k in present for k in table.key):
        return table.key
    if table.order_key and not line_items and all(k in present for k in table.order_key):
        return table.order_key
    return ()


def _mapped_headers(table: Table, headers: list[str], mapping: Mapping, source: str) -> dict[str, str]:
    """Contract column → header, as the mapping file says (both ends checked, with a hint)."""
    by_name = [c.name for c in table.columns]
    taken: dict[str, str] = {}
    for header, target in mapping.columns.items():
        if header not in headers:
            close = difflib.get_close_matches(header, headers, n=1)
            hint = f" — closest header: {close[0]!r}" if close else ""
            raise DataContractError(f"{source}: the mapping names column {header!r}, which the file does not have{hint}",
                                    source=source, column=header)
        if target not in by_name and not table.has_column(target):
            close = difflib.get_close_matches(target, by_name, n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            raise DataContractError(f"{source}: the mapping maps {header!r} to {target!r}, which is not a column of "
                                    f"{table.name}{hint}", source=source, column=target)
        taken[target] = header
    return taken


def _match_names(table: Table, free: list[str], taken: dict[str, str]) -> None:
    """Add to ``taken`` the contract columns whose name or alias (normalised) a free header has:
    exact name first, then aliases in order; a header is used once."""
    norm = {h: normalize_name(h) for h in free}
    for col in table.columns:
        if col.name in taken:
            continue
        keys = [normalize_name(col.name)] + [normalize_name(a) for a in col.aliases]
        for key in keys:
            hit = [h for h in free if norm[h] == key and h not in taken.values()]
            if hit:
                taken[col.name] = hit[0]
                break


def _check_required(plans: list[ColumnPlan], headers: list[str], free: list[str], taken: dict[str, str],
                    source: str) -> None:
    """Raise naming every required column without a header, with the closest unused header."""
    missing = [p for p in plans if p.spec.required and p.source is None]
    if not missing:
        return
    seps = [d for d in (",", ";", "\t", "|") if len(headers) == 1 and d in headers[0]]
    if seps:
        shown = "tab" if seps[0] == "\t" else repr(seps[0])
        raise DataContractError(f"{source}: the file has one column {headers[0][:80]!r}: its fields seem to be separated "
                                f"by {shown} — give --delimiter {shown} (or --format whitespace / fixed)", source=source)
    leftover = [h for h in free if h not in taken.values()]
    msgs = []
    for p in missing:
        close = _plausible_headers(p.spec, leftover)
        hint = f"a header that may hold it: {', '.join(map(repr, close))}; " if close else ""
        derive = _derive_hint(p.name, plans, leftover)
        msgs.append(f"missing required column {p.name!r} (expected {p.spec.dtype}) — {hint}"
                    f"rename it or map it with --map (columns: {{<header>: {p.name}}}){derive}")
    raise DataContractError(f"{source}: " + "; ".join(msgs) + f". Headers found: {', '.join(headers)}",
                            source=source, column=missing[0].name, expected=missing[0].spec.dtype)


def _plausible_headers(col: Column, headers: list[str]) -> list[str]:
    """Headers that may hold ``col``: those containing its name or an alias (``UnitPrice`` for a
    price), else one that is nearly the same word — not merely the closest string (``Country``
    for ``amount``)."""
    keys = [k for k in [normalize_name(col.name)] + [normalize_name(a) for a in col.aliases] if len(k) >= 3]
    hits = [h for h in headers if any(k in normalize_name(h) for k in keys)]
    return hits[:3] or difflib.get_close_matches(col.name, headers, n=1, cutoff=0.8)


def _derive_hint(name: str, plans: list[ColumnPlan], headers: list[str]) -> str:
    """For a missing amount with a quantity and a unit price in the file: the ``derive:`` to write."""
    if name != "amount":
        return ""
    qty = next((p.source for p in plans if p.name == "quantity" and p.source), None)
    qty = qty or next((h for h in headers if normalize_name(h) in ("quantity", "qty", "units", "数量")), None)
    price = next((h for h in headers if "price" in normalize_name(h) or "单价" in h), None)
    if not (qty and price):
        return ""
    def ref(h):
        return h if h.isidentifier() else '\\"' + h + '\\"'
    return f", or compute it in the mapping file: derive: {{amount: \"{ref(qty)} * {ref(price)}\"}}"


def _extra_columns(table: Table, headers: list[str], taken: dict[str, str], mapping: Mapping,
                   extra_types: dict[str, str]) -> list[ColumnPlan]:
    """Plans of the headers no contract column took (and not dropped): rating columns on the
    mapping's scale, others as extra columns with unique snake_case names."""
    used = {c.name for c in table.columns}
    plans = []
    for h in headers:
        if h in taken.values() or h in mapping.drop:
            continue
        name = snake_case(h)
        if table.rating_columns and is_rating_column(name):
            plans.append(ColumnPlan(name, h, Column(name, "float", scale=mapping.scale_for(name, DEFAULT_SCALE))))
            used.add(name)
            continue
        if name not in used and table.rating_columns and is_kano_column(name):
            plans.append(ColumnPlan(name, h, table.column(name)))
            used.add(name)
            continue
        while name in used:
            name += "_x"
        used.add(name)
        plans.append(ColumnPlan(name, h, Column(name, extra_types.get(h, "string")), extra=True))
    return plans


def _clean(expr: str, options: ReadOptions, typed: bool, dtype: str = "string") -> str:
    """A source value as trimmed text, '' as NULL (typed sources are cast to text).

    NA codes (``na_values``) in number/date/bool columns simply fail to parse and are then
    treated as missing by the checks (cheaper than testing every value); in text columns they
    become NULL only when the user gave ``na_values`` explicitly."""
    text = f"CAST({expr} AS VARCHAR)" if typed else expr
    # trim only values with a space at either end: trimming every value costs a string copy each
    core = f"(CASE WHEN {text} LIKE ' %' OR {text} LIKE '% ' THEN NULLIF(trim({text}), '') ELSE NULLIF({text}, '') END)"
    if dtype == "string" and options.na_values != DEFAULT_NA:
        nas = _na_sql(options)
        return f"CASE WHEN {among(core, nas)} THEN NULL ELSE {core} END" if nas else core
    return core


_FRACTIONAL = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")   # converted to int when whole (see :func:`_whole`)
_NATIVE = {"float": _FRACTIONAL + ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
                                   "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"),
           "int": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT") + _FRACTIONAL,
           "bool": ("BOOLEAN",), "date": ("DATE", "TIMESTAMP"), "timestamp": ("TIMESTAMP", "DATE")}


def _native_base(native: str) -> str:
    base = native.split("(")[0].upper()
    return "TIMESTAMP" if base.startswith("TIMESTAMP") else base


def _native_fits(native: str, dtype: str) -> bool:
    """Whether a typed source column converts to ``dtype`` without parsing text."""
    return _native_base(native) in _NATIVE.get(dtype, ())


def _whole(d: str) -> str:
    """The number ``d`` as BIGINT when it is a whole number (NULL otherwise: CAST would round)."""
    return f"(CASE WHEN {d} = floor({d}) AND abs({d}) < 9e18 THEN CAST({d} AS BIGINT) END)"


def _value_map(expr: str, codes: dict) -> str:
    if not codes:
        return expr
    whens = " ".join(f"WHEN {expr} = {lit(k)} THEN {lit(str(v).lower() if isinstance(v, bool) else v)}"
                     for k, v in codes.items())
    return f"CASE {whens} ELSE {expr} END"


# a time of day followed by a UTC offset or Z: '2024-01-02T10:00:00+08:00', '10:00+0800', '10:00:00Z'
_OFFSET = r"\d:\d\d(:\d\d(\.\d+)?)? ?(Z|UTC|[+-]\d\d(:?\d\d)?)$"


def _typed(raw: str, dtype: str, options: ReadOptions, tz: str = "UTC") -> str:
    """Typed value of text expression ``raw`` (NULL when it does not parse). Dates and times with
    a UTC offset are converted to the time zone ``tz`` (the store keeps local times, without offset)."""
    if dtype == "string":
        return raw
    if dtype in ("int", "float"):
        # decimal comma: '.' is the thousands separator
        num = f"replace(replace({raw}, '.', ''), ',', '.')" if options.decimal == "," else raw
        if dtype == "float":
            return f"TRY_CAST({num} AS DOUBLE)"
        return _whole(f"TRY_CAST({num} AS DOUBLE)")  # TRY_CAST('1.5' AS BIGINT) would round to 2
    if dtype == "bool":
        t = ", ".join(lit(w) for w in TRUE_WORDS)
        f = ", ".join(lit(w) for w in FALSE_WORDS)
        return f"(CASE WHEN {among(f'lower({raw})', t)} THEN true WHEN {among(f'lower({raw})', f)} THEN false END)"
    fmts = ([options.date_format] if options.date_format else []) + list(DATE_FORMATS)
    fmt_list = "[" + ", ".join(lit(f) for f in fmts) + "]"
    ts = f"COALESCE(TRY_CAST({raw} AS TIMESTAMP), try_strptime({raw}, {fmt_list}))"
    if options.date_format:
        ts = f"COALESCE(try_strptime({raw}, {lit(options.date_format)}), TRY_CAST({raw} AS TIMESTAMP), try_strptime({raw}, {fmt_list}))"
    # TRY_CAST(... AS TIMESTAMP) would drop the offset: read it as an instant, then as local time in tz
    ts = (f"(CASE WHEN regexp_matches({raw}, {lit(_OFFSET)}) THEN timezone({lit(tz)}, TRY_CAST({raw} AS TIMESTAMPTZ)) "
          f"ELSE {ts} END)")
    return f"CAST({ts} AS DATE)" if dtype == "date" else ts


@dataclass(frozen=True)
class Check:
    condition: str
    reason: str
    column: str | None
    expected: str
    got: str  # SQL expression of the offending value


def checked_query(plan: Plan, src: Source, options: ReadOptions, mapping: Mapping, *,
                  native_types: dict[str, str], existing_keys: str | None, customers: str | None,
                  existing_rows: tuple[str, list[str]] | None = None, rules: LoadRules | None = None,
                  today_sql: str = "current_date", materialize: bool = False) -> CheckPlan:
    """The SQL that validates a staged source against ``plan``'s contract (see :class:`CheckPlan`).

    Per-row checks (types, ranges, dates, amounts) come first; a row's first failing check
    names its reason. Then, among rows that pass them, duplicate keys within the file (later
    occurrences), keys already in the store and unknown customers.

    ``existing_rows``: for a file without the table's key columns, ``(stored table or None, the
    columns it shares with the file)``: a row equal to a stored one is a ``duplicate_row`` (a
    re-export); None: repeats are allowed.

    ``materialize`` types and checks the source once into ``__typed`` (for text sources, where
    parsing values is the expensive part) instead of streaming each pass from it. ``__typed``
    keeps the record number, the typed values, the per-row verdict and, for rows that fail it
    only, the offending value and the raw text.
    """
    rules = rules or LoadRules()
    present = plan.present
    inner, outs, checks = _typed_select(present, src, options, mapping, native_types, rules.timezone, plan.table)
    typed = f"SELECT {outs} FROM ({inner})"
    checks += _row_checks(plan, options, mapping, today_sql, rules, native_types)
    n_row = len(checks)
    rowwise = _first_failing(checks)
    base = f"SELECT *, {rowwise} AS __row_check FROM ({typed})"
    raw_struct = ", ".join(f"{lit(c.source)}: r_{i}" for i, c in enumerate(present)) or "'_': NULL"
    raw_json = f"to_json({{{raw_struct}}})::VARCHAR"
    row_got = _got_case(list(enumerate(checks, 1)), "__row_check")
    vals = ", ".join(f"v_{i}" for i in range(len(present)))
    pre = []
    if materialize:  # text sources: type and check every value once, then scan the typed table
        keep = ["__idx"] + ([vals] if vals else []) + [
            "__row_check", f"CASE WHEN __row_check IS NOT NULL THEN {row_got} END AS __rgot",
            f"CASE WHEN __row_check IS NOT NULL THEN {raw_json} END AS __rraw"]
        pre.append(f"CREATE OR REPLACE TEMP TABLE __typed AS SELECT {', '.join(keep)} FROM ({base})")
        base = "SELECT * FROM __typed"
        # rows failing a per-row check keep their raw text; rows failing a cross-row check passed
        # every per-row check, so their validated values stand for them
        typed_struct = ", ".join(f"{lit(c.source)}: CAST(v_{i} AS VARCHAR)" for i, c in enumerate(present)) or "'_': NULL"
        raw_json = f"coalesce(__rraw, to_json({{{typed_struct}}})::VARCHAR)"
    cross = _cross_checks(plan, base, existing_keys, customers, existing_rows)
    pre += cross.pre
    checks += cross.checks
    cross_got = _got_case(list(enumerate(checks, 1))[n_row:])
    got = f"CASE WHEN __check <= {n_row} THEN {'__rgot' if materialize else row_got} ELSE {cross_got} END"
    bad = [_bad_select(base, checks, n_row, cross, got, raw_json, with_dups) for with_dups in (True, False)]
    good_rowwise = f"SELECT {vals} FROM ({base}) WHERE __row_check IS NULL"
    good = (f"SELECT {vals} FROM ({base}) __t WHERE __row_check IS NULL AND NOT EXISTS (SELECT 1 FROM __bad "
            f"WHERE __bad.__idx = __t.__idx AND __bad.__check > {n_row})")
    return CheckPlan(pre=pre, dups=cross.dups, bad=bad[0], bad_no_dups=bad[1], good=good,
                     good_rowwise=good_rowwise, checks=checks, n_row=n_row)


def _typed_select(present: list[ColumnPlan], src: Source, options: ReadOptions, mapping: Mapping,
                  native_types: dict[str, str], tz: str = "UTC", table: Table | None = None
                  ) -> tuple[str, str, list[Check]]:
    """The SELECT of the source with each present column as raw text ``r_<i>`` (cleaned, value
    codes mapped; or as it is when the source's type already fits), the select list that adds the
    typed ``v_<i>`` over it, and the malformed-row check when the reader flags bad records."""
    selects, checks, native_ok = ["__idx"], [], []
    id_columns = set(table.key) | set(table.order_key) if table is not None else set()
    if src.has_bad:
        checks.append(Check("__bad IS NOT NULL", "malformed_row", None, "the declared number of fields", "__bad"))
        selects.append("__bad")
    for i, c in enumerate(present):
        native = native_types.get(c.source, "VARCHAR")
        codes = mapping.values.get(c.name, {})
        ok = c.spec.dtype != "string" and not codes and _native_fits(native, c.spec.dtype)
        native_ok.append(ok)
        if ok:  # already typed (Parquet, SQL): no round trip through text
            selects.append(f"{q(c.source)} AS r_{i}")
        else:
            raw = _value_map(_clean(q(c.source), options, native != "VARCHAR", c.spec.dtype), codes)
            if c.spec.dtype == "string" and (c.spec.customer_ref or c.name in id_columns):
                # an id column read as numbers with gaps comes as 17850.0: the id is 17850
                raw = f"(CASE WHEN {raw} LIKE '%.0' THEN regexp_replace({raw}, '^(-?[0-9]+)\\.0+$', '\\1') ELSE {raw} END)"
            selects.append(f"{raw} AS r_{i}")
    inner = f"SELECT {', '.join(selects)} FROM {src.relation}"
    def typed(i: int, c: ColumnPlan) -> str:
        if not native_ok[i]:
            return _typed(f"r_{i}", c.spec.dtype, options, tz)
        if "TIME ZONE" in native_types.get(c.source, "").upper():   # an instant: local time in tz
            local = f"timezone({lit(tz)}, r_{i})"
            return local if c.spec.dtype == "timestamp" else f"CAST({local} AS DATE)"
        if c.spec.dtype == "int" and _native_base(native_types.get(c.source, "")) in _FRACTIONAL:
            return _whole(f"r_{i}")
        return f"CAST(r_{i} AS {SQL_TYPES[c.spec.dtype]})"
    outs = ["*"] + [typed(i, c) + f" AS v_{i}" for i, c in enumerate(present)]
    return inner, ", ".join(outs), checks


def _expected(options: ReadOptions) -> dict[str, str]:
    """What a value of each type should look like, for the messages."""
    fmt = f" or {options.date_format}" if options.date_format else "; other layouts: give --date-format, e.g. %d/%m/%Y"
    return {"int": "a whole number", "float": "a number", "bool": "true/false (yes/no, 1/0)",
            "date": "a date (YYYY-MM-DD" + fmt + ")", "timestamp": "a date/time (YYYY-MM-DD[ HH:MM:SS]" + fmt + ")"}


def _row_checks(plan: Plan, options: ReadOptions, mapping: Mapping, today_sql: str,
                rules: LoadRules | None = None, native_types: dict[str, str] | None = None) -> list[Check]:
    """The per-row checks of every present column, in the order of :data:`REASONS`, column by column,
    then those between two columns of a row (dates in order, no self-referral)."""
    expect = _expected(options)
    earliest, latest = (rules or LoadRules()).date_bounds()
    plausible = (f"a date from {earliest} to {latest} (a two-digit year? give --date-format, e.g. %y-%m-%d; "
                 f"settings earliest_date, latest_date_years)")
    nas = _na_sql(options)
    present = plan.present
    checks = []
    for i, c in enumerate(present):
        s, r, v, col = c.spec, f"r_{i}", f"v_{i}", c.name
        is_na = _is_na(r, nas, s.dtype, (native_types or {}).get(c.source or "", "VARCHAR"), options)
        if s.required:
            checks.append(Check(f"({r} IS NULL OR ({v} IS NULL AND {is_na}))", "missing_value", col,
                                f"a {s.dtype} value", "''"))
        if s.dtype != "string":
            reason = "bad_date" if s.dtype in ("date", "timestamp") else "wrong_type"
            hint = " (use --decimal ',' for decimal commas)" if s.dtype in ("int", "float") and options.decimal == "." else ""
            checks.append(Check(f"{r} IS NOT NULL AND {v} IS NULL AND NOT {is_na}", reason, col,
                                expect[s.dtype] + hint, r))
        if s.dtype == "float":  # NaN, inf, Infinity, 1e309 parse (and come typed from Parquet) but are no amount
            checks.append(Check(f"{v} IS NOT NULL AND NOT isfinite({v})", "not_finite", col, "a finite number",
                                f"CAST({r} AS VARCHAR)"))
        if s.not_future:
            checks.append(Check(f"CAST({v} AS DATE) > {today_sql}", "future_date", col, "a date not after today", r))
        if s.dtype in ("date", "timestamp"):
            checks.append(Check(f"(CAST({v} AS DATE) < DATE '{earliest}' OR CAST({v} AS DATE) > DATE '{latest}')",
                                "implausible_date", col, plausible, r))
        checks += _range_check(c, r, v, mapping)
        if s.allowed:
            checks.append(Check(f"{v} IS NOT NULL AND NOT {among(v, ', '.join(lit(a) for a in s.allowed))}",
                                "not_allowed", col, "one of " + "/".join(s.allowed), r))
        if col in plan.table.nonnegative:
            checks.append(_nonnegative_check(plan, col, r, v))
    return checks + _pair_checks(plan)


def _is_na(r: str, nas: str, dtype: str, native: str, options: ReadOptions) -> str:
    """SQL: the value ``r`` (cleaned text, or typed by the source) is an NA code. A typed value
    fails its conversion only as a fraction for an int column or as NaN, so only NaN can be a code."""
    if not nas or dtype == "string":
        return "false"
    if native.upper() == "VARCHAR":
        return among(r, nas)
    nan = any(v.lower() == "nan" for v in options.na_values)
    return f"isnan({r})" if nan and _native_base(native) in _FRACTIONAL else "false"


def _pair_checks(plan: Plan) -> list[Check]:
    """``inconsistent_dates`` (a later date before its earlier one: resolved before opened, ended
    before started) and the table's pairs that must differ (``self_referral``)."""
    at = {c.name: i for i, c in enumerate(plan.present)}
    checks = []
    for a, b in plan.table.ordered:
        if a in at and b in at:
            va, vb = f"v_{at[a]}", f"v_{at[b]}"
            checks.append(Check(f"{vb} < {va}", "inconsistent_dates", b, f"{b} not before {a}",
                                f"CAST({vb} AS VARCHAR) || ' < ' || CAST({va} AS VARCHAR)"))
    for a, b, reason in plan.table.distinct:
        if a in at and b in at:
            checks.append(Check(f"v_{at[a]} = v_{at[b]}", reason, b, f"{b} different from {a}", f"v_{at[b]}"))
    return checks


def _range_check(c: ColumnPlan, r: str, v: str, mapping: Mapping) -> list[Check]:
    """``out_of_range`` for a column with bounds (a rating scale, possibly from the mapping)."""
    s = c.spec
    lo, hi = mapping.scale_for(c.name, s.scale) if s.scale is not None else (s.min, s.max)
    if lo is None and hi is None:
        return []
    conds = ([f"{v} < {lo}"] if lo is not None else []) + ([f"{v} > {hi}"] if hi is not None else [])
    if lo is not None and hi is not None:
        rng = f"between {lo:g} and {hi:g}"
    else:
        rng = f">= {lo:g}" if lo is not None else f"<= {hi:g}"
    return [Check(f"({' OR '.join(conds)})", "out_of_range", c.name, f"a value {rng}", r)]


def _nonnegative_check(plan: Plan, col: str, r: str, v: str) -> Check:
    """``negative_amount``: a value below 0, unless the row is flagged as a return."""
    flag_col = plan.table.return_flag
    flag = next((j for j, p in enumerate(plan.present) if p.name == flag_col), None)
    ok = f" AND NOT coalesce(v_{flag}, false)" if flag is not None else ""
    what = f"a value >= 0 (or {flag_col}=true for returns)" if flag_col else "a value >= 0"
    return Check(f"{v} < 0{ok}", "negative_amount", col, what, r)


def _groups(items):
    """``items`` ((number, check) pairs) in runs of the same column, in order."""
    runs = []
    for k, c in items:
        if runs and runs[-1][0][1].column == c.column:
            runs[-1].append((k, c))
        else:
            runs.append([(k, c)])
    return runs


def _coalesced(parts: list[str], null: str) -> str:
    if not parts:
        return null
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _first_failing(checks: list[Check]) -> str:
    """SQL of the 1-based number of a row's first failing check (NULL: none fails). One small CASE
    per column, coalesced in column order — the same answer as one CASE over every check, which
    DuckDB cannot evaluate with thousands of branches (a wide file ran out of memory)."""
    return _coalesced(["CASE " + " ".join(f"WHEN {c.condition} THEN {k}" for k, c in run) + " END"
                       for run in _groups(list(enumerate(checks, 1)))], "NULL::INTEGER")


def _got_case(items, var: str = "__check") -> str:
    """SQL of the offending value of the check that failed (``var`` holds its 1-based number),
    per column as in :func:`_first_failing`."""
    return _coalesced([f"CASE {var} " + " ".join(f"WHEN {k} THEN CAST({c.got} AS VARCHAR)" for k, c in run) + " END"
                       for run in _groups(items)], "NULL::VARCHAR")


@dataclass
class _CrossChecks:
    """Cross-row checks, run as joins on the rows that pass every per-row check."""
    checks: list[Check] = field(default_factory=list)
    pre: list[str] = field(default_factory=list)     # the key hashes seen twice, into __duph
    dups: str | None = None                          # the duplicated keys, into __dups
    dup_join: str | None = None                      # the join on __dups (left out when it is empty)
    joins: list[str] = field(default_factory=list)   # the other joins: keys in the store, customers


def _cross_checks(plan: Plan, base: str, existing_keys: str | None, customers: str | None,
                  existing_rows: tuple[str, list[str]] | None = None) -> _CrossChecks:
    """Duplicate keys within the file (table ``__dups``, built from the key hashes seen twice),
    keys already in the store (``existing_keys``), rows equal to stored ones (``existing_rows``,
    keyless files), unknown customers (not in ``customers``)."""
    present, key = plan.present, plan.key
    out = _CrossChecks()
    key_idx = [next((j for j, p in enumerate(present) if p.name == k), None) for k in key]
    if key:
        _key_checks(out, key, [f"v_{j}" for j in key_idx], base, existing_keys)
    elif existing_rows is not None:
        _row_fingerprint_check(out, plan, *existing_rows)
    if customers is not None:
        for n, (j, p) in enumerate((j, p) for j, p in enumerate(present) if p.spec.customer_ref):
            out.joins.append(f"LEFT JOIN (SELECT DISTINCT customer_id AS __cid{n} FROM {customers}) __c{n} "
                             f"ON __c{n}.__cid{n} = v_{j}")
            out.checks.append(Check(f"v_{j} IS NOT NULL AND __cid{n} IS NULL", "unknown_customer", p.name,
                                    "a customer_id present in customers", f"v_{j}"))
    return out


def _key_checks(out: _CrossChecks, key: tuple[str, ...], kv: list[str], base: str, existing_keys: str | None) -> None:
    """``duplicate_key`` within the file and, with ``existing_keys``, against the store."""
    kname = ", ".join(key)
    got_key = " || '/' || ".join(f"CAST({k} AS VARCHAR)" for k in kv)
    nn = " AND ".join(f"{k} IS NOT NULL" for k in kv)
    h = f"hash({', '.join(kv)})"
    dsel = ", ".join(f"{k} AS __d{n}" for n, k in enumerate(kv))
    # duplicates: 64-bit key hashes seen twice (sorting the hashes is cheaper than a hash
    # aggregation over millions of distinct keys), then the real keys of those candidates only
    # (usually none, and then no join at all)
    out.pre.append(f"CREATE OR REPLACE TEMP TABLE __duph AS SELECT DISTINCT __h FROM (SELECT __h, lag(__h) OVER "
                   f"(ORDER BY __h) AS __p FROM (SELECT {h} AS __h FROM ({base}) WHERE __row_check IS NULL AND {nn})) "
                   f"WHERE __h = __p")
    out.dups = (f"CREATE OR REPLACE TEMP TABLE __dups AS SELECT {dsel}, min(__idx) AS __first FROM ({base}) "
                f"WHERE __row_check IS NULL AND {nn} AND {h} IN (SELECT __h FROM __duph) "
                f"GROUP BY ALL HAVING count(*) > 1")
    out.dup_join = "LEFT JOIN __dups ON " + " AND ".join(f"__dups.__d{n} = {k}" for n, k in enumerate(kv))
    out.checks.append(Check("__first IS NOT NULL AND __idx > __first", "duplicate_key", kname,
                            f"a {kname} not seen before in this file", got_key))
    if existing_keys:
        on = " AND ".join(f"__e.{q(k)} = {v}" for k, v in zip(key, kv))
        out.joins.append(f"LEFT JOIN (SELECT DISTINCT {', '.join(q(k) for k in key)}, true AS __exists "
                         f"FROM {existing_keys}) __e ON {on}")
        out.checks.append(Check("__exists", "duplicate_key", kname,
                                f"a {kname} not already in the store (use --replace to update existing rows)", got_key))


def _row_fingerprint_check(out: _CrossChecks, plan: Plan, stored: str | None, columns: list[str]) -> None:
    """``duplicate_row`` for a keyless file: a row whose values in ``columns`` (those the file
    shares with the ``stored`` table) equal a stored row's — a re-export loaded again. Equal rows
    within one file are repeats (the same purchase twice a day, as in CDNOW's master file) and
    load. Stored rows are compared by a 64-bit hash of the typed values (a false match has odds
    of about n / 2^64)."""
    at = {c.name: i for i, c in enumerate(plan.present)}
    cols = [c for c in columns if c in at]
    if not stored or not cols:
        return
    sql_type = {c.name: SQL_TYPES[c.spec.dtype] for c in plan.present}
    stored_h = "hash(" + ", ".join(f"CAST({q(c)} AS {sql_type[c]})" for c in cols) + ")"
    file_h = "hash(" + ", ".join(f"CAST(v_{at[c]} AS {sql_type[c]})" for c in cols) + ")"
    out.joins.append(f"LEFT JOIN (SELECT DISTINCT {stored_h} AS __rh, true AS __seen FROM {stored}) __r "
                     f"ON __r.__rh = {file_h}")
    out.checks.append(Check("__seen", "duplicate_row", None,
                            "a row not already in the store (setting allow_repeated_rows: true repeats)",
                            "'the same values as a stored row'"))


def _bad_select(base: str, checks: list[Check], n_row: int, cross: _CrossChecks, got: str, raw_json: str,
                with_dups: bool) -> str:
    """SELECT of the rejected rows (``__idx, __check, __got, __raw``); without the in-file
    duplicate check and its join when ``with_dups`` is false (no key was seen twice)."""
    use = [(n_row + k + 1, c) for k, c in enumerate(checks[n_row:]) if with_dups or not c.condition.startswith("__first")]
    jn = ([cross.dup_join] if with_dups and cross.dup_join else []) + cross.joins
    check = ("coalesce(__row_check, CASE " + " ".join(f"WHEN {c.condition} THEN {k}" for k, c in use) + " END)"
             if use else "__row_check")
    checked = f"SELECT *, {check} AS __check FROM ({base}) {' '.join(jn)}"
    return (f"SELECT __idx, __check, {got} AS __got, {raw_json} AS __raw "
            f"FROM ({checked}) WHERE __check IS NOT NULL")


@dataclass
class CheckPlan:
    """SQL of a validated load, streaming over the source or over its typed copy ``__typed``
    (nothing else but the rejected rows is materialised):

    1. ``pre`` — statements to run first: typing the source once into ``__typed`` (text sources),
       then the key hashes seen twice, into ``__duph``;
    2. ``dups`` — when ``__duph`` has rows: the duplicated keys and their first row, into ``__dups``;
    3. ``bad`` (or ``bad_no_dups`` when there are no duplicates) — SELECT of the rejected rows:
       ``__idx``, ``__check`` (1-based index into ``checks``), ``__got`` (the offending value),
       ``__raw`` (the row's raw values as JSON) — materialised as ``__bad``;
    4. ``good`` — SELECT of the typed values ``v_<i>`` of every row not in ``__bad``;
       ``good_rowwise`` is the same when no row failed a cross-row check (``__check > n_row``).
    """
    pre: list[str]
    dups: str | None
    bad: str
    bad_no_dups: str
    good: str
    good_rowwise: str
    checks: list[Check]
    n_row: int = 0          # checks[:n_row] are per-row checks, the rest cross-row ones


INFER_GROUP = 25   # extra columns typed per query


def infer_extra_types(con, src: Source, headers: list[str], options: ReadOptions, native_types: dict[str, str],
                      *, verify: bool = True) -> dict[str, str]:
    """Type of each extra (non-contract) column: int, float, date, bool or string, from its values.
    ``verify=False``: the types guessed on the first :data:`INFER_SAMPLE` rows, not checked on
    the others (the caller checks them as it types every value, see :func:`mistyped_extras`)."""
    if not headers:
        return {}
    # one query per group of columns (planning grows faster than the query), without the
    # common-subexpression pass (its cost grows with the square of the expressions)
    with optimizers_off(con, src, "common_subexpressions"):
        types = _infer_counts(con, src, headers, options, native_types, verify=verify)
    return _inferred(headers, types, native_types)


def retype_extras(con, src: Source, headers: list[str], options: ReadOptions, native_types: dict[str, str]) -> dict[str, str]:
    """The types of extra columns ``headers`` from every row (their guess failed on a later row)."""
    with optimizers_off(con, src, "common_subexpressions"):
        types = _infer_on(con, src.relation, headers, options, native_types)
    return _inferred(headers, types, native_types)


def mistyped_extras(con, table: str, checks: list[Check], columns: set[str]) -> set[str]:
    """Which of ``columns`` failed their type on some row of the typed table ``table`` (its
    ``__row_check`` is the first per-row check a row fails): the columns whose type was guessed
    on a sample and must be typed again from every row."""
    if not columns:
        return set()
    wanted = [k for k, c in enumerate(checks, 1) if c.column in columns and c.reason in ("wrong_type", "bad_date")]
    if not wanted:
        return set()
    hit = con.execute(f"SELECT DISTINCT __row_check FROM {table} WHERE __row_check IN "
                      f"({', '.join(map(str, wanted))})").fetchall()
    return {checks[k - 1].column for (k,) in hit}


@contextmanager
def optimizers_off(con, src: Source, *names: str):
    """DuckDB optimizer passes ``names`` off while statements over ``src`` run. A CSV scan also
    reads every column: DuckDB 1.5 fails an assertion (and invalidates the database) when a scan
    that stores rejects — rows with invalid UTF-8 — reads only some columns of the file."""
    off = list(names) + (["unused_columns"] if src.text and src.relation.startswith("(") else [])
    if off:
        con.execute(f"SET disabled_optimizers = '{','.join(off)}'")
    try:
        yield
    finally:
        if off:
            con.execute("RESET disabled_optimizers")


INFER_SAMPLE = 20_000   # rows on which the types are guessed before they are checked on every row


def _infer_counts(con, src: Source, headers: list[str], options: ReadOptions,
                  native_types: dict[str, str], *, verify: bool = True) -> dict[str, str]:
    """Each column's type: guessed on the first :data:`INFER_SAMPLE` rows (the cheapest test
    first, see :func:`_infer_on`), then checked on every row in one pass; a column whose guess
    fails on a later row is typed again on all rows. Exact, and a file is scanned about twice
    whatever its number of extra columns."""
    scan = src.relation.startswith("(")    # a file scan: LIMIT stops reading; a table: a filter keeps pushdown
    sample = (f"(SELECT * FROM {src.relation} LIMIT {INFER_SAMPLE})" if scan
              else f"(SELECT * FROM {src.relation} WHERE __idx < {INFER_SAMPLE})")
    guess = _infer_on(con, sample, headers, options, native_types)
    typed = [h for h in headers if guess[h] != "string"]
    if not verify or not typed or con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {src.relation} LIMIT {INFER_SAMPLE + 1})"
                                ).fetchone()[0] <= INFER_SAMPLE:
        return guess              # nothing to check, or the sample was every row
    nas = _na_sql(options) or "''"
    raw = _raw_texts(typed, options, native_types)
    missed = _count_groups(con, src.relation, typed, lambda h: f"count(CASE WHEN NOT {among(raw[h], nas)} THEN 1 END) "
                                                             f"- count({_typed(raw[h], guess[h], options)})")
    wrong = [h for h in typed if missed[h]]
    if wrong:
        guess.update(_infer_on(con, src.relation, wrong, options, native_types))
    return guess


def _infer_on(con, relation: str, headers: list[str], options: ReadOptions,
              native_types: dict[str, str]) -> dict[str, str]:
    """Each column's type, the cheapest test first: the values that are not missing, then whole
    numbers, numbers, true/false and dates, each asked only of the columns that failed every
    test before (a column of ratings is settled by the first cast, not by eight date formats)."""
    nas = _na_sql(options) or "''"
    raw = _raw_texts(headers, options, native_types)

    def counts(cols: list[str], expr) -> dict[str, int]:
        return _count_groups(con, relation, cols, lambda h: f"count({expr(raw[h])})")

    present = counts(headers, lambda r: f"CASE WHEN NOT {among(r, nas)} THEN 1 END")
    out = {h: "string" for h in headers}
    left = [h for h in headers if present[h]]
    for dtype in ("int", "float", "bool", "timestamp"):
        if not left:
            break
        n = counts(left, lambda r, d=dtype: _typed(r, d, options))
        for h in left:
            if n[h] == present[h]:
                out[h] = dtype
        left = [h for h in left if out[h] == "string"]
    return out


def _raw_texts(headers: list[str], options: ReadOptions, native_types: dict[str, str]) -> dict[str, str]:
    """Each column's value as cleaned text (:func:`_clean`)."""
    return {h: _clean(q(h), options, native_types.get(h, "VARCHAR") != "VARCHAR") for h in headers}


def _count_groups(con, relation: str, cols: list[str], aggregate) -> dict[str, int]:
    """``aggregate(column)`` (an SQL aggregate) of every column of ``cols`` over ``relation``, in
    queries of :data:`INFER_GROUP` columns (planning grows faster than the query)."""
    out = {}
    for start in range(0, len(cols), INFER_GROUP):
        group = cols[start:start + INFER_GROUP]
        out.update(zip(group, con.execute(f"SELECT {', '.join(aggregate(h) for h in group)} FROM {relation}").fetchone()))
    return out


def _inferred(headers: list[str], types: dict[str, str], native_types: dict[str, str]) -> dict[str, str]:
    """Typed source columns keep their type; the others take the type their values passed."""
    back = {v: k for k, v in SQL_TYPES.items()}
    out = {}
    for h in headers:
        native = native_types.get(h, "VARCHAR")
        out[h] = back[native] if native != "VARCHAR" and native in SQL_TYPES.values() else types[h]
    return out
