"""An enterprise tenant with a SAML configuration pointing at a test IdP, plus helpers to run an
SP-initiated sign-in against the real app."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import update

from tests.conftest import Account
from tests.sso.idp import TestIdp, request_id_from_redirect


async def set_tier(db, tenant_id: str, tier: str) -> None:
    from xinex.models.tenant import Tenant

    async with db.session(system="test.set_tier") as s:
        await s.execute(update(Tenant).where(Tenant.id == uuid.UUID(tenant_id)).values(tier=tier))


def config_body(idp: TestIdp, **overrides) -> dict:
    body = {"idp_entity_id": idp.entity_id, "idp_sso_url": "https://idp.example.test/sso",
            "idp_x509_cert": idp.cert_pem, "default_role": "member", "allowed_domains": [], "enabled": True,
            "enforce": False}
    body.update(overrides)
    return body


@dataclass
class SsoTenant:
    app: object
    account: Account
    idp: TestIdp
    slug: str
    config: dict

    @property
    def acs_url(self) -> str:
        return self.config["sp_acs_url"]

    @property
    def audience(self) -> str:
        return self.config["sp_entity_id"]

    def client(self) -> httpx.AsyncClient:
        """A fresh browser: no cookies."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver")

    async def start(self, client: httpx.AsyncClient, next_path: str | None = None) -> str:
        params = {"tenant": self.slug}
        if next_path:
            params["next"] = next_path
        r = await client.get("/api/v1/sso/login", params=params)
        assert r.status_code == 302, r.text
        assert r.headers["location"].startswith("https://idp.example.test/sso?SAMLRequest=")
        return request_id_from_redirect(r.headers["location"])

    def response(self, request_id: str | None, name_id: str, **kw) -> str:
        return self.idp.signed_response(name_id=name_id, acs_url=self.acs_url, audience=self.audience,
                                        in_response_to=request_id, **kw)

    async def post(self, client: httpx.AsyncClient, saml_response: str, relay_state: str | None = None,
                   slug: str | None = None) -> httpx.Response:
        data = {"SAMLResponse": saml_response}
        if relay_state is not None:
            data["RelayState"] = relay_state
        return await client.post(f"/api/v1/sso/{slug or self.slug}/acs", data=data)


async def make_sso_tenant(app, db, signup, **config_overrides) -> SsoTenant:
    account = await signup()
    await set_tier(db, account.tenant_id, "enterprise")
    idp = TestIdp()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.put("/api/v1/sso/config", json=config_body(idp, **config_overrides), headers=account.bearer)
        assert r.status_code == 201, r.text
        config = r.json()
        me = await c.get("/api/v1/me", headers=account.bearer)
    slug = next(t["slug"] for t in me.json()["tenants"] if t["id"] == account.tenant_id)
    return SsoTenant(app=app, account=account, idp=idp, slug=slug, config=config)


@pytest.fixture
async def sso(app, db, signup) -> SsoTenant:
    return await make_sso_tenant(app, db, signup)


def unique_email(domain: str | None = None) -> str:
    return f"u{uuid.uuid4().hex[:10]}@{domain or f'corp-{uuid.uuid4().hex[:6]}.example.com'}"
