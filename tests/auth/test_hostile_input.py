"""Hostile input to the identity endpoints answers 422 on the field, never a 500: NUL in names
(PostgreSQL refuses it), times at the edge of the calendar; another tenant's ids stay 404."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import assert_error


@pytest.mark.parametrize("field", ["name", "tenant_name"])
async def test_register_refuses_nul_in_names(client, field):
    body = {"email": f"nul-{uuid.uuid4().hex[:8]}@example.com", "password": "correct horse battery staple",
            "name": "Ada", field: "Ada\x00Lovelace"}
    r = await client.post("/api/v1/auth/register", json=body)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {field}


async def test_update_me_refuses_nul_in_name(client, alice):
    r = await client.put("/api/v1/me", json={"name": "\x00"}, headers=alice.bearer)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"name"}
    r = await client.put("/api/v1/me", json={"name": "Ada", "timezone": "Europe/\x00Paris"}, headers=alice.bearer)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"timezone"}
    me = await client.get("/api/v1/me", headers=alice.bearer)
    assert me.json()["name"] == "Test"


async def test_api_token_name_with_nul_is_422(client, alice):
    r = await client.post("/api/v1/api-tokens", json={"name": "ci\x00bot", "scopes": ["monitors:read"]},
                          headers=alice.bearer)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"name"}


@pytest.mark.parametrize("expires_at", ["9999-12-31T23:59:59-14:00", "9999-12-31T23:30:00-01:00"])
async def test_api_token_expiry_without_a_utc_equivalent_is_422(client, alice, expires_at):
    r = await client.post("/api/v1/api-tokens", json={"name": "far", "scopes": ["monitors:read"],
                                                      "expires_at": expires_at}, headers=alice.bearer)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"expires_at"}


async def test_api_token_expiry_is_stored_in_utc(client, alice):
    r = await client.post("/api/v1/api-tokens", json={"name": "far", "scopes": ["monitors:read"],
                                                      "expires_at": "9999-12-31T09:00:00-14:00"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    assert r.json()["expires_at"] == "9999-12-31T23:00:00Z"


async def test_another_tenants_token_and_session_are_404(client, alice, outsider):
    tokens = (await client.get("/api/v1/api-tokens", headers=alice.bearer)).json()["items"]
    token_id = tokens[0]["id"]
    assert_error(await client.get(f"/api/v1/api-tokens/{token_id}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.post(f"/api/v1/api-tokens/{token_id}/rotate", json={"overlap_seconds": 0},
                                   headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete(f"/api/v1/api-tokens/{token_id}", headers=outsider.bearer), 404, "NOT_FOUND")
    # Hostile bodies on another tenant's id are refused on the body, before anything is looked up.
    r = await client.post(f"/api/v1/api-tokens/{token_id}/rotate", json={"overlap_seconds": 2**63},
                          headers=outsider.bearer)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"overlap_seconds"}
    sessions = (await client.get("/api/v1/sessions", cookies=alice.cookies)).json()["items"]
    r = await client.delete(f"/api/v1/sessions/{sessions[0]['id']}", headers=outsider.bearer)
    assert_error(r, 404, "NOT_FOUND")
    assert (await client.get(f"/api/v1/api-tokens/{token_id}", headers=alice.bearer)).json()["revoked_at"] is None
