"""403 authorization failures land in the caller's tenant audit log — actor, route, method, reason —
once per credential and route per minute, and at most a configured number per tenant."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import assert_error
from tests.kit.conftest import client_for
from tests.tenancy.helpers import join


async def _read_only_token(client, account, scopes: list[str]) -> dict:
    r = await client.post("/api/v1/api-tokens", json={"name": "narrow", "scopes": scopes}, headers=account.bearer)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _denials(client, account) -> list[dict]:
    r = await client.get("/api/v1/audit-log?action=authz.denied&per_page=100", headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_denials_are_recorded_once_per_credential_and_route(client, alice, outsider):
    narrow = await _read_only_token(client, alice, ["monitors:read"])
    victim_token = str(uuid.uuid4())
    for _ in range(25):  # a loop hammering one route leaves one entry
        assert_error(await client.delete(f"/api/v1/api-tokens/{victim_token}", headers=narrow), 403, "FORBIDDEN")
    assert_error(await client.get("/api/v1/audit-log", headers=narrow), 403, "FORBIDDEN")
    assert (await client.get("/api/v1/monitors", headers=narrow)).status_code == 200  # allowed: not recorded

    events = await _denials(client, alice)
    assert [(e["details"]["method"], e["details"]["route"]) for e in events] == [
        ("GET", "/api/v1/audit-log"), ("DELETE", "/api/v1/api-tokens/{token_id}")]
    delete = events[1]
    assert delete["outcome"] == "failure" and delete["actor_type"] == "api_token"
    assert delete["actor_user_id"] == alice.user_id and delete["tenant_id"] == alice.tenant_id
    assert delete["details"]["path"] == f"/api/v1/api-tokens/{victim_token}"
    assert "tokens:write" in delete["details"]["reason"] and delete["details"]["scopes"] == ["monitors:read"]
    assert delete["target_id"] == "DELETE /api/v1/api-tokens/{token_id}"
    assert narrow["Authorization"][7:] not in str(events)

    # The outsider sees none of alice's, and their own denial lands in their own log only.
    assert await _denials(client, outsider) == []
    theirs = await _read_only_token(client, outsider, ["monitors:read"])
    assert_error(await client.get("/api/v1/audit-log", headers=theirs), 403, "FORBIDDEN")
    assert [e["tenant_id"] for e in await _denials(client, outsider)] == [outsider.tenant_id]
    assert len(await _denials(client, alice)) == 2


async def test_a_role_denial_names_the_member(app, client, smtp_server, signup, alice):
    viewer = await join(app, client, smtp_server, signup, alice, role="viewer")
    r = await client.put("/api/v1/tenants/current", json={"name": "Taken over"}, headers=viewer.bearer)
    assert_error(r, 403, "FORBIDDEN")
    [event] = await _denials(client, alice)
    assert event["actor_user_id"] == viewer.user_id and event["actor_label"] == viewer.email
    assert (event["details"]["method"], event["details"]["route"]) == ("PUT", "/api/v1/tenants/current")


@pytest.fixture
async def capped(app, settings, db):
    from xinex.app import create_app

    application = create_app(settings.model_copy(update={"rate_limit_audit_denials": "3/minute"}), db=db)
    async with client_for(application) as c:
        yield c


async def test_a_tenant_cannot_flood_its_log(capped, alice):
    narrow = await _read_only_token(capped, alice, ["monitors:read"])
    routes = ["/api/v1/audit-log", "/api/v1/api-tokens", "/api/v1/heartbeats", "/api/v1/incidents",
              "/api/v1/webhooks"]
    for route in routes:
        assert_error(await capped.get(route, headers=narrow), 403, "FORBIDDEN")
    assert len(await _denials(capped, alice)) == 3
