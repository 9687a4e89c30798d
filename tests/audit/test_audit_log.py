"""GET /audit-log: the caller's tenant only, admins and owners only, nothing secret in it."""

from __future__ import annotations

import json
import uuid

from tests.conftest import assert_error
from tests.tenancy.helpers import invite, join, mailed_token


async def _events(client, account, query: str = "") -> list[dict]:
    r = await client.get(f"/api/v1/audit-log?per_page=100{query}", headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_sign_ins_and_mutations_are_listed_for_the_own_tenant_only(client, alice, outsider):
    r = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password},
                          headers={"User-Agent": "audit-test/1.0"})
    assert r.status_code == 200
    await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "not her password"})
    await client.put("/api/v1/tenants/current", json={"name": "Audited"}, headers=alice.bearer)
    await client.put("/api/v1/tenants/current", json={"name": "Outsider Inc"}, headers=outsider.bearer)
    events = await _events(client, alice)
    actions = [e["action"] for e in events]
    assert {"user.registered", "api_token.created", "auth.login", "tenant.renamed"} <= set(actions)
    logins = [e for e in events if e["action"] == "auth.login"]
    assert {e["outcome"] for e in logins} == {"success", "failure"}
    ok = next(e for e in logins if e["outcome"] == "success")
    assert ok["actor_user_id"] == alice.user_id and ok["user_agent"] == "audit-test/1.0" and ok["ip"]
    assert ok["created_at"].endswith("Z") and ok["tenant_id"] == alice.tenant_id
    assert events == sorted(events, key=lambda e: e["created_at"], reverse=True)  # newest first
    assert {e["tenant_id"] for e in events} == {alice.tenant_id}
    theirs = await _events(client, outsider)
    assert {e["tenant_id"] for e in theirs} == {outsider.tenant_id}
    assert not [e for e in theirs if e["actor_user_id"] == alice.user_id or e["actor_label"] == alice.email]
    assert "Outsider Inc" not in json.dumps(events)


async def test_admins_only(app, client, smtp_server, signup, alice):
    member = await join(app, client, smtp_server, signup, alice, "member")
    viewer = await join(app, client, smtp_server, signup, alice, "viewer")
    assert_error(await client.get("/api/v1/audit-log", headers=member.bearer), 403, "FORBIDDEN")
    assert_error(await client.get("/api/v1/audit-log", headers=viewer.bearer), 403, "FORBIDDEN")
    assert_error(await client.get("/api/v1/audit-log", cookies=viewer.cookies), 403, "FORBIDDEN")
    r = await client.put(f"/api/v1/members/{member.user_id}", json={"role": "admin"}, headers=alice.bearer)
    assert r.status_code == 200
    assert (await client.get("/api/v1/audit-log", headers=member.bearer)).status_code == 200
    assert_error(await client.get("/api/v1/audit-log"), 401, "UNAUTHENTICATED")


async def test_token_without_audit_scope_is_refused(client, signup):
    narrow = await signup(scopes=["monitors:read"])
    assert_error(await client.get("/api/v1/audit-log", headers=narrow.bearer), 403, "FORBIDDEN")
    reader = await signup(scopes=["audit:read"])
    assert (await client.get("/api/v1/audit-log", headers=reader.bearer)).status_code == 200


async def test_pagination_envelope_and_action_filter(client, alice):
    for n in range(3):
        await client.put("/api/v1/tenants/current", json={"name": f"Name {n}"}, headers=alice.bearer)
    r = await client.get("/api/v1/audit-log?per_page=2", headers=alice.bearer)
    body = r.json()
    assert set(body) == {"items", "total", "page", "per_page", "total_pages"}
    assert body["per_page"] == 2 and len(body["items"]) == 2 and body["total"] >= 5
    assert body["total_pages"] == -(-body["total"] // 2)
    page2 = (await client.get("/api/v1/audit-log?per_page=2&page=2", headers=alice.bearer)).json()
    assert not {e["id"] for e in page2["items"]} & {e["id"] for e in body["items"]}
    renamed = (await client.get("/api/v1/audit-log?action=tenant.renamed", headers=alice.bearer)).json()
    assert renamed["total"] == 3 and {e["action"] for e in renamed["items"]} == {"tenant.renamed"}
    assert [e["details"]["to"] for e in renamed["items"]] == ["Name 2", "Name 1", "Name 0"]
    prefix = (await client.get("/api/v1/audit-log?action=tenant", headers=alice.bearer)).json()
    assert prefix["total"] == 3
    # "_" and "%" are literal characters, not wildcards.
    assert (await client.get("/api/v1/audit-log?action=tenant_renamed", headers=alice.bearer)).json()["total"] == 0
    assert (await client.get("/api/v1/audit-log?action=%25", headers=alice.bearer)).json()["total"] == 0
    assert_error(await client.get("/api/v1/audit-log?per_page=101", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get("/api/v1/audit-log?page=0", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get("/api/v1/audit-log?action=" + "x" * 81, headers=alice.bearer),
                 422, "VALIDATION_FAILED")


async def test_no_secret_in_any_row(app, client, smtp_server, signup, alice):
    # Exercise every path that handles a secret: sign-in, failed sign-in, tokens, invitations.
    login = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
    session_cookie = login.cookies.get("xinex_session")
    await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "Wrong-Secret-123"})
    created = await client.post("/api/v1/api-tokens", json={"name": "ci", "scopes": ["monitors:read"]},
                                headers=alice.bearer)
    new_token = created.json()["token"]
    email = f"secret-{uuid.uuid4().hex[:8]}@example.com"
    await invite(app, client, alice, email)
    invitee = await signup(email=email)
    invitation_token = mailed_token(smtp_server, email)
    r = await client.post("/api/v1/invitations/accept", json={"token": invitation_token},
                          cookies=invitee.cookies, headers=invitee.session_headers)
    assert r.status_code == 201
    dump = json.dumps(await _events(client, alice))
    assert "invitation.accepted" in dump and "api_token.created" in dump
    for secret in (alice.password, "Wrong-Secret-123", alice.token, new_token, new_token[len("xinex_"):],
                   invitation_token, session_cookie, alice.csrf, invitee.password):
        assert secret and secret not in dump
