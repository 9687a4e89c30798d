"""GET/PUT/DELETE /tenants/current, listing, creating and switching tenants."""

from __future__ import annotations

from tests.conftest import assert_error
from tests.tenancy.helpers import join


async def test_current_tenant_detail_with_etag(client, alice):
    r = await client.get("/api/v1/tenants/current", headers=alice.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == alice.tenant_id
    assert body["role"] == "owner" and body["tier"] == "free" and body["member_count"] == 1
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert r.headers["etag"]
    again = await client.get("/api/v1/tenants/current", headers={**alice.bearer, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


async def test_outsider_sees_only_their_own_current_tenant(client, alice, outsider):
    r = await client.get("/api/v1/tenants/current", headers=outsider.bearer)
    assert r.json()["id"] == outsider.tenant_id
    mine = await client.get("/api/v1/tenants", headers=outsider.bearer)
    assert [t["id"] for t in mine.json()["items"]] == [outsider.tenant_id]
    # Switching into a tenant one does not belong to answers like a missing one.
    r = await client.post("/api/v1/tenants/switch", json={"tenant_id": alice.tenant_id},
                          cookies=outsider.cookies, headers=outsider.session_headers)
    assert_error(r, 404, "NOT_FOUND")


async def test_rename_requires_admin_and_is_audited(app, client, smtp_server, signup, alice):
    old = (await client.get("/api/v1/tenants/current", headers=alice.bearer)).json()["name"]
    r = await client.put("/api/v1/tenants/current", json={"name": "Acme Ops"}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Acme Ops"
    assert (await client.get("/api/v1/tenants/current", headers=alice.bearer)).json()["name"] == "Acme Ops"
    member = await join(app, client, smtp_server, signup, alice, "member")
    assert_error(await client.put("/api/v1/tenants/current", json={"name": "Mine now"}, headers=member.bearer),
                 403, "FORBIDDEN")
    log = await client.get("/api/v1/audit-log?action=tenant.renamed", headers=alice.bearer)
    assert log.json()["items"][0]["details"] == {"from": old, "to": "Acme Ops"}
    assert log.json()["items"][0]["actor_user_id"] == alice.user_id


async def test_rename_bad_input_and_stale_if_match(client, alice):
    body = assert_error(await client.put("/api/v1/tenants/current", json={"name": ""}, headers=alice.bearer),
                        422, "VALIDATION_FAILED")
    assert "name" in body["details"]["fields"]
    assert_error(await client.put("/api/v1/tenants/current", json={"name": "x", "tier": "enterprise"},
                                  headers=alice.bearer), 422, "VALIDATION_FAILED")
    stale = await client.get("/api/v1/tenants/current", headers=alice.bearer)
    await client.put("/api/v1/tenants/current", json={"name": "First"}, headers=alice.bearer)
    r = await client.put("/api/v1/tenants/current", json={"name": "Second"},
                         headers={**alice.bearer, "If-Match": stale.headers["etag"]})
    assert_error(r, 412, "PRECONDITION_FAILED")
    # The tier is not something a tenant sets for itself.
    assert (await client.get("/api/v1/tenants/current", headers=alice.bearer)).json()["tier"] == "free"


async def test_create_tenant_and_switch(client, alice):
    r = await client.post("/api/v1/tenants", json={"name": "Side project"}, cookies=alice.cookies,
                          headers=alice.session_headers)
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    assert r.json()["role"] == "owner"
    r = await client.post("/api/v1/tenants/switch", json={"tenant_id": new_id}, cookies=alice.cookies,
                          headers=alice.session_headers)
    assert r.status_code == 200
    current = await client.get("/api/v1/tenants/current", cookies=alice.cookies)
    assert current.json()["id"] == new_id
    listed = await client.get("/api/v1/tenants", cookies=alice.cookies)
    assert listed.json()["total"] == 2
    assert_error(await client.post("/api/v1/tenants", json={"name": "x"}, headers=alice.bearer), 403, "FORBIDDEN")
    assert_error(await client.post("/api/v1/tenants/switch", json={"tenant_id": "nope"}, cookies=alice.cookies,
                                   headers=alice.session_headers), 422, "VALIDATION_FAILED")


async def test_delete_current_tenant(app, client, smtp_server, signup, alice, db):
    slug = (await client.get("/api/v1/tenants/current", headers=alice.bearer)).json()["slug"]
    # The only tenant of its owner is kept.
    r = await client.delete(f"/api/v1/tenants/current?confirm={slug}", cookies=alice.cookies,
                            headers=alice.session_headers)
    assert_error(r, 409, "CONFLICT")
    other = (await client.post("/api/v1/tenants", json={"name": "Keep"}, cookies=alice.cookies,
                               headers=alice.session_headers)).json()
    member = await join(app, client, smtp_server, signup, alice, "admin")
    # Only an owner, only interactively, only with the slug as confirmation.
    assert_error(await client.delete(f"/api/v1/tenants/current?confirm={slug}", headers=member.bearer),
                 403, "FORBIDDEN")
    assert_error(await client.delete(f"/api/v1/tenants/current?confirm={slug}", headers=alice.bearer),
                 403, "FORBIDDEN")
    assert_error(await client.delete("/api/v1/tenants/current", cookies=alice.cookies,
                                     headers=alice.session_headers), 422, "VALIDATION_FAILED")
    assert_error(await client.delete("/api/v1/tenants/current?confirm=wrong-slug", cookies=alice.cookies,
                                     headers=alice.session_headers), 422, "VALIDATION_FAILED")
    r = await client.delete(f"/api/v1/tenants/current?confirm={slug}", cookies=alice.cookies,
                            headers=alice.session_headers)
    assert r.status_code == 204, r.text
    assert r.content == b""
    # Alice's session moved to her other tenant; the deleted tenant's tokens stopped working.
    assert (await client.get("/api/v1/tenants/current", cookies=alice.cookies)).json()["id"] == other["id"]
    assert_error(await client.get("/api/v1/me", headers=alice.bearer), 401, "UNAUTHENTICATED")
    assert_error(await client.get("/api/v1/members", headers=member.bearer), 401, "UNAUTHENTICATED")
    # Its tenant-owned rows are gone with it.
    from sqlalchemy import func, select
    from xinex.models.identity import ApiToken
    from xinex.models.tenant import Invitation

    async with db.session(system="test: verify cascade") as s:
        for model in (ApiToken, Invitation):
            n = (await s.execute(select(func.count()).select_from(model).where(model.tenant_id == alice.tenant_id)))
            assert n.scalar_one() == 0


async def test_current_tenant_needs_credentials_and_a_tenant(client):
    assert_error(await client.get("/api/v1/tenants/current"), 401, "UNAUTHENTICATED")
    assert_error(await client.get("/api/v1/tenants/current", headers={"Authorization": "Bearer xinex_" + "0" * 64}),
                 401, "UNAUTHENTICATED")
