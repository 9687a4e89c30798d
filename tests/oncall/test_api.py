"""On-call API: routing rules, escalation policies, schedules (+ overrides, on-call, shifts, iCal).
Every endpoint: the outsider tenant gets 404, bad input VALIDATION_FAILED, a viewer 403 on writes."""

from __future__ import annotations

import uuid

import pytest
from icalendar import Calendar

from tests.conftest import assert_error
from tests.tenancy.helpers import join


@pytest.fixture
async def viewer(app, client, smtp_server, signup, alice):
    return await join(app, client, smtp_server, signup, alice, role="viewer")


async def as_viewer(client, viewer, method: str, url: str, **kw):
    """A viewer's browser session (cookie + CSRF): authenticated, member of the tenant, read-only."""
    return await client.request(method, url, cookies=viewer.cookies, headers=viewer.session_headers, **kw)


def policy_body(alice, **kw) -> dict:
    return {"name": "primary", "steps": [{"delay_minutes": 0, "targets": [{"type": "user", "id": alice.user_id}]},
                                         {"delay_minutes": 10, "round_robin": True,
                                          "targets": [{"type": "user", "id": alice.user_id}]}],
            "repeat": 2, **kw}


SCHEDULE = {"name": "ops", "timezone": "Europe/Berlin",
            "layers": [{"name": "base", "rotation": "weekly", "start": "2026-03-02T09:00:00", "users": []}]}


def schedule_body(*users) -> dict:
    body = {**SCHEDULE, "layers": [dict(SCHEDULE["layers"][0], users=[u.user_id for u in users])]}
    return body


async def test_escalation_policies_crud(client, alice, outsider, viewer):
    r = await client.post("/api/v1/escalation-policies", json=policy_body(alice), headers=alice.bearer)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["tenant_id"] == alice.tenant_id and p["repeat"] == 2 and p["steps"][1]["round_robin"] is True
    assert {"id", "created_at", "updated_at"} <= set(p) and p["created_at"].endswith("Z")
    url = f"/api/v1/escalation-policies/{p['id']}"
    r = await client.get(url, headers=alice.bearer)
    assert r.status_code == 200 and r.headers["ETag"]
    r = await client.get("/api/v1/escalation-policies", headers=alice.bearer)
    assert r.json()["total"] == 1 and r.json()["per_page"] == 25
    r = await client.put(url, json=policy_body(alice, name="renamed"), headers=alice.bearer)
    assert r.status_code == 200 and r.json()["name"] == "renamed"

    for method, body in (("GET", None), ("PUT", policy_body(outsider)), ("DELETE", None)):
        assert_error(await client.request(method, url, json=body, headers=outsider.bearer), 404, "NOT_FOUND")
    assert (await client.get("/api/v1/escalation-policies", headers=outsider.bearer)).json()["total"] == 0

    assert_error(await client.post("/api/v1/escalation-policies", json={"name": "x", "steps": []},
                                   headers=alice.bearer), 422, "VALIDATION_FAILED")
    bad = policy_body(alice)
    bad["steps"][0]["targets"][0]["type"] = "pager"
    assert_error(await client.post("/api/v1/escalation-policies", json=bad, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    # A user of another tenant is not a valid target.
    body = assert_error(await client.post("/api/v1/escalation-policies", json=policy_body(outsider),
                                          headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert "steps" in body["details"]["fields"]
    assert_error(await client.get("/api/v1/escalation-policies/not-a-uuid", headers=alice.bearer),
                 422, "VALIDATION_FAILED")

    assert (await as_viewer(client, viewer, "GET", url)).status_code == 200
    assert_error(await as_viewer(client, viewer, "POST", "/api/v1/escalation-policies", json=policy_body(alice)),
                 403, "FORBIDDEN")
    assert_error(await as_viewer(client, viewer, "DELETE", url), 403, "FORBIDDEN")

    r = await client.post("/api/v1/alert-routing-rules", json={"name": "all", "escalation_policy_id": p["id"]},
                          headers=alice.bearer)
    assert r.status_code == 201
    assert_error(await client.delete(url, headers=alice.bearer), 409, "CONFLICT")
    assert (await client.delete(f"/api/v1/alert-routing-rules/{r.json()['id']}", headers=alice.bearer)).status_code == 204
    r = await client.delete(url, headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.get(url, headers=alice.bearer), 404, "NOT_FOUND")


async def test_routing_rules_crud(client, alice, outsider, viewer):
    pol = (await client.post("/api/v1/escalation-policies", json=policy_body(alice), headers=alice.bearer)).json()
    ch = (await client.post("/api/v1/notification-channels", headers=alice.bearer, json={
        "name": "db hook", "kind": "webhook", "config": {"url": "https://hooks.example.com/db"}})).json()["id"]
    body = {"name": "db alerts", "position": 1, "tags": ["db"], "severities": ["critical"], "host": "pg-1",
            "source_type": "monitor", "escalation_policy_id": pol["id"], "channel_ids": [ch], "auto_resolve": False}
    r = await client.post("/api/v1/alert-routing-rules", json=body, headers=alice.bearer)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["channel_ids"] == [ch] and rule["auto_resolve"] is False and rule["tenant_id"] == alice.tenant_id
    url = f"/api/v1/alert-routing-rules/{rule['id']}"
    first = (await client.post("/api/v1/alert-routing-rules", json={**body, "name": "first", "position": 0},
                               headers=alice.bearer)).json()
    names = [i["name"] for i in (await client.get("/api/v1/alert-routing-rules", headers=alice.bearer)).json()["items"]]
    assert names == ["first", "db alerts", "Default route"]  # the default route goes last
    r = await client.put(url, json={**body, "position": 0, "name": "moved"}, headers=alice.bearer,
                         params={})
    assert r.status_code == 200 and r.json()["name"] == "moved"
    stale = (await client.get(f"/api/v1/alert-routing-rules/{first['id']}", headers=alice.bearer)).headers["ETag"]
    await client.put(f"/api/v1/alert-routing-rules/{first['id']}", json={**body, "name": "x"}, headers=alice.bearer)
    assert_error(await client.put(f"/api/v1/alert-routing-rules/{first['id']}", json=body,
                                  headers={**alice.bearer, "If-Match": stale}), 412, "PRECONDITION_FAILED")

    for method, payload in (("GET", None), ("PUT", body), ("DELETE", None)):
        assert_error(await client.request(method, url, json=payload, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.post("/api/v1/alert-routing-rules", json={**body, "escalation_policy_id": pol["id"],
                                                                        "channel_ids": []} | {"severities": ["loud"]},
                                   headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.post("/api/v1/alert-routing-rules", json={"name": "nowhere"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    # Another tenant's policy is unknown here.
    other = (await client.post("/api/v1/escalation-policies", json=policy_body(outsider), headers=outsider.bearer)).json()
    assert_error(await client.post("/api/v1/alert-routing-rules", json={**body, "escalation_policy_id": other["id"]},
                                   headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await as_viewer(client, viewer, "PUT", url, json=body), 403, "FORBIDDEN")
    assert (await as_viewer(client, viewer, "GET", "/api/v1/alert-routing-rules")).json()["total"] == 3
    assert (await client.delete(url, headers=alice.bearer)).status_code == 204


async def test_schedules_crud_oncall_shifts_overrides_and_ical(client, alice, outsider, viewer):
    r = await client.post("/api/v1/schedules", json=schedule_body(alice, viewer), headers=alice.bearer)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["timezone"] == "Europe/Berlin" and s["layers"][0]["shift_hours"] == 168
    url = f"/api/v1/schedules/{s['id']}"
    r = await client.get(f"{url}/oncall", params={"at": "2026-03-02T08:00:00Z"}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["user_id"] == alice.user_id and r.json()["source"] == "layer"
    r = await client.get(f"{url}/oncall", params={"at": "2026-03-30T07:30:00Z"}, headers=alice.bearer)
    assert r.json()["user_id"] == alice.user_id  # 4 weeks later, after DST: 09:30 CEST
    r = await client.get(f"{url}/oncall", params={"at": "2026-03-09T08:00:00Z"}, headers=alice.bearer)
    assert r.json()["user_id"] == viewer.user_id

    r = await client.get(f"{url}/shifts", params={"from": "2026-03-02T08:00:00Z", "to": "2026-04-06T07:00:00Z"},
                         headers=alice.bearer)
    assert r.status_code == 200
    shifts = r.json()["shifts"]
    assert [x["start"] for x in shifts] == ["2026-03-02T08:00:00Z", "2026-03-09T08:00:00Z", "2026-03-16T08:00:00Z",
                                            "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"]

    r = await client.post(f"{url}/overrides", json={"user_id": viewer.user_id, "starts_at": "2026-03-03T10:00:00Z",
                                                   "ends_at": "2026-03-03T12:00:00Z"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    override = r.json()
    r = await client.get(f"{url}/oncall", params={"at": "2026-03-03T11:00:00Z"}, headers=alice.bearer)
    assert r.json()["user_id"] == viewer.user_id and r.json()["source"] == "override"
    r = await client.get(f"{url}/overrides", headers=alice.bearer)
    assert r.json()["total"] == 1 and r.json()["items"][0]["id"] == override["id"]

    r = await client.get(f"{url}/ical", params={"days": 30}, headers=alice.bearer)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    events = [c for c in cal.walk("VEVENT")]
    assert events and all(e["UID"] and e.decoded("DTEND") > e.decoded("DTSTART") for e in events)
    assert any(alice.email in str(e["SUMMARY"]) or "Test" in str(e["SUMMARY"]) for e in events)
    # A year ahead, the largest feed the schema allows, is served (the past week made it a 500).
    year = await client.get(f"{url}/ical", params={"days": 366}, headers=alice.bearer)
    assert year.status_code == 200 and Calendar.from_ical(year.content).walk("VEVENT")

    for method, path, payload in (("GET", url, None), ("PUT", url, schedule_body(alice)), ("DELETE", url, None),
                                  ("GET", f"{url}/oncall", None), ("GET", f"{url}/shifts", None),
                                  ("GET", f"{url}/ical", None), ("GET", f"{url}/overrides", None),
                                  ("POST", f"{url}/overrides", {"user_id": outsider.user_id,
                                                                "starts_at": "2026-03-03T10:00:00Z",
                                                                "ends_at": "2026-03-03T12:00:00Z"}),
                                  ("DELETE", f"{url}/overrides/{override['id']}", None)):
        assert_error(await client.request(method, path, json=payload, headers=outsider.bearer), 404, "NOT_FOUND")

    for bad in ({**SCHEDULE, "timezone": "Mars/Olympus"},
                {**SCHEDULE, "layers": [{"rotation": "custom", "start": "2026-03-02T09:00:00", "users": [alice.user_id]}]},
                {**SCHEDULE, "layers": [dict(SCHEDULE["layers"][0], users=[alice.user_id],
                                             restrictions=[{"start": "25:00", "end": "17:00"}])]},
                schedule_body(outsider)):
        assert_error(await client.post("/api/v1/schedules", json=bad, headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"{url}/oncall", params={"at": "2026-03-03T11:00:00"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"{url}/shifts", params={"from": "2026-03-03T11:00:00Z", "to": "2026-03-01T00:00:00Z"},
                                  headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.post(f"{url}/overrides", json={"user_id": alice.user_id, "starts_at": "2026-03-03T12:00:00Z",
                                                             "ends_at": "2026-03-03T10:00:00Z"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")

    assert (await as_viewer(client, viewer, "GET", f"{url}/oncall")).status_code == 200
    assert_error(await as_viewer(client, viewer, "POST", f"{url}/overrides",
                                 json={"user_id": viewer.user_id, "starts_at": "2026-03-03T10:00:00Z",
                                       "ends_at": "2026-03-03T12:00:00Z"}), 403, "FORBIDDEN")
    assert_error(await as_viewer(client, viewer, "PUT", url, json=schedule_body(alice)), 403, "FORBIDDEN")

    r = await client.put(url, json=schedule_body(viewer), headers=alice.bearer)
    assert r.status_code == 200 and r.json()["layers"][0]["users"] == [viewer.user_id]
    assert (await client.delete(f"{url}/overrides/{override['id']}", headers=alice.bearer)).status_code == 204
    assert (await client.delete(url, headers=alice.bearer)).status_code == 204
    assert_error(await client.get(url, headers=alice.bearer), 404, "NOT_FOUND")


async def test_channel_references_must_name_a_channel_of_this_tenant(client, alice, outsider):
    """Another tenant's channel id, or a random one, is a 422 naming the field at create and update
    (it used to be stored and then fail silently at paging time)."""
    def hook(account, name):
        return client.post("/api/v1/notification-channels", headers=account.bearer, json={
            "name": name, "kind": "webhook", "config": {"url": "https://hooks.example.com/x"}})

    mine = (await hook(alice, "mine")).json()["id"]
    theirs = (await hook(outsider, "theirs")).json()["id"]
    rules, policies = "/api/v1/alert-routing-rules", "/api/v1/escalation-policies"
    rule = (await client.post(rules, json={"name": "r", "channel_ids": [mine]}, headers=alice.bearer)).json()
    policy = (await client.post(policies, headers=alice.bearer, json={
        "name": "p", "steps": [{"targets": [{"type": "channel", "id": mine}]}]})).json()
    assert rule["channel_ids"] == [mine] and policy["steps"][0]["targets"][0]["id"] == mine
    for foreign in (theirs, str(uuid.uuid4())):
        body = {"name": "r", "channel_ids": [mine, foreign]}
        for method, url in (("POST", rules), ("PUT", f"{rules}/{rule['id']}")):
            err = assert_error(await client.request(method, url, json=body, headers=alice.bearer),
                               422, "VALIDATION_FAILED")
            assert foreign in err["details"]["fields"]["channel_ids"] and mine not in err["details"]["fields"][
                "channel_ids"]
        steps = [{"targets": [{"type": "channel", "id": mine}]}, {"targets": [{"type": "channel", "id": foreign}]}]
        for method, url in (("POST", policies), ("PUT", f"{policies}/{policy['id']}")):
            err = assert_error(await client.request(method, url, json={"name": "p", "steps": steps},
                                                    headers=alice.bearer), 422, "VALIDATION_FAILED")
            assert foreign in err["details"]["fields"]["steps"]
    # Nothing changed; and the outsider cannot point at alice's channel either.
    assert (await client.get(f"{rules}/{rule['id']}", headers=alice.bearer)).json()["channel_ids"] == [mine]
    assert_error(await client.post(rules, json={"name": "r", "channel_ids": [mine]}, headers=outsider.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"{rules}/{rule['id']}", headers=outsider.bearer), 404, "NOT_FOUND")
