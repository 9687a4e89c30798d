"""Moving in from Grafana OnCall: a local server speaking its public API (every list paged) is imported —
members by e-mail, a web schedule of two rolling-users shifts (the higher level wins) whose on-call
answers across the spring-forward change hand off at 09:00 local, an escalation chain (waits become
step delays), and its Alertmanager integration routed to the chain; what cannot be mapped is reported."""

from __future__ import annotations

import pytest

from tests.integrations.fake_grafana_oncall import FakeGrafanaOnCall
from tests.integrations.helpers import assert_on_call
from tests.tenancy.helpers import join

TOKEN = "oncall-api-token-0123456789"


def source(alice_email: str, bob_email: str) -> dict:
    users = [{"id": "UALICE", "email": alice_email, "username": "alice", "role": "admin"},
             {"id": "UBOB", "email": bob_email, "username": "bob", "role": "user"},
             {"id": "UERIN", "email": "erin-go-import@example.com", "username": "erin", "role": "user"}]
    schedules = [{"id": "SWEB", "name": "Platform", "type": "web", "team_id": None, "time_zone": "Europe/Berlin",
                  "shifts": ["OSDAILY", "OSWEEKEND"]},
                 {"id": "SICAL", "name": "From iCal", "type": "ical", "time_zone": "UTC", "shifts": []}]
    shifts = [{"id": "OSDAILY", "name": "daily", "type": "rolling_users", "level": 0, "time_zone": None,
               "start": "2026-03-23T09:00:00", "rotation_start": "2026-03-23T09:00:00", "duration": 86400,
               "frequency": "daily", "interval": 1, "by_day": None, "week_start": "MO",
               "rolling_users": [["UALICE"], ["UBOB"]], "start_rotation_from_user_index": 0, "until": None},
              {"id": "OSWEEKEND", "name": "weekend", "type": "rolling_users", "level": 1, "time_zone": None,
               "start": "2026-03-07T00:00:00", "rotation_start": "2026-03-07T00:00:00", "duration": 86400,
               "frequency": "weekly", "interval": 1, "by_day": ["SA", "SU"], "week_start": "MO",
               "rolling_users": [["UBOB", "UALICE"]], "start_rotation_from_user_index": 0, "until": None}]
    chains = [{"id": "EC1", "name": "Platform chain", "team_id": None}]
    steps = [{"id": "EP1", "escalation_chain_id": "EC1", "position": 0, "type": "notify_on_call_from_schedule",
              "notify_on_call_from_schedule": "SWEB", "important": False},
             {"id": "EP2", "escalation_chain_id": "EC1", "position": 1, "type": "wait", "duration": 600},
             {"id": "EP3", "escalation_chain_id": "EC1", "position": 2, "type": "notify_persons",
              "persons_to_notify": ["UALICE"], "important": True},
             {"id": "EP4", "escalation_chain_id": "EC1", "position": 3, "type": "trigger_webhook",
              "action_to_trigger": "A1"}]
    integrations = [{"id": "CI1", "name": "Prometheus", "type": "alertmanager", "link": "https://oncall/x",
                     "default_route": {"id": "R1", "escalation_chain_id": "EC1"}},
                    {"id": "CI2", "name": "Custom", "type": "formatted_webhook", "default_route": {}}]
    return {"users": users, "schedules": schedules, "on_call_shifts": shifts, "escalation_chains": chains,
            "escalation_policies": steps, "integrations": integrations}


@pytest.fixture
async def oncall_source(app, client, smtp_server, signup, alice):
    bob = await join(app, client, smtp_server, signup, alice)
    fake = FakeGrafanaOnCall(TOKEN, source(alice.email, bob.email))
    yield fake, bob
    fake.close()


async def test_import_from_grafana_oncall(client, alice, oncall_source):
    fake, bob = oncall_source
    body = {"source": "grafana-oncall", "url": fake.url, "token": TOKEN}
    r = await client.post("/api/v1/integrations/import", headers=alice.bearer, json=body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["summary"] == {"user": {"matched": 2, "invited": 1}, "schedule": {"create": 1},
                                 "escalation_policy": {"create": 1}, "service": {"create": 1}}
    assert sum(1 for p in fake.requests if p.startswith("/api/v1/users/")) == 2
    whys = {(p["type"], p["why"]) for p in report["problems"]}
    assert ("schedule", "an iCal-imported schedule has no shifts to import") in whys
    assert ("schedule", "shift 'weekend': several people on call at once: the first of each group is imported") in whys
    assert ("escalation_policy", "a trigger_webhook step cannot be mapped: left out") in whys
    assert any(t == "service" and "formatted_webhook" in w for t, w in whys)

    [sched] = [i for i in report["items"] if i["type"] == "schedule"]
    expected = {"2026-03-27T12:00:00Z": alice.user_id, "2026-03-28T12:00:00Z": bob.user_id,
                "2026-03-29T07:30:00Z": bob.user_id, "2026-03-30T06:30:00Z": alice.user_id,
                "2026-03-30T07:30:00Z": bob.user_id, "2026-03-31T07:01:00Z": alice.user_id}
    await assert_on_call(client, alice, sched["object_id"], expected)

    [pol] = [i for i in report["items"] if i["type"] == "escalation_policy"]
    policy = (await client.get(f"/api/v1/escalation-policies/{pol['object_id']}", headers=alice.bearer)).json()
    assert [(s["delay_minutes"], [t["type"] for t in s["targets"]]) for s in policy["steps"]] == [
        (0, ["schedule"]), (10, ["user"])]

    [svc] = [i for i in report["items"] if i["type"] == "service"]
    integration = (await client.get(f"/api/v1/integrations/{svc['object_id']}", headers=alice.bearer)).json()
    assert integration["kind"] == "alertmanager" and integration["name"] == "Grafana OnCall: Prometheus"
    rules = (await client.get("/api/v1/alert-routing-rules", headers=alice.bearer,
                              params={"per_page": 100})).json()["items"]
    [rule] = [x for x in rules if x["source_ids"] == [svc["object_id"]]]
    assert rule["escalation_policy_id"] == pol["object_id"]

    r = await client.post("/api/v1/integrations/import", headers=alice.bearer, json=body)
    assert r.json()["summary"] == {"user": {"matched": 2, "invited": 1}, "schedule": {"update": 1},
                                   "escalation_policy": {"update": 1}, "service": {"update": 1}}
