"""SP-initiated SAML sign-in over the real stack with really signed responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lxml import etree

from tests.conftest import assert_error
from tests.sso.conftest import make_sso_tenant, unique_email
from tests.sso.idp import NS, TestIdp, encode, set_name_id


async def _audit(client, account, outcome: str) -> list[dict]:
    r = await client.get("/api/v1/audit-log?action=auth.login", headers=account.bearer)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["outcome"] == outcome and e["details"].get("method") == "saml"]


async def test_happy_path_jit_creates_user_and_session(sso, client):
    email = unique_email()
    async with sso.client() as browser:
        request_id = await sso.start(browser, next_path="/incidents?x=1")
        r = await sso.post(browser, sso.response(request_id, email), relay_state="/incidents?x=1")
        assert r.status_code == 303, r.text
        assert r.headers["location"] == "/incidents?x=1"
        assert "xinex_session" in r.cookies
        me = await browser.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email
        assert me.json()["tenant_id"] == sso.account.tenant_id
        assert me.json()["role"] == "member"
    ok = await _audit(client, sso.account, "success")
    assert ok and ok[0]["details"]["user_created"] is True and ok[0]["actor_label"] == email


async def test_second_login_reuses_linked_identity_and_absolute_relay_state_goes_home(sso):
    email = unique_email()
    async with sso.client() as browser:
        r = await sso.post(browser, sso.response(await sso.start(browser), email))
        assert r.status_code == 303
        first = (await browser.get("/api/v1/me")).json()["id"]
    async with sso.client() as browser:
        r = await sso.post(browser, sso.response(await sso.start(browser), email),
                           relay_state="https://evil.example/phish")
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert (await browser.get("/api/v1/me")).json()["id"] == first
    async with sso.client() as browser:
        r = await sso.post(browser, sso.response(await sso.start(browser), email), relay_state="//evil.example")
        assert r.headers["location"] == "/"


async def test_existing_member_is_linked_without_a_new_account(sso):
    owner = sso.account
    async with sso.client() as browser:
        r = await sso.post(browser, sso.response(await sso.start(browser), owner.email.upper()))
        assert r.status_code == 303, r.text
        me = (await browser.get("/api/v1/me")).json()
        assert me["id"] == owner.user_id and me["role"] == "owner"


async def test_existing_account_of_another_tenant_is_not_taken_over_by_email(sso, outsider, client):
    async with sso.client() as browser:
        r = await sso.post(browser, sso.response(await sso.start(browser), outsider.email))
        body = assert_error(r, 401, "UNAUTHENTICATED")
        assert body["details"]["reason"] == "account_exists_not_member"
        assert "xinex_session" not in r.cookies


async def _refused(sso, client, saml: str, reason: str, browser) -> None:
    r = await sso.post(browser, saml)
    body = assert_error(r, 401, "UNAUTHENTICATED")
    assert body["details"]["reason"] == reason, body
    assert "xinex_session" not in r.cookies
    assert (await browser.get("/api/v1/me")).status_code == 401
    failures = await _audit(client, sso.account, "failure")
    assert any(f["details"]["reason"] == reason for f in failures)


async def test_tampered_name_id_is_refused(sso, client):
    async with sso.client() as browser:
        rid = await sso.start(browser)
        resp = sso.idp.sign_assertion(sso.idp.response_xml(name_id=unique_email(), acs_url=sso.acs_url,
                                                           audience=sso.audience, in_response_to=rid))
        set_name_id(resp, sso.account.email)  # after signing
        await _refused(sso, client, encode(resp), "invalid_signature", browser)


async def test_unsigned_is_refused(sso, client):
    async with sso.client() as browser:
        rid = await sso.start(browser)
        resp = sso.idp.response_xml(name_id=unique_email(), acs_url=sso.acs_url, audience=sso.audience,
                                    in_response_to=rid)
        await _refused(sso, client, encode(resp), "unsigned", browser)


async def test_signed_by_another_key_is_refused_even_with_its_cert_embedded(sso, client):
    mallory = TestIdp(entity_id=sso.idp.entity_id)  # same issuer name, different key
    async with sso.client() as browser:
        rid = await sso.start(browser)
        saml = mallory.signed_response(name_id=unique_email(), acs_url=sso.acs_url, audience=sso.audience,
                                       in_response_to=rid)
        await _refused(sso, client, saml, "invalid_signature", browser)


async def test_signed_by_another_key_claiming_the_pinned_cert_is_refused(sso, client):
    mallory = TestIdp(entity_id=sso.idp.entity_id)
    async with sso.client() as browser:
        rid = await sso.start(browser)
        resp = mallory.response_xml(name_id=unique_email(), acs_url=sso.acs_url, audience=sso.audience,
                                    in_response_to=rid)
        mallory.sign_assertion(resp, embedded_cert_pem=mallory.cert_pem)
        # Swap the embedded certificate for the pinned one: KeyInfo is not trusted either way.
        node = resp.find(".//ds:X509Certificate", NS)
        node.text = "".join(sso.idp.cert_pem.strip().splitlines()[1:-1])
        await _refused(sso, client, encode(resp), "invalid_signature", browser)


async def test_replayed_assertion_is_refused(sso, client):
    async with sso.client() as browser:
        saml = sso.response(await sso.start(browser), unique_email())
        assert (await sso.post(browser, saml)).status_code == 303
    async with sso.client() as attacker:
        await _refused(sso, client, saml, "replayed", attacker)


async def test_wrong_audience_is_refused(sso, app, db, signup, client):
    other = await make_sso_tenant(app, db, signup)
    async with sso.client() as browser:
        rid = await sso.start(browser)
        saml = sso.idp.signed_response(name_id=unique_email(), acs_url=sso.acs_url, audience=other.audience,
                                       in_response_to=rid)
        await _refused(sso, client, saml, "wrong_audience", browser)


async def test_wrong_destination_is_refused(sso, app, db, signup, client):
    other = await make_sso_tenant(app, db, signup)
    async with sso.client() as browser:
        rid = await sso.start(browser)
        saml = sso.response(rid, unique_email(), destination=other.acs_url, recipient=other.acs_url)
        await _refused(sso, client, saml, "wrong_destination", browser)
        rid = await sso.start(browser)
        # A Destination that merely starts with our ACS URL is not ours either.
        saml = sso.response(rid, unique_email(), destination=sso.acs_url + "-other", recipient=sso.acs_url + "-other")
        r = await sso.post(browser, saml)
        assert assert_error(r, 401, "UNAUTHENTICATED")["details"]["reason"] == "wrong_destination"


async def test_expired_is_refused(sso, client):
    async with sso.client() as browser:
        rid = await sso.start(browser)
        saml = sso.response(rid, unique_email(), now=datetime.now(UTC) - timedelta(hours=1))
        await _refused(sso, client, saml, "expired", browser)


async def test_unsolicited_and_unknown_request_are_refused(sso, client):
    async with sso.client() as browser:
        await _refused(sso, client, sso.response(None, unique_email()), "unsolicited", browser)
        await _refused(sso, client, sso.response("_never_issued", unique_email()), "unknown_request", browser)


async def test_garbage_is_refused_not_500(sso, client):
    async with sso.client() as browser:
        await _refused(sso, client, "%%%not base64", "malformed", browser)
        await _refused(sso, client, encode(b"<notxml"), "malformed", browser)
        r = await browser.post(f"/api/v1/sso/{sso.slug}/acs", data={"RelayState": "/"})
        assert_error(r, 422, "VALIDATION_FAILED")


async def test_comment_injected_name_id_does_not_sign_in_as_the_victim(app, db, signup, client):
    victim_domain = f"a{datetime.now(UTC).strftime('%H%M%S%f')}.com"
    victim = f"user@{victim_domain}"
    # Without a domain restriction: the attacker gets (at most) their own, different account.
    sso = await make_sso_tenant(app, db, signup)
    async with sso.client() as browser:
        # The victim is a member first, signed in once through SSO.
        r = await sso.post(browser, sso.response(await sso.start(browser), victim))
        assert r.status_code == 303
        victim_id = (await browser.get("/api/v1/me")).json()["id"]
    async with sso.client() as browser:
        rid = await sso.start(browser)
        resp = sso.idp.sign_assertion(sso.idp.response_xml(
            name_id=f"{victim}.evil.com", acs_url=sso.acs_url, audience=sso.audience, in_response_to=rid))
        # Inject the comment after signing: exclusive c14n drops comments, so the signature holds.
        name_id = resp.find("saml:Assertion/saml:Subject/saml:NameID", NS)
        name_id.text = victim
        comment = etree.Comment("")
        comment.tail = ".evil.com"
        name_id.append(comment)
        assert b"<!---->.evil.com" in etree.tostring(name_id)
        r = await sso.post(browser, encode(resp))
        assert r.status_code == 303, r.text
        me = (await browser.get("/api/v1/me")).json()
        assert me["email"] == f"{victim}.evil.com"
        assert me["id"] != victim_id
    # With the tenant's domain allow-list, the injected address is refused outright.
    strict = await make_sso_tenant(app, db, signup, allowed_domains=[victim_domain])
    async with strict.client() as browser:
        rid = await strict.start(browser)
        resp = strict.idp.sign_assertion(strict.idp.response_xml(
            name_id=f"{victim}.evil.com", acs_url=strict.acs_url, audience=strict.audience, in_response_to=rid))
        name_id = resp.find("saml:Assertion/saml:Subject/saml:NameID", NS)
        name_id.text = victim
        comment = etree.Comment("")
        comment.tail = ".evil.com"
        name_id.append(comment)
        await _refused(strict, client, encode(resp), "domain_not_allowed", browser)


async def test_acs_and_metadata_of_unknown_or_unconfigured_tenant_are_404(sso, outsider, client):
    me = (await client.get("/api/v1/me", headers=outsider.bearer)).json()
    outsider_slug = me["tenants"][0]["slug"]
    for slug in (outsider_slug, "no-such-tenant-xyz"):
        r = await client.post(f"/api/v1/sso/{slug}/acs", data={"SAMLResponse": sso.response("_x", unique_email())})
        assert_error(r, 404, "NOT_FOUND")
        assert_error(await client.get(f"/api/v1/sso/{slug}/metadata"), 404, "NOT_FOUND")
        assert_error(await client.get("/api/v1/sso/login", params={"tenant": slug}), 404, "NOT_FOUND")
    # Another tenant's valid response posted to our ACS is refused (audience/destination differ).
    async with sso.client() as browser:
        r = await sso.post(browser, sso.response(await sso.start(browser), unique_email()), slug=outsider_slug)
        assert_error(r, 404, "NOT_FOUND")


async def test_metadata_and_login_by_email_domain(app, db, signup, client):
    domain = f"corp-{datetime.now(UTC).strftime('%H%M%S%f')}.example.com"
    sso = await make_sso_tenant(app, db, signup, allowed_domains=[domain])
    r = await client.get(f"/api/v1/sso/{sso.slug}/metadata")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/samlmetadata+xml")
    doc = etree.fromstring(r.content)
    assert doc.get("entityID") == sso.audience
    acs = doc.find(".//{urn:oasis:names:tc:SAML:2.0:metadata}AssertionConsumerService")
    assert acs.get("Location") == sso.acs_url
    r = await client.get("/api/v1/sso/login", params={"email": f"someone@{domain.upper()}"})
    assert r.status_code == 302 and "SAMLRequest=" in r.headers["location"]
    assert_error(await client.get("/api/v1/sso/login", params={"email": "x@unknown-domain.example"}), 404, "NOT_FOUND")
    assert_error(await client.get("/api/v1/sso/login"), 422, "VALIDATION_FAILED")
