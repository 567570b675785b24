"""The analysis run: declared steps, ordered by the tables they need and write.

Each domain declares its steps in ``cxvalue.<domain>.pipeline`` with :func:`register`::

    register(Step("customer value", needs=("transactions",), writes=("customer_value", ...),
                  run=run_value, domain="value"))

``run(session)`` receives the resolved session (``.con``, ``.settings``, ``.as_of``) and
returns a :class:`StepResult` (frames named after declared result tables, and a short
summary of numbers) or raises :class:`StepSkipped` / :class:`~cxvalue.errors.CxValueError`
with the reason. :func:`run_steps` orders the steps by their dependencies, skips a step
whose input tables are missing (saying which), writes each step's tables, records every
typed warning it raised, and appends one row per step to the ``run_log`` ledger, which the
views read to show why an analysis is missing. No terminal UI here: callers pass a
``progress`` callback.

**Incremental runs** (``run_steps(..., incremental=True)``, what ``cxvalue run`` does): each
step's *input fingerprint* — its name, the package version and its module's source, the as-of
date, the settings that shape results, and the state of every table it needs or uses (for a
loaded table its loads in ``load_log``, row count and a checksum of its rows; for a result
table the fingerprint of the step that wrote it) — is recorded in the ``run_inputs`` ledger. A step whose fingerprint equals
that of its last successful run, and whose tables are still there, is not run again: its
outcome is carried over (status ``ok``, ``unchanged=True``). Steps declared ``always`` (the
closed loop's cases, case outcomes and initiatives) always run: they act on the clock
(escalations) and on ledgers that people change.
"""
from __future__ import annotations

import importlib
import json
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime, UTC
from typing import Any
from collections.abc import Callable

from .errors import CxValueError, CxValueWarning
from .i18n import warning_key

DOMAINS = ("value", "voice", "text", "perception", "loyalty", "churn", "journeys", "lifecycle", "explore", "loop")

Need = str | tuple[str, ...]   # a table name, or a tuple of names of which any one suffices


class StepSkipped(CxValueError):
    """A step cannot run on this store; the message says why (shown to the user)."""


@dataclass(frozen=True)
class Step:
    """One analysis of the run: ``needs`` tables (a tuple entry = any one of them), ``writes``
    declared result tables, ``run(session) -> StepResult``."""
    name: str
    run: Callable[[Any], StepResult]
    needs: tuple[Need, ...] = ()
    writes: tuple[str, ...] = ()
    domain: str = ""
    doc: str = ""
    uses: tuple[str, ...] = ()      # optional inputs: read when present, so run after their writers
    always: bool = False            # run on every incremental run too (acts on the clock or on ledgers people change)


@dataclass
class StepResult:
    tables: dict = field(default_factory=dict)        # name -> pandas DataFrame (or an Ibis expression: built in the engine)
    summary: dict = field(default_factory=dict)       # name -> number or short text


#: settings that do not change any result (presentation, serving, notifications)
NEUTRAL_SETTINGS = ("lang", "report", "store")
NEUTRAL_PREFIXES = ("web_", "notify_")


@dataclass
class StepOutcome:
    step: str
    domain: str
    status: str                  # ok | skipped | failed
    reason: str = ""
    warnings: list = field(default_factory=list)      # [{"category": ..., "message": ...}]
    tables: dict = field(default_factory=dict)        # written table -> rows
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0
    unchanged: bool = False     # not run: its inputs are those of its last successful run

    def to_dict(self) -> dict:
        return {"step": self.step, "domain": self.domain, "status": self.status, "reason": self.reason,
                "warnings": self.warnings, "tables": self.tables, "summary": self.summary,
                "seconds": round(self.seconds, 3), "unchanged": self.unchanged}


STEPS: dict[str, Step] = {}


def register(step: Step) -> Step:
    """Add ``step`` to the run (its name must be new)."""
    if step.name in STEPS and STEPS[step.name] is not step:
        raise ValueError(f"step {step.name!r} is declared twice")
    STEPS[step.name] = step
    return step


def import_steps() -> dict[str, Step]:
    """Import every domain's ``pipeline`` module (each registers its steps) and return the steps."""
    for d in DOMAINS:
        importlib.import_module(f"cxvalue.{d}.pipeline")
    return STEPS


def ordered(steps: dict[str, Step] | None = None) -> list[Step]:
    """The steps in dependency order (a step after every step writing a table it needs);
    declaration order breaks ties. A cycle is an error naming the steps."""
    steps = import_steps() if steps is None else steps
    # ties are broken by domain (DOMAINS order), then declaration: the order does not depend on import order
    rank = {d: i for i, d in enumerate(DOMAINS)}
    steps = dict(sorted(steps.items(), key=lambda kv: rank.get(kv[1].domain, len(rank))))
    writer = {t: s.name for s in steps.values() for t in s.writes}
    deps = {s.name: {writer[t] for need in (*s.needs, *s.uses) for t in _names(need)
                     if t in writer and writer[t] != s.name}
            for s in steps.values()}
    out, done = [], set()
    pending = list(steps)
    while pending:
        n = next((n for n in pending if deps[n] <= done), None)
        if n is None:
            raise CxValueError(f"the steps {', '.join(pending)} depend on each other in a cycle")
        out.append(steps[n])
        done.add(n)
        pending.remove(n)
    return out


def _names(need: Need) -> tuple[str, ...]:
    return (need,) if isinstance(need, str) else tuple(need)


def select(only=None, steps: dict[str, Step] | None = None) -> list[Step]:
    """The ordered steps named in ``only`` (all when empty); an unknown name is an error."""
    all_steps = ordered(steps)
    if not only:
        return all_steps
    names = {s.name for s in all_steps}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise CxValueError(f"unknown step {', '.join(map(repr, unknown))}: expected one of "
                           f"{', '.join(s.name for s in all_steps)}")
    return [s for s in all_steps if s.name in set(only)]


def report_progress(session, done: int, total: int | None = None, unit: str = "") -> None:
    """Called by a step on long work: ``done`` of ``total`` ``unit`` (e.g. "comments") of the
    running step, passed on to the ``progress`` callback of :func:`run_steps` as its fourth
    argument ``{"done", "total", "unit"}``. Does nothing outside :func:`run_steps`."""
    cb = getattr(session, "step_progress", None)
    if cb is not None:
        cb(int(done), None if total is None else int(total), unit)


def run_steps(session, *, only=None, progress: Callable[..., None] | None = None,
              steps: dict[str, Step] | None = None, incremental: bool = False) -> list[StepOutcome]:
    """Run the steps (all, or ``only`` these plus the upstream steps whose output is missing)
    on ``session``'s store; write their tables; record each outcome in ``run_log``.
    ``progress(name, i, n)`` is called as each step starts, and ``progress(name, i, n, detail)``
    (``detail``: ``{"done", "total", "unit"}``) as a long step reports its own progress
    (:func:`report_progress`). ``steps``: another set of steps than the registered ones (tests).
    ``incremental``: a step whose input fingerprint is that of its last successful run is not
    run again (see the module docstring)."""
    from .store import append_ledger, has_table, write_result
    all_steps = ordered(steps)
    chosen = select(only, steps)
    if only:
        chosen = _with_missing_upstream(session.con, chosen, all_steps)
    run_id = uuid.uuid4().hex[:12]
    _ = session.as_of  # fix the analysis date once, before any step
    import pandas as pd
    outcomes: list[StepOutcome] = []
    produced: set[str] = set()
    writer = {t: s.name for s in all_steps for t in s.writes}
    prints = _Fingerprints(session, writer)
    before = last_outcomes(session.con) if incremental else {}
    for i, step in enumerate(chosen):
        if progress:
            progress(step.name, i, len(chosen))
        t0 = time.perf_counter()
        missing = [need for need in step.needs
                   if not any(has_table(session.con, n) or n in produced for n in _names(need))]
        if missing:
            outcomes.append(StepOutcome(step.name, step.domain, "skipped", _missing_reason(missing, all_steps)))
            continue
        fp = prints.of(step)
        last = before.get(step.name)
        if (incremental and not step.always and last is not None and last["status"] == "ok"
                and prints.last.get(step.name) == fp and all(has_table(session.con, n) for n in last["tables"])):
            outcomes.append(StepOutcome(step.name, step.domain, "ok", "", last["warnings"], last["tables"],
                                        last["summary"], time.perf_counter() - t0, unchanged=True))
            continue
        session.step_progress = None if progress is None else (
            lambda done, total, unit, _name=step.name, _i=i: progress(_name, _i, len(chosen),
                                                                       {"done": done, "total": total, "unit": unit}))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CxValueWarning)
            try:
                res = step.run(session)
            except CxValueError as exc:
                outcomes.append(StepOutcome(step.name, step.domain, "skipped", str(exc),
                                            _typed(caught), seconds=time.perf_counter() - t0))
                continue
        res = res or StepResult()
        written = {}
        for name, frame in res.tables.items():
            if name not in step.writes:
                raise CxValueError(f"step {step.name!r} wrote {name!r}, which it does not declare in writes=")
            stored = write_result(session.con, name, frame)   # a pandas frame, or an Ibis expression
            written[name] = int(len(frame)) if isinstance(frame, pd.DataFrame) else int(stored.count().execute())
            produced.add(name)
        outcomes.append(StepOutcome(step.name, step.domain, "ok", "", _typed(caught), written,
                                    _plain(res.summary), time.perf_counter() - t0))
    session.step_progress = None
    if progress:
        progress("", len(chosen), len(chosen))
    now = datetime.now(UTC).replace(tzinfo=None)
    log = pd.DataFrame([{"run_id": run_id, "at": now, "as_of": str(session.as_of) if session.as_of else None,
                         "step": o.step, "domain": o.domain, "status": o.status, "reason": o.reason,
                         "warnings": json.dumps(o.warnings, ensure_ascii=False),
                         "tables": json.dumps(o.tables), "summary": json.dumps(o.summary, ensure_ascii=False),
                         "seconds": float(o.seconds)} for o in outcomes])
    if len(log):
        text = ["run_id", "as_of", "step", "domain", "status", "reason", "warnings", "tables", "summary"]
        log[text] = log[text].astype("string")  # typed even when all missing (an empty store has no as-of date)
        append_ledger(session.con, "run_log", log)
        ok = [o for o in outcomes if o.status == "ok"]
        if ok:
            append_ledger(session.con, "run_inputs", pd.DataFrame(
                {"run_id": run_id, "at": now, "step": [o.step for o in ok],
                 "fingerprint": [prints.done[o.step] for o in ok], "unchanged": [o.unchanged for o in ok]}))
    return outcomes


def _version() -> str:
    """The installed package's version (part of every fingerprint: an upgrade re-runs the steps)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("cxvalue")
    except PackageNotFoundError:
        return "unknown"


class _Fingerprints:
    """The input fingerprint of each step of a run (see the module docstring)."""

    def __init__(self, session, writer: dict[str, str]):
        from .store import has_table
        self.session, self.writer, self.done, self.tables = session, writer, {}, {}
        con = session.con
        self.last: dict[str, str] = {}
        if has_table(con, "run_inputs"):
            r = con.table("run_inputs").to_pandas().sort_values("at")
            self.last = dict(zip(r.step, r.fingerprint))
        self.loads: dict[str, list] = {}
        if has_table(con, "load_log"):
            ll = con.table("load_log").to_pandas()
            ll = ll[ll.get("status", "ok") == "ok"] if "status" in ll.columns else ll
            for t, g in ll.groupby("table_name"):
                self.loads[t] = sorted(map(str, g.load_id))
        settings = {k: v for k, v in (session.settings or {}).items()
                    if k not in NEUTRAL_SETTINGS and not k.startswith(NEUTRAL_PREFIXES)}
        self.base = {"version": _version(), "as_of": str(session.as_of), "settings": settings}

    def _table(self, name: str):
        if name in self.writer:                       # a result table: the state its writer saw
            up = self.writer[name]
            return self.done.get(up) or self.last.get(up) or "none"
        if name not in self.tables:
            self.tables[name] = self._state(name)
        return self.tables[name]

    def _state(self, name: str):
        """A loaded table's loads, columns, rows and an order-free checksum of its rows (XOR of row
        hashes, computed in the engine once per run): an edit outside ``cxvalue load`` counts too."""
        import ibis
        from .store import has_table
        if not has_table(self.session.con, name):
            return None
        t = self.session.con.table(name)
        row = t.aggregate(n=t.count(), h=ibis.struct({c: t[c] for c in t.columns}).hash().bit_xor()).execute().iloc[0]
        return {"loads": self.loads.get(name, []), "rows": int(row.n), "checksum": str(row.h), "columns": list(t.columns)}

    def of(self, step: Step) -> str:
        import hashlib
        import inspect
        try:
            code = hashlib.sha256(open(inspect.getsourcefile(step.run), "rb").read()).hexdigest()
        except (TypeError, OSError):
            code = step.run.__qualname__
        inputs = {n: self._table(n) for need in (*step.needs, *step.uses) for n in _names(need)}
        key = json.dumps({**self.base, "step": step.name, "code": code, "inputs": inputs}, sort_keys=True, default=str)
        self.done[step.name] = hashlib.sha256(key.encode()).hexdigest()[:20]
        return self.done[step.name]


def _with_missing_upstream(con, chosen: list[Step], all_steps: list[Step]) -> list[Step]:
    from .store import has_table
    writer = {t: s for s in all_steps for t in s.writes}
    names = {s.name for s in chosen}
    stack = list(chosen)
    while stack:
        s = stack.pop()
        for need in s.needs:
            ns = _names(need)
            if any(has_table(con, n) for n in ns):
                continue
            up = next((writer[n] for n in ns if n in writer), None)
            if up is not None and up.name not in names:
                names.add(up.name)
                stack.append(up)
    return [s for s in all_steps if s.name in names]


def _missing_reason(missing, all_steps) -> str:
    writer = {t: s.name for s in all_steps for t in s.writes}
    parts = []
    for need in missing:
        ns = _names(need)
        made = [n for n in ns if n in writer]
        if made:
            parts.append(f"needs {' or '.join(ns)} (written by step {writer[made[0]]!r}, which did not write it)")
        else:
            parts.append(f"needs table {' or '.join(ns)}: load it with `cxvalue load {ns[0]} FILE`")
    return "; ".join(parts)


def _typed(caught) -> list[dict]:
    out, seen = [], set()
    for w in caught:
        if not issubclass(w.category, CxValueWarning):
            continue
        key = (w.category.__name__, str(w.message))
        if key not in seen:
            seen.add(key)
            mkey, params = warning_key(w.message)
            out.append({"category": key[0], "message": key[1], **({"key": mkey, "params": params} if mkey else {})})
    return out


def _plain(d: dict) -> dict:
    out = {}
    for k, v in (d or {}).items():
        if hasattr(v, "item"):
            v = v.item()
        out[k] = v if isinstance(v, (int, float, str, bool)) or v is None else str(v)
    return out


def last_outcomes(con) -> dict[str, dict]:
    """The latest logged outcome of every step (from ``run_log``): step -> row dict with
    ``status``, ``reason``, ``warnings`` (list), ``summary`` (dict), ``at``, ``as_of``."""
    from .store import has_table
    if not has_table(con, "run_log"):
        return {}
    log = con.table("run_log").to_pandas().sort_values("at")
    out = {}
    for r in log.to_dict("records"):
        r["warnings"] = json.loads(r["warnings"] or "[]")
        r["summary"] = json.loads(r["summary"] or "{}")
        r["tables"] = json.loads(r["tables"] or "{}")
        out[r["step"]] = r
    return out
