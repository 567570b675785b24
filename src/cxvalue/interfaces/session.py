"""The session: settings, store connection, language and analysis date, resolved once per
CLI call (and later per web request) and passed down to steps and views.

Library code never resolves settings itself: it receives ``session.settings`` (or single
values) from here. The store is opened on first use, so a command working on a file never
touches one; and it is created only by a session made with ``create=True`` (``cxvalue load``,
``demo``): a reading command on a missing store says to load data first.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ..config import load_settings
from ..i18n import t as translate


class Session:
    """``settings`` (every setting resolved), ``con`` (the store, opened on first use),
    ``lang``, ``as_of`` (the ``as_of`` setting, else the store's last activity date) and
    ``as_of_source`` ("setting" or "store"). ``create``: a missing DuckDB store file is created
    on first use (else :class:`~cxvalue.errors.StoreError`)."""

    def __init__(self, settings: dict, con: Any = None, lang: str | None = None, as_of: dt.date | None = None,
                 *, create: bool = False):
        self.settings = settings
        self.create = create
        self.lang = lang or settings.get("lang", "en")
        self._con = con
        self._as_of = as_of if as_of is not None else _date(settings.get("as_of"))
        self.as_of_source = "setting" if self._as_of is not None else "store"
        self._resolved = self._as_of is not None
        self._outcomes = None

    # ------------------------------------------------------------------ store and date
    @property
    def con(self):
        if self._con is None:
            from ..store import connect
            self._con = connect(self.settings["store"], create=self.create)
        return self._con

    @con.setter
    def con(self, value) -> None:
        self._con = value
        self.refresh()

    @property
    def as_of(self) -> dt.date | None:
        if not self._resolved:
            self._as_of = _store_as_of(self.con)
            self._resolved = True
        return self._as_of

    def refresh(self) -> Session:
        """Forget cached run outcomes and, unless it was given, the analysis date (after a
        load or a run changed the store)."""
        self._outcomes = None
        if self.as_of_source == "store":
            self._resolved = False
        return self

    # ------------------------------------------------------------------ helpers
    @property
    def currency(self) -> str:
        return str(self.settings.get("currency") or "CNY")

    def t(self, key: str, **fmt) -> str:
        """A message of the catalogue in the session's language."""
        return translate(key, self.lang, **fmt)

    def outcomes(self) -> dict[str, dict]:
        """The latest logged outcome of every analysis step (:func:`cxvalue.steps.last_outcomes`)."""
        if self._outcomes is None:
            from ..steps import last_outcomes
            self._outcomes = last_outcomes(self.con)
        return self._outcomes

    def __repr__(self) -> str:
        return f"Session(store={self.settings.get('store')!r}, lang={self.lang!r}, as_of={self._as_of!r})"


def _date(v) -> dt.date | None:
    from ..timeutil import as_date
    return None if v is None else as_date(v, "as_of")


def _store_as_of(con) -> dt.date | None:
    from ..errors import CxValueError
    from ..store import last_activity_date
    try:
        return last_activity_date(con)
    except CxValueError:
        return None  # an empty store: nothing to date


def open_session(*, store: str | None = None, lang: str | None = None, as_of=None, con=None,
                 connect: bool = True, create: bool = False, **overrides) -> Session:
    """Resolve settings (defaults < cxvalue.toml < CXVALUE_* < these arguments) into a session.
    ``con``: an already open store to use instead of the ``store`` setting; ``create``: the
    session may create the store file (commands that build a store: load, demo)."""
    settings = load_settings({"store": store, "lang": lang, "as_of": as_of, **overrides})
    return Session(settings, con=con, create=create)
