"""Moving in from Opsgenie: a local server speaking Opsgenie's REST API (users paged) is imported —
members matched by e-mail (Opsgenie's username), a schedule of two rotations in Europe/Berlin whose
on-call answers across the spring-forward change hand off at 09:00 local, the escalation (Opsgenie's
delays count from the alert, Xinex's from the previous step; repeat), and API integrations as
integrations of kind opsgenie. A re-run updates; a team recipient and a non-API integration are
reported as not mapped."""

from __future__ import annotations

import pytest

from tests.integrations.fake_opsgenie import FakeOpsgenie
from tests.integrations.helpers import assert_on_call
from tests.tenancy.helpers import join

KEY = "eb243592-faa2-4ba2-a551-1afdf565c889"


def source(alice_email: str, bob_email: str) -> dict:
    users = [{"id": "u-alice", "username": alice_email, "fullName": "Alice", "role": {"name": "Admin"}},
             {"id": "u-bob", "username": bob_email.upper(), "fullName": "Bob", "role": {"name": "User"}},
             {"id": "u-dave", "username": "dave-og-import@example.com", "fullName": "Dave", "role": {"name": "User"}}]
    schedule = {"id": "s-1", "name": "Platform", "description": "", "timezone": "Europe/Berlin", "enabled": True,
                "rotations": [
                    {"id": "r-1", "name": "weekdays", "startDate": "2026-03-23T08:00:00Z", "type": "daily",
                     "length": 1, "participants": [{"type": "user", "id": "u-alice", "username": alice_email},
                                                   {"type": "user", "id": "u-bob", "username": bob_email}]},
                    {"id": "r-2", "name": "weekend", "startDate": "2026-03-02T00:00:00Z", "type": "weekly",
                     "length": 1, "participants": [{"type": "user", "id": "u-bob", "username": bob_email},
                                                   {"type": "team", "id": "t-1", "name": "ops"}],
                     "timeRestriction": {"type": "weekday-and-time-of-day", "restrictions": [
                         {"startDay": "saturday", "startHour": 0, "startMin": 0,
                          "endDay": "monday", "endHour": 0, "endMin": 0}]}}]}
    escalation = {"id": "e-1", "name": "Platform escalation", "description": "", "repeat": {
        "waitInterval": 5, "count": 1, "resetRecipientStates": False, "closeAlertAfterAll": False}, "rules": [
        {"condition": "if-not-acked", "notifyType": "default", "delay": {"timeAmount": 0, "timeUnit": "minutes"},
         "recipient": {"type": "schedule", "id": "s-1", "name": "Platform"}},
        {"condition": "if-not-acked", "notifyType": "default", "delay": {"timeAmount": 10, "timeUnit": "minutes"},
         "recipient": {"type": "user", "id": "u-alice", "username": alice_email}},
        {"condition": "if-not-acked", "notifyType": "default", "delay": {"timeAmount": 25, "timeUnit": "minutes"},
         "recipient": {"type": "team", "id": "t-1", "name": "ops"}}]}
    integrations = [{"id": "i-1", "name": "Checkout API", "type": "API", "enabled": True},
                    {"id": "i-2", "name": "Mailbox", "type": "Email", "enabled": True}]
    return {"users": users, "schedules": [schedule], "escalations": [escalation], "integrations": integrations}


@pytest.fixture
async def opsgenie_source(app, client, smtp_server, signup, alice):
    bob = await join(app, client, smtp_server, signup, alice)
    fake = FakeOpsgenie(KEY, source(alice.email, bob.email))
    yield fake, bob
    fake.close()


async def test_import_from_opsgenie(client, alice, opsgenie_source):
    fake, bob = opsgenie_source
    body = {"source": "opsgenie", "url": fake.url, "token": KEY}
    r = await client.post("/api/v1/integrations/import", headers=alice.bearer, json=body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["summary"] == {"user": {"matched": 2, "invited": 1}, "schedule": {"create": 1},
                                 "escalation_policy": {"create": 1}, "service": {"create": 1}}
    assert sum(1 for p in fake.requests if p.startswith("/v2/users")) == 2
    whys = {(p["type"], p["why"]) for p in report["problems"]}
    assert ("schedule", "rotation 'weekend': a team participant cannot be mapped: left out") in whys
    assert ("escalation_policy", "rule 3: a team recipient cannot be mapped") in whys
    assert any(t == "service" and "type Email" in w for t, w in whys)

    [sched] = [i for i in report["items"] if i["type"] == "schedule"]
    expected = {"2026-03-27T12:00:00Z": alice.user_id,  # Fri 13:00 CET
                "2026-03-28T12:00:00Z": bob.user_id,    # Sat: the weekend rotation
                "2026-03-30T06:30:00Z": alice.user_id,  # Mon 08:30 CEST: Sunday's shift until 09:00 local
                "2026-03-30T07:30:00Z": bob.user_id,    # Mon 09:30 CEST
                "2026-03-31T07:01:00Z": alice.user_id}  # Tue 09:01 CEST
    await assert_on_call(client, alice, sched["object_id"], expected)

    [pol] = [i for i in report["items"] if i["type"] == "escalation_policy"]
    policy = (await client.get(f"/api/v1/escalation-policies/{pol['object_id']}", headers=alice.bearer)).json()
    assert [(s["delay_minutes"], [t["type"] for t in s["targets"]]) for s in policy["steps"]] == [
        (0, ["schedule"]), (10, ["user"])]
    assert policy["repeat"] == 1

    [svc] = [i for i in report["items"] if i["type"] == "service"]
    integration = (await client.get(f"/api/v1/integrations/{svc['object_id']}", headers=alice.bearer)).json()
    assert integration["kind"] == "opsgenie" and integration["name"] == "Opsgenie: Checkout API"
    assert len(svc["key"]) == 32

    r = await client.post("/api/v1/integrations/import", headers=alice.bearer, json=body)
    assert r.json()["summary"] == {"user": {"matched": 2, "invited": 1}, "schedule": {"update": 1},
                                   "escalation_policy": {"update": 1}, "service": {"update": 1}}
    r = await client.post("/api/v1/integrations/import", headers=alice.bearer, json={**body, "token": "nope"})
    assert r.status_code == 400 and "Opsgenie refused the token (401)" in r.json()["error"]
