"""Monitor API over HTTP: CRUD, envelope and filters, ETags, pause/resume, status, checks history,
tenancy, validation, tier limits, and the app's own scheduler checking a real target."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import assert_error
from tests.monitors.conftest import set_tier

BASE = "/api/v1/monitors"


async def test_crud_roundtrip(client, alice, http_target, db):
    body = {"name": "Homepage", "type": "http", "url": http_target.url("/ok"), "method": "GET",
            "headers": {"Authorization": "Bearer s3cret", "X-Trace": "1"}, "expected_status": ["2xx", 301],
            "keyword": "operational", "latency_threshold_ms": 2000, "confirmation_period": 2,
            "recovery_period": 3, "tags": ["web", "prod"], "interval": 600, "paused": True}
    r = await client.post(BASE, json=body, headers=alice.bearer)
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["tenant_id"] == alice.tenant_id and m["status"] == "paused" and m["paused"] is True
    assert m["url"] == body["url"] and m["keyword"] == "operational" and m["interval"] == 600
    assert m["headers"] == {"Authorization": "********", "X-Trace": "1"}  # secrets never leave
    assert m["created_at"].endswith("Z") and m["updated_at"].endswith("Z") and r.headers["ETag"]

    r = await client.get(f"{BASE}/{m['id']}", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["id"] == m["id"]
    etag = r.headers["ETag"]
    assert (await client.get(f"{BASE}/{m['id']}", headers={**alice.bearer, "If-None-Match": etag})).status_code == 304

    # Partial update; the masked header keeps its stored value.
    r = await client.put(f"{BASE}/{m['id']}", headers={**alice.bearer, "If-Match": etag},
                         json={"name": "Homepage EU", "headers": {"Authorization": "********", "X-Trace": "2"}})
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["name"] == "Homepage EU" and updated["headers"]["X-Trace"] == "2"
    assert updated["confirmation_period"] == 2 and updated["keyword"] == "operational"
    from sqlalchemy import select
    from xinex.models.monitors import Monitor

    async with db.session(system="test") as session:
        row = (await session.execute(select(Monitor).where(Monitor.id == uuid.UUID(m["id"])))).scalar_one()
        assert row.config["headers"]["Authorization"] == "Bearer s3cret"
    assert_error(await client.put(f"{BASE}/{m['id']}", headers={**alice.bearer, "If-Match": etag},
                                  json={"name": "stale"}), 412, "PRECONDITION_FAILED")
    r = await client.put(f"{BASE}/{m['id']}", headers=alice.bearer, json={"keyword": None, "latency_threshold_ms": None})
    assert r.status_code == 200 and r.json()["keyword"] is None and r.json()["latency_threshold_ms"] is None
    assert_error(await client.put(f"{BASE}/{m['id']}", headers=alice.bearer, json={"name": None}), 422,
                 "VALIDATION_FAILED")

    # Switching type drops the old type's fields and needs the new ones.
    assert_error(await client.put(f"{BASE}/{m['id']}", headers=alice.bearer, json={"type": "tcp"}),
                 422, "VALIDATION_FAILED")
    r = await client.put(f"{BASE}/{m['id']}", headers=alice.bearer, json={"type": "tcp", "host": "db.internal.example",
                                                                         "port": 5432})
    assert r.status_code == 200, r.text
    assert r.json()["type"] == "tcp" and "url" not in r.json() and r.json()["port"] == 5432

    r = await client.delete(f"{BASE}/{m['id']}", headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.get(f"{BASE}/{m['id']}", headers=alice.bearer), 404, "NOT_FOUND")


async def test_each_type_creates(client, alice):
    for body in ({"type": "tcp", "host": "db.example.com", "port": 5432},
                 {"type": "dns", "hostname": "example.com", "record_type": "MX", "expected_value": "mx.example.com",
                  "nameserver": "1.1.1.1"},
                 {"type": "tls", "host": "example.com", "warn_days": 21}):
        r = await client.post(BASE, json={"name": body["type"], "paused": True, **body}, headers=alice.bearer)
        assert r.status_code == 201, r.text
        assert {k: r.json()[k] for k in body} == body


async def test_list_envelope_and_filters(client, signup, make_monitor, tcp_listener, db):
    account = await signup()
    await set_tier(db, account.tenant_id, "pro")
    a = await make_monitor(account, name="alpha api", type="tcp", host="127.0.0.1", port=tcp_listener, tags=["x"])
    await make_monitor(account, name="beta web", type="http", url="https://example.com/", tags=["y"])
    r = await client.post(f"{BASE}/{a['id']}/pause", headers=account.bearer)
    assert r.status_code == 200 and r.json()["status"] == "paused"
    page = (await client.get(BASE, headers=account.bearer, params={"per_page": 1})).json()
    assert set(page) == {"items", "total", "page", "per_page", "total_pages"}
    assert page["total"] == 2 and page["total_pages"] == 2 and len(page["items"]) == 1
    names = lambda resp: [m["name"] for m in resp.json()["items"]]  # noqa: E731
    assert names(await client.get(BASE, headers=account.bearer, params={"type": "tcp"})) == ["alpha api"]
    assert names(await client.get(BASE, headers=account.bearer, params={"status": "paused"})) == ["alpha api"]
    assert names(await client.get(BASE, headers=account.bearer, params={"tag": "y"})) == ["beta web"]
    assert names(await client.get(BASE, headers=account.bearer, params={"q": "WEB"})) == ["beta web"]
    assert_error(await client.get(BASE, headers=account.bearer, params={"status": "sideways"}), 422,
                 "VALIDATION_FAILED")
    r = await client.post(f"{BASE}/{a['id']}/resume", headers=account.bearer)
    assert r.json()["status"] == "pending" and r.json()["next_check_at"] is not None


async def test_outsider_gets_404_everywhere(client, alice, outsider, make_monitor, http_target):
    m = await make_monitor(type="http", url=http_target.url("/ok"))
    mid = m["id"]
    for method, path, kw in (("GET", f"{BASE}/{mid}", {}), ("PUT", f"{BASE}/{mid}", {"json": {"name": "x"}}),
                             ("DELETE", f"{BASE}/{mid}", {}), ("GET", f"{BASE}/{mid}/status", {}),
                             ("POST", f"{BASE}/{mid}/pause", {}), ("POST", f"{BASE}/{mid}/resume", {}),
                             ("GET", f"{BASE}/{mid}/checks", {})):
        assert_error(await client.request(method, path, headers=outsider.bearer, **kw), 404, "NOT_FOUND")
    assert (await client.get(BASE, headers=outsider.bearer)).json()["total"] == 0
    assert (await client.get(f"{BASE}/{mid}", headers=alice.bearer)).status_code == 200
    assert_error(await client.get(f"{BASE}/{uuid.uuid4()}", headers=alice.bearer), 404, "NOT_FOUND")
    assert_error(await client.get(f"{BASE}/not-a-uuid", headers=alice.bearer), 422, "VALIDATION_FAILED")


async def test_validation(client, alice):
    bad = [
        {"name": "x", "type": "http", "url": "ftp://example.com/"},
        {"name": "x", "type": "http", "url": "file:///etc/passwd"},
        {"name": "x", "type": "http", "url": "not a url"},
        {"name": "x", "type": "http", "url": "https://example.com", "expected_status": [700]},
        {"name": "x", "type": "http", "url": "https://example.com", "expected_status": ["abc"]},
        {"name": "x", "type": "http", "url": "https://example.com", "headers": {"Bad Header": "v"}},
        {"name": "x", "type": "http", "url": "https://example.com", "method": "TRACE"},
        {"name": "x", "type": "tcp", "host": "example.com", "port": 70000},
        {"name": "x", "type": "tcp", "host": "example.com", "port": 0},
        {"name": "x", "type": "tcp", "host": "bad host!", "port": 22},
        {"name": "x", "type": "dns", "hostname": "example.com", "record_type": "SRV"},
        {"name": "x", "type": "dns", "hostname": "example.com", "nameserver": "resolver.example"},
        {"name": "x", "type": "tls", "host": "example.com", "ca_pem": "not a pem"},
        {"name": "x", "type": "ping", "host": "example.com"},
        {"name": "x", "url": "https://example.com"},
        {"name": " ", "type": "tcp", "host": "example.com", "port": 22},
        {"name": "x", "type": "tcp", "host": "example.com", "port": 22, "confirmation_period": 0},
        {"name": "x", "type": "tcp", "host": "example.com", "port": 22, "surprise": True},
        {"name": "x", "type": "tcp", "host": "example.com", "port": 22, "regions": ["EU WEST"]},
    ]
    for body in bad:
        err = assert_error(await client.post(BASE, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")
        assert err["details"]["fields"], body
    err = assert_error(await client.post(BASE, json={"name": "x", "type": "tcp", "host": "a.example", "port": 99999},
                                         headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert "port" in err["details"]["fields"]
    # Regions need a registered probe there.
    err = assert_error(await client.post(BASE, headers=alice.bearer, json={
        "name": "x", "type": "tcp", "host": "a.example", "port": 22, "regions": ["mars-1"]}), 422, "VALIDATION_FAILED")
    assert "regions" in err["details"]["fields"]
    assert_error(await client.post(BASE, content=b"{nope", headers={**alice.bearer, "content-type": "application/json"}),
                 422, "VALIDATION_FAILED")


async def test_literal_private_target_refused_when_guard_is_on(app, client, alice):
    app.state.settings.outbound_allow_private = False
    try:
        for body in ({"type": "http", "url": "http://169.254.169.254/latest/meta-data/"},
                     {"type": "http", "url": "http://[::ffff:127.0.0.1]/"},
                     {"type": "http", "url": "http://2130706433/"},
                     {"type": "tcp", "host": "10.0.0.5", "port": 6379},
                     {"type": "tls", "host": "127.0.0.1"},
                     {"type": "dns", "hostname": "example.com", "nameserver": "192.168.1.1"}):
            err = assert_error(await client.post(BASE, json={"name": "x", **body}, headers=alice.bearer), 422,
                               "VALIDATION_FAILED")
            assert err["details"]["reason"].endswith("_address"), body
    finally:
        app.state.settings.outbound_allow_private = True


async def test_interval_floor_and_tier_limit(client, signup, db):
    account = await signup()
    tcp = {"type": "tcp", "host": "example.com", "port": 22, "paused": True}
    err = assert_error(await client.post(BASE, json={"name": "fast", "interval": 60, **tcp}, headers=account.bearer),
                       422, "VALIDATION_FAILED")
    assert err["details"]["interval_floor_s"] == 300 and err["details"]["tier"] == "free"
    assert "interval" in err["details"]["fields"]
    for i in range(10):
        r = await client.post(BASE, json={"name": f"m{i}", **tcp}, headers=account.bearer)
        assert r.status_code == 201, r.text
    err = assert_error(await client.post(BASE, json={"name": "eleven", **tcp}, headers=account.bearer),
                       403, "TIER_LIMIT_EXCEEDED")
    assert err["details"]["current_count"] == 10 and err["details"]["tier_limit"] == 10
    assert err["details"]["tier"] == "free"
    await set_tier(db, account.tenant_id, "pro")
    r = await client.post(BASE, json={"name": "fast", "interval": 60, **tcp}, headers=account.bearer)
    assert r.status_code == 201 and r.json()["interval"] == 60
    # Updates respect the floor too.
    assert_error(await client.put(f"{BASE}/{r.json()['id']}", json={"interval": 30}, headers=account.bearer),
                 422, "VALIDATION_FAILED")


async def test_scopes(client, signup):
    reader = await signup(scopes=["monitors:read"])
    assert (await client.get(BASE, headers=reader.bearer)).status_code == 200
    assert_error(await client.post(BASE, json={"name": "x", "type": "tcp", "host": "a.example", "port": 1},
                                   headers=reader.bearer), 403, "FORBIDDEN")
    assert_error(await client.get(BASE), 401, "UNAUTHENTICATED")


async def test_app_scheduler_checks_a_real_target(client, alice, http_target, make_monitor):
    """The embedded scheduler (started by the app lifespan) claims a new monitor and checks it."""
    m = await make_monitor(type="http", url=http_target.url("/ok"), keyword="operational", scheduled=True)
    assert m["status"] == "pending"
    for _ in range(100):
        status = (await client.get(f"{BASE}/{m['id']}/status", headers=alice.bearer)).json()
        if status["status"] != "pending":
            break
        await asyncio.sleep(0.1)
    assert status["status"] == "up", status
    assert status["last_check"]["result"] == "up" and status["last_check"]["status_code"] == 200
    assert status["latency_ms"] > 0 and status["advisories"] == [] and status["regions"] == []
    detail = (await client.get(f"{BASE}/{m['id']}", headers=alice.bearer)).json()
    assert detail["next_check_at"] > detail["last_checked_at"]  # claimed: next run one interval later
    checks = (await client.get(f"{BASE}/{m['id']}/checks", headers=alice.bearer)).json()
    assert checks["total"] >= 1 and checks["items"][0]["status"] == "up"
    assert checks["items"][0]["details"]["reason"] == "ok"
