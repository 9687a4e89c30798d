"""The OpenAPI document: FastAPI's, plus the credentials each operation accepts.

Xinex resolves every credential in its own dependency (`identity.deps`), which FastAPI cannot see as a
security scheme; without schemes, Swagger UI's "Authorize" did nothing and generated clients sent
no credentials. Here each operation is given the schemes its dependencies accept, and the scope and
role an `Authorize(area)` check needs is written into its description.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel

from xinex.identity import deps
from xinex.kit.openapi import TYPED_BODY, declared_examples
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


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(_without_none(value), sort_keys=True, default=str)


def _walk_examples(node: Any, visit: Callable[[Any], Any]) -> None:
    """Call `visit` on every example value under `node` (`example`, items of `examples` lists, `value`s of
    named `examples`), replacing each by what it returns."""
    if isinstance(node, list):
        for item in node:
            _walk_examples(item, visit)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "example":
            node[key] = visit(value)
        elif key == "examples" and isinstance(value, list):
            node[key] = [visit(v) for v in value]
        elif key == "examples" and isinstance(value, dict):
            for named in value.values():
                if isinstance(named, dict) and "value" in named:
                    named["value"] = visit(named["value"])
        else:
            _walk_examples(value, visit)


def _declared_examples(app: FastAPI) -> dict[str, Any]:
    """Every example the models and routes declare, keyed by its form without `null`s (what FastAPI's
    encoder, run with `exclude_none`, leaves of it)."""
    found: dict[str, Any] = {}

    def add(value: Any) -> Any:
        encoded = jsonable_encoder(value)
        found[_canonical(encoded)] = encoded
        return value

    models, stack = set(), list(BaseModel.__subclasses__())
    while stack:  # every model class loaded (the routes' are among them): cheaper than FastAPI's field walk
        model = stack.pop()
        if model not in models:
            models.add(model)
            stack.extend(model.__subclasses__())
    for model in models:
        for example in declared_examples(model):
            add(example)
    for context in iter_route_contexts(app.router.routes):
        for declared in (getattr(context.route, "responses", None), getattr(context.route, "openapi_extra", None)):
            _walk_examples(declared or {}, add)
    return found


def _restore_examples(spec: dict[str, Any], app: FastAPI) -> None:
    """Put back the `null`s FastAPI's encoder strips from examples (a required nullable field vanished from
    them, so the document's own examples broke its schemas): each example in the document is replaced by the
    declared example it was encoded from."""
    declared = _declared_examples(app)
    _walk_examples(spec.get("components", {}).get("schemas", {}), lambda v: declared.get(_canonical(v), v))
    _walk_examples(spec.get("paths", {}), lambda v: declared.get(_canonical(v), v))


def _component_examples(spec: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    if "$ref" in schema:
        schema = spec["components"]["schemas"].get(schema["$ref"].rsplit("/", 1)[1], {})
    examples = schema.get("examples")
    return examples if isinstance(examples, list) else []


def _document_success(spec: dict[str, Any], operation: dict[str, Any]) -> None:
    """Each success answer shows an example where a reader looks (the operation's response): the first example
    of its response schema (a response model's `json_schema_extra`, a page's built from its item's) is copied
    into the media type. And a route answering something else (XML, iCalendar, SVG, an event stream) does not
    also claim the `application/json` FastAPI documents for every route by default."""
    for code, response in operation.get("responses", {}).items():
        if not str(code).startswith("2"):
            continue
        content = response.get("content", {})
        media = content.get("application/json")
        if media is None:
            continue
        if media.get("schema") in (None, {}) and "example" not in media and len(content) > 1:
            del content["application/json"]
            continue
        if "example" not in media and "examples" not in media:
            examples = _component_examples(spec, media.get("schema", {}))
            if examples:
                media["example"] = examples[0]


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
    _restore_examples(spec, app)
    for item in spec["paths"].values():
        for operation in item.values():
            _apply_typed_body(spec, operation)
            _document_success(spec, operation)
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
