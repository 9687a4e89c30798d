"""API tokens: shown once, SHA-256 at rest, scopes, expiry, revocation, rotation with overlap."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta

from sqlalchemy import text
from xinex.kit.types import utcnow

from tests.conftest import assert_error

TOKENS = "/api/v1/api-tokens"


async def _create(client, account, **body) -> dict:
    body.setdefault("name", f"tok-{uuid.uuid4().hex[:6]}")
    r = await client.post(TOKENS, json=body, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


async def _set_column(db, token_id: str, column: str, value) -> None:
    async with db.session(system="test: move token clock") as s:
        await s.execute(text(f"UPDATE api_tokens SET {column} = :v WHERE id = :id"), {"v": value, "id": uuid.UUID(token_id)})
    # Raw SQL bypasses the ORM events that invalidate the credential cache (its TTL bounds that in
    # production); here the clock is moved by hand, so drop the cache like a TTL expiry would.
    from xinex.identity.credential_cache import CACHE

    CACHE.clear()


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


async def test_secret_shown_once_and_stored_hashed(client, db, alice):
    created = await _create(client, alice, scopes=["monitors:read", "heartbeats:write"])
    secret = created["token"]
    assert re.fullmatch(r"xinex_[0-9a-f]{64}", secret)
    assert secret.startswith(created["prefix"])
    assert created["tenant_id"] == alice.tenant_id and created["user_id"] == alice.user_id
    assert created["scopes"] == ["heartbeats:write", "monitors:read"]
    for key in ("id", "created_at", "updated_at"):
        assert created[key]
    assert created["created_at"].endswith("Z")
    listed = await client.get(TOKENS, headers=alice.bearer)
    assert listed.status_code == 200
    assert set(listed.json()) == {"items", "total", "page", "per_page", "total_pages"}
    assert secret not in listed.text and all("token" not in t for t in listed.json()["items"])
    detail = await client.get(f"{TOKENS}/{created['id']}", headers=alice.bearer)
    assert detail.status_code == 200 and secret not in detail.text and "token" not in detail.json()
    async with db.session(system="test: inspect token row") as s:
        row = (await s.execute(text("SELECT * FROM api_tokens WHERE id = :id"), {"id": uuid.UUID(created["id"])})).mappings().one()
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in str(v) or secret[6:] in str(v) for v in row.values())


async def test_accepted_as_bearer_and_x_api_key(client, alice):
    secret = (await _create(client, alice))["token"]
    for headers in (_bearer(secret), {"X-API-Key": secret}, {"Authorization": f"bearer   {secret}  "}):
        r = await client.get("/api/v1/me", headers=headers)
        assert r.status_code == 200, (headers, r.text)
        assert r.json()["credential"] == "api_token" and r.json()["tenant_id"] == alice.tenant_id


async def test_malformed_or_unknown_credentials_are_401(client):
    cases = [
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer xinex_short"},
        {"Authorization": "Bearer xinex_" + "g" * 64},
        {"Authorization": "Bearer xinex_" + "0" * 64},  # well-formed, unknown
        {"Authorization": "Bearer not-a-token-at-all"},
        {"Authorization": "Bearer a.b.c"},
        {"X-API-Key": "garbage"},
    ]
    for headers in cases:
        r = await client.get("/api/v1/me", headers=headers)
        assert_error(r, 401, "UNAUTHENTICATED")
        assert r.headers["www-authenticate"].startswith("Bearer"), headers


async def test_read_only_token_cannot_write(client, alice):
    secret = (await _create(client, alice, scopes=["*:read"]))["token"]
    h = _bearer(secret)
    assert (await client.get("/api/v1/me", headers=h)).status_code == 200
    assert_error(await client.get(TOKENS, headers=h), 403, "FORBIDDEN")  # `*` does not cover tokens
    assert (await client.get("/api/v1/heartbeats", headers=h)).status_code == 200
    assert_error(await client.post(TOKENS, json={"name": "x", "scopes": ["*:read"]}, headers=h), 403, "FORBIDDEN")
    assert_error(await client.put("/api/v1/me", json={"name": "nope"}, headers=h), 403, "FORBIDDEN")
    assert_error(await client.post("/api/v1/heartbeats", json={"name": "nope"}, headers=h), 403, "FORBIDDEN")


async def test_area_scopes(client, alice):
    secret = (await _create(client, alice, scopes=["heartbeats:write"]))["token"]
    h = _bearer(secret)
    assert (await client.post("/api/v1/heartbeats", json={"name": f"s {uuid.uuid4().hex[:6]}"}, headers=h)).status_code == 201
    assert (await client.get("/api/v1/heartbeats", headers=h)).status_code == 200  # write implies read
    assert_error(await client.get(TOKENS, headers=h), 403, "FORBIDDEN")


async def test_cannot_grant_more_than_own_scopes(client, alice):
    limited = (await _create(client, alice, scopes=["tokens:write", "monitors:read"]))["token"]
    h = _bearer(limited)
    for scopes in (["monitors:write"], ["*:read"], ["*:write"], ["heartbeats:read"]):
        assert_error(await client.post(TOKENS, json={"name": "up", "scopes": scopes}, headers=h), 403, "FORBIDDEN")
    ok = await client.post(TOKENS, json={"name": "narrower", "scopes": ["monitors:read", "tokens:read"]}, headers=h)
    assert ok.status_code == 201 and ok.json()["scopes"] == ["monitors:read", "tokens:read"]


async def test_bad_create_input(client, alice):
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    for body in ({"name": "x", "scopes": []}, {"name": "x", "scopes": ["monitors:admin"]},
                 {"name": "x", "expires_at": past}, {"name": "x", "expires_at": "2999-01-01T00:00:00"},
                 {"name": "x" * 201}, {"name": "x", "token": "xinex_" + "1" * 64}):
        assert_error(await client.post(TOKENS, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")


async def test_expired_token_is_401(client, db, alice):
    created = await _create(client, alice, expires_at=(utcnow() + timedelta(hours=1)).isoformat())
    assert created["expires_at"].endswith("Z")
    assert (await client.get("/api/v1/me", headers=_bearer(created["token"]))).status_code == 200
    await _set_column(db, created["id"], "expires_at", utcnow() - timedelta(seconds=1))
    r = await client.get("/api/v1/me", headers=_bearer(created["token"]))
    assert_error(r, 401, "UNAUTHENTICATED")
    assert "expired" in r.json()["error"]


async def test_revocation_is_immediate(client, alice, outsider):
    created = await _create(client, alice)
    h = _bearer(created["token"])
    assert (await client.get("/api/v1/me", headers=h)).status_code == 200
    assert_error(await client.delete(f"{TOKENS}/{created['id']}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert (await client.get("/api/v1/me", headers=h)).status_code == 200
    assert (await client.delete(f"{TOKENS}/{created['id']}", headers=alice.bearer)).status_code == 204
    assert_error(await client.get("/api/v1/me", headers=h), 401, "UNAUTHENTICATED")
    assert_error(await client.get("/api/v1/me", headers={"X-API-Key": created["token"]}), 401, "UNAUTHENTICATED")
    detail = await client.get(f"{TOKENS}/{created['id']}", headers=alice.bearer)
    assert detail.json()["revoked_at"]
    # Revoking twice is harmless; rotating a revoked token is a conflict.
    assert (await client.delete(f"{TOKENS}/{created['id']}", headers=alice.bearer)).status_code == 204
    assert_error(await client.post(f"{TOKENS}/{created['id']}/rotate", json={}, headers=alice.bearer), 409, "CONFLICT")


async def test_rotation_with_overlap(client, db, alice):
    old = await _create(client, alice, scopes=["monitors:read", "tokens:read"])
    r = await client.post(f"{TOKENS}/{old['id']}/rotate", json={"overlap_seconds": 600}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["token"] != old["token"] and new["id"] != old["id"]
    assert new["scopes"] == old["scopes"] and new["name"] == old["name"]
    # During the overlap both work.
    assert (await client.get("/api/v1/me", headers=_bearer(old["token"]))).status_code == 200
    assert (await client.get("/api/v1/me", headers=_bearer(new["token"]))).status_code == 200
    # Once the overlap has passed, only the new one does.
    await _set_column(db, old["id"], "revoked_at", utcnow() - timedelta(seconds=1))
    assert_error(await client.get("/api/v1/me", headers=_bearer(old["token"])), 401, "UNAUTHENTICATED")
    assert (await client.get("/api/v1/me", headers=_bearer(new["token"]))).status_code == 200


async def test_rotation_without_overlap_cuts_over_at_once(client, alice):
    old = await _create(client, alice)
    r = await client.post(f"{TOKENS}/{old['id']}/rotate", json={"overlap_seconds": 0}, headers=alice.bearer)
    assert r.status_code == 201
    assert_error(await client.get("/api/v1/me", headers=_bearer(old["token"])), 401, "UNAUTHENTICATED")
    assert (await client.get("/api/v1/me", headers=_bearer(r.json()["token"]))).status_code == 200
    bad = await client.post(f"{TOKENS}/{r.json()['id']}/rotate", json={"overlap_seconds": -1}, headers=alice.bearer)
    assert_error(bad, 422, "VALIDATION_FAILED")


async def test_last_used_at_is_recorded(client, alice):
    created = await _create(client, alice)
    assert created["last_used_at"] is None
    before = utcnow() - timedelta(seconds=5)
    assert (await client.get("/api/v1/me", headers={"X-API-Key": created["token"]})).status_code == 200
    detail = (await client.get(f"{TOKENS}/{created['id']}", headers=alice.bearer)).json()
    assert detail["last_used_at"] and detail["last_used_at"].endswith("Z")
    assert detail["last_used_at"] > before.isoformat().replace("+00:00", "Z")


async def test_outsider_cannot_see_or_touch_tokens(client, alice, outsider):
    created = await _create(client, alice)
    url = f"{TOKENS}/{created['id']}"
    assert_error(await client.get(url, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete(url, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.post(f"{url}/rotate", json={}, headers=outsider.bearer), 404, "NOT_FOUND")
    listed = (await client.get(TOKENS, headers=outsider.bearer)).json()["items"]
    assert created["id"] not in {t["id"] for t in listed}
    assert (await client.get("/api/v1/me", headers=_bearer(created["token"]))).status_code == 200


async def test_token_lifecycle_is_audited_without_secrets(client, alice):
    created = await _create(client, alice)
    await client.post(f"{TOKENS}/{created['id']}/rotate", json={"overlap_seconds": 0}, headers=alice.bearer)
    log = await client.get("/api/v1/audit-log?per_page=100", headers=alice.bearer)
    assert log.status_code == 200
    actions = {e["action"] for e in log.json()["items"] if e.get("target_id") == created["id"]}
    assert {"api_token.created", "api_token.rotated"} <= actions
    assert created["token"] not in log.text


async def test_cached_token_is_dropped_when_membership_is_removed(client, signup, db):
    """The credential cache must not outlive a change that revokes access (here: membership)."""
    from sqlalchemy import delete
    from xinex.models.tenant import Membership

    owner = await signup()
    created = await _create(client, owner)
    h = _bearer(created["token"])
    assert (await client.get("/api/v1/me", headers=h)).status_code == 200  # now cached
    async with db.session(system="test: remove membership") as s:
        await s.execute(delete(Membership).where(Membership.user_id == uuid.UUID(owner.user_id)))
    assert_error(await client.get("/api/v1/me", headers=h), 401, "UNAUTHENTICATED")
