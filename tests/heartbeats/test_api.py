"""Native heartbeat API over HTTP: CRUD, ETags, pause/resume, listings, tenancy, validation, tiers."""

from __future__ import annotations

import uuid

from tests.conftest import assert_error

BASE = "/api/v1/heartbeats"


async def test_create_returns_full_object(client, alice, settings):
    r = await client.post(BASE, json={"name": "Nightly Backup", "interval": 86400, "grace": 3600},
                          headers=alice.bearer)
    assert r.status_code == 201, r.text
    hb = r.json()
    assert hb["slug"] == "nightly-backup" and hb["status"] == "new" and hb["kind"] == "simple"
    assert (hb["interval"], hb["grace"], hb["timezone"]) == (86400, 3600, "UTC")
    assert hb["tenant_id"] == alice.tenant_id and uuid.UUID(hb["id"])
    assert hb["created_at"].endswith("Z") and hb["updated_at"].endswith("Z")
    ping_id = hb["ping_url"].rsplit("/", 1)[1]
    assert hb["ping_url"] == f"{settings.public_url}/ping/{ping_id}"
    assert uuid.UUID(ping_id).version == 4
    # Same name again: a free slug is chosen; an explicit taken slug conflicts.
    r2 = await client.post(BASE, json={"name": "Nightly Backup"}, headers=alice.bearer)
    assert r2.json()["slug"] == "nightly-backup-2"
    assert r2.json()["ping_url"] != hb["ping_url"]
    assert_error(await client.post(BASE, json={"name": "x", "slug": "nightly-backup"}, headers=alice.bearer),
                 409, "CONFLICT")


async def test_cron_heartbeat(client, alice):
    r = await client.post(BASE, json={"name": "report", "cron": "30 2 * * *", "timezone": "Europe/Berlin",
                                      "grace": 600, "max_runtime": 900, "tags": ["prod", "db"]},
                          headers=alice.bearer)
    assert r.status_code == 201, r.text
    hb = r.json()
    assert (hb["kind"], hb["cron"], hb["timezone"], hb["max_runtime"], hb["tags"]) == (
        "cron", "30 2 * * *", "Europe/Berlin", 900, ["prod", "db"])


async def test_list_filters_and_envelope(client, alice):
    for name, tags in (("a-job", ["prod"]), ("b-job", ["dev"]), ("c-job", ["prod", "db"])):
        await client.post(BASE, json={"name": name, "tags": tags}, headers=alice.bearer)
    hb = (await client.get(BASE, headers=alice.bearer)).json()["items"][0]
    await client.post(f"{BASE}/{hb['id']}/pause", headers=alice.bearer)
    r = await client.get(BASE, headers=alice.bearer)
    body = r.json()
    assert set(body) == {"items", "total", "page", "per_page", "total_pages"}
    assert body["total"] == 3 and body["per_page"] == 25 and body["total_pages"] == 1
    prod = (await client.get(BASE, params={"tag": "prod"}, headers=alice.bearer)).json()
    assert sorted(i["name"] for i in prod["items"]) == ["a-job", "c-job"]
    paused = (await client.get(BASE, params={"status": "paused"}, headers=alice.bearer)).json()
    assert [i["id"] for i in paused["items"]] == [hb["id"]]
    page = (await client.get(BASE, params={"per_page": 2, "page": 2}, headers=alice.bearer)).json()
    assert len(page["items"]) == 1 and page["total_pages"] == 2
    assert_error(await client.get(BASE, params={"status": "sideways"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")


async def test_read_update_etag_delete(client, alice):
    hb = (await client.post(BASE, json={"name": "etl"}, headers=alice.bearer)).json()
    r = await client.get(f"{BASE}/{hb['id']}", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["id"] == hb["id"]
    etag = r.headers["etag"]
    r = await client.put(f"{BASE}/{hb['id']}", json={"name": "etl v2", "interval": 600, "grace": 60},
                         headers={**alice.bearer, "If-Match": etag})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["interval"], r.json()["grace"]) == ("etl v2", 600, 60)
    assert r.headers["etag"] != etag
    assert_error(await client.put(f"{BASE}/{hb['id']}", json={"name": "stale"},
                                  headers={**alice.bearer, "If-Match": etag}), 412, "PRECONDITION_FAILED")
    r = await client.put(f"{BASE}/{hb['id']}", json={"cron": "0 * * * *", "timezone": "America/New_York"},
                         headers=alice.bearer)
    assert (r.json()["kind"], r.json()["cron"]) == ("cron", "0 * * * *")
    r = await client.put(f"{BASE}/{hb['id']}", json={"cron": None}, headers=alice.bearer)
    assert (r.json()["kind"], r.json()["cron"]) == ("simple", None)
    r = await client.delete(f"{BASE}/{hb['id']}", headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.get(f"{BASE}/{hb['id']}", headers=alice.bearer), 404, "NOT_FOUND")


async def test_pause_resume(client, alice):
    hb = (await client.post(BASE, json={"name": "pausable"}, headers=alice.bearer)).json()
    r = await client.post(f"{BASE}/{hb['id']}/pause", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["status"] == "paused" and r.json()["late_at"] is None
    r = await client.post(f"{BASE}/{hb['id']}/resume", headers=alice.bearer)
    assert r.json()["status"] == "new"


async def test_runs_and_pings_listings(client, alice):
    hb = (await client.post(BASE, json={"name": "lister"}, headers=alice.bearer)).json()
    slug = hb["slug"]
    await client.post(f"/api/v1/hb/{slug}", json={"status": "start", "run_id": "r1"}, headers=alice.bearer)
    await client.post(f"/api/v1/hb/{slug}", json={"status": "success", "run_id": "r1", "message": "done"},
                      headers=alice.bearer)
    runs = (await client.get(f"{BASE}/{hb['id']}/runs", headers=alice.bearer)).json()
    assert runs["total"] == 1 and runs["items"][0]["run_id"] == "r1" and runs["items"][0]["outcome"] == "success"
    assert runs["items"][0]["duration_ms"] >= 0 and runs["items"][0]["tenant_id"] == alice.tenant_id
    pings = (await client.get(f"{BASE}/{hb['id']}/pings", headers=alice.bearer)).json()
    assert [p["kind"] for p in pings["items"]] == ["success", "start"]
    assert pings["items"][0]["body"] == "done" and pings["items"][0]["received_at"].endswith("Z")
    only = (await client.get(f"{BASE}/{hb['id']}/pings", params={"kind": "start"}, headers=alice.bearer)).json()
    assert only["total"] == 1


async def test_outsider_gets_404_everywhere(client, alice, outsider):
    hb = (await client.post(BASE, json={"name": "private"}, headers=alice.bearer)).json()
    hid = hb["id"]
    calls = [
        ("GET", f"{BASE}/{hid}", None), ("PUT", f"{BASE}/{hid}", {"name": "x"}), ("DELETE", f"{BASE}/{hid}", None),
        ("POST", f"{BASE}/{hid}/pause", None), ("POST", f"{BASE}/{hid}/resume", None),
        ("GET", f"{BASE}/{hid}/runs", None), ("GET", f"{BASE}/{hid}/pings", None),
        ("POST", f"/api/v1/hb/{hb['slug']}", {}),
    ]
    for method, url, body in calls:
        r = await client.request(method, url, json=body, headers=outsider.bearer)
        assert_error(r, 404, "NOT_FOUND")
    assert (await client.get(BASE, headers=outsider.bearer)).json()["total"] == 0
    # alice's heartbeat is untouched
    assert (await client.get(f"{BASE}/{hid}", headers=alice.bearer)).json()["name"] == "private"


async def test_bad_input_is_validation_failed(client, alice):
    bad_bodies = [
        {}, {"name": ""}, {"name": "x", "interval": 0}, {"name": "x", "grace": -1},
        {"name": "x", "cron": "not a cron"}, {"name": "x", "cron": "* * * * * *"},
        {"name": "x", "timezone": "Mars/Olympus"}, {"name": "x", "slug": "Has Spaces"},
        {"name": "x", "unknown": 1}, {"name": "x", "tags": [""]}, {"name": "x", "max_runtime": 0},
        # Strict integers: JSON true is not 1 second, "60" is not a number; one schedule, not two.
        {"name": "x", "interval": True}, {"name": "x", "grace": False}, {"name": "x", "interval": "60"},
        {"name": "x", "max_runtime": True}, {"name": "x", "cron": "0 3 * * *", "interval": 60},
    ]
    for body in bad_bodies:
        err = assert_error(await client.post(BASE, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")
        assert err["details"]["fields"], body
    assert_error(await client.get(f"{BASE}/not-a-uuid", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"{BASE}/{uuid.uuid4()}", headers=alice.bearer), 404, "NOT_FOUND")
    hb = (await client.post(BASE, json={"name": "v"}, headers=alice.bearer)).json()
    assert_error(await client.put(f"{BASE}/{hb['id']}", json={"interval": "soon"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.put(f"{BASE}/{hb['id']}", json={"interval": True}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert (await client.get(f"{BASE}/{hb['id']}", headers=alice.bearer)).json()["interval"] != 1
    assert_error(await client.post(f"/api/v1/hb/{hb['slug']}", json={"exit_code": 256}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.post(f"/api/v1/hb/{hb['slug']}", json={"status": "maybe"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.post("/api/v1/hb/no-such-slug", headers=alice.bearer), 404, "NOT_FOUND")


async def test_auth_and_scopes(client, signup):
    assert_error(await client.get(BASE), 401, "UNAUTHENTICATED")
    reader = await signup(scopes=["heartbeats:read"])
    assert (await client.get(BASE, headers=reader.bearer)).status_code == 200
    assert_error(await client.post(BASE, json={"name": "x"}, headers=reader.bearer), 403, "FORBIDDEN")


async def test_tier_limit(client, signup):
    account = await signup()
    for i in range(10):
        r = await client.post(BASE, json={"name": f"hb {i}"}, headers=account.bearer)
        assert r.status_code == 201, r.text
    err = assert_error(await client.post(BASE, json={"name": "one too many"}, headers=account.bearer),
                       403, "TIER_LIMIT_EXCEEDED")
    assert err["details"]["current_count"] == 10 and err["details"]["tier_limit"] == 10
    assert err["details"]["tier"] == "free"
    # The compatible dialect's create-on-first-ping respects the same limit.
    err = assert_error(await client.post("/api/v1/heartbeat/ping", json={"name": "brand new"},
                                         headers={"X-API-Key": account.token}), 403, "TIER_LIMIT_EXCEEDED")
    assert (await client.get(BASE, headers=account.bearer)).json()["total"] == 10


async def test_cookie_session_works_with_csrf(client, alice):
    client.cookies.update(alice.cookies)
    try:
        assert_error(await client.post(BASE, json={"name": "no csrf"}), 403, "FORBIDDEN")
        r = await client.post(BASE, json={"name": "with csrf"}, headers=alice.session_headers)
        assert r.status_code == 201
    finally:
        client.cookies.clear()
