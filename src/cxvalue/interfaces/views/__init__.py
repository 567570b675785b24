"""Views: what every interface shows, as data.

A :class:`View` (one per domain) is a list of blocks — :class:`Kpis`, :class:`Table`,
:class:`Chart`, :class:`Text` — holding numbers, not formatted strings; every block carries
the typed warnings raised while its numbers were computed. The HTML report, the terminal and
``--json`` (and later the web pages and their JSON twins) render the same view; formatting
for people happens only in :func:`fmt`.

Each domain module here registers ``build(session) -> View | None`` with :func:`view`;
builders read result tables (and the ``run_log`` for the steps' warnings and skip reasons) and
call library functions; they compute no analytics of their own.
"""
from __future__ import annotations

import math
import re
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from collections.abc import Callable

#: value formats understood by the renderers (see :func:`fmt`)
FORMATS = ("int", "number", "float1", "float2", "float3", "pct", "pct1", "points", "signed", "money", "text",
           "date", "p")


@dataclass
class Note:
    """A typed warning (or a neutral note) attached to a block or a view. ``key`` / ``params``:
    the message catalogue's entry of a library warning (:func:`cxvalue.errors.warn`), so that
    :meth:`text` gives it in the reader's language."""
    category: str
    message: str
    key: str | None = None
    params: dict | None = None

    def text(self, lang: str = "en") -> str:
        if not self.key:
            return self.message
        from ...i18n import t
        try:
            return t(self.key, lang, **(self.params or {}))
        except (KeyError, IndexError, ValueError):   # a stored warning of another version
            return self.message

    def to_dict(self) -> dict:
        return {"category": self.category, "message": self.message}


@dataclass
class Kpi:
    key: str
    label: str
    value: float | int | str | None
    format: str = "number"
    unit: str = ""


@dataclass
class Column:
    key: str
    label: str
    format: str = "text"


@dataclass
class Block:
    id: str
    title: str = ""
    warnings: list[Note] = field(default_factory=list)
    kind: str = "block"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["warnings"] = [w.to_dict() for w in self.warnings]
        return _clean(d)


@dataclass
class Kpis(Block):
    items: list[Kpi] = field(default_factory=list)
    kind: str = "kpis"


@dataclass
class Table(Block):
    columns: list[Column] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    note: str = ""
    kind: str = "table"


@dataclass
class Chart(Block):
    """A chart spec: ``chart`` names the chart type (line, bar, stacked_bar, histogram,
    interval_bar, quadrant, path, step, stacked_area) and ``data`` holds its series."""
    chart: str = "bar"
    data: dict = field(default_factory=dict)
    value_format: str = "number"
    kind: str = "chart"


@dataclass
class Text(Block):
    text: str = ""
    tone: str = "muted"         # muted | ok | warn | plain
    kind: str = "text"


@dataclass
class View:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    as_of: str | None = None
    skipped: list[dict] = field(default_factory=list)   # [{"step", "reason"}] of this domain's skipped steps
    meta: dict = field(default_factory=dict)            # the analysis' settings and totals (numbers)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "as_of": self.as_of, "meta": _clean(self.meta),
                "warnings": [w.to_dict() for w in self.warnings], "skipped": self.skipped,
                "blocks": [b.to_dict() for b in self.blocks]}

    def block(self, id: str) -> Block:
        for b in self.blocks:
            if b.id == id:
                return b
        raise KeyError(f"view {self.id!r} has no block {id!r}; blocks: {', '.join(b.id for b in self.blocks)}")


def _clean(obj):
    """JSON-ready: NaN/inf → None, numpy scalars → Python numbers, dates → ISO strings."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if type(obj).__name__ in ("NAType", "NaTType"):  # pandas' missing markers of nullable columns
        return None
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        try:
            obj = obj.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return obj


def records(df, columns=None) -> list[dict]:
    """DataFrame rows as JSON-ready dicts (numbers stay numbers; NaN → None)."""
    if df is None:
        return []
    cols = list(columns) if columns is not None else list(df.columns)
    return [_clean(dict(zip(cols, row))) for row in df[cols].itertuples(index=False, name=None)]


# --------------------------------------------------------------------------- labels
def slug(value) -> str:
    """A block-id-safe form of a column or segment name."""
    s = re.sub(r"[^0-9a-zA-Z_]+", "-", str(value).strip()).strip("-").lower()
    return s or "x"


def label(t, key: str, fallback) -> str:
    """The catalogue's text for ``key``, else ``fallback`` (a column or value name as it is)."""
    s = t(key)
    return str(fallback) if s == key else s


def stored_value(v):
    """A value stored as text in a (metric, value) table back to a number when it is one."""
    if not isinstance(v, str):
        return v
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f


def has_rows(df) -> bool:
    return df is not None and len(df) > 0


def coded_label(t, prefix: str, value) -> str:
    """The catalogue's text of code ``value`` (key ``prefix + value``), else the code itself."""
    return label(t, f"{prefix}{value}", value)


def by_label(t, by: str) -> str:
    return coded_label(t, "by_", by)


SEGMENT_PREFIXES = {"value_tier": "tier_", "touchpoint": "touchpoint_", "channel": "channel_",
                    "acquisition_channel": "channel_", "segment": "segment_", "member_tier": "member_tier_"}


def segment_label(t, by: str, value) -> str:
    """Display label of a segment value: value tiers, and the touchpoints, channels, customer
    segments and member tiers the catalogue knows, are translated; other values shown as they are."""
    prefix = SEGMENT_PREFIXES.get(by)
    if prefix:
        return label(t, f"{prefix}{value}", value)
    if not by:      # the breakdown is not known (a stored table without it): any known value's label
        for p in dict.fromkeys(SEGMENT_PREFIXES.values()):
            if t(f"{p}{value}") != f"{p}{value}":
                return t(f"{p}{value}")
    return str(value)


def small_note(t, what: str, min_n: int = 30) -> Note:
    return Note("SmallSampleWarning", t("cx_small_sample", min_n=min_n) + f" ({what})")



# --------------------------------------------------------------------------- registry
VIEWS: dict[str, tuple[int, Callable]] = {}
VIEW_MODULES = ("overview", "value", "voice", "text", "perception", "loyalty", "churn", "journeys", "lifecycle", "strategy",
                "loop")


def view(id: str, order: int):
    """Decorator: register the builder of view ``id`` (``order``: its place in the report)."""
    def deco(fn):
        VIEWS[id] = (order, fn)
        return fn
    return deco


def _import_views(only: str | None = None):
    """Import the view modules (each registers its builder; module name = view id)."""
    import importlib
    for m in VIEW_MODULES if only is None or only not in VIEW_MODULES else (only,):
        importlib.import_module(f"{__name__}.{m}")


def view_ids() -> list[str]:
    _import_views()
    return [k for k, _ in sorted(VIEWS.items(), key=lambda kv: kv[1][0])]


def build_view(id: str, session) -> View | None:
    """The view ``id`` on the session's store (None when its data are not in the store)."""
    _import_views(id)
    if id not in VIEWS:
        from ...errors import CxValueError
        raise CxValueError(f"unknown view {id!r}: expected one of {', '.join(view_ids())}")
    v = VIEWS[id][1](session)
    if v is not None:
        v.as_of = str(session.as_of) if session.as_of else None
        v.skipped = v.skipped or skipped_steps(session, id)
    return v


def build_views(session) -> list[View]:
    """Every view that has data, in report order; a domain whose steps were skipped but that
    has no data still appears, carrying the reasons."""
    out = []
    for id in view_ids():
        v = build_view(id, session)
        if v is None:
            skipped = skipped_steps(session, id)
            if skipped:
                v = View(id, _title(session, id), skipped=skipped, as_of=str(session.as_of) if session.as_of else None)
        if v is not None:
            out.append(v)
    return out


def _title(session, id: str) -> str:
    return session.t(f"view_{id}")


# --------------------------------------------------------------------------- helpers for builders
def step_notes(session, *steps: str) -> list[Note]:
    """The typed warnings the named steps raised in the last run (from ``run_log``)."""
    out = []
    for name in steps:
        o = session.outcomes().get(name)
        if o:
            out += [Note(w["category"], Note(w["category"], w["message"], w.get("key"), w.get("params")).text(session.lang))
                    for w in o["warnings"]]
    return out


def skipped_steps(session, domain: str) -> list[dict]:
    """[{"step", "reason"}] of the domain's steps skipped in the last run."""
    return [{"step": s, "reason": o["reason"]} for s, o in session.outcomes().items()
            if o.get("domain") == domain and o["status"] == "skipped"]


@contextmanager
def capture():
    """Record the typed warnings (:class:`~cxvalue.errors.CxValueWarning`) raised inside the
    block as :class:`Note` objects in the yielded list, for a view to carry them."""
    from ...errors import CxValueWarning
    from ...i18n import warning_key
    notes: list[Note] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CxValueWarning)
        try:
            yield notes
        finally:
            seen = set()
            for w in caught:
                key = (w.category.__name__, str(w.message))
                if issubclass(w.category, CxValueWarning) and key not in seen:
                    seen.add(key)
                    notes.append(Note(*key, *warning_key(w.message)))
                elif not issubclass(w.category, CxValueWarning):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


_SPECS = {"int": "{:,.0f}", "money": "{:,.0f}", "float1": "{:,.1f}", "float2": "{:,.2f}", "float3": "{:.3f}",
          "pct": "{:.0%}", "pct1": "{:.1%}", "points": "{:.1f}", "signed": "{:+.1f}"}


def fmt(value, format: str = "number", *, lang: str = "en", unit: str = "") -> str:
    """A number as people read it (the only place numbers become text)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if format == "date":
        return str(value)[:10]
    if format == "text" or isinstance(value, str):
        return str(value) + (f" {unit}" if unit and not isinstance(value, str) else "")
    if isinstance(value, bool):
        return str(value)
    v = float(value)
    if format in _SPECS:
        s = _SPECS[format].format(v)
    elif format == "p":
        s = f"{v:.3f}" if v >= 1e-3 else "< 0.001"     # APA style: a p-value is never printed as 0
    elif format == "pp":        # a difference of two shares, in percentage points
        s = f"{v * 100:+.1f} pp"
    else:
        s = f"{v:,.0f}" if abs(v) >= 1000 else (f"{v:.4g}" if v != int(v) else f"{v:.0f}")
    return s + (f" {unit}" if unit else "")
