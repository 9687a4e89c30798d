"""ETag / If-None-Match → 304 on GETs, If-Match → 412 on stale updates."""

from __future__ import annotations

import uuid

from tests.conftest import assert_error


async def test_me_etag_and_if_none_match(client, alice):
    r = await client.get("/api/v1/me", headers=alice.bearer)
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert etag.startswith('W/"')
    again = await client.get("/api/v1/me", headers={**alice.bearer, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["x-request-id"] and again.headers["x-ratelimit-limit"]
    assert again.headers["cache-control"] == "no-store"
    # Strong/weak comparison and lists of tags are understood.
    strong = etag.removeprefix("W/")
    assert (await client.get("/api/v1/me", headers={**alice.bearer, "If-None-Match": strong})).status_code == 304
    listed = f'"nope", {etag}'
    assert (await client.get("/api/v1/me", headers={**alice.bearer, "If-None-Match": listed})).status_code == 304
    # A tag for something else, or for an older version, gets the full body.
    other = await client.get("/api/v1/me", headers={**alice.bearer, "If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.json()["email"] == alice.email
    assert (await client.put("/api/v1/me", json={"name": "Renamed"}, headers=alice.bearer)).status_code == 200
    changed = await client.get("/api/v1/me", headers={**alice.bearer, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed"
    assert changed.headers["etag"] != etag


async def test_me_if_match(client, alice):
    etag = (await client.get("/api/v1/me", headers=alice.bearer)).headers["etag"]
    ok = await client.put("/api/v1/me", json={"name": "First"}, headers={**alice.bearer, "If-Match": etag})
    assert ok.status_code == 200 and ok.json()["name"] == "First"
    new_etag = ok.headers["etag"]
    assert new_etag != etag
    # Someone who read before that change is refused instead of silently overwriting it.
    stale = await client.put("/api/v1/me", json={"name": "Second"}, headers={**alice.bearer, "If-Match": etag})
    body = assert_error(stale, 412, "PRECONDITION_FAILED")
    assert body["details"]["current_etag"] == new_etag
    assert (await client.get("/api/v1/me", headers=alice.bearer)).json()["name"] == "First"
    ok = await client.put("/api/v1/me", json={"name": "Second"}, headers={**alice.bearer, "If-Match": new_etag})
    assert ok.status_code == 200
    star = await client.put("/api/v1/me", json={"name": "Third"}, headers={**alice.bearer, "If-Match": "*"})
    assert star.status_code == 200
    # Without If-Match the update is unconditional.
    assert (await client.put("/api/v1/me", json={"name": "Fourth"}, headers=alice.bearer)).status_code == 200


async def test_api_token_detail_etag(client, alice, outsider):
    created = await client.post("/api/v1/api-tokens", json={"name": "etag-target", "scopes": ["monitors:read"]},
                                headers=alice.bearer)
    token_id = created.json()["id"]
    r = await client.get(f"/api/v1/api-tokens/{token_id}", headers=alice.bearer)
    assert r.status_code == 200 and r.headers["etag"]
    r304 = await client.get(f"/api/v1/api-tokens/{token_id}", headers={**alice.bearer, "If-None-Match": r.headers["etag"]})
    assert r304.status_code == 304 and r304.content == b""
    # Revoking changes the representation, so the old tag no longer matches.
    assert (await client.delete(f"/api/v1/api-tokens/{token_id}", headers=alice.bearer)).status_code == 204
    after = await client.get(f"/api/v1/api-tokens/{token_id}", headers={**alice.bearer, "If-None-Match": r.headers["etag"]})
    assert after.status_code == 200 and after.json()["revoked_at"]
    # Another tenant's If-None-Match guess reveals nothing: 404 as for a missing object.
    r = await client.get(f"/api/v1/api-tokens/{token_id}", headers={**outsider.bearer, "If-None-Match": r.headers["etag"]})
    assert_error(r, 404, "NOT_FOUND")


async def test_versioned_detail_endpoint_304_and_412(client, alice, outsider):
    hb = await client.post("/api/v1/heartbeats", json={"name": f"etag {uuid.uuid4().hex[:6]}"}, headers=alice.bearer)
    assert hb.status_code == 201, hb.text
    url = f"/api/v1/heartbeats/{hb.json()['id']}"
    r = await client.get(url, headers=alice.bearer)
    etag = r.headers["etag"]
    assert etag == hb.headers["etag"]  # the version tag of the row, same on create and read
    assert (await client.get(url, headers={**alice.bearer, "If-None-Match": etag})).status_code == 304
    updated = await client.put(url, json={"name": "renamed"}, headers={**alice.bearer, "If-Match": etag})
    assert updated.status_code == 200 and updated.headers["etag"] != etag
    stale = await client.put(url, json={"name": "again"}, headers={**alice.bearer, "If-Match": etag})
    assert_error(stale, 412, "PRECONDITION_FAILED")
    assert (await client.get(url, headers={**alice.bearer, "If-None-Match": etag})).status_code == 200
    assert_error(await client.put(url, json={"name": "x"}, headers={**outsider.bearer, "If-Match": "*"}), 404, "NOT_FOUND")


async def test_lists_carry_an_etag_too(client, alice):
    r = await client.get("/api/v1/api-tokens", headers=alice.bearer)
    assert r.status_code == 200 and r.headers["etag"]
    r2 = await client.get("/api/v1/api-tokens", headers={**alice.bearer, "If-None-Match": r.headers["etag"]})
    assert r2.status_code == 304
