"""Incidents API: list filters, detail timeline, ack/resolve (idempotent, actor), alerts,
correlation groups and silences; outsider 404, validation, viewer 403."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from xinex.kit.types import to_rfc3339, utcnow
from xinex.oncall.escalation import run_due

from tests.conftest import assert_error
from tests.incidents.helpers import emit_event, incidents, settle, start_time
from tests.tenancy.helpers import join


@pytest.fixture
async def viewer(app, client, smtp_server, signup, alice):
    return await join(app, client, smtp_server, signup, alice, role="viewer")


async def as_viewer(client, viewer, method: str, url: str, **kw):
    return await client.request(method, url, cookies=viewer.cookies, headers=viewer.session_headers, **kw)


async def _incident(db, account, severity="critical", event="monitor.down"):
    t0, source = start_time(), uuid.uuid4()
    await settle(db, await emit_event(db, account.tenant_id, event, t0, source_id=source, severity=severity))
    await run_due(db, now=t0)
    [inc] = await incidents(db, account.tenant_id, f"{event.split('.')[0]}:{source}")
    return inc, source


async def test_list_detail_ack_resolve(db, client, alice, outsider, viewer):
    crit, _ = await _incident(db, alice)
    warn, warn_source = await _incident(db, alice, severity="warning", event="monitor.degraded")

    r = await client.get("/api/v1/incidents", params={"severity": "warning"}, headers=alice.bearer)
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [str(warn.id)]
    r = await client.get("/api/v1/incidents", params={"status": "open", "per_page": 1}, headers=alice.bearer)
    body = r.json()
    assert body["total"] == 2 and body["per_page"] == 1 and body["total_pages"] == 2 and len(body["items"]) == 1
    assert (await client.get("/api/v1/incidents", headers=outsider.bearer)).json()["total"] == 0

    url = f"/api/v1/incidents/{crit.id}"
    r = await client.get(url, headers=alice.bearer)
    assert r.status_code == 200 and r.headers["ETag"]
    detail = r.json()
    assert detail["status"] == "triggered" and detail["tenant_id"] == alice.tenant_id
    assert detail["escalation_policy"]["name"].startswith("Tenant owners")
    kinds = [e["kind"] for e in detail["timeline"]]
    assert {"alert", "routed", "page", "escalation"} <= set(kinds)
    assert detail["pages"][0]["target_id"] == alice.user_id

    r = await client.post(f"{url}/ack", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    acked_at = r.json()["acknowledged_at"]
    r = await client.post(f"{url}/ack", headers=alice.bearer)  # idempotent: nothing changes
    assert r.status_code == 200 and r.json()["acknowledged_at"] == acked_at
    r = await client.post(f"{url}/resolve", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert r.json()["resolved_by"] == alice.user_id and r.json()["resolve_reason"] == "manual"
    resolved_at = r.json()["resolved_at"]
    r = await client.post(f"{url}/resolve", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["resolved_at"] == resolved_at
    entries = [e for e in r.json()["timeline"] if e["kind"] in ("acknowledged", "resolved")]
    assert [(e["kind"], e["actor_type"], e["actor_id"]) for e in entries] == [
        ("acknowledged", "user", alice.user_id), ("resolved", "user", alice.user_id)]
    assert_error(await client.post(f"{url}/ack", headers=alice.bearer), 409, "CONFLICT")
    r = await client.get("/api/v1/incidents", params={"status": ["resolved"]}, headers=alice.bearer)
    assert str(crit.id) in [i["id"] for i in r.json()["items"]]

    wurl = f"/api/v1/incidents/{warn.id}"
    for method, path in (("GET", wurl), ("POST", f"{wurl}/ack"), ("POST", f"{wurl}/resolve")):
        assert_error(await client.request(method, path, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.get("/api/v1/incidents", params={"status": "sleeping"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.get("/api/v1/incidents", params={"per_page": 1000}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.post("/api/v1/incidents/nope/ack", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert (await as_viewer(client, viewer, "GET", wurl)).status_code == 200
    assert_error(await as_viewer(client, viewer, "POST", f"{wurl}/ack"), 403, "FORBIDDEN")
    assert_error(await as_viewer(client, viewer, "POST", f"{wurl}/resolve"), 403, "FORBIDDEN")

    r = await client.get("/api/v1/alerts", params={"source_id": str(warn_source)}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["total"] == 1
    alert = r.json()["items"][0]
    assert alert["incident_id"] == str(warn.id) and alert["severity"] == "warning" and alert["outcome"] == "opened"
    assert (await client.get("/api/v1/alerts", headers=outsider.bearer)).json()["total"] == 0
    assert_error(await client.get("/api/v1/alerts", params={"incident_id": "x"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert (await client.get("/api/v1/correlation-groups", headers=outsider.bearer)).json()["total"] == 0
    assert_error(await client.get("/api/v1/correlation-groups", params={"page": 0}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")


async def test_silences(client, alice, outsider, viewer):
    ends = to_rfc3339(utcnow() + timedelta(hours=2))
    r = await client.post("/api/v1/silence", json={"name": "noisy", "tags": ["batch"], "severities": ["warning"],
                                                   "ends_at": ends}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["active"] is True and s["tenant_id"] == alice.tenant_id and s["created_by"] == alice.user_id
    url = f"/api/v1/silence/{s['id']}"
    assert (await client.get(url, headers=alice.bearer)).json()["name"] == "noisy"
    assert (await client.get("/api/v1/silence", params={"active": "true"}, headers=alice.bearer)).json()["total"] == 1
    for method in ("GET", "DELETE"):
        assert_error(await client.request(method, url, headers=outsider.bearer), 404, "NOT_FOUND")
    assert (await client.get("/api/v1/silence", headers=outsider.bearer)).json()["total"] == 0
    for bad in ({"name": "no matcher", "ends_at": ends},
                {"name": "past", "tags": ["x"], "ends_at": "2020-01-01T00:00:00Z"},
                {"name": "naive", "tags": ["x"], "ends_at": "2030-01-01T00:00:00"},
                {"name": "sev", "severities": ["loud"], "ends_at": ends}):
        assert_error(await client.post("/api/v1/silence", json=bad, headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await as_viewer(client, viewer, "POST", "/api/v1/silence", json={"name": "v", "tags": ["x"],
                                                                                   "ends_at": ends}), 403, "FORBIDDEN")
    assert_error(await as_viewer(client, viewer, "DELETE", url), 403, "FORBIDDEN")
    r = await client.delete(url, headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.get(url, headers=alice.bearer), 404, "NOT_FOUND")
