"""HTML and JSON responses of the web app: Jinja2 templates (autoescaped) rendering views, chart
specs for ECharts (with the report's inline SVG as the no-script fallback), and the JSON twin of
every page."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ...i18n import t as translate
from ..report.build import chart_svg
from ..views import Chart, Kpis, Table, Text, View, _clean, fmt
from .auth import wants_json

ENV = Environment(loader=PackageLoader("cxvalue", "interfaces/web/templates"),
                  autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)

#: the navigation: (view id, route) in menu order
NAV = (("overview", "/dashboards/overview"), ("value", "/dashboards/value"), ("voice", "/dashboards/voice"),
       ("text", "/dashboards/text"),
       ("perception", "/dashboards/perception"), ("loyalty", "/dashboards/loyalty"),
       ("churn", "/dashboards/churn"), ("journeys", "/dashboards/journeys"), ("lifecycle", "/dashboards/lifecycle"), ("strategy", "/dashboards/strategy"),
       ("loop", "/dashboards/loop"))


def qs(base: dict, **extra) -> str:
    """A query string of ``base`` updated with ``extra`` (booleans as true/false)."""
    merged = {**base, **extra}
    return urlencode({k: (str(v).lower() if isinstance(v, bool) else v) for k, v in merged.items() if v is not None})


def script_json(obj) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` break-out)."""
    s = json.dumps(_clean(obj), ensure_ascii=False)
    return Markup(s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def chart_spec(block: Chart, filters: dict) -> dict:
    """The ECharts spec of a chart block; ``links``: the customer list behind each bar."""
    data = dict(block.data)
    drill = data.pop("drill", None)
    links = None
    if drill:
        links = ["/customers?" + urlencode({**filters, drill["param"]: v}) for v in drill["values"]]
    return {"chart": block.chart, "title": block.title, "value_format": block.value_format, "data": data,
            "links": links}


def chart_fallback(block: Chart) -> Markup:
    try:
        return Markup(chart_svg(block))  # the report's SVG: built from escaped strings
    except (KeyError, ValueError, TypeError):
        return Markup("")


def block_kind(block) -> str:
    return "kpis" if isinstance(block, Kpis) else "table" if isinstance(block, Table) else \
        "chart" if isinstance(block, Chart) else "text" if isinstance(block, Text) else "block"


def page(request: Request, template: str, *, title: str, status: int = 200, lang: str | None = None,
         **ctx) -> HTMLResponse:
    """Render ``template`` with the common context (user, language, CSRF token, navigation);
    the language is the user's, else ``lang``, else the ``lang`` setting."""
    who = getattr(request.state, "who", None)
    lang = who.user.lang if who else (lang if lang in ("en", "zh") else request.app.state.web.settings.get("lang", "en"))

    def t(key, **kw):
        return translate(key, lang, **kw)
    html = ENV.get_template(template).render(
        request=request, who=who, lang=lang, t=t, fmt=lambda v, f="number", unit="": fmt(v, f, lang=lang, unit=unit),
        title=title, nav=NAV, path=request.url.path, csrf=(who.csrf if who else None), block_kind=block_kind,
        chart_spec=chart_spec, chart_fallback=chart_fallback, script_json=script_json, urlencode=urlencode, qs=qs,
        **ctx)
    return HTMLResponse(html, status_code=status)


def view_response(request: Request, view: View | None, template: str = "dashboard.html.j2", **ctx):
    """A view as HTML, or as JSON for ``.json`` URLs, ``Accept: application/json`` and API tokens."""
    if wants_json(request):
        if view is None:
            return JSONResponse({"detail": "no data for this page yet"}, status_code=404)
        return JSONResponse(view.to_dict())
    return page(request, template, title=view.title if view else ctx.pop("empty_title", ""), view=view, **ctx)
