"""GET /audit-log?action= with NUL (PostgreSQL refuses it in a comparison) is 422 on the field, not a 500."""

from __future__ import annotations

from tests.conftest import assert_error


async def test_action_filter_with_nul_is_422(client, alice, outsider):
    r = await client.get("/api/v1/audit-log", params={"action": "auth.\x00login"}, headers=alice.bearer)
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"action"}
    r = await client.get("/api/v1/audit-log", params={"action": "api_token."}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items and all(e["tenant_id"] == alice.tenant_id for e in items)
    # The outsider's filtered view holds only their own tenant's events.
    r = await client.get("/api/v1/audit-log", params={"action": "api_token."}, headers=outsider.bearer)
    assert {e["tenant_id"] for e in r.json()["items"]} == {outsider.tenant_id}
