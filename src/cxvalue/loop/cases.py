"""Cases of the closed loop (H1, 回访-分析-整改): the ``cases`` ledger (one row per case, written
once when it opens) and the append-only ``case_events`` log (every change: who, when, from →
to, comment). A case's current state is the fold of its events; nothing is ever overwritten.

The life of a case is a state machine (:data:`TRANSITIONS`)::

    open → in_progress → (escalated) → resolved → closed, and reopen from resolved or closed

Every change needs a comment; resolving needs a root cause from the taxonomy
(:mod:`cxvalue.loop.taxonomy`). An illegal transition is a :class:`CaseError` naming the
case, its status and the actions it allows. Each change names the version (the number of
events) it was based on: if another change came first, :class:`CaseConflict` — never a lost
update. Opening a case writes its row and its first event in one transaction.
"""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass

import pandas as pd

from ..errors import CxValueError
from ..store import append_ledgers, declare, has_table, lookup
from .ledger import Folded, na as _na, now as _now, text as _text, typed_frame as _frame

STATUSES = ("open", "in_progress", "escalated", "resolved", "closed")
SOURCES = ("survey", "complaint", "churn_risk", "manual")
PRIORITIES = ("urgent", "high", "normal", "low")
#: action → (statuses it may start from, status it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "start": (("open", "escalated"), "in_progress"),
    "escalate": (("open", "in_progress"), "escalated"),
    "resolve": (("open", "in_progress", "escalated"), "resolved"),
    "close": (("resolved",), "closed"),
    "reopen": (("resolved", "closed"), "open"),
    "assign": (("open", "in_progress", "escalated", "resolved"), None),
    "note": (STATUSES, None),
}
ACTIONS = tuple(TRANSITIONS)

declare("cases", kind="ledger", key=("case_id",),
        columns=("customer_id", "source", "source_id", "rule", "opened_at", "opened_by", "priority", "team",
                 "sla_due", "holdout"),
        doc="One row per case of the closed loop, written when it opens (never changed): customer, source "
            "(survey, complaint, churn_risk, manual) and its id, the rule or user that opened it, priority, team, "
            "SLA due time, and whether the customer is in the hold-out (deliberately not contacted).")
declare("case_events", kind="ledger", key=("case_id", "seq"),
        columns=("at", "by", "action", "from_status", "to_status", "owner", "team", "comment", "root_cause",
                 "corrective_action", "outcome"),
        doc="Every change to a case, in order (seq 1 = opened): who, when, the action, from → to status, "
            "owner and team after it, the comment, root cause, corrective action and outcome.")

EVENT_COLUMNS = ("case_id", "seq", "at", "by", "action", "from_status", "to_status", "owner", "team", "comment",
                 "root_cause", "corrective_action", "outcome")
_LOCK = threading.RLock()   # one writer per process; the version check guards against the others


class CaseError(CxValueError):
    """A change to a case was refused (illegal transition, missing comment or root cause...)."""


class CaseConflict(CaseError):
    """The case changed since the version the change was based on: reload it and try again."""


@dataclass(frozen=True)
class Case(Folded):
    """A case as of its last event."""
    TRANSITIONS = TRANSITIONS
    case_id: str
    customer_id: str
    source: str
    source_id: str | None
    rule: str | None
    opened_at: dt.datetime
    opened_by: str
    priority: str
    sla_due: dt.datetime | None
    holdout: bool
    status: str
    owner: str | None
    team: str | None
    root_cause: str | None
    corrective_action: str | None
    outcome: str | None
    version: int


def _event(case_id, seq, by, action, frm, to, *, owner=None, team=None, comment=None, root_cause=None,
           corrective_action=None, outcome=None, at=None) -> dict:
    return {"case_id": case_id, "seq": int(seq), "at": at or _now(), "by": by, "action": action,
            "from_status": frm, "to_status": to, "owner": owner, "team": team, "comment": comment,
            "root_cause": root_cause, "corrective_action": corrective_action, "outcome": outcome}


_EVENT_TYPES = {"seq": "int64", "at": "datetime64[us]"}
_CASE_TYPES = {"opened_at": "datetime64[us]", "sla_due": "datetime64[us]", "holdout": "bool"}


def open_case(con, customer_id: str, *, source: str, by: str, priority: str = "normal", team: str | None = None,
              owner: str | None = None, source_id: str | None = None, rule: str | None = None,
              sla_due: dt.datetime | None = None, holdout: bool = False, comment: str | None = None,
              at: dt.datetime | None = None) -> Case:
    """Open a case (its ledger row and its first event, in one transaction)."""
    [case_id] = open_cases(con, [dict(customer_id=customer_id, source=source, by=by, priority=priority, team=team,
                                      owner=owner, source_id=source_id, rule=rule, sla_due=sla_due, holdout=holdout,
                                      comment=comment, at=at)])
    return get_case(con, case_id)


def open_cases(con, items: list[dict]) -> list[str]:
    """Open many cases in one transaction (the rules' batch): each item has the arguments of
    :func:`open_case` (``customer_id``, ``source``, ``by``, ``priority``, ``team``, ``source_id``,
    ``rule``, ``sla_due``, ``holdout``, ``comment``, ``owner``, ``at``). Returns the new case ids."""
    rows, events, ids = [], [], []
    now = _now()
    for it in items:
        source, priority = it.get("source"), it.get("priority") or "normal"
        if source not in SOURCES:
            raise CaseError(f"case source {source!r} is not valid: expected one of {', '.join(SOURCES)}")
        if priority not in PRIORITIES:
            raise CaseError(f"case priority {priority!r} is not valid: expected one of {', '.join(PRIORITIES)}")
        if not _text(it.get("customer_id")):
            raise CaseError("a case needs a customer_id")
        at = it.get("at") or now
        case_id = "K" + uuid.uuid4().hex[:11].upper()
        ids.append(case_id)
        rows.append({"case_id": case_id, "customer_id": str(it["customer_id"]), "source": source,
                     "source_id": _text(it.get("source_id")), "rule": _text(it.get("rule")), "opened_at": at,
                     "opened_by": it["by"], "priority": priority, "team": _text(it.get("team")),
                     "sla_due": it.get("sla_due"), "holdout": bool(it.get("holdout", False))})
        events.append(_event(case_id, 1, it["by"], "open", None, "open", owner=_text(it.get("owner")),
                             team=_text(it.get("team")), comment=_text(it.get("comment")), at=at))
    if rows:
        with _LOCK:
            append_ledgers(con, {"cases": _frame(rows, ("case_id", *_case_columns()), _CASE_TYPES),
                                 "case_events": _frame(events, EVENT_COLUMNS, _EVENT_TYPES)})
    return ids


def _case_columns():
    from ..store import result_spec
    return result_spec("cases").columns[1:]


def get_case(con, case_id: str) -> Case:
    rows = lookup(con, "cases", "case_id", case_id, missing_ok=True)
    if rows is None or rows.empty:
        raise CaseError(f"case {case_id!r} does not exist")
    events = lookup(con, "case_events", "case_id", case_id, order_by="seq", descending=False)
    return _fold(rows.iloc[0].to_dict(), events)


def case_history(con, case_id: str) -> pd.DataFrame:
    """Every event of the case, oldest first."""
    get_case(con, case_id)
    return lookup(con, "case_events", "case_id", case_id, order_by="seq", descending=False)


def _latest(events: pd.DataFrame, col: str):
    vals = events[col].dropna()
    return None if vals.empty else vals.iloc[-1]


def _fold(row: dict, events: pd.DataFrame) -> Case:
    last = events.iloc[-1]
    owner = _latest(events, "owner")
    return Case(row["case_id"], row["customer_id"], row["source"], _na(row.get("source_id")), _na(row.get("rule")),
                row["opened_at"], row["opened_by"], row["priority"], _na(row.get("sla_due")), bool(row["holdout"]),
                last["to_status"], _na(owner), _na(_latest(events, "team")), _na(_latest(events, "root_cause")),
                _na(_latest(events, "corrective_action")), _na(_latest(events, "outcome")), int(len(events)))


def change(con, case_id: str, action: str, *, by: str, version: int, comment: str, owner: str | None = None,
           team: str | None = None, root_cause: str | None = None, corrective_action: str | None = None,
           outcome: str | None = None, root_causes=None, at: dt.datetime | None = None) -> Case:
    """Apply ``action`` to the case as of ``version`` (its number of events when the user saw it).

    Every action needs a ``comment``; ``assign`` needs an ``owner`` or a ``team``; ``resolve`` a
    ``root_cause`` (a code of ``root_causes``, default the built-in taxonomy)."""
    from .taxonomy import root_cause_codes
    if action not in TRANSITIONS:
        raise CaseError(f"action {action!r} is not known: expected one of {', '.join(ACTIONS)}")
    if not _text(comment):
        raise CaseError(f"{action} on case {case_id}: a comment is required (what was done and why)")
    with _LOCK:
        case = get_case(con, case_id)
        if int(version) != case.version:
            raise CaseConflict(f"case {case_id} changed since you opened it (version {version}, now {case.version}, "
                               f"status {case.status}): reload it and apply your change again")
        sources, to = TRANSITIONS[action]
        if case.status not in sources:
            raise CaseError(f"case {case_id} is {case.status}: it cannot {action}; allowed: "
                            f"{', '.join(case.allowed()) or 'nothing'}")
        if action == "assign" and not (_text(owner) or _text(team)):
            raise CaseError(f"assign on case {case_id}: name the new owner or team")
        if action == "resolve":
            codes = root_cause_codes(root_causes)
            if not _text(root_cause):
                raise CaseError(f"resolve case {case_id}: a root cause is required, one of {', '.join(codes)}")
            if root_cause not in codes:
                raise CaseError(f"root cause {root_cause!r} is not in the taxonomy: expected one of {', '.join(codes)}")
        ev = _event(case_id, case.version + 1, by, action, case.status, to or case.status,
                    owner=_text(owner) if action == "assign" else None, team=_text(team), comment=_text(comment),
                    root_cause=_text(root_cause), corrective_action=_text(corrective_action),
                    outcome=_text(outcome), at=at)
        append_ledgers(con, {"case_events": _frame([ev], EVENT_COLUMNS, _EVENT_TYPES)})
        return get_case(con, case_id)


def append_events(con, events: list[dict]) -> list[str]:
    """Append prepared events (``case_id``, ``version`` they were based on, ``by``, ``action``,
    ``comment``, optional ``owner``/``team``) in one transaction, skipping any case that changed
    since (its version moved on) or whose status no longer allows the action. Returns the ids
    of the cases changed. Used by the rules (escalation of overdue cases)."""
    with _LOCK:
        rows = []
        for ev in events:
            case = get_case(con, ev["case_id"])
            sources, to = TRANSITIONS[ev["action"]]
            if case.version != int(ev["version"]) or case.status not in sources:
                continue
            rows.append(_event(case.case_id, case.version + 1, ev["by"], ev["action"], case.status, to or case.status,
                               owner=_text(ev.get("owner")), team=_text(ev.get("team")), comment=_text(ev["comment"])))
        if rows:
            append_ledgers(con, {"case_events": _frame(rows, EVENT_COLUMNS, _EVENT_TYPES)})
        return [r["case_id"] for r in rows]


def current_cases(con):
    """Every case as of its last event (an Ibis table, computed in the engine): the ``cases``
    columns plus ``status``, ``owner``, ``team_now``, ``root_cause``, ``version`` (events so far)
    and ``updated_at``; None before the first case."""
    if not has_table(con, "cases"):
        return None
    c, e = con.table("cases"), con.table("case_events")
    last = e.group_by("case_id").aggregate(version=e.seq.max(), updated_at=e.at.max(),
                                           status=e.to_status.argmax(e.seq))
    out = _left(c, last)
    for col, name in (("owner", "owner"), ("team", "team_now"), ("root_cause", "root_cause")):
        has = e.filter(e[col].notnull())
        out = _left(out, has.group_by("case_id").aggregate(**{name: has[col].argmax(has.seq)}))
    return out


#: the actions that count as a response to the customer (an assignment or escalation does not)
RESPONSE_ACTIONS = ("start", "note", "resolve", "close")


def first_responses(con, until=None):
    """Per case its first response — the first event a person (``by`` not a rule) made with one
    of :data:`RESPONSE_ACTIONS` — as an Ibis table (``case_id``, ``first_response``); events after
    ``until`` are ignored. The KPIs' response time and SLA and the outcomes' timing share it."""
    import ibis
    e = con.table("case_events")
    h = e.filter((e.seq > 1) & ~e.by.startswith("rule:") & e.action.isin(RESPONSE_ACTIONS))
    if until is not None:
        h = h.filter(h.at <= ibis.timestamp(until))
    return h.group_by("case_id").aggregate(first_response=h.at.min())


def _left(t, r):
    r = r.rename(_cid="case_id")
    return t.left_join(r, t.case_id == r._cid).drop("_cid")


#: the tables of the closed loop that outlive a rebuilt store (`cxvalue demo --keep-cases`): cases,
#: their events and rule registry, and the improvement initiatives (H2) with their events
KEPT = ("cases", "case_events", "case_rule_registry", "initiatives", "initiative_events")


def export_loop(con) -> dict[str, pd.DataFrame]:
    """The closed loop's tables as frames (those present), to restore into a rebuilt store."""
    return {name: con.table(name).to_pandas() for name in KEPT if has_table(con, name)}


def _untyped_nulls(df: pd.DataFrame) -> pd.DataFrame:
    """An exported frame with its all-empty text columns typed as strings (an engine cannot
    create a column of no type)."""
    empty = [c for c in df.columns if df[c].dtype == object and df[c].isna().all()]
    return df.astype({c: "string" for c in empty}) if empty else df


def restore_loop(con, frames: dict[str, pd.DataFrame]) -> None:
    """Put exported closed-loop tables into a store that has none yet (one transaction for the
    ledgers)."""
    from ..store import write_state
    from . import initiatives, rules  # noqa: F401  (declare case_rule_registry and the initiative ledgers)
    present = [n for n in frames if has_table(con, n)]
    if present:
        raise CaseError(f"the store has closed-loop tables already ({', '.join(present)}): nothing restored")
    typed = {"cases": (("case_id", *_case_columns()), _CASE_TYPES), "case_events": (EVENT_COLUMNS, _EVENT_TYPES)}
    ledgers = {n: _frame(df, *typed[n]) if n in typed else _untyped_nulls(df) for n, df in frames.items()
               if n != "case_rule_registry" and len(df)}
    if ledgers:
        append_ledgers(con, ledgers)
    if "case_rule_registry" in frames:
        import ibis
        write_state(con, "case_rule_registry", ibis.memtable(frames["case_rule_registry"],
                                                              schema={"rule": "string", "first_seen": "timestamp"}))
