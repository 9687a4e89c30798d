"""Hostile input to the SSO endpoints: NUL in a tenant slug answers the same 404 as any unknown
slug, NUL in config fields is 422 on the field, garbage SAMLResponses are 401 — never a 500."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import assert_error
from tests.sso.conftest import config_body, make_sso_tenant


@pytest.fixture
async def sso(app, db, signup):
    return await make_sso_tenant(app, db, signup)


async def test_nul_in_slug_is_404_like_an_unknown_tenant(client, sso):
    assert_error(await client.get("/api/v1/sso/a%00b/metadata"), 404, "NOT_FOUND")
    assert_error(await client.get(f"/api/v1/sso/{sso.slug}%00/metadata"), 404, "NOT_FOUND")
    assert_error(await client.get("/api/v1/sso/login", params={"tenant": sso.slug + "\x00"}), 404, "NOT_FOUND")
    r = await client.post("/api/v1/sso/x%00y/acs", data={"SAMLResponse": base64.b64encode(b"<x/>").decode()})
    assert_error(r, 404, "NOT_FOUND")
    assert (await client.get(f"/api/v1/sso/{sso.slug}/metadata")).status_code == 200


@pytest.mark.parametrize("field", ["idp_entity_id", "idp_sso_url", "idp_slo_url", "idp_x509_cert"])
async def test_config_fields_with_nul_are_422(client, sso, field):
    body = config_body(sso.idp)
    body[field] = {"idp_entity_id": "urn:idp\x00", "idp_sso_url": "https://idp.example.test/s\x00so",
                   "idp_slo_url": "https://idp.example.test/s\x00lo"}.get(field, sso.idp.cert_pem + "\x00")
    r = await client.put("/api/v1/sso/config", json=body, headers=sso.account.bearer)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {field}
    current = (await client.get("/api/v1/sso/config", headers=sso.account.bearer)).json()
    assert current["idp_entity_id"] == sso.config["idp_entity_id"]


async def test_outsider_config_is_their_own_and_garbage_saml_is_401(client, sso, outsider):
    # The outsider (free plan) has no SAML configuration: alice's is never visible to them.
    r = await client.get("/api/v1/sso/config", headers=outsider.bearer)
    assert r.status_code in (403, 404) and r.json()["code"] in ("FEATURE_NOT_IN_TIER", "NOT_FOUND")
    for garbage in ("!!!", base64.b64encode(b"<not-xml").decode(), base64.b64encode(b"\x00\x01").decode(),
                    base64.b64encode(b"<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol' "
                                     b"ID='x' InResponseTo='" + b"a" * 10000 + b"'/>").decode()):
        r = await client.post(f"/api/v1/sso/{sso.slug}/acs", data={"SAMLResponse": garbage, "RelayState": "\x00"})
        assert_error(r, 401, "UNAUTHENTICATED")
