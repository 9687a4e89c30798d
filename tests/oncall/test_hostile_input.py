"""Hostile input never answers 500: NUL in names and matchers, out-of-range instants, overlong time
zone names (fuzzer finds)."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error


async def _schedule(client, account) -> dict:
    r = await client.post("/api/v1/schedules", json={"name": "primary", "timezone": "Europe/Berlin", "layers": [
        {"rotation": "daily", "start": "2026-01-05T09:00:00", "users": [account.user_id]}]}, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/escalation-policies", {"name": "p\u0000", "steps": [{"targets": [{"type": "user", "id": "{uid}"}]}]}),
    ("/api/v1/schedules", {"name": "s\u0000"}),
    ("/api/v1/schedules", {"name": "s", "layers": [{"name": "\u0000", "rotation": "daily",
                                                    "start": "2026-01-05T09:00:00", "users": ["{uid}"]}]}),
    ("/api/v1/schedules", {"name": "s", "timezone": "\U0001F600" * 64}),
    ("/api/v1/schedules", {"name": "s", "layers": [{"rotation": "daily", "start": "0001-01-01T00:00:00+01:00",
                                                    "users": ["{uid}"]}]}),
    ("/api/v1/schedules", {"name": "s", "layers": [{"rotation": "daily", "start": "0001-01-01T00:00:00",
                                                    "users": ["{uid}"]}]}),
])
async def test_bad_policy_and_schedule_bodies_are_422(client, alice, path, body):
    import json

    body = json.loads(json.dumps(body).replace("{uid}", alice.user_id))
    assert_error(await client.post(path, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")


async def test_nul_in_routing_rule_matchers_is_422(client, alice):
    r = await client.post("/api/v1/notification-channels", headers=alice.bearer,
                          json={"name": "hook", "kind": "webhook", "config": {"url": "https://example.com/h"}})
    assert r.status_code == 201, r.text
    chan = r.json()["id"]
    for field, value in (("name", "r\u0000"), ("host", "\u0000"), ("tags", ["a\u0000"]), ("source_type", "\u0000")):
        r = await client.post("/api/v1/alert-routing-rules", json={"name": "r", "channel_ids": [chan], field: value},
                              headers=alice.bearer)
        body = assert_error(r, 422, "VALIDATION_FAILED")
        assert any(f.startswith(field) for f in body["details"]["fields"]), body


async def test_out_of_range_instants_on_schedules_are_422(client, alice, outsider):
    sid = (await _schedule(client, alice))["id"]
    for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        r = await client.post(f"/api/v1/schedules/{sid}/overrides", headers=alice.bearer,
                              json={"user_id": alice.user_id, "starts_at": when, "ends_at": "2030-01-01T00:00:00Z"})
        assert_error(r, 422, "VALIDATION_FAILED")
        assert_error(await client.get(f"/api/v1/schedules/{sid}/oncall", params={"at": when}, headers=alice.bearer),
                     422, "VALIDATION_FAILED")
        assert_error(await client.get(f"/api/v1/schedules/{sid}/shifts", params={"from": when}, headers=alice.bearer),
                     422, "VALIDATION_FAILED")
    r = await client.get(f"/api/v1/schedules/{sid}/oncall", params={"at": "2030-01-01T00:00:00Z"},
                         headers=outsider.bearer)
    assert_error(r, 404, "NOT_FOUND")
    r = await client.post(f"/api/v1/schedules/{sid}/overrides", headers=outsider.bearer,
                          json={"user_id": outsider.user_id, "starts_at": "2030-01-01T00:00:00Z",
                                "ends_at": "2030-01-02T00:00:00Z"})
    assert_error(r, 404, "NOT_FOUND")
