"""Idempotency-Key with Stripe semantics, over the real middleware and database."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import assert_error
from tests.kit.conftest import client_for


def _key() -> str:
    return f"idem-{uuid.uuid4().hex}"


async def _token_names(client, account) -> list[str]:
    r = await client.get("/api/v1/api-tokens?per_page=100", headers=account.bearer)
    assert r.status_code == 200
    return [t["name"] for t in r.json()["items"]]


async def test_replay_returns_stored_response_and_creates_nothing(client, alice):
    h = {**alice.bearer, "Idempotency-Key": _key()}
    first = await client.post("/api/v1/api-tokens", json={"name": "ci", "scopes": ["monitors:read"]}, headers=h)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    second = await client.post("/api/v1/api-tokens", json={"name": "ci", "scopes": ["monitors:read"]}, headers=h)
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert second.headers["content-type"] == first.headers["content-type"]
    # The replay is still a full response of the contract: its own request id and rate headers.
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert second.headers["x-ratelimit-limit"]
    assert (await _token_names(client, alice)).count("ci") == 1


async def test_same_key_different_body_is_422(client, alice):
    h = {**alice.bearer, "Idempotency-Key": _key()}
    assert (await client.post("/api/v1/api-tokens", json={"name": "one"}, headers=h)).status_code == 201
    r = await client.post("/api/v1/api-tokens", json={"name": "two"}, headers=h)
    assert_error(r, 422, "IDEMPOTENCY_KEY_REUSED")
    # Same body on another path is a different request too.
    r = await client.post("/api/v1/auth/logout", json={"name": "one"}, headers=h)
    assert_error(r, 422, "IDEMPOTENCY_KEY_REUSED")
    assert "two" not in await _token_names(client, alice)


async def test_failed_validation_is_not_stored(client, alice):
    h = {**alice.bearer, "Idempotency-Key": _key()}
    bad = await client.post("/api/v1/api-tokens", json={"name": ""}, headers=h)
    assert_error(bad, 422, "VALIDATION_FAILED")
    good = await client.post("/api/v1/api-tokens", json={"name": "fixed"}, headers=h)
    assert good.status_code == 201
    assert "idempotent-replayed" not in good.headers
    again = await client.post("/api/v1/api-tokens", json={"name": "fixed"}, headers=h)
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == good.json()["id"]


async def test_refused_credential_is_not_stored(client, alice):
    key = _key()
    r = await client.post("/api/v1/api-tokens", json={"name": "x"},
                          headers={"Authorization": "Bearer xinex_" + "0" * 64, "Idempotency-Key": key})
    assert_error(r, 401, "UNAUTHENTICATED")
    r = await client.post("/api/v1/api-tokens", json={"name": "x"},
                          headers={"Authorization": "Bearer xinex_" + "0" * 64, "Idempotency-Key": key})
    assert_error(r, 401, "UNAUTHENTICATED")
    assert "idempotent-replayed" not in r.headers


async def test_keys_are_scoped_per_credential(client, alice, outsider):
    key = _key()
    a = await client.post("/api/v1/api-tokens", json={"name": "shared-key"},
                          headers={**alice.bearer, "Idempotency-Key": key})
    b = await client.post("/api/v1/api-tokens", json={"name": "shared-key"},
                          headers={**outsider.bearer, "Idempotency-Key": key})
    assert a.status_code == b.status_code == 201
    assert "idempotent-replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"] and b.json()["tenant_id"] == outsider.tenant_id
    assert (await _token_names(client, outsider)).count("shared-key") == 1
    # A different body under the same key from the other tenant is not a reuse either.
    c = await client.post("/api/v1/api-tokens", json={"name": "other"},
                          headers={"X-API-Key": outsider.token, "Idempotency-Key": _key()})
    assert c.status_code == 201


async def test_overlong_key_is_rejected(client, alice):
    r = await client.post("/api/v1/api-tokens", json={"name": "x"},
                          headers={**alice.bearer, "Idempotency-Key": "k" * 256})
    assert_error(r, 400, "BAD_REQUEST")


async def test_concurrent_duplicate_is_409_while_in_flight(build_app, alice):
    throwaway = build_app()
    entered, release = asyncio.Event(), asyncio.Event()
    runs = []

    @throwaway.post("/__test__/slow", status_code=201)
    async def slow(body: dict):
        runs.append(body)
        entered.set()
        await release.wait()
        return {"created": len(runs)}

    h = {**alice.bearer, "Idempotency-Key": _key()}
    async with client_for(throwaway) as c:
        first = asyncio.create_task(c.post("/__test__/slow", json={"n": 1}, headers=h))
        await asyncio.wait_for(entered.wait(), 10)
        dup = await c.post("/__test__/slow", json={"n": 1}, headers=h)
        assert_error(dup, 409, "IDEMPOTENCY_KEY_IN_USE")
        assert dup.headers["retry-after"] == "1"
        release.set()
        done = await asyncio.wait_for(first, 10)
        assert done.status_code == 201 and done.json() == {"created": 1}
        replay = await c.post("/__test__/slow", json={"n": 1}, headers=h)
        assert replay.status_code == 201 and replay.json() == {"created": 1}
        assert replay.headers["idempotent-replayed"] == "true"
    assert len(runs) == 1


async def test_get_and_delete_ignore_the_header(client, alice):
    key = _key()
    r1 = await client.get("/api/v1/me", headers={**alice.bearer, "Idempotency-Key": key})
    r2 = await client.get("/api/v1/me", headers={**alice.bearer, "Idempotency-Key": key})
    assert r1.status_code == r2.status_code == 200 and "idempotent-replayed" not in r2.headers


async def test_replayed_secret_is_not_stored_in_clear(client, alice, db):
    """A replayed token creation returns the secret, but the stored record holds only ciphertext."""
    from sqlalchemy import select
    from xinex.models.idempotency import IdempotencyRecord

    headers = {**alice.bearer, "Idempotency-Key": "secret-at-rest-check"}
    first = await client.post("/api/v1/api-tokens", json={"name": "ci"}, headers=headers)
    assert first.status_code == 201
    secret = first.json()["token"]
    replay = await client.post("/api/v1/api-tokens", json={"name": "ci"}, headers=headers)
    assert replay.json()["token"] == secret
    async with db.session(system="test.idempotency_inspection") as session:
        rows = (await session.execute(select(IdempotencyRecord.response_body).where(
            IdempotencyRecord.key == "secret-at-rest-check"))).scalars().all()
    assert rows and all(secret not in (body or "") and secret[6:20] not in (body or "") for body in rows)
