"""The self-contained HTML report (inline CSS and SVG: works offline, no CDN).

The report is a list of sections; each capability registers a function
``section(con, lang, settings) -> Section | None`` with :func:`register` (return None
when its data or results are not in the store). Interfaces add no analytics: sections
read tables and call library functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from jinja2 import Environment, PackageLoader, select_autoescape

from ..i18n import t


@dataclass
class Section:
    id: str
    title: str
    html: str
    warnings: tuple[str, ...] = ()


SECTIONS: list[tuple[int, Callable]] = []


def register(order: int):
    """Decorator: add a section builder at position ``order`` (lower first)."""
    def deco(fn):
        SECTIONS.append((order, fn))
        SECTIONS.sort(key=lambda p: p[0])
        return fn
    return deco


def build_report(con, out: str | Path, *, lang: str = "en", settings: dict | None = None) -> Path:
    """Render every available section into one HTML file at ``out`` and return its path."""
    from . import sections  # noqa: F401  (registers the built-in sections)
    from ..plugins import import_all
    import_all("sections")
    from ..store import describe
    settings = settings or {}
    built = [s for _, fn in SECTIONS if (s := fn(con, lang, settings)) is not None]
    env = Environment(loader=PackageLoader("cxvalue", "report/templates"), autoescape=select_autoescape(["html"]))
    html = env.get_template("report.html.j2").render(
        lang=lang, t=lambda k, **kw: t(k, lang, **kw), sections=built,
        generated=t("generated_at", lang, when=datetime.now().strftime("%Y-%m-%d %H:%M"), store=describe(con)))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
