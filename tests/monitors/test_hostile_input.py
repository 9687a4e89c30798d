"""Hostile input never answers 500: NUL in monitor and probe fields and in list filters (fuzzer finds)."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error

BASE = "/api/v1/monitors"
HTTP = {"name": "api", "type": "http", "url": "https://example.com/", "paused": True}


@pytest.mark.parametrize("body", [
    {**HTTP, "name": "a\u0000b"},
    {**HTTP, "tags": ["\u0000"]},
    {**HTTP, "body": "x\u0000"},
    {**HTTP, "keyword": "\u0000"},
    {"name": "dns", "type": "dns", "hostname": "example.com", "expected_value": "a\u0000", "paused": True},
])
async def test_nul_in_monitor_fields_is_422(client, alice, body):
    body = assert_error(await client.post(BASE, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert body["details"]["fields"]


async def test_nul_on_update_filters_and_probes(client, alice, outsider):
    r = await client.post(BASE, json=HTTP, headers=alice.bearer)
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    assert_error(await client.put(f"{BASE}/{mid}", json={"keyword": "k\u0000"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.put(f"{BASE}/{mid}", json={"name": "x"}, headers=outsider.bearer), 404, "NOT_FOUND")
    for params in ({"q": "\u0000"}, {"tag": "a\u0000"}):
        assert_error(await client.get(BASE, params=params, headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"{BASE}/{mid}/checks", params={"region": "\u0000"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"{BASE}/{mid}/checks", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.post("/api/v1/probes", json={"name": "p\u0000", "region": "eu-1"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
