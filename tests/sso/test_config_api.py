"""The SSO admin API: tier gating, roles, tenant isolation, validation, audit, enforcement."""

from __future__ import annotations

import httpx

from tests.conftest import assert_error
from tests.sso.conftest import config_body, make_sso_tenant, set_tier, unique_email
from tests.sso.idp import TestIdp


async def test_put_get_update_delete(app, db, signup, client):
    sso = await make_sso_tenant(app, db, signup)
    created = sso.config
    assert created["tenant_id"] == sso.account.tenant_id
    assert created["created_at"].endswith("Z") and created["updated_at"].endswith("Z")
    assert created["sp_entity_id"].endswith(f"/api/v1/sso/{sso.slug}/metadata")
    assert created["sp_acs_url"].endswith(f"/api/v1/sso/{sso.slug}/acs")
    assert len(created["idp_cert_fingerprint_sha256"]) == 64 and created["enforce"] is False

    r = await client.get("/api/v1/sso/config", headers=sso.account.bearer)
    assert r.status_code == 200 and r.json()["id"] == created["id"]
    etag = r.headers["etag"]

    body = config_body(sso.idp, allowed_domains=["Example.COM", "@corp.example.org"], default_role="viewer")
    r = await client.put("/api/v1/sso/config", json=body, headers={**sso.account.bearer, "If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["id"]
    assert r.json()["allowed_domains"] == ["example.com", "corp.example.org"]
    assert r.json()["default_role"] == "viewer"
    # The old ETag is stale now.
    r = await client.put("/api/v1/sso/config", json=body, headers={**sso.account.bearer, "If-Match": etag})
    assert_error(r, 412, "PRECONDITION_FAILED")

    log = (await client.get("/api/v1/audit-log?action=sso.", headers=sso.account.bearer)).json()["items"]
    updates = [e for e in log if e["action"] == "sso.config_updated"]
    assert len(updates) == 2 and "allowed_domains" in updates[0]["details"]["changed"]
    assert "BEGIN CERTIFICATE" not in str(log)

    r = await client.delete("/api/v1/sso/config", headers=sso.account.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.get("/api/v1/sso/config", headers=sso.account.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete("/api/v1/sso/config", headers=sso.account.bearer), 404, "NOT_FOUND")
    assert_error(await client.get(f"/api/v1/sso/{sso.slug}/metadata"), 404, "NOT_FOUND")
    log = (await client.get("/api/v1/audit-log?action=sso.config_deleted", headers=sso.account.bearer)).json()
    assert log["total"] == 1


async def test_non_enterprise_tenant_gets_feature_not_in_tier(alice, client, db):
    idp = TestIdp()
    for tier in ("free", "team"):
        await set_tier(db, alice.tenant_id, tier)
        r = await client.put("/api/v1/sso/config", json=config_body(idp), headers=alice.bearer)
        body = assert_error(r, 403, "FEATURE_NOT_IN_TIER")
        assert body["details"]["required_tier"] == "enterprise" and body["details"]["tier"] == tier
        assert_error(await client.get("/api/v1/sso/config", headers=alice.bearer), 403, "FEATURE_NOT_IN_TIER")


async def test_sso_stops_when_the_tenant_leaves_enterprise(sso, db):
    await set_tier(db, sso.account.tenant_id, "pro")
    async with sso.client() as browser:
        assert_error(await browser.get("/api/v1/sso/login", params={"tenant": sso.slug}), 404, "NOT_FOUND")
        r = await sso.post(browser, sso.response("_x", unique_email()))
        assert_error(r, 404, "NOT_FOUND")


async def test_outsider_cannot_see_or_change_another_tenants_config(sso, outsider, db, client):
    assert_error(await client.get("/api/v1/sso/config", headers=outsider.bearer), 403, "FEATURE_NOT_IN_TIER")
    await set_tier(db, outsider.tenant_id, "enterprise")
    # Their own view: nothing configured, even though another tenant has a config.
    assert_error(await client.get("/api/v1/sso/config", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete("/api/v1/sso/config", headers=outsider.bearer), 404, "NOT_FOUND")
    own = TestIdp()
    r = await client.put("/api/v1/sso/config", json=config_body(own), headers=outsider.bearer)
    assert r.status_code == 201, r.text
    assert r.json()["tenant_id"] == outsider.tenant_id and r.json()["id"] != sso.config["id"]
    # Ours is untouched.
    mine = (await client.get("/api/v1/sso/config", headers=sso.account.bearer)).json()
    assert mine["idp_entity_id"] == sso.idp.entity_id and mine["id"] == sso.config["id"]


async def test_bad_input_is_validation_failed(sso, client):
    h = sso.account.bearer
    cases = {
        "idp_x509_cert": config_body(sso.idp, idp_x509_cert="-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----"),
        "idp_sso_url": config_body(sso.idp, idp_sso_url="ftp://idp.example.test/sso"),
        "allowed_domains": config_body(sso.idp, allowed_domains=["not a domain"]),
        "default_role": config_body(sso.idp, default_role="owner"),
        "idp_entity_id": config_body(sso.idp, idp_entity_id=""),
    }
    for field, body in cases.items():
        r = await client.put("/api/v1/sso/config", json=body, headers=h)
        assert field in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"], (field, r.text)
    key_and_cert = sso.idp.key_pem + sso.idp.cert_pem
    r = await client.put("/api/v1/sso/config", json=config_body(sso.idp, idp_x509_cert=key_and_cert), headers=h)
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert "private key" in body["details"]["fields"]["idp_x509_cert"]
    assert "PRIVATE" not in r.text.replace("private key", "")
    r = await client.put("/api/v1/sso/config", json=config_body(sso.idp, enabled=False, enforce=True), headers=h)
    assert "enforce" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]


async def test_plain_http_idp_url_refused_unless_private_targets_allowed(sso, client, settings):
    settings.outbound_allow_private = False
    try:
        r = await client.put("/api/v1/sso/config", json=config_body(sso.idp, idp_sso_url="http://idp.example.test/sso"),
                             headers=sso.account.bearer)
        assert "idp_sso_url" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]
    finally:
        settings.outbound_allow_private = True
    r = await client.put("/api/v1/sso/config", json=config_body(sso.idp, idp_sso_url="http://127.0.0.1:9/sso"),
                         headers=sso.account.bearer)
    assert r.status_code == 200, r.text


async def test_members_and_read_only_tokens_cannot_manage_sso(sso, app, client):
    # A plain member (joined just in time) may not read or change the config.
    async with sso.client() as browser:
        r = await sso.post(browser, sso.response(await sso.start(browser), unique_email()))
        assert r.status_code == 303
        csrf = browser.cookies["xinex_csrf"]
        assert_error(await browser.get("/api/v1/sso/config"), 403, "FORBIDDEN")
        r = await browser.put("/api/v1/sso/config", json=config_body(sso.idp), headers={"X-CSRF-Token": csrf})
        assert_error(r, 403, "FORBIDDEN")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.post("/api/v1/api-tokens", json={"name": "ro", "scopes": ["tenant:read"]}, headers=sso.account.bearer)
        ro = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.get("/api/v1/sso/config", headers=ro)).status_code == 200
    assert_error(await client.put("/api/v1/sso/config", json=config_body(sso.idp), headers=ro), 403, "FORBIDDEN")


async def test_enforce_sso_refuses_password_login(sso, client):
    h = sso.account.bearer
    r = await client.put("/api/v1/sso/config", json=config_body(sso.idp, enforce=True), headers=h)
    assert r.status_code == 200 and r.json()["enforce"] is True
    r = await client.post("/api/v1/auth/login", json={"email": sso.account.email, "password": sso.account.password})
    assert_error(r, 403, "SSO_REQUIRED")
    # SSO still signs the owner in, and an API token can switch enforcement off (no password break-glass).
    async with sso.client() as browser:
        r = await sso.post(browser, sso.response(await sso.start(browser), sso.account.email))
        assert r.status_code == 303
        assert (await browser.get("/api/v1/me")).json()["id"] == sso.account.user_id
    r = await client.put("/api/v1/sso/config", json=config_body(sso.idp, enforce=False), headers=h)
    assert r.status_code == 200 and r.json()["enforce"] is False
    r = await client.post("/api/v1/auth/login", json={"email": sso.account.email, "password": sso.account.password})
    assert r.status_code == 200
    log = (await client.get("/api/v1/audit-log?action=sso.config_updated", headers=h)).json()["items"]
    assert [e["details"]["enforce_changed"] for e in log[:2]] == [True, True]


async def test_deleting_the_config_lifts_enforcement(sso, client):
    h = sso.account.bearer
    assert (await client.put("/api/v1/sso/config", json=config_body(sso.idp, enforce=True), headers=h)).status_code == 200
    assert (await client.delete("/api/v1/sso/config", headers=h)).status_code == 204
    r = await client.post("/api/v1/auth/login", json={"email": sso.account.email, "password": sso.account.password})
    assert r.status_code == 200
