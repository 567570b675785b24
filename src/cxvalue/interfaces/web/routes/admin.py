"""Administration (admins only): users and roles, every API token, the audit log, and the job
queue that runs the analyses on the store the app owns."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

from ....accounts import ROLES, AccountError
from ..auth import Who, guard, wants_json
from ..render import page

router = APIRouter(tags=["admin"], prefix="/admin")


def _users_page(request: Request, *, error: str = "", status: int = 200):
    web = request.app.state.web
    return page(request, "admin_users.html.j2", title="users", status=status, users=web.accounts.users(),
                roles=ROLES, tokens=web.accounts.tokens(), error=error)


@router.get("/users", summary="Users, roles and API tokens")
def users(request: Request, who: Who = Depends(guard("users"))):
    if wants_json(request):
        web = request.app.state.web
        return JSONResponse({"users": [u.__dict__ for u in web.accounts.users()],
                             "tokens": [{k: (str(v) if v is not None else None) for k, v in tk.items()}
                                        for tk in web.accounts.tokens()]})
    return _users_page(request)


@router.post("/users", summary="Add a user")
def add_user(request: Request, username: str = Form(...), role: str = Form(...), password: str = Form(...),
             lang: str = Form("en"), email: Optional[str] = Form(None), who: Who = Depends(guard("users"))):
    try:
        request.app.state.web.accounts.add_user(username, role, password, lang=lang, by=who.user.username,
                                                email=email or None)
    except AccountError as exc:
        return _users_page(request, error=str(exc), status=400)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}", summary="Change a user's role, active flag or password")
def update_user(request: Request, username: str, role: Optional[str] = Form(None),
                active: Optional[str] = Form(None), password: Optional[str] = Form(None),
                email: Optional[str] = Form(None), who: Who = Depends(guard("users"))):
    try:
        request.app.state.web.accounts.update_user(
            username, by=who.user.username, role=role or None, password=password or None, email=email,
            active=None if active in (None, "") else active in ("1", "true", "on", "yes"))
    except AccountError as exc:
        return _users_page(request, error=str(exc), status=400)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/audit", summary="The audit log (newest first)")
@router.get("/audit.json", summary="The audit log as JSON")
def audit(request: Request, limit: int = 200, who: Who = Depends(guard("users"))):
    df = request.app.state.web.accounts.audit_log(min(max(limit, 1), 5000))
    rows = [{k: (str(v) if v is not None else "") for k, v in r.items()} for r in df.to_dict("records")]
    if wants_json(request):
        return JSONResponse({"audit": rows})
    return page(request, "admin_audit.html.j2", title="audit", rows=rows)


@router.get("/jobs", summary="Analysis jobs run by the app on its store")
@router.get("/jobs.json", summary="Analysis jobs as JSON")
def jobs(request: Request, who: Who = Depends(guard("jobs"))):
    web = request.app.state.web
    if wants_json(request):
        return JSONResponse({"jobs": [j.to_dict() for j in reversed(web.jobs)], "busy": web.busy(),
                             "warming": web.warm_status()})
    from ....steps import import_steps, ordered
    import_steps()
    return page(request, "admin_jobs.html.j2", title="jobs", jobs=list(reversed(web.jobs)),
                steps=[s.name for s in ordered()], busy=web.busy(), warm=web.warm_status())


@router.post("/jobs", summary="Queue a run of the analyses (all steps, or the chosen ones)")
def start_job(request: Request, only: Optional[str] = Form(None), who: Who = Depends(guard("jobs"))):
    web = request.app.state.web
    from ....steps import import_steps, select
    import_steps()
    names = [s.strip() for s in (only or "").split(",") if s.strip()] or None
    if names:
        select(names)  # an unknown step is a 400 with the list of steps
    job = web.submit("run", who.user.username, names)
    if wants_json(request):
        return JSONResponse(job.to_dict(), status_code=202)
    return RedirectResponse("/admin/jobs", status_code=303)


@router.get("/jobs/{job_id}", summary="One job's progress (htmx fragment or JSON)")
def job_status(request: Request, job_id: str, who: Who = Depends(guard("jobs"))):
    job = request.app.state.web.job(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r}")
    if wants_json(request):
        return JSONResponse(job.to_dict())
    return page(request, "job_row.html.j2", title="job", job=job)
