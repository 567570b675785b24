"""Filters of the workplace (period, value tier, segment, channel, touchpoint, product) as
engine expressions.

A :class:`Filters` narrows two kinds of rows:

* **events** (transactions, survey answers, complaints) by their own date, channel, product
  and touchpoint columns, and by their customer's value tier and segment;
* **customers** (value, churn scores, lifecycle, loyalty segments) by value tier and segment,
  and — for the event dimensions — to the customers who have at least one event matching them
  (e.g. channel = app: the customers who bought in the app in the period).

Everything is an Ibis expression: the filtering runs in the store's engine.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields

import ibis

from ..errors import CxValueError
from ..store import has_table

#: event tables, their date column and the filter dimensions they carry
EVENT_TABLES = {"transactions": "date", "responses": "date", "complaints": "opened"}
EVENT_DIMENSIONS = ("channel", "product", "touchpoint")
CUSTOMER_DIMENSIONS = ("value_tier", "segment")
#: where the choices of each dimension come from
CHOICES = {"value_tier": ("customer_value", "value_tier"), "segment": ("customers", "segment"),
           "channel": ("transactions", "channel"), "product": ("transactions", "product"),
           "touchpoint": ("responses", "touchpoint")}


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    value_tier: str | None = None
    segment: str | None = None
    channel: str | None = None
    touchpoint: str | None = None
    product: str | None = None

    @classmethod
    def parse(cls, params) -> Filters:
        """Filters from query parameters (empty values are no filter; dates are YYYY-MM-DD)."""
        kw = {}
        for f in fields(cls):
            v = params.get(f.name)
            v = v.strip() if isinstance(v, str) else v
            if v in (None, ""):
                continue
            if f.name.startswith("date_"):
                try:
                    v = dt.date.fromisoformat(str(v))
                except ValueError:
                    raise CxValueError(f"filter {f.name}: expected a date YYYY-MM-DD, got {v!r}") from None
            kw[f.name] = str(v) if not isinstance(v, dt.date) else v
        out = cls(**kw)
        if out.date_from and out.date_to and out.date_from > out.date_to:
            raise CxValueError(f"filter period: date_from {out.date_from} is after date_to {out.date_to}")
        return out

    def active(self) -> dict:
        """The filters that are set, as {name: value} (dates as ISO strings)."""
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(self).items() if v is not None}

    def __bool__(self) -> bool:
        return bool(self.active())

    @property
    def has_event_filters(self) -> bool:
        return any(getattr(self, d) for d in EVENT_DIMENSIONS) or self.date_from is not None \
            or self.date_to is not None


def _period(t, col: str, f: Filters):
    if f.date_from is not None:
        t = t.filter(t[col] >= ibis.timestamp(dt.datetime.combine(f.date_from, dt.time())))
    if f.date_to is not None:
        t = t.filter(t[col] < ibis.timestamp(dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time())))
    return t


def customer_filter(con, f: Filters):
    """Ids of the customers the customer dimensions (value tier, segment) keep, or None when
    neither is set."""
    sets = []
    if f.value_tier and has_table(con, "customer_value"):
        cv = con.table("customer_value")
        sets.append(cv.filter(cv.value_tier == f.value_tier).select("customer_id"))
    if f.segment and has_table(con, "customers") and "segment" in con.table("customers").columns:
        c = con.table("customers")
        sets.append(c.filter(c.segment == f.segment).select("customer_id"))
    if not sets:
        return None
    out = sets[0]
    for s in sets[1:]:
        out = out.semi_join(s, "customer_id").select("customer_id")
    return out


def events(con, table: str, f: Filters):
    """Event table ``table`` narrowed by every filter it can honour (its date, channel, product,
    touchpoint columns; its customers' value tier and segment)."""
    t = con.table(table)
    t = _period(t, EVENT_TABLES[table], f)
    for d in EVENT_DIMENSIONS:
        v = getattr(f, d)
        if v is not None and d in t.columns:
            t = t.filter(t[d] == v)
    keep = customer_filter(con, f)
    if keep is not None:
        t = t.semi_join(keep, "customer_id")
    return t


def honoured(con, table: str, f: Filters) -> tuple[list[str], list[str]]:
    """(honoured, not honoured) filter names for event table ``table``."""
    cols = set(con.table(table).columns) if has_table(con, table) else set()
    yes, no = [], []
    for name in f.active():
        if name in ("date_from", "date_to") or name in CUSTOMER_DIMENSIONS or name in cols:
            yes.append(name)
        else:
            no.append(name)
    return yes, no


def customers(con, f: Filters, base):
    """Per-customer table ``base`` (an Ibis table with ``customer_id``) narrowed to the customers
    the filters keep: value tier and segment directly, the event filters as 'has a matching
    transaction, answer or complaint'."""
    keep = customer_filter(con, f)
    if keep is not None:
        base = base.semi_join(keep, "customer_id")
    if f.has_event_filters:
        matched = None
        for table in EVENT_TABLES:
            if not has_table(con, table):
                continue
            cols = set(con.table(table).columns)
            if any(getattr(f, d) is not None and d not in cols for d in EVENT_DIMENSIONS):
                continue  # this table cannot match the asked dimension
            ids = events(con, table, Filters(f.date_from, f.date_to, None, None, f.channel, f.touchpoint,
                                             f.product)).select("customer_id")
            matched = ids if matched is None else matched.union(ids)
        if matched is None:
            return base.limit(0)
        base = base.semi_join(matched.distinct(), "customer_id")
    return base


def choices(con, limit: int = 200) -> dict[str, list[str]]:
    """The values each filter dimension can take in this store (sorted, at most ``limit``)."""
    out = {}
    for dim, (table, col) in CHOICES.items():
        if has_table(con, table) and col in con.table(table).columns:
            t = con.table(table)
            vals = t.filter(t[col].notnull()).select(col).distinct().order_by(col).limit(limit).to_pyarrow()
            out[dim] = [str(v) for v in vals.column(0).to_pylist()]
        else:
            out[dim] = []
    return out
