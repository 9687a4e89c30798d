"""Provider list, disabled providers, SSO enforcement, rate limits and the identities endpoints."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import update
from xinex.models.tenant import Tenant

from tests.auth.oauth_login.conftest import Browser, new_person
from tests.conftest import assert_error


async def test_providers_lists_enabled_ones(client, oauth_settings, settings):
    r = await client.get("/api/v1/auth/oauth/providers")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 4 and body["page"] == 1 and body["per_page"] == 25
    by_name = {p["name"]: p for p in body["items"]}
    assert set(by_name) == {"google", "github", "microsoft", "apple"}
    assert by_name["github"]["display_name"] == "GitHub"
    assert by_name["google"]["authorize_url"] == f"{settings.public_url}/api/v1/auth/oauth/google"
    oauth_settings.oauth_microsoft_client_id = ""
    r = await client.get("/api/v1/auth/oauth/providers")
    assert {p["name"] for p in r.json()["items"]} == {"google", "github", "apple"}
    assert_error(await client.get("/api/v1/auth/oauth/providers?per_page=0"), 422, "VALIDATION_FAILED")


async def test_disabled_or_unknown_provider_is_404(client, oauth_settings):
    oauth_settings.oauth_google_client_id = ""
    assert_error(await client.get("/api/v1/auth/oauth/google"), 404, "NOT_FOUND")
    assert_error(await client.get("/api/v1/auth/oauth/google/callback?code=a&state=b"), 404, "NOT_FOUND")
    assert_error(await client.get("/api/v1/auth/oauth/myspace"), 404, "NOT_FOUND")
    assert_error(await client.post("/api/v1/auth/oauth/myspace/callback"), 404, "NOT_FOUND")


async def test_sso_enforced_member_cannot_use_oauth(app, oidc_provider, db):
    person = oidc_provider.user = new_person()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        first = await Browser(c).login("google", headers={"Accept": "application/json"})
        tenant_id = first.json()["tenant_id"]
    async with db.session(system="test: enforce sso") as s:
        await s.execute(update(Tenant).where(Tenant.id == uuid.UUID(tenant_id)).values(sso_enforced=True))
    oidc_provider.user = person
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await Browser(c).login("google")
        assert_error(r, 403, "SSO_REQUIRED")
        assert "xinex_session" not in r.cookies


async def test_callback_is_rate_limited_per_ip(app, oauth_settings):
    oauth_settings.rate_limit_login_ip = "3/minute"
    transport = httpx.ASGITransport(app=app, client=(f"10.9.{uuid.uuid4().int % 250}.7", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        codes = [(await c.get("/api/v1/auth/oauth/google/callback?code=x&state=y")).status_code for _ in range(4)]
        assert codes[:3] == [400, 400, 400]
        last = await c.get("/api/v1/auth/oauth/google/callback?code=x&state=y")
        assert_error(last, 429, "RATE_LIMITED")
        assert last.headers["retry-after"]
    # Another address is not affected.
    other = httpx.ASGITransport(app=app, client=("10.200.0.1", 5000))
    async with httpx.AsyncClient(transport=other, base_url="http://testserver") as c:
        assert_error(await c.get("/api/v1/auth/oauth/google/callback?code=x&state=y"), 400, "TOKEN_INVALID")


async def _oauth_only_user(app, provider_server) -> tuple[httpx.AsyncClient, dict]:
    provider_server.user = new_person()
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    r = await Browser(c).login("google", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return c, r.json()


async def test_identities_are_private_and_last_method_cannot_be_unlinked(app, oidc_provider, outsider, client):
    c, login = await _oauth_only_user(app, oidc_provider)
    try:
        listed = await c.get("/api/v1/auth/oauth/identities")
        assert listed.status_code == 200
        body = listed.json()
        assert body["total"] == 1 and body["total_pages"] == 1
        ident = body["items"][0]
        assert ident["user_id"] == login["user"]["id"] and ident["provider"] == "google"
        assert ident["created_at"].endswith("Z") and "subject" not in ident
        # The outsider sees none of it and cannot delete it.
        theirs = await client.get("/api/v1/auth/oauth/identities", headers=outsider.bearer)
        assert theirs.status_code == 200 and theirs.json()["total"] == 0
        assert_error(await client.delete(f"/api/v1/auth/oauth/identities/{ident['id']}", headers=outsider.bearer),
                     404, "NOT_FOUND")
        assert_error(await client.delete("/api/v1/auth/oauth/identities/not-a-uuid", headers=outsider.bearer),
                     422, "VALIDATION_FAILED")
        # No password and no other identity: unlinking would lock the user out.
        csrf = {"X-CSRF-Token": login["csrf_token"]}
        r = await c.delete(f"/api/v1/auth/oauth/identities/{ident['id']}", headers=csrf)
        assert assert_error(r, 409, "CONFLICT")["details"]["reason"] == "last_sign_in_method"
        # A cookie mutation without the CSRF header is refused.
        assert_error(await c.delete(f"/api/v1/auth/oauth/identities/{ident['id']}"), 403, "FORBIDDEN")
    finally:
        await c.aclose()
    assert_error(await client.get("/api/v1/auth/oauth/identities"), 401, "UNAUTHENTICATED")


async def test_user_with_password_can_unlink(app, oidc_provider, alice, client):
    oidc_provider.user = new_person(email=alice.email)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 cookies=alice.cookies) as c:
        assert (await Browser(c).login("google", headers={"Accept": "application/json"})).status_code == 200
    ident = (await client.get("/api/v1/auth/oauth/identities", headers=alice.bearer)).json()["items"][0]
    r = await client.delete(f"/api/v1/auth/oauth/identities/{ident['id']}", headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert (await client.get("/api/v1/auth/oauth/identities", headers=alice.bearer)).json()["total"] == 0
    assert_error(await client.delete(f"/api/v1/auth/oauth/identities/{ident['id']}", headers=alice.bearer),
                 404, "NOT_FOUND")
    log = await client.get("/api/v1/audit-log", params={"action": "auth.oauth"}, headers=alice.bearer)
    assert {e["action"] for e in log.json()["items"]} == {"auth.oauth_linked", "auth.oauth_unlinked"}


async def test_read_only_token_cannot_unlink(client, signup):
    reader = await signup(scopes=["account:read"])
    r = await client.delete(f"/api/v1/auth/oauth/identities/{uuid.uuid4()}", headers=reader.bearer)
    assert_error(r, 403, "FORBIDDEN")
    assert (await client.get("/api/v1/auth/oauth/identities", headers=reader.bearer)).status_code == 200
