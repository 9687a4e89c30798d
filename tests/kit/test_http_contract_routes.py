"""Route-level answers of the HTTP contract: 405 with a complete Allow, 404 for no route, non-UTF-8 JSON."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error


@pytest.mark.parametrize(("method", "path", "expected"), [
    # A path served by several routes lists every method of all of them.
    ("PATCH", "/api/v1/heartbeats/00000000-0000-0000-0000-000000000001", {"GET", "HEAD", "PUT", "DELETE"}),
    ("DELETE", "/api/v1/heartbeats", {"GET", "HEAD", "POST"}),
    ("PUT", "/api/v1/auth/login", {"POST"}),
])
async def test_405_allow_lists_every_method_of_the_path(client, alice, method, path, expected):
    r = await client.request(method, path, headers=alice.bearer)
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert expected <= allowed, allowed
    assert method not in allowed
    # Every method it advertises really is served (no 405 for one of them).
    for m in allowed - {"HEAD"}:
        answer = await client.request(m, path, headers=alice.bearer, json={})
        assert answer.status_code != 405, (m, answer.text)


async def test_unknown_route_is_not_the_tenant_isolation_answer(client, alice):
    for path in ("/api/v1/nowhere", "/health/nowhere", "/api/v1/heartbeats/x/y/z"):  # "/nowhere": the web app
        body = assert_error(await client.get(path, headers=alice.bearer), 404, "NOT_FOUND")
        assert body["error"] == "No such route"
    # A missing object still answers the object message.
    missing = await client.get("/api/v1/heartbeats/00000000-0000-0000-0000-000000000001", headers=alice.bearer)
    assert assert_error(missing, 404, "NOT_FOUND")["error"] != "No such route"


async def test_json_body_that_is_not_utf8_is_a_catalog_validation_error(client, alice):
    r = await client.post("/api/v1/heartbeats", content=b'{"name": "caf\xe9"}',
                          headers={**alice.bearer, "Content-Type": "application/json"})
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert "body" in body["details"]["fields"]
    listing = await client.get("/api/v1/heartbeats", headers=alice.bearer)
    assert listing.json()["total"] == 0  # nothing was created


@pytest.mark.parametrize("path", [
    "/api/v1/telemetry/logs?to=0.5", "/api/v1/annotations?to=1700000000",
    "/api/v1/analytics/uptime?from=1700000000&monitor_id=00000000-0000-0000-0000-000000000001", "/api/v1/schedules/00000000-0000-0000-0000-000000000001/oncall?at=12",
])
async def test_a_number_is_not_a_date_time(client, alice, path):
    # The schema says format: date-time; pydantic's lax mode read numbers as Unix time.
    r = await client.get(path, headers=alice.bearer)
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert any("RFC 3339" in message for message in body["details"]["fields"].values()), body
