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
DIRECTORY = "customer_directory"
#: the directory's list column of each event dimension
LISTS = (("channel", "channels"), ("product", "products"), ("touchpoint", "touchpoints"))
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
    """Event table ``table`` narrowed by every filter: its own date, channel, product and
    touchpoint columns; its customers' value tier and segment; and a dimension the table lacks
    (e.g. touchpoint for transactions) as 'the customer has an event with it'."""
    t = con.table(table)
    t = _period(t, EVENT_TABLES[table], f)
    lacking = {}
    for d in EVENT_DIMENSIONS:
        v = getattr(f, d)
        if v is None:
            continue
        if d in t.columns:
            t = t.filter(t[d] == v)
        else:
            lacking[d] = v
    who = Filters(value_tier=f.value_tier, segment=f.segment, **lacking)
    if who:
        t = t.semi_join(customer_ids(con, who), "customer_id")
    return t


def customer_ids(con, f: Filters):
    """Ids of the customers the filters keep: value tier and segment directly, the period and
    event dimensions as 'has a matching transaction, answer or complaint'. With the precomputed
    ``customer_directory`` (step "customer directory") the event dimensions without a period
    are a look-up in its lists of channels, products and touchpoints."""
    return _kept(con, f).select("customer_id")


def _kept(con, f: Filters):
    if has_table(con, DIRECTORY):
        keep = con.table(DIRECTORY)
        if f.value_tier:
            keep = keep.filter(keep.value_tier == f.value_tier)
        if f.segment:
            keep = keep.filter(keep.customer_segment == f.segment) if "customer_segment" in keep.columns \
                else keep.limit(0)
        if f.date_from is None and f.date_to is None:  # the lists hold every event's values: no period
            for dim, col in LISTS:
                v = getattr(f, dim)
                if v is not None:
                    keep = keep.filter(keep[col].contains(v)) if col in keep.columns else keep.limit(0)
        elif f.has_event_filters:
            keep = keep.semi_join(_matching_customers(con, f), "customer_id")
        return keep
    keep = customer_filter(con, f)
    if keep is None:
        from .drill import _base
        keep = _base(con).select("customer_id")
    if f.has_event_filters:
        keep = keep.semi_join(_matching_customers(con, f), "customer_id")
    return keep


def customers(con, f: Filters, base):
    """Per-customer table ``base`` (an Ibis table with ``customer_id``) narrowed to the customers
    the filters keep (:func:`customer_ids`); the directory itself is filtered directly."""
    if not f:
        return base
    if has_table(con, DIRECTORY) and base.equals(con.table(DIRECTORY)):
        return _kept(con, f)
    return base.semi_join(customer_ids(con, f), "customer_id")


def _matching_customers(con, f: Filters):
    """Ids of the customers with, for each event dimension set, at least one event (of any table
    carrying that dimension) with its value — in the period when one is set; with only a period,
    any event in it. The dimensions are matched separately: channel = agent and touchpoint =
    cabin_crew keeps a customer who bought through an agent and answered about the cabin crew."""
    dims = [d for d in EVENT_DIMENSIONS if getattr(f, d) is not None] or [None]
    out = None
    for d in dims:
        matched = None
        for table in EVENT_TABLES:
            if not has_table(con, table) or (d is not None and d not in con.table(table).columns):
                continue
            one = Filters(f.date_from, f.date_to, **({d: getattr(f, d)} if d else {}))
            ids = events(con, table, one).select("customer_id")
            matched = ids if matched is None else matched.union(ids)
        if matched is None:
            return ibis.memtable({"customer_id": []}, schema={"customer_id": "string"})
        matched = matched.distinct()
        out = matched if out is None else out.semi_join(matched, "customer_id")
    return out


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
