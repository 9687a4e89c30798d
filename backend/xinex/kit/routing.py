"""An APIRouter that turns away paths outside its prefix before scanning its routes.

FastAPI matches a request by trying every route of every included router in order, twice (once to
match, once to dispatch). With ~200 API routes that scan is a large share of a cheap request, and a
root path such as /ping/{uuid} or /health would pay for all of them. Every route of this router
lives under its prefix, so a path outside it cannot match any of them: answering NONE at once is
exact, not a heuristic.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope


class PrefixedRouter(APIRouter):
    def __init__(self, *, prefix: str, **kwargs) -> None:
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ValueError("the prefix must start with '/' and not end with one")
        super().__init__(prefix=prefix, **kwargs)
        self._under = prefix + "/"

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        if path != self.prefix and not path.startswith(self._under):
            return Match.NONE, {}
        return super().matches(scope)


def _routers(router: APIRouter, seen: set[int] | None = None):
    seen = set() if seen is None else seen
    if id(router) in seen:
        return
    seen.add(id(router))
    yield router
    for route in router.routes:
        inner = getattr(route, "original_router", None)
        if isinstance(inner, APIRouter):
            yield from _routers(inner, seen)


def seal_route_tree(root: APIRouter) -> None:
    """Memoise every router's routes version once the app serves.

    FastAPI recomputes an included router's version by walking its whole subtree on every match
    (to notice routes added later); with ~30 nested routers that walk was the largest single cost
    of a cached request (~180,000 calls per 3,000 requests of GET /me). Routes are fixed once the
    app has started, so the version is computed once. Should a route still be added, the first
    `_mark_routes_changed` anywhere in the tree drops every memo and FastAPI's own walk resumes.
    """
    routers = list(_routers(root))

    def unseal() -> None:
        for router in routers:
            router.__dict__.pop("_get_routes_version", None)
            router.__dict__.pop("_mark_routes_changed", None)

    for router in routers:
        version = router._get_routes_version()
        router._get_routes_version = lambda seen=None, version=version: version

        def changed(router: APIRouter = router) -> None:
            unseal()
            type(router)._mark_routes_changed(router)

        router._mark_routes_changed = changed


def allowed_methods(app, path: str) -> list[str]:
    """Every method some route of `app` serves at `path`, for the Allow header of a 405.

    Starlette answers 405 from the first route whose path matched and lists that route's methods
    only; a path served by several routes (GET from one, PUT from another) then advertised a
    partial, even wrong, set. The table is built once per app: routes are fixed while it serves.
    """
    table = getattr(app.state, "_allow_table", None)
    if table is None:
        from fastapi.routing import iter_route_contexts
        from starlette.routing import compile_path

        table = []
        for context in iter_route_contexts(app.router.routes):
            methods, route_path = context.methods, context.path
            if methods and route_path:
                table.append((compile_path(route_path)[0], frozenset(methods)))
        app.state._allow_table = table
    found: set[str] = set()
    for regex, methods in table:
        if regex.match(path):
            found |= methods
    if "GET" in found:
        found.add("HEAD")
    return sorted(found)
