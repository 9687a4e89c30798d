"""`/docs` (Swagger UI) and `/redoc` (ReDoc); the web app itself is served by `xinex.site.webapp`.

The docs' JavaScript and CSS come from the `fastapi-offline` package and are served from this process:
FastAPI's defaults load them from a CDN, which left /docs blank on an offline or firewalled install.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, Response

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


# Last: the web app's SPA fallback answers only what no other route of this process claims.
from xinex.site.webapp import router as webapp_router  # noqa: E402

router.include_router(webapp_router)
