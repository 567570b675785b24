"""Who is asking, and may they: sessions (cookie) and personal API tokens (``Authorization:
Bearer``), the permission guard every route declares, CSRF on every state change, and the
sign-in rate limit.

A route declares its permission with ``Depends(guard("customers"))``; the guard resolves the
user (401 / redirect to the sign-in page without one), checks the role's permission (403)
and, for a state-changing request authenticated by cookie, the CSRF token (403). Requests
with an API token carry no cookie, so they need no CSRF token.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from fastapi import HTTPException, Request

from ...accounts import User

SESSION_COOKIE = "cxv_session"
LOGIN_COOKIE = "cxv_login"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Who:
    user: User
    csrf: str | None        # None when authenticated by API token
    via: str                # "session" | "token"

    @property
    def masked(self) -> bool:
        return not self.user.can("personal_data")


class NeedLogin(Exception):
    """No valid session: HTML requests are redirected to the sign-in page, API calls get 401."""


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.endswith(".json") or ("application/json" in accept and "text/html" not in accept) \
        or request.headers.get("authorization", "").lower().startswith("bearer ")


def identify(request: Request) -> Who | None:
    accounts = request.app.state.web.accounts
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = accounts.token_user(auth.split(None, 1)[1].strip())
        return Who(user, None, "token") if user else None
    found = accounts.session(request.cookies.get(SESSION_COOKIE))
    return Who(found[0], found[1], "session") if found else None


async def check_csrf(request: Request, who: Who) -> None:
    if request.method in SAFE_METHODS or who.via == "token":
        return
    sent = request.headers.get("x-csrf-token")
    if not sent and "form" in request.headers.get("content-type", ""):
        sent = (await request.form()).get("csrf_token")
    if not sent or not who.csrf or not secrets.compare_digest(str(sent), who.csrf):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def guard(permission: str):
    """The dependency of a route needing ``permission`` (see :data:`cxvalue.accounts.PERMISSIONS`)."""
    async def dependency(request: Request) -> Who:
        who = identify(request)
        if who is None:
            raise NeedLogin()
        request.state.who = who          # an error page is then in the user's language, with their navigation
        if not who.user.can(permission):
            from ...i18n import t
            raise HTTPException(403, t("web_forbidden", who.user.lang, role=t(f"role_{who.user.role}", who.user.lang),
                                       permission=permission))
        await check_csrf(request, who)
        return who
    dependency.permission = permission
    return dependency


class RateLimit:
    """At most ``attempts`` failures per key in ``window`` seconds (in memory, per process)."""

    def __init__(self, attempts: int, window: float):
        self.attempts, self.window = attempts, window
        self._fails: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque:
        q = self._fails[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> float:
        """Seconds until the first of ``keys`` may try again (0: not blocked)."""
        now = time.monotonic()
        with self._lock:
            waits = [self.window - (now - q[0]) for q in (self._trim(k, now) for k in keys) if len(q) >= self.attempts]
        return max(waits, default=0.0)

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._trim(k, now).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def secure_cookies(request: Request, setting: str) -> bool:
    if setting in ("always", "never"):
        return setting == "always"
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"
