"""Sign-in and sign-out. The sign-in form carries a login CSRF token (double-submit cookie);
failures are rate-limited per user name and per client address and written to the audit."""
from __future__ import annotations

import secrets
from functools import partial
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from ....i18n import t as translate
from ..auth import LOGIN_COOKIE, SESSION_COOKIE, RateLimit, client_ip, guard, identify, secure_cookies
from ..render import page

router = APIRouter(tags=["session"])


def _limit(request: Request) -> RateLimit:
    app = request.app
    if app.state.login_limit is None:
        s = app.state.web.settings
        app.state.login_limit = RateLimit(int(s["web_login_attempts"]), 60.0 * int(s["web_login_window_minutes"]))
    return app.state.login_limit


def _safe_next(nxt: str | None) -> str:
    """Only a local path: never redirect off-site after sign-in."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or urlsplit(nxt).netloc:
        return "/"
    return nxt


def _login_page(request: Request, *, error: str = "", status: int = 200, nxt: str = "/", lang: str | None = None):
    token = secrets.token_urlsafe(24)
    web = request.app.state.web
    resp = page(request, "login.html.j2", title="cxvalue", status=status, error=error, login_csrf=token,
                next=_safe_next(nxt), no_admin=not web.accounts.has_admin(), lang=lang)
    resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="lax", max_age=1800,
                    secure=secure_cookies(request, web.settings["web_secure_cookies"]))
    return resp


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/", lang: str | None = None):
    if identify(request):
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, nxt=next, lang=lang)


@router.post("/login", include_in_schema=False)
def login(request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/")):
    web = request.app.state.web
    t = partial(translate, lang=web.settings.get("lang", "en"))
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf_token):
        return _login_page(request, error=t("web_login_expired"), status=403, nxt=next)
    ip, limit = client_ip(request), _limit(request)
    keys = (f"user:{username.lower()}", f"ip:{ip}")
    wait = limit.blocked(*keys)
    if wait:
        web.accounts.audit(username, "login_refused", "", "rate limited", ip)
        resp = _login_page(request, error=t("web_login_limited", minutes=int(wait // 60) + 1), status=429, nxt=next)
        resp.headers["Retry-After"] = str(int(wait) + 1)
        return resp
    user = web.accounts.authenticate(username, password)
    if user is None:
        limit.fail(*keys)
        web.accounts.audit(username, "login_failed", "", "", ip)
        return _login_page(request, error=t("web_login_failed"), status=401, nxt=next)
    limit.clear(keys[0])
    token, _ = web.accounts.open_session(user, ip=ip)
    web.accounts.audit(user.username, "login", "", "", ip)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                    max_age=3600 * int(web.settings["web_session_hours"]),
                    secure=secure_cookies(request, web.settings["web_secure_cookies"]))
    resp.delete_cookie(LOGIN_COOKIE)
    return resp


@router.post("/logout", summary="Sign out (ends the session)")
def logout(request: Request, who=Depends(guard("dashboards"))):
    web = request.app.state.web
    web.accounts.close_session(request.cookies.get(SESSION_COOKIE))
    web.accounts.audit(who.user.username, "logout", "", "", client_ip(request))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
