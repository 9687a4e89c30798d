"""Integration management: the key is answered once and only its hash is kept, rotation retires the
old key at once, edits keep what they do not name, every change is audited, and another tenant gets
404 for all of it."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select
from xinex.models.integrations import Integration

from tests.conftest import assert_error


async def _create(client, account, **body) -> dict:
    body.setdefault("name", f"prom {uuid.uuid4().hex[:6]}")
    body.setdefault("kind", "alertmanager")
    r = await client.post("/api/v1/integrations", json=body, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_shows_the_key_once_and_stores_only_its_hash(client, db, alice):
    made = await _create(client, alice, service="checkout", tags=["prod"], severity_map={"PAGE": "critical"})
    key = made["key"]
    assert len(key) == 32 and all(c in "0123456789abcdef" for c in key)
    assert made["ingestion_url"].endswith(f"/hooks/{key}")
    assert made["sender_config"]["webhook_configs"][0] == {"url": made["ingestion_url"], "send_resolved": True}
    assert made["key_hint"] == key[-4:] and made["severity_map"] == {"page": "critical"}
    r = await client.get(f"/api/v1/integrations/{made['id']}", headers=alice.bearer)
    assert r.status_code == 200 and "key" not in r.json() and r.json()["service"] == "checkout"
    listed = (await client.get("/api/v1/integrations", headers=alice.bearer)).json()
    assert [i["id"] for i in listed["items"]].count(made["id"]) == 1 and key not in str(listed)
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        row = (await s.execute(select(Integration).where(Integration.id == uuid.UUID(made["id"])))).scalar_one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in str(row.model_dump())


async def test_each_kind_says_where_to_send(client, alice):
    pd = await _create(client, alice, kind="pagerduty")
    assert pd["ingestion_url"].endswith("/v2/enqueue") and pd["sender_config"]["routing_key"] == pd["key"]
    og = await _create(client, alice, kind="opsgenie")
    assert og["ingestion_url"].endswith("/v2/alerts") and og["sender_config"]["authorization"] == f"GenieKey {og['key']}"
    gr = await _create(client, alice, kind="grafana")
    assert gr["sender_config"]["contact_point"]["url"] == gr["ingestion_url"]
    wh = await _create(client, alice, kind="webhook", mapping={"title": "title"})
    assert wh["mapping"] == {"title": "title"}
    kinds = (await client.get("/api/v1/integrations", params={"kind": "opsgenie"}, headers=alice.bearer)).json()
    assert {i["kind"] for i in kinds["items"]} == {"opsgenie"}


async def test_bad_input_is_a_clear_422(client, alice):
    h = alice.bearer
    body = assert_error(await client.post("/api/v1/integrations", headers=h, json={"name": "x", "kind": "nagios"}),
                        422, "VALIDATION_FAILED")
    assert "kind" in body["details"]["fields"]
    body = assert_error(await client.post("/api/v1/integrations", headers=h, json={
        "name": "x", "kind": "webhook", "mapping": {"title": "foo[", "dedup_key": "id"}}), 422, "VALIDATION_FAILED")
    assert "JMESPath" in body["details"]["fields"]["mapping.title"]
    body = assert_error(await client.post("/api/v1/integrations", headers=h, json={
        "name": "x", "kind": "webhook", "mapping": {"dedup_key": "id"}}), 422, "VALIDATION_FAILED")
    assert "required" in body["details"]["fields"]["mapping.title"]
    body = assert_error(await client.post("/api/v1/integrations", headers=h, json={
        "name": "x", "kind": "webhook", "mapping": {"title": "t", "colour": "c"}}), 422, "VALIDATION_FAILED")
    assert "unknown mapping field" in body["details"]["fields"]["mapping.colour"]
    body = assert_error(await client.post("/api/v1/integrations", headers=h, json={
        "name": "x", "kind": "alertmanager", "mapping": {"title": "t"}}), 422, "VALIDATION_FAILED")
    assert "only generic webhooks" in body["details"]["fields"]["mapping"]
    assert_error(await client.post("/api/v1/integrations", headers=h, json={
        "name": "x", "kind": "grafana", "severity_map": {"p1": "urgent"}}), 422, "VALIDATION_FAILED")
    assert_error(await client.post("/api/v1/integrations", headers=h, json={"name": " ", "kind": "grafana"}),
                 422, "VALIDATION_FAILED")


async def test_update_rotate_delete_and_audit(client, alice):
    made = await _create(client, alice, service="checkout", tags=["prod"])
    url = f"/api/v1/integrations/{made['id']}"
    r = await client.put(url, json={"name": "renamed", "enabled": False}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "renamed" and r.json()["enabled"] is False
    assert r.json()["service"] == "checkout" and r.json()["tags"] == ["prod"]  # left out: kept
    stale = r.headers["etag"]
    r = await client.put(url, json={"service": None}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["service"] is None
    assert_error(await client.put(url, json={"name": "x"}, headers={**alice.bearer, "If-Match": stale}),
                 412, "PRECONDITION_FAILED")

    r = await client.post(f"{url}/rotate-key", headers=alice.bearer)
    assert r.status_code == 200, r.text
    new_key = r.json()["key"]
    assert new_key != made["key"] and r.json()["ingestion_url"].endswith(new_key)
    # The old URL is refused from now on, the new one is known (disabled: 403).
    assert_error(await client.post(f"/hooks/{made['key']}", json={"alerts": []}), 404, "NOT_FOUND")
    assert_error(await client.post(f"/hooks/{new_key}", json={"alerts": []}), 403, "FORBIDDEN")

    assert (await client.delete(url, headers=alice.bearer)).status_code == 204
    assert_error(await client.get(url, headers=alice.bearer), 404, "NOT_FOUND")
    assert_error(await client.post(f"/hooks/{new_key}", json={"alerts": []}), 404, "NOT_FOUND")
    log = (await client.get("/api/v1/audit-log", params={"per_page": 100}, headers=alice.bearer)).json()["items"]
    actions = [e["action"] for e in log if e["target_id"] == made["id"]]
    assert {"integration.created", "integration.updated", "integration.key_rotated",
            "integration.deleted"} <= set(actions)
    assert new_key not in str(log) and made["key"] not in str(log)


async def test_roles_and_scopes(client, signup, alice):
    reader = await signup(scopes=["incidents:read"])
    assert (await client.get("/api/v1/integrations", headers=reader.bearer)).status_code == 200
    assert_error(await client.post("/api/v1/integrations", headers=reader.bearer,
                                   json={"name": "x", "kind": "grafana"}), 403, "FORBIDDEN")
    assert_error(await client.post("/api/v1/integrations", json={"name": "x", "kind": "grafana"}),
                 401, "UNAUTHENTICATED")


async def test_outsider_gets_404_for_everything(client, alice, outsider):
    made = await _create(client, alice)
    url = f"/api/v1/integrations/{made['id']}"
    h = outsider.bearer
    assert_error(await client.get(url, headers=h), 404, "NOT_FOUND")
    assert_error(await client.put(url, json={"name": "mine"}, headers=h), 404, "NOT_FOUND")
    assert_error(await client.post(f"{url}/rotate-key", headers=h), 404, "NOT_FOUND")
    assert_error(await client.post(f"{url}/test", json={"payload": {}}, headers=h), 404, "NOT_FOUND")
    assert_error(await client.delete(url, headers=h), 404, "NOT_FOUND")
    assert made["id"] not in str((await client.get("/api/v1/integrations", headers=h)).json())
    assert (await client.get(url, headers=alice.bearer)).json()["name"] == made["name"]  # untouched


async def test_console_shows_what_a_payload_becomes(client, alice):
    made = await _create(client, alice, kind="webhook", service="web", severity_map={"fatal": "critical"}, mapping={
        "title": "data.issue.title", "dedup_key": "data.issue.id", "severity": "data.issue.level",
        "resolve": "action == 'resolved'", "labels": "{project: data.issue.project}"})
    url = f"/api/v1/integrations/{made['id']}/test"
    sample = {"action": "created", "data": {"issue": {"id": "42", "title": "TypeError in cart", "level": "fatal",
                                                       "project": "shop"}}}
    r = await client.post(url, json={"payload": sample}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    [alert] = r.json()["alerts"]
    assert r.json()["ok"] is True and alert["action"] == "trigger" and alert["dedup_key"] == "42"
    assert alert["summary"] == "TypeError in cart" and alert["severity"] == "critical"
    assert alert["service"] == "web" and "project=shop" in alert["tags"]
    r = await client.post(url, json={"payload": {**sample, "action": "resolved"}}, headers=alice.bearer)
    assert r.json()["alerts"][0]["action"] == "resolve"
    # A payload the mapping finds no title in, and a mapping tried without saving it.
    r = await client.post(url, json={"payload": {"other": 1}}, headers=alice.bearer)
    assert r.json() == {"ok": False, "errors": ["mapping.title gave nothing for this payload"], "alerts": []}
    r = await client.post(url, json={"payload": sample, "mapping": {"title": "upper(action)"}}, headers=alice.bearer)
    assert r.json()["ok"] is False and "unknown function" in r.json()["errors"][0].lower()
    r = await client.post(url, json={"payload": sample, "mapping": {"title": "action"}}, headers=alice.bearer)
    assert r.json()["alerts"][0]["summary"] == "created"
    # Other kinds: the console reads the sender's format.
    pd = await _create(client, alice, kind="pagerduty")
    r = await client.post(f"/api/v1/integrations/{pd['id']}/test", headers=alice.bearer,
                          json={"payload": {"event_action": "trigger", "payload": {"summary": "s", "source": "h"}}})
    assert r.json() == {"ok": False, "errors": ["'payload.severity' is missing or blank"], "alerts": []}
