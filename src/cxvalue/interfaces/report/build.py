"""The self-contained HTML report (inline CSS and SVG: works offline, no CDN).

It renders the views (:mod:`cxvalue.interfaces.views`) — the same data the terminal and
``--json`` show — one ``<section>`` per view, one ``<div id=block>`` per block; it computes
nothing itself. ``write_views_json`` writes the same views as JSON.
"""
from __future__ import annotations

import json
from datetime import datetime
from html import escape
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from ...store import describe
from ..views import Chart, Kpis, Table, Text, View, build_views, fmt
from . import charts as C


def render_block(block, lang: str, seen: set | None = None, *, heading: bool = True) -> str:
    """One block as HTML (escaped; charts as inline SVG). ``seen``: warnings already shown in
    this view (each is shown once, on the first block that carries it); ``heading``: whether
    to show the block's title."""
    head = f"<h3>{escape(block.title)}</h3>" if block.title and heading else ""
    seen = set() if seen is None else seen
    fresh = [w for w in block.warnings if (w.category, w.message) not in seen]
    seen.update((w.category, w.message) for w in fresh)
    warn = "".join(f'<div class="warn">{escape(w.text(lang))}</div>' for w in fresh)
    if isinstance(block, Kpis):
        body = '<div class="kpis">' + "".join(
            f'<div class="kpi">{escape(k.label)}<b>{escape(fmt(k.value, k.format, lang=lang, unit=k.unit))}</b></div>'
            for k in block.items) + "</div>"
    elif isinstance(block, Table):
        body = table_html(block, lang)
    elif isinstance(block, Chart):
        body = chart_svg(block)
    elif isinstance(block, Text):
        body = f'<p class="{escape(block.tone)}">{escape(block.text)}</p>'
    else:
        body = ""
    return f'<div class="block" id="{escape(block.id)}">{head}{warn}{body}</div>'


def table_html(block: Table, lang: str) -> str:
    nums = {c.key for c in block.columns if c.format not in ("text", "date")}
    th = "".join(f'<th class="{"num" if c.key in nums else ""}">{escape(c.label)}</th>' for c in block.columns)
    body = "".join("<tr>" + "".join(
        f'<td class="{"num" if c.key in nums else ""}">{escape(fmt(r.get(c.key), c.format, lang=lang))}</td>'
        for c in block.columns) + "</tr>" for r in block.rows)
    note = f'<p class="muted">{escape(block.note)}</p>' if block.note else ""
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>{note}"


def chart_svg(block: Chart) -> str:
    """The SVG of a chart block. Axis titles come from the block's data (``x_label``,
    ``y_label``); a bar chart without one titles its value axis with the chart's title."""
    d, kind = dict(block.data), block.chart
    value_fmt = (lambda v: fmt(v, block.value_format)) if block.value_format not in ("number", "money") else None
    xl, yl = d.get("x_label", ""), d.get("y_label", "")
    if kind == "line":
        bands = {k: tuple(v) for k, v in (d.get("bands") or {}).items()} or None
        shares = (lambda v: fmt(v, "pct")) if block.value_format in ("pct", "pct1") else None   # axis of shares in %
        return C.line_chart(d["x"], d["series"], bands=bands, y_label=yl or block.title, x_label=xl, title=block.title,
                            tick_fmt=shares)
    if kind == "bar":
        return C.bar_chart(d["labels"], d["values"], title=block.title, value_fmt=value_fmt, x_label=xl or block.title,
                           ns=d.get("ns"))
    if kind == "stacked_bar":
        return C.stacked_bar_chart(d["labels"], d["series"], line=d.get("line"), title=block.title, x_label=xl,
                                   y_label=yl or block.title)
    if kind == "histogram":
        labels = [C._fmt(e) for e in d["edges"][:-1]]
        return C.stacked_bar_chart(labels, {block.title or "count": [float(c) for c in d["counts"]]}, title=block.title,
                                   x_label=xl or block.title, y_label=yl)
    if kind == "interval_bar":
        return C.interval_bar_chart(d["labels"], d["values"], d.get("lows"), d.get("highs"), title=block.title,
                                    marks=d.get("marks"), value_fmt=value_fmt, x_label=xl or block.title, ns=d.get("ns"))
    if kind == "quadrant":
        return C.quadrant_chart(d["labels"], d["x"], d["y"], x_cut=d["x_cut"], y_cut=d["y_cut"],
                                quadrant_names=d.get("quadrant_names"), x_label=xl, y_label=yl, title=block.title,
                                x_range=d.get("x_range"), y_range=d.get("y_range"),
                                highlight=d.get("highlight", "top_left"))
    if kind == "path":
        return C.path_diagram([tuple(n) for n in d["nodes"]], [tuple(e) for e in d["edges"]], title=block.title)
    if kind == "step":
        curves = {k: tuple(v) for k, v in d["curves"].items()}
        bands = {k: tuple(v) for k, v in (d.get("bands") or {}).items()} or None
        return C.step_chart(curves, bands=bands, x_label=xl, y_label=yl or block.title,
                            y_max=d.get("y_max", 1.0), marks=d.get("marks"), title=block.title)
    if kind == "stacked_area":
        return C.stacked_area_chart(d["x"], d["series"], share=d.get("share", False), title=block.title, x_label=xl,
                                    y_label=yl or block.title)
    raise ValueError(f"chart {kind!r} is not a known chart type")


def render_view(view: View, lang: str, t) -> str:
    parts = [f'<div class="warn">{escape(w.text(lang))}</div>' for w in view.warnings]
    parts += [f'<div class="warn">{escape(t("step_skipped", step=s["step"], reason=s["reason"]))}</div>'
              for s in view.skipped]
    seen = {(w.category, w.message) for w in view.warnings}
    previous = view.title
    for b in view.blocks:  # a block titled like the view or the block above it gets no second heading
        parts.append(render_block(b, lang, seen, heading=b.title != previous))
        previous = b.title or previous
    return "".join(parts)


def build_report(session, out: str | Path, views: list[View] | None = None) -> Path:
    """Render every view of the session's store (or ``views``) into one HTML file at ``out``."""
    views = build_views(session) if views is None else views
    html = render_html(session, views)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def render_html(session, views: list[View]) -> str:
    t = session.t
    env = Environment(loader=PackageLoader("cxvalue", "interfaces/report/templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    sections = [{"id": v.id, "title": v.title, "html": render_view(v, session.lang, t)} for v in views]
    as_of = t("as_of_note", as_of=session.as_of) if session.as_of else ""
    return env.get_template("report.html.j2").render(
        lang=session.lang, t=t, sections=sections, as_of=as_of,
        generated=t("generated_at", when=datetime.now().strftime("%Y-%m-%d %H:%M"), store=describe(session.con)))


def views_json(session, views: list[View] | None = None) -> dict:
    """Every view as one JSON-ready document."""
    views = build_views(session) if views is None else views
    return {"as_of": str(session.as_of) if session.as_of else None, "as_of_source": session.as_of_source,
            "lang": session.lang, "store": describe(session.con), "views": [v.to_dict() for v in views]}


def write_views_json(session, out: str | Path, views: list[View] | None = None) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(views_json(session, views), ensure_ascii=False, indent=2), encoding="utf-8")
    return out
