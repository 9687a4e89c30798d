"""The Opsgenie Alert API-compatible endpoints as Opsgenie's clients call them (the request shape of
its REST API and of Alertmanager's opsgenie_configs): create, acknowledge and close by alias with
`Authorization: GenieKey`, Opsgenie's answers (202 {result, took, requestId}, 422 {message, …}),
and a wrong key refused."""

from __future__ import annotations

import uuid

from tests.conftest import assert_error
from tests.integrations.helpers import make_integration, one_incident, settle_integration


async def test_create_acknowledge_close_by_alias(db, client, alice, outsider):
    og = await make_integration(client, alice, "opsgenie")
    genie = {"Authorization": f"GenieKey {og['key']}"}
    alert = {"message": "Disk 91% full on db-1", "alias": "db-1/disk", "priority": "P2", "tags": ["db", "prod"],
             "entity": "db-1", "details": {"mount": "/var/lib/postgresql"}, "description": "Free space below 10%"}
    r = await client.post("/v2/alerts", json=alert, headers=genie)
    assert r.status_code == 202, r.text
    answer = r.json()
    assert answer["result"] == "Request will be processed" and isinstance(answer["took"], float)
    uuid.UUID(answer["requestId"])
    await settle_integration(db, alice, og)
    inc = await one_incident(db, alice, og, "db-1/disk")
    assert inc.title == "Disk 91% full on db-1" and inc.severity == "error" and inc.host == "db-1"
    assert {"db", "prod"} <= set(inc.tags)
    assert_error(await client.get(f"/api/v1/incidents/{inc.id}", headers=outsider.bearer), 404, "NOT_FOUND")

    # The same alias again: appended to the open incident (Opsgenie's de-duplication by alias).
    assert (await client.post("/v2/alerts", json=alert, headers=genie)).status_code == 202
    r = await client.post("/v2/alerts/db-1%2Fdisk/acknowledge", params={"identifierType": "alias"},
                          json={"user": "Monitoring Script", "note": "on it"}, headers=genie)
    assert r.status_code == 202, r.text
    await settle_integration(db, alice, og)
    inc = await one_incident(db, alice, og, "db-1/disk")
    assert inc.alert_count == 2 and inc.status == "acknowledged"

    r = await client.post("/v2/alerts/db-1%2Fdisk/close", params={"identifierType": "alias"}, headers=genie)
    assert r.status_code == 202, r.text
    await settle_integration(db, alice, og)
    assert (await one_incident(db, alice, og, "db-1/disk")).status == "resolved"


async def test_opsgenie_errors(client, alice):
    og = await make_integration(client, alice, "opsgenie")
    genie = {"Authorization": f"GenieKey {og['key']}"}

    async def refused(status: int, path: str = "/v2/alerts", **kw) -> str:
        r = await client.post(path, **kw)
        assert r.status_code == status, r.text
        assert set(r.json()) == {"message", "took", "requestId"}
        return r.json()["message"]

    assert await refused(422, json={"alias": "x"}, headers=genie) == "Message can not be empty."
    assert await refused(422, json={"message": "m" * 131, "priority": "P9", "tags": "db"}, headers=genie) == (
        "Message can not be longer than 130 characters. Priority should be one of [P1, P2, P3, P4, P5]. "
        "Tags must be an array of strings.")
    assert (await refused(422, content=b"{", headers={**genie, "Content-Type": "application/json"})).startswith(
        "the body is not valid JSON")
    assert "identifierType" in await refused(422, "/v2/alerts/abc/close", params={"identifierType": "name"},
                                             headers=genie)
    # The default identifierType is id: "abc" is no incident id.
    assert "does not exist" in await refused(404, "/v2/alerts/abc/close", headers=genie)
    assert (await refused(401, json={"message": "m"})).startswith("Could not authenticate")
    assert (await refused(401, json={"message": "m"}, headers={"Authorization": f"GenieKey {uuid.uuid4()}"})
            ).startswith("Could not authenticate")
    pd = await make_integration(client, alice, "pagerduty")
    assert "kind pagerduty" in await refused(403, json={"message": "m"},
                                             headers={"Authorization": f"GenieKey {pd['key']}"})
    limited = await make_integration(client, alice, "opsgenie", rate_limit_per_minute=1)
    h = {"Authorization": f"GenieKey {limited['key']}"}
    assert (await client.post("/v2/alerts", json={"message": "m"}, headers=h)).status_code == 202
    r = await client.post("/v2/alerts", json={"message": "m"}, headers=h)
    assert r.status_code == 429 and "retry-after" in r.headers


async def test_acknowledge_and_close_by_incident_id_and_tiny_id(db, client, alice, outsider):
    og = await make_integration(client, alice, "opsgenie")
    genie = {"Authorization": f"GenieKey {og['key']}"}
    for alias in ("web-1/cpu", "web-2/cpu"):
        r = await client.post("/v2/alerts", json={"message": f"CPU high on {alias}", "alias": alias}, headers=genie)
        assert r.status_code == 202, r.text
    await settle_integration(db, alice, og)
    first = await one_incident(db, alice, og, "web-1/cpu")
    second = await one_incident(db, alice, og, "web-2/cpu")

    # Opsgenie's default identifierType is id: here the Xinex incident id.
    r = await client.post(f"/v2/alerts/{first.id}/acknowledge", json={"user": "ops"}, headers=genie)
    assert r.status_code == 202, r.text
    tiny = str(second.id)[:8]
    r = await client.post(f"/v2/alerts/{tiny}/close", params={"identifierType": "tiny"}, headers=genie)
    assert r.status_code == 202, r.text
    await settle_integration(db, alice, og)
    assert (await one_incident(db, alice, og, "web-1/cpu")).status == "acknowledged"
    assert (await one_incident(db, alice, og, "web-2/cpu")).status == "resolved"

    # Another integration's key (another tenant's too) does not reach these incidents: 404.
    other = await make_integration(client, alice, "opsgenie")
    r = await client.post(f"/v2/alerts/{first.id}/close", headers={"Authorization": f"GenieKey {other['key']}"})
    assert r.status_code == 404 and "does not exist" in r.json()["message"]
    theirs = await make_integration(client, outsider, "opsgenie")
    r = await client.post(f"/v2/alerts/{first.id}/close", headers={"Authorization": f"GenieKey {theirs['key']}"})
    assert r.status_code == 404
    r = await client.post("/v2/alerts/xyz/close", params={"identifierType": "tiny"}, headers=genie)
    assert r.status_code == 404
    await settle_integration(db, alice, og)
    assert (await one_incident(db, alice, og, "web-1/cpu")).status == "acknowledged"
