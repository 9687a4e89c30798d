"""The tier a new tenant starts on: the operator's choice, else enterprise unless Stripe billing sells plans."""

from __future__ import annotations

import pytest
from xinex.settings import get_settings

from tests.conftest import assert_error
from tests.tiers.helpers import set_tier


async def _tier_of_new_tenant(client, signup) -> str:
    account = await signup()
    return (await client.get("/api/v1/feature-gates", headers=account.bearer)).json()["tier"]


@pytest.mark.parametrize(("default_tier", "stripe_key", "expected"), [
    ("", "", "enterprise"),          # self-hosted, nothing configured: not a shop
    ("", "sk_test_123", "free"),     # billing configured: customers start free and upgrade
    ("team", "", "team"),            # the operator decides
    ("pro", "sk_test_123", "pro"),
])
async def test_new_tenant_tier_follows_operator_and_billing(client, signup, monkeypatch,
                                                           default_tier, stripe_key, expected):
    settings = get_settings()
    monkeypatch.setattr(settings, "default_tier", default_tier)
    monkeypatch.setattr(settings, "stripe_secret_key", stripe_key)
    assert await _tier_of_new_tenant(client, signup) == expected
    # A second tenant created through the API by the same rules.
    account = await signup()
    r = await client.post("/api/v1/tenants", json={"name": "Second team"}, cookies=account.cookies,
                          headers=account.session_headers)
    assert r.status_code == 201, r.text
    assert r.json()["tier"] == expected


async def test_heartbeat_periods_have_a_per_plan_floor(client, db, alice, outsider):
    r = await client.post("/api/v1/heartbeats", json={"name": "fast", "interval": 5}, headers=alice.bearer)
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert "60" in body["details"]["fields"]["interval"] and body["details"]["tier"] == "free"
    ok = await client.post("/api/v1/heartbeats", json={"name": "minute", "interval": 60}, headers=alice.bearer)
    assert ok.status_code == 201, ok.text
    # Shortening it later meets the same floor; a cron schedule is not an interval.
    assert_error(await client.put(f"/api/v1/heartbeats/{ok.json()['id']}", json={"interval": 10},
                                  headers=alice.bearer), 422, "VALIDATION_FAILED")
    r = await client.post("/api/v1/heartbeats", json={"name": "cron", "cron": "* * * * *"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    await set_tier(db, alice.tenant_id, "enterprise")
    fast = await client.post("/api/v1/heartbeats", json={"name": "fast", "interval": 5}, headers=alice.bearer)
    assert fast.status_code == 201 and fast.json()["interval"] == 5
    # The outsider is still on free and cannot see alice's heartbeat.
    assert_error(await client.post("/api/v1/heartbeats", json={"name": "x", "interval": 5},
                                   headers=outsider.bearer), 422, "VALIDATION_FAILED")
    assert (await client.get(f"/api/v1/heartbeats/{fast.json()['id']}", headers=outsider.bearer)).status_code == 404
