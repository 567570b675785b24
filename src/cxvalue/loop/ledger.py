"""What the closed loop's event-sourced records share (cases, :mod:`cxvalue.loop.cases`, and
improvement initiatives, :mod:`cxvalue.loop.initiatives`): a record is a ledger row folded with
its events, its status allows the actions of a transition table, and events are typed frames."""
from __future__ import annotations

import datetime as dt
from typing import ClassVar

import pandas as pd


class Folded:
    """Mixin of a record folded from its events: ``TRANSITIONS`` maps action → (statuses it may
    start from, status it leads to); the record has a ``status``."""
    TRANSITIONS: ClassVar[dict[str, tuple[tuple[str, ...], str | None]]] = {}

    def allowed(self) -> list[str]:
        """The actions the record's status allows."""
        return [a for a, (src, _) in self.TRANSITIONS.items() if self.status in src]

    def to_dict(self) -> dict:
        return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in self.__dict__.items()}


def now() -> dt.datetime:
    """UTC now, naive, to the second (the ledgers' clock)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def text(v) -> str | None:
    """A stripped text, None when empty."""
    v = None if v is None else str(v).strip()
    return v or None


def na(v):
    """None for every kind of missing value (None, NaT, NA, NaN), else the value."""
    return None if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and v != v) else v


def typed_frame(rows: list[dict] | pd.DataFrame, columns, types: dict) -> pd.DataFrame:
    """``rows`` (dicts or a frame) as a frame of ``columns``: those in ``types`` cast to them, the
    others to strings (so that an all-empty column still has a type in the engine)."""
    df = rows[list(columns)].copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=list(columns))
    for c in df.columns:
        df[c] = df[c].astype(types[c]) if c in types else df[c].astype("string")
    return df
