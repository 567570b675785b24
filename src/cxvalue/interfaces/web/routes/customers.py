"""The customers behind a number (paged, sortable, exported to CSV or Excel) and the customer
360 page, with their JSON twins. Analysts and up; every export is audited."""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ....explore.drill import DRILL_DIMENSIONS, PAGE_SIZES, export_frame
from ....explore.filters import Filters
from ...views.customers import LIST_COLUMNS, customer_view, list_view
from ..auth import Who, client_ip, guard
from ..render import view_response
from .dashboards import filter_choices, filters

router = APIRouter(tags=["customers"])


def drill(value_tier: Optional[str] = None, stage: Optional[str] = Query(None, description="Lifecycle stage"),
          risk_decile: Optional[int] = Query(None, ge=1, le=10, description="Churn risk decile (10 = highest)"),
          loyalty_segment: Optional[str] = Query(None, description="Loyalty segment (true, latent, spurious, none)"),
          main_reason: Optional[str] = Query(None, description="Main churn-risk reason"),
          customer_segment: Optional[str] = Query(None, description="Customer segment")) -> dict:
    """The clicked dimension(s) narrowing the list."""
    given = dict(value_tier=value_tier, stage=stage, risk_decile=risk_decile, loyalty_segment=loyalty_segment,
                 main_reason=main_reason, customer_segment=customer_segment)
    return {k: v for k, v in given.items() if v not in (None, "") and k in DRILL_DIMENSIONS}


def _split(f: Filters, d: dict) -> tuple[Filters, dict]:
    """value_tier is both a global filter and a drill dimension: keep it once, as the filter."""
    d = dict(d)
    if "value_tier" in d:
        f = replace(f, value_tier=d.pop("value_tier"))
    return f, d


SORTS = tuple(k for k, _, _ in LIST_COLUMNS)


@router.get("/customers.json", summary="The customers behind a number, one page, as JSON")
@router.get("/customers", summary="The customers behind a number (HTML; paged and sortable)")
def customers_page(request: Request, f: Filters = Depends(filters), d: dict = Depends(drill),
                   sort: str = Query("clv", description=f"One of {', '.join(SORTS)}"),
                   desc: bool = Query(True, description="Sort descending"), page: int = Query(1, ge=1),
                   size: int = Query(50, description=f"One of {', '.join(map(str, PAGE_SIZES))}"),
                   who: Who = Depends(guard("customers"))):
    web = request.app.state.web
    f, d = _split(f, d)
    v = web.cached(("customers", who.user.lang, f, tuple(sorted(d.items())), sort, desc, page, size),
                   lambda: list_view(web.session(who.user.lang), f, d, sort=sort, descending=desc, page=page,
                                     size=size), private=who.masked)
    query = {**f.active(), **d}
    return view_response(request, v, "customers.html.j2", filters=f.active(), drill=d, query=query,
                         choices=filter_choices(request), sort=sort, desc=desc, sizes=PAGE_SIZES)


@router.get("/customers.csv", summary="Export the customer list (every matching customer) as CSV")
def export_csv(request: Request, f: Filters = Depends(filters), d: dict = Depends(drill),
               sort: str = "clv", desc: bool = True, who: Who = Depends(guard("export"))):
    from ....io.export import table_bytes
    df = _export(request, f, d, sort, desc, who, "csv")
    # BOM: Excel opens UTF-8 Chinese text correctly; formula-like cells neutralised
    return Response(table_bytes(df, "csv"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="cxvalue-customers.csv"'})


@router.get("/customers.xlsx", summary="Export the customer list (every matching customer) as Excel")
def export_xlsx(request: Request, f: Filters = Depends(filters), d: dict = Depends(drill),
                sort: str = "clv", desc: bool = True, who: Who = Depends(guard("export"))):
    from ....io.export import table_bytes
    df = _export(request, f, d, sort, desc, who, "xlsx")
    return Response(table_bytes(df, "xlsx", sheet="customers"), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             headers={"Content-Disposition": 'attachment; filename="cxvalue-customers.xlsx"'})


def _export(request, f, d, sort, desc, who: Who, kind: str):
    web = request.app.state.web
    f, d = _split(f, d)
    df = export_frame(web.con(), f, d, sort=sort if sort in SORTS else "clv", descending=desc)
    web.accounts.audit(who.user.username, "export", f"customers.{kind}",
                       f"{len(df)} rows; filters={f.active()}; drill={d}", client_ip(request))
    return df


@router.get("/customers/{customer_id}.json", summary="The customer 360 as JSON")
@router.get("/customers/{customer_id}", summary="The customer 360: profile, value, risk, stage, purchases, "
            "answers, complaints")
def customer_page(request: Request, customer_id: str, who: Who = Depends(guard("customers"))):
    web = request.app.state.web
    if request.url.path.endswith(".json") and customer_id.endswith(".json"):
        customer_id = customer_id[:-5]
    v = web.cached(("customer", who.user.lang, customer_id),
                   lambda: customer_view(web.session(who.user.lang), customer_id), private=who.masked)
    return view_response(request, v, "customer.html.j2")
