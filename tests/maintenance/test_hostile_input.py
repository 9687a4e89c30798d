"""Hostile maintenance-window input never answers 500: NUL, instants that overflow UTC (fuzzer finds)."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error

BASE = "/api/v1/maintenance-windows"
ONCE = {"name": "upgrade", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-02T00:00:00Z"}


@pytest.mark.parametrize("patch", [
    {"name": "a\u0000"}, {"description": "\u0000"},
    {"starts_at": "0001-01-01T00:00:00+01:00"}, {"ends_at": "9999-12-31T23:59:59-01:00"},
    {"cron": "0 3 * * *", "duration_minutes": 60, "ends_at": None, "starts_at": "9999-12-31T23:59:59-01:00"},
])
async def test_bad_windows_are_422(client, alice, patch):
    r = await client.post(BASE, json={**ONCE, **patch}, headers=alice.bearer)
    assert_error(r, 422, "VALIDATION_FAILED")


async def test_bad_active_query_is_422_and_windows_stay_private(client, alice, outsider):
    for params in ({"at": "0001-01-01T00:00:00+01:00"}, {"tag": "a\u0000"}):
        assert_error(await client.get(f"{BASE}/active", params=params, headers=alice.bearer), 422, "VALIDATION_FAILED")
    r = await client.post(BASE, json=ONCE, headers=alice.bearer)
    assert r.status_code == 201, r.text
    wid = r.json()["id"]
    assert_error(await client.put(f"{BASE}/{wid}", json={**ONCE, "name": "x\u0000"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.put(f"{BASE}/{wid}", json=ONCE, headers=outsider.bearer), 404, "NOT_FOUND")
