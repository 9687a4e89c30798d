"""Alertmanager (webhook payload version 4, as its documentation gives it), Grafana's unified
alerting webhook and generic JSON webhooks posted to an integration's URL: one incident per alert
fingerprint, labels as tags that routing rules and silences match, firing/resolved driving trigger and
resolve, a page reaching a real webhook receiver on 127.0.0.1, and bad bodies answered 400 naming
what is wrong."""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import timedelta

import pytest
from xinex.kit.types import utcnow

from tests.conftest import assert_error
from tests.incidents.helpers import Receiver, make_rule
from tests.integrations.helpers import incidents_of, make_integration, one_incident, settle_integration
from tests.tenancy.helpers import deliver

# Alertmanager's webhook payload (version 4) as its configuration documentation describes it, with
# the values an Alertmanager 0.25 sends for a group of two alerts.
ALERTMANAGER_FIRING = {
    "receiver": "xinex",
    "status": "firing",
    "alerts": [
        {"status": "firing",
         "labels": {"alertname": "HighErrorRate", "instance": "checkout-1:8080", "job": "checkout",
                    "severity": "page", "team": "payments"},
         "annotations": {"summary": "5xx above 5% on checkout-1", "runbook_url": "https://runbooks/5xx"},
         "startsAt": "2026-12-04T21:00:00.000Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus:9090/graph?g0.expr=rate%28http_5xx%5B5m%5D%29+%3E+0.05",
         "fingerprint": "5d2b0c1a9e8f7d6c"},
        {"status": "firing",
         "labels": {"alertname": "HighErrorRate", "instance": "checkout-2:8080", "job": "checkout",
                    "severity": "page", "team": "payments"},
         "annotations": {"summary": "5xx above 5% on checkout-2"},
         "startsAt": "2026-12-04T21:00:30.000Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus:9090/graph?g0.expr=rate%28http_5xx%5B5m%5D%29+%3E+0.05",
         "fingerprint": "8a7b6c5d4e3f2a1b"},
    ],
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "job": "checkout", "severity": "page", "team": "payments"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "version": "4",
    "groupKey": "{}/{team=\"payments\"}:{alertname=\"HighErrorRate\"}",
    "truncatedAlerts": 0,
}


def resolved(group: dict, *fingerprints: str) -> dict:
    out = copy.deepcopy(group)
    out["alerts"] = [a for a in out["alerts"] if a["fingerprint"] in fingerprints]
    for a in out["alerts"]:
        a["status"], a["endsAt"] = "resolved", "2026-12-04T21:10:00.000Z"
    out["status"] = "resolved"
    return out


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def _wait_for(predicate, timeout: float = 15.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.05)


async def test_alertmanager_group_routes_by_label_pages_and_resolves(app, db, client, alice, outsider, receiver):
    r = await client.post("/api/v1/notification-channels", headers=alice.bearer,
                          json={"name": "payments hook", "kind": "webhook", "config": {"url": receiver.url}})
    assert r.status_code == 201, r.text
    channel = r.json()["id"]
    # Routing rules match labels as tags "name=value".
    await make_rule(client, alice, tags=["team=payments"], channel_ids=[channel], position=1)
    am = await make_integration(client, alice, "alertmanager", service="checkout",
                                severity_map={"page": "critical", "ticket": "warning"})
    r = await client.post(f"/hooks/{am['key']}", json=ALERTMANAGER_FIRING)
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "accepted", "alerts": 2, "dedup_keys": ["5d2b0c1a9e8f7d6c", "8a7b6c5d4e3f2a1b"]}
    await settle_integration(db, alice, am)
    first = await one_incident(db, alice, am, "5d2b0c1a9e8f7d6c")
    second = await one_incident(db, alice, am, "8a7b6c5d4e3f2a1b")
    assert first.title == "5xx above 5% on checkout-1" and first.severity == "critical"
    assert first.host == "checkout-1:8080" and first.service == "checkout"
    assert {"team=payments", "alertname=HighErrorRate", "severity=page"} <= set(first.tags)
    assert first.routing_rule_id is not None and first.route_channel_ids == [channel]

    # The page reaches the webhook receiver.
    await deliver(app)
    await _wait_for(lambda: len([b for b in receiver.bodies if b.get("event") == "incident.triggered"]) >= 2)
    paged = {b["incident_id"]: b["title"] for b in receiver.bodies if b.get("event") == "incident.triggered"}
    assert paged == {str(first.id): "[CRITICAL] 5xx above 5% on checkout-1",
                     str(second.id): "[CRITICAL] 5xx above 5% on checkout-2"}

    # Alertmanager re-sends the firing group every repeat_interval: no new incident.
    assert (await client.post(f"/hooks/{am['key']}", json=ALERTMANAGER_FIRING)).status_code == 202
    await settle_integration(db, alice, am)
    assert len(await incidents_of(db, alice, am)) == 2
    assert (await one_incident(db, alice, am, "5d2b0c1a9e8f7d6c")).alert_count == 2

    # One alert resolves: its incident resolves, the other stays open.
    r = await client.post(f"/hooks/{am['key']}", json=resolved(ALERTMANAGER_FIRING, "5d2b0c1a9e8f7d6c"))
    assert r.status_code == 202
    await settle_integration(db, alice, am)
    assert (await one_incident(db, alice, am, "5d2b0c1a9e8f7d6c")).status == "resolved"
    assert (await one_incident(db, alice, am, "8a7b6c5d4e3f2a1b")).status == "triggered"
    assert_error(await client.get(f"/api/v1/incidents/{second.id}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.post(f"/hooks/{uuid.uuid4().hex}", json=ALERTMANAGER_FIRING), 404, "NOT_FOUND")


async def test_a_silence_on_a_label_keeps_the_alert_from_paging(db, client, alice):
    am = await make_integration(client, alice, "alertmanager")
    r = await client.post("/api/v1/silence", headers=alice.bearer, json={
        "name": "payments deploy", "tags": ["team=payments"], "ends_at": (utcnow() + timedelta(hours=1)).isoformat()})
    assert r.status_code == 201, r.text
    group = copy.deepcopy(ALERTMANAGER_FIRING)
    group["alerts"] = group["alerts"][:1]
    group["alerts"][0]["fingerprint"] = uuid.uuid4().hex[:16]
    assert (await client.post(f"/hooks/{am['key']}", json=group)).status_code == 202
    await settle_integration(db, alice, am)
    [inc] = await incidents_of(db, alice, am)
    assert inc.suppressed and inc.suppression["name"] == "payments deploy"


async def test_alertmanager_bad_bodies_are_400_naming_the_problem(client, alice):
    am = await make_integration(client, alice, "alertmanager")
    url = f"/hooks/{am['key']}"
    body = assert_error(await client.post(url, json={"version": "4"}), 400, "BAD_REQUEST")
    assert body["details"]["errors"] == ["'alerts' is missing or not an array"]
    bad = copy.deepcopy(ALERTMANAGER_FIRING)
    bad["version"] = "3"
    bad["alerts"][0]["status"] = "pending"
    bad["alerts"][1]["labels"] = "team=payments"
    del bad["alerts"][1]["fingerprint"]
    body = assert_error(await client.post(url, json=bad), 400, "BAD_REQUEST")
    assert body["details"]["errors"] == [
        "'version' is '3': this receiver reads Alertmanager's webhook payload version 4",
        "'alerts[0].status' must be 'firing' or 'resolved'",
        "'alerts[1].labels' must be an object of strings",
        "'alerts[1]' has neither a fingerprint nor labels to tell it apart"]
    assert "(and 3 more)" in body["error"]
    body = assert_error(await client.post(url, content=b"not json", headers={"Content-Type": "application/json"}),
                        400, "BAD_REQUEST")
    assert body["error"].startswith("the body is not valid JSON")
    assert_error(await client.post(url, content=b""), 400, "BAD_REQUEST")
    pd = await make_integration(client, alice, "pagerduty")
    body = assert_error(await client.post(f"/hooks/{pd['key']}", json=ALERTMANAGER_FIRING), 400, "BAD_REQUEST")
    assert "post to /v2/enqueue" in body["details"]["errors"][0]


# Grafana's unified alerting webhook contact point (Grafana 10/11): Alertmanager's shape plus its own fields.
GRAFANA_FIRING = {
    "receiver": "xinex", "status": "firing", "orgId": 1,
    "alerts": [{
        "status": "firing",
        "labels": {"alertname": "DiskFull", "grafana_folder": "infra", "instance": "db-1", "severity": "warning"},
        "annotations": {"description": "Disk usage is 93% on db-1"},
        "startsAt": "2026-12-04T21:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://grafana.example.com/alerting/grafana/abc123/view?orgId=1",
        "fingerprint": "a1b2c3d4e5f60718",
        "silenceURL": "https://grafana.example.com/alerting/silence/new?alertmanager=grafana",
        "dashboardURL": "https://grafana.example.com/d/disk", "panelURL": "https://grafana.example.com/d/disk?viewPanel=2",
        "values": {"B": 93.1, "C": 1}, "valueString": "[ var='B' labels={instance=db-1} value=93.1 ]"}],
    "groupLabels": {"alertname": "DiskFull", "grafana_folder": "infra"},
    "commonLabels": {"alertname": "DiskFull", "grafana_folder": "infra", "instance": "db-1", "severity": "warning"},
    "commonAnnotations": {"description": "Disk usage is 93% on db-1"},
    "externalURL": "https://grafana.example.com/",
    "version": "1", "groupKey": "{}/{__grafana_autogenerated__=\"true\"}:{alertname=\"DiskFull\"}",
    "truncatedAlerts": 0, "title": "[FIRING:1] DiskFull infra (db-1 warning)", "state": "alerting",
    "message": "**Firing**\n\nValue: B=93.1\nLabels:\n - alertname = DiskFull\n",
}


async def test_grafana_fires_and_resolves(db, client, alice):
    gr = await make_integration(client, alice, "grafana")
    r = await client.post(f"/hooks/{gr['key']}", json=GRAFANA_FIRING)
    assert r.status_code == 202, r.text
    await settle_integration(db, alice, gr)
    inc = await one_incident(db, alice, gr, "a1b2c3d4e5f60718")
    assert inc.title == "Disk usage is 93% on db-1" and inc.severity == "warning" and inc.host == "db-1"
    assert "grafana_folder=infra" in inc.tags
    done = resolved(GRAFANA_FIRING, "a1b2c3d4e5f60718")
    done.update(state="ok", title="[RESOLVED] DiskFull infra (db-1 warning)")
    assert (await client.post(f"/hooks/{gr['key']}", json=done)).status_code == 202
    await settle_integration(db, alice, gr)
    assert (await one_incident(db, alice, gr, "a1b2c3d4e5f60718")).status == "resolved"


async def test_generic_webhook_mapping(db, client, alice):
    wh = await make_integration(client, alice, "webhook", mapping={
        "title": "join(' ', [project, '—', message])", "dedup_key": "issue_id", "severity": "level",
        "resolve": "status == 'resolved'", "source": "server_name", "labels": "tags"})
    body = {"project": "shop", "message": "TypeError: cart is undefined", "issue_id": "SHOP-17", "level": "fatal",
            "status": "unresolved", "server_name": "web-3", "tags": {"release": "2026.12.1", "env": "prod"}}
    r = await client.post(f"/hooks/{wh['key']}", json=body)
    assert r.status_code == 202 and r.json()["dedup_keys"] == ["SHOP-17"], r.text
    await settle_integration(db, alice, wh)
    inc = await one_incident(db, alice, wh, "SHOP-17")
    assert inc.title == "shop — TypeError: cart is undefined" and inc.severity == "critical"
    assert inc.host == "web-3" and {"release=2026.12.1", "env=prod"} <= set(inc.tags)
    assert (await client.post(f"/hooks/{wh['key']}", json={**body, "status": "resolved"})).status_code == 202
    await settle_integration(db, alice, wh)
    assert (await one_incident(db, alice, wh, "SHOP-17")).status == "resolved"
    # A body the mapping finds no title in: 400 naming the expression, nothing stored.
    body = assert_error(await client.post(f"/hooks/{wh['key']}", json={"unrelated": True}), 400, "BAD_REQUEST")
    assert body["details"]["errors"] == ["mapping.title: In function join(), invalid type for value: None, "
                                         "expected one of: ['array-string'], received: \"NoneType\""]
    assert len(await incidents_of(db, alice, wh)) == 1


async def test_generic_webhook_splits_a_batch(db, client, alice):
    wh = await make_integration(client, alice, "webhook", mapping={
        "alerts": "events", "title": "name", "dedup_key": "id", "resolve": "state == 'ok'"})
    r = await client.post(f"/hooks/{wh['key']}", json={"events": [
        {"id": "a", "name": "queue depth high", "state": "alarm"}, {"id": "b", "name": "lag high", "state": "alarm"}]})
    assert r.status_code == 202 and r.json()["alerts"] == 2, r.text
    await settle_integration(db, alice, wh)
    assert {i.title for i in await incidents_of(db, alice, wh)} == {"queue depth high", "lag high"}
    body = assert_error(await client.post(f"/hooks/{wh['key']}", json={"events": {"id": "a"}}), 400, "BAD_REQUEST")
    assert body["details"]["errors"] == ["mapping.alerts did not give an array for this payload"]
