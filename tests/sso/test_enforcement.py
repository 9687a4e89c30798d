"""Enforcing SSO for a tenant ends what its members could no longer obtain (password and social
browser sessions, the tenant's mobile sign-ins), refuses new API tokens and /oauth/authorize codes
from sessions its IdP did not create, and stops password-reset mail for its members."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from sqlalchemy import update

from tests.auth.oauth_server.conftest import mobile_fixture, pkce_pair  # noqa: F401 (fixture)
from tests.auth.test_email_tokens import _mail_token
from tests.conftest import assert_error
from tests.sso.conftest import config_body
from tests.tenancy.helpers import join

ME = "/api/v1/me"


def _csrf(cookies) -> str:
    return next(v for k, v in dict(cookies).items() if k.endswith("xinex_csrf"))


async def _enforce(client, sso, on: bool = True) -> dict:
    r = await client.put("/api/v1/sso/config", json=config_body(sso.idp, enforce=on), headers=sso.account.bearer)
    assert r.status_code == 200, r.text
    return r.json()


async def test_enforcing_ends_password_sign_ins_and_the_tenants_mobile_sign_ins(app, client, smtp_server, signup,
                                                                               sso, mobile, outsider):
    member = await join(app, client, smtp_server, signup, sso.account)
    phone_here = await mobile.sign_in(member)  # a mobile sign-in in the SSO tenant
    own_tenant = member.extra["own_tenant_id"]
    r = await client.post("/api/v1/tenants/switch", json={"tenant_id": own_tenant}, cookies=member.cookies,
                          headers=member.session_headers)
    assert r.status_code == 200
    phone_elsewhere = await mobile.sign_in(member)  # the same person, in their own tenant
    # A reset link mailed before enforcement.
    assert (await client.post("/api/v1/auth/password-reset", json={"email": member.email})).status_code == 202
    reset = await _mail_token(app, smtp_server, member.email, "Reset")
    async with sso.client() as browser:  # the owner, signed in through the IdP before enforcement
        r = await sso.post(browser, sso.response(await sso.start(browser), sso.account.email))
        assert r.status_code == 303

        body = await _enforce(client, sso)
        assert body["enforce"] is True

        # Password sessions end, wherever they are active: password sign-in is refused from now on.
        assert_error(await client.get(ME, cookies=member.cookies), 401, "UNAUTHENTICATED")
        assert_error(await client.get(ME, cookies=sso.account.cookies), 401, "UNAUTHENTICATED")
        r = await client.post("/api/v1/auth/login", json={"email": member.email, "password": member.password})
        assert_error(r, 403, "SSO_REQUIRED")
        # The tenant's mobile sign-ins end; the member's sign-in to their own tenant stays.
        assert_error(await mobile.me(phone_here["access_token"]), 401, "UNAUTHENTICATED")
        assert_error(await mobile.refresh(phone_here["refresh_token"]), 400, "TOKEN_INVALID")
        assert (await mobile.me(phone_elsewhere["access_token"])).status_code == 200
        # API tokens stay (the owner's way to the API without the IdP); the mailed reset link is dead.
        assert (await client.get(ME, headers=member.bearer)).status_code == 200
        r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": reset, "password": "pw after sso!"})
        assert_error(r, 400, "TOKEN_INVALID")

        # The SSO session goes on, and may still create API tokens and authorize the mobile app.
        assert (await browser.get(ME)).status_code == 200
        r = await browser.post("/api/v1/api-tokens", json={"name": "from sso", "scopes": ["monitors:read"]},
                               headers={"X-CSRF-Token": _csrf(browser.cookies)})
        assert r.status_code == 201, r.text
        owner_by_sso = SimpleNamespace(cookies={"xinex_session": dict(browser.cookies)["xinex_session"]})
        tokens = await mobile.sign_in(owner_by_sso)
        assert (await mobile.me(tokens["access_token"])).status_code == 200

    log = (await client.get("/api/v1/audit-log?action=sso.config_updated", headers=sso.account.bearer)).json()
    details = log["items"][0]["details"]
    assert (details["sessions_ended"], details["mobile_sign_ins_ended"]) == (2, 1)
    # The outsider is untouched and sees none of it.
    assert (await client.get(ME, headers=outsider.bearer)).status_code == 200
    assert (await client.get(ME, cookies=outsider.cookies)).status_code == 200
    assert (await client.get("/api/v1/audit-log?action=sso.", headers=outsider.bearer)).json()["items"] == []


async def test_sessions_from_elsewhere_get_no_tokens_or_codes_in_an_enforcing_tenant(app, client, db, smtp_server,
                                                                                     signup, sso, mobile):
    await _enforce(client, sso)
    # Joining after enforcement: the invitation is accepted, but the password session cannot enter.
    member = await join_without_switch(app, client, smtp_server, signup, sso.account)
    r = await client.post("/api/v1/tenants/switch", json={"tenant_id": sso.account.tenant_id}, cookies=member.cookies,
                          headers=member.session_headers)
    assert_error(r, 403, "SSO_REQUIRED")
    assert (await client.get(ME, cookies=member.cookies)).json()["tenant_id"] == member.tenant_id

    # Whatever put a password session in the tenant (e.g. a switch racing enforcement), it gets no
    # tenant there: no API token, no authorization code for the mobile app.
    from xinex.models.identity import UserSession

    async with db.session(system="test: a password session active in the SSO tenant") as s:
        await s.execute(update(UserSession).where(UserSession.user_id == uuid.UUID(member.user_id))
                        .values(active_tenant_id=uuid.UUID(sso.account.tenant_id)))
    r = await client.post("/api/v1/api-tokens", json={"name": "sneaky", "scopes": ["*:write"]},
                          cookies=member.cookies, headers=member.session_headers)
    assert_error(r, 403, "SSO_REQUIRED")
    _, challenge = pkce_pair()
    r = await mobile.authorize(member, challenge)
    assert_error(r, 403, "SSO_REQUIRED")
    assert (await client.get(ME, cookies=member.cookies)).json()["tenant_id"] is None
    log = (await client.get("/api/v1/audit-log?action=authz.denied", headers=sso.account.bearer)).json()["items"]
    assert [(e["actor_user_id"], e["details"]["error_code"], e["details"]["route"]) for e in log] == [
        (member.user_id, "SSO_REQUIRED", "/api/v1/api-tokens")]
    # It can still leave for a tenant that does not enforce SSO.
    r = await client.post("/api/v1/tenants/switch", json={"tenant_id": member.tenant_id}, cookies=member.cookies,
                          headers=member.session_headers)
    assert r.status_code == 200, r.text


async def join_without_switch(app, client, smtp_server, signup, owner):
    from tests.tenancy.helpers import invite, mailed_token

    email = f"late-{uuid.uuid4().hex[:10]}@example.com"
    await invite(app, client, owner, email)
    person = await signup(email=email)
    r = await client.post("/api/v1/invitations/accept", json={"token": mailed_token(smtp_server, email)},
                          cookies=person.cookies, headers=person.session_headers)
    assert r.status_code == 201, r.text
    return person


async def test_no_reset_mail_for_members_of_an_enforcing_tenant(app, client, smtp_server, signup, sso):
    member = await join(app, client, smtp_server, signup, sso.account)
    await _enforce(client, sso)
    before = len(smtp_server.to(member.email))
    known = await client.post("/api/v1/auth/password-reset", json={"email": member.email})
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": f"nobody-{uuid.uuid4().hex[:8]}@x.io"})
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
    await app.state.jobs.drain()
    assert len(smtp_server.to(member.email)) == before
    # Lifting enforcement brings reset mail back.
    await _enforce(client, sso, on=False)
    assert (await client.post("/api/v1/auth/password-reset", json={"email": member.email})).status_code == 202
    assert await _mail_token(app, smtp_server, member.email, "Reset")
