"""Maintenance windows: CRUD contract, recurring across DST (Europe/Berlin), scoping, active."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from xinex.kit.types import utcnow
from xinex.maintenance import service
from xinex.maintenance.schedule import Series, occurrence_at, occurrences

from tests.conftest import assert_error

BASE = "/api/v1/maintenance-windows"


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _hb(client, account, **body) -> dict:
    body.setdefault("name", f"job {uuid.uuid4().hex[:6]}")
    r = await client.post("/api/v1/heartbeats", json=body, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


async def test_one_off_crud_contract(client, alice, outsider):
    now = utcnow()
    body = {"name": "db upgrade", "starts_at": iso(now - timedelta(minutes=5)), "ends_at": iso(now + timedelta(hours=1)),
            "tags": ["db"]}
    r = await client.post(BASE, json=body, headers=alice.bearer)
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["tenant_id"] == alice.tenant_id and w["kind"] == "once" and w["active"] is True
    assert w["created_at"].endswith("Z") and w["updated_at"].endswith("Z") and w["tags"] == ["db"]
    assert w["current_or_next"]["ends_at"] == w["ends_at"]

    r = await client.get(BASE, headers=alice.bearer)
    page = r.json()
    assert r.status_code == 200 and page["total"] == 1 and page["per_page"] == 25 and page["items"][0]["id"] == w["id"]
    assert (await client.get(BASE, headers=outsider.bearer)).json()["total"] == 0

    r = await client.get(f"{BASE}/{w['id']}", headers=alice.bearer)
    etag = r.headers["ETag"]
    body["name"] = "db upgrade v2"
    r = await client.put(f"{BASE}/{w['id']}", json=body, headers={**alice.bearer, "If-Match": etag})
    assert r.status_code == 200 and r.json()["name"] == "db upgrade v2"
    assert_error(await client.put(f"{BASE}/{w['id']}", json=body, headers={**alice.bearer, "If-Match": etag}),
                 412, "PRECONDITION_FAILED")

    for method in ("get", "delete"):
        assert_error(await getattr(client, method)(f"{BASE}/{w['id']}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.put(f"{BASE}/{w['id']}", json=body, headers=outsider.bearer), 404, "NOT_FOUND")
    r = await client.delete(f"{BASE}/{w['id']}", headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.get(f"{BASE}/{w['id']}", headers=alice.bearer), 404, "NOT_FOUND")


async def test_validation_errors(client, alice, outsider):
    now = utcnow()
    cases = [
        {"name": "x"},  # neither one-off times nor cron
        {"name": "x", "starts_at": iso(now), "ends_at": iso(now - timedelta(hours=1))},
        {"name": "x", "cron": "61 * * * *", "duration_minutes": 5},
        {"name": "x", "cron": "0 2 * * *"},  # duration missing
        {"name": "x", "cron": "0 2 * * *", "duration_minutes": 5, "timezone": "Mars/Olympus"},
        {"name": "x", "starts_at": "2026-01-01T00:00:00", "ends_at": "2026-01-02T00:00:00"},  # no offset
        {"name": "x", "starts_at": iso(now), "ends_at": iso(now + timedelta(hours=1)), "bogus": 1},
    ]
    for body in cases:
        assert_error(await client.post(BASE, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")
    # Scope ids must be the caller's own heartbeats.
    theirs = await _hb(client, outsider)
    r = await client.post(BASE, json={"name": "x", "starts_at": iso(now), "ends_at": iso(now + timedelta(hours=1)),
                                      "heartbeat_ids": [theirs["id"]]}, headers=alice.bearer)
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert "heartbeat_ids" in body["details"]["fields"]
    assert_error(await client.get(f"{BASE}/active?at=not-a-time", headers=alice.bearer), 422, "VALIDATION_FAILED")


def test_recurring_berlin_across_dst():
    # 02:00 Berlin wall time, 2 hours, every day: 01:00 UTC in winter, 00:00 UTC in summer; on the
    # spring-forward night 02:00 does not exist and the window starts at 03:00 CEST (01:00 UTC).
    s = Series("recurring", datetime(2026, 3, 1, tzinfo=UTC), None, "0 2 * * *", "Europe/Berlin",
               timedelta(hours=2))
    got = occurrences(s, datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    starts = [o[0] for o in got]
    assert starts == [datetime(2026, 3, 27, 1, tzinfo=UTC), datetime(2026, 3, 28, 1, tzinfo=UTC),
                      datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 3, 30, 0, tzinfo=UTC)]
    assert all(e - st == timedelta(hours=2) for st, e in got)
    # Fall back (25 October 2026): 02:00 happens twice; the first one (CEST, 00:00 UTC) counts.
    fall = occurrences(s, datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC))
    assert [o[0] for o in fall] == [datetime(2026, 10, 24, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, tzinfo=UTC),
                                    datetime(2026, 10, 26, 1, tzinfo=UTC)]
    assert occurrence_at(s, datetime(2026, 7, 1, 1, 59, tzinfo=UTC)) is not None  # 03:59 CEST
    assert occurrence_at(s, datetime(2026, 7, 1, 2, 0, tzinfo=UTC)) is None  # 04:00 CEST: over
    assert occurrence_at(s, datetime(2026, 12, 15, 0, 30, tzinfo=UTC)) is None  # 01:30 CET: not yet
    assert occurrence_at(s, datetime(2026, 12, 15, 1, 30, tzinfo=UTC)) is not None
    # Before the series starts nothing fires.
    assert occurrence_at(s, datetime(2026, 2, 15, 1, 30, tzinfo=UTC)) is None


async def test_recurring_window_api_and_active_by_scope(client, db, alice, outsider):
    hb = await _hb(client, alice, tags=["batch"])
    other = await _hb(client, alice)
    r = await client.post(BASE, json={"name": "nightly", "cron": "0 2 * * *", "timezone": "Europe/Berlin",
                                      "duration_minutes": 120, "starts_at": "2026-01-01T00:00:00Z",
                                      "heartbeat_ids": [hb["id"]]}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["kind"] == "recurring" and w["cron"] == "0 2 * * *" and w["duration_minutes"] == 120
    assert w["heartbeat_ids"] == [hb["id"]] and w["ends_at"] is None
    nxt = datetime.fromisoformat(w["current_or_next"]["starts_at"])
    assert datetime.fromisoformat(w["current_or_next"]["ends_at"]) - nxt == timedelta(hours=2)

    summer_night = "2026-07-01T00:30:00Z"  # 02:30 CEST
    r = await client.get(f"{BASE}/active", params={"at": summer_night, "source_type": "heartbeat",
                                                   "source_id": hb["id"]}, headers=alice.bearer)
    assert [x["id"] for x in r.json()["items"]] == [w["id"]]
    r = await client.get(f"{BASE}/active", params={"at": summer_night, "source_type": "heartbeat",
                                                   "source_id": other["id"]}, headers=alice.bearer)
    assert r.json()["total"] == 0
    r = await client.get(f"{BASE}/active", params={"at": "2026-07-01T03:00:00Z"}, headers=alice.bearer)
    assert r.json()["total"] == 0
    r = await client.get(f"{BASE}/active", params={"at": summer_night}, headers=outsider.bearer)
    assert r.json()["total"] == 0

    # The service the incident engine calls, and the row it time-range-queries stays on an occurrence.
    tenant = uuid.UUID(alice.tenant_id)
    async with db.session(tenant_id=tenant) as session:
        at = datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
        assert await service.is_in_maintenance(session, "heartbeat", uuid.UUID(hb["id"]), [], at)
        assert not await service.is_in_maintenance(session, "heartbeat", uuid.UUID(other["id"]), [], at)
        assert not await service.is_in_maintenance(session, "monitor", uuid.uuid4(), [], at)
        win, _ = await service.get(session, uuid.UUID(w["id"]))
        assert win.ends_at - win.starts_at == timedelta(hours=2) and win.ends_at > utcnow()


async def test_tag_and_monitor_scoping(client, db, alice):
    now = utcnow()
    span = {"starts_at": iso(now - timedelta(minutes=1)), "ends_at": iso(now + timedelta(hours=1))}
    monitor_id = uuid.uuid4()
    tagged = (await client.post(BASE, json={"name": "edge", "tags": ["edge"], **span}, headers=alice.bearer)).json()
    by_id = (await client.post(BASE, json={"name": "one monitor", "monitor_ids": [str(monitor_id)], **span},
                               headers=alice.bearer))
    tenant = uuid.UUID(alice.tenant_id)
    async with db.session(tenant_id=tenant) as session:
        found = await service.active_windows(session, source_type="monitor", source_id=uuid.uuid4(),
                                             tags=["edge", "eu"], at=now)
        assert [w.id for w in found] == [uuid.UUID(tagged["id"])]
        assert not await service.is_in_maintenance(session, "monitor", uuid.uuid4(), ["core"], now)
        if by_id.status_code == 201:  # the monitors domain (when installed) checks ids belong to the tenant
            assert await service.is_in_maintenance(session, "monitor", monitor_id, [], now)
            assert not await service.is_in_maintenance(session, "monitor", monitor_id, [], now + timedelta(hours=2))
        else:
            assert_error(by_id, 422, "VALIDATION_FAILED")
    # A window with no scope covers everything of the tenant.
    await client.post(BASE, json={"name": "all", **span}, headers=alice.bearer)
    async with db.session(tenant_id=tenant) as session:
        assert await service.is_in_maintenance(session, "ai_heartbeat", uuid.uuid4(), [], now)
