"""Hostile bodies on the inbound endpoints are answered, never a 500: NUL characters and unpaired
surrogates (which PostgreSQL's JSONB and UTF-8 refuse) are stored cleaned, and a body nested deeper
than any alert needs is a 400 naming the problem."""

from __future__ import annotations

import json

from tests.conftest import assert_error
from tests.integrations.helpers import make_integration, one_incident, settle_integration


async def test_nul_and_lone_surrogates_are_stored_cleaned(db, client, alice):
    pd = await make_integration(client, alice, "pagerduty")
    raw = ('{"routing_key": "KEY", "event_action": "trigger", "dedup_key": "nul\\u0000key", "payload": '
           '{"summary": "bad \\u0000 byte \\ud800 here", "source": "h\\u0000", "severity": "error", '
           '"custom_details": {"k\\u0000": "\\udfff"}}}').replace("KEY", pd["key"])
    r = await client.post("/v2/enqueue", content=raw.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    assert r.json()["dedup_key"] == "nulkey"
    await settle_integration(db, alice, pd)
    inc = await one_incident(db, alice, pd, "nulkey")
    assert inc.title == "bad  byte \ufffd here" and inc.host == "h"

    wh = await make_integration(client, alice, "webhook", mapping={"title": "t"})
    r = await client.post(f"/hooks/{wh['key']}", content=b'{"t": "x\\u0000y\\udbff"}',
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text


async def test_deep_nesting_is_a_400(client, alice):
    pd = await make_integration(client, alice, "pagerduty")
    deep = {"routing_key": pd["key"], "event_action": "trigger",
            "payload": {"summary": "s", "source": "h", "severity": "info", "custom_details": {}}}
    node = deep["payload"]["custom_details"]
    for _ in range(100):
        node["n"] = {}
        node = node["n"]
    r = await client.post("/v2/enqueue", json=deep)
    assert r.status_code == 400 and r.json()["errors"] == ["the body nests deeper than 64 levels"], r.text
    r = await client.post("/v2/enqueue", content=b"[" * 100_000, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["status"] == "invalid event", r.text
    am = await make_integration(client, alice, "alertmanager")
    body = assert_error(await client.post(f"/hooks/{am['key']}", content=json.dumps(deep).encode(),
                                          headers={"Content-Type": "application/json"}), 400, "BAD_REQUEST")
    assert body["details"]["errors"] == ["the body nests deeper than 64 levels"]
    og = await make_integration(client, alice, "opsgenie")
    r = await client.post("/v2/alerts", content=b"{" * 50_000, headers={
        "Authorization": f"GenieKey {og['key']}", "Content-Type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["message"], r.text


async def test_change_events_take_hostile_bodies_too(client, alice):
    pd = await make_integration(client, alice, "pagerduty")
    raw = ('{"routing_key": "KEY", "payload": {"summary": "deploy \\u0000 \\ud800", "timestamp": '
           '"2026-12-04t21:00:00z", "custom_details": {"k\\u0000": "\\udfff"}}}').replace("KEY", pd["key"])
    r = await client.post("/v2/change/enqueue", content=raw.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    r = await client.get("/api/v1/annotations", params={"from": "2026-12-04T20:00:00Z", "to": "2026-12-04T22:00:00Z"},
                         headers=alice.bearer)
    assert "deploy  \ufffd" in [a["name"] for a in r.json()["items"]]
    deep = {"routing_key": pd["key"], "payload": {"summary": "s", "custom_details": {}}}
    node = deep["payload"]["custom_details"]
    for _ in range(100):
        node["n"] = {}
        node = node["n"]
    r = await client.post("/v2/change/enqueue", json=deep)
    assert r.status_code == 400 and r.json()["errors"] == ["the body nests deeper than 64 levels"], r.text
    r = await client.post("/v2/change/enqueue", json={"routing_key": pd["key"], "payload": {
        "summary": "s", "timestamp": "yesterday"}})
    assert r.status_code == 400 and r.json()["errors"] == ["'payload.timestamp' is not an ISO 8601 date-time"]
