"""The OpenAPI document: FastAPI's, plus the credentials each operation accepts.

Xinex resolves every credential in its own dependency (`identity.deps`), which FastAPI cannot see as a
security scheme; without schemes, Swagger UI's "Authorize" did nothing and generated clients sent
no credentials. Here each operation is given the schemes its dependencies accept, and the scope and
role an `Authorize(area)` check needs is written into its description.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts

from xinex.identity import deps
from xinex.kit.openapi import TYPED_BODY
from xinex.settings import Settings

USER_SCHEMES = ("apiToken", "apiKeyHeader", "mobileJWT", "sessionCookie")
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _apply_typed_body(spec: dict[str, Any], operation: dict[str, Any]) -> None:
    typed = operation.pop(TYPED_BODY, None)
    if typed is None:
        return
    schema = dict(typed["schema"])
    spec["components"].setdefault("schemas", {}).update(schema.pop("$defs", {}))
    operation["requestBody"] = {"required": True, "content": {
        "application/json": {"schema": schema, "examples": typed["examples"]}}}


def security_schemes(settings: Settings) -> dict[str, Any]:
    return {
        "apiToken": {"type": "http", "scheme": "bearer", "bearerFormat": "xinex_<64 hex>",
                     "description": "An API token (`POST /api/v1/api-tokens`, shown once): "
                                    "`Authorization: Bearer xinex_…`. Its scopes limit what it may do."},
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                         "description": "The same API token in `X-API-Key` (what job-run scripts send)."},
        "mobileJWT": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                      "description": "An access token from the PKCE OAuth server (`/api/v1/oauth/token`), "
                                     "for the mobile app; refreshed with its rotating refresh token."},
        "sessionCookie": {"type": "apiKey", "in": "cookie", "name": settings.cookie_name("xinex_session"),
                          "description": "The browser session set by `POST /api/v1/auth/login`. Mutations "
                                         "also need the `X-CSRF-Token` header (the login answer's `csrf_token`)."},
        "proberToken": {"type": "http", "scheme": "bearer", "bearerFormat": "xinex_probe_…",
                        "description": "A remote probe's token (`POST /api/v1/probes`)."},
    }


def _calls(dependant) -> list[Any]:
    found, stack = [], [dependant]
    while stack:
        current = stack.pop()
        for sub in current.dependencies:
            found.append(sub.call)
            stack.append(sub)
    return found


def _requirement(route) -> tuple[list[dict[str, list]] | None, str | None]:
    """(security requirement, scope note) of one route, from what its dependencies resolve."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None, None
    calls = _calls(dependant)
    names = {getattr(call, "__name__", "") for call in calls}
    if "current_probe" in names:
        return [{"proberToken": []}], None
    user = {deps.current_principal, deps.cached_principal, deps.tenant_principal}
    if not any(call in user for call in calls):
        return None, None
    authorize = next((call for call in calls if isinstance(call, deps.Authorize)), None)
    note = None
    if authorize is not None:
        access = {True: "write", False: "read", None: "read` (GET) or `write` (other methods"}[authorize.write]
        role = authorize.min_role.value if authorize.min_role else None
        note = f"Scope `{authorize.area}:{access}`" + (f"; role {role} or above." if role else ".")
    return [{scheme: []} for scheme in USER_SCHEMES], note


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                       tags=app.openapi_tags)
    spec.setdefault("components", {})["securitySchemes"] = security_schemes(app.state.settings)
    for item in spec["paths"].values():
        for operation in item.values():
            _apply_typed_body(spec, operation)
    for context in iter_route_contexts(app.router.routes):
        path, methods = context.path, context.methods
        if not path or not methods or path not in spec["paths"]:
            continue
        requirement, note = _requirement(context.route)
        if path.endswith("/oauth/authorize"):
            requirement = [{"sessionCookie": []}]  # the signed-in browser consents for the mobile app
        for method in methods:
            operation = spec["paths"][path].get(method.lower())
            if operation is None:
                continue
            operation["security"] = requirement or []  # [] = explicitly public (pings, sign-in, health)
            if note:
                note_text = note.replace("read` (GET) or `write` (other methods",
                                         "write" if method.lower() in WRITE_METHODS else "read")
                operation["description"] = (operation.get("description", "") + f"\n\n{note_text}").strip()
    app.openapi_schema = spec
    return spec


def install(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
