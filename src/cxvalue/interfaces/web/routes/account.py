"""The signed-in user's own settings: language, password, personal API tokens."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from ....accounts import AccountError
from ....i18n import t as translate
from ..auth import Who, guard
from ..render import page

router = APIRouter(tags=["account"])


def _account_page(request: Request, who: Who, *, new_token: str = "", error: str = "", ok: str = "", status=200):
    web = request.app.state.web
    return page(request, "account.html.j2", title=who.user.username, status=status,
                tokens=web.accounts.tokens(who.user.username), new_token=new_token, error=error, ok=ok)


@router.get("/account", summary="Your language, password and API tokens")
def account(request: Request, who: Who = Depends(guard("dashboards"))):
    return _account_page(request, who)


def _back(request: Request) -> str:
    ref = request.headers.get("referer", "")
    host = request.headers.get("host", "")
    if host and f"//{host}/" in ref:
        return "/" + ref.split(f"//{host}/", 1)[1]
    return "/account"


@router.post("/account/lang", summary="Set your language (en or zh)")
def set_lang(request: Request, lang: str = Form(...), who: Who = Depends(guard("dashboards"))):
    request.app.state.web.accounts.update_user(who.user.username, by=who.user.username, lang=lang)
    return RedirectResponse(_back(request), status_code=303)


@router.post("/account/password", summary="Change your password (ends your other sessions)")
def set_password(request: Request, current: str = Form(...), new: str = Form(...),
                 who: Who = Depends(guard("dashboards"))):
    web = request.app.state.web
    if web.accounts.authenticate(who.user.username, current) is None:
        return _account_page(request, who, error=translate("web_password_wrong", who.user.lang), status=400)
    try:
        web.accounts.update_user(who.user.username, by=who.user.username, password=new)
    except AccountError as exc:
        return _account_page(request, who, error=str(exc), status=400)
    return RedirectResponse("/login", status_code=303)


@router.post("/account/tokens", summary="Create a personal API token (shown once)")
def create_token(request: Request, label: str = Form("api"), who: Who = Depends(guard("dashboards"))):
    token = request.app.state.web.accounts.create_token(who.user, label)
    return _account_page(request, who, new_token=token)


@router.post("/account/tokens/{token_id}/revoke", summary="Revoke an API token (yours; admins: anyone's)")
def revoke_token(request: Request, token_id: str, who: Who = Depends(guard("dashboards"))):
    web = request.app.state.web
    try:
        web.accounts.revoke_token(token_id, by=who.user)
    except AccountError as exc:
        return _account_page(request, who, error=str(exc), status=400)
    return RedirectResponse(_back(request), status_code=303)
