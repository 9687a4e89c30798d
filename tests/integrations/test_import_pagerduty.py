"""Moving in from PagerDuty: a local server speaking PagerDuty's REST API (paged lists) is imported —
members matched by e-mail and the missing one invited, a two-layer schedule in Europe/Berlin whose
on-call answers across the spring-forward change are the ones PagerDuty gives (handoffs at 09:00
local), the escalation policy (delays shifted onto the right steps, loops), and the service as an
integration with a new routing key routed to the policy. A dry run changes nothing; a re-run updates
and never duplicates; what cannot be mapped is listed with the reason; the CLI prints the plan."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from xinex.cli import main as cli

from tests.conftest import assert_error
from tests.integrations.fake_pagerduty import FakePagerDuty
from tests.integrations.helpers import assert_on_call, serve
from tests.tenancy.helpers import join

TOKEN = "u+pd-read-only-token"


def source(alice_email: str, bob_email: str) -> dict:
    users = [{"id": "PALICE", "type": "user", "name": "Alice", "email": alice_email.upper()},
             {"id": "PBOB", "type": "user", "name": "Bob", "email": bob_email},
             {"id": "PCAROL", "type": "user", "name": "Carol", "email": "carol-pd-import@example.com"},
             {"id": "PNOMAIL", "type": "user", "name": "Service account"}]
    weekdays = {"id": "PSCHED1", "type": "schedule", "name": "Platform primary", "time_zone": "Europe/Berlin",
                "description": "imported",
                # PagerDuty lists the highest layer first.
                "schedule_layers": [
                    {"id": "PL2", "name": "Layer 2", "start": "2026-03-01T00:00:00+01:00", "end": None,
                     "rotation_virtual_start": "2026-03-01T00:00:00+01:00", "rotation_turn_length_seconds": 604800,
                     "users": [{"user": {"id": "PBOB", "type": "user_reference"}}],
                     "restrictions": [{"type": "weekly_restriction", "start_time_of_day": "00:00:00",
                                       "duration_seconds": 172800, "start_day_of_week": 6}]},
                    {"id": "PL1", "name": "Layer 1", "start": "2026-03-23T09:00:00+01:00", "end": None,
                     "rotation_virtual_start": "2026-03-23T09:00:00+01:00", "rotation_turn_length_seconds": 86400,
                     "users": [{"user": {"id": "PALICE", "type": "user_reference"}},
                               {"user": {"id": "PBOB", "type": "user_reference"}},
                               {"user": {"id": "PCAROL", "type": "user_reference"}}],
                     "restrictions": []},
                    {"id": "PL0", "name": "Layer 0", "start": "2025-01-01T00:00:00Z", "end": "2025-06-01T00:00:00Z",
                     "rotation_virtual_start": "2025-01-01T00:00:00Z", "rotation_turn_length_seconds": 86400,
                     "users": [{"user": {"id": "PALICE", "type": "user_reference"}}], "restrictions": []}]}
    odd = {"id": "PSCHED2", "type": "schedule", "name": "Odd turns", "time_zone": "UTC", "schedule_layers": [
        {"id": "PL9", "name": "Layer 1", "start": "2026-01-01T00:00:00Z", "end": None,
         "rotation_virtual_start": "2026-01-01T00:00:00Z", "rotation_turn_length_seconds": 5400,
         "users": [{"user": {"id": "PALICE", "type": "user_reference"}}], "restrictions": []}]}
    policy = {"id": "PEP1", "type": "escalation_policy", "name": "Platform", "num_loops": 2, "escalation_rules": [
        {"id": "R1", "escalation_delay_in_minutes": 10,
         "targets": [{"id": "PSCHED1", "type": "schedule_reference"}]},
        {"id": "R2", "escalation_delay_in_minutes": 15,
         "targets": [{"id": "PALICE", "type": "user_reference"}, {"id": "PCAROL", "type": "user_reference"}]}]}
    services = [{"id": "PSVC1", "type": "service", "name": "Checkout API",
                 "escalation_policy": {"id": "PEP1", "type": "escalation_policy_reference"}},
                {"id": "PSVC2", "type": "service", "name": "Legacy",
                 "escalation_policy": {"id": "PGONE", "type": "escalation_policy_reference"}}]
    # Overrides of PSCHED1 (GET /schedules/{id}/overrides): bob covers two hours next month, carol (not a
    # member) cannot be imported, and one that ended last year is not asked for (PagerDuty's since/until).
    soon = (datetime.now(UTC) + timedelta(days=30)).replace(hour=10, minute=0, second=0, microsecond=0)
    overrides = {"PSCHED1": [
        {"id": "PO1", "start": soon.isoformat(), "end": (soon + timedelta(hours=2)).isoformat(),
         "user": {"id": "PBOB", "type": "user_reference"}},
        {"id": "PO2", "start": (soon + timedelta(days=1)).isoformat(), "end": (soon + timedelta(days=2)).isoformat(),
         "user": {"id": "PCAROL", "type": "user_reference"}},
        {"id": "PO3", "start": "2025-03-01T00:00:00Z", "end": "2025-03-02T00:00:00Z",
         "user": {"id": "PBOB", "type": "user_reference"}}]}
    return {"users": users, "schedules": [weekdays, odd], "escalation_policies": [policy], "services": services,
            "overrides": overrides}


@pytest.fixture
async def pagerduty_source(app, client, smtp_server, signup, alice):
    bob = await join(app, client, smtp_server, signup, alice)
    fake = FakePagerDuty(TOKEN, source(alice.email, bob.email))
    yield fake, bob
    fake.close()


async def _import(client, account, url, *, dry_run=False, token=TOKEN):
    return await client.post("/api/v1/integrations/import", headers=account.bearer,
                             json={"source": "pagerduty", "url": url, "token": token, "dry_run": dry_run})


async def _count(client, account, path) -> int:
    return (await client.get(path, headers=account.bearer, params={"per_page": 100})).json()["total"]


async def test_import_from_pagerduty(app, client, alice, outsider, pagerduty_source):
    fake, bob = pagerduty_source
    before = {p: await _count(client, alice, p) for p in
              ("/api/v1/schedules", "/api/v1/escalation-policies", "/api/v1/integrations", "/api/v1/alert-routing-rules")}

    # Dry run: the whole plan, nothing changed, nobody invited.
    r = await _import(client, alice, fake.url, dry_run=True)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["dry_run"] is True and plan["summary"] == {
        "user": {"matched": 2, "invited": 1}, "schedule": {"create": 2}, "override": {"create": 1},
        "escalation_policy": {"create": 1}, "service": {"create": 2}}
    assert all(i["key"] is None for i in plan["items"])
    assert {p: await _count(client, alice, p) for p in before} == before
    assert (await client.get("/api/v1/invitations", headers=alice.bearer)).json()["total"] == 0
    assert fake.requests.count("/users") == 2  # four users, two per page

    # The real run.
    r = await _import(client, alice, fake.url)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["summary"] == plan["summary"]
    whys = [(p["type"], p["why"]) for p in report["problems"]]
    assert ("user", "no e-mail address to match or invite") in whys
    assert ("schedule", "layer 'Layer 0' has ended: not imported") in whys
    assert ("schedule", "layer 'Layer 1': user PCAROL is not a member yet: left out of the rotation") in whys
    assert ("schedule", "layer 'Layer 1': a turn of 5400 s is not whole hours: not imported") in whys
    assert any(t == "escalation_policy" and "PCAROL" in w for t, w in whys)
    assert any(t == "service" and "PGONE" in w for t, w in whys)
    invitations = (await client.get("/api/v1/invitations", headers=alice.bearer)).json()["items"]
    assert [i["email"] for i in invitations] == ["carol-pd-import@example.com"]

    [sched] = [i for i in report["items"] if i["external_id"] == "PSCHED1"]
    schedule = (await client.get(f"/api/v1/schedules/{sched['object_id']}", headers=alice.bearer)).json()
    assert schedule["timezone"] == "Europe/Berlin" and [layer["name"] for layer in schedule["layers"]] == [
        "Layer 1", "Layer 2"]  # PagerDuty's higher layer is the later (winning) one here too

    # Who is on call, across the spring-forward change (29 March 2026 in Berlin): PagerDuty's answers.
    expected = {"2026-03-27T12:00:00Z": alice.user_id,  # Fri 13:00 CET, layer 1 (Friday is alice's)
                "2026-03-28T12:00:00Z": bob.user_id,    # Sat: the weekend layer
                "2026-03-29T07:30:00Z": bob.user_id,    # Sun 09:30 CEST: still the weekend
                "2026-03-30T06:30:00Z": alice.user_id,  # Mon 08:30 CEST: Sunday's shift until 09:00 local
                "2026-03-30T07:30:00Z": bob.user_id,    # Mon 09:30 CEST: handed off at 09:00 local, not 10:00
                "2026-03-31T07:01:00Z": alice.user_id}  # Tue 09:01 CEST
    await assert_on_call(client, alice, sched["object_id"], expected)
    # The override: bob covers the two hours, whoever the layers put there.
    [ov] = [i for i in report["items"] if i["type"] == "override"]
    assert ov["external_id"] == "PO1"
    listed = (await client.get(f"/api/v1/schedules/{sched['object_id']}/overrides", headers=alice.bearer)).json()
    assert [(o["id"], o["user_id"]) for o in listed["items"]] == [(ov["object_id"], bob.user_id)]
    start = datetime.fromisoformat(listed["items"][0]["starts_at"].replace("Z", "+00:00"))
    await assert_on_call(client, alice, sched["object_id"], {(start + timedelta(hours=1)).isoformat(): bob.user_id})
    assert ("override", "user PCAROL is not a member yet: not imported") in whys

    [pol] = [i for i in report["items"] if i["type"] == "escalation_policy"]
    policy = (await client.get(f"/api/v1/escalation-policies/{pol['object_id']}", headers=alice.bearer)).json()
    assert [(s["delay_minutes"], [t["type"] for t in s["targets"]]) for s in policy["steps"]] == [
        (0, ["schedule"]), (10, ["user"])]
    assert policy["repeat"] == 2 and policy["repeat_delay_minutes"] == 15

    [svc] = [i for i in report["items"] if i["external_id"] == "PSVC1"]
    assert len(svc["key"]) == 32
    integration = (await client.get(f"/api/v1/integrations/{svc['object_id']}", headers=alice.bearer)).json()
    assert integration["kind"] == "pagerduty" and integration["service"] == "Checkout API"
    rules = (await client.get("/api/v1/alert-routing-rules", headers=alice.bearer,
                              params={"per_page": 100})).json()["items"]
    [rule] = [x for x in rules if x["source_ids"] == [svc["object_id"]]]
    assert rule["source_type"] == "integration" and rule["escalation_policy_id"] == pol["object_id"]

    # A re-run updates what it made: nothing duplicated, no new key, no second invitation.
    r = await _import(client, alice, fake.url)
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["summary"] == {"user": {"matched": 2, "invited": 1}, "schedule": {"update": 2},
                                "override": {"update": 1}, "escalation_policy": {"update": 1}, "service": {"update": 2}}
    assert all(i["key"] is None for i in again["items"])
    assert await _count(client, alice, "/api/v1/schedules") == before["/api/v1/schedules"] + 2
    assert await _count(client, alice, "/api/v1/integrations") == before["/api/v1/integrations"] + 2
    assert await _count(client, alice, "/api/v1/alert-routing-rules") == before["/api/v1/alert-routing-rules"] + 1
    assert len((await client.get("/api/v1/invitations", headers=alice.bearer)).json()["items"]) == 1
    assert (await client.get(f"/api/v1/schedules/{sched['object_id']}/overrides",
                             headers=alice.bearer)).json()["total"] == 1

    # Another tenant sees none of it; its own dry run matches none of alice's members.
    assert_error(await client.get(f"/api/v1/schedules/{sched['object_id']}", headers=outsider.bearer),
                 404, "NOT_FOUND")
    r = await _import(client, outsider, fake.url, dry_run=True)
    assert r.json()["summary"]["user"] == {"invited": 3}


async def test_import_refusals(client, alice, signup, pagerduty_source):
    fake, _ = pagerduty_source
    r = await _import(client, alice, fake.url, token="wrong")
    body = assert_error(r, 400, "BAD_REQUEST")
    assert "refused the token (401)" in body["error"]
    assert_error(await _import(client, alice, "http://127.0.0.1:9/"), 400, "BAD_REQUEST")
    assert_error(await client.post("/api/v1/integrations/import", headers=alice.bearer,
                                   json={"source": "splunk-on-call", "url": fake.url, "token": "t"}), 422,
                 "VALIDATION_FAILED")
    reader = await signup(scopes=["incidents:read"])
    assert_error(await _import(client, reader, fake.url), 403, "FORBIDDEN")
    assert await _count(client, alice, "/api/v1/schedules") == 0


async def test_the_cli_prints_the_plan(app, client, alice, pagerduty_source, capsys):
    fake, _ = pagerduty_source
    async with serve(app) as base:
        code = await asyncio.to_thread(cli, ["import", "pagerduty", "--url", fake.url, "--token", TOKEN, "--dry-run",
                                             "--xinex-url", base, "--xinex-token", alice.token])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "plan: create   schedule           Platform primary — 2 layer(s), Europe/Berlin" in out
    assert "plan: invited  user               carol-pd-import@example.com" in out
    assert "cannot map schedule Odd turns: layer 'Layer 1': a turn of 5400 s is not whole hours" in out
    assert out.strip().splitlines()[-1] == (
        "summary (dry run, nothing changed): escalation_policy: 1 create; override: 1 create; schedule: 2 create; "
        "service: 2 create; user: 1 invited, 2 matched; 7 problem(s)")
