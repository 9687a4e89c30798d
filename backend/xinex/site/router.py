"""`/` (a landing page until the web app arrives), `/docs` (Swagger UI), `/redoc` (ReDoc).

The docs' JavaScript and CSS come from the `fastapi-offline` package and are served from this process:
FastAPI's defaults load them from a CDN, which left /docs blank on an offline or firewalled install.
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from xinex import __version__

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
ASSET_PREFIX = "/docs/assets"
OPENAPI_URL = "/openapi.json"

router = APIRouter(include_in_schema=False)


# ReDoc's bundle loads its "API docs by Redocly" logo from a CDN; served locally it points at an inline
# image, so an offline browser makes no request outside this server.
REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
INLINE_LOGO = b"data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27/%3E"
ASSET_HEADERS = {"Cache-Control": "public, max-age=86400"}  # versioned by the package: revalidated daily


@lru_cache(maxsize=1)
def _redoc_bundle() -> bytes:
    return (ASSETS_DIR / "redoc.standalone.js").read_bytes().replace(REDOC_CDN_LOGO, INLINE_LOGO)


@router.get(f"{ASSET_PREFIX}/{{name}}")
async def docs_asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    if name == "redoc.standalone.js":
        return Response(_redoc_bundle(), media_type=media_type, headers=ASSET_HEADERS)
    return FileResponse(ASSETS_DIR / name, media_type=media_type, headers=ASSET_HEADERS)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL, title="Xinex API — Swagger UI",
        swagger_js_url=f"{ASSET_PREFIX}/swagger-ui-bundle.js", swagger_css_url=f"{ASSET_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{ASSET_PREFIX}/favicon.png", oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True,
                               "tryItOutEnabled": True})


@router.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url=OPENAPI_URL, title="Xinex API — ReDoc",
                          redoc_js_url=f"{ASSET_PREFIX}/redoc.standalone.js",
                          redoc_favicon_url=f"{ASSET_PREFIX}/favicon.png", with_google_fonts=False)


LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Xinex</title><link rel="icon" href="/docs/assets/favicon.png">
<style>
body{{font:16px/1.55 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:46rem;margin:3rem auto;
padding:0 1.25rem;color:#1d2330;background:#fff}}h1{{margin-bottom:.2rem}}.sub{{color:#5b6475;margin-top:0}}
a{{color:#2456d6}}pre{{background:#f3f5f9;padding:.9rem 1rem;border-radius:8px;overflow-x:auto;font-size:13.5px}}
.links a{{margin-right:1.1rem}}@media (prefers-color-scheme:dark){{body{{background:#11151c;color:#e4e8ef}}
pre{{background:#1b212c}}a{{color:#7aa2ff}}.sub{{color:#9aa3b5}}}}
</style></head><body>
<h1>Xinex</h1><p class="sub">Monitoring and on-call — version {version}</p>
<p class="links"><a href="/docs">API reference (Swagger UI)</a><a href="/redoc">ReDoc</a>
<a href="/openapi.json">OpenAPI JSON</a><a href="/health/ready">Readiness</a></p>
<h2>First five minutes</h2>
<p>Create an account and a token, then a heartbeat that alerts a webhook when your job misses a run
(the repository's <code>docs/quickstart.md</code> has the whole walkthrough):</p>
<pre>curl -sS -X POST {base}/api/v1/auth/register -H 'Content-Type: application/json' \\
  -d '{{"email": "you@example.com", "password": "a long passphrase", "name": "You"}}'</pre>
<p>The browser app is not served by this version; everything is available through the API.</p>
</body></html>"""


@router.get("/")
async def landing(request: Request) -> HTMLResponse:
    base = html.escape(str(request.base_url).rstrip("/"))
    return HTMLResponse(LANDING.format(version=html.escape(__version__), base=base),
                        headers={"Cache-Control": "no-cache"})
