"""/api/v1/push-tokens with a mobile JWT from the real PKCE flow: register (idempotent, moves between
users), list, unregister (owner only), sign-out unregisters, bad input, and another tenant's 404."""

from __future__ import annotations

from tests.conftest import assert_error
from tests.push.helpers import android_token, ios_token, jwt_headers, register, signed_in_phone
from tests.tenancy.helpers import join


async def test_register_is_idempotent_and_listed(client, mobile, alice):
    headers = jwt_headers(await signed_in_phone(mobile, alice))
    token = ios_token()
    r = await register(client, headers, token, "ios", app_version="2.4.0", device_name="Ana's iPhone",
                       locale="en-GB", critical_alerts=True, apns_environment="sandbox")
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["platform"] == "ios" and first["critical_alerts"] is True and first["signed_in_with"] == "mobile"
    assert first["apns_environment"] == "sandbox"
    r = await register(client, headers, token, "ios", app_version="2.5.0")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == first["id"] and r.json()["app_version"] == "2.5.0"
    assert r.json()["critical_alerts"] is False  # a registration states the device as it is now
    r = await register(client, headers, android_token(), "android", device_name="Pixel")
    assert r.status_code == 201
    listed = await client.get("/api/v1/push-tokens", headers=headers)
    assert listed.status_code == 200
    body = listed.json()
    assert set(body) >= {"items", "total", "page", "per_page", "total_pages"} and body["total"] == 2
    assert {i["platform"] for i in body["items"]} == {"ios", "android"}
    # The session and API-token credentials of the same user see the same devices.
    assert (await client.get("/api/v1/push-tokens", headers=alice.bearer)).json()["total"] == 2


async def test_a_token_moves_to_whoever_registers_it_and_only_its_owner_deletes_it(app, client, smtp_server,
                                                                                    signup, alice):
    bob = await join(app, client, smtp_server, signup, alice)
    token = android_token()
    assert (await register(client, alice.bearer, token, "android")).status_code == 201
    # Bob may not remove Alice's token: the answer of a token that does not exist.
    assert_error(await client.delete(f"/api/v1/push-tokens/{token}", headers=bob.bearer), 404, "NOT_FOUND")
    # The phone changes hands: Bob registers it, and it is his now.
    r = await register(client, bob.bearer, token, "android")
    assert r.status_code == 200, r.text
    assert (await client.get("/api/v1/push-tokens", headers=alice.bearer)).json()["total"] == 0
    assert (await client.get("/api/v1/push-tokens", headers=bob.bearer)).json()["total"] == 1
    assert_error(await client.delete(f"/api/v1/push-tokens/{token}", headers=alice.bearer), 404, "NOT_FOUND")
    r = await client.delete(f"/api/v1/push-tokens/{token}", headers=bob.bearer)
    assert r.status_code == 204
    assert_error(await client.delete(f"/api/v1/push-tokens/{token}", headers=bob.bearer), 404, "NOT_FOUND")


async def test_another_tenant_sees_nothing(client, alice, outsider):
    token = ios_token()
    assert (await register(client, alice.bearer, token, "ios")).status_code == 201
    assert (await client.get("/api/v1/push-tokens", headers=outsider.bearer)).json()["total"] == 0
    assert_error(await client.delete(f"/api/v1/push-tokens/{token}", headers=outsider.bearer), 404, "NOT_FOUND")
    # The same phone registered in the other tenant is that tenant's own registration.
    assert (await register(client, outsider.bearer, token, "ios")).status_code == 201
    assert (await client.get("/api/v1/push-tokens", headers=alice.bearer)).json()["total"] == 1


async def test_signing_out_of_the_app_unregisters_its_tokens(client, mobile, alice):
    tokens = await mobile.sign_in(alice)
    headers = jwt_headers(tokens["access_token"])
    other_phone = jwt_headers(await signed_in_phone(mobile, alice))
    assert (await register(client, headers, ios_token(), "ios")).status_code == 201
    assert (await register(client, other_phone, android_token(), "android")).status_code == 201
    r = await mobile.http.post("/oauth/revoke", data={"token": tokens["refresh_token"],
                                                      "client_id": mobile.client_id})
    assert r.status_code == 200, r.text
    listed = (await client.get("/api/v1/push-tokens", headers=alice.bearer)).json()
    assert [i["platform"] for i in listed["items"]] == ["android"]  # the other sign-in's phone stays


async def test_bad_input_is_refused_with_the_field_named(client, alice):
    cases = [
        ({"token": "not-hex" * 10, "platform": "ios"}, "token"),
        ({"token": ios_token(), "platform": "windows"}, "platform"),
        ({"token": "short", "platform": "android"}, "token"),
        ({"token": android_token(), "platform": "android", "locale": "en GB!"}, "locale"),
        ({"token": android_token(), "platform": "android", "extra": 1}, "extra"),
        ({"platform": "android"}, "token"),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/push-tokens", json=body, headers=alice.bearer)
        err = assert_error(r, 422, "VALIDATION_FAILED")
        assert any(field in key for key in err["details"]["fields"]), (body, err)
    r = await client.post("/api/v1/push-tokens", content=b"\xff", headers={**alice.bearer,
                                                                         "content-type": "application/json"})
    assert_error(r, 422, "VALIDATION_FAILED")
    assert_error(await client.get("/api/v1/push-tokens"), 401, "UNAUTHENTICATED")


def test_the_access_log_masks_a_push_token_in_a_path():
    import logging

    from xinex.kit.logging import _DropQueryString

    token = "a" * 64
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "DELETE", f"/api/v1/push-tokens/{token}?x=1", "1.1", 204), None)
    _DropQueryString().filter(record)
    assert token not in record.getMessage() and "/api/v1/push-tokens/…" in record.getMessage()


async def test_an_apns_token_is_one_device_whatever_its_case(client, mobile, alice):
    headers = jwt_headers(await signed_in_phone(mobile, alice))
    token = ios_token()
    first = await register(client, headers, token.upper(), "ios")
    assert first.status_code == 201, first.text
    assert first.json()["token"] == token  # stored as APNs spells it: lower case
    again = await register(client, headers, token, "ios")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    listed = (await client.get("/api/v1/push-tokens", headers=headers)).json()
    assert [i["token"] for i in listed["items"] if i["platform"] == "ios"] == [token]
    # Unregistering in either case removes it.
    assert (await client.delete(f"/api/v1/push-tokens/{token.upper()}", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/push-tokens", headers=headers)).json()["total"] == 0


async def test_a_missing_scope_is_named_in_the_403(client, alice, outsider):
    r = await client.post("/api/v1/api-tokens", json={"name": "monitors only", "scopes": ["monitors:read"]},
                          headers=alice.bearer)
    assert r.status_code == 201, r.text
    narrow = {"Authorization": f"Bearer {r.json()['token']}"}
    body = assert_error(await client.get("/api/v1/push-tokens", headers=narrow), 403, "FORBIDDEN")
    assert body["details"]["required_scope"] == "notifications:read"
    body = assert_error(await register(client, narrow, ios_token(), "ios"), 403, "FORBIDDEN")
    assert body["details"]["required_scope"] == "notifications:write"
    # Another tenant's owner lists only their own (none of Alice's).
    assert (await client.get("/api/v1/push-tokens", headers=outsider.bearer)).json()["total"] == 0
