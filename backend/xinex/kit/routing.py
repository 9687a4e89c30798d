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
