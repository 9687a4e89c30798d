"""Hostile channel input never answers 500: NUL/lone surrogates in config, broken URLs, NUL names,
overlong time zone names in quiet hours (fuzzer finds)."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error

BASE = "/api/v1/notification-channels"
HOOK = {"name": "hook", "kind": "webhook", "config": {"url": "https://example.com/h"}}


def _raw(body: dict) -> dict:
    import json

    # json.dumps escapes a lone surrogate as \ud800, exactly what a hostile client sends.
    return {"content": json.dumps(body).encode(), "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize("body", [
    {**HOOK, "name": "a\u0000"},
    {**HOOK, "config": {"url": "http://[::1"}},
    {**HOOK, "config": {"url": "https://example.com/h", "headers": {"X-A": "b\u0000"}}},
    {**HOOK, "config": {"url": "https://example.com/h", "headers": {"X-A": "\ud800"}}},
    {**HOOK, "config": {"\ud800": 1}},
    {"name": "s", "kind": "slack", "config": {"webhook_url": "https://example.com/s", "username": "\u0000"}},
])
async def test_bad_channel_bodies_are_422(client, alice, body):
    kw = _raw(body)
    r = await client.post(BASE, content=kw["content"], headers={**alice.bearer, **kw["headers"]})
    assert_error(r, 422, "VALIDATION_FAILED")


async def test_bad_channel_updates_are_422_and_private(client, alice, outsider):
    r = await client.post(BASE, json=HOOK, headers=alice.bearer)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for config in ({"url": "http://[::1"}, {"url": "https://example.com/h", "headers": {"X-B": "\u0000"}}):
        assert_error(await client.put(f"{BASE}/{cid}", json={"config": config}, headers=alice.bearer),
                     422, "VALIDATION_FAILED")
    assert_error(await client.put(f"{BASE}/{cid}", json={"name": "x"}, headers=outsider.bearer), 404, "NOT_FOUND")


async def test_overlong_quiet_hours_time_zone_is_422(client, alice):
    r = await client.put("/api/v1/users/me/notification-prefs", headers=alice.bearer,
                         json={"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "\U0001F600" * 64}})
    assert_error(r, 422, "VALIDATION_FAILED")
