"""argon2id hashing, rehash on login when parameters rise, and production settings guards."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from xinex.settings import Settings, get_settings

from tests.conftest import assert_error

STRONG_SECRET = "k" * 48


async def _stored_hash(db, user_id: str) -> str:
    async with db.session(system="test: read hash") as s:
        return (await s.execute(text("SELECT password_hash FROM users WHERE id = :id"), {"id": uuid.UUID(user_id)})).scalar_one()


async def test_hashes_are_argon2id_with_configured_parameters(db, settings, alice):
    stored = await _stored_hash(db, alice.user_id)
    assert stored.startswith("$argon2id$v=19$")
    assert f"m={settings.argon2_memory_cost_kib},t={settings.argon2_time_cost},p={settings.argon2_parallelism}$" in stored
    assert alice.password not in stored


async def test_login_rehashes_when_parameters_rise(client, db, settings, alice):
    before = await _stored_hash(db, alice.user_id)
    # Raise the parameters on the live settings object (what get_settings() hands out), not through a
    # cache_clear: other tests hold that very object and must keep seeing their changes take effect.
    assert get_settings() is settings
    old_t, old_m = settings.argon2_time_cost, settings.argon2_memory_cost_kib
    settings.argon2_time_cost, settings.argon2_memory_cost_kib = old_t + 1, old_m * 2
    try:
        # A failed login never rewrites the hash.
        assert_error(await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "wrong one!"}),
                     401, "UNAUTHENTICATED")
        assert await _stored_hash(db, alice.user_id) == before
        r = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert r.status_code == 200
        after = await _stored_hash(db, alice.user_id)
        assert after != before and after.startswith("$argon2id$")
        assert f"m={old_m * 2},t={old_t + 1},p=1$" in after
        # The new hash verifies, and a second login at the same parameters leaves it alone.
        assert (await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})).status_code == 200
        assert await _stored_hash(db, alice.user_id) == after
    finally:
        settings.argon2_time_cost, settings.argon2_memory_cost_kib = old_t, old_m
    # Back at the old (lower) parameters the stronger hash still verifies.
    assert (await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})).status_code == 200


def _production(**overrides) -> Settings:
    values = {"env": "production", "secret_key": STRONG_SECRET, "argon2_memory_cost_kib": 19456,
              "argon2_time_cost": 2, "argon2_parallelism": 1, **overrides}
    return Settings(**values)


@pytest.mark.parametrize("secret", ["", "changeme", "change-me", "secret", "dev-insecure-secret-key", "short-but-random"])
def test_production_refuses_placeholder_or_short_secret(secret):
    with pytest.raises(ValidationError, match="XINEX_SECRET_KEY"):
        _production(secret_key=secret)


@pytest.mark.parametrize("params", [{"argon2_memory_cost_kib": 19455}, {"argon2_time_cost": 1},
                                    {"argon2_memory_cost_kib": 1024, "argon2_time_cost": 1}])
def test_production_refuses_argon2_below_owasp_minimum(params):
    with pytest.raises(ValidationError, match="OWASP"):
        _production(**params)


def test_production_accepts_sound_settings_and_test_env_may_go_lower():
    ok = _production()
    assert ok.env == "production" and ok.argon2_memory_cost_kib >= 19456
    assert Settings(env="test", argon2_memory_cost_kib=1024, argon2_time_cost=1).argon2_time_cost == 1
    # The shipped defaults themselves meet the minimum.
    assert Settings.model_fields["argon2_memory_cost_kib"].default >= 19456
    assert Settings.model_fields["argon2_time_cost"].default >= 2


def test_trusted_proxies_must_be_networks():
    with pytest.raises(ValidationError):
        Settings(trusted_proxies=["not-a-network"])
    assert Settings(trusted_proxies=["10.0.0.0/8", "192.0.2.1"]).trusted_proxies == ["10.0.0.0/8", "192.0.2.1"]
