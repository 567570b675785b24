"""Improvement initiatives (H2) in the workplace: the list with the suggested initiatives and a
form to create one (analysts, managers, admins), and the initiative page with its KPI before vs
after the start date, the difference-in-differences against untouched segments, its history
and a form per allowed change. Every change is an event; a stale form is a 409 conflict."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

from ....loop.initiatives import (ACTIONS, SCOPE_DIMENSIONS, STATUSES, InitiativeConflict, InitiativeError,
                                  change, create_initiative, get_initiative)
from ...views.initiatives import completion_result, dim_label, initiative_view, initiatives_view, suggestions_view
from ..auth import Who, client_ip, guard, wants_json
from ..render import page

router = APIRouter(tags=["initiatives"])

#: what the owner of an initiative may do to it without the "initiatives" permission (with "cases")
OWNER_ACTIONS = ("start", "complete", "note")


def _choices(web, t) -> dict:
    """Choices of the create form: origins (dimensions with their labels, root causes), KPIs and
    scope values of this store."""
    from ....loop.initiatives import survey_dimensions
    from ....loop.taxonomy import load_taxonomy
    from .dashboards import cached_choices
    con = web.con()
    dims = survey_dimensions(con)
    tax = load_taxonomy(web.settings.get("root_causes"))
    kpis = ["nps", "satisfaction"] + [f"{m}_{d}" for d in dims for m in ("experience", "satisfaction", "gap")] \
        + [f"case_rate:{c['code']}" for c in tax] + ["complaint_rate"]
    return {"dimensions": [(d, dim_label(t, d)) for d in dims], "taxonomy": tax, "kpis": kpis,
            "scope": {d: v for d, v in cached_choices(web).items() if d in SCOPE_DIMENSIONS}}


def _suggestions(web, sess):
    """The suggestions, built once per store generation and state of the case and initiative
    ledgers (they read the root causes of the cases and name the open initiatives)."""
    from ....store import has_table
    con = web.con()
    sizes = tuple(int(con.table(n).count().execute()) if has_table(con, n) else 0
                  for n in ("case_events", "initiative_events"))
    return web.cached(("initiative_suggestions", sess.lang, sizes), lambda: suggestions_view(sess))


@router.get("/initiatives.json", summary="The initiatives and the suggested ones, as JSON")
@router.get("/initiatives", summary="Improvement initiatives: the list, suggestions from the gaps and root causes, "
            "and a form to create one")
def index(request: Request, status: Optional[str] = None, owner: Optional[str] = None,
          who: Who = Depends(guard("dashboards"))):
    web = request.app.state.web
    if status and status not in STATUSES:
        raise HTTPException(400, f"status {status!r}: expected one of {', '.join(STATUSES)}")
    sess = web.session(who.user.lang)
    v = initiatives_view(sess, status=status, owner=owner or None)
    v.blocks = v.blocks + _suggestions(web, sess).blocks
    if wants_json(request):
        return JSONResponse(v.to_dict())
    q = request.query_params
    prefill = {k: q.get(k, "") for k in ("title", "origin", "kpi", "target_value")}
    return page(request, "initiatives.html.j2", title=v.title, view=v, statuses=STATUSES, ini_status=status,
                owner=owner, can_create=who.user.can("initiatives"),
                choices=_choices(web, sess.t) if who.user.can("initiatives") else None, prefill=prefill)


@router.post("/initiatives", summary="Create an initiative (analysts, managers, admins)")
def create(request: Request, title: str = Form(""), origin: str = Form(""), owner: str = Form(""),
           start_date: str = Form(""), kpi: Optional[str] = Form(None), target_value: Optional[str] = Form(None),
           scope: Optional[str] = Form(None), scope_touchpoint: Optional[str] = Form(None),
           scope_channel: Optional[str] = Form(None), scope_product: Optional[str] = Form(None),
           scope_segment: Optional[str] = Form(None), scope_value_tier: Optional[str] = Form(None),
           comment: Optional[str] = Form(None), who: Who = Depends(guard("initiatives"))):
    web = request.app.state.web
    picked = {d: v for d, v in (("touchpoint", scope_touchpoint), ("channel", scope_channel),
                                ("product", scope_product), ("segment", scope_segment),
                                ("value_tier", scope_value_tier)) if v}
    try:
        from ....loop.initiatives import parse_scope
        sc = {**parse_scope(scope), **picked}
        ini = create_initiative(web.con(), title=title, origin=origin, owner=owner, start_date=start_date,
                                kpi=kpi or None, target_value=target_value, scope=sc, comment=comment,
                                by=who.user.username, taxonomy=web.settings.get("root_causes"))
    except InitiativeError as exc:
        raise HTTPException(400, str(exc)) from None
    web.accounts.audit(who.user.username, "initiative_create", ini.initiative_id, f"{ini.origin_kind}:{ini.origin}",
                       client_ip(request))
    if wants_json(request):
        return JSONResponse(ini.to_dict(), status_code=201)
    return RedirectResponse(f"/initiatives/{ini.initiative_id}", status_code=303)


@router.get("/initiatives/{initiative_id}", summary="One initiative (a `.json` suffix gives its JSON twin): its KPI "
            "before vs after the start date with an interval, the difference-in-differences against the untouched "
            "segments, its history; query: before_days, after_days or before_wave and after_wave, method "
            "(welch or bootstrap)")
def detail(request: Request, initiative_id: str, before_days: int = 90, after_days: int = 90,
           before_wave: Optional[str] = None, after_wave: Optional[str] = None, method: str = "welch",
           who: Who = Depends(guard("dashboards"))):
    web = request.app.state.web
    iid = initiative_id[:-5] if initiative_id.endswith(".json") else initiative_id
    sess = web.session(who.user.lang)
    try:
        v = initiative_view(sess, iid, before_days=before_days, after_days=after_days, before_wave=before_wave or None,
                            after_wave=after_wave or None, method=method)
    except InitiativeError as exc:
        raise HTTPException(404, str(exc)) from None
    if wants_json(request):
        return JSONResponse(v.to_dict())
    ini = v.meta["initiative"]
    allowed = [a for a in v.meta["allowed"] if _may(who, ini, a)]
    return page(request, "initiative.html.j2", title=v.title, view=v, allowed=allowed,
                params={"before_days": before_days, "after_days": after_days, "before_wave": before_wave or "",
                        "after_wave": after_wave or "", "method": method})


def _may(who: Who, ini: dict, action: str) -> bool:
    """Analysts, managers and admins change any initiative; a case owner may start, complete or
    annotate the initiatives they own."""
    if who.user.can("initiatives"):
        return True
    return who.user.can("cases") and ini.get("owner") == who.user.username and action in OWNER_ACTIONS


@router.post("/initiatives/{initiative_id}", summary="Change an initiative: `action` start, complete (records the "
             "re-measurement), cancel, assign (owner), edit (target_value, start_date) or note; `version` is the "
             "version the form showed")
def update(request: Request, initiative_id: str, action: str = Form(...), version: int = Form(...),
           comment: str = Form(""), owner: Optional[str] = Form(None), target_value: Optional[str] = Form(None),
           start_date: Optional[str] = Form(None), who: Who = Depends(guard("dashboards"))):
    web = request.app.state.web
    if action not in ACTIONS:
        raise HTTPException(400, f"action {action!r}: expected one of {', '.join(ACTIONS)}")
    try:
        ini = get_initiative(web.con(), initiative_id)
    except InitiativeError as exc:
        raise HTTPException(404, str(exc)) from None
    if not _may(who, ini.to_dict(), action):
        raise HTTPException(403, f"your role ({who.user.role}) may not {action} this initiative: analysts, managers "
                                 "and admins change initiatives; their owner may start, complete or annotate them")
    result = None
    if action == "complete" and int(version) == ini.version:
        result, _ = completion_result(web.session(who.user.lang), initiative_id)
    try:
        out = change(web.con(), initiative_id, action, by=who.user.username, version=version, comment=comment,
                     owner=owner or None, target_value=target_value or None, start_date=start_date or None,
                     result=result)
    except InitiativeConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except InitiativeError as exc:
        raise HTTPException(400, str(exc)) from None
    web.accounts.audit(who.user.username, f"initiative_{action}", initiative_id, f"version {out.version}",
                       client_ip(request))
    if wants_json(request):
        return JSONResponse(out.to_dict())
    return RedirectResponse(f"/initiatives/{initiative_id}", status_code=303)
