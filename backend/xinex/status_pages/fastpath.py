"""The public JSON of a PUBLIC status page answered before routing: the hottest read of the product
(every visitor's page, every embedding site's script) is the cached snapshot's bytes, so FastAPI's
route matching and dependency solving were most of its cost (docs/benchmarks.md, status pages).

Only `GET`/`HEAD /api/v1/public/status-pages/{slug}` of a page whose snapshot says `public` is answered
here, with exactly the route's headers (`routers/public.py` `public_page`); everything else — an unknown
slug, a password or members-only page, a malformed slug — falls through to the route, which answers it
with the error catalog. It sits inside the HTTP contract (request id, rate limit, ETag → 304) and inside
`CustomDomainRouter` (a custom domain's rewritten path arrives here too).
"""

from __future__ import annotations

import re
from typing import Any

from xinex.status_pages import snapshot
from xinex.status_pages.routers.access import cache_headers
from xinex.status_pages.routers.public import cors_headers
from xinex.status_pages.schemas import SLUG_PATTERN

PATH_RE = re.compile(r"^/api/v1/public/status-pages/(" + SLUG_PATTERN.strip("^$") + r")$")


def _accepts_gzip(scope: dict[str, Any]) -> bool:
    return any(name == b"accept-encoding" and b"gzip" in value for name, value in scope.get("headers", ()))


class PublicJsonFastPath:
    """Pure ASGI (module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        match = PATH_RE.match(scope["path"])
        app = scope.get("app")
        if match is None or app is None or len(match.group(1)) > 64:
            await self.app(scope, receive, send)
            return
        entry = await snapshot.get(app.state.db, match.group(1))
        if entry is None or entry.visibility != "public":
            await self.app(scope, receive, send)
            return
        body, extra = entry.body, {}
        if entry.gzip_body is not None and _accepts_gzip(scope):
            body, extra = entry.gzip_body, {"Content-Encoding": "gzip"}
        headers = {"content-length": str(len(body)), "content-type": "application/json", "ETag": entry.etag,
                   **cache_headers(entry), **extra, **cors_headers(entry)}
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
