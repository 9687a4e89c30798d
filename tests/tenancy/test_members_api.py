"""GET /members, PUT /members/{user_id} (roles), DELETE /members/{user_id} (remove, leave)."""

from __future__ import annotations

import uuid

from tests.conftest import assert_error
from tests.tenancy.helpers import join


async def test_list_members_envelope_and_filter(app, client, smtp_server, signup, alice, outsider):
    member = await join(app, client, smtp_server, signup, alice, "viewer")
    r = await client.get("/api/v1/members", headers=alice.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "total", "page", "per_page", "total_pages"}
    assert body["total"] == 2 and body["per_page"] == 25 and body["total_pages"] == 1
    first = body["items"][0]
    assert first["user_id"] == alice.user_id and first["role"] == "owner" and first["email"] == alice.email
    assert first["tenant_id"] == alice.tenant_id and first["id"] and first["created_at"].endswith("Z")
    viewers = (await client.get("/api/v1/members?role=viewer", headers=member.bearer)).json()
    assert [m["user_id"] for m in viewers["items"]] == [member.user_id]
    paged = (await client.get("/api/v1/members?per_page=1&page=2", headers=alice.bearer)).json()
    assert paged["total"] == 2 and len(paged["items"]) == 1 and paged["total_pages"] == 2
    theirs = (await client.get("/api/v1/members", headers=outsider.bearer)).json()
    assert [m["user_id"] for m in theirs["items"]] == [outsider.user_id]
    assert_error(await client.get("/api/v1/members?role=boss", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get("/api/v1/members?per_page=500", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get("/api/v1/members"), 401, "UNAUTHENTICATED")


async def test_member_detail_and_outsider_404(client, alice, outsider):
    r = await client.get(f"/api/v1/members/{alice.user_id}", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["role"] == "owner"
    again = await client.get(f"/api/v1/members/{alice.user_id}",
                             headers={**alice.bearer, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert_error(await client.get(f"/api/v1/members/{alice.user_id}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.get("/api/v1/members/not-a-uuid", headers=alice.bearer), 422, "VALIDATION_FAILED")


async def test_change_role_rules(app, client, smtp_server, signup, alice, outsider):
    admin = await join(app, client, smtp_server, signup, alice, "admin")
    member = await join(app, client, smtp_server, signup, alice, "member")
    url = f"/api/v1/members/{member.user_id}"
    # Outsider tenant: 404, whatever their own role.
    assert_error(await client.put(url, json={"role": "viewer"}, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.put(f"/api/v1/members/{alice.user_id}", json={"role": "viewer"},
                                  headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.put(f"/api/v1/members/{uuid.uuid4()}", json={"role": "viewer"}, headers=alice.bearer),
                 404, "NOT_FOUND")
    # Bad input.
    assert_error(await client.put(url, json={"role": "superuser"}, headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.put(url, json={}, headers=alice.bearer), 422, "VALIDATION_FAILED")
    # A member cannot change roles; an admin can, but not to or from owner.
    assert_error(await client.put(url, json={"role": "admin"}, headers=member.bearer), 403, "FORBIDDEN")
    r = await client.put(url, json={"role": "viewer"}, headers=admin.bearer)
    assert r.status_code == 200 and r.json()["role"] == "viewer" and r.json()["user_id"] == member.user_id
    assert_error(await client.put(url, json={"role": "owner"}, headers=admin.bearer), 403, "FORBIDDEN")
    assert_error(await client.put(f"/api/v1/members/{alice.user_id}", json={"role": "admin"}, headers=admin.bearer),
                 403, "FORBIDDEN")
    # The last owner cannot step down; with a second owner she can.
    assert_error(await client.put(f"/api/v1/members/{alice.user_id}", json={"role": "admin"}, headers=alice.bearer),
                 409, "CONFLICT")
    r = await client.put(f"/api/v1/members/{admin.user_id}", json={"role": "owner"}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["role"] == "owner"
    r = await client.put(f"/api/v1/members/{alice.user_id}", json={"role": "admin"}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["role"] == "admin"
    # The new role takes effect on the next request.
    me = await client.get("/api/v1/me", headers=alice.bearer)
    assert me.json()["role"] == "admin"
    log = (await client.get("/api/v1/audit-log?action=member.role_changed", headers=admin.bearer)).json()
    assert {(e["target_id"], e["details"]["to"]) for e in log["items"]} >= {
        (member.user_id, "viewer"), (admin.user_id, "owner"), (alice.user_id, "admin")}


async def test_stale_if_match_on_role_change(app, client, smtp_server, signup, alice):
    member = await join(app, client, smtp_server, signup, alice, "member")
    url = f"/api/v1/members/{member.user_id}"
    tag = (await client.get(url, headers=alice.bearer)).headers["etag"]
    assert (await client.put(url, json={"role": "viewer"}, headers={**alice.bearer, "If-Match": tag})).status_code == 200
    assert_error(await client.put(url, json={"role": "admin"}, headers={**alice.bearer, "If-Match": tag}),
                 412, "PRECONDITION_FAILED")


async def test_remove_member_rules(app, client, smtp_server, signup, alice, outsider):
    admin = await join(app, client, smtp_server, signup, alice, "admin")
    member = await join(app, client, smtp_server, signup, alice, "member")
    assert_error(await client.delete(f"/api/v1/members/{alice.user_id}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete(f"/api/v1/members/{member.user_id}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete("/api/v1/members/123", headers=alice.bearer), 422, "VALIDATION_FAILED")
    # A member removes nobody but themselves; an admin removes no owner.
    assert_error(await client.delete(f"/api/v1/members/{admin.user_id}", headers=member.bearer), 403, "FORBIDDEN")
    assert_error(await client.delete(f"/api/v1/members/{alice.user_id}", headers=admin.bearer), 403, "FORBIDDEN")
    # The last owner cannot leave.
    assert_error(await client.delete(f"/api/v1/members/{alice.user_id}", headers=alice.bearer), 409, "CONFLICT")
    r = await client.delete(f"/api/v1/members/{member.user_id}", headers=admin.bearer)
    assert r.status_code == 204 and r.content == b""
    # The removed member's token and session no longer reach this tenant.
    assert_error(await client.get("/api/v1/members", headers=member.bearer), 401, "UNAUTHENTICATED")
    me = await client.get("/api/v1/me", cookies=member.cookies)
    assert me.status_code == 200 and me.json()["tenant_id"] is None
    assert [t["id"] for t in me.json()["tenants"]] == [member.extra["own_tenant_id"]]
    members = (await client.get("/api/v1/members", headers=alice.bearer)).json()
    assert {m["user_id"] for m in members["items"]} == {alice.user_id, admin.user_id}
    assert_error(await client.delete(f"/api/v1/members/{member.user_id}", headers=admin.bearer), 404, "NOT_FOUND")


async def test_viewer_can_leave(app, client, smtp_server, signup, alice):
    viewer = await join(app, client, smtp_server, signup, alice, "viewer")
    assert_error(await client.delete(f"/api/v1/members/{alice.user_id}", headers=viewer.bearer), 403, "FORBIDDEN")
    # A read-only token cannot, the viewer's own session can.
    assert_error(await client.delete(f"/api/v1/members/{viewer.user_id}", headers=viewer.bearer), 403, "FORBIDDEN")
    r = await client.delete(f"/api/v1/members/{viewer.user_id}", cookies=viewer.cookies,
                            headers=viewer.session_headers)
    assert r.status_code == 204
    log = (await client.get("/api/v1/audit-log?action=member.left", headers=alice.bearer)).json()
    assert log["items"][0]["actor_user_id"] == viewer.user_id
    assert log["items"][0]["target_id"] == viewer.user_id
