"""Derived columns: a mapping file's ``derive:`` section computes contract columns from source
columns, in the engine, before validation::

    derive:
      amount: "Quantity * UnitPrice"
      channel: "coalesce(SalesChannel, 'store')"

An expression is one SQL expression over the file's columns (headers as written; quote those
with spaces or punctuation in double quotes, e.g. ``"Unit Price"``) and constants, with the
operators ``+ - * / %``, comparisons, ``AND OR NOT``, ``CASE WHEN … THEN … ELSE … END`` and the
functions in :data:`FUNCTIONS`. A column used in arithmetic is read as a number (with the load's
decimal separator), any other as text. Each expression is checked before the load reads any
row: a name that is not a column of the file, a function or statement that is not allowed, a
syntax error or a column that holds no numbers where a number is needed are one-line errors.
The derived value is then validated like any value of its column.
"""
from __future__ import annotations

import difflib
from pathlib import Path

from ..errors import DataContractError
from ..schema import Table
from .readers import ReadOptions, Source

FUNCTIONS = ("abs", "round", "floor", "ceil", "coalesce", "nullif", "least", "greatest", "lower", "upper", "trim",
             "concat", "substr", "substring", "length", "replace", "left", "right", "if")
SAMPLE_ROWS = 10_000   # rows the type check of an expression reads


def apply_derive(con, src: Source, derive: dict[str, str], table: Table, options: ReadOptions, native: dict) -> None:
    """Add the derived columns of ``derive`` (contract column → expression) to ``src`` (its
    relation and headers), after checking each expression (see the module docstring)."""
    if not derive:
        return
    from .validate import _clean, _typed, q
    cols = []
    for target, expr in derive.items():
        where = f"{Path(src.source).name}: derive {target} = {expr!r}"
        if target not in table.column_names:
            close = difflib.get_close_matches(target, table.column_names, n=1)
            raise DataContractError(f"{where}: {target!r} is not a column of {table.name}"
                                    + (f" — did you mean {close[0]!r}?" if close else ""), source=src.source)
        if target in src.headers:
            raise DataContractError(f"{where}: the file already has a column {target!r}: drop it (mapping 'drop') "
                                    f"or derive another column", source=src.source)
        sql, numeric_refs = _translate(expr, src.headers, where, lambda h, numeric: (
            _typed(_clean(q(h), options, native.get(h, "VARCHAR") != "VARCHAR"), "float", options) if numeric
            else _clean(q(h), options, native.get(h, "VARCHAR") != "VARCHAR")))
        _check_sample(con, src, sql, numeric_refs, where, options)
        cols.append(f"({sql}) AS {q(target)}")
    src.relation = f"(SELECT *, {', '.join(cols)} FROM {src.relation})"
    src.headers = list(src.headers) + list(derive)


def _translate(expr: str, headers: list[str], where: str, ref_sql) -> tuple[str, list[str]]:
    """DuckDB SQL of ``expr`` with each column reference replaced by ``ref_sql(header, numeric)``;
    returns it and the headers read as numbers."""
    import sqlglot
    from sqlglot import exp
    try:
        tree = sqlglot.parse_one(str(expr), read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise DataContractError(f"{where}: not a valid expression: {str(exc).splitlines()[0]}") from None
    arithmetic = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.Abs, exp.Round, exp.Floor, exp.Ceil,
                  exp.IntDiv)
    allowed = (exp.Column, exp.Identifier, exp.Literal, exp.Paren, exp.Null, exp.Boolean, exp.Case, exp.If,
               exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least, exp.Lower, exp.Upper, exp.Trim, exp.Concat,
               exp.DPipe, exp.Substring, exp.Length, exp.Anonymous, exp.Cast, exp.DataType, exp.Not, exp.And,
               exp.Or, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between, exp.Like,
               exp.ILike, exp.Tuple, exp.Left, exp.Right) + arithmetic
    for node in tree.walk():
        if not isinstance(node, allowed):
            raise DataContractError(f"{where}: {node.key.upper()} is not allowed in a derived column (columns, "
                                    f"constants, arithmetic, comparisons, CASE and {', '.join(FUNCTIONS)})")
        if isinstance(node, exp.Anonymous) and str(node.name).lower() not in FUNCTIONS:
            raise DataContractError(f"{where}: function {node.name}() is not allowed; allowed: {', '.join(FUNCTIONS)}")
    refs, numeric = [], []
    for i, col in enumerate(list(tree.find_all(exp.Column))):
        name = col.name if not col.table else f"{col.table}.{col.name}"
        header = _header(name, headers, where)
        is_num = _numeric_context(col, arithmetic)
        refs.append(ref_sql(header, is_num))
        if is_num:
            numeric.append(header)
        col.replace(exp.column(f"__ref{i}__"))
    sql = tree.sql(dialect="duckdb")
    for i, ref in reversed(list(enumerate(refs))):
        sql = sql.replace(f"__ref{i}__", f"({ref})")
    return sql, numeric


def _numeric_context(col, arithmetic) -> bool:
    """Whether column reference ``col`` is read as a number: an operand of arithmetic, or compared
    with a number (``Quantity < 0``, ``Quantity BETWEEN 1 AND 5``)."""
    from sqlglot import exp
    node, parent = col, col.parent
    while isinstance(parent, exp.Paren):
        node, parent = parent, parent.parent
    if isinstance(parent, arithmetic):
        return True
    if isinstance(parent, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)):
        others = [v for v in parent.args.values() if isinstance(v, exp.Expression) and v is not node]
        return any((isinstance(o, exp.Literal) and o.is_number) or isinstance(o, arithmetic)
                   or (isinstance(o, exp.Neg)) for o in others)
    return False


def _header(name: str, headers: list[str], where: str) -> str:
    if name in headers:
        return name
    folded = [h for h in headers if h.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    close = difflib.get_close_matches(name, headers, n=1, cutoff=0.6)
    raise DataContractError(f"{where}: {name!r} is not a column of the file"
                            + (f" — did you mean {close[0]!r}?" if close else f"; columns: {', '.join(headers)}"))


def _check_sample(con, src: Source, sql: str, numeric_refs: list[str], where: str, options: ReadOptions) -> None:
    """Run the expression on the first rows: an engine error, or a column read as a number that
    holds text only, is a one-line error before anything is loaded."""
    from .validate import _clean, _typed, q
    sample = f"(SELECT * FROM {src.relation} LIMIT {SAMPLE_ROWS})"
    try:
        con.execute(f"SELECT count({sql}) FROM {sample}").fetchone()
    except Exception as exc:
        raise DataContractError(f"{where}: {str(exc).splitlines()[0]}") from None
    for h in dict.fromkeys(numeric_refs):
        raw = _clean(q(h), options, False)
        given, numbers, example = con.execute(
            f"SELECT count({raw}), count({_typed(raw, 'float', options)}), "
            f"any_value({raw}) FILTER (WHERE {_typed(raw, 'float', options)} IS NULL AND {raw} IS NOT NULL) "
            f"FROM (SELECT CAST({q(h)} AS VARCHAR) AS {q(h)} FROM {sample})").fetchone()
        if given and not numbers:
            raise DataContractError(f"{where}: column {h!r} is used as a number but holds none in the first "
                                    f"{SAMPLE_ROWS:,} rows (e.g. {example!r})")
