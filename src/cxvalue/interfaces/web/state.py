"""What the web app owns for its lifetime: the store, the accounts, a cache of built views and
the job queue.

DuckDB lets one process write a database file. The app is that process while it serves: it
opens the store once, gives every request thread its own cursor on that database (DuckDB's
MVCC keeps concurrent readers and the single writer consistent), and runs analyses as jobs on
its own queue — a ``cxvalue run`` or ``load`` from another process is refused with a clear
message instead of corrupting anything. Because every change to the store passes through
this process, a view built once stays valid until a job finishes; the cache is cleared then.
"""
from __future__ import annotations

import copy
import datetime as dt
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from ...accounts import Accounts
from ...store import backend_name, connect, raw_duckdb
from ..session import Session


@dataclass
class Job:
    id: str
    kind: str
    by: str
    only: list[str] | None = None
    status: str = "queued"          # queued | running | done | failed
    step: str = ""
    done: int = 0
    total: int = 0
    detail: dict | None = None      # the running step's own progress: {"done", "total", "unit"}
    queued_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    message: str = ""
    outcomes: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class WebState:
    def __init__(self, settings: dict, *, con=None):
        self.settings = settings
        self.root = con if con is not None else connect(settings["store"])
        self.duck = raw_duckdb(self.root)
        self._cursors: list = []
        self._local = threading.local()
        self.accounts = Accounts(self._new_con(), session_hours=int(settings["web_session_hours"]))
        self.generation = 0
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()
        self._as_of: tuple[int, dt.date | None] | None = None
        self.jobs: list[Job] = []
        self._queue_cv = threading.Condition()
        self._worker: threading.Thread | None = None
        self.on_change = None           # called (in the background) after the store changed
        self._warmer: threading.Thread | None = None
        self.warming: dict = {}          # {"done", "total"} of the cache warm-up in progress
        self.stopping = threading.Event()  # set at shutdown: the warm-up stops at its next page

    # ------------------------------------------------------------------ store
    def _new_con(self):
        if self.duck is None:
            return self.root
        import ibis
        cursor = self.duck.cursor()
        self._cursors.append(cursor)
        return ibis.duckdb.from_connection(cursor)

    def close(self) -> None:
        """Close every cursor and the store (the app is shutting down): a running job is waited for
        (it writes the store); the cache warm-up stops after the page it is building."""
        self.stopping.set()
        for th, wait in ((self._warmer, 60), (self._worker, 600)):
            if th is not None:
                th.join(timeout=wait)
        for c in self._cursors:
            try:
                c.close()
            except Exception:  # already closed
                pass
        self._cursors.clear()
        self.root.disconnect()

    def con(self):
        """This thread's connection to the store."""
        c = getattr(self._local, "con", None)
        if c is None:
            c = self._local.con = self._new_con()
        return c

    @property
    def backend(self) -> str:
        return backend_name(self.root)

    def session(self, lang: str) -> Session:
        """A session on this thread's connection, with the analysis date resolved once per store
        generation."""
        con = self.con()
        if self._as_of is None or self._as_of[0] != self.generation:
            s = Session(self.settings, con=con)
            self._as_of = (self.generation, s.as_of)
        sess = Session(self.settings, con=con, lang=lang, as_of=self._as_of[1])
        sess.as_of_source = "setting" if self.settings.get("as_of") else "store"
        return sess

    # ------------------------------------------------------------------ view cache
    def cached(self, key: tuple, build, *, private: bool = False):
        """``build()`` once per key and store generation (at most 512 entries, least recently used
        dropped). The cached object is shared: pass ``private=True`` for a deep copy the caller may
        change (masking)."""
        key = (self.generation, *key)
        with self._cache_lock:
            hit = key in self._cache
            if hit:
                self._cache.move_to_end(key)
                value = self._cache[key]
        if not hit:
            value = build()
            with self._cache_lock:
                self._cache[key] = value
                while len(self._cache) > 512:
                    self._cache.popitem(last=False)
        return copy.deepcopy(value) if private else value

    def warm(self, build) -> threading.Thread:
        """Run ``build()`` (fill the cache with the pages everyone opens) in the background."""
        def run():
            try:
                build()
            except Exception:  # warming is an optimisation: a failure shows up when the page is asked for
                traceback.print_exc()
        th = self._warmer = threading.Thread(target=run, name="cxvalue-warm", daemon=True)
        th.start()
        return th

    def warm_status(self) -> dict:
        """{"done", "total", "running"} of the cache warm-up."""
        return {**self.warming, "running": self._warmer is not None and self._warmer.is_alive()}

    def changed(self) -> None:
        """The store changed (a job finished): forget every cached view."""
        with self._cache_lock:
            self.generation += 1
            self._cache.clear()

    # ------------------------------------------------------------------ jobs
    def submit(self, kind: str, by: str, only: list[str] | None = None) -> Job:
        if kind != "run":
            raise ValueError(f"job kind {kind!r} is not known: expected run")
        job = Job(uuid.uuid4().hex[:10], kind, by, only or None, queued_at=_stamp())
        with self._queue_cv:
            self.jobs.append(job)
            self.jobs[:] = self.jobs[-50:]
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="cxvalue-jobs", daemon=True)
                self._worker.start()
            self._queue_cv.notify()
        self.accounts.audit(by, "job_queued", job.id, f"run {' '.join(only or []) or 'all'}")
        return job

    def job(self, job_id: str) -> Job | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    def busy(self) -> bool:
        return any(j.status in ("queued", "running") for j in self.jobs)

    def _work(self) -> None:
        while True:
            with self._queue_cv:
                job = next((j for j in self.jobs if j.status == "queued"), None)
                if job is None:
                    self._worker = None
                    return  # the next submit starts a new worker
                job.status, job.started_at = "running", _stamp()
            self._run(job)

    def _run(self, job: Job) -> None:
        from ...steps import import_steps, run_steps
        t0 = time.perf_counter()
        try:
            import_steps()
            sess = Session(self.settings, con=self._new_con())

            def progress(name, i, n, detail=None):
                job.step, job.done, job.total = name, i, n
                job.detail = detail
            outcomes = run_steps(sess, only=job.only, progress=progress)
            job.outcomes = [{"step": o.step, "status": o.status, "reason": o.reason, "seconds": round(o.seconds, 2)}
                            for o in outcomes]
            job.done = job.total
            job.status = "done"
            job.message = f"{sum(o.status == 'ok' for o in outcomes)} steps ok, " \
                          f"{sum(o.status == 'skipped' for o in outcomes)} skipped, {time.perf_counter() - t0:.1f} s"
        except Exception as exc:  # a failed job is reported on its page, never crashes the app
            job.status = "failed"
            job.message = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        finally:
            job.finished_at = _stamp()
            self.changed()
            if self.on_change is not None:
                self.warm(self.on_change)
            self.accounts.audit(job.by, "job_" + job.status, job.id, job.message)


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
