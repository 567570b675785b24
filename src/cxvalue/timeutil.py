"""Dates and time units: the one date parser and the one unit table of the package.

* :data:`DAYS_PER` — length of each time unit in days: a week is 7 days, a year 365.25
  days (the Julian year: leap years averaged), a month a twelfth of that (30.4375 days).
  Every conversion between units (the BTYD summary in weeks, CLV horizons in months,
  survival durations, tenure in years) goes through this table, so 12 months are exactly
  one year and 365.25 / 12 / 7 weeks are one month.
* :func:`as_date` — a ``datetime.date`` from any date-like argument a user can pass
  (``as_of``, ``cutoff``, ``since`` ...), with an error that names the argument.
"""
from __future__ import annotations

import datetime as dt
import re

from .errors import CxValueError, one_of

__all__ = ["DAYS_PER", "UNITS", "days_per", "periods_per_month", "periods_per_year", "as_date"]

#: days in one time unit
DAYS_PER = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}
#: the valid time units, shortest first
UNITS = tuple(DAYS_PER)

# year first: 2024-01-31, 2024/1/31, optionally followed by a time (2024-01-31T08:00, 2024-01-31 08:00:00)
_ISO = re.compile(r"\d{4}([-/])\d{1,2}\1\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def days_per(unit: str) -> float:
    """Days in one ``unit`` (day, week, month, year)."""
    one_of("unit", unit, UNITS)
    return DAYS_PER[unit]


def periods_per_month(unit: str) -> float:
    """How many ``unit`` make a month: 30.4375 days, 4.348 weeks, 1 month, 1/12 year."""
    return DAYS_PER["month"] / days_per(unit)


def periods_per_year(unit: str) -> float:
    """How many ``unit`` make a year: 365.25 days, 52.18 weeks, 12 months, 1 year."""
    return DAYS_PER["year"] / days_per(unit)


def as_date(value, name: str = "date") -> dt.date:
    """A ``datetime.date`` from a date, datetime, pandas Timestamp, numpy datetime64 or a
    year-first string (``"2024-01-31"``, ``"2024/01/31"``, optionally with a time of day).

    A datetime gives its calendar date (the time is dropped). Anything else — a number,
    None, NaT, a day-first or month-first string such as ``"01/02/2024"`` (ambiguous) —
    raises :class:`CxValueError` naming ``name``, the expected form and what was given.
    """
    import numpy as np  # here, not at import: the CLI starts without numpy and pandas
    import pandas as pd
    ts = None
    if value is pd.NaT:                         # NaT passes for a datetime
        pass
    elif isinstance(value, dt.datetime):        # includes pd.Timestamp
        return value.date()
    elif isinstance(value, dt.date):
        return value
    elif isinstance(value, (str, np.str_)):
        text = str(value).strip()
        if _ISO.fullmatch(text):
            try:
                ts = pd.Timestamp(text)
            except (ValueError, TypeError):
                ts = None
    elif isinstance(value, np.datetime64):
        ts = pd.Timestamp(value)
    if ts is None or pd.isna(ts):
        raise CxValueError(f"{name}={value!r} is not a date: expected YYYY-MM-DD (a date, or a "
                           f"year-first string such as '2024-12-31')")
    return ts.date()
