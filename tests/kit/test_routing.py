"""Route matching shortcuts: the /api/v1 prefix gate and the sealed route-version memo."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI
from xinex.kit.routing import PrefixedRouter, seal_route_tree


def _app() -> tuple[FastAPI, APIRouter]:
    app = FastAPI()
    api = PrefixedRouter(prefix="/api/v1")
    domain = APIRouter()

    @domain.get("/things")
    async def things() -> dict:
        return {"where": "api"}

    api.include_router(domain)
    app.include_router(api)

    @app.get("/things")
    async def root_things() -> dict:
        return {"where": "root"}

    return app, domain


async def _get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get(path)


async def test_prefix_gate_routes_inside_and_outside_the_prefix():
    app, _ = _app()
    assert (await _get(app, "/api/v1/things")).json() == {"where": "api"}
    assert (await _get(app, "/things")).json() == {"where": "root"}
    assert (await _get(app, "/api/v1x/things")).status_code == 404


async def test_sealed_tree_still_serves_and_sees_routes_added_later():
    app, domain = _app()
    seal_route_tree(app.router)
    assert (await _get(app, "/api/v1/things")).json() == {"where": "api"}
    assert (await _get(app, "/api/v1/later")).status_code == 404

    # A route added to a nested router after sealing drops the memo, so FastAPI's own change
    # tracking takes over again (without that, the cached candidates would hide it).
    @domain.get("/later")
    async def later() -> dict:
        return {"added": True}

    assert (await _get(app, "/api/v1/later")).json() == {"added": True}
    assert (await _get(app, "/api/v1/things")).json() == {"where": "api"}
