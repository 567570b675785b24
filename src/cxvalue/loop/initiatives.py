"""Improvement initiatives (H2, 从问题到执行) and their re-measurement (CEM step 7, 反馈闭环).

An initiative turns a problem into work: it comes from a **driver gap** (a CEM dimension whose
experience falls short, ``cem_gaps``), an item of the **experience-value ranking**
(``experience_roi``: where closing a gap pays most) or a **root cause** of the taxonomy (the
closed loop's Pareto), and has a title, an owner, a status, a target KPI with a target value,
a start date and, optionally, a **scope** — the segment, touchpoint, channel or product it
changes (the treated group; everyone else is the untouched comparison).

Storage follows the cases (:mod:`cxvalue.loop.cases`): the ``initiatives`` ledger holds one
row per initiative, written once (title, origin, KPI, scope: fixed, so the yardstick cannot be
changed after the results are in); the append-only ``initiative_events`` log holds every
change (who, when, from → to status, owner, target value, start date, comment, and the
measured result when it is completed). The state is the fold of the events::

    planned → active → done, and cancelled from planned or active

An illegal change is an :class:`InitiativeError` naming the initiative, its status and what it
allows; a change based on an old version is an :class:`InitiativeConflict`.

**Re-measurement** (:func:`measure`): the KPI in a window before the start date and in one after
it (default 90 days each side, the after window cut at the analysis date; or two survey waves),
aggregated in the engine to n, mean and variance per period and group, compared with Welch's
t-test (:func:`cxvalue.perception.cem.mean_contrast`, the statistic of ``cxvalue gaps
--before/--after``) or a seeded bootstrap; with a scope, also the difference-in-differences
(treated change − untouched change) and its interval. KPIs (:func:`parse_kpi`):

* ``nps`` (per answer +100 promoter, 0 passive, −100 detractor: the mean is the NPS),
  ``satisfaction`` (overall), and per CEM dimension ``experience_<dim>``,
  ``satisfaction_<dim>`` (experience − expectation), ``gap_<dim>`` (experience − ideal),
  ``expectation_<dim>``, ``importance_<dim>``, ``ideal_<dim>`` — units: survey answers;
* ``case_rate:<root cause>`` — survey cases whose root cause is that code, per 1,000 answers;
* ``complaint_rate`` or ``complaint_rate:<category>`` — complaints per 1,000 customers in
  contact (a purchase or a complaint) in the window; units: customers.

:func:`suggest` proposes initiatives from the experience-value ranking, the CEM requirements and
the root-cause Pareto (:func:`cxvalue.loop.kpis.closed_loop_kpis`). See docs/initiatives.md.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
import warnings
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError, SmallSampleWarning
from ..explore.filters import CUSTOMER_DIMENSIONS, EVENT_DIMENSIONS, Filters, customer_ids
from ..perception.cem import RESPONDENT_MEASURES, mean_contrast
from ..store import append_ledgers, declare, has_table, lookup, result_spec
from .ledger import Folded, na as _na, now as _now, text as _text, typed_frame as _frame
from ..timeutil import as_date

__all__ = ["STATUSES", "ACTIONS", "TRANSITIONS", "ORIGIN_KINDS", "InitiativeError", "InitiativeConflict",
           "Initiative", "create_initiative", "change", "get_initiative", "initiative_history",
           "current_initiatives", "list_initiatives", "parse_origin", "parse_scope", "parse_kpi", "default_kpi",
           "measure", "Remeasurement", "kpi_value", "suggest"]

STATUSES = ("planned", "active", "done", "cancelled")
OPEN = ("planned", "active")
#: action → (statuses it may start from, status it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "start": (("planned",), "active"),
    "complete": (("active",), "done"),
    "cancel": (("planned", "active"), "cancelled"),
    "assign": (("planned", "active"), None),
    "edit": (("planned", "active"), None),
    "note": (STATUSES, None),
}
ACTIONS = tuple(TRANSITIONS)
ORIGIN_KINDS = ("driver_gap", "experience_roi", "root_cause")
_ORIGIN_ALIASES = {"gap": "driver_gap", "roi": "experience_roi", "rc": "root_cause"}
SCOPE_DIMENSIONS = EVENT_DIMENSIONS + CUSTOMER_DIMENSIONS
METHODS = ("welch", "bootstrap")
MIN_N = 30                 # answers (or customers) per period and group below which a warning is raised
DEFAULT_DAYS = 90

declare("initiatives", kind="ledger", key=("initiative_id",),
        columns=("title", "origin_kind", "origin", "kpi", "scope", "created_at", "created_by"),
        doc="One row per improvement initiative (H2), written when it is created (never changed): title, origin "
            "(driver_gap dimension, experience_roi item or root-cause code), target KPI, scope (the treated "
            "segment, JSON; empty = everyone), who created it and when.")
declare("initiative_events", kind="ledger", key=("initiative_id", "seq"),
        columns=("at", "by", "action", "from_status", "to_status", "owner", "target_value", "start_date", "comment",
                 "result"),
        doc="Every change to an initiative, in order (seq 1 = created): who, when, the action, from → to status, "
            "owner, target value and start date set by it, the comment, and the measured result (JSON) on completion.")

EVENT_COLUMNS = ("initiative_id", "seq", "at", "by", "action", "from_status", "to_status", "owner", "target_value",
                 "start_date", "comment", "result")
_EVENT_TYPES = {"seq": "int64", "at": "datetime64[us]", "target_value": "float64", "start_date": "datetime64[us]"}
_ROW_TYPES = {"created_at": "datetime64[us]"}
_LOCK = threading.RLock()


class InitiativeError(CxValueError):
    """A change to an initiative was refused (illegal transition, missing comment, unknown KPI...)."""


class InitiativeConflict(InitiativeError):
    """The initiative changed since the version the change was based on: reload it and try again."""


@dataclass(frozen=True)
class Initiative(Folded):
    """An initiative as of its last event."""
    TRANSITIONS = TRANSITIONS
    initiative_id: str
    title: str
    origin_kind: str
    origin: str
    kpi: str
    scope: dict
    created_at: dt.datetime
    created_by: str
    status: str
    owner: str | None
    target_value: float | None
    start_date: dt.date | None
    result: dict | None
    version: int
    updated_at: dt.datetime


# --------------------------------------------------------------------------- parsing
def parse_origin(origin) -> tuple[str, str]:
    """``(kind, value)`` from ``"driver_gap:convenience"`` (aliases ``gap``, ``roi``, ``rc``) or a pair."""
    if isinstance(origin, (tuple, list)) and len(origin) == 2:
        kind, value = origin
    else:
        kind, _, value = str(origin or "").partition(":")
    kind = _ORIGIN_ALIASES.get(str(kind).strip(), str(kind).strip())
    value = str(value or "").strip()
    if kind not in ORIGIN_KINDS or not value:
        raise InitiativeError(f"origin {origin!r} is not valid: expected KIND:VALUE with KIND one of "
                              f"{', '.join(ORIGIN_KINDS)}, e.g. driver_gap:convenience, "
                              "experience_roi:experience_convenience or root_cause:delay")
    return kind, value


def parse_scope(scope) -> dict:
    """The treated group as ``{dimension: value}`` from a dict or ``"touchpoint=app,channel=web"``;
    dimensions: touchpoint, channel, product, segment, value_tier. Empty = everyone."""
    if scope is None or scope == "":
        return {}
    if isinstance(scope, str):
        items = {}
        for part in (p.strip() for p in scope.split(",")):
            if not part:
                continue
            k, sep, v = part.partition("=")
            if not sep:
                raise InitiativeError(f"scope {scope!r}: expected DIMENSION=VALUE pairs separated by commas, "
                                      "e.g. touchpoint=app")
            items[k.strip()] = v.strip()
        scope = items
    if not isinstance(scope, dict):
        raise InitiativeError(f"scope: expected a mapping of dimension to value, got {type(scope).__name__}")
    out = {}
    for k, v in scope.items():
        if k not in SCOPE_DIMENSIONS:
            raise InitiativeError(f"scope dimension {k!r} is not valid: expected one of {', '.join(SCOPE_DIMENSIONS)}")
        if not _text(v):
            raise InitiativeError(f"scope {k}: a value is required, e.g. {k}=app")
        out[k] = str(v).strip()
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class KpiSpec:
    """A parsed KPI: what unit it is measured on and which way is better."""
    name: str
    measure: str              # nps, satisfaction, a CEM measure, case_rate, complaint_rate
    dimension: str | None = None
    code: str | None = None   # root cause (case_rate) or complaint category (complaint_rate)
    better: str | None = "higher"
    unit: str = "answers"     # answers | customers

    @property
    def columns(self) -> tuple[str, ...]:
        """The responses columns it reads."""
        if self.dimension is None and self.measure in ("nps", "satisfaction"):
            return (self.measure,)
        if self.measure in RESPONDENT_MEASURES:
            return tuple(f"{c}_{self.dimension}" for c in RESPONDENT_MEASURES[self.measure] if c)
        return ("response_id",) if self.measure == "case_rate" else ()


_KPI_FORMS = ("nps, satisfaction, experience_<dim>, satisfaction_<dim>, gap_<dim>, expectation_<dim>, "
              "importance_<dim>, ideal_<dim>, case_rate:<root cause>, complaint_rate[:<category>]")


def parse_kpi(name: str) -> KpiSpec:
    """The :class:`KpiSpec` of a KPI name (see the module docstring for the forms)."""
    s = str(name or "").strip()
    if s in ("nps", "satisfaction"):
        return KpiSpec(s, s)
    head, sep, code = s.partition(":")
    if head == "case_rate" and _text(code):
        return KpiSpec(s, "case_rate", code=code.strip(), better="lower")
    if head == "complaint_rate":
        return KpiSpec(s, "complaint_rate", code=_text(code), better="lower", unit="customers")
    if not sep:
        for m in sorted(RESPONDENT_MEASURES, key=len, reverse=True):
            if s.startswith(m + "_") and len(s) > len(m) + 1:
                better = "higher" if m in ("experience", "satisfaction", "gap") else None
                return KpiSpec(s, m, dimension=s[len(m) + 1:], better=better)
    raise InitiativeError(f"KPI {name!r} is not known: expected one of {_KPI_FORMS}")


def default_kpi(kind: str, value: str) -> str:
    """The KPI an origin measures by default: a dimension's experience, NPS for a class move of
    the experience-value ranking, the case rate of a root cause."""
    if kind == "driver_gap":
        return f"experience_{value}"
    if kind == "experience_roi":
        return value if value.startswith("experience_") else "nps"
    return f"case_rate:{value}"


def survey_dimensions(con) -> list[str]:
    if not has_table(con, "responses"):
        return []
    return [c[len("experience_"):] for c in con.table("responses").columns if c.startswith("experience_")]


def _check_origin(con, kind: str, value: str, taxonomy) -> None:
    from .taxonomy import root_cause_codes
    if kind == "root_cause":
        codes = root_cause_codes(taxonomy)
        if value not in codes:
            raise InitiativeError(f"root cause {value!r} is not in the taxonomy: expected one of {', '.join(codes)}")
    elif kind == "driver_gap":
        dims = survey_dimensions(con)
        if value not in dims:
            raise InitiativeError(f"driver gap {value!r} is not a dimension of the survey: expected one of "
                                  f"{', '.join(dims) or 'none (responses has no experience_<dim> columns)'}")
    elif has_table(con, "experience_roi"):
        items = con.table("experience_roi").item.to_pyarrow().to_pylist()
        if value not in items:
            raise InitiativeError(f"experience_roi item {value!r} is not in the ranking: expected one of "
                                  f"{', '.join(map(str, items))}")
    elif not (value.startswith("experience_") and value[len("experience_"):] in survey_dimensions(con)):
        raise InitiativeError(f"experience_roi item {value!r}: the ranking has not been computed (run `cxvalue run`) "
                              "and it is not an experience_<dim> column of the responses")


def _check_kpi(con, spec: KpiSpec, taxonomy, *, codes: bool = True) -> None:
    """The KPI can be measured on this store (its table and columns exist; with ``codes``, a
    root cause of ``taxonomy``)."""
    from .taxonomy import root_cause_codes
    if spec.measure == "complaint_rate":
        for tab in ("complaints", "transactions"):
            if not has_table(con, tab):
                raise InitiativeError(f"KPI {spec.name}: the store has no {tab} table (load it with "
                                      f"`cxvalue load {tab} FILE`)")
        return
    if spec.measure == "case_rate" and codes:
        known = root_cause_codes(taxonomy)
        if spec.code not in known:
            raise InitiativeError(f"KPI {spec.name}: root cause {spec.code!r} is not in the taxonomy: expected one "
                                  f"of {', '.join(known)}")
    if not has_table(con, "responses"):
        raise InitiativeError(f"KPI {spec.name} is measured on survey answers: the store has no responses table "
                              "(load it with `cxvalue load responses FILE`)")
    cols = con.table("responses").columns
    missing = [c for c in spec.columns if c not in cols]
    if missing:
        raise InitiativeError(f"KPI {spec.name}: the responses table has no column {', '.join(missing)}")


def _check_scope(con, scope: dict) -> None:
    """Every scope dimension can be told on this store (else a scope would silently match everyone)."""
    for d in scope:
        if d == "value_tier":
            ok, where = has_table(con, "customer_value"), "customer_value (run `cxvalue run`)"
        elif d == "segment":
            ok = has_table(con, "customers") and "segment" in con.table("customers").columns
            where = "customers.segment (load customers with a segment column)"
        else:
            tabs = [t for t in ("responses", "transactions", "complaints") if has_table(con, t)]
            ok = any(d in con.table(t).columns for t in tabs)
            where = f"a {d} column in responses, transactions or complaints"
        if not ok:
            raise InitiativeError(f"scope {d}: the store cannot tell it — it needs {where}")


# --------------------------------------------------------------------------- the ledger
def _event(iid, seq, by, action, frm, to, *, owner=None, target_value=None, start_date=None, comment=None,
           result=None, at=None) -> dict:
    return {"initiative_id": iid, "seq": int(seq), "at": at or _now(), "by": by, "action": action,
            "from_status": frm, "to_status": to, "owner": owner,
            "target_value": None if target_value is None else float(target_value),
            "start_date": None if start_date is None else pd.Timestamp(start_date),
            "comment": comment, "result": None if result is None else json.dumps(result, default=str,
                                                                                 ensure_ascii=False)}


def _number(v, name: str) -> float | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InitiativeError(f"{name} {v!r}: expected a number") from None
    if not np.isfinite(f):
        raise InitiativeError(f"{name} {v!r}: expected a finite number")
    return f


def _date(v, name: str) -> dt.date | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        return as_date(v, name)
    except CxValueError as exc:
        raise InitiativeError(str(exc)) from None


def create_initiative(con, *, title: str, origin, owner: str, start_date, by: str, kpi: str | None = None,
                      target_value=None, scope=None, comment: str | None = None, taxonomy=None,
                      at: dt.datetime | None = None) -> Initiative:
    """Create an initiative (status planned): its ledger row and first event in one transaction.

    ``origin``: ``"driver_gap:<dim>"``, ``"experience_roi:<item>"`` or ``"root_cause:<code>"``
    (``taxonomy``: the root-cause setting, default the built-in codes); ``kpi`` defaults to
    :func:`default_kpi` of the origin; ``scope``: the treated group (:func:`parse_scope`)."""
    kind, value = parse_origin(origin)
    if not _text(title):
        raise InitiativeError("an initiative needs a title (what will be done)")
    if not _text(owner):
        raise InitiativeError("an initiative needs an owner (who carries it out)")
    start = _date(start_date, "start date")
    if start is None:
        raise InitiativeError("an initiative needs a start date (YYYY-MM-DD): the re-measurement compares before "
                              "and after it")
    _check_origin(con, kind, value, taxonomy)
    spec = parse_kpi(kpi or default_kpi(kind, value))
    _check_kpi(con, spec, taxonomy)
    sc = parse_scope(scope)
    _check_scope(con, sc)
    target = _number(target_value, "target value")
    iid = "I" + uuid.uuid4().hex[:9].upper()
    at = at or _now()
    row = {"initiative_id": iid, "title": _text(title), "origin_kind": kind, "origin": value, "kpi": spec.name,
           "scope": json.dumps(sc, ensure_ascii=False) if sc else None, "created_at": at, "created_by": by}
    ev = _event(iid, 1, by, "create", None, "planned", owner=_text(owner), target_value=target, start_date=start,
                comment=_text(comment), at=at)
    with _LOCK:
        append_ledgers(con, {"initiatives": _frame([row], ("initiative_id", *result_spec("initiatives").columns[1:]),
                                                   _ROW_TYPES),
                             "initiative_events": _frame([ev], EVENT_COLUMNS, _EVENT_TYPES)})
    return get_initiative(con, iid)


def _latest(events: pd.DataFrame, col: str):
    vals = events[col].dropna()
    return None if vals.empty else vals.iloc[-1]


def _fold(row: dict, events: pd.DataFrame) -> Initiative:
    last = events.iloc[-1]
    start = _na(_latest(events, "start_date"))
    target = _na(_latest(events, "target_value"))
    result = _na(_latest(events, "result"))
    scope = _na(row.get("scope"))
    return Initiative(row["initiative_id"], row["title"], row["origin_kind"], row["origin"], row["kpi"],
                      json.loads(scope) if scope else {}, pd.Timestamp(row["created_at"]).to_pydatetime(),
                      row["created_by"], last["to_status"], _na(_latest(events, "owner")),
                      None if target is None else float(target),
                      None if start is None else pd.Timestamp(start).date(),
                      json.loads(result) if result else None, int(len(events)),
                      pd.Timestamp(last["at"]).to_pydatetime())


def get_initiative(con, initiative_id: str) -> Initiative:
    rows = lookup(con, "initiatives", "initiative_id", str(initiative_id), missing_ok=True)
    if rows is None or rows.empty:
        raise InitiativeError(f"initiative {initiative_id!r} does not exist")
    events = lookup(con, "initiative_events", "initiative_id", str(initiative_id), order_by="seq", descending=False)
    return _fold(rows.iloc[0].to_dict(), events)


def initiative_history(con, initiative_id: str) -> pd.DataFrame:
    """Every event of the initiative, oldest first."""
    get_initiative(con, initiative_id)
    return lookup(con, "initiative_events", "initiative_id", str(initiative_id), order_by="seq", descending=False)


def change(con, initiative_id: str, action: str, *, by: str, version: int, comment: str, owner: str | None = None,
           target_value=None, start_date=None, result: dict | None = None, at: dt.datetime | None = None) -> Initiative:
    """Apply ``action`` to the initiative as of ``version`` (its number of events when the user saw it).

    Every action needs a ``comment``; ``assign`` an ``owner``; ``edit`` a new ``target_value``
    or ``start_date``; ``start`` may set the actual ``start_date``; ``complete`` may record the
    measured ``result`` (a dict, e.g. :meth:`Remeasurement.summary`)."""
    if action not in TRANSITIONS:
        raise InitiativeError(f"action {action!r} is not known: expected one of {', '.join(ACTIONS)}")
    if not _text(comment):
        raise InitiativeError(f"{action} on initiative {initiative_id}: a comment is required (what was done and why)")
    target = _number(target_value, "target value")
    start = _date(start_date, "start date")
    with _LOCK:
        ini = get_initiative(con, initiative_id)
        if int(version) != ini.version:
            raise InitiativeConflict(f"initiative {initiative_id} changed since you opened it (version {version}, now "
                                     f"{ini.version}, status {ini.status}): reload it and apply your change again")
        sources, to = TRANSITIONS[action]
        if ini.status not in sources:
            raise InitiativeError(f"initiative {initiative_id} is {ini.status}: it cannot {action}; allowed: "
                                  f"{', '.join(ini.allowed()) or 'nothing'}")
        if action == "assign" and not _text(owner):
            raise InitiativeError(f"assign on initiative {initiative_id}: name the new owner")
        if action == "edit" and target is None and start is None:
            raise InitiativeError(f"edit on initiative {initiative_id}: give a new target value or start date")
        if action not in ("assign",) and _text(owner):
            raise InitiativeError(f"{action} on initiative {initiative_id}: the owner changes only with assign")
        if action not in ("edit", "start") and (target is not None or start is not None):
            raise InitiativeError(f"{action} on initiative {initiative_id}: the target value and start date change "
                                  "only with edit (or the start date with start)")
        if action == "start" and target is not None:
            raise InitiativeError(f"start on initiative {initiative_id}: change the target value with edit")
        if result is not None and action != "complete":
            raise InitiativeError(f"{action} on initiative {initiative_id}: a measured result is recorded on complete")
        ev = _event(ini.initiative_id, ini.version + 1, by, action, ini.status, to or ini.status,
                    owner=_text(owner), target_value=target, start_date=start, comment=_text(comment),
                    result=result, at=at)
        append_ledgers(con, {"initiative_events": _frame([ev], EVENT_COLUMNS, _EVENT_TYPES)})
        return get_initiative(con, initiative_id)


def current_initiatives(con):
    """Every initiative as of its last event (an Ibis table, folded in the engine): the
    ``initiatives`` columns plus ``status``, ``owner``, ``target_value``, ``start_date``,
    ``version`` and ``updated_at``; None before the first initiative."""
    if not has_table(con, "initiatives"):
        return None
    i, e = con.table("initiatives"), con.table("initiative_events")
    out = _left(i, e.group_by("initiative_id").aggregate(version=e.seq.max(), updated_at=e.at.max(),
                                                         status=e.to_status.argmax(e.seq)))
    for col in ("owner", "target_value", "start_date"):
        has = e.filter(e[col].notnull())
        out = _left(out, has.group_by("initiative_id").aggregate(**{col: has[col].argmax(has.seq)}))
    return out


def _left(t, r):
    r = r.rename(_iid="initiative_id")
    return t.left_join(r, t.initiative_id == r._iid).drop("_iid")


def list_initiatives(con, *, status: str | None = None, owner: str | None = None, limit: int = 500) -> pd.DataFrame:
    """The initiatives (open first, then by start date), optionally of one status or owner."""
    if status is not None and status not in STATUSES:
        raise InitiativeError(f"status {status!r} is not valid: expected one of {', '.join(STATUSES)}")
    cur = current_initiatives(con)
    cols = ["initiative_id", "title", "origin_kind", "origin", "kpi", "scope", "owner", "status", "target_value",
            "start_date", "version", "updated_at", "created_at", "created_by"]
    if cur is None:
        return pd.DataFrame(columns=cols)
    if status:
        cur = cur.filter(cur.status == status)
    if owner:
        cur = cur.filter(cur.owner == owner)
    closed = cur.status.isin(["done", "cancelled"]).cast("int8")
    return cur.mutate(_closed=closed).order_by(["_closed", "start_date", "initiative_id"]).limit(limit) \
        .select(*cols).to_pandas()


# --------------------------------------------------------------------------- re-measurement
def _ts(d: dt.date):
    return ibis.timestamp(dt.datetime.combine(d, dt.time()))


def _with_treated(con, t, scope: dict, date_from=None, date_to=None):
    """``t`` with a boolean ``treated``: the unit matches every scope dimension — on its own
    column when it has one, else through its customer (value tier, segment; an event dimension
    as 'the customer has a matching event in the window', :func:`cxvalue.explore.filters.customer_ids`)."""
    if not scope:
        return t.mutate(treated=ibis.literal(True))
    lacking = {d: v for d, v in scope.items() if d not in t.columns}
    if lacking:
        ids = customer_ids(con, Filters(date_from=date_from, date_to=date_to, **lacking)).distinct()
        ids = ids.select(_tcid=ids.customer_id, _tin=ibis.literal(1))
        t = t.left_join(ids, t.customer_id == ids._tcid).drop("_tcid")
    cond = ibis.literal(True)
    for d, v in scope.items():
        if d in t.columns and d not in lacking:
            cond = cond & (t[d].cast("string") == v).fill_null(False)
    if lacking:
        cond = cond & t._tin.notnull()
    out = t.mutate(treated=cond)
    return out.drop("_tin") if lacking else out


def _windows_filter(t, col: str, windows: dict):
    """Rows of ``t`` inside one of ``windows`` ({label: (from, to_exclusive)} dates), labelled ``period``."""
    lo = min(w[0] for w in windows.values())
    hi = max(w[1] for w in windows.values())
    t = t.filter((t[col] >= _ts(lo)) & (t[col] < _ts(hi)))
    label = ibis.cases(*[((t[col] >= _ts(a)) & (t[col] < _ts(b)), name) for name, (a, b) in windows.items()],
                       else_=ibis.null("string"))
    t = t.mutate(period=label)
    return t.filter(t.period.notnull())


def _response_units(con, spec: KpiSpec, scope: dict, windows: dict | None, waves: dict | None):
    r = con.table("responses")
    if waves is not None:
        if "wave" not in r.columns:
            raise InitiativeError("re-measuring by waves needs a wave column in the responses")
        r = r.filter(r.wave.cast("string").isin(list(waves.values())))
        r = r.mutate(period=ibis.cases(*[(r.wave.cast("string") == w, name) for name, w in waves.items()],
                                       else_=ibis.null("string")))
    else:
        r = _windows_filter(r, "date", windows)
    m = spec.measure
    if m == "nps":
        y = ibis.cases((r.nps >= 9, 100.0), (r.nps <= 6, -100.0), (r.nps.notnull(), 0.0), else_=ibis.null("float64"))
    elif m == "satisfaction" and spec.dimension is None:     # overall satisfaction, not the CEM measure
        y = r.satisfaction.cast("float64")
    elif m == "case_rate":
        from .cases import current_cases
        cur = current_cases(con)
        if cur is None:
            raise InitiativeError(f"KPI {spec.name}: the store has no cases yet (the closed loop's rules open them "
                                  "on `cxvalue run`)")
        hits = cur.filter((cur.source == "survey") & (cur.root_cause == spec.code) & cur.source_id.notnull())
        hits = hits.select(_rid=hits.source_id).distinct().mutate(_hit=ibis.literal(1))
        r = r.left_join(hits, r.response_id.cast("string") == hits._rid).drop("_rid")
        y = ibis.ifelse(r._hit.notnull(), 1000.0, 0.0)
    else:
        a, b = RESPONDENT_MEASURES[m]
        y = r[f"{a}_{spec.dimension}"].cast("float64")
        if b is not None:
            y = y - r[f"{b}_{spec.dimension}"].cast("float64")
    r = r.mutate(y=y)
    span = _span(windows)
    r = _with_treated(con, r, scope, *span)
    return r.filter(r.y.notnull()).select("y", "period", "treated")


def _span(windows):
    if not windows:
        return None, None
    return min(w[0] for w in windows.values()), max(w[1] for w in windows.values()) - dt.timedelta(days=1)


def _complaint_units(con, spec: KpiSpec, scope: dict, windows: dict | None, waves: dict | None):
    if waves is not None:
        raise InitiativeError(f"KPI {spec.name} is measured on dates: complaints have no survey wave (use the "
                              "date windows)")
    tx = _windows_filter(con.table("transactions"), "date", windows)
    cp = _windows_filter(con.table("complaints"), "opened", windows)
    contact = tx.select("customer_id", "period").union(cp.select("customer_id", "period")).distinct()
    contact = contact.filter(contact.customer_id.notnull())
    hit = cp if spec.code is None else cp.filter(cp.category.cast("string") == spec.code)
    k = hit.group_by(["customer_id", "period"]).aggregate(_k=hit.count())
    k = k.rename(_kc="customer_id", _kp="period")
    u = contact.left_join(k, (contact.customer_id == k._kc) & (contact.period == k._kp)).drop("_kc", "_kp")
    u = u.mutate(y=1000.0 * u._k.fill_null(0).cast("float64"))
    u = _with_treated(con, u, scope, *_span(windows))
    return u.select("y", "period", "treated")


def _units(con, spec: KpiSpec, scope: dict, *, windows=None, waves=None):
    """One row per unit (answer or customer) in a window: ``y`` (the KPI's value of that unit),
    ``period`` (the window's label) and ``treated`` (the unit is in the scope)."""
    if spec.measure == "complaint_rate":
        return _complaint_units(con, spec, scope, windows, waves)
    return _response_units(con, spec, scope, windows, waves)


def _moments(units) -> dict:
    """{(period, treated): (n, mean, variance)} computed in the engine."""
    g = units.group_by(["period", "treated"]).aggregate(n=units.y.count(), mean=units.y.mean(),
                                                        var=units.y.var(how="sample"))
    out = {}
    for r in g.to_pyarrow().to_pylist():
        n = int(r["n"] or 0)
        out[(r["period"], bool(r["treated"]))] = (n, _f(r["mean"]), _f(r["var"]) if n >= 2 else float("nan"))
    return out


def _f(v) -> float:
    return float("nan") if v is None else float(v)


@dataclass
class Remeasurement:
    """The KPI before vs after an initiative's start (CEM step 7), per group, and the
    difference-in-differences against the untouched units when the initiative has a scope."""
    kpi: str
    better: str | None
    unit: str
    method: str
    confidence: float
    periods: dict
    scope: dict
    groups: pd.DataFrame
    did: dict | None
    design: str                       # before_after | did
    effect: dict                      # the headline: the DiD with a scope (and untouched units), else the change
    target_value: float | None = None
    target_reached: bool | None = None
    initiative_id: str | None = None
    n_boot: int | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """The numbers to record with the initiative when it is completed (JSON-ready)."""
        from math import isfinite

        def clean(d):
            return {k: (None if isinstance(v, float) and not isfinite(v) else v) for k, v in d.items()}
        g = self.groups.set_index("group")
        main = "treated" if "treated" in g.index else "all"
        return {"kpi": self.kpi, "design": self.design, "method": self.method, "confidence": self.confidence,
                "periods": self.periods, "before": _py(g.at[main, "before"]), "after": _py(g.at[main, "after"]),
                "n_before": int(g.at[main, "n_before"]), "n_after": int(g.at[main, "n_after"]),
                "effect": clean(self.effect), "did": clean(self.did) if self.did else None,
                "target_value": self.target_value, "target_reached": self.target_reached}

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "groups"}
        d["groups"] = [{k: _py(v) for k, v in r.items()} for r in self.groups.to_dict("records")]
        return d


def _py(v):
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else float(v)
    return v


def _periods(start, before_days, after_days, as_of, before_wave, after_wave) -> tuple[dict, dict | None, dict | None]:
    """(description, date windows, waves)."""
    if (before_wave is None) != (after_wave is None):
        raise InitiativeError("give both the before wave and the after wave (or neither: date windows)")
    if before_wave is not None:
        bw, aw = str(before_wave), str(after_wave)
        if bw == aw:
            raise InitiativeError(f"before and after wave are both {bw!r}: compare two different waves")
        return {"kind": "waves", "before_wave": bw, "after_wave": aw}, None, {"before": bw, "after": aw}
    if start is None:
        raise InitiativeError("the initiative has no start date: set one (edit --start) to re-measure around it")
    for name, v in (("before days", before_days), ("after days", after_days)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise InitiativeError(f"{name} {v!r}: expected a whole number of days ≥ 1")
    end = start + dt.timedelta(days=int(after_days))
    if as_of is not None:
        if as_of < start:
            raise InitiativeError(f"the initiative starts on {start}, after the last data ({as_of}): nothing to "
                                  "re-measure yet")
        end = min(end, as_of + dt.timedelta(days=1))
    b0 = start - dt.timedelta(days=int(before_days))
    desc = {"kind": "dates", "start": start.isoformat(), "before_from": b0.isoformat(),
            "before_to": (start - dt.timedelta(days=1)).isoformat(), "after_from": start.isoformat(),
            "after_to": (end - dt.timedelta(days=1)).isoformat(), "before_days": int(before_days),
            "after_days": int(after_days), "after_days_observed": (end - start).days}
    return desc, {"before": (b0, start), "after": (start, end)}, None


def measure(con, initiative: Initiative | str | None = None, *, kpi: str | None = None, scope=None, start=None,
            before_days: int = DEFAULT_DAYS, after_days: int = DEFAULT_DAYS, before_wave=None, after_wave=None,
            method: str = "welch", n_boot: int = 1000, confidence: float = 0.95, random_state=0, as_of=None,
            target_value=None) -> Remeasurement:
    """Re-measure an initiative's KPI before vs after its start date (or between two waves).

    ``initiative``: an :class:`Initiative` or its id (its KPI, scope, start date and target are
    used), or None with ``kpi`` / ``scope`` / ``start`` / ``target_value`` given directly.
    Windows: ``before_days`` before the start and ``after_days`` from it, the after window cut
    at ``as_of`` (default: the store's last activity date); or ``before_wave`` / ``after_wave``
    of the responses' ``wave`` column. ``method``: ``"welch"`` (analytic t intervals,
    :func:`cxvalue.perception.cem.mean_contrast`) or ``"bootstrap"`` (``n_boot`` resamples of
    the units within each period and group, seeded by ``random_state``; percentile intervals).

    Groups: ``all`` without a scope; ``treated`` and ``untouched`` with one (then the
    difference-in-differences treated change − untouched change, when untouched units exist in
    both windows). Raises :class:`~cxvalue.errors.SmallSampleWarning` for a period and group
    with fewer than 30 units."""
    from ..errors import one_of
    from ..store import last_activity_date
    one_of("method", method, METHODS)
    if not 0 < confidence < 1:
        raise InitiativeError(f"confidence={confidence!r} is not valid: expected a number between 0 and 1")
    if isinstance(initiative, str):
        initiative = get_initiative(con, initiative)
    if initiative is not None:
        if target_value is None and kpi in (None, initiative.kpi):   # the target is of the initiative's KPI
            target_value = initiative.target_value
        kpi = kpi or initiative.kpi
        scope = initiative.scope if scope is None else scope
        start = start or initiative.start_date
    if not kpi:
        raise InitiativeError("measure: give an initiative or a KPI")
    spec = parse_kpi(kpi)
    _check_kpi(con, spec, None, codes=False)   # the root cause was checked when the initiative was created
    sc = parse_scope(scope)
    _check_scope(con, sc)
    start = _date(start, "start date")
    if as_of is None and before_wave is None:
        as_of = last_activity_date(con)
    as_of = _date(as_of, "as_of")
    desc, windows, waves = _periods(start, before_days, after_days, as_of, before_wave, after_wave)
    if windows is not None and desc["after_days_observed"] < desc["after_days"]:
        warnings.warn(f"initiative re-measurement: the after window has {desc['after_days_observed']} of "
                      f"{desc['after_days']} days (the data end on {as_of}); measure again later for the full window",
                      SmallSampleWarning, stacklevel=2)
    units = _units(con, spec, sc, windows=windows, waves=waves)
    mom = _moments(units)
    groups = [("all", True)] if not sc else [("treated", True), ("untouched", False)]
    if not sc:   # one group: every unit is "treated"
        mom = {(p, True): v for (p, _), v in mom.items()}
    empty = (0, float("nan"), float("nan"))
    for name, flag in groups:
        for p in ("before", "after"):
            n = mom.get((p, flag), empty)[0]
            if n == 0 and name == "untouched":
                continue   # no difference-in-differences (warned below)
            if n == 0:
                what = f"wave {waves[p]}" if waves else f"the {p} window"
                raise InitiativeError(f"KPI {spec.name}: no {spec.unit} in {what}"
                                      + (f" for the scope {_scope_text(sc)}" if sc else "") + ": nothing to compare")
            if n < MIN_N:
                warnings.warn(f"initiative re-measurement: {n} {spec.unit} in the {p} period"
                              + (f" ({name})" if sc else "") + f", fewer than {MIN_N}: the interval is wide",
                              SmallSampleWarning, stacklevel=2)
    has_did = bool(sc) and all(mom.get((p, False), empty)[0] >= 1 for p in ("before", "after"))
    if sc and not has_did:
        warnings.warn(f"initiative re-measurement: no untouched {spec.unit} outside the scope {_scope_text(sc)} in "
                      "both periods: no difference-in-differences, the before/after change is not adjusted for "
                      "what else moved", SmallSampleWarning, stacklevel=2)
    rows = []
    for name, flag in groups:
        (n0, m0, v0), (n1, m1, v1) = mom.get(("before", flag), empty), mom.get(("after", flag), empty)
        res = mean_contrast([(-1, n0, m0, v0), (1, n1, m1, v1)], confidence) if n0 and n1 else \
            mean_contrast([], confidence)
        rows.append({"group": name, "n_before": int(n0), "n_after": int(n1), "before": m0, "after": m1,
                     "change": res["estimate"], "std_error": res["std_error"], "ci_low": res["ci_low"],
                     "ci_high": res["ci_high"], "p_value": res["p_value"], "df": res["df"]})
    did = None
    if has_did:
        cells = [(1, *mom[("after", True)]), (-1, *mom[("before", True)]), (-1, *mom[("after", False)]),
                 (1, *mom[("before", False)])]
        did = {k: mean_contrast(cells, confidence)[k] for k in ("estimate", "std_error", "ci_low", "ci_high",
                                                                 "p_value", "df")}
    if method == "bootstrap":
        rows, did = _bootstrap(units, rows, did, sc, n_boot, confidence, random_state)
    table = pd.DataFrame(rows)
    main = table.iloc[0]
    effect = dict(did) if did else {"estimate": main["change"], "std_error": main["std_error"],
                                    "ci_low": main["ci_low"], "ci_high": main["ci_high"], "p_value": main["p_value"]}
    target = _number(target_value, "target value")
    reached = None
    if target is not None and spec.better is not None and np.isfinite(main["after"]):
        reached = bool(main["after"] >= target) if spec.better == "higher" else bool(main["after"] <= target)
    return Remeasurement(kpi=spec.name, better=spec.better, unit=spec.unit,
                         method="welch_t" if method == "welch" else "bootstrap_percentile", confidence=confidence,
                         periods=desc, scope=sc, groups=table, did=did, design="did" if did else "before_after",
                         effect={k: _py(v) for k, v in effect.items()}, target_value=target, target_reached=reached,
                         initiative_id=initiative.initiative_id if initiative is not None else None,
                         n_boot=int(n_boot) if method == "bootstrap" else None)


def _scope_text(scope: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in scope.items())


def _bootstrap(units, rows, did, scope, n_boot, confidence, random_state):
    """Percentile intervals from resampling the units within each period and group (seeded)."""
    if int(n_boot) < 100:
        raise InitiativeError(f"bootstrap needs at least 100 resamples, got {n_boot}")
    df = units.to_pandas()
    df["treated"] = df["treated"].astype(bool) if scope else True
    cells = {(p, tr): g["y"].to_numpy(float) for (p, tr), g in df.groupby(["period", "treated"])}
    rng = np.random.default_rng(random_state)
    flags = [r["group"] != "untouched" for r in rows]
    boots = {k: np.full(int(n_boot), np.nan) for k in [r["group"] for r in rows] + ["did"]}
    for b in range(int(n_boot)):
        m = {k: v[rng.integers(0, len(v), len(v))].mean() for k, v in cells.items() if len(v)}
        for r, flag in zip(rows, flags):
            if ("before", flag) in m and ("after", flag) in m:
                boots[r["group"]][b] = m[("after", flag)] - m[("before", flag)]
        if did is not None:
            boots["did"][b] = (m[("after", True)] - m[("before", True)]) - (m[("after", False)] - m[("before", False)])
    a = (1 - confidence) / 2

    def summ(x):
        x = x[np.isfinite(x)]
        if len(x) < 2:
            return {"std_error": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "df": np.nan}
        lo, hi = np.quantile(x, [a, 1 - a])
        p = min(1.0, max(2 * min(np.mean(x <= 0), np.mean(x >= 0)), 1.0 / len(x)))   # resolution 1/n_boot
        return {"std_error": float(x.std(ddof=1)), "ci_low": float(lo), "ci_high": float(hi), "p_value": float(p),
                "df": np.nan}
    rows = [{**r, **summ(boots[r["group"]])} for r in rows]     # the estimates stay the sample's
    if did is not None:
        did = {"estimate": did["estimate"], **summ(boots["did"])}
    return rows, did


def kpi_value(con, kpi: str, *, since, until, scope=None) -> tuple[int, float]:
    """(units, value) of a KPI over the days [since, until] (computed in the engine)."""
    spec = parse_kpi(kpi)
    since, until = _date(since, "since"), _date(until, "until")
    units = _units(con, spec, parse_scope(scope), windows={"now": (since, until + dt.timedelta(days=1))})
    units = units.filter(units.treated)
    r = units.aggregate(n=units.y.count(), mean=units.y.mean()).to_pyarrow().to_pylist()[0]
    return int(r["n"] or 0), _f(r["mean"])


# --------------------------------------------------------------------------- suggestions
SUGGEST_COLUMNS = ("rank", "source", "origin_kind", "origin", "topic", "kpi", "current", "n", "target_value",
                   "target_basis", "value", "nps_change", "gap", "requirement_rank", "cases", "share",
                   "cumulative_share", "existing")


def _topic(kind: str, value: str) -> str:
    if kind == "driver_gap":
        return value
    if kind == "experience_roi":
        return value[len("experience_"):] if value.startswith("experience_") else value
    return f"root_cause:{value}"


def suggest(con, *, as_of=None, top: int = 3, window_days: int = DEFAULT_DAYS, taxonomy=None) -> pd.DataFrame:
    """Initiatives worth starting, ranked: the dimensions where closing the gap pays most (the
    ``experience_roi`` driver ranking, then the CEM requirements of ``cem_gaps`` not in it) and
    the root causes of the Pareto (cases by latest root cause, until 80% of the cases), at most
    ``top`` of each. Each has its origin, KPI, the KPI's current value over the last
    ``window_days`` to ``as_of`` with ``n``, a proposed target — a dimension's expectation
    (experience still below it) else its ideal; half the current rate of a root cause — the
    money value and NPS change of closing the gap (when ranked), and ``existing``: the id of an
    open initiative on the same topic. ``value`` is the ranking's value scaled to the customer
    base (``value_base``) when it has one."""
    from ..store import last_activity_date, read_result
    from .taxonomy import root_cause_codes
    if int(top) < 1:
        raise InitiativeError(f"top {top!r}: expected a whole number ≥ 1")
    as_of = _date(as_of, "as_of") if as_of is not None else last_activity_date(con)
    since = as_of - dt.timedelta(days=int(window_days) - 1)
    gaps = read_result(con, "cem_gaps")
    gaps = gaps.set_index("dimension") if gaps is not None and len(gaps) else None
    roi = read_result(con, "experience_roi")
    dims = set(survey_dimensions(con))
    out = []
    if roi is not None and len(roi):
        drv = roi[(roi["kind"] == "driver") & (roi["value"] > 0)].sort_values("rank")
        for r in drv.itertuples():
            d = str(r.item)[len("experience_"):] if str(r.item).startswith("experience_") else None
            if d in dims:
                out.append({"source": "experience_roi", "origin_kind": "experience_roi", "origin": str(r.item),
                            "dimension": d, "value": float(getattr(r, "value_base", r.value)),
                            "nps_change": float(r.nps_change)})
    if gaps is not None and "requirement_rank" in gaps.columns:
        req = gaps[gaps["requirement_rank"].notna()].sort_values("requirement_rank")
        for d in req.index:
            if d in dims and not any(o["dimension"] == d for o in out):
                out.append({"source": "cem_gaps", "origin_kind": "driver_gap", "origin": str(d), "dimension": str(d)})
    out = out[:int(top)]
    for o in out:
        d = o["dimension"]
        o["kpi"] = f"experience_{d}"
        if gaps is not None and d in gaps.index:
            g = gaps.loc[d]
            o["gap"] = _py(g.get("gap"))
            o["requirement_rank"] = _py(g.get("requirement_rank"))
            exp, expc, ideal = (_py(g.get(c)) for c in ("experience", "expectation", "ideal"))
            if exp is not None and expc is not None and exp < expc:
                o["target_value"], o["target_basis"] = expc, "expectation"
            elif ideal is not None:
                o["target_value"], o["target_basis"] = ideal, "ideal"
    if has_table(con, "cases"):
        from .kpis import closed_loop_kpis
        from .rules import run_clock
        pareto = (closed_loop_kpis(con, run_clock(as_of)) or {}).get("root_causes")
        codes = set(root_cause_codes(taxonomy))
        n = 0
        if pareto is not None and len(pareto):
            prev = 0.0
            for r in pareto.itertuples():
                if n >= int(top) or prev >= 0.8:
                    break
                prev = float(r.cumulative_share)
                if r.root_cause not in codes:
                    continue
                out.append({"source": "root_causes", "origin_kind": "root_cause", "origin": str(r.root_cause),
                            "kpi": f"case_rate:{r.root_cause}", "cases": int(r.cases), "share": float(r.share),
                            "cumulative_share": float(r.cumulative_share), "target_basis": "halve"})
                n += 1
    cur = current_initiatives(con)
    open_ = {} if cur is None else {
        _topic(r["origin_kind"], r["origin"]): r["initiative_id"]
        for r in cur.filter(cur.status.isin(list(OPEN))).select("initiative_id", "origin_kind", "origin")
        .to_pyarrow().to_pylist()}
    for o in out:
        try:
            o["n"], o["current"] = kpi_value(con, o["kpi"], since=since, until=as_of)
        except CxValueError:
            o["n"], o["current"] = 0, float("nan")
        if o.get("target_basis") == "halve" and np.isfinite(o["current"]):
            o["target_value"] = o["current"] / 2
        o["topic"] = _topic(o["origin_kind"], o["origin"])
        o["existing"] = open_.get(o["topic"])
    df = pd.DataFrame(out, columns=[c for c in SUGGEST_COLUMNS if c != "rank"] + ["dimension"])
    df.insert(0, "rank", range(1, len(df) + 1))
    df.attrs.update(as_of=as_of.isoformat(), since=since.isoformat(), window_days=int(window_days))
    return df
