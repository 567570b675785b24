"""Matching the column names and values a user types to those of the data: exact first, then
ignoring case, spaces and punctuation (``Satisfaction`` for ``satisfaction``, ``Tenure Months``
for ``tenure_months``); an unknown name is a one-line error that lists every column (not the
first 20: the right one was often hidden) with the closest as a hint."""
from __future__ import annotations

import difflib

from .errors import CxValueError
from .schema import normalize_name


def _hits(cols: list[str], name: str) -> list[str]:
    """``[name]`` when it is a column, else the columns equal to it ignoring case, spaces and punctuation."""
    if name in cols:
        return [name]
    key = normalize_name(name)
    return [c for c in cols if normalize_name(c) == key]


def find_column(columns, name: str) -> str | None:
    """The column meant by ``name`` (see the module docstring), or None when none or several match."""
    hits = _hits([str(c) for c in columns], name)
    return hits[0] if len(hits) == 1 else None


def match_column(columns, name: str, option: str, what: str = "the data") -> str:
    """The column of ``columns`` that the user meant by ``name`` (see the module docstring)."""
    cols = [str(c) for c in columns]
    hits = _hits(cols, name)
    key = normalize_name(name)
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise CxValueError(f"{option} {name!r} matches several columns of {what} ({', '.join(hits)}): give it exactly")
    close = difflib.get_close_matches(name, cols, n=1, cutoff=0.6) or [c for c in cols if key and key in normalize_name(c)][:1]
    hint = f" — did you mean {close[0]!r}?" if close else ""
    raise CxValueError(f"{option} {name!r} is not a column of {what}{hint}; columns: {', '.join(cols)}")


def match_value(values, value: str, option: str, column: str, limit: int = 30):
    """The value of ``values`` (the distinct values of ``column``) that the user meant by ``value``:
    exact, else ignoring case and surrounding spaces; else a one-line error listing the values."""
    vals = list(values)
    as_text = {str(v): v for v in vals}
    if str(value) in as_text:
        return as_text[str(value)]
    folded = [v for v in vals if str(v).strip().casefold() == str(value).strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    shown = sorted(map(str, vals))
    more = f" … ({len(shown)} values)" if len(shown) > limit else ""
    raise CxValueError(f"{option} {value!r} is not a value of {column!r}; values: {', '.join(shown[:limit])}{more}")
