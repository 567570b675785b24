"""The API description: ``/openapi.json`` (OpenAPI 3) and ``/docs``, a server-rendered page of
every operation (no Swagger UI: it would need inline script and a CDN). Both need a session or
token, like every other route."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ..auth import Who, guard
from ..render import page

router = APIRouter(tags=["api"])


@router.get("/openapi.json", summary="The OpenAPI 3 description of this API")
def openapi(request: Request, who: Who = Depends(guard("dashboards"))):
    return JSONResponse(request.app.openapi())


@router.get("/docs", summary="The API described for people")
def docs(request: Request, who: Who = Depends(guard("dashboards"))):
    spec = request.app.openapi()
    ops = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "description": p.get("description") or p.get("schema", {}).get("description", "")}
                      for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {})
            form = next(iter(body.values()), {}).get("schema", {}) if body else {}
            ref = form.get("$ref", "").rsplit("/", 1)[-1]
            fields = list(spec.get("components", {}).get("schemas", {}).get(ref, {}).get("properties", {})) if ref else []
            ops.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "tag": (op.get("tags") or [""])[0], "params": params, "form": fields})
    return page(request, "docs.html.j2", title="API", spec=spec, ops=ops)
