"""The closed loop in the workplace: the case queue (yours, your team's, everyone's for managers)
with SLA countdown, the case page beside the customer 360 with the actions its status allows,
and bulk assignment for managers. Every change is an event; a stale form is a 409 conflict."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

from ....loop.cases import ACTIONS, STATUSES, CaseConflict, CaseError, change, get_case
from ....loop.notify import notice, send
from ....loop.taxonomy import load_taxonomy
from ...views.cases import case_view, cases_view
from ..auth import Who, client_ip, guard, wants_json
from ..render import page, view_response

router = APIRouter(tags=["cases"])


def _notify(web, who: Who, notices: list[dict]) -> None:
    """Send the notices; an undelivered one is written to the audit (the change itself stands)."""
    import warnings
    from ....errors import NotificationWarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NotificationWarning)
        send(web.settings, notices, emails=web.accounts.emails())
    for w in caught:
        if issubclass(w.category, NotificationWarning):
            web.accounts.audit(who.user.username, "notify_failed", "", str(w.message))


@router.get("/cases.json", summary="The case queue as JSON")
@router.get("/cases", summary="The case queue: yours, a team's, or by status, with SLA countdown")
def queue(request: Request, status: Optional[str] = None, owner: Optional[str] = None, team: Optional[str] = None,
          mine: bool = False, offset: int = 0, who: Who = Depends(guard("cases"))):
    web = request.app.state.web
    if status and status not in STATUSES + ("all",):
        raise HTTPException(400, f"status {status!r}: expected all or one of {', '.join(STATUSES)}")
    owner = who.user.username if mine else owner
    v = cases_view(web.session(who.user.lang), status=status or None, owner=owner or None, team=team or None,
                   offset=offset)
    if wants_json(request):
        return JSONResponse(v.to_dict())
    here = {"status": status or None, "owner": None if mine else owner or None, "team": team or None,
            "mine": mine or None}
    return page(request, "cases.html.j2", title=v.title, view=v, statuses=STATUSES, case_status=status, owner=owner,
                team=team, mine=mine, can_assign=who.user.can("assign"), here=here)


def _dashboard(request: Request, who: Who, build, view_id: str):
    """A closed-loop view (``build(session)``) on the dashboard page, or as JSON."""
    v = build(request.app.state.web.session(who.user.lang))
    return view_response(request, v, "dashboard.html.j2", filters={}, choices={}, view_id=view_id)


@router.get("/cases/kpis.json", summary="Closed-loop KPIs as JSON")
@router.get("/cases/kpis", summary="Closed-loop KPIs: response and resolution times, SLA attainment, reopen rate, "
            "root-cause Pareto, cases per 1,000 customers by touchpoint")
def kpis(request: Request, who: Who = Depends(guard("cases"))):
    from ...views.cases import kpis_view
    return _dashboard(request, who, kpis_view, "case_kpis")


@router.get("/cases/outcomes.json", summary="Did following up work, as JSON")
@router.get("/cases/outcomes", summary="Did following up work: worked cases against the random hold-out on "
            "retention, NPS change and spend, with intervals")
def outcomes(request: Request, who: Who = Depends(guard("dashboards"))):
    from ...views.loop import outcomes_view
    return _dashboard(request, who, outcomes_view, "case_outcomes")


@router.get("/cases/{case_id}.json", summary="One case with its history, as JSON")
@router.get("/cases/{case_id}", summary="One case: state, history, the actions it allows, the customer beside it")
def case_page(request: Request, case_id: str, who: Who = Depends(guard("cases"))):
    web = request.app.state.web
    case_id = case_id[:-5] if case_id.endswith(".json") else case_id
    sess = web.session(who.user.lang)
    try:
        v = case_view(sess, case_id)
    except CaseError as exc:
        raise HTTPException(404, str(exc)) from None
    if wants_json(request):
        return JSONResponse(v.to_dict())
    customer = None
    if who.user.can("customers"):
        from ...views.customers import customer_view
        cid = v.meta["case"]["customer_id"]
        try:
            customer = web.cached(("customer", who.user.lang, cid), lambda: customer_view(sess, cid))
        except Exception:  # a case may name a customer the store does not know (yet)
            customer = None
    return view_response(request, v, "case.html.j2", customer=customer,
                         taxonomy=load_taxonomy(web.settings.get("root_causes")))


@router.post("/cases/{case_id}/{action}", summary="Apply an action to a case (start, escalate, resolve, close, "
             "reopen, assign, note); `version` is the version the form showed")
def act(request: Request, case_id: str, action: str, version: int = Form(...), comment: str = Form(""),
        owner: Optional[str] = Form(None), team: Optional[str] = Form(None), root_cause: Optional[str] = Form(None),
        corrective_action: Optional[str] = Form(None), outcome: Optional[str] = Form(None),
        who: Who = Depends(guard("cases"))):
    web = request.app.state.web
    if action not in ACTIONS:
        raise HTTPException(404, f"no action {action!r}: expected one of {', '.join(ACTIONS)}")
    if action == "assign" and not who.user.can("assign") and (owner or "") != who.user.username:
        raise HTTPException(403, "only managers assign cases to others; you may take a case yourself")
    try:
        c = change(web.con(), case_id, action, by=who.user.username, version=version, comment=comment, owner=owner,
                   team=team, root_cause=root_cause, corrective_action=corrective_action, outcome=outcome,
                   root_causes=web.settings.get("root_causes"))
    except CaseConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except CaseError as exc:
        raise HTTPException(400, str(exc)) from None
    web.accounts.audit(who.user.username, f"case_{action}", case_id, f"version {c.version}", client_ip(request))
    if action in ("assign", "escalate"):
        _notify(web, who, [notice("assigned" if action == "assign" else "escalated", c, by=who.user.username,
                                  comment=comment)])
    if wants_json(request):
        return JSONResponse(get_case(web.con(), case_id).to_dict())
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/assign", summary="Assign several cases at once (managers)")
async def bulk_assign(request: Request, who: Who = Depends(guard("assign"))):
    form = await request.form()
    ids = [v for v in form.getlist("case_id") if v]
    owner, team, comment = form.get("owner") or None, form.get("team") or None, form.get("comment") or ""
    if not ids:
        raise HTTPException(400, "choose at least one case")
    web = request.app.state.web
    done, failed = [], []
    notices = []
    for cid in ids:
        try:
            c = get_case(web.con(), cid)
            c = change(web.con(), cid, "assign", by=who.user.username, version=c.version, comment=comment, owner=owner,
                       team=team)
            done.append(cid)
            notices.append(notice("assigned", c, by=who.user.username, comment=comment))
        except CaseError as exc:
            failed.append(f"{cid}: {exc}")
    _notify(web, who, notices)
    web.accounts.audit(who.user.username, "case_bulk_assign", ",".join(done), f"owner={owner} team={team}",
                       client_ip(request))
    if failed and not done:
        raise HTTPException(400, "; ".join(failed))
    if wants_json(request):
        return JSONResponse({"assigned": done, "failed": failed})
    return RedirectResponse("/cases", status_code=303)
