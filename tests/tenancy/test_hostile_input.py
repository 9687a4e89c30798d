"""Tenant names with NUL (PostgreSQL refuses it in text) answer 422 on the field, never a 500;
nothing is created or renamed, and another tenant stays out of reach."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error


@pytest.mark.parametrize("name", ["\x00", "Acme\x00Corp"])
async def test_create_tenant_with_nul_in_name_is_422(client, alice, name):
    r = await client.post("/api/v1/tenants", json={"name": name}, cookies=alice.cookies, headers=alice.session_headers)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"name"}
    mine = await client.get("/api/v1/tenants", headers=alice.bearer)
    assert [t["id"] for t in mine.json()["items"]] == [alice.tenant_id]


async def test_rename_tenant_with_nul_is_422_and_changes_nothing(client, alice, outsider):
    before = (await client.get("/api/v1/tenants/current", headers=alice.bearer)).json()
    r = await client.put("/api/v1/tenants/current", json={"name": "Re\x00named"}, headers=alice.bearer)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"name"}
    after = (await client.get("/api/v1/tenants/current", headers=alice.bearer)).json()
    assert after["name"] == before["name"] and after["updated_at"] == before["updated_at"]
    # The outsider renames only their own tenant, and cannot reach alice's members by id.
    r = await client.put("/api/v1/tenants/current", json={"name": "Outsider\x00"}, headers=outsider.bearer)
    assert_error(r, 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"/api/v1/members/{alice.user_id}", headers=outsider.bearer), 404, "NOT_FOUND")
