"""Private pages: a password page refuses anonymous readers on every public surface until unlocked (and
again once the password changes); a members-only page is a 404 for anyone but its tenant's members."""

from __future__ import annotations

import httpx

from tests.conftest import assert_error
from tests.status_pages.conftest import BASE, PUBLIC, make_component, make_page, set_tier

SURFACES = ("", "/events", "/feed.atom", "/feed.rss", "/badge.svg")


async def test_password_page(app, client, alice, db):
    await set_tier(db, alice.tenant_id, "pro")
    page = await make_page(client, alice, name="Internal", visibility="password", password="a long shared secret")
    comp = await make_component(client, alice, page["id"], name="Build farm")
    slug = page["slug"]
    assert page["has_password"] is True
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as anon:
        body = assert_error(await anon.get(f"{PUBLIC}/{slug}"), 401, "UNAUTHENTICATED")
        assert body["details"] == {"password_required": True}
        assert_error(await anon.get(f"{PUBLIC}/{slug}/incidents"), 401, "UNAUTHENTICATED")
        assert_error(await anon.post(f"{PUBLIC}/{slug}/subscribe", json={"email": "a@example.com"}),
                     401, "UNAUTHENTICATED")
        r = await anon.get(f"/status/{slug}")
        assert r.status_code == 401 and "Password required" in r.text and "Internal" not in r.text
        assert "Build farm" not in r.text
        assert r.headers["cache-control"] == "private, no-store"
        for path in SURFACES[1:] + (f"/components/{comp['key']}/badge.svg",):
            r = await anon.get(f"/status/{slug}{path}")
            assert r.status_code == 401 and r.headers["cache-control"] == "private, no-store", path
        r = await anon.get(f"{PUBLIC}/{slug}")
        assert r.status_code == 401 and r.headers["cache-control"] == "private, no-store"

        assert_error(await anon.post(f"{PUBLIC}/{slug}/unlock", json={"password": "wrong"}), 401, "UNAUTHENTICATED")
        r = await anon.post(f"/status/{slug}/unlock", data={"password": "wrong"})
        assert r.status_code == 401 and "Wrong password" in r.text
        r = await anon.post(f"/status/{slug}/unlock", data={"password": "a long shared secret"})
        assert r.status_code == 303 and r.headers["location"] == f"/status/{slug}"
        assert "httponly" in r.headers["set-cookie"].lower()
        r = await anon.get(f"{PUBLIC}/{slug}")
        assert r.status_code == 200 and r.json()["page"]["name"] == "Internal"
        assert r.headers["cache-control"] == "private, no-store"
        assert "Build farm" in (await anon.get(f"/status/{slug}")).text

        # A new password locks the old cookie out.
        r = await client.put(f"{BASE}/{page['id']}", headers=alice.bearer,
                             json={"name": "Internal", "slug": slug, "visibility": "password",
                                   "password": "another long secret"})
        assert r.status_code == 200, r.text
        assert_error(await anon.get(f"{PUBLIC}/{slug}"), 401, "UNAUTHENTICATED")
        assert (await anon.post(f"{PUBLIC}/{slug}/unlock", json={"password": "another long secret"})).status_code == 204
        assert (await anon.get(f"{PUBLIC}/{slug}")).status_code == 200

    # Keeping the password on PUT (omitted), then making the page public drops it.
    r = await client.put(f"{BASE}/{page['id']}", headers=alice.bearer,
                         json={"name": "Internal", "slug": slug, "visibility": "password"})
    assert r.status_code == 200 and r.json()["has_password"] is True
    r = await client.put(f"{BASE}/{page['id']}", headers=alice.bearer, json={"name": "Internal", "slug": slug})
    assert r.json()["has_password"] is False
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as anon:
        assert (await anon.get(f"{PUBLIC}/{slug}")).status_code == 200


async def test_members_only_page(app, client, alice, outsider, db):
    await set_tier(db, alice.tenant_id, "pro")
    page = await make_page(client, alice, name="Staff only", visibility="members")
    slug = page["slug"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as anon:
        assert_error(await anon.get(f"{PUBLIC}/{slug}"), 404, "NOT_FOUND")
        r = await anon.get(f"/status/{slug}")
        assert r.status_code == 404 and "Staff only" not in r.text
        for path in SURFACES[1:]:
            assert (await anon.get(f"/status/{slug}{path}")).status_code == 404, path
        assert_error(await anon.post(f"{PUBLIC}/{slug}/unlock", json={"password": "x"}), 404, "NOT_FOUND")
    # Another tenant's signed-in user: as if there were no page.
    assert_error(await client.get(f"{PUBLIC}/{slug}", headers=outsider.bearer), 404, "NOT_FOUND")
    # A member, with a session cookie as in a browser, or a token.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 cookies=alice.cookies) as browser:
        r = await browser.get(f"/status/{slug}")
        assert r.status_code == 200 and "Staff only" in r.text
        assert r.headers["cache-control"] == "private, no-store"
    r = await client.get(f"{PUBLIC}/{slug}", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["page"]["name"] == "Staff only"


async def test_unlock_cookie_is_signed_and_expires(app, client, alice, db):
    """The unlock cookie is `<issued-at>.<mac>`: a forged or tampered value, or one older than its Max-Age
    (checked on the server, not only by the browser), does not open the page."""
    from xinex.status_pages.tokens import UNLOCK_MAX_AGE, unlock_cookie_name

    await set_tier(db, alice.tenant_id, "pro")
    page = await make_page(client, alice, name="Signed", visibility="password", password="a long shared secret")
    slug, name = page["slug"], unlock_cookie_name(page["slug"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as anon:
        r = await anon.post(f"{PUBLIC}/{slug}/unlock", json={"password": "a long shared secret"})
        assert r.status_code == 204 and f"max-age={UNLOCK_MAX_AGE}" in r.headers["set-cookie"].lower()
        good = anon.cookies[name]
        stamp, mac = good.split(".")
        assert stamp.isdigit() and len(mac) == 64
    for bad in (f"{int(stamp) - UNLOCK_MAX_AGE - 10}.{mac}", f"{stamp}.{'0' * 64}", mac, "", f"{stamp}x.{mac}"):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     cookies={name: bad}) as forged:
            assert_error(await forged.get(f"{PUBLIC}/{slug}"), 401, "UNAUTHENTICATED")
    # A token correctly signed but issued past the max age is refused by the server.
    import uuid

    from sqlmodel import select
    from xinex.kit.tenancy import system_scope
    from xinex.models.status_pages import StatusPage
    from xinex.status_pages.tokens import unlock_cookie_value

    async with db.session() as session:
        await system_scope(session, "test: read page")
        row = (await session.execute(select(StatusPage).where(StatusPage.id == uuid.UUID(page["id"])))).scalar_one()
    assert row.password_hash is not None
    old = unlock_cookie_value(row.id, row.password_hash, int(stamp) - UNLOCK_MAX_AGE - 10)
    fresh = unlock_cookie_value(row.id, row.password_hash)
    for value, status in ((old, 401), (fresh, 200)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     cookies={name: value}) as reader:
            assert (await reader.get(f"{PUBLIC}/{slug}")).status_code == status
