"""Custom domains: a request whose Host is a page's `custom_domain` is served that page at `/`.

DNS sends the domain to Xinex (a CNAME to the app's host); the operator's reverse proxy terminates TLS
for it (no certificate is issued here) and passes the Host header on. This ASGI middleware maps the
domain's paths onto the page's own routes — `/` → `/status/{slug}`, `/events`, `/feed.atom`,
`/feed.rss`, `/badge.svg`, `/components/…`, `/subscribe`, `/unlock`, `/confirm`, `/unsubscribe` → under
`/status/{slug}` — and lets through the page's public JSON (`/api/v1/public/status-pages/{slug}…`) and
`/status/{slug}…` themselves. Anything else on such a host is 404: a customer's domain never serves the
app (sign-in, API, web app). The app's own host (XINEX_PUBLIC_URL's) is never looked up, so no page can
shadow it; a host that names no page passes through unchanged.

Which page a domain names is cached per process for DOMAIN_TTL_S (also when it names none); an admin
change clears this process's cache after its commit.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from xinex.kit.db import Database
from xinex.kit.errors import error_response
from xinex.status_pages import repository

DOMAIN_TTL_S = 5.0
MAX_CACHED = 10_000  # distinct hosts remembered (a flood of made-up hosts costs one lookup each, then clears)
HOST_RE = re.compile(r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PAGE_PATHS = ("/events", "/feed.atom", "/feed.rss", "/badge.svg", "/subscribe", "/unlock", "/confirm",
              "/unsubscribe")
STATE_KEY = "status_page_host"  # request.state.status_page_host: the custom domain the request came by

_CACHE: dict[tuple[int, str], tuple[float, str | None]] = {}


def forget() -> None:
    """Drop every cached domain → page answer (after a page's domain or slug changed)."""
    _CACHE.clear()


async def slug_for(db: Database, host: str) -> str | None:
    key = (id(db), host)
    cached = _CACHE.get(key)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    async with db.session() as session:
        slug = await repository.slug_by_domain(session, host)
    if len(_CACHE) >= MAX_CACHED:
        _CACHE.clear()
    _CACHE[key] = (now + DOMAIN_TTL_S, slug)
    return slug


@lru_cache(maxsize=4)
def own_host(public_url: str) -> str:
    """The app's own host (XINEX_PUBLIC_URL's): never looked up, never a page's."""
    return (urlsplit(str(public_url)).hostname or "").lower()


def page_path(path: str, slug: str) -> str | None:
    """The app path serving `path` of a custom domain, or None (not the page's: 404)."""
    own, api = f"/status/{slug}", f"/api/v1/public/status-pages/{slug}"
    if path in ("", "/"):
        return own
    if path in PAGE_PATHS or path.startswith("/components/"):
        return own + path
    for prefix in (own, api):
        if path == prefix or path.startswith(prefix + "/"):
            return path
    return None


def _host(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1").strip().lower().rstrip(".")
            return host.rsplit(":", 1)[0] if not host.startswith("[") else None
    return None


class CustomDomainRouter:
    """Pure ASGI: rewrites the path of requests that came by a page's custom domain (module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _host(scope)
        app = scope.get("app")
        if host is None or app is None or not HOST_RE.match(host) or host == own_host(app.state.settings.public_url):
            await self.app(scope, receive, send)
            return
        slug = await slug_for(app.state.db, host)
        if slug is None:
            await self.app(scope, receive, send)
            return
        path = page_path(scope["path"], slug)
        if path is None:
            await error_response(404, "NOT_FOUND", "No such route", {"path": scope["path"][:200]},
                                 headers={"Cache-Control": "no-store"})(scope, receive, send)
            return
        scope = {**scope, "path": path, "raw_path": path.encode()}
        scope.setdefault("state", {})[STATE_KEY] = host
        await self.app(scope, receive, send)
