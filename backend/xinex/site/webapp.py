"""The web app (`frontend/`, built by `make install` into `frontend/dist`), served by the API process at `/`.

- `/assets/*`: Vite's content-hashed files, cached for a year (`immutable`); a missing one is a 404, never the app.
- other files at the top of `dist/` (favicon, robots.txt): served as they are, revalidated; a top-level name
  with a dot that the build lacks (`/favicon.ico`) is a plain 404, never the app's HTML.
- HEAD answers like GET without a body; the app's HTML carries anti-framing headers (`X-Frame-Options: DENY`,
  `Content-Security-Policy: frame-ancestors 'none'`).
- every other GET — `/`, `/login`, `/incidents/…`, the links in our e-mails — answers `index.html` with
  `no-cache`, and the app's router draws the page (SPA fallback). The fallback never matches the server's
  own surfaces (`RESERVED`), so an unknown `/api/…` path keeps its JSON 404 and a wrong method its 405.
- no build (a checkout where Node.js was missing): `/` says how to build it, with a link to the API docs.

`XINEX_WEB_DIST` points at another build directory (a packaged install); the default is the repository's.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.convertors import Convertor, register_url_convertor

# The first path segments the app must never shadow (API, ping dialects, OAuth server, SSO, docs, health).
RESERVED = ("api", "ping", "oauth", "sso", "status", "docs", "redoc", "openapi.json", "health", ".well-known",
            "assets")
LONG_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}
NO_CACHE = {"Cache-Control": "no-cache"}
# The app's HTML is never framed (clickjacking): the legacy header and its CSP successor.
NO_FRAMING = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
# GET and HEAD answer alike (HEAD without a body: monitors and link checkers probe pages with it).
METHODS = ["GET", "HEAD"]


def dist_dir() -> Path:
    configured = os.environ.get("XINEX_WEB_DIST")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "frontend" / "dist"


class AppPathConvertor(Convertor[str]):
    """Any path whose first segment is not one of RESERVED (so those routes see no competing match)."""

    regex = "(?!(?:" + "|".join(seg.replace(".", r"\.") for seg in RESERVED) + ")(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("webapp", AppPathConvertor())
router = APIRouter(include_in_schema=False)

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Xinex — web app not built</title>
<style>body{{font:16px/1.55 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1.25rem}}
pre{{background:#f3f5f9;padding:.8rem 1rem;border-radius:8px}}
@media (prefers-color-scheme:dark){{body{{background:#11151c;color:#e4e8ef}}pre{{background:#1b212c}}a{{color:#7aa2ff}}}}
</style></head><body>
<h1>Xinex</h1>
<p>The web app has not been built in this checkout (looked for <code>{index}</code>).
Build it with <code>make install</code> (needs Node.js 20+ and npm), or by hand:</p>
<pre>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>The API works without it: <a href="/docs">API reference (Swagger UI)</a> · <a href="/redoc">ReDoc</a> ·
<a href="/openapi.json">OpenAPI JSON</a>.</p>
</body></html>"""


def _index() -> Response:
    index = dist_dir() / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT.format(index=html.escape(str(index))), status_code=503,
                            headers={**NO_CACHE, **NO_FRAMING, "Retry-After": "60"})
    return FileResponse(index, media_type="text/html", headers={**NO_CACHE, **NO_FRAMING})


def _inside(base: Path, name: str) -> Path | None:
    """The file `name` under `base`, or None (missing, a directory, or outside `base`)."""
    try:
        root = base.resolve()
        target = (root / name).resolve()
    except (OSError, ValueError):
        return None
    if root not in target.parents or not target.is_file():
        return None
    return target


@router.api_route("/assets/{name:path}", methods=METHODS)
async def asset(name: str) -> Response:
    target = _inside(dist_dir() / "assets", name)
    if target is None:
        return Response("not found", status_code=404, media_type="text/plain", headers=NO_CACHE)
    return FileResponse(target, headers=LONG_CACHE)


@router.api_route("/", methods=METHODS)
async def app_root() -> Response:
    return _index()


@router.api_route("/{path:webapp}", methods=METHODS)
async def app_page(path: str) -> Response:
    if "/" not in path:  # a top-level file of the build (favicon.svg, robots.txt), else the app
        target = _inside(dist_dir(), path)
        if target is not None and target.name != "index.html":
            return FileResponse(target, headers=NO_CACHE)
        if "." in path:  # a file name (favicon.ico, robots.txt) the build lacks: 404, never the app's HTML
            return Response("not found", status_code=404, media_type="text/plain", headers=NO_CACHE)
    return _index()
