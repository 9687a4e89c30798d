"""Hostile input never answers 500: NUL in silences and alert filters, out-of-range instants (fuzzer finds)."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import assert_error

SILENCE = {"name": "deploy", "ends_at": "2030-01-01T00:00:00Z", "tags": ["api"]}


@pytest.mark.parametrize("patch", [
    {"name": "a\u0000b"}, {"tags": ["\u0000"]}, {"host": "h\u0000"}, {"comment": "\u0000"}, {"source_type": "\u0000"},
    {"ends_at": "9999-12-31T23:59:59-01:00"},
    {"starts_at": "0001-01-01T00:00:00+01:00"},
])
async def test_bad_silences_are_422(client, alice, patch):
    body = assert_error(await client.post("/api/v1/silence", json={**SILENCE, **patch}, headers=alice.bearer),
                        422, "VALIDATION_FAILED")
    assert body["details"]["fields"]


async def test_nul_in_alert_filter_is_422_and_silences_stay_private(client, alice, outsider):
    assert_error(await client.get("/api/v1/alerts", params={"dedup_key": "k\u0000"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    r = await client.post("/api/v1/silence", json=SILENCE, headers=alice.bearer)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert_error(await client.get(f"/api/v1/silence/{sid}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete(f"/api/v1/silence/{sid}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.get(f"/api/v1/incidents/{uuid.uuid4()}", headers=alice.bearer), 404, "NOT_FOUND")
