"""The web workplace: ``create_app(settings)`` returns the FastAPI app that ``cxvalue serve``
runs with uvicorn.

Server-rendered pages (Jinja2) for every dashboard, the customer list and the customer 360,
each with a JSON twin; accounts, API tokens, the audit log and the job queue for admins. Every
route but the sign-in page and static files needs a session or an API token; see
:mod:`.auth`. Static assets (ECharts, htmx) are vendored under ``static/``: no CDN.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from ...errors import CxValueError
from .auth import NeedLogin, wants_json
from .render import page
from .state import WebState

STATIC = Path(__file__).with_name("static")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                    "Cross-Origin-Opener-Policy": "same-origin",
                    "Permissions-Policy": "camera=(), microphone=(), geolocation=()"}


def create_app(settings: dict, *, con=None, warm: bool = False) -> FastAPI:
    """The app on the store of ``settings`` (or the open backend ``con``). ``warm``: build the
    dashboards into the cache in the background now and after every job (``cxvalue serve``)."""
    from .routes import account, admin, cases, customers, dashboards, docs, initiatives, login
    app = FastAPI(title="cxvalue workplace", version=_version(), docs_url=None, redoc_url=None,
                  openapi_url=None,  # served by routes/docs.py behind a session
                  description="Customer value and experience workplace. Every HTML page has a JSON twin "
                              "(`.json` suffix or `Accept: application/json`). Authenticate API calls with a "
                              "personal token: `Authorization: Bearer cxv_…` (create one under Account).")
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app_):
        yield
        app_.state.web.close()

    app.router.lifespan_context = lifespan
    app.state.web = WebState(settings, con=con)
    app.state.login_limit = None

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin):
        if wants_json(request) or request.method not in ("GET", "HEAD"):
            return JSONResponse({"detail": "not signed in: sign in or send Authorization: Bearer <token>"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        from urllib.parse import quote
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)

    @app.exception_handler(CxValueError)
    async def bad_input(request: Request, exc: CxValueError):
        return _error(request, 400, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return _error(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        msg = "; ".join(f"{'.'.join(str(x) for x in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return _error(request, 422, msg or "invalid request")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (login, dashboards, customers, cases, initiatives, account, admin, docs):
        app.include_router(module.router)
    if warm:
        start_warming(app)
    return app


def start_warming(app: FastAPI) -> None:
    """Build the dashboards into the cache in the background now and after every job."""
    from .routes import dashboards
    web = app.state.web
    web.on_change = lambda: dashboards.warm_dashboards(web)
    web.warm(web.on_change)


def _error(request: Request, status: int, message: str, headers=None):
    if wants_json(request) or request.headers.get("hx-request"):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return page(request, "error.html.j2", title=str(status), status=status, status_code=status, message=message)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("cxvalue")
    except PackageNotFoundError:
        return "0"
