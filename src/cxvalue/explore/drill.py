"""The customers behind a number: a paged, sortable list (and its full export) narrowed by the
dashboard filters and by the dimension that was clicked (value tier, lifecycle stage, risk
decile, loyalty segment, churn reason), and everything the store knows about one customer
(the customer 360).

Joins and sorting run in the engine; only the page asked for reaches Python.
"""
from __future__ import annotations

import ibis
import pandas as pd

from ..errors import CxValueError
from ..store import has_table, lookup
from .filters import Filters, customers

#: (result table, its column, the list column it becomes) joined into the customer list
JOINS = (
    ("customer_value", "value_tier", "value_tier"), ("customer_value", "clv", "clv"),
    ("customer_value", "p_alive", "p_alive"), ("customer_value", "revenue_12m", "revenue_12m"),
    ("churn_scores", "p_churn", "p_churn"), ("churn_scores", "risk_decile", "risk_decile"),
    ("churn_scores", "main_reason", "main_reason"), ("customer_value", "strategy", "strategy"),
    *(("churn_scores", f"reason_{i}{part}", f"reason_{i}{part}") for i in (1, 2, 3) for part in ("", "_value", "_shap")),
    ("retention_list", "value_at_risk", "value_at_risk"), ("retention_list", "action", "action"),
    ("lifecycle", "current_stage", "stage"), ("loyalty_segments", "segment", "loyalty_segment"),
)
DIRECTORY = "customer_directory"     # the precomputed form of customer_table (step "customer directory")
PROFILE = ("name", "segment", "region", "city", "member_tier", "signup_date", "owner")
#: the customer 360's sections as {section: {its field: the directory column}}
SECTIONS = {
    "profile": {"name": "name", "segment": "customer_segment", "region": "region", "city": "city",
                "member_tier": "member_tier", "signup_date": "signup_date", "owner": "owner"},
    "value": {"value_tier": "value_tier", "clv": "clv", "p_alive": "p_alive", "revenue_12m": "revenue_12m",
              "strategy": "strategy"},
    "churn": {"p_churn": "p_churn", "risk_decile": "risk_decile", "main_reason": "main_reason",
              **{f"reason_{i}{p}": f"reason_{i}{p}" for i in (1, 2, 3) for p in ("", "_value", "_shap")}},
    "lifecycle": {"current_stage": "stage"},
    "loyalty": {"segment": "loyalty_segment"},
    "retention": {"value_at_risk": "value_at_risk", "action": "action"},
}
#: the clicked dimensions a list can be narrowed by (list column names)
DRILL_DIMENSIONS = ("value_tier", "stage", "risk_decile", "loyalty_segment", "main_reason", "customer_segment")
PAGE_SIZES = (25, 50, 100, 250)
#: list columns of the directory (channels, products, touchpoints) that filters read, not lists show
LIST_COLUMNS = ("channels", "products", "touchpoints")
#: the strategy playbook per customer (step "strategy", H3): looked up on its own on the 360, since the
#: directory is built before the step runs
STRATEGY = "customer_strategy"
EXPORT_LIMIT = 1_000_000
LATEST = 200          # rows of each event list on the customer 360


def _base(con):
    if has_table(con, "customers"):
        c = con.table("customers")
        cols = ["customer_id"] + [p for p in PROFILE if p in c.columns]
        t = c.select(cols)
        if "segment" in t.columns:
            t = t.rename(customer_segment="segment")
        return t
    if has_table(con, "customer_value"):
        return con.table("customer_value").select("customer_id")
    raise CxValueError("the store holds no customers: load customers or transactions first")


def customer_table(con, f: Filters | None = None, drill: dict | None = None, *, precomputed: bool = True):
    """An Ibis table of the customers (profile + value, risk, stage, loyalty segment), narrowed by
    the filters and the drill dimensions ({column: value}). ``precomputed``: read the
    ``customer_directory`` table when the store has it (one table, no joins)."""
    if precomputed and has_table(con, DIRECTORY):
        t = con.table(DIRECTORY)
    else:
        t = _joined(con)
    if f:
        t = customers(con, f, t)
    for k, v in (drill or {}).items():
        if k not in DRILL_DIMENSIONS:
            raise CxValueError(f"drill-down by {k!r} is not supported: expected one of {', '.join(DRILL_DIMENSIONS)}")
        if k not in t.columns:
            raise CxValueError(f"drill-down by {k!r}: the store has no such column (has its analysis run?)")
        col = t[k]
        t = t.filter(col == (int(v) if col.type().is_integer() else str(v)))
    return t


def _joined(con):
    t = _base(con)
    for table in dict.fromkeys(j[0] for j in JOINS):
        if not has_table(con, table):
            continue
        r = con.table(table)
        cols = {new: r[col] for tab, col, new in JOINS if tab == table and col in r.columns}
        if not cols:
            continue
        r = r.select(_cid=r.customer_id, **cols)
        t = t.left_join(r, t.customer_id == r._cid).drop("_cid")
    return t


def customer_list(con, f: Filters | None = None, drill: dict | None = None, *, sort: str = "clv",
                  descending: bool = True, page: int = 1, size: int = 50) -> tuple[pd.DataFrame, int]:
    """(one page of the customer list, total matching customers)."""
    t = customer_table(con, f, drill)
    if sort not in t.columns:
        raise CxValueError(f"sort by {sort!r}: expected one of {', '.join(t.columns)}")
    if size not in PAGE_SIZES:
        raise CxValueError(f"page size {size}: expected one of {', '.join(map(str, PAGE_SIZES))}")
    page = max(1, int(page))
    total = int(t.count().execute())
    key = ibis.desc(sort) if descending else ibis.asc(sort)
    rows = t.order_by([key, "customer_id"]).limit(size, offset=(page - 1) * size).to_pandas()
    return rows.drop(columns=[c for c in LIST_COLUMNS if c in rows.columns]), total


def export_frame(con, f: Filters | None = None, drill: dict | None = None, *, sort: str = "clv",
                 descending: bool = True) -> pd.DataFrame:
    """Every matching customer (at most ``EXPORT_LIMIT``), sorted like the list."""
    t = customer_table(con, f, drill)
    key = ibis.desc(sort) if descending else ibis.asc(sort)
    df = t.order_by([key, "customer_id"]).limit(EXPORT_LIMIT).to_pandas()
    return df.drop(columns=[c for c in LIST_COLUMNS if c in df.columns])


def _rows(con, table: str, cid: str, order: str | None = None, limit: int = LATEST) -> pd.DataFrame | None:
    """The customer's rows of ``table`` (None when the table is not in the store); ``order``:
    its date column (always present: the data contract requires it)."""
    return lookup(con, table, "customer_id", cid, order_by=order, limit=limit, missing_ok=True)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NaT


def customer_profile(con, customer_id: str) -> dict:
    """Everything the store knows about one customer: ``profile`` (dict), ``value``, ``churn``,
    ``lifecycle``, ``loyalty``, ``retention``, ``strategy`` (the playbook's strategy, stage, play and
    recommended action; dicts or None), ``transactions``, ``responses``, ``complaints`` (frames,
    newest first; at most ``LATEST`` rows each) and ``counts`` (their totals)."""
    cid = str(customer_id)
    out: dict = {"customer_id": cid}
    found = False
    row = _rows(con, DIRECTORY, cid, limit=1)
    if row is not None:  # the precomputed directory: one look-up for every per-customer section
        r = row.iloc[0].to_dict() if len(row) else {}
        for key, fields in SECTIONS.items():
            sec = {k: r.get(col) for k, col in fields.items() if col in r and not _missing(r.get(col))}
            out[key] = sec or None
        found = bool(r)
    else:
        for key, table in (("profile", "customers"), ("value", "customer_value"), ("churn", "churn_scores"),
                           ("lifecycle", "lifecycle"), ("loyalty", "loyalty_segments"),
                           ("retention", "retention_list")):
            df = _rows(con, table, cid, limit=1)
            out[key] = df.iloc[0].to_dict() if df is not None and len(df) else None
            found = found or out[key] is not None
    st = _rows(con, STRATEGY, cid, limit=1)
    st = st.iloc[0].to_dict() if st is not None and len(st) else {}
    out["strategy"] = {k: v for k, v in st.items() if not _missing(v)} or None
    out["counts"] = {}
    for key, table, order in (("transactions", "transactions", "date"), ("responses", "responses", "date"),
                              ("complaints", "complaints", "opened")):
        out[key] = _rows(con, table, cid, order)
        if out[key] is not None:
            n = len(out[key])
            if n == LATEST:  # the list is full: count them all
                n = len(lookup(con, table, "customer_id", cid))
            out["counts"][key] = n
            found = found or len(out[key]) > 0
    if not found:
        raise CxValueError(f"customer {cid!r} is not in the store")
    return out
