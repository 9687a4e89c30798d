"""The public JSON of a public page is answered before routing (status_pages/fastpath.py) with the route's
bytes and headers; anything else (password, members-only, unknown, malformed, other methods) reaches the
route and its catalog errors."""

from __future__ import annotations

import httpx
from xinex.status_pages.fastpath import PublicJsonFastPath

from tests.conftest import assert_error
from tests.status_pages.conftest import PUBLIC, make_component, make_page, set_tier


class RouteReached(Exception):
    pass


async def _route(scope, receive, send):  # stands for the app behind the fast path
    raise RouteReached(scope["path"])


def _fast_only(app) -> httpx.AsyncClient:
    """The fast path alone in front of a 'route' that must not be reached; `app` gives it the database."""
    fast = PublicJsonFastPath(_route)

    async def with_app(scope, receive, send):
        await fast({**scope, "app": app}, receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=with_app), base_url="http://testserver")


async def test_public_page_answered_before_routing_like_the_route(app, client, alice, outsider):
    page = await make_page(client, alice)
    await make_component(client, alice, page["id"], name="API")
    full = await client.get(f"{PUBLIC}/{page['slug']}", headers={"Accept-Encoding": "identity"})
    assert full.status_code == 200
    async with _fast_only(app) as fast:
        plain = await fast.get(f"{PUBLIC}/{page['slug']}", headers={"Accept-Encoding": "identity"})
        zipped = await fast.get(f"{PUBLIC}/{page['slug']}", headers={"Accept-Encoding": "gzip"})
        head = await fast.head(f"{PUBLIC}/{page['slug']}", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.content == full.content
    assert plain.json()["page"]["name"] == page["name"] and "tenant_id" not in plain.text
    assert full.headers["access-control-expose-headers"] == "ETag"  # a cross-origin script may revalidate
    for name in ("etag", "cache-control", "vary", "access-control-allow-origin", "access-control-expose-headers",
                 "content-type"):
        assert plain.headers[name] == full.headers[name], name
    assert zipped.headers["content-encoding"] == "gzip" and zipped.json() == plain.json()
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == plain.headers["etag"]
    assert head.headers["content-length"] == str(len(plain.content))
    # Through the whole app: If-None-Match still gets its 304 from the HTTP contract around the fast path.
    again = await client.get(f"{PUBLIC}/{page['slug']}", headers={"If-None-Match": full.headers["etag"]})
    assert again.status_code == 304
    # The admin side stays the owner's.
    assert_error(await client.get(f"/api/v1/status-pages/{page['id']}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_everything_else_reaches_the_route(app, client, alice, db):
    await set_tier(db, alice.tenant_id, "pro")
    locked = await make_page(client, alice, visibility="password", password="a long shared passphrase")
    members = await make_page(client, alice, visibility="members")
    async with _fast_only(app) as fast:
        for path in (f"{PUBLIC}/{locked['slug']}", f"{PUBLIC}/{members['slug']}", f"{PUBLIC}/no-such-page",
                     f"{PUBLIC}/Not_A_Slug", f"{PUBLIC}/{'a' * 80}", f"{PUBLIC}/{locked['slug']}/incidents"):
            try:
                await fast.get(path)
            except RouteReached:
                continue
            raise AssertionError(f"{path} was answered by the fast path")
    # And the route answers them with the catalog.
    assert_error(await client.get(f"{PUBLIC}/{locked['slug']}"), 401, "UNAUTHENTICATED")
    assert_error(await client.get(f"{PUBLIC}/{members['slug']}"), 404, "NOT_FOUND")
    assert_error(await client.get(f"{PUBLIC}/no-such-page"), 404, "NOT_FOUND")
    assert_error(await client.get(f"{PUBLIC}/Not_A_Slug"), 422, "VALIDATION_FAILED")
