"""Correlation pages once per outage; silences and maintenance windows suppress but keep the record."""

from __future__ import annotations

import uuid
from datetime import timedelta

from xinex.kit.types import to_rfc3339
from xinex.oncall.escalation import run_due

from tests.incidents.helpers import (
    alerts,
    emit_event,
    incident,
    incidents,
    make_policy,
    make_rule,
    pages,
    settle,
    start_time,
    timeline_kinds,
    user,
)


async def _route_to_alice(client, alice, **match) -> dict:
    policy = await make_policy(client, alice, [{"delay_minutes": 0, "targets": [user(alice)]}])
    return await make_rule(client, alice, escalation_policy_id=policy["id"], **match)


async def test_same_host_within_window_pages_once(db, client, alice):
    t0, host = start_time(), f"web-{uuid.uuid4().hex[:6]}"
    await _route_to_alice(client, alice, host=host)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    e1 = await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=a, payload={"name": "api", "host": host})
    await settle(db, e1)
    e2 = await emit_event(db, alice.tenant_id, "heartbeat.down", t0 + timedelta(minutes=2), source_id=b,
                          payload={"name": "backup", "attribution": {"host": host}})
    await settle(db, e2)
    await run_due(db, now=t0 + timedelta(minutes=3))
    [primary] = await incidents(db, alice.tenant_id, f"monitor:{a}")
    [second] = await incidents(db, alice.tenant_id, f"heartbeat:{b}")
    assert primary.group_id is not None and second.group_id == primary.group_id
    assert len(await pages(db, alice.tenant_id, primary.id)) == 1
    assert await pages(db, alice.tenant_id, second.id) == []
    assert "correlated" in await timeline_kinds(db, alice.tenant_id, second.id)

    r = await client.get("/api/v1/correlation-groups", headers=alice.bearer)
    assert r.status_code == 200
    group = next(g for g in r.json()["items"] if g["id"] == str(primary.group_id))
    assert group["key"] == f"host:{host}" and group["primary_incident_id"] == str(primary.id)
    assert group["incident_ids"] == [str(primary.id), str(second.id)] and group["incident_count"] == 2
    r = await client.get("/api/v1/incidents", params={"group_id": str(primary.group_id)}, headers=alice.bearer)
    assert r.json()["total"] == 2

    # After the window the same host starts a new group and pages again.
    e3 = await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(minutes=20), source_id=c,
                          payload={"name": "db", "host": host})
    await settle(db, e3)
    await run_due(db, now=t0 + timedelta(minutes=20))
    [third] = await incidents(db, alice.tenant_id, f"monitor:{c}")
    assert third.group_id not in (None, primary.group_id)
    assert len(await pages(db, alice.tenant_id, third.id)) == 1
    listed = await client.get("/api/v1/correlation-groups", headers=alice.bearer)
    assert listed.json()["total"] >= 2


async def test_a_more_severe_incident_in_a_group_pages_and_becomes_its_primary(db, client, alice):
    """A critical alert on a host whose warning is already paged is not kept quiet behind it."""
    t0, host = start_time(), f"db-{uuid.uuid4().hex[:6]}"
    await _route_to_alice(client, alice, host=host)
    warn, crit, crit2, warn2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    e1 = await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=warn, severity="warning",
                          payload={"name": "disk 85%", "host": host})
    await settle(db, e1)
    e2 = await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(minutes=1), source_id=crit,
                          payload={"name": "database down", "host": host})
    await settle(db, e2)
    # Another critical and a warning on the same host after that: the critical is the primary now.
    e3 = await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(minutes=2), source_id=crit2,
                          payload={"name": "replica down", "host": host})
    e4 = await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(minutes=2), source_id=warn2,
                          severity="warning", payload={"name": "disk 86%", "host": host})
    await settle(db, e3, e4)
    await run_due(db, now=t0 + timedelta(minutes=3))
    [first] = await incidents(db, alice.tenant_id, f"monitor:{warn}")
    [critical] = await incidents(db, alice.tenant_id, f"monitor:{crit}")
    [later_critical] = await incidents(db, alice.tenant_id, f"monitor:{crit2}")
    [later_warning] = await incidents(db, alice.tenant_id, f"monitor:{warn2}")
    assert first.group_id == critical.group_id == later_critical.group_id == later_warning.group_id
    assert len(await pages(db, alice.tenant_id, first.id)) == 1
    assert len(await pages(db, alice.tenant_id, critical.id)) == 1
    assert await pages(db, alice.tenant_id, later_critical.id) == []
    assert await pages(db, alice.tenant_id, later_warning.id) == []
    assert "correlated" in await timeline_kinds(db, alice.tenant_id, critical.id)
    r = await client.get("/api/v1/correlation-groups", headers=alice.bearer)
    group = next(g for g in r.json()["items"] if g["id"] == str(first.group_id))
    assert group["primary_incident_id"] == str(critical.id) and group["incident_count"] == 4


async def test_silence_suppresses_paging_but_keeps_the_record(db, client, alice):
    t0, source = start_time(), uuid.uuid4()
    await _route_to_alice(client, alice, source_ids=[str(source)])
    r = await client.post("/api/v1/silence", json={
        "name": "deploy", "source_type": "monitor", "source_id": str(source),
        "starts_at": to_rfc3339(t0 - timedelta(minutes=1)), "ends_at": to_rfc3339(t0 + timedelta(minutes=30))},
        headers=alice.bearer)
    assert r.status_code == 201, r.text
    silence = r.json()
    e1 = await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source)
    await settle(db, e1)
    await run_due(db, now=t0 + timedelta(minutes=5))
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    assert inc.suppressed and inc.suppression == {"kind": "silence", "id": silence["id"], "name": "deploy"}
    assert await pages(db, alice.tenant_id, inc.id) == []
    assert len(await alerts(db, alice.tenant_id, inc.id)) == 1
    r = await client.get("/api/v1/incidents", params={"suppressed": "true"}, headers=alice.bearer)
    assert str(inc.id) in [i["id"] for i in r.json()["items"]]

    # Still failing after the silence ends: the next alert pages.
    e2 = await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(minutes=31), source_id=source)
    await settle(db, e2)
    await run_due(db, now=t0 + timedelta(minutes=31))
    row = await incident(db, alice.tenant_id, inc.id)
    assert not row.suppressed
    assert [p.target_id for p in await pages(db, alice.tenant_id, inc.id)] == [uuid.UUID(alice.user_id)]


async def test_maintenance_window_suppresses_tagged_sources(db, client, alice):
    t0, source, other = start_time(), uuid.uuid4(), uuid.uuid4()
    tag = f"rack-{uuid.uuid4().hex[:6]}"
    await _route_to_alice(client, alice, severities=["critical"])
    r = await client.post("/api/v1/maintenance-windows", json={
        "name": "rack move", "tags": [tag], "starts_at": to_rfc3339(t0 - timedelta(minutes=5)),
        "ends_at": to_rfc3339(t0 + timedelta(hours=1))}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    window = r.json()
    e1 = await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source,
                          payload={"name": "a", "tags": [tag]})
    e2 = await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=other, payload={"name": "b"})
    await settle(db, e1, e2)
    await run_due(db, now=t0)
    [held] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    [paged] = await incidents(db, alice.tenant_id, f"monitor:{other}")
    assert held.suppressed and held.suppression["kind"] == "maintenance" and held.suppression["id"] == window["id"]
    assert await pages(db, alice.tenant_id, held.id) == []
    assert not paged.suppressed and len(await pages(db, alice.tenant_id, paged.id)) == 1
