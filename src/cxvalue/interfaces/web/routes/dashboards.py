"""Dashboards: one page per view of the report (overview, value, voice, perception, loyalty,
churn, lifecycle), each opened by the "customers in this view" section that honours the global
filters, and its JSON twin."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

from ....explore.filters import Filters, choices
from ....i18n import t as translate
from ...views import build_view, view_ids
from ...views.customers import mask
from ....explore.slices import slice_summary
from ...views.slices import SLICED, dashboard
from ..auth import Who, guard
from ..render import view_response

router = APIRouter(tags=["dashboards"])


def filters(date_from: Optional[str] = Query(None, description="Period start, YYYY-MM-DD"),
            date_to: Optional[str] = Query(None, description="Period end (inclusive), YYYY-MM-DD"),
            value_tier: Optional[str] = Query(None, description="Value tier (platinum, gold, iron, lead)"),
            segment: Optional[str] = Query(None, description="Customer segment"),
            channel: Optional[str] = Query(None, description="Channel of purchases and answers"),
            touchpoint: Optional[str] = Query(None, description="Survey touchpoint"),
            product: Optional[str] = Query(None, description="Product / route")) -> Filters:
    """The global filters from the query string (empty = no filter)."""
    return Filters.parse(dict(date_from=date_from, date_to=date_to, value_tier=value_tier, segment=segment,
                              channel=channel, touchpoint=touchpoint, product=product))


def filter_choices(request: Request) -> dict:
    return cached_choices(request.app.state.web)


def cached_choices(web) -> dict:
    """The values of each filter dimension (:func:`cxvalue.explore.filters.choices`), once per store generation."""
    return web.cached(("choices",), lambda: choices(web.con()))


def dashboard_view(request: Request, view_id: str, f: Filters, who: Who):
    web = request.app.state.web
    if view_id not in view_ids():
        raise HTTPException(404, f"no dashboard {view_id!r}: expected one of {', '.join(view_ids())}")
    v = cached_dashboard(web, view_id, who.user.lang, f, private=who.masked)
    if v is not None and who.masked:
        mask(v)
    return v


def cached_dashboard(web, view_id: str, lang: str, f: Filters, *, private: bool = False):
    """Dashboard ``view_id`` from the cache (built once per store generation): the report's view
    per language, the filtered numbers once for both languages."""
    def build():
        sess = web.session(lang)
        base = web.cached(("view", view_id, lang), lambda: build_view(view_id, sess))
        summary = web.cached(("slice", view_id, f), lambda: slice_summary(sess.con, view_id, f)) \
            if view_id in SLICED else None
        return dashboard(sess, view_id, f, base, summary)
    return web.cached(("dashboard", view_id, lang, f), build, private=private)


#: filter dimensions whose every value is prebuilt by :func:`warm_dashboards` (at most this many values)
WARM_MAX_VALUES = 12


def warm_dashboards(web) -> None:
    """Fill the cache: every dashboard in both languages, unfiltered and filtered by each value
    of each dimension with at most ``WARM_MAX_VALUES`` values (others are computed on request)."""
    from ....i18n import LANGS
    opts = cached_choices(web)
    singles = [Filters()] + [Filters(**{dim: v}) for dim, vals in opts.items() if len(vals) <= WARM_MAX_VALUES
                             for v in vals]
    web.warming = {"done": 0, "total": len(singles) * len(view_ids()) * len(LANGS)}
    for f in singles:
        for view_id in view_ids():
            for lang in LANGS:
                if web.stopping.is_set():  # the server is shutting down
                    return
                cached_dashboard(web, view_id, lang, f)
                web.warming["done"] += 1


@router.get("/", include_in_schema=False)
def home(who: Who = Depends(guard("dashboards"))):
    return RedirectResponse("/dashboards/overview", status_code=303)


@router.get("/dashboards/{view_id}.json", summary="A dashboard as JSON (the view: blocks with numbers, "
            "chart data and typed warnings)")
def dashboard_json(request: Request, view_id: str, f: Filters = Depends(filters),
                   who: Who = Depends(guard("dashboards"))):
    return view_response(request, dashboard_view(request, view_id, f, who))


@router.get("/dashboards/{view_id}", summary="A dashboard (HTML; JSON with Accept: application/json)")
def dashboard_page(request: Request, view_id: str, f: Filters = Depends(filters),
                   who: Who = Depends(guard("dashboards"))):
    v = dashboard_view(request, view_id, f, who)
    return view_response(request, v, view_id=view_id, filters=f.active(), choices=filter_choices(request),
                         empty_title=translate(f"view_{view_id}", who.user.lang))
